/* run.c: `minirun run BUNDLE` or `minirun run [-b BUNDLE] [options] ID`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "minirun/minirun.h"
#include "minirun/util.h"

static const char usage[] =
    "Usage: minirun run [OPTIONS] BUNDLE\n"
    "       minirun run [OPTIONS] [-b BUNDLE] ID\n"
    "\n"
    "Create and start a container and, unless --detach, wait for it: minirun's exit\n"
    "status is the container's (128+N when its init was killed by signal N), and\n"
    "SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are forwarded.\n"
    "One argument that is a directory holding config.json is a bundle (the id is\n"
    "derived from its name, made unique); anything else is a container id.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR        bundle directory (default: the current directory)\n"
    "  -d, --detach            return once the process runs\n"
    "      --pid-file FILE     write the init's pid to FILE\n"
    "      --console-socket P  send the pty master to the unix socket P\n"
    "      --pidfd-socket P    send a pidfd of the init to the unix socket P\n"
    "      --keep              keep the stopped container's state (delete it later)\n"
    "      --preserve-fds N    pass fds 3..3+N-1 to the container\n"
    "      --no-pivot          use MS_MOVE + chroot instead of pivot_root\n"
    "      --no-new-keyring    keep the caller's session keyring\n"
    "  -h, --help              this help\n";

int
cmd_parse_run_opts (int argc, char **argv, struct mr_run_opts *o, bool is_run, const char *use)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },       { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, 'p' },     { "console-socket", required_argument, NULL, 'c' },
    { "keep", no_argument, NULL, 'k' },               { "preserve-fds", required_argument, NULL, 'P' },
    { "no-pivot", no_argument, NULL, 'n' },           { "no-new-keyring", no_argument, NULL, 'K' },
    { "no-subreaper", no_argument, NULL, 'S' },       { "pidfd-socket", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  int64_t n;

  while ((c = getopt_long_only (argc, argv, is_run ? "+b:dh" : "+b:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        o->bundle = optarg;
        break;
      case 'd':
        if (!is_run)
          {
            cmd_usage (use, true);
            return -1;
          }
        o->detach = true;
        break;
      case 'p':
        o->pid_file = optarg;
        break;
      case 'c':
        o->console_socket = optarg;
        break;
      case 'F':
        o->pidfd_socket = optarg;
        break;
      case 'k':
        o->keep = true;
        break;
      case 'P':
        if (!mr_parse_i64 (optarg, 0, 1 << 20, &n))
          {
            fprintf (stderr, "minirun %s: --preserve-fds: expected a number >= 0, got `%s`\n", argv[0], optarg);
            return -1;
          }
        o->preserve_fds = (int) n;
        break;
      case 'n':
        o->no_pivot = true;
        break;
      case 'K':
        o->no_new_keyring = true;
        break;
      case 'S':
        break;
      case 'h':
        cmd_usage (use, false);
        return 1;
      default:
        cmd_usage (use, true);
        return -1;
      }
  return 0;
}

int
cmd_run (struct mr_global *g, int argc, char **argv)
{
  struct mr_run_opts o = { .state_root = g->root, .bundle = "." };
  cmd_cleanup_free char *derived = NULL;
  mr_error_t err = NULL;
  int r, status = 0;

  r = cmd_parse_run_opts (argc, argv, &o, true, usage);
  if (r != 0)
    return r > 0 ? 0 : MR_EXIT_FAILURE;
  if (argc - optind != 1)
    {
      fprintf (stderr, "minirun run: expected a bundle directory or a container id\n");
      return cmd_usage (usage, true);
    }
  if (strcmp (o.bundle, ".") == 0 && mr_bundle_is_dir (argv[optind]))
    {
      o.bundle = argv[optind];
      derived = mr_id_from_bundle (argv[optind]);
      o.id = derived;
    }
  else
    o.id = argv[optind];
  if (mr_id_validate (o.id, &err) < 0)
    return cmd_fail (&err);
  if (mr_container_run (&o, &status, &err) < 0)
    return cmd_fail (&err);
  return status;
}
