/* cgroup.h: one interface over the cgroup v1 and v2 drivers.
 *
 * The layout (unified, hybrid, legacy) is detected once per process.  A
 * container's cgroup is a `struct mr_cgroup`: on v1 one directory per mounted
 * controller hierarchy, on v2 one directory in the unified tree; on a hybrid
 * host both (controllers live on v1, the v2 directory is created in the
 * unified mount so that v2 tooling and freeze/kill work there too).
 *
 * No migration wait: the launcher never writes another process's pid into a
 * cgroup.  It passes mr_cgroup_v2_dirfd() to clone3(CLONE_INTO_CGROUP) and the
 * child writes "0" into every fd of mr_cgroup_v1_procs_fds() itself
 * (mr_cgroup_child_join()). */
#ifndef MINIRUN_CGROUP_H
#define MINIRUN_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

enum mr_cgroup_layout
{
  MR_CGROUP_UNIFIED,   /* pure cgroup v2 at /sys/fs/cgroup */
  MR_CGROUP_HYBRID,    /* v1 controllers + a cgroup2 mount at /sys/fs/cgroup/unified */
  MR_CGROUP_LEGACY,    /* v1 only */
};

/* Detected once, cached. MINIRUN_CGROUP_ROOT (testing) overrides /sys/fs/cgroup. */
int mr_cgroup_layout (enum mr_cgroup_layout *out, mr_error_t *err);
const char *mr_cgroup_layout_name (enum mr_cgroup_layout l);

struct mr_cgroup;

/* The cgroup path for a container: cgroups_path from the config if given
 * (absolute: from the hierarchy root; relative: below the cgroup minirun itself
 * runs in), else "/minirun/<id>".  Caller frees. */
char *mr_cgroup_path_for (const char *cgroups_path, const char *id);

/* Create the container's cgroup(s) (parents as needed) and apply `res`
 * (NULL: no limits).  A resource the host cannot apply is an error naming the
 * config path and the missing controller.  On failure nothing is left behind. */
int mr_cgroup_create (const char *path, const struct mr_resources *res, struct mr_cgroup **out,
                      mr_error_t *err);
/* Open an existing container's cgroup(s) by path (from the state file). */
int mr_cgroup_open (const char *path, struct mr_cgroup **out, mr_error_t *err);
void mr_cgroup_free (struct mr_cgroup *cg);
const char *mr_cgroup_get_path (const struct mr_cgroup *cg);

/* For clone3(CLONE_INTO_CGROUP): an O_PATH|O_DIRECTORY|O_CLOEXEC fd of the v2
 * directory, or -1 when there is none (legacy host). Owned by cg. */
int mr_cgroup_v2_dirfd (const struct mr_cgroup *cg);
/* Child side, before anything else: write "0" to each v1 cgroup.procs the
 * container must join (fds opened by mr_cgroup_create/open, O_CLOEXEC). */
int mr_cgroup_child_join (const struct mr_cgroup *cg, mr_error_t *err);
/* Move an existing process in (used by exec when the process cannot join itself). */
int mr_cgroup_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err);

/* Inside the container's new mount namespace: mount a cgroup filesystem view
 * at the directory `dest_fd` (already resolved inside the rootfs) for an OCI
 * mount of type "cgroup".  v2: cgroup2; v1/hybrid: a tmpfs with one mount per
 * hierarchy (+ co-mount symlinks such as cpu -> cpu,cpuacct).  `flags` are the
 * mount's MS_* flags (ro/nosuid/nodev/noexec).  in_cgroupns: the caller has
 * unshared a cgroup namespace after joining, so fresh cgroup mounts show the
 * container's cgroup as root; otherwise the container's directories are bind
 * mounted. */
int mr_cgroup_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, bool in_cgroupns,
                     mr_error_t *err);

int mr_cgroup_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
int mr_cgroup_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err);
int mr_cgroup_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err);
/* Signal every process in the cgroup (kill --all); on v2 SIGKILL uses cgroup.kill. */
int mr_cgroup_kill (struct mr_cgroup *cg, int sig, mr_error_t *err);
/* Pids in the cgroup (from the host pid namespace view). Caller frees *pids. */
int mr_cgroup_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err);

struct mr_cgroup_stats
{
  struct { uint64_t usage, max_usage, limit, failcnt, swap_usage, swap_limit, cache, rss; uint64_t oom_events, oom_kill; } memory;
  struct { uint64_t usage_total, usage_user, usage_kernel, periods, throttled_periods, throttled_time; } cpu;
  struct { uint64_t current, limit; } pids;   /* limit 0: max */
  struct { uint64_t usage, max_usage, failcnt; char page_size[16]; } hugetlb[4];
  size_t n_hugetlb;
};
int mr_cgroup_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err);

/* Remove every directory this container's cgroup has, in every hierarchy,
 * retrying while the kernel still reports processes (EBUSY), bounded (about
 * 1 s); then remove parents that minirun created and are now empty.  Missing
 * directories are not an error. */
int mr_cgroup_destroy (struct mr_cgroup *cg, mr_error_t *err);

/* v1 -> v2 conversions as runc does them (exposed for unit tests). */
uint64_t mr_cgroup_shares_to_weight (uint64_t shares);     /* cpu.shares -> cpu.weight */
uint64_t mr_cgroup_blkio_weight_to_io (uint64_t weight);   /* blkio.weight -> io.weight */

#endif
