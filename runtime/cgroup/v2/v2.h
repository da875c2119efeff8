/* v2/v2.h: the cgroup v2 driver's pieces, for its own files, for a
 * composition (hybrid/, and a systemd driver writing into the directory
 * systemd delegated) and the unit tests.  The writers take the directory
 * to write, so they work on any v2 directory; the steps work on the v2 side
 * of a struct mr_cgroup (cg->v2_dir, cg->v2_fd).  The driver itself is
 * mr_cg_driver_v2 (driver.h). */
#ifndef MINIRUN_CGROUP_V2_H
#define MINIRUN_CGROUP_V2_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/dirs.h"
#include "cgroup/common/resources.h"

/* v2/resources.c: the writers of every group v2 has (converting the OCI
 * v1-style values as runc does), and linux.resources.unified verbatim. */
extern const struct mr_cg_writers mr_cg_v2_writers;
int mr_cg_v2_memory (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_cpu (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_io (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_devices (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_unified (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
/* cpu.max for quota/period (either may be unset); false if nothing to write. */
bool mr_cg_cpu_max (const struct mr_opt_i64 *quota, const struct mr_opt_u64 *period, char *buf, size_t len);

/* v2/ebpf.c: the v2 device controller. */
/* Build the BPF_PROG_TYPE_CGROUP_DEVICE program for `rules` (OCI order, last
 * match wins per access bit, default deny).  Caller frees *insns. */
void mr_cg_ebpf_build (const struct mr_device_rule *rules, size_t n, struct bpf_insn **insns,
                       size_t *n_insns);
/* Load it and attach it to `dir`, replacing the programs minirun attached before. */
int mr_cg_ebpf_apply (const char *dir, const struct mr_device_rule *rules, size_t n, mr_error_t *err);

/* v2/driver.c: the steps the v2 driver and a composition build on. */
/* Enable the controllers `want` in dir/cgroup.subtree_control (those already
 * enabled are skipped).  needed_by[i] is the config path that needs want[i];
 * NULL means best effort (unavailable or refused: skipped). */
int mr_cg_v2_enable (const char *dir, const char *const *want, const char *const *needed_by, size_t n,
                     mr_error_t *err);
/* The controllers to enable on the way down to a new cgroup: `all` (a pure
 * v2 host: every available one, stats need them) or only those a given
 * resource needs in the unified tree (hybrid), plus the controllers named by
 * linux.resources.unified keys.  needed[i] names the config path needing
 * want[i], or NULL; keybuf holds names taken from the keys. */
size_t mr_cg_v2_wanted (const struct mr_cgroup *cg, const struct mr_resources *res, bool all,
                        const char **want, const char **needed, size_t max, char (*keybuf)[32]);
/* Make the container's v2 directory, enabling `want` in every parent on the
 * way, recorded in c for a rollback. */
int mr_cg_v2_make (const struct mr_cgroup *cg, const char *const *want, const char *const *needed, size_t n,
                   struct mr_cg_created *c, mr_error_t *err);
/* Open the O_PATH fd for clone3(CLONE_INTO_CGROUP); a missing directory is
 * -1 unless must_exist; *any |= it was opened. */
int mr_cg_v2_open (struct mr_cgroup *cg, bool must_exist, bool *any, mr_error_t *err);
int mr_cg_v2_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err);
/* exec --cgroup (driver.h's sub): the v2 directory fd at the sub-cgroup
 * given for one of the unified tree's controllers, or by the plain form
 * (hybrid); mr_cg_v2_sub_unified for a pure v2 tree, where only the plain
 * form means something. */
struct mr_cg_subs;
int mr_cg_v2_sub (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err);
int mr_cg_v2_sub_unified (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err);
/* Close the fd and remove the v2 directory. */
void mr_cg_v2_teardown (struct mr_cgroup *cg, struct mr_cg_teardown *td);
int mr_cg_v2_freeze (const char *dir, bool frozen, mr_error_t *err);
int mr_cg_v2_is_frozen (const char *dir, bool *frozen, mr_error_t *err);
int mr_cg_v2_kill (const char *dir, bool *done, mr_error_t *err); /* cgroup.kill; *done false if absent */
/* A bind of the container's v2 directory attached at to_fd. */
int mr_cg_v2_mount_at (const struct mr_cgroup *cg, int to_fd, unsigned int attr, mr_error_t *err);

/* v2/stats.c */
void mr_cg_v2_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out);
/* memory.events' oom_kill count / an inotify fd on memory.events, of the
 * memory cgroup `dir`. */
int mr_cg_v2_oom_kills (const char *dir, uint64_t *count, mr_error_t *err);
int mr_cg_v2_oom_watch (const char *dir, int *fd, mr_error_t *err);

#endif
