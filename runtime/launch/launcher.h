/* launcher.h: what the host side (launcher.c) prepares for the container's
 * init (child.c).  The init is a clone of the launcher: it reads this struct
 * from its copy of the launcher's memory and never re-executes minirun. */
#ifndef MINIRUN_LAUNCHER_H
#define MINIRUN_LAUNCHER_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "minirun/config.h"
#include "minirun/minirun.h"
#include "plan/pidplan.h"
#include "security/security.h"
#include "state/state.h"

struct mr_idmapped_mounts;

enum mr_start_mode
{
  MR_START_BY_SYNC,    /* foreground/detached run: the launcher sends START */
  MR_START_BY_SOCKET,  /* create: `minirun start` connects to the start socket */
};

struct mr_launch
{
  const struct mr_run_opts *opts;
  struct mr_config *config;
  char *bundle;                   /* absolute */
  char *config_path;              /* the config.json that was parsed */
  char *config_data;              /* its bytes, kept in the state directory */
  size_t config_len;
  char *rootfs;                   /* absolute, symlinks resolved */
  struct mr_pid_plan *plan;
  struct mr_security *sec;
  struct mr_cgroup *cgroup;
  int state_dirfd;
  int ns_fds[MR_NS_COUNT];        /* namespaces joined by path, -1 otherwise */
  bool new_ns[MR_NS_COUNT];       /* namespaces created */
  int sync_parent, sync_child;
  int start_listen_fd;            /* MR_START_BY_SOCKET */
  int console_fd;                 /* connected --console-socket, -1 if none */
  struct mr_idmapped_mounts *idmapped; /* detached idmapped mounts for the init (NULL: none) */
  enum mr_start_mode start_mode;
  bool keep_pdeathsig;            /* foreground run: the init dies with the launcher until exec */
  pid_t pid;                      /* init, host pid */
  int pidfd;
  struct mr_state state;
};

/* Host side, in order (launcher.c): init the struct, prepare (every config
 * error, nothing created), spawn (state, cgroup, clone, setup up to READY;
 * undoes itself on failure), release.  undo tears a spawned container down.
 * run.c builds create and run from these. */
void mr_launch_init (struct mr_launch *l, const struct mr_run_opts *opts);
int mr_launch_prepare (struct mr_launch *l, mr_error_t *err);
int mr_launch_spawn (struct mr_launch *l, enum mr_start_mode mode, int *terminal_master, mr_error_t *err);
int mr_launch_save_state (struct mr_launch *l, enum mr_status status, mr_error_t *err);
void mr_launch_undo (struct mr_launch *l);
void mr_launch_release (struct mr_launch *l);

/* Container side: never returns. */
void mr_child_main (struct mr_launch *l) __attribute__ ((noreturn));

/* Does the init need its host pid (sent as MR_SYNC_INIT_PID) for hooks or
 * the seccomp agent? */
bool mr_launch_init_needs_pid (const struct mr_launch *l);

/* Write the OCI state for hooks and the seccomp agent. */
char *mr_launch_state_json (const struct mr_launch *l, enum mr_status status);

#endif
