/* start.c: `minirun start ID`. */
#include <getopt.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] = "Usage: minirun start ID\n"
                            "\n"
                            "Run the user process of a created container (its init execs it now).\n"
                            "Fails with the reason when the exec or a startContainer hook fails.\n";

int
cmd_start (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  mr_error_t err = NULL;
  const char *id;
  int c;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    return cmd_usage (usage, c != 'h');
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    return MR_EXIT_FAILURE;
  if (mr_container_start (g->root, id, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
