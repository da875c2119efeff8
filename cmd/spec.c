/* spec.c: `minirun spec [--bundle DIR] [--rootless]` writes a default config.json. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "minirun/config.h"
#include "minirun/util.h"

static const char usage[] = "Usage: minirun spec [OPTIONS]\n"
                            "\n"
                            "Write a default config.json (runs `sh` in ./rootfs with a read-only root,\n"
                            "new pid, mount, ipc, uts, network and cgroup namespaces) into the bundle.\n"
                            "\n"
                            "Options:\n"
                            "  -b, --bundle DIR  where to write config.json (default: the current directory)\n"
                            "      --rootless    a config for an unprivileged user (user namespace)\n"
                            "  -h, --help        this help\n";

int
cmd_spec (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
                                        { "rootless", no_argument, NULL, 'r' },
                                        { "help", no_argument, NULL, 'h' },
                                        { NULL, 0, NULL, 0 } };
  const char *bundle = ".";
  bool rootless = false;
  cmd_cleanup_free char *path = NULL, *json = NULL;
  cmd_cleanup_close int fd = -1;
  int c;

  while ((c = getopt_long_only (argc, argv, "+b:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'r':
        rootless = true;
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  if (optind != argc)
    return cmd_usage (usage, true);
  path = cmd_xasprintf ("%s/config.json", bundle);
  json = mr_config_default_json (rootless);
  if (json == NULL)
    {
      fprintf (stderr, "minirun spec: could not build the default config\n");
      return MR_EXIT_FAILURE;
    }
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      if (errno == EEXIST)
        fprintf (stderr, "minirun spec: `%s` exists already; remove it first\n", path);
      else
        fprintf (stderr, "minirun spec: create `%s`: %s\n", path, strerror (errno));
      return MR_EXIT_FAILURE;
    }
  if (mr_write_all (fd, json, strlen (json)) < 0 || mr_write_all (fd, "\n", 1) < 0)
    {
      fprintf (stderr, "minirun spec: write `%s`: %s\n", path, strerror (errno));
      unlink (path);
      return MR_EXIT_FAILURE;
    }
  return 0;
}
