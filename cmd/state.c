/* state.c: `minirun state ID` prints the OCI state JSON. */
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
  mr_error_t err = NULL;
  int code = 0;
  const char *id = cmd_id_only (argc, argv, usage, &code);
  char *json = NULL;

  if (id == NULL)
    return code;
  if (mr_container_state (g->root, id, &json, &err) < 0)
    return cmd_fail (&err);
  puts (json);
  free (json);
  return 0;
}
