/* cgroup.h: one interface over the cgroup drivers (driver.h: v1, v2 and
 * their hybrid composition), what the rest of the library calls.
 *
 * The layout (unified, hybrid, legacy) is detected once per process and
 * picks the driver (cgroup.c).  A
 * container's cgroup is a `struct mr_cgroup`: on v1 one directory per mounted
 * hierarchy (named ones such as name=systemd included), on v2 one directory in
 * the unified tree; on a hybrid host both (resources go to the v1 controllers,
 * or to the unified tree for a controller only it has, e.g. hugetlb).
 *
 * No migration wait: the launcher never writes another process's pid into a
 * cgroup.  The caller's sequence is
 *   mr_cgroup_create()                 parent; applies linux.resources
 *   clone3 with CLONE_INTO_CGROUP and .cgroup = mr_cgroup_v2_dirfd() (when >= 0)
 *   mr_cgroup_init_started()           parent, right after the clone
 *   mr_cgroup_child_join()             first thing in the child: writes "0" to
 *                                      each v1 cgroup.procs fd (v1 hierarchies)
 *   [unshare(CLONE_NEWCGROUP)]         after joining, if the config asks for it
 *   mr_cgroup_mount()                  in the new mount ns, before pivot_root
 *   ... mr_cgroup_destroy() when the container is deleted.
 * A struct mr_cgroup is plain memory plus fds, so it is usable in a child
 * after clone() (no threads, no locks).  Without CLONE_INTO_CGROUP a process
 * is not in the v2 directory (on a pure v2 host: in no container cgroup at
 * all); mr_cgroup_enter_pid() is the slow way for such a process. */
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
  MR_CGROUP_UNIFIED, /* pure cgroup v2 at /sys/fs/cgroup */
  MR_CGROUP_HYBRID,  /* v1 controllers + a cgroup2 mount at /sys/fs/cgroup/unified */
  MR_CGROUP_LEGACY,  /* v1 only */
};

/* Detected once, cached. */
int mr_cgroup_layout (enum mr_cgroup_layout *out, mr_error_t *err);
const char *mr_cgroup_layout_name (enum mr_cgroup_layout l);

struct mr_cgroup;

/* The cgroup path for a container: cgroups_path from the config if given
 * (absolute: from the hierarchy root; relative: below the cgroup minirun itself
 * runs in; slice:prefix:name: a systemd scope), else "/minirun/<id>", or
 * with --systemd-cgroup "system.slice:minirun:<id>" ("user.slice:..."
 * rootless).  Caller frees. */
char *mr_cgroup_path_for (const char *cgroups_path, const char *id);
/* --systemd-cgroup (also in minirun/minirun.h): the containers this process
 * creates get their cgroup from systemd, as a transient scope (the systemd
 * driver, systemd/driver.c); fails, saying why, when this build has no
 * systemd driver or systemd is not running. */
int mr_cgroup_use_systemd (mr_error_t *err);

/* Create the container's cgroup(s) (parents as needed) and apply `res`
 * (NULL: no limits).  A resource the host cannot apply is an error naming the
 * config path and the missing controller; values given as 0 / "" are not
 * written.  New v1 cpuset levels get cpus/mems from their parent; on v2 the
 * parents get the controllers enabled in cgroup.subtree_control (pure v2: all
 * available ones, hybrid: the ones a resource needs).  A leaf that already
 * exists is reused if it has no processes ("already in use" otherwise).
 * v1 realtime (cpu.realtimeRuntime): the parents minirun made get the
 * realtime runtime their children need (v1/levels.c); others are not changed.
 * Every directory this call makes is marked as minirun's (an xattr, see
 * common/marks.c) and a leaf that existed is marked as not minirun's, so that
 * mr_cgroup_destroy, in this or any later process, removes only what minirun
 * made.  On failure every directory this call made is removed (and a mark it
 * set on an existing leaf).  Opens the v2 dir fd and the v1 cgroup.procs fds
 * kept in the struct. */
int mr_cgroup_create (const char *path, const struct mr_resources *res, struct mr_cgroup **out,
                      mr_error_t *err);
/* The same, with the config's annotations: the systemd driver sends the
 * org.systemd.property.NAME ones as extra properties of the scope (a value
 * it cannot parse fails the create, nothing made); the others ignore them. */
int mr_cgroup_create_annotated (const char *path, const struct mr_resources *res, const struct mr_kv *annotations,
                                size_t n_annotations, struct mr_cgroup **out, mr_error_t *err);
/* Open an existing container's cgroup(s) by path (from the state file; a
 * relative path resolves against the caller's own cgroup again, so store and
 * reuse mr_cgroup_get_path()).  Hierarchies where the directory is missing are
 * tolerated; missing everywhere is ENOENT. */
int mr_cgroup_open (const char *path, struct mr_cgroup **out, mr_error_t *err);
/* The container's cgroup by path, without opening anything (no existence
 * check, no join fds): enough to kill, freeze and destroy it.  Each path
 * lookup in cgroupfs takes the hierarchy's kernfs lock, which parallel
 * deletes (their rmdirs) hold for writing. */
int mr_cgroup_lookup (const char *path, struct mr_cgroup **out, mr_error_t *err);
void mr_cgroup_free (struct mr_cgroup *cg);
const char *mr_cgroup_get_path (const struct mr_cgroup *cg);
/* The driver that handles cg: "v1", "v2", "hybrid" or "systemd". */
const char *mr_cgroup_driver_name (const struct mr_cgroup *cg);

/* For clone3(CLONE_INTO_CGROUP): an O_PATH|O_DIRECTORY|O_CLOEXEC fd of the v2
 * directory, or -1 when there is none (legacy host). Owned by cg. */
int mr_cgroup_v2_dirfd (const struct mr_cgroup *cg);
/* Parent side, right after the init was cloned into the cgroup (before it
 * runs the user's process): the systemd driver lets the process that held
 * its scope go and applies pids.limit; nothing for the others. */
int mr_cgroup_init_started (struct mr_cgroup *cg, pid_t pid, mr_error_t *err);
/* Child side, before anything else: write "0" to each v1 cgroup.procs the
 * container must join (fds opened by mr_cgroup_create/open, O_CLOEXEC, so the
 * kernel checks the opener's credentials: works after setuid/userns too).
 * No allocation unless it fails.  Does not touch v2 (CLONE_INTO_CGROUP). */
int mr_cgroup_child_join (const struct mr_cgroup *cg, mr_error_t *err);
/* exec --cgroup: the join fds of an opened cg (mr_cgroup_open) point at
 * sub-cgroups of the container's cgroup, so that mr_cgroup_v2_dirfd and
 * mr_cgroup_child_join put the process there.  `specs` are runc's forms:
 * one PATH (every hierarchy: the sub-cgroup must exist in each where the
 * container has a directory), or CONTROLLER[,CONTROLLER]:PATH, repeatable
 * (v1 and hybrid only; the other hierarchies stay at the container's
 * cgroup).  PATH is relative to the container's cgroup (a leading `/` too;
 * "/" is the container's own), must exist, has no `..`, and is resolved
 * without leaving it.  Errors: a missing sub-cgroup, `..`, a controller the
 * container has no cgroup for, a controller form on pure v2. */
int mr_cgroup_join_sub (struct mr_cgroup *cg, char *const *specs, size_t n, mr_error_t *err);
/* Move an existing process in (used by exec when the process cannot join itself). */
int mr_cgroup_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err);

/* Inside the container's new mount namespace: mount a cgroup filesystem view
 * at the directory `dest_fd` (already resolved inside the rootfs) for an OCI
 * mount of type "cgroup".  v2: cgroup2; v1/hybrid: a tmpfs with one mount per
 * hierarchy (+ co-mount symlinks such as cpu -> cpu,cpuacct).  `flags` are the
 * mount's MS_* flags (ro/nosuid/nodev/noexec).  Every hierarchy is a bind
 * mount of the container's own directory (in a new cgroup namespace, unshared
 * after joining, that is what a fresh mount would show, at a fraction of the
 * kernel's cost). */
int mr_cgroup_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err);

/* Apply new resources to a live cgroup (`minirun update`), with the same
 * rules as create (v1 memory: memsw/limit written in the order the kernel
 * accepts; v2 devices: the eBPF filter is replaced). */
int mr_cgroup_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
/* Freeze/thaw and wait (bounded, ~1 s) until the kernel reports it done.  The
 * v1 freezer when there is one (also on hybrid hosts: every process joins
 * it), else cgroup.freeze. */
int mr_cgroup_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err);
int mr_cgroup_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err);
/* Signal every process in the cgroup (kill --all).  SIGKILL: cgroup.kill on
 * pure v2, else freeze + kill each + thaw (no fork escapes, no pid reuse). */
int mr_cgroup_kill (struct mr_cgroup *cg, int sig, mr_error_t *err);
/* Pids in the cgroup (from the host pid namespace view). Caller frees *pids. */
int mr_cgroup_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err);

/* Statistics, 0 where the host has no such counter.  memory.swap_* are
 * memory+swap (v1 meaning) on both versions; memory.oom_events is v2's
 * memory.events "oom" (v1: the oom_kill count); cpu.* are nanoseconds. */
struct mr_cgroup_stats
{
  struct
  {
    uint64_t usage, max_usage, limit, failcnt, swap_usage, swap_limit, cache, rss;
    uint64_t oom_events, oom_kill;
  } memory;
  struct
  {
    uint64_t usage_total, usage_user, usage_kernel, periods, throttled_periods, throttled_time;
  } cpu;
  struct
  {
    uint64_t current, limit;
  } pids; /* limit 0: max */
  struct
  {
    uint64_t usage, max_usage, failcnt;
    char page_size[16];
  } hugetlb[4];
  size_t n_hugetlb;
};
int mr_cgroup_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err);
/* What mr_cgroup_stats leaves out because its size varies: per-CPU usage in
 * ns (v1 cpuacct.usage_percpu; none on v2) and the memory controller's
 * memory.stat text ("key value" lines; NULL without a memory controller).
 * Caller frees both. */
int mr_cgroup_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu,
                            char **memory_stat, mr_error_t *err);

/* OOM kills so far (v1 memory.oom_control / v2 memory.events `oom_kill`; 0
 * without a memory controller). */
int mr_cgroup_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err);
/* *fd: an fd (O_CLOEXEC|O_NONBLOCK) that polls readable when the memory
 * controller reports an event, to be drained with read() (a buffer of 4 KiB)
 * and followed by mr_cgroup_oom_kills().  v2: inotify on memory.events
 * (after the count changed); v1: an eventfd on memory.oom_control, signalled
 * when the cgroup is out of memory, possibly just before the kill is
 * counted (recheck shortly after).  -1 without a memory controller. */
int mr_cgroup_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err);

/* Remove the container's directory in every hierarchy (sub-cgroups the
 * container made included), retrying while the kernel still reports
 * processes (EBUSY), bounded (about 1 s, then "still has processes"); a leaf
 * that existed before the container stays (only its sub-cgroups go).  Then
 * remove, deepest first, the ancestors minirun created (for any container)
 * that are now empty, up to (not including) the hierarchy root or, for
 * relative paths, the caller's own cgroup; the first ancestor minirun did not
 * create stops the walk (an admin's /admin-slice and its limits survive), and
 * one still used by other containers stays.  Missing directories are fine.
 * The fds in cg are closed; call mr_cgroup_free() afterwards. */
int mr_cgroup_destroy (struct mr_cgroup *cg, mr_error_t *err);

/* v1 -> v2 conversions as runc does them (exposed for unit tests). */
uint64_t mr_cgroup_shares_to_weight (uint64_t shares);   /* cpu.shares -> cpu.weight */
uint64_t mr_cgroup_blkio_weight_to_io (uint64_t weight); /* blkio.weight -> io.weight */
/* OCI memory.swap (memory+swap, v1 meaning) and memory.limit -> memory.swap.max.
 * Returns 1 and sets *out (-1 = "max") when something is to be written, 0 when
 * nothing (swap unset), -1 with *err when the pair is invalid. */
int mr_cgroup_swap_to_v2 (int64_t swap, int64_t limit, int64_t *out, mr_error_t *err);

#endif
