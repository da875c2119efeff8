/* ps.c: `minirun ps [--format table|json|pins] ID`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] =
    "Usage: minirun ps [--format table|json|pins] ID\n"
    "\n"
    "List the processes of a running container.\n"
    "\n"
    "Options:\n"
    "  -f, --format table  host pid, parent, pid at every namespace level (outermost\n"
    "                      first), config name and command line (default)\n"
    "  -f, --format json   the host pids as a JSON array (runc's format, used by containerd)\n"
    "  -f, --format pins   capture: the running tree as a pin config fragment\n"
    "                      ({\"minirun\": {\"pids\", \"pidNamespaces\", \"processes\"}}); merge it\n"
    "                      into the container's config to recreate every process at the\n"
    "                      same pids at every level (see examples/restore)\n"
    "  -h, --help          this help\n";

int
cmd_ps (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "help", no_argument, NULL, 'h' },
                                        { NULL, 0, NULL, 0 } };
  const char *format = "table";
  mr_error_t err = NULL;
  const char *id;
  char *out = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+f:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        if (strcmp (format, "table") && strcmp (format, "json") && strcmp (format, "pins"))
          {
            fprintf (stderr, "minirun ps: --format: expected table, json or pins, got `%s`\n", format);
            return MR_EXIT_FAILURE;
          }
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  if (argc - optind < 1)
    return cmd_usage (usage, true);
  if (argc - optind > 1)
    {
      fprintf (stderr, "minirun ps: ps(1) options after the id are not supported; use --format\n");
      return MR_EXIT_FAILURE;
    }
  id = argv[optind];
  if (strcmp (format, "json") == 0)
    {
      pid_t *pids = NULL;
      size_t n = 0;
      if (mr_container_pids (g->root, id, &pids, &n, &err) < 0)
        return cmd_fail (&err);
      putchar ('[');
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      puts ("]");
      free (pids);
      return 0;
    }
  out = strcmp (format, "pins") == 0 ? mr_container_capture (g->root, id, &err)
                                     : mr_container_ps_table (g->root, id, &err);
  if (out == NULL)
    return cmd_fail (&err);
  fputs (out, stdout);
  if (*out && out[strlen (out) - 1] != '\n')
    putchar ('\n');
  free (out);
  return 0;
}
