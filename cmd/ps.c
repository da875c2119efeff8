/* ps.c: placeholder while `minirun ps` is being written (this session). */
#include <stdio.h>

#include "cmd.h"

int
cmd_ps (struct mr_global *g, int argc, char **argv)
{
  fprintf (stderr, "minirun ps: not available in this build yet\n");
  return MR_EXIT_FAILURE;
}
