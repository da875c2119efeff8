/* list.c: `minirun list [--format table|json] [-q]`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] = "Usage: minirun list [OPTIONS]\n"
                            "\n"
                            "List the containers under --root.\n"
                            "\n"
                            "Options:\n"
                            "  -f, --format FMT  table (default) or json\n"
                            "  -q, --quiet       ids only\n"
                            "  -h, --help        this help\n";

int
cmd_list (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "quiet", no_argument, NULL, 'q' },
                                        { "help", no_argument, NULL, 'h' },
                                        { NULL, 0, NULL, 0 } };
  struct mr_container_info *list = NULL;
  mr_error_t err = NULL;
  bool json = false, quiet = false;
  size_t n = 0;
  int c;

  while ((c = getopt_long_only (argc, argv, "+f:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        if (strcmp (optarg, "json") == 0)
          json = true;
        else if (strcmp (optarg, "table") != 0)
          {
            fprintf (stderr, "minirun list: --format: expected table or json, got `%s`\n", optarg);
            return MR_EXIT_FAILURE;
          }
        break;
      case 'q':
        quiet = true;
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  if (optind != argc)
    return cmd_usage (usage, true);
  if (mr_container_list (g->root, &list, &n, &err) < 0)
    return cmd_fail (&err);
  if (quiet)
    for (size_t i = 0; i < n; i++)
      puts (list[i].id);
  else if (json)
    {
      char *s = mr_container_list_json (list, n);
      puts (s ? s : "[]");
      free (s);
    }
  else
    {
      printf ("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
      for (size_t i = 0; i < n; i++)
        printf ("%-20s %-8d %-10s %-40s %-32s %s\n", list[i].id, (int) list[i].pid, list[i].status,
                list[i].bundle ?: "", list[i].created ?: "", list[i].owner ?: "");
    }
  mr_container_list_free (list, n);
  return 0;
}
