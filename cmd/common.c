/* common.c: helpers shared by the commands. */
#include <getopt.h>
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

const char *
cmd_id_only (int argc, char **argv, const char *usage, int *exit_code)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  const char *id;
  int c;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    {
      *exit_code = cmd_usage (usage, c != 'h');
      return NULL;
    }
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    *exit_code = MR_EXIT_FAILURE;
  return id;
}
