/* security.h: what the container process gets and loses just before exec:
 * rlimits, oom_score_adj, AppArmor/SELinux exec labels, user and groups,
 * capabilities, no_new_privs and the seccomp filter, plus user-namespace id
 * maps (written by the parent).
 *
 * Split in two halves so that every config error surfaces before anything is
 * created and the child does the least work:
 *   - mr_security_prepare() runs in the launcher before clone: it compiles the
 *     seccomp filter (libseccomp) and checks capability/rlimit/LSM values.
 *   - mr_security_apply() runs in the container process as the very last step
 *     before execve; its memory is the launcher's, copied by clone.
 *
 * Semantics (following runc):
 *   - process.capabilities absent (has_capabilities false): capabilities are
 *     left as they are (no bounding-set drop, no capset).  A non-root user
 *     then loses them at execve as usual.
 *   - capabilities above cap_max_bits() (unknown to this kernel) are ignored
 *     with a warning; effective must be within permitted, ambient within
 *     permitted and inheritable, inheritable within bounding: else an error.
 *   - process.user.umask absent: 0022.  additionalGids are always set
 *     (an empty list clears the runtime's groups) unless setgroups is denied
 *     in the user namespace: then an empty list is fine and a non-empty one
 *     is an error.
 *   - apparmorProfile / selinuxLabel on a host without that LSM: an error in
 *     prepare (runc fails too, later, when writing /proc/self/attr/...).
 *   - seccomp: unknown syscall names skipped with a warning; rules whose
 *     action is the default action dropped; conditions on the same argument
 *     index added as separate rules (OR), otherwise one ANDed rule.
 *
 * Order inside apply (each step's error names it):
 *   1. procfs writes (mr_security_apply_procfs): oom_score_adj, AppArmor
 *      "exec" profile, SELinux exec label;
 *   2. rlimits (while still privileged: raising needs CAP_SYS_RESOURCE);
 *   3. no_new_privs if process.noNewPrivileges;
 *   4. seccomp load NOW if noNewPrivileges is false (loading then needs
 *      CAP_SYS_ADMIN, which is dropped below; the filter must allow the
 *      following syscalls: setgroups, setresgid, setresuid, capset, prctl);
 *   5. bounding set (needs CAP_SETPCAP effective, so before the uid change);
 *   6. PR_SET_KEEPCAPS, setgroups, setresgid, setresuid, keep-caps off;
 *   7. umask;
 *   8. effective/permitted/inheritable, then ambient (cleared and raised);
 *   9. seccomp load if noNewPrivileges is true (as late as possible).
 *   A SCMP_ACT_NOTIFY filter's fd is sent to the listener right after its
 *   load, then closed. */
#ifndef MINIRUN_SECURITY_H
#define MINIRUN_SECURITY_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

struct mr_security; /* prepared state: compiled seccomp filter, cap sets */

/* `seccomp` may be NULL (or !present): no filter. */
int mr_security_prepare (const struct mr_process *process, const struct mr_seccomp *seccomp,
                         struct mr_security **out, mr_error_t *err);
/* Frees the filter and closes a pre-connected listener socket (the launcher's
 * copy; call it after clone). NULL is fine. */
void mr_security_free (struct mr_security *sec);

/* Optional, launcher side, right before clone: connect to
 * linux.seccomp.listenerPath now, in the launcher's mount namespace, so the
 * container process (which inherits the socket) need not reach the path
 * after pivot_root.  One connection serves one apply: call it again (after a
 * new prepare) for every process that applies the filter.  No-op when the
 * filter has no SCMP_ACT_NOTIFY rule. */
int mr_security_listener_connect (struct mr_security *sec, mr_error_t *err);

/* In the container process, after the rootfs is final and cwd is set, right
 * before execve: mr_security_apply_procfs (process, -1) then
 * mr_security_apply_final.  Needs /proc mounted at /proc only when
 * process.oomScoreAdj, apparmorProfile or selinuxLabel are set; otherwise it
 * touches no file at all unless the seccomp listener must be connected.
 * `state_json` (the OCI state object) is sent with the notify fd to the
 * seccomp listener; NULL sends a minimal {ociVersion, status, pid}.
 * On failure the error names the step. */
int mr_security_apply (const struct mr_security *sec, const struct mr_process *process,
                       const char *state_json, mr_error_t *err);

/* The two halves of mr_security_apply, for a container without /proc:
 * call mr_security_apply_procfs in the container process before pivot_root
 * (its effects persist until execve), mr_security_apply_final right before
 * execve.  proc_dirfd: a procfs directory fd whose "self" is the caller, or
 * -1 for "/proc". */
int mr_security_apply_procfs (const struct mr_process *process, int proc_dirfd, mr_error_t *err);
int mr_security_apply_final (const struct mr_security *sec, const struct mr_process *process,
                             const char *state_json, mr_error_t *err);

/* Keep compiled seccomp programs in <state_root>/.seccomp-cache (NULL: no
 * cache).  Set before mr_security_prepare. */
void mr_seccomp_cache_set_dir (const char *state_root);

/* Capability names <-> numbers (libcap): "CAP_SYS_ADMIN" -> 21. -1 if unknown. */
int mr_cap_from_name (const char *name);
/* Is `cap` in the caller's effective set (libcap)? */
bool mr_cap_effective (int cap);

#endif
