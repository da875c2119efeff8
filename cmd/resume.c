/* resume.c: `minirun resume ID`. */

#include "cmd.h"
#include "minirun/resources.h"

static const char usage[] = "Usage: minirun resume ID\n"
                            "\n"
                            "Thaw a paused container: its processes run again and it is running.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help  this help\n";

int
cmd_resume (struct mr_global *g, int argc, char **argv)
{
  mr_error_t err = NULL;
  int code = 0;
  const char *id = cmd_id_only (argc, argv, usage, &code);

  if (id == NULL)
    return code;
  if (mr_container_resume (g->root, id, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
