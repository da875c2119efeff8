/* resume.c: placeholder while `minirun resume` is being written (this session). */
#include <stdio.h>

#include "cmd.h"

int
cmd_resume (struct mr_global *g, int argc, char **argv)
{
  fprintf (stderr, "minirun resume: not available in this build yet\n");
  return MR_EXIT_FAILURE;
}
