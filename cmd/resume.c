/* resume.c: `minirun resume ID`. */
#include <getopt.h>

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
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  mr_error_t err = NULL;
  const char *id;
  int c;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    return cmd_usage (usage, c != 'h');
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    return MR_EXIT_FAILURE;
  if (mr_container_resume (g->root, id, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
