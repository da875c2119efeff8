/* capture.h: what capture.c (reading /proc) and capture_pins.c (building
 * the pin config fragment) share: the table of a running container's
 * processes.  capture.c fills it from /proc; mr_capture_fragment() turns it
 * into JSON without a syscall, so a table written by hand (a unit test)
 * goes through the same code as a live container's. */
#ifndef MINIRUN_CAPTURE_H
#define MINIRUN_CAPTURE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "minirun/error.h"

#define MR_CAPTURE_MAX_LEVELS 33

/* One process of the container, as /proc shows it. */
struct mr_capture_proc
{
  pid_t pid, ppid;                        /* host pid and its parent's */
  pid_t nspid[MR_CAPTURE_MAX_LEVELS];     /* NSpid: its pid at every level, outermost (host) first */
  size_t n_nspid;
  ino_t ns;                               /* its pid namespace */
  ino_t ns_parent;                        /* that namespace's parent */
  char **argv, **envp;                    /* NULL-terminated */
  char cwd[PATH_MAX];
  const char *name;                       /* its config name from the state, or NULL */
};

/* A process the state recorded: its host pid and the pins it was planned
 * with, innermost first ("inner=1,container=41,host=42000"; NULL or "": none). */
struct mr_capture_planned
{
  pid_t host_pid;
  const char *pins;
};

struct mr_capture_table
{
  const struct mr_capture_proc *procs;
  size_t n_procs;
  pid_t init_pid;                         /* host pid of the init: must be among procs */
  const struct mr_capture_planned *planned;
  size_t n_planned;
};

/* The pin config fragment {"minirun": {"pids", "pidNamespaces", "processes"}}
 * that replays the table (JSON, indented; caller frees).  Namespaces keep
 * the names the config gave them (the innermost name of a planned process's
 * pins); the init's is "container" (or "host" when it has none of its own),
 * others are "ns<N>".  Processes come parents first; one without a name is
 * "pid<N>" (N: its innermost pid).  `id` names the container in errors.
 * NULL with *err when the init is not in the table. */
char *mr_capture_fragment (const struct mr_capture_table *t, const char *id, mr_error_t *err);

#endif
