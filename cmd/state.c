/* state.c: `minirun state ID` prints the OCI state JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] = "Usage: minirun state ID\n"
                            "\n"
                            "Print the state of a container as OCI state JSON (ociVersion, id, status:\n"
                            "creating|created|running|paused|stopped, pid, bundle, annotations) plus\n"
                            "minirun's rootfs, created, owner and, for pinned processes, their pids.\n";

int
cmd_state (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  mr_error_t err = NULL;
  char *json = NULL;
  const char *id;
  int c;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    return cmd_usage (usage, c != 'h');
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    return MR_EXIT_FAILURE;
  if (mr_container_state (g->root, id, &json, &err) < 0)
    return cmd_fail (&err);
  puts (json);
  free (json);
  return 0;
}
