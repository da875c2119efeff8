/* minirun/config.h: an OCI runtime config (config.json) as plain C data.
 *
 * Produced by mr_config_parse*() (runtime/config*.c, the only code that sees
 * jansson) and consumed by the planners and the launcher.  Every string is
 * owned by the struct and released by mr_config_free().  Optional scalars
 * come with a `has_` flag; absent arrays have n_ == 0 and a NULL pointer.
 * Paths in error messages use the JSON path, e.g. `process.args[0]`. */
#ifndef MINIRUN_CONFIG_H
#define MINIRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/error.h"

/* ---------- process ---------- */

struct mr_rlimit
{
  char *type;          /* "RLIMIT_NOFILE" as written */
  int resource;        /* RLIMIT_NOFILE */
  uint64_t soft, hard;
};

/* Capability sets as bit masks (bit N = capability N, as in linux/capability.h). */
struct mr_capabilities
{
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct mr_user
{
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  mode_t umask;
  char *username;      /* "username" (windows-only in the spec, kept for completeness) */
};

/* A parsed list of cpus or NUMA nodes ("0-3,7"): bit N set = N listed. */
#define MR_ID_LIST_MAX 1024 /* CPU_SETSIZE; the kernel's largest MAX_NUMNODES */
struct mr_id_list
{
  uint64_t bits[MR_ID_LIST_MAX / 64];
};

/* process.scheduler: sched_setattr(2) in the process's tail. */
struct mr_scheduler
{
  bool present;
  int policy;                  /* SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE */
  int nice;                    /* -20 .. 19 */
  int priority;                /* 1 .. 99 for SCHED_FIFO / SCHED_RR, else 0 */
  uint64_t flags;              /* SCHED_FLAG_* bits */
  uint64_t runtime, deadline, period; /* ns, SCHED_DEADLINE only */
};

/* process.ioPriority: ioprio_set(2) in the process's tail. */
struct mr_io_priority
{
  bool present;
  int class_;                  /* IOPRIO_CLASS_RT 1, IOPRIO_CLASS_BE 2, IOPRIO_CLASS_IDLE 3 */
  int priority;                /* 0 (highest) .. 7 */
};

/* process.execCPUAffinity: for `exec` processes only (the spec: not the init). */
struct mr_cpu_affinity
{
  char *initial, *final;       /* as written; NULL (or absent / "") : not set */
  struct mr_id_list initial_cpus, final_cpus;
};

struct mr_process
{
  bool terminal;
  bool has_console_size;
  unsigned int console_height, console_width;
  char *cwd;                   /* required, absolute */
  char **args;                 /* NULL-terminated, n_args >= 1 */
  size_t n_args;
  char **env;                  /* NULL-terminated ("KEY=value") */
  size_t n_env;
  struct mr_user user;
  bool has_capabilities;
  struct mr_capabilities capabilities;
  struct mr_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  char *apparmor_profile;
  char *selinux_label;
  struct mr_scheduler scheduler;
  struct mr_io_priority io_priority;
  struct mr_cpu_affinity exec_cpu_affinity;
};

/* ---------- mounts ---------- */

enum mr_propagation
{
  MR_PROP_NONE = 0,
  MR_PROP_PRIVATE, MR_PROP_RPRIVATE,
  MR_PROP_SHARED, MR_PROP_RSHARED,
  MR_PROP_SLAVE, MR_PROP_RSLAVE,
  MR_PROP_UNBINDABLE, MR_PROP_RUNBINDABLE,
};

struct mr_mount
{
  char *destination;           /* absolute path inside the container */
  char *type;                  /* may be NULL for bind mounts */
  char *source;                /* may be NULL */
  char **options;              /* as written, NULL-terminated */
  size_t n_options;
  /* Derived from options by the parser: */
  unsigned long flags;         /* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME,
                                  MS_RELATIME, MS_STRICTATIME, MS_NODIRATIME, MS_SYNCHRONOUS,
                                  MS_DIRSYNC, MS_MANDLOCK, MS_LAZYTIME, MS_REMOUNT */
  unsigned long clear_flags;   /* flags explicitly cleared ("rw", "suid", "dev", "exec", ...) */
  bool bind;                   /* "bind" or "rbind" option, or type "bind" */
  bool recursive;              /* "rbind" */
  enum mr_propagation propagation;
  char *data;                  /* the options that are not flags, comma-joined ("size=65536k,mode=755"), or NULL */
  struct mr_mount_attr *rattrs; /* the recursive options ("rro", "rnoexec", ...) in order */
  size_t n_rattrs;
  bool tmpcopyup;              /* "tmpcopyup" (type tmpfs): the tmpfs gets a copy of what was at the destination */
  /* idmapped mount: "idmap"/"ridmap" (with crun's "=uids=...;gids=..." form), or uidMappings/gidMappings */
  bool idmap;
  bool idmap_recursive;        /* "ridmap": the mapping goes on every mount of an rbind */
  size_t idmap_option;         /* index in options of "idmap"/"ridmap"; n_options when the fields alone ask */
  struct mr_idmap *uid_mappings, *gid_mappings; /* containerID = id on the source, hostID = id it shows as */
  size_t n_uid_mappings, n_gid_mappings;        /* both 0 with idmap: the user namespace joined by path */
};

/* One recursive mount option: mount_setattr(AT_RECURSIVE) with these
 * MOUNT_ATTR_* bits after the mount is made ("rnoatime": set NOATIME, clear
 * MOUNT_ATTR__ATIME). */
struct mr_mount_attr
{
  size_t option;               /* its index in mr_mount.options, for errors */
  uint64_t set, clr;
};

/* linux.netDevices: a host interface moved into the container's network
 * namespace (ns/netdev.c), optionally renamed there */
struct mr_net_device
{
  char *host_name; /* the entry's key: the interface on the host */
  char *name;      /* "name": its name inside, NULL to keep host_name */
};

/* ---------- namespaces ---------- */

enum mr_ns_type
{
  MR_NS_PID = 0, MR_NS_NET, MR_NS_MOUNT, MR_NS_IPC, MR_NS_UTS, MR_NS_USER, MR_NS_CGROUP, MR_NS_TIME,
  MR_NS_COUNT
};

struct mr_namespace
{
  bool present;                /* listed in linux.namespaces */
  char *path;                  /* join this one instead of creating (NULL: new) */
  size_t index;                /* its position in linux.namespaces, for messages */
};

struct mr_idmap
{
  uint32_t container_id, host_id, size;
};

struct mr_device
{
  char *path;                  /* absolute, inside the container */
  char type;                   /* 'c', 'b', 'u' (= c), 'p' */
  int64_t major, minor;
  bool has_file_mode;
  mode_t file_mode;
  bool has_uid, has_gid;
  uid_t uid;
  gid_t gid;
};

struct mr_kv
{
  char *key, *value;
};

/* ---------- resources (cgroups) ---------- */

struct mr_opt_i64 { bool set; int64_t v; };
struct mr_opt_u64 { bool set; uint64_t v; };

struct mr_weight_device
{
  int64_t major, minor;
  struct mr_opt_u64 weight, leaf_weight;
};

struct mr_throttle_device
{
  int64_t major, minor;
  uint64_t rate;
};

struct mr_device_rule
{
  bool allow;
  char type;                   /* 'a', 'c', 'b' */
  int64_t major, minor;        /* -1 = wildcard */
  char access[4];              /* subset of "rwm" */
};

struct mr_hugepage_limit
{
  char *page_size;             /* "2MB", "1GB" */
  uint64_t limit;
};

struct mr_net_priority
{
  char *name;
  uint32_t priority;
};

struct mr_rdma_limit
{
  char *device;
  struct mr_opt_u64 hca_handles, hca_objects;
};

struct mr_resources
{
  bool present;
  struct
  {
    struct mr_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
    struct mr_opt_u64 swappiness;
    bool has_disable_oom_killer, disable_oom_killer;
    bool has_use_hierarchy, use_hierarchy;
    bool has_check_before_update, check_before_update;
  } memory;
  struct
  {
    struct mr_opt_u64 shares, period, realtime_period, burst;
    struct mr_opt_i64 quota, realtime_runtime, idle;
    char *cpus, *mems;
  } cpu;
  struct
  {
    struct mr_opt_i64 limit;
  } pids;
  struct
  {
    struct mr_opt_u64 weight, leaf_weight;
    struct mr_weight_device *weight_device;
    size_t n_weight_device;
    struct mr_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops, *throttle_write_iops;
    size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
  } block_io;
  struct mr_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct mr_device_rule *devices;
  size_t n_devices;
  struct
  {
    struct mr_opt_u64 class_id;
    struct mr_net_priority *priorities;
    size_t n_priorities;
  } network;
  struct mr_rdma_limit *rdma;
  size_t n_rdma;
  struct mr_kv *unified;
  size_t n_unified;
};

/* ---------- seccomp ---------- */

enum mr_seccomp_action
{
  MR_SECCOMP_KILL = 0,         /* SCMP_ACT_KILL / SCMP_ACT_KILL_THREAD */
  MR_SECCOMP_KILL_PROCESS,
  MR_SECCOMP_KILL_THREAD,
  MR_SECCOMP_TRAP,
  MR_SECCOMP_ERRNO,
  MR_SECCOMP_TRACE,
  MR_SECCOMP_ALLOW,
  MR_SECCOMP_LOG,
  MR_SECCOMP_NOTIFY,
};

enum mr_seccomp_op
{
  MR_SECCOMP_OP_NE = 0, MR_SECCOMP_OP_LT, MR_SECCOMP_OP_LE, MR_SECCOMP_OP_EQ,
  MR_SECCOMP_OP_GE, MR_SECCOMP_OP_GT, MR_SECCOMP_OP_MASKED_EQ,
};

struct mr_seccomp_arg
{
  unsigned int index;
  uint64_t value, value_two;
  enum mr_seccomp_op op;
};

struct mr_seccomp_rule
{
  char **names;                /* NULL-terminated */
  size_t n_names;
  enum mr_seccomp_action action;
  bool has_errno_ret;
  uint32_t errno_ret;
  struct mr_seccomp_arg *args;
  size_t n_args;
};

struct mr_seccomp
{
  bool present;
  enum mr_seccomp_action default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  char **architectures;        /* "SCMP_ARCH_X86_64", NULL-terminated */
  size_t n_architectures;
  char **flags;                /* "SECCOMP_FILTER_FLAG_LOG", ... */
  size_t n_flags;
  char *listener_path;
  char *listener_metadata;
  struct mr_seccomp_rule *syscalls;
  size_t n_syscalls;
};

/* ---------- hooks ---------- */

enum mr_hook_kind
{
  MR_HOOK_PRESTART = 0, MR_HOOK_CREATE_RUNTIME, MR_HOOK_CREATE_CONTAINER,
  MR_HOOK_START_CONTAINER, MR_HOOK_POSTSTART, MR_HOOK_POSTSTOP,
  MR_HOOK_COUNT
};

struct mr_hook
{
  char *path;
  char **args;                 /* NULL-terminated, may be NULL */
  size_t n_args;
  char **env;
  size_t n_env;
  bool has_timeout;
  int timeout;                 /* seconds, > 0 */
};

/* ---------- minirun's pid-pinning extension ---------- */

#define MR_PID_ANY 0           /* "any" or an omitted level */
#define MR_PIDNS_HOST "host"
#define MR_PIDNS_CONTAINER "container"

struct mr_pin
{
  char *ns;                    /* pid namespace name: "host", "container" or declared */
  int pid;                     /* > 0, or MR_PID_ANY */
};

struct mr_pidns_decl
{
  char *name;
  char *parent;                /* "container" or another declared name */
};

/* A child process of the init (minirun.processes[]).  Fields not given are
 * inherited from the OCI `process`: has_* say which were given. */
struct mr_proc_spec
{
  char *name;
  char *parent;                /* "init" (default) or another process's name */
  char *pid_ns;                /* "container" (default) or a declared namespace */
  struct mr_pin *pins;
  size_t n_pins;
  char **args;                 /* required */
  size_t n_args;
  char **env;                  /* NULL: inherit */
  size_t n_env;
  char *cwd;                   /* NULL: inherit */
  bool has_user;
  struct mr_user user;
};

struct mr_pin_config
{
  struct mr_pin *init_pins;    /* minirun.pids, or the minirun.pids annotation */
  size_t n_init_pins;
  bool init_pins_from_annotation;
  struct mr_pidns_decl *pid_namespaces;   /* minirun.pidNamespaces, in declaration order */
  size_t n_pid_namespaces;
  struct mr_proc_spec *processes;         /* minirun.processes */
  size_t n_processes;
  bool legacy_ns_last_pid;     /* minirun.legacyNsLastPid: opt-in for kernels without set_tid */
};

/* ---------- the whole config ---------- */

struct mr_config
{
  char *oci_version;
  char *root_path;             /* as written (relative to the bundle or absolute) */
  bool root_readonly;
  bool has_process;
  struct mr_process process;
  char *hostname;
  char *domainname;
  struct mr_mount *mounts;
  size_t n_mounts;
  struct mr_hook *hooks[MR_HOOK_COUNT];
  size_t n_hooks[MR_HOOK_COUNT];
  struct mr_kv *annotations;
  size_t n_annotations;

  /* linux */
  struct mr_namespace namespaces[MR_NS_COUNT];
  struct mr_idmap *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  struct mr_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct mr_resources resources;
  struct mr_kv *sysctl;
  size_t n_sysctl;
  struct mr_net_device *net_devices; /* linux.netDevices, in the config's order */
  size_t n_net_devices;
  struct mr_seccomp seccomp;
  enum mr_propagation rootfs_propagation;
  char **masked_paths;
  size_t n_masked_paths;
  char **readonly_paths;
  size_t n_readonly_paths;
  char *mount_label;
  struct
  {
    bool present;
    int64_t monotonic_secs, boottime_secs;
    uint32_t monotonic_nsecs, boottime_nsecs;
  } time_offsets;
  struct mr_intel_rdt
  {
    bool present;
    char *clos_id;             /* the resctrl group (a directory name); NULL: the container id */
    char *l3_cache_schema;     /* "L3:0=ffff;1=3ff": written to the group's schemata */
    char *mem_bw_schema;       /* "MB:0=70" */
    char **schemata;           /* more schemata lines, written in order */
    size_t n_schemata;
    bool enable_monitoring;    /* a mon_groups/<id> group with the container's tasks */
  } intel_rdt;
  char *personality_domain;    /* "LINUX" / "LINUX32" */
  struct mr_memory_policy      /* linux.memoryPolicy: set_mempolicy(2) in the init's tail */
  {
    bool present;
    int mode;                  /* MPOL_DEFAULT 0 .. MPOL_WEIGHTED_INTERLEAVE 6 */
    unsigned int flags;        /* MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING */
    char *nodes;               /* as written, or NULL */
    bool has_nodes;            /* at least one node listed */
    struct mr_id_list node_set;
  } memory_policy;

  struct mr_pin_config pins;   /* minirun.* */
};

/* Parse a config.json file. `path` names the file in errors:
 * "<path>:<line>:<col>: invalid JSON: ...", "<path>: <json path>: ...".
 * Unknown OCI fields are ignored; unknown keys inside the `minirun`
 * extension are errors (a typo must not silently drop a pin). */
int mr_config_parse_file (const char *path, struct mr_config **out, mr_error_t *err);
/* Parse from memory (used by the fuzzer and unit tests); errors name the source "config.json". */
int mr_config_parse_data (const char *data, size_t len, struct mr_config **out, mr_error_t *err);
/* Parse from memory, naming the source `name` in errors (the launcher reads
 * the file once and keeps the bytes for the state directory). */
int mr_config_parse_named (const char *data, size_t len, const char *name, struct mr_config **out, mr_error_t *err);
void mr_config_free (struct mr_config *config);

/* Parse an OCI process JSON (exec --process FILE), same field rules as `process`. */
/* "SCHED_FIFO" for SCHED_FIFO, "MPOL_BIND" for MPOL_BIND ("?" when unknown). */
const char *mr_sched_policy_name (int policy);
const char *mr_mempolicy_mode_name (int mode);
/* Parse a list like "0-3,7" of `what` ("cpu", "node") ids below
 * MR_ID_LIST_MAX; "" is the empty list (*any false).  path names the field
 * in errors: `<path>: "0-": a range needs its last cpu (like "0-3")`. */
int mr_id_list_parse (const char *text, const char *path, const char *what, struct mr_id_list *out, bool *any,
                      mr_error_t *err);

int mr_process_parse_file (const char *path, struct mr_process **out, mr_error_t *err);
void mr_process_free (struct mr_process *process);

/* Parse a pin list "host=42000,container=1" (annotation and exec --pid syntax).
 * `what` names the source in errors (e.g. "annotation minirun.pids"). */
int mr_pins_parse_string (const char *spec, const char *what, struct mr_pin **out, size_t *n_out,
                          mr_error_t *err);
void mr_pins_free (struct mr_pin *pins, size_t n);

/* The default config `minirun spec` writes (a JSON string, 4-space indent, no
 * trailing newline; caller frees; NULL only if jansson runs out of memory). */
char *mr_config_default_json (bool rootless);

const char *mr_ns_type_name (enum mr_ns_type t);   /* "pid", "network", "mount", ... (OCI names) */

#endif
