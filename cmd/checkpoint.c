/* checkpoint.c: `minirun checkpoint [OPTIONS] ID` (runc's options), and the
 * option parsing `restore` shares with it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "minirun/checkpoint.h"

static const char usage[]
    = "Usage: minirun checkpoint [OPTIONS] ID\n"
      "\n"
      "Save the state of a running (or paused) container with CRIU: its processes'\n"
      "memory, open files, sockets, timers and pids, into an image directory that\n"
      "`minirun restore` brings back.  Unless --leave-running or --pre-dump, the\n"
      "container is gone afterwards.  Pids inside the container are restored as\n"
      "they were; host pids only for a container without a pid namespace of its\n"
      "own; nested pid namespaces (minirun.pidNamespaces) cannot be checkpointed\n"
      "(docs/cli.md).  Needs root and a minirun built with libcriu.\n"
      "\n"
      "Options:\n"
      "      --image-path DIR        where CRIU writes the image (default ./checkpoint)\n"
      "      --work-path DIR         CRIU's work files and log (default: the image directory)\n"
      "      --parent-path DIR       a previous pre-dump, relative to the image directory\n"
      "      --leave-running         keep the container running after the checkpoint\n"
      "      --pre-dump              dump only the memory, leave the container running\n"
      "                              (needs the kernel's dirty memory tracking)\n"
      "      --tcp-established       checkpoint established TCP connections\n"
      "      --tcp-skip-in-flight    skip TCP connections still being set up\n"
      "      --link-remap            keep files that are open but unlinked\n"
      "      --ext-unix-sk           allow unix sockets connected outside the container\n"
      "      --shell-job             allow a session or terminal from outside the container\n"
      "      --file-locks            checkpoint file locks\n"
      "      --manage-cgroups-mode M soft (default), full, strict or ignore\n"
      "      --empty-ns network      leave the network namespace's interfaces, addresses\n"
      "                              and routes out of the image (restore brings up none)\n"
      "      --auto-dedup            free memory pages already in the parent image\n"
      "      --status-fd FD          refused: only for --lazy-pages, which minirun has not\n"
      "  -h, --help                  this help\n";

/* Whether checkpoint/restore is built in, and the criu binary in use. */
void
cmd_criu_built_in (FILE *f)
{
  if (mr_checkpoint_built_in ())
    fprintf (f,
             "\nBuilt in: libcriu %s.  The criu binary: the global --criu PATH, else $MINIRUN_CRIU,\n"
             "else %s.\n",
             mr_criu_built_version (), mr_criu_default_binary ());
  else
    fputs ("\nNOT built in: this minirun was built without libcriu and refuses to run; build\n"
           "CRIU with `scripts/setup.sh --criu` and rebuild minirun.\n",
           f);
}

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
cmd_criu_common_opt (const char *cmd, int c, const char *arg, struct mr_criu_common_opts *o)
{
  switch (c)
    {
    case 'I':
      o->image_path = arg;
      return 0;
    case 'W':
      o->work_path = arg;
      return 0;
    case 'T':
      o->tcp_established = true;
      return 0;
    case 'U':
      o->ext_unix_sk = true;
      return 0;
    case 'J':
      o->shell_job = true;
      return 0;
    case 'F':
      o->file_locks = true;
      return 0;
    case 'A':
      o->auto_dedup = true;
      return 0;
    case 'M':
      if (strcmp (arg, "soft") == 0)
        o->cg_mode = MR_CG_MODE_SOFT;
      else if (strcmp (arg, "full") == 0)
        o->cg_mode = MR_CG_MODE_FULL;
      else if (strcmp (arg, "strict") == 0)
        o->cg_mode = MR_CG_MODE_STRICT;
      else if (strcmp (arg, "ignore") == 0)
        o->cg_mode = MR_CG_MODE_IGNORE;
      else
        {
          fprintf (stderr,
                   "minirun %s: --manage-cgroups-mode: expected soft, full, strict or ignore, got `%s`\n",
                   cmd, arg);
          return -1;
        }
      return 0;
    case 'E':
      if (strcmp (arg, "network") != 0)
        {
          fprintf (stderr,
                   "minirun %s: --empty-ns: only `network` can be left empty (as with runc), got `%s`\n", cmd,
                   arg);
          return -1;
        }
      o->empty_netns = true;
      return 0;
    case 'L':
      fprintf (stderr,
               "minirun %s: --lazy-pages is not supported: minirun has no lazy migration (no page server or "
               "userfaultfd daemon); checkpoint and restore the whole memory instead\n",
               cmd);
      return -1;
    default:
      return 1;
    }
}

int
cmd_checkpoint (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "image-path", required_argument, NULL, 'I' },
    { "work-path", required_argument, NULL, 'W' },
    { "parent-path", required_argument, NULL, 'P' },
    { "leave-running", no_argument, NULL, 'R' },
    { "tcp-established", no_argument, NULL, 'T' },
    { "tcp-skip-in-flight", no_argument, NULL, 'S' },
    { "link-remap", no_argument, NULL, 'K' },
    { "ext-unix-sk", no_argument, NULL, 'U' },
    { "shell-job", no_argument, NULL, 'J' },
    { "file-locks", no_argument, NULL, 'F' },
    { "pre-dump", no_argument, NULL, 'D' },
    { "manage-cgroups-mode", required_argument, NULL, 'M' },
    { "empty-ns", required_argument, NULL, 'E' },
    { "auto-dedup", no_argument, NULL, 'A' },
    { "status-fd", required_argument, NULL, 'Z' },
    { "lazy-pages", no_argument, NULL, 'L' },
    { "page-server", required_argument, NULL, 'G' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct mr_checkpoint_opts o
      = { .c = { .state_root = g->root, .criu = g->criu, .image_path = "checkpoint" } };
  mr_error_t err = NULL;
  int c, r;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    {
      r = cmd_criu_common_opt ("checkpoint", c, optarg, &o.c);
      if (r < 0)
        return MR_EXIT_FAILURE;
      if (r == 0)
        continue;
      switch (c)
        {
        case 'P':
          o.parent_path = optarg;
          break;
        case 'R':
          o.leave_running = true;
          break;
        case 'S':
          o.tcp_skip_in_flight = true;
          break;
        case 'K':
          o.link_remap = true;
          break;
        case 'D':
          o.pre_dump = true;
          break;
        case 'Z':
          fprintf (stderr,
                   "minirun checkpoint: --status-fd %s: CRIU writes to that fd only when a --lazy-pages "
                   "server is ready, and minirun has no lazy migration; drop it\n",
                   optarg);
          return MR_EXIT_FAILURE;
        case 'G':
          fprintf (stderr,
                   "minirun checkpoint: --page-server %s is not supported: minirun writes the memory "
                   "into the image directory (no page server)\n",
                   optarg);
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
  if (mr_container_checkpoint (&o, &err) < 0)
    return cmd_fail (&err);
  return 0;
}
