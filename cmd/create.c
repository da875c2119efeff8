/* create.c: `minirun create [-b BUNDLE] [options] ID`. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] =
    "Usage: minirun create [OPTIONS] ID\n"
    "\n"
    "Create a container: namespaces, cgroup, mounts and pinned pids are set up and\n"
    "the init waits, before exec, until `minirun start ID`.  The container's stdio\n"
    "is the stdio `create` was given.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR        bundle directory (default: the current directory)\n"
    "      --pid-file FILE     write the init's pid to FILE\n"
    "      --console-socket P  send the pty master to the unix socket P (process.terminal)\n"
    "      --pidfd-socket P    send a pidfd of the init to the unix socket P (SCM_RIGHTS,\n"
    "                          payload \"standard\", as runc)\n"
    "      --preserve-fds N    pass fds 3..3+N-1 to the container\n"
    "      --no-pivot          use MS_MOVE + chroot instead of pivot_root\n"
    "      --no-new-keyring    keep the caller's session keyring\n"
    "  -h, --help              this help\n";

int
cmd_create (struct mr_global *g, int argc, char **argv)
{
  struct mr_run_opts o = { .state_root = g->root, .bundle = "." };
  mr_error_t err = NULL;
  int r = cmd_parse_run_opts (argc, argv, &o, false, usage);

  if (r != 0)
    return r > 0 ? 0 : MR_EXIT_FAILURE;
  o.id = cmd_one_arg (argc, argv, usage);
  if (o.id == NULL)
    return MR_EXIT_FAILURE;
  if (mr_container_create (&o, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
