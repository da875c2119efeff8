/* pause.c: `minirun pause ID`. */
#include <getopt.h>

#include "cmd.h"
#include "minirun/resources.h"

static const char usage[] = "Usage: minirun pause ID\n"
                            "\n"
                            "Freeze every process of a running container (cgroup freezer); `state` and\n"
                            "`list` show it as paused until `minirun resume ID`.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help  this help\n";

int
cmd_pause (struct mr_global *g, int argc, char **argv)
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
  if (mr_container_pause (g->root, id, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
