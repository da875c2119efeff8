/* pause.c: placeholder while `minirun pause` is being written (this session). */
#include <stdio.h>

#include "cmd.h"

int
cmd_pause (struct mr_global *g, int argc, char **argv)
{
  fprintf (stderr, "minirun pause: not available in this build yet\n");
  return MR_EXIT_FAILURE;
}
