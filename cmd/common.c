/* common.c: helpers shared by the commands. */
#include <stdio.h>

#include "cmd.h"
#include "minirun/error.h"

int
cmd_usage (const char *usage, bool error)
{
  fputs (usage, error ? stderr : stdout);
  return error ? MR_EXIT_FAILURE : 0;
}

const char *
cmd_one_arg (int argc, char **argv, const char *usage)
{
  extern int optind;
  if (argc - optind != 1)
    {
      fprintf (stderr, "minirun %s: expected exactly one container id, got %d arguments\n", argv[0], argc - optind);
      fputs (usage, stderr);
      return NULL;
    }
  return argv[optind];
}

int
cmd_fail (void *err)
{
  mr_error_report ((mr_error_t *) err);
  return MR_EXIT_FAILURE;
}
