/* cgroup_internal.h: what the cgroup files share and the unit tests may poke
 * at: the detected host layout (v1 hierarchies, the v2 mount), the container
 * cgroup struct, small file helpers and the per-controller writers of the v1
 * and v2 drivers.  Nothing outside runtime/cgroup*.c and tests/unit includes
 * it. */
#ifndef MINIRUN_CGROUP_INTERNAL_H
#define MINIRUN_CGROUP_INTERNAL_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"

/* One mounted cgroup v1 hierarchy. */
struct mr_cg_hier
{
  char *name;       /* controller list as in /proc/self/cgroup: "cpu,cpuacct", "name=systemd" */
  char *mount;      /* where it is mounted: "/sys/fs/cgroup/cpu,cpuacct" */
  char *own;        /* this process's cgroup, relative to `mount` ("" for the mount's root) */
  char *mount_opts; /* data to mount it again: "cpu,cpuacct", "none,name=systemd" */
};

struct mr_cg_host
{
  enum mr_cgroup_layout layout;
  char *root;           /* /sys/fs/cgroup or MINIRUN_CGROUP_ROOT */
  char *v2_mount;       /* the cgroup2 mount (root or root/unified); NULL on legacy */
  char *v2_own;         /* this process's v2 cgroup relative to v2_mount ("" = root) */
  char *v2_controllers; /* " hugetlb memory " (space padded) from cgroup.controllers */
  struct mr_cg_hier *v1;
  size_t n_v1;
};

/* The container's directory in one v1 hierarchy. */
struct mr_cg_v1dir
{
  const struct mr_cg_hier *h;
  char *dir;    /* absolute path */
  int procs_fd; /* dir/tasks, O_WRONLY|O_CLOEXEC, or -1 (dir missing): the self-join path (see open_fds) */
};

struct mr_cgroup
{
  char *path; /* normalised cgroups path ("/minirun/x" or "rel/x") */
  const struct mr_cg_host *host;
  struct mr_cg_v1dir *v1;
  size_t n_v1;
  char *v2_dir; /* absolute path of the v2 directory, NULL without v2 */
  int v2_fd;    /* O_PATH|O_DIRECTORY|O_CLOEXEC, -1 when absent */
};

/* Where a controller lives for a container: index into cg->v1, or one of these. */
#define MR_CG_V2 (-1)
#define MR_CG_NONE (-2)

/* cgroup.c: the record of which directories minirun made (see cgroup.c,
 * "ownership marks"): an xattr on the directory. */
enum mr_cg_mark
{
  MR_CG_MARK_NONE,    /* not made by minirun (or missing) */
  MR_CG_MARK_CREATED, /* made by minirun: removed when empty */
  MR_CG_MARK_FOREIGN, /* a container leaf that existed before the container: kept */
  MR_CG_MARK_UNKNOWN, /* this cgroupfs takes no xattrs */
};
enum mr_cg_mark mr_cg_mark_get (const char *dir);
/* value: "created" or "foreign". */
int mr_cg_mark_set (const char *dir, const char *value, mr_error_t *err);

/* cgroup_detect.c */
int mr_cg_host_get (const struct mr_cg_host **out, mr_error_t *err);
void mr_cg_host_reset (void); /* tests: forget the cached layout (re-read MINIRUN_CGROUP_ROOT) */

/* cgroup_apply.c */
int mr_cg_locate (const struct mr_cgroup *cg, const char *v1_name, const char *v2_name);
/* Every given resource has a home (a v1 hierarchy or the unified tree)? */
int mr_cg_check (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
int mr_cg_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err);
/* The v2 controllers to enable on the way down to a new cgroup: on a pure v2
 * host all that are available (stats need them), on hybrid only those a
 * resource needs.  needed[i] names the config path needing want[i], or NULL;
 * keybuf holds controller names taken from linux.resources.unified keys. */
size_t mr_cg_v2_wanted (const struct mr_cgroup *cg, const struct mr_resources *res, const char **want,
                        const char **needed, size_t max, char (*keybuf)[32]);

/* cgroup_util.c */
/* Is `item` one of the `sep`-separated words of `list`? */
bool mr_cg_list_has (const char *list, char sep, const char *item);
/* File helpers: `dir` is an absolute directory, `file` a name in it.  `cfg`
 * (may be NULL) is the config path named in errors; a missing file is
 * reported as "not available". */
int mr_cg_write (const char *dir, const char *file, const char *value, const char *cfg, mr_error_t *err);
int mr_cg_writef (const char *dir, const char *file, const char *cfg, mr_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
int mr_cg_read (const char *dir, const char *file, char **out, mr_error_t *err);
bool mr_cg_exists (const char *dir, const char *file);
/* "key value" lines (memory.stat, cpu.stat, cgroup.events): value of key or `def`. */
uint64_t mr_cg_kv (const char *text, const char *key, uint64_t def);
/* A single number file; "max" gives 0; missing or junk gives 0. */
uint64_t mr_cg_read_u64 (const char *dir, const char *file);
int mr_cg_procs_read (const char *dir, pid_t **pids, size_t *n, mr_error_t *err);
/* Poll dir/file (1 ms steps) until its `key` line (or, key NULL, its content) is `want`. */
int mr_cg_wait_file (const char *dir, const char *file, const char *key, const char *want, int timeout_ms,
                     mr_error_t *err);

/* Value formatting shared by both drivers and the tests. */
void mr_cg_device_rule_v1 (const struct mr_device_rule *r, char *buf, size_t len); /* "c 1:3 rwm" */
/* cpu.max for quota/period (either may be unset); false if nothing to write. */
bool mr_cg_cpu_max (const struct mr_opt_i64 *quota, const struct mr_opt_u64 *period, char *buf, size_t len);
/* The host's huge page sizes as cgroup file names ("2MB", "1GB"). */
size_t mr_cg_hugepage_sizes (char (*names)[16], size_t max);

/* An optional value given and not zero: "given with a zero value is not written". */
#define MR_CG_SET(o) ((o).set && (o).v != 0)

/* cgroup_v1.c */
int mr_cg_v1_cpuset_init (const char *parent, const char *dir, mr_error_t *err);
int mr_cg_v1_memory (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
/* linux.resources.memory.kernelTCP -> memory.kmem.tcp.limit_in_bytes (a
 * warning, not an error, where the kernel has no such file). */
int mr_cg_v1_kernel_tcp (const char *dir, const struct mr_resources *res, mr_error_t *err);
int mr_cg_v1_cpu (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_cpuset (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_pids (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_blkio (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
/* hugetlb.<size>.<suffix> for every hugepageLimits entry (v1 "limit_in_bytes", v2 "max"). */
int mr_cg_hugetlb_write (const char *dir, const struct mr_resources *res, const char *suffix,
                         mr_error_t *err);
int mr_cg_v1_devices (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_net_cls (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_net_prio (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
/* rdma.max has the same format on v1 and v2: used for both. */
int mr_cg_v1_rdma (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v1_freeze (const char *dir, bool frozen, mr_error_t *err);
void mr_cg_v1_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out);

/* cgroup_v2.c */
/* Enable the controllers `want` in dir/cgroup.subtree_control (those already
 * enabled are skipped).  needed_by[i] is the config path that needs want[i];
 * NULL means best effort (unavailable or refused: skipped). */
int mr_cg_v2_enable (const char *dir, const char *const *want, const char *const *needed_by, size_t n,
                     mr_error_t *err);
int mr_cg_v2_memory (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_cpu (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_cpuset (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_pids (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_io (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_devices (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_v2_unified (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
int mr_cg_v2_freeze (const char *dir, bool frozen, mr_error_t *err);
int mr_cg_v2_kill (const char *dir, bool *done, mr_error_t *err); /* cgroup.kill; *done false if absent */
void mr_cg_v2_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out);

/* cgroup_ebpf.c: the v2 device controller. */
/* Build the BPF_PROG_TYPE_CGROUP_DEVICE program for `rules` (OCI order, last
 * match wins per access bit, default deny).  Caller frees *insns. */
void mr_cg_ebpf_build (const struct mr_device_rule *rules, size_t n, struct bpf_insn **insns,
                       size_t *n_insns);
/* Load it and attach it to `dir`, replacing the programs minirun attached before. */
int mr_cg_ebpf_apply (const char *dir, const struct mr_device_rule *rules, size_t n, mr_error_t *err);

#endif
