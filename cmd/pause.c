/* pause.c: `minirun pause ID`. */

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
  mr_error_t err = NULL;
  int code = 0;
  const char *id = cmd_id_only (argc, argv, usage, &code);

  if (id == NULL)
    return code;
  if (mr_container_pause (g->root, id, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
