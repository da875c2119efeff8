/* ns.h: the namespace room, what the launcher does to a namespace besides
 * creating it: the user namespace's id maps (written by the parent), the
 * namespaced sysctls (validated on the host, written in the container) and
 * the loopback interface of a new network namespace (rtnetlink through
 * libmnl; SIOCSIFFLAGS in the static build). */
#ifndef MINIRUN_NS_H
#define MINIRUN_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

/* User namespaces (parent side): write /proc/PID/uid_map and gid_map from the
 * config mappings (several ranges), writing "deny" to setgroups first when the
 * caller is unprivileged. */
int mr_userns_write_maps (pid_t pid, const struct mr_config *config, bool rootless, mr_error_t *err);
/* One map: `file` "uid_map" or "gid_map" of PID, `what` names the mappings in
 * errors ("mounts[2].uidMappings"); nothing is written for n == 0. */
int mr_userns_write_map (pid_t pid, const char *file, const char *what, const struct mr_idmap *m, size_t n,
                         bool rootless, mr_error_t *err);

/* linux.sysctl: refuse keys that are not namespaced (or whose namespace the
 * container does not have: new_ns), write the others (in the container). */
int mr_sysctl_validate (const struct mr_config *config, const bool new_ns[MR_NS_COUNT], mr_error_t *err);
int mr_sysctl_apply (const struct mr_config *config, mr_error_t *err);

/* Bring the loopback interface of the caller's network namespace up. */
int mr_netlink_loopback_up (mr_error_t *err);

#endif
