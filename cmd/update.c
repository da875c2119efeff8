/* update.c: placeholder while `minirun update` is being written (this session). */
#include <stdio.h>

#include "cmd.h"

int
cmd_update (struct mr_global *g, int argc, char **argv)
{
  fprintf (stderr, "minirun update: not available in this build yet\n");
  return MR_EXIT_FAILURE;
}
