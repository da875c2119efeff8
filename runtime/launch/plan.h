/* plan.h: the init plan, everything a container process reads before it
 * execs.  The launcher builds it (plan.c from the config, launcher.c the
 * fds as it spawns); the container side receives it read-only: the init
 * (child.c), the processes of minirun.processes it creates (tree.c), and a
 * process `minirun exec` adds (exec.c, from the container's kept config).
 * None of them re-executes minirun: each reads the plan from its copy of the
 * launcher's memory.  What only the launcher needs (its end of the setup
 * channel, the state directory and its lock, the init's pidfd) is not in
 * here but in struct mr_launch (launcher.h). */
#ifndef MINIRUN_PLAN_H
#define MINIRUN_PLAN_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "minirun/config.h"
#include "plan/pidplan.h"
#include "security/security.h"
#include "state/state.h"

struct mr_idmapped_mounts;

enum mr_start_mode
{
  MR_START_BY_SYNC,    /* foreground/detached run: the launcher sends START */
  MR_START_BY_SOCKET,  /* create: `minirun start` connects to the start socket */
};

struct mr_init_plan
{
  const struct mr_config *config;
  /* The state as recorded when the init was cloned (id, bundle, rootfs,
   * created, owner, annotations): what the hooks the init runs read, with
   * its host pid filled in.  NULL for exec. */
  const struct mr_state *state;
  bool needs_pid;                  /* hooks or the seccomp agent need the init's host pid (MR_SYNC_INIT_PID) */

  /* namespaces */
  int ns_fds[MR_NS_COUNT];         /* the init joins these (given by path), -1 otherwise */
  bool new_ns[MR_NS_COUNT];        /* made by the clone (cgroup: unshared by the init once it joined) */
  int join_pidfd;                  /* exec: join every namespace of the init behind it, -1 otherwise */
  int join_flags;                  /* exec: which (CLONE_NEW* of those that differ from ours) */

  const struct mr_pid_plan *pids;
  const struct mr_security *sec;   /* compiled for the process that runs (the init's or exec's) */
  const struct mr_cgroup *cgroup;  /* NULL: none (rootless without a delegated cgroup) */

  /* rootfs (the init only) */
  const char *rootfs;              /* absolute, symlinks resolved */
  const char *bundle;
  bool no_pivot;
  const struct mr_idmapped_mounts *idmapped; /* detached idmapped mounts the init attaches (NULL: none) */

  /* start */
  enum mr_start_mode start_mode;
  int start_listen_fd;             /* MR_START_BY_SOCKET */
  bool keep_pdeathsig;             /* foreground: the process dies with its launcher until it execs */

  /* fds */
  int sync_fd;                     /* the container's end of the setup channel */
  int console_fd;                  /* connected --console-socket, -1 if none */
  int launcher_fds[2];             /* the launcher's own, inherited by the clone: closed first (-1: none) */
  int preserve_fds;                /* --preserve-fds: 3 .. 3+N-1 stay open across exec */
  bool no_new_keyring;
  const char *id;                  /* the container id (the session keyring's name) */
};

/* The plan's fds all -1, everything else zero. */
void mr_init_plan_clear (struct mr_init_plan *plan);

#endif
