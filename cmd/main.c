/* main.c: global options and the command table.  Global options come before
 * the command, as with runc: minirun [--root DIR] [--log FILE]
 * [--log-format text|json] [--debug] [--systemd-cgroup] COMMAND [ARGS]. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "minirun/checkpoint.h"
#include "minirun/error.h"
#include "minirun/minirun.h"

static const struct mr_command commands[] = {
  { "run", cmd_run, "create and start a container (minirun run BUNDLE, or run [-b BUNDLE] ID)" },
  { "create", cmd_create, "create a container; its process waits for `start`" },
  { "start", cmd_start, "run the user process of a created container" },
  { "state", cmd_state, "print the state of a container as JSON" },
  { "kill", cmd_kill, "send a signal to a container's init (or to all its processes)" },
  { "delete", cmd_delete, "delete a container and everything it holds" },
  { "list", cmd_list, "list containers" },
  { "exec", cmd_exec, "run a new process in a running container (optionally at pinned pids)" },
  { "ps", cmd_ps, "list a container's processes (--format json: a pin config to replay)" },
  { "pause", cmd_pause, "freeze every process of a container" },
  { "resume", cmd_resume, "thaw a paused container" },
  { "update", cmd_update, "change a running container's resource limits" },
  { "events", cmd_events, "resource usage and OOM events of a container" },
  { "spec", cmd_spec, "write a default config.json" },
  { "features", cmd_features, "print what this runtime supports as JSON" },
  { "checkpoint", cmd_checkpoint, "save a running container's state with CRIU" },
  { "restore", cmd_restore, "bring a checkpointed container back with CRIU" },
};

static const char usage[] =
    "Usage: minirun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "minirun: a small, fast OCI container runtime that can pin the pids of the\n"
    "container's processes (see the \"minirun\" config extension).\n"
    "\n"
    "Global options:\n"
    "  --root DIR            state directory (default /run/minirun)\n"
    "  --log FILE            also write messages to FILE\n"
    "  --log-format FORMAT   text (default) or json (runc's format)\n"
    "  --debug               debug messages\n"
    "  --systemd-cgroup      new containers get a systemd scope as their cgroup\n"
    "                        (system.slice:minirun:ID; a cgroupsPath slice:prefix:name)\n"
    "  --criu PATH           the criu binary for checkpoint and restore\n"
    "  -h, --help            this help; COMMAND --help for a command's\n"
    "  -v, --version         print the version\n"
    "\n"
    "Commands:\n";

static void
print_usage (FILE *f)
{
  fputs (usage, f);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf (f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  if (!mr_checkpoint_built_in ())
    fputs ("\ncheckpoint and restore are not built in (no libcriu): scripts/setup.sh --criu\n", f);
}

/* The result on stdout is the command's answer: a write that failed (a full
 * disk, a closed pipe) fails the command.  stdio remembers the first error,
 * so the single prints need no check of their own (.clang-tidy). */
static int
stdout_checked (int ret)
{
  if (fflush (stdout) != 0 && ret == 0)
    {
      fprintf (stderr, "minirun: write the result to stdout: %s\n", strerror (errno));
      ret = MR_EXIT_FAILURE;
    }
  else if (ferror (stdout) && ret == 0)
    {
      /* an earlier write failed; its errno is long gone */
      fprintf (stderr, "minirun: write the result to stdout: a write failed\n");
      ret = MR_EXIT_FAILURE;
    }
  return ret;
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },     { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'd' },
    { "systemd-cgroup", no_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },        { "rootless", required_argument, NULL, 'R' },
    { "criu", required_argument, NULL, 'C' },     { NULL, 0, NULL, 0 },
  };
  /* the library's rule: /run/minirun, or a directory of the user's own when rootless */
  cmd_cleanup_free char *default_root = mr_state_root_default (geteuid () != 0);
  struct mr_global g = { .root = default_root, .log_format = MR_LOG_TEXT };
  const char *cmd;
  int c, ret;

  /* A peer that goes away (a hook that does not read its stdin, a closed
   * console socket) is an EPIPE to handle, not a reason to die. */
  (void) signal (SIGPIPE, SIG_IGN);

  /* '+': stop at the command name; the rest belongs to the command. */
  while ((c = getopt_long_only (argc, argv, "+hv", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        g.root = optarg;
        break;
      case 'l':
        g.log = optarg;
        break;
      case 'f':
        if (strcmp (optarg, "json") == 0)
          g.log_format = MR_LOG_JSON;
        else if (strcmp (optarg, "text") == 0)
          g.log_format = MR_LOG_TEXT;
        else
          {
            mr_log_error ("--log-format: expected text or json, got `%s`", optarg);
            return MR_EXIT_FAILURE;
          }
        break;
      case 'd':
        g.debug = true;
        break;
      case 's':
        g.systemd_cgroup = true;
        break;
      case 'C':
        g.criu = optarg;
        break;
      case 'R':
        break; /* accepted for runc compatibility; rootless is detected */
      case 'h':
        print_usage (stdout);
        return stdout_checked (0);
      case 'v':
        printf ("minirun version %s\nspec: 1.1.0\nbuild: %s\n", MINIRUN_VERSION,
#ifdef MINIRUN_STATIC
                "static (loopback up through SIOCSIFFLAGS)"
#else
                "dynamic (loopback up through rtnetlink, libmnl)"
#endif
        );
        return stdout_checked (0);
      default:
        print_usage (stderr);
        return MR_EXIT_FAILURE;
      }
  if (optind >= argc)
    {
      print_usage (stderr);
      return MR_EXIT_FAILURE;
    }
  if (mr_log_init (g.log, g.log_format, g.debug) < 0)
    return MR_EXIT_FAILURE;
  if (g.systemd_cgroup)
    {
      mr_error_t err = NULL;
      if (mr_cgroup_use_systemd (&err) < 0)
        {
          ret = cmd_fail (&err);
          mr_log_close ();
          return ret;
        }
    }
  cmd = argv[optind];
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (cmd, commands[i].name) == 0)
      {
        int first = optind;
        optind = 0; /* GNU getopt: full re-initialisation for the command's own options */
        ret = stdout_checked (commands[i].fn (&g, argc - first, argv + first));
        mr_log_close ();
        return ret;
      }
  mr_log_error ("unknown command `%s` (see minirun --help)", cmd);
  mr_log_close ();
  return MR_EXIT_FAILURE;
}
