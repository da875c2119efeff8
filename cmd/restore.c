/* restore.c: `minirun restore [OPTIONS] ID` (runc's options). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "minirun/checkpoint.h"

static const char usage[]
    = "Usage: minirun restore [OPTIONS] ID\n"
      "\n"
      "Bring a container back from `minirun checkpoint`'s image with CRIU, under the\n"
      "id ID, with the config of the bundle it was checkpointed from: its processes\n"
      "go on where they stopped, at their checkpointed pids inside the container (and\n"
      "on the host too when the container has no pid namespace of its own; a host pin\n"
      "in a container with one is refused: the kernel picks those).  The restored\n"
      "init's stdio is restore's own.  Without --detach, minirun waits for the init\n"
      "and exits with its status, as `run` does.  Needs root and a minirun built with\n"
      "libcriu.\n"
      "\n"
      "Options:\n"
      "      --image-path DIR        the image to restore (default ./checkpoint)\n"
      "      --work-path DIR         CRIU's work files and log (default: the image directory)\n"
      "  -b, --bundle DIR            the bundle (default: the current directory)\n"
      "  -d, --detach                return once the container runs\n"
      "      --pid-file FILE         write the restored init's host pid to FILE\n"
      "      --console-socket PATH   send the restored pty's master there (process.terminal)\n"
      "      --no-subreaper          do not adopt orphaned processes while waiting (foreground)\n"
      "      --no-pivot              refused: CRIU itself enters the restored root\n"
      "      --tcp-established       restore established TCP connections\n"
      "      --tcp-close             restore TCP connections closed\n"
      "      --ext-unix-sk           allow unix sockets connected outside the container\n"
      "      --shell-job             allow a session or terminal from outside the container\n"
      "      --file-locks            restore file locks\n"
      "      --manage-cgroups-mode M soft (default), full, strict or ignore\n"
      "      --empty-ns network      as given to checkpoint\n"
      "      --auto-dedup            free image pages once restored\n"
      "  -h, --help                  this help\n";

static int
print_usage (bool error)
{
  FILE *f = error ? stderr : stdout;
  fputs (usage, f);
  cmd_criu_built_in (f);
  /* podman asks `checkpoint --help` whether the runtime can checkpoint */
  return error || !mr_checkpoint_built_in () ? MR_EXIT_FAILURE : 0;
}

int
cmd_restore (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "image-path", required_argument, NULL, 'I' },
    { "work-path", required_argument, NULL, 'W' },
    { "bundle", required_argument, NULL, 'b' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, 'p' },
    { "console-socket", required_argument, NULL, 'c' },
    { "no-subreaper", no_argument, NULL, 's' },
    { "no-pivot", no_argument, NULL, 'n' },
    { "tcp-established", no_argument, NULL, 'T' },
    { "tcp-close", no_argument, NULL, 'C' },
    { "ext-unix-sk", no_argument, NULL, 'U' },
    { "shell-job", no_argument, NULL, 'J' },
    { "file-locks", no_argument, NULL, 'F' },
    { "manage-cgroups-mode", required_argument, NULL, 'M' },
    { "empty-ns", required_argument, NULL, 'E' },
    { "auto-dedup", no_argument, NULL, 'A' },
    { "lazy-pages", no_argument, NULL, 'L' },
    { "lsm-profile", required_argument, NULL, 'P' },
    { "lsm-mount-context", required_argument, NULL, 'X' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct mr_restore_opts o
      = { .c = { .state_root = g->root, .criu = g->criu, .image_path = "checkpoint" }, .bundle = "." };
  mr_error_t err = NULL;
  int c, r, status = 0;

  while ((c = getopt_long_only (argc, argv, "+b:dh", opts, NULL)) != -1)
    {
      r = cmd_criu_common_opt ("restore", c, optarg, &o.c);
      if (r < 0)
        return MR_EXIT_FAILURE;
      if (r == 0)
        continue;
      switch (c)
        {
        case 'b':
          o.bundle = optarg;
          break;
        case 'd':
          o.detach = true;
          break;
        case 'p':
          o.pid_file = optarg;
          break;
        case 'c':
          o.console_socket = optarg;
          break;
        case 's':
          o.no_subreaper = true;
          break;
        case 'C':
          o.tcp_close = true;
          break;
        case 'n':
          fprintf (stderr,
                   "minirun restore: --no-pivot cannot be honoured: CRIU recreates the container's mount "
                   "namespace and enters its root itself (with pivot_root); drop it\n");
          return MR_EXIT_FAILURE;
        case 'P':
        case 'X':
          fprintf (stderr,
                   "minirun restore: --%s %s: minirun supports no LSM (AppArmor or SELinux), so there is "
                   "no label to change\n",
                   c == 'P' ? "lsm-profile" : "lsm-mount-context", optarg);
          return MR_EXIT_FAILURE;
        case 'h':
          return print_usage (false);
        default:
          return print_usage (true);
        }
    }
  o.c.id = cmd_one_arg (argc, argv, usage);
  if (o.c.id == NULL)
    return MR_EXIT_FAILURE;
  if (mr_container_restore (&o, &status, &err) < 0)
    return cmd_fail (&err);
  return status;
}
