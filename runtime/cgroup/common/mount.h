/* common/mount.h: the mount API steps every driver's cgroup view is built
 * from (common/mount.c), all through fds (fsopen/fsmount/open_tree/
 * move_mount), never a re-resolved path inside the rootfs. */
#ifndef MINIRUN_CGROUP_COMMON_MOUNT_H
#define MINIRUN_CGROUP_COMMON_MOUNT_H

#include "minirun/error.h"

/* MS_RDONLY/NOSUID/NODEV/NOEXEC/NODIRATIME/NOATIME -> MOUNT_ATTR_*. */
unsigned int mr_cg_mnt_attr (unsigned long ms_flags);
/* mount_setattr `attr` on the mount fd `mnt` (nothing when attr is 0). */
int mr_cg_mnt_set_attr (int mnt, unsigned int attr, const char *what, mr_error_t *err);
/* Attach the detached mount `mnt` on the directory `to_fd` (consumes mnt). */
int mr_cg_mnt_attach (int mnt, int to_fd, const char *what, mr_error_t *err);
/* A new detached superblock mount of `fstype` with comma-separated `opts`
 * ("mode=755", "cpu,cpuacct"): the mount fd, or -1. */
int mr_cg_mnt_fresh (const char *fstype, const char *opts, unsigned int attr, mr_error_t *err);
/* A detached bind mount of host directory `dir` with `attr`: fd or -1. */
int mr_cg_mnt_bind (const char *dir, unsigned int attr, mr_error_t *err);
/* mkdir `name` in the mount `mnt` (a tmpfs) and return an O_PATH fd of it. */
int mr_cg_mnt_subdir (int mnt, const char *name, mr_error_t *err);

#endif
