/* kill.c: `minirun kill [--all] ID [SIGNAL]`. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cmd.h"
#include "minirun/minirun.h"
#include "minirun/util.h"

static const char usage[] = "Usage: minirun kill [--all] ID [SIGNAL]\n"
                            "\n"
                            "Send SIGNAL (default SIGTERM; a name such as KILL, SIGKILL or a number) to the\n"
                            "container's init, through a pidfd checked to be that init.\n"
                            "\n"
                            "Options:\n"
                            "  -a, --all   signal every process in the container's cgroup\n"
                            "  -h, --help  this help\n";

int
cmd_kill (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
  };
  mr_error_t err = NULL;
  bool all = false;
  int c, sig = SIGTERM;

  while ((c = getopt_long_only (argc, argv, "+ah", opts, NULL)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  if (argc - optind < 1 || argc - optind > 2)
    return cmd_usage (usage, true);
  if (argc - optind == 2)
    {
      sig = mr_signal_parse (argv[optind + 1]);
      if (sig <= 0)
        {
          fprintf (stderr, "minirun kill: unknown signal `%s`\n", argv[optind + 1]);
          return MR_EXIT_FAILURE;
        }
    }
  if (mr_container_kill (g->root, argv[optind], sig, all, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
