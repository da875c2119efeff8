/* events.c: `minirun events [--stats] [--interval DURATION] ID`: runc's JSON
 * lines on stdout, one stats event (--stats) or a stream of stats and oom
 * events until the container stops. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "minirun/resources.h"

static const char usage[]
    = "Usage: minirun events [--stats] [--interval DURATION] ID\n"
      "\n"
      "Print the container's resource usage as JSON lines (runc's format):\n"
      "{\"type\":\"stats\",\"id\":ID,\"data\":{\"cpu\":..,\"memory\":..,\"pids\":..,\"hugetlb\":..}}\n"
      "every interval, and {\"type\":\"oom\",\"id\":ID} each time the OOM killer kills one of\n"
      "its processes, until the container stops (exit status 0).\n"
      "\n"
      "Options:\n"
      "  --stats                print one stats event and exit\n"
      "  --interval DURATION    time between stats events (default 5s; e.g. 500ms, 1m30s)\n"
      "  -h, --help             this help\n";

/* A Go duration ("5s", "1.5s", "1m30s", "250ms", "100us") in milliseconds. */
static bool
parse_duration (const char *s, long *ms)
{
  static const struct
  {
    const char *name;
    double ms;
  } units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "\u00b5s", 1e-3 }, { "ms", 1 },
                { "s", 1e3 },   { "m", 60e3 },  { "h", 3600e3 } };
  double total = 0;
  const char *p = s;

  if (*p == '\0')
    return false;
  while (*p)
    {
      char *end;
      double v;
      size_t best = 0, k = 0;
      if (!isdigit ((unsigned char)*p) && *p != '.')
        return false;
      v = strtod (p, &end);
      if (end == p)
        return false;
      p = end;
      for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strncmp (p, units[i].name, strlen (units[i].name)) == 0 && strlen (units[i].name) > best)
          best = strlen (units[i].name), k = i;
      if (best == 0)
        return false;
      total += v * units[k].ms;
      p += best;
    }
  if (total < 1 || total > 86400e3)
    return false;
  *ms = (long)total;
  return true;
}

static int
print_line (const char *line, void *data)
{
  if (puts (line) == EOF || fflush (stdout) == EOF)
    return -1;
  return 0;
}

int
cmd_events (struct mr_global *g, int argc, char **argv)
{
  enum
  {
    OPT_STATS = 256,
    OPT_INTERVAL
  };
  static const struct option opts[] = {
    { "stats", no_argument, NULL, OPT_STATS },
    { "interval", required_argument, NULL, OPT_INTERVAL },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  mr_error_t err = NULL;
  bool once = false;
  long interval_ms = 5000;
  const char *id;
  int c, ret;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case OPT_STATS:
        once = true;
        break;
      case OPT_INTERVAL:
        if (!parse_duration (optarg, &interval_ms))
          {
            fprintf (stderr,
                     "minirun events: --interval: invalid duration `%s` (expected e.g. 5s, 500ms, 1m30s; "
                     "from 1ms to 24h)\n",
                     optarg);
            return MR_EXIT_FAILURE;
          }
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    return MR_EXIT_FAILURE;
  if (once)
    {
      struct mr_container_stats st;
      char *line;
      if (mr_container_stats (g->root, id, &st, &err) < 0)
        return cmd_fail (&err);
      line = mr_container_stats_json (id, &st);
      mr_container_stats_clear (&st);
      ret = line && print_line (line, NULL) == 0 ? 0 : MR_EXIT_FAILURE;
      if (line == NULL)
        fprintf (stderr, "minirun events: out of memory encoding the stats\n");
      free (line);
      return ret;
    }
  ret = mr_container_events (g->root, id, (int)interval_ms, print_line, NULL, &err);
  if (ret == -1 && err)
    return cmd_fail (&err);
  return ret < 0 ? MR_EXIT_FAILURE : 0;
}
