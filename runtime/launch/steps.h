/* steps.h: a container process as a table of named steps.
 *
 * The init (child.c), each process of minirun.processes (tree.c) and a
 * process `minirun exec` adds (exec.c) each list their own steps; one runner
 * runs a table in order, then the tail every one of them shares: fds (only
 * stdio and --preserve-fds survive exec), personality, memoryPolicy,
 * scheduler, ioPriority, execCPUAffinity.final (exec), the final security
 * settings (rlimits, user, capabilities, no_new_privs, seccomp) and execve.
 * The first step that fails is reported to the launcher over the setup
 * channel as (step name, errno, message), and to a waiting `minirun start`,
 * and the process exits 127.  A new step is a function and a line in the
 * table of the process that needs it: its name is what the error says. */
#ifndef MINIRUN_STEPS_H
#define MINIRUN_STEPS_H

#include <stddef.h>
#include <sys/types.h>

#include "launch/plan.h"
#include "launch/tree.h"
#include "minirun/config.h"
#include "minirun/error.h"

enum mr_proc_kind
{
  MR_PROC_INIT, /* the container's init */
  MR_PROC_TREE, /* a process of minirun.processes */
  MR_PROC_EXEC, /* a process `minirun exec` adds */
};

/* One container process on its way to exec: what it reads (the plan, its
 * process) and the little it holds or learns on the way. */
struct mr_proc
{
  const struct mr_init_plan *plan;
  enum mr_proc_kind kind;
  size_t index;                     /* in the pid plan: 0 for the init and exec's process */
  const char *name;                 /* tree: its name in minirun.processes */
  const struct mr_process *process; /* what it runs */
  int sync_fd;                      /* the setup channel */
  int start_conn;                   /* init, create/start: the connection of `minirun start`, else -1 */
  int ready_fd;                     /* tree: the pipe its parent waits on, else -1 */
  int preserve_fds;                 /* 3 .. 3+N-1 stay open across exec */
  char *exe;                        /* init: process.args[0] as found before ready; NULL: found at exec */
  pid_t host_pid;                   /* init: its host pid, when the plan says it needs it */
  struct mr_tree_gate gate;         /* init and tree: the start gate of the tree */
  struct mr_process own;            /* tree: the init's process with the spec's overrides */
};

struct mr_step
{
  const char *name; /* in the error: `container setup step "<name>": ...` */
  int (*run) (struct mr_proc *p, mr_error_t *err);
};

/* Everything but the plan, the kind and the process: fds -1, nothing held. */
void mr_proc_init (struct mr_proc *p, const struct mr_init_plan *plan, enum mr_proc_kind kind,
                   const struct mr_process *process);

/* Run steps[0 .. n-1], then the shared tail; ends in execve or _exit(127). */
void mr_steps_run (struct mr_proc *p, const struct mr_step *steps, size_t n) __attribute__ ((noreturn));

/* Report a failed step (as the runner does) and _exit(127). */
void mr_proc_fail (const struct mr_proc *p, const char *step, mr_error_t *err) __attribute__ ((noreturn));

/* The OCI state the init's hooks and seccomp agent read: the plan's state
 * with the init's host pid (0 when the plan did not ask for it). */
char *mr_proc_state_json (const struct mr_proc *p, enum mr_status status);

/* Steps more than one table uses. */
/* not dumpable (unless a new user namespace still needs its maps), default
 * signals, dies with the launcher */
int mr_step_identity (struct mr_proc *p, mr_error_t *err);
/* oom_score_adj, LSM exec labels (through the host's /proc) */
int mr_step_procfs (struct mr_proc *p, mr_error_t *err);
/* chdir into process.cwd inside the root */
int mr_step_cwd (struct mr_proc *p, mr_error_t *err);
/* drop the parent-death signal unless the plan keeps it (foreground) */
int mr_step_own_life (struct mr_proc *p, mr_error_t *err);

/* Reset every signal disposition to the default, unblock all. */
void mr_proc_reset_signals (void);

#endif
