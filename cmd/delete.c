/* delete.c: `minirun delete [--force] ID`. */
#include <getopt.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] = "Usage: minirun delete [--force] ID\n"
                            "\n"
                            "Delete a stopped or created container: its processes, cgroups and state go,\n"
                            "then its poststop hooks run.\n"
                            "\n"
                            "Options:\n"
                            "  -f, --force  also delete a running or paused container (SIGKILL); a container\n"
                            "               that does not exist is not an error\n"
                            "  -h, --help   this help\n";

int
cmd_delete (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
  };
  mr_error_t err = NULL;
  bool force = false;
  const char *id;
  int c;

  while ((c = getopt_long_only (argc, argv, "+fh", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    return MR_EXIT_FAILURE;
  if (mr_container_delete (g->root, id, force, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
