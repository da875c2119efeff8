/* start.c: `minirun start ID`. */

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] = "Usage: minirun start ID\n"
                            "\n"
                            "Run the user process of a created container (its init execs it now).\n"
                            "Fails with the reason when the exec or a startContainer hook fails.\n";

int
cmd_start (struct mr_global *g, int argc, char **argv)
{
  mr_error_t err = NULL;
  int code = 0;
  const char *id = cmd_id_only (argc, argv, usage, &code);

  if (id == NULL)
    return code;
  if (mr_container_start (g->root, id, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
