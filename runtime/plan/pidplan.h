/* pidplan.h: the pid-pinning plan, pure data.
 *
 * From the config's pins (minirun.pids / the minirun.pids annotation,
 * minirun.pidNamespaces, minirun.processes) and a description of the pid
 * namespaces the launcher will use, build:
 *   - the named pid namespaces with their nesting depth and pid_max,
 *   - the processes in creation order (parents before children), each with
 *     the set_tid array clone3() needs (innermost level first).
 * Every static error (unknown name, non-ancestor namespace, range, first
 * process of a new namespace not 1, duplicate pin, cycle, depth, a pin a
 * process inside a new user namespace could never get) is found
 * here, before anything is created.  No syscalls. */
#ifndef MINIRUN_PIDPLAN_H
#define MINIRUN_PIDPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

#define MR_MAX_PID_LEVELS 32
#define MR_PID_MAX_LIMIT 4194304      /* PID_MAX_LIMIT on 64-bit: a fresh namespace's pid_max */

/* How the launcher will set up the container's pid namespace. */
enum mr_container_pidns
{
  MR_PIDNS_SHARED,    /* no pid namespace in the config: "container" is "host" */
  MR_PIDNS_NEW,       /* a new one: depth 1 below host */
  MR_PIDNS_JOINED,    /* linux.namespaces[pid].path: depth joined_depth below host */
};

struct mr_pidplan_env
{
  enum mr_container_pidns container;
  int joined_depth;            /* MR_PIDNS_JOINED: levels between host and the joined ns (>= 1) */
  int64_t host_pid_max;        /* /proc/sys/kernel/pid_max of the host namespace */
  int64_t joined_pid_max;      /* pid_max of a joined namespace (MR_PID_MAX_LIMIT if unknown) */
  bool host_pins_denied;       /* the caller has neither CAP_SYS_ADMIN nor CAP_CHECKPOINT_RESTORE:
                                  no pin in its own pid namespace ("host") can be honoured */
};

struct mr_plan_ns
{
  const char *name;            /* borrowed from the config or a literal */
  int parent;                  /* index in plan->ns, -1 for host */
  int depth;                   /* levels below host (host 0) */
  int64_t pid_max;
  bool is_new;                 /* created by the container (its first process is pid 1 there) */
  int creator;                 /* process index that creates it, -1 if none */
};

struct mr_plan_proc
{
  const char *name;            /* "init" or minirun.processes[].name */
  int spec;                    /* index in config->pins.processes, -1 for init */
  int parent;                  /* process index, -1 for init (the launcher creates it) */
  int ns;                      /* index of its own pid namespace in plan->ns */
  bool new_pidns;              /* created with CLONE_NEWPID */
  size_t set_tid_size;         /* 0: nothing pinned, the kernel picks */
  pid_t set_tid[MR_MAX_PID_LEVELS];  /* innermost first; 0 = "any" that must be emulated */
  int level_ns[MR_MAX_PID_LEVELS];   /* ns index of each set_tid entry */
  bool explicit_pin[MR_MAX_PID_LEVELS]; /* the config named this number (not derived) */
  bool needs_any_emulation;    /* an "any" sits under a pinned outer level in a joined ns */
};

struct mr_pid_plan
{
  struct mr_plan_ns *ns;       /* host, container, then the declared ones */
  size_t n_ns;
  struct mr_plan_proc *procs;  /* creation order: procs[0] is the init */
  size_t n_procs;
  bool any_pins;               /* any process has set_tid_size > 0 */
  bool pins_host;              /* some pin is in the host namespace */
  bool use_legacy;             /* pin through ns_last_pid instead of set_tid (set by the launcher) */
};

int mr_pidplan_build (const struct mr_config *config, const struct mr_pidplan_env *env,
                      struct mr_pid_plan **out, mr_error_t *err);
void mr_pidplan_free (struct mr_pid_plan *plan);

int mr_pidplan_ns_index (const struct mr_pid_plan *plan, const char *name);

/* Compare what the kernel gave (NSpid from /proc fdinfo: outermost first,
 * starting at the caller's own level) with the plan; error names the level. */
int mr_pidplan_verify (const struct mr_pid_plan *plan, size_t proc, const pid_t *nspid, size_t n,
                       mr_error_t *err);

/* The pin list of a process in "name=pid,..." form for messages and state. */
char *mr_pidplan_describe (const struct mr_pid_plan *plan, size_t proc);

#endif
