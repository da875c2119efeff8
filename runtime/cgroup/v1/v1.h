/* v1/v1.h: the cgroup v1 driver's pieces, for its own files, for a
 * composition (hybrid/) and the unit tests.  Every piece works on the v1
 * side of a struct mr_cgroup (cg->v1[], one directory per mounted
 * hierarchy) or on one directory of it; the driver itself is
 * mr_cg_driver_v1 (driver.h). */
#ifndef MINIRUN_CGROUP_V1_H
#define MINIRUN_CGROUP_V1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/dirs.h"
#include "cgroup/common/resources.h"

/* v1/resources.c: the writers of every group v1 has. */
extern const struct mr_cg_writers mr_cg_v1_writers;
int mr_cg_v1_memory (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_cpu (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_blkio (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_devices (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_net_cls (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_net_prio (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
/* linux.resources.memory.kernelTCP -> memory.kmem.tcp.limit_in_bytes (a
 * warning, not an error, where the kernel has no such file). */
int mr_cg_v1_kernel_tcp (const char *dir, const struct mr_resources *res, mr_error_t *err);
void mr_cg_device_rule_v1 (const struct mr_device_rule *r, char *buf, size_t len); /* "c 1:3 rwm" */

/* v1/levels.c */
/* Give a new cpuset level `dir` the cpus/mems of `parent` (levels already set are left). */
int mr_cg_v1_cpuset_init (const char *parent, const char *dir, mr_error_t *err);
/* realtimeRuntime/realtimePeriod into the cpu cgroup `dir`, after raising
 * the realtime runtime of the parents minirun made as far as it needs. */
int mr_cg_v1_rt (const char *dir, const struct mr_resources *res, mr_error_t *err);

/* v1/driver.c: the steps the v1 driver and a composition build on. */
/* Make the container's directory in every v1 hierarchy (cpuset levels
 * initialised), recorded in c for a rollback. */
int mr_cg_v1_make (const struct mr_cgroup *cg, struct mr_cg_created *c, mr_error_t *err);
/* Open each hierarchy's join fd (dir/tasks); missing dirs are -1 unless
 * must_exist; *any |= one was opened. */
int mr_cg_v1_open (struct mr_cgroup *cg, bool must_exist, bool *any, mr_error_t *err);
int mr_cg_v1_join (const struct mr_cgroup *cg, mr_error_t *err);
/* exec --cgroup (driver.h's sub): each hierarchy's tasks fd at its sub-cgroup. */
struct mr_cg_subs;
int mr_cg_v1_sub (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err);
int mr_cg_v1_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err);
/* Close the join fds and remove the directory in every hierarchy. */
void mr_cg_v1_teardown (struct mr_cgroup *cg, struct mr_cg_teardown *td);
/* The directory of the freezer hierarchy, NULL without one. */
const char *mr_cg_v1_freezer (const struct mr_cgroup *cg);
int mr_cg_v1_freeze (const char *dir, bool frozen, mr_error_t *err);
int mr_cg_v1_is_frozen (const char *dir, bool *frozen, mr_error_t *err);
/* The directory whose cgroup.procs lists the container's processes, NULL
 * without v1 hierarchies. */
const char *mr_cg_v1_procs_dir (const struct mr_cgroup *cg);

/* v1/stats.c */
void mr_cg_v1_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out);
/* cpuacct.usage_percpu (none without a cpuacct hierarchy). Caller frees *v. */
int mr_cg_v1_percpu (const struct mr_cgroup *cg, uint64_t **v, size_t *n, mr_error_t *err);
/* memory.oom_control's oom_kill count / an eventfd signalled on OOM, of the
 * memory cgroup `dir`. */
int mr_cg_v1_oom_kills (const char *dir, uint64_t *count, mr_error_t *err);
int mr_cg_v1_oom_watch (const char *dir, int *fd, mr_error_t *err);

/* v1/mount.c: the tmpfs with one bind per hierarchy attached at dest_fd,
 * its attributes not yet set: *tmpfs is its mount fd (the caller adds to
 * it, sets `attr` with mr_cg_mnt_set_attr and closes it). */
int mr_cg_v1_mount_view (const struct mr_cgroup *cg, int dest_fd, unsigned int attr, int *tmpfs,
                         mr_error_t *err);

#endif
