/* driver.h: the cgroup driver interface.  A driver is one table of
 * operations on a container's cgroup (struct mr_cgroup, common/cg.h); the
 * front (cgroup.c) picks one per host layout and every public mr_cgroup_*
 * call goes through it.  The drivers:
 *   v1/      cgroup v1: one directory per mounted hierarchy (legacy hosts)
 *   v2/      cgroup v2: one directory in the unified tree (pure v2 hosts)
 *   hybrid/  v1 for the controllers on v1, v2 for those only the unified
 *            tree has (hugetlb here): a composition of v1/ and v2/
 *   systemd/ a transient scope started through systemd's D-Bus API, then
 *            v2's writers on the delegated directory: a composition of v2/
 *            and sd-bus, chosen by the path (slice:prefix:name), not the layout
 * A driver folder uses only the shared helpers (common/) and, for a
 * composition, the exported pieces of v1/ and v2/ (v1/v1.h, v2/v2.h); never
 * the front, never another composition (scripts/check-layers.py checks it).
 * A new driver is a folder with a `const struct mr_cgroup_driver`
 * declared here and registered in cgroup.c's pick().
 *
 * The front normalises the path and fills in the directories (mr_cg_resolve)
 * before an operation, wraps the errors of create, update, mount and destroy
 * in "<what> cgroup `path`", and frees the struct.  Every operation is
 * required but the four marked optional (NULL: the driver has nothing to
 * do there). */
#ifndef MINIRUN_CGROUP_DRIVER_H
#define MINIRUN_CGROUP_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

struct mr_cg_subs;

struct mr_cgroup_driver
{
  const char *name; /* "v1", "v2", "hybrid", "systemd" */
  /* Optional, for a driver chosen by the path rather than the layout: can
   * this host and build use it at all (cheap, no side effect), and is
   * `path` one of its paths. */
  int (*available) (mr_error_t *err);
  bool (*claims) (const char *path);
  /* Optional: after the front filled in the directories from the path
   * (mr_cg_resolve), set them as the driver sees them (its cg->priv too). */
  int (*resolve) (struct mr_cgroup *cg, mr_error_t *err);
  /* Make the directories (parents as needed, marked), apply `res` (NULL: no
   * limits), open the join fds; on failure remove what it made. */
  int (*create) (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
  /* Optional: the container's init exists (cloned into the cgroup, not
   * yet running the user's process); `pid` is its host pid. */
  int (*started) (struct mr_cgroup *cg, pid_t pid, mr_error_t *err);
  /* Open the fds of an existing cgroup: missing hierarchies tolerated,
   * missing everywhere ENOENT. */
  int (*open) (struct mr_cgroup *cg, mr_error_t *err);
  /* In the child, before anything else, with no allocation. */
  int (*join) (const struct mr_cgroup *cg, mr_error_t *err);
  int (*enter_pid) (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err);
  /* exec --cgroup: point the join fds open made (v1 tasks, the v2 directory
   * for CLONE_INTO_CGROUP) at the sub-cgroups `subs` (common/sub.h), below
   * the container's directories, and the directories' names with them (cg
   * is then the exec'd process's: not one to destroy); mark the entries
   * taken (the front refuses a controller no hierarchy took).  A missing
   * sub-cgroup is an error. */
  int (*sub) (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err);
  /* Write `res` into the existing directories (create's step; update = false). */
  int (*apply) (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err);
  /* `minirun update`: new resources on a live cgroup. */
  int (*update) (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
  int (*freeze) (struct mr_cgroup *cg, bool frozen, mr_error_t *err);
  int (*is_frozen) (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err);
  int (*kill) (struct mr_cgroup *cg, int sig, mr_error_t *err);
  int (*pids) (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err);
  /* *out is zeroed by the front. */
  int (*stats) (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err);
  int (*stats_detail) (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                       mr_error_t *err);
  int (*oom_kills) (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err);
  int (*oom_watch) (const struct mr_cgroup *cg, int *fd, mr_error_t *err);
  /* The container's view at `dest_fd`; `flags` are MS_* flags. */
  int (*mount) (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err);
  /* Close the fds, remove the directories (not a foreign leaf), then the
   * empty ancestors minirun made. */
  int (*destroy) (struct mr_cgroup *cg, mr_error_t *err);
};

/* The registered drivers (each defined in its folder's driver.c). */
extern const struct mr_cgroup_driver mr_cg_driver_v1;
extern const struct mr_cgroup_driver mr_cg_driver_v2;
extern const struct mr_cgroup_driver mr_cg_driver_hybrid;
extern const struct mr_cgroup_driver mr_cg_driver_systemd;

#endif
