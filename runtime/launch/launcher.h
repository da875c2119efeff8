/* launcher.h: the host side of `create` and `run`.  The launcher builds the
 * init plan (plan.h) the container side reads, owns what the plan points
 * at, and keeps what only it needs: its end of the setup channel, the
 * locked state directory, the init's pidfd and the state it records. */
#ifndef MINIRUN_LAUNCHER_H
#define MINIRUN_LAUNCHER_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "launch/plan.h"
#include "resctrl/resctrl.h"
#include "minirun/config.h"
#include "minirun/minirun.h"
#include "plan/pidplan.h"
#include "security/security.h"
#include "state/state.h"

struct mr_launch
{
  const struct mr_run_opts *opts;
  struct mr_init_plan init;       /* what the container side reads (its fds are closed by release) */

  /* owned here; the plan points at them */
  struct mr_config *config;
  char *bundle;                   /* absolute */
  char *config_path;              /* the config.json that was parsed */
  char *config_data;              /* its bytes, kept in the state directory */
  size_t config_len;
  char *rootfs;                   /* absolute, symlinks resolved */
  struct mr_pid_plan *plan;
  struct mr_security *sec;        /* freed once the init has its copy */
  struct mr_cgroup *cgroup;
  struct mr_rdt rdt;              /* linux.intelRdt's group (dir NULL without one) */
  struct mr_idmapped_mounts *idmapped; /* made before the clone, freed once the init has its copy */

  /* host only */
  int state_dirfd;                /* locked */
  int sync_parent;                /* the launcher's end of the setup channel */
  int pidfd;                      /* the init's */
  int terminal_master;            /* the pty master the init sent (no --console-socket), -1 */
  int pidfd_socket;               /* --pidfd-socket, connected before the clone; -1 */
  struct mr_netdev_moves *netdevs; /* linux.netDevices moved in (moved back by undo) */
  struct mr_state state;          /* what state.json says; id, bundle, rootfs, annotations and the
                                   * processes' names are borrowed, the rest is owned */
};

/* Host side, in order: init the struct (launcher.c), prepare (plan.c:
 * every config error, nothing created), spawn (launcher.c: state, cgroup,
 * clone, setup up to READY; undoes itself on failure), release.  undo tears
 * a spawned container down.  run.c builds create and run from these. */
void mr_launch_init (struct mr_launch *l, const struct mr_run_opts *opts);
int mr_launch_prepare (struct mr_launch *l, mr_error_t *err);
int mr_launch_spawn (struct mr_launch *l, enum mr_start_mode mode, int *terminal_master, mr_error_t *err);
int mr_launch_save_state (struct mr_launch *l, enum mr_status status, mr_error_t *err);
void mr_launch_undo (struct mr_launch *l);
void mr_launch_release (struct mr_launch *l);

/* Two steps of spawn, in their own files: clone.c makes the init (and the
 * fds it needs) and checks its pins; ready.c talks with it until READY. */
int mr_launch_clone (struct mr_launch *l, mr_error_t *err);
int mr_launch_await_ready (struct mr_launch *l, mr_error_t *err);

#endif
