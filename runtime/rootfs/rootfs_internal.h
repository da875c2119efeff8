/* rootfs_internal.h: what the files of runtime/rootfs/ share (and what
 * their unit tests reach into): fd-based mount paths, one OCI mount, /dev setup, and
 * small MS_* flag helpers.  Not a public interface. */
#ifndef MINIRUN_ROOTFS_INTERNAL_H
#define MINIRUN_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"
#include "base/pathsafe.h"
#include "rootfs/rootfs.h"

/* ---------- mounts.c ---------- */

/* A path that names `fd` for mount(2): "<prefix><fd>".  Before pivot_root the
 * prefix is "/proc/self/fd/" (the host's procfs); afterwards it is
 * "self/fd/" relative to a verified container procfs the caller fchdir'ed to. */
struct mr_fdpath
{
  char buf[64];
};
const char *mr_fdpath (struct mr_fdpath *p, const char *prefix, int fd);

#define MR_HOST_FDPREFIX "/proc/self/fd/"

/* MS_* propagation flags for a propagation value (0 for MR_PROP_NONE). */
unsigned long mr_propagation_flags (enum mr_propagation p);
const char *mr_propagation_name (enum mr_propagation p);
/* "ro,nosuid,nodev" for the MS_* bits set (unknown bits as hex). Returns buf. */
const char *mr_mount_flags_str (unsigned long flags, char *buf, size_t len);
/* MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RDONLY and the atime flags of the mount
 * that holds fd (fstatvfs), as MS_* bits. */
int mr_mount_flags_of (int fd, unsigned long *out);

/* linux.mountLabel: the mount data with the
 * label as a context= option first, for a mount of `type` that takes one
 * (not proc, sysfs, cgroup, cgroup2 or binds, whose files keep their own
 * labels).  NULL when nothing is to be added.  Caller frees. */
char *mr_mount_data_labeled (const char *type, const char *data, const char *label);

/* Make config->mounts[index] inside the root at rootfd.  `drop` is cleared
 * from the mount's flags (prepare defers MS_RDONLY of /dev until the device
 * nodes exist).  Errors name the mount: "mounts[3] (/proc, type proc, ...)". */
int mr_mount_one (int rootfd, const struct mr_config *config, size_t index, const struct mr_rootfs_opts *opts,
                  unsigned long drop, mr_error_t *err);

/* ---------- copyup.c ---------- */

/* tmpcopyup: copy the tree under the directory `from` into the directory
 * `to` (both O_RDONLY|O_DIRECTORY): files, directories, symlinks, fifos and
 * device nodes with their modes, owners, times and xattrs where the kernel
 * lets us; the tree is walked with O_NOFOLLOW fds, never by path, and does
 * not cross into other mounts.  `to` itself gets `from`'s mode and owner
 * unless `data` (the tmpfs options) sets mode=, uid= or gid=. */
int mr_tmpcopyup (int from, int to, const char *data, mr_error_t *err);

/* ---------- devices.c ---------- */

/* True unless the config bind mounts something (the host's /dev) at /dev. */
bool mr_rootfs_needs_dev (const struct mr_config *config);
/* /dev/pts and /dev/shm when the config lacks them, default devices,
 * linux.devices, /dev/fd & co symlinks, /dev/ptmx.  Before pivot_root. */
int mr_rootfs_setup_dev (int rootfd, const struct mr_config *config, const struct mr_rootfs_opts *opts,
                         mr_error_t *err);

#endif
