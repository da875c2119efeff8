/* security.h: what the container process gets and loses just before exec:
 * rlimits, oom_score_adj, user and groups, capabilities, no_new_privs and the
 * seccomp filter, plus user-namespace id maps (written by the parent).
 *
 * Split in two halves so that every config error surfaces before anything is
 * created and the child does the least work:
 *   - mr_security_prepare() runs in the launcher before clone: it compiles the
 *     seccomp filter (libseccomp) and checks capability/rlimit values.
 *   - mr_security_apply() runs in the container process as the very last step
 *     before execve; its memory is the launcher's, copied by clone. */
#ifndef MINIRUN_SECURITY_H
#define MINIRUN_SECURITY_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

struct mr_security;   /* prepared state: compiled seccomp filter, cap sets */

int mr_security_prepare (const struct mr_process *process, const struct mr_seccomp *seccomp,
                         struct mr_security **out, mr_error_t *err);
void mr_security_free (struct mr_security *sec);

/* In the container process, after the rootfs is final and cwd is set, right
 * before execve.  Order: rlimits, oom_score_adj, (keep caps) setgroups +
 * setresgid + setresuid, umask, bounding set, caps (effective, permitted,
 * inheritable), ambient, no_new_privs, seccomp load (as late as possible).
 * `state_json` is sent with the notify fd to the seccomp listener (may be NULL
 * when the config has no listener). On failure the error names the step. */
int mr_security_apply (const struct mr_security *sec, const struct mr_process *process,
                       const char *state_json, mr_error_t *err);

/* User namespaces (parent side): write /proc/PID/uid_map and gid_map from the
 * config mappings (several ranges), writing "deny" to setgroups first when the
 * caller is unprivileged. */
int mr_userns_write_maps (pid_t pid, const struct mr_config *config, bool rootless, mr_error_t *err);

/* Capability names <-> numbers (libcap): "CAP_SYS_ADMIN" -> 21. -1 if unknown. */
int mr_cap_from_name (const char *name);

#endif
