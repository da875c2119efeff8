/* exec.c: `minirun exec [options] ID COMMAND [ARGS...]` or `exec --process FILE ID`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "cmd.h"
#include "minirun/minirun.h"
#include "minirun/util.h"

static const char usage[] =
    "Usage: minirun exec [OPTIONS] ID COMMAND [ARGS...]\n"
    "       minirun exec [OPTIONS] --process FILE ID\n"
    "\n"
    "Run a new process in a running container: its namespaces, cgroup and seccomp\n"
    "profile, and (unless overridden here) the settings of the container's process.\n"
    "In the foreground minirun exits with the process's status and forwards signals.\n"
    "\n"
    "Options:\n"
    "  -p, --process FILE       an OCI process JSON to run instead of COMMAND\n"
    "  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
    "      --cwd DIR            working directory in the container\n"
    "  -u, --user UID[:GID]     run as this user\n"
    "  -c, --cap CAP            add a capability (repeatable)\n"
    "  -t, --tty                allocate a pty\n"
    "  -d, --detach             return once the process runs\n"
    "      --pid-file FILE      write the process's host pid to FILE\n"
    "      --console-socket P   send the pty master to the unix socket P\n"
    "      --pidfd-socket P     send a pidfd of the process to the unix socket P\n"
    "                           (SCM_RIGHTS, payload \"setns\", as runc)\n"
    "      --ignore-paused      exec in a paused container too: the process starts\n"
    "                           when the container is resumed (and minirun waits)\n"
    "      --preserve-fds N     pass fds 3..3+N-1 to the process\n"
    "      --no-new-privs       set no_new_privs\n"
    "  -g, --additional-gids G  an additional group for the process (repeatable, or\n"
    "                           a comma list)\n"
    "      --pid NS=N,...       pin the process's pids, e.g. container=42,host=31000\n"
    "                           (\"any\" for a level: see the README on pins)\n"
    "  -h, --help               this help\n";

static char **
push (char **v, size_t *n, const char *s)
{
  v = cmd_xrealloc (v, (*n + 2) * sizeof *v);
  v[(*n)++] = (char *) s;
  v[*n] = NULL;
  return v;
}

int
cmd_exec (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' },    { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, 'w' },        { "user", required_argument, NULL, 'u' },
    { "cap", required_argument, NULL, 'c' },        { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },           { "pid-file", required_argument, NULL, 'P' },
    { "console-socket", required_argument, NULL, 'C' }, { "preserve-fds", required_argument, NULL, 'F' },
    { "no-new-privs", no_argument, NULL, 'N' },     { "pid", required_argument, NULL, 'I' },
    { "process-label", required_argument, NULL, 'L' }, { "apparmor", required_argument, NULL, 'A' },
    { "additional-gids", required_argument, NULL, 'g' }, { "ignore-paused", no_argument, NULL, 'G' },
    { "cgroup", required_argument, NULL, 'X' },     { "pidfd-socket", required_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct mr_exec_opts o = { .state_root = g->root };
  size_t n_env = 0, n_caps = 0, n_gids = 0;
  mr_error_t err = NULL;
  int c, status = 0;
  int64_t num;

  while ((c = getopt_long (argc, argv, "+p:e:u:c:tdg:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        o.process_file = optarg;
        break;
      case 'e':
        o.env = push (o.env, &n_env, optarg);
        break;
      case 'w':
        o.cwd = optarg;
        break;
      case 'u':
        o.user = optarg;
        break;
      case 'c':
        o.caps = push (o.caps, &n_caps, optarg);
        break;
      case 't':
        o.tty = true;
        break;
      case 'd':
        o.detach = true;
        break;
      case 'P':
        o.pid_file = optarg;
        break;
      case 'C':
        o.console_socket = optarg;
        break;
      case 'F':
        if (!mr_parse_i64 (optarg, 0, 1 << 20, &num))
          {
            fprintf (stderr, "minirun exec: --preserve-fds: expected a number >= 0, got `%s`\n", optarg);
            goto fail;
          }
        o.preserve_fds = (int) num;
        break;
      case 'N':
        o.no_new_privs = true;
        break;
      case 'I':
        o.pins = optarg;
        break;
      case 'L':
      case 'A':
        fprintf (stderr, "minirun exec: --%s: no SELinux/AppArmor on this runtime\n", c == 'L' ? "process-label" : "apparmor");
        goto fail;
      case 'g':
        /* repeatable, and "10,20" as one value (runc takes both) */
        for (char *save = NULL, *tok = strtok_r (optarg, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
          o.additional_gids = push (o.additional_gids, &n_gids, tok);
        break;
      case 'X':
        fprintf (stderr, "minirun exec: --cgroup (a sub-cgroup of the container) is not supported\n");
        goto fail;
      case 'G':
        o.ignore_paused = true;
        break;
      case 'S':
        o.pidfd_socket = optarg;
        break;
      case 'h':
        free (o.env);
        free (o.caps);
        free (o.additional_gids);
        return cmd_usage (usage, false);
      default:
        cmd_usage (usage, true);
        goto fail;
      }
  if (optind >= argc)
    {
      fprintf (stderr, "minirun exec: expected a container id\n");
      cmd_usage (usage, true);
      goto fail;
    }
  o.id = argv[optind++];
  if (o.process_file && optind < argc)
    {
      fprintf (stderr, "minirun exec: give either --process or a command, not both\n");
      goto fail;
    }
  o.args = optind < argc ? argv + optind : NULL;
  if (mr_container_exec (&o, &status, &err) < 0)
    {
      mr_error_report (&err);
      goto fail;
    }
  free (o.env);
  free (o.caps);
  free (o.additional_gids);
  return status;

fail:
  free (o.env);
  free (o.caps);
  free (o.additional_gids);
  return MR_EXIT_FAILURE;
}
