/* events.c: placeholder while `minirun events` is being written (this session). */
#include <stdio.h>

#include "cmd.h"

int
cmd_events (struct mr_global *g, int argc, char **argv)
{
  fprintf (stderr, "minirun events: not available in this build yet\n");
  return MR_EXIT_FAILURE;
}
