/* ns.h: the namespace room, what the launcher does to a namespace besides
 * creating it: the user namespace's id maps (written by the parent), the
 * namespaced sysctls (validated on the host, written in the container) and
 * the loopback interface of a new network namespace (rtnetlink through
 * libmnl; SIOCSIFFLAGS in the static build), and linux.netDevices moved
 * into the container's network namespace from the host. */
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

/* linux.netDevices (netdev.c), on the host side.  validate: before anything
 * exists, every interface is on the host and a network namespace joined by
 * path (net_fd >= 0, else -1) is not the runtime's own.  move_in: move each
 * one into the namespace netns_fd (held open by *moves from then on), renamed,
 * with its permanent global addresses, and up; *moves says what was moved,
 * also when it fails.  move_back: undo that for a create that failed (each
 * device back under its host name, with its addresses and up state; problems
 * are warnings).  mr_netdev_built_in is false in the static build. */
struct mr_netdev_moves;
extern const bool mr_netdev_built_in;
int mr_netdev_validate (const struct mr_config *config, int net_fd, mr_error_t *err);
int mr_netdev_move_in (const struct mr_config *config, int netns_fd, struct mr_netdev_moves **moves,
                       mr_error_t *err);
void mr_netdev_move_back (struct mr_netdev_moves *moves);
void mr_netdev_moves_free (struct mr_netdev_moves *moves);

#endif
