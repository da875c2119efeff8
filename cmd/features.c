/* features.c: `minirun features` prints the OCI features document. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] = "Usage: minirun features\n"
                            "\n"
                            "Print what this runtime supports (OCI runtime features JSON), including\n"
                            "minirun's pid pinning under \"minirun\" and the annotation it reads.\n";

int
cmd_features (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  char *json;
  int c;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    return cmd_usage (usage, c != 'h');
  json = mr_features_json ();
  if (json == NULL)
    return MR_EXIT_FAILURE;
  puts (json);
  free (json);
  return 0;
}
