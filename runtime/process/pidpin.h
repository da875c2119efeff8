/* pidpin.h: turning a pid plan entry into a process (clone3 set_tid), and
 * explaining the kernel's answer: which namespace refused which number, and
 * why, in the words of the README's "How pins work" (the error messages). */
#ifndef MINIRUN_PIDPIN_H
#define MINIRUN_PIDPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/error.h"
#include "plan/pidplan.h"

#define MR_ANY_EMULATION_TRIES 4096

/* clone3() for plan->procs[proc] with `flags` (namespace flags, CLONE_INTO_CGROUP
 * with cgroup_fd, CLONE_PIDFD is added).  Returns like fork(): 0 in the
 * child, the child's pid (in the caller's namespace) in the parent with
 * *pidfd set, -1 with *err on failure.  "any" levels under a pinned outer
 * level are emulated by trying candidates, skipping EEXIST, bounded.
 * `can_see_host`: the caller lives in the host pid namespace and can read
 * its /proc to say who holds a number. */
pid_t mr_pidpin_clone (const struct mr_pid_plan *plan, size_t proc, uint64_t flags, int cgroup_fd,
                       bool can_see_host, int *pidfd, mr_error_t *err);

/* NSpid of the process behind pidfd, read from /proc/self/fdinfo (outermost
 * first, starting at the reader's procfs namespace). */
int mr_pidpin_read_nspid (int pidfd, pid_t *out, size_t max, size_t *n, mr_error_t *err);

/* Who keeps `pid` in use in the caller's pid namespace: "process 123 (sleep)",
 * "a zombie of process 77", "the process group of process 88 (sh)",
 * "the session of process 99 (bash)"; NULL when nothing visible does. */
char *mr_pidpin_holder (pid_t pid);

/* Can clone3 set_tid be used here?  A probe (clone3 with set_tid_size 1 and
 * no set_tid: EINVAL from a kernel that knows the field, E2BIG or ENOSYS
 * from one that does not or from a seccomp filter), asked once per process;
 * no kernel version is compared. */
bool mr_pidpin_kernel_supported (void);

/* Should this plan pin through /proc/sys/kernel/ns_last_pid?  Only when the
 * config opts in (minirun.legacyNsLastPid) and set_tid is not available, or
 * MINIRUN_FORCE_LEGACY_PINS=1 in the environment (documented in the README:
 * the old-kernel path where set_tid exists) forces it.  Without the opt-in,
 * where set_tid is missing, pins are an error. */
bool mr_pidpin_want_legacy (bool config_opt_in);

#define MR_LEGACY_TRIES 64

/* pid_max of minirun's own pid namespace (MR_PID_MAX_LIMIT if unreadable). */
int64_t mr_pidpin_host_pid_max (void);

/* How many levels below minirun's own pid namespace the one behind nsfd is
 * (0: the same).  `path` names it in errors. */
int mr_pidpin_depth_below_self (int nsfd, const char *path, int *depth, mr_error_t *err);

#endif
