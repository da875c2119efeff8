/* exec.c: placeholder while `minirun exec` is being written (this session). */
#include <stdio.h>

#include "cmd.h"

int
cmd_exec (struct mr_global *g, int argc, char **argv)
{
  fprintf (stderr, "minirun exec: not available in this build yet\n");
  return MR_EXIT_FAILURE;
}
