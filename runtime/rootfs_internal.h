/* rootfs_internal.h: what rootfs.c, mounts.c, devices.c and pathsafe.c share
 * (and what their unit tests reach into): the component walk behind the
 * in-root resolution, fd-based mount paths, one OCI mount, /dev setup, and
 * small MS_* flag helpers.  Not a public interface. */
#ifndef MINIRUN_ROOTFS_INTERNAL_H
#define MINIRUN_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"
#include "rootfs.h"

/* ---------- pathsafe.c ---------- */

/* Symlinks followed in one resolution before ELOOP (as the kernel's MAXSYMLINKS). */
#define MR_MAX_SYMLINKS 40

/* `how` bits for mr_walk_in_root(). */
#define MR_WALK_MKDIR_PARENTS 1 /* create missing intermediate directories (0755) */
#define MR_WALK_MKDIR 2         /* create the last component as a directory (`mode`) */
#define MR_WALK_MKFILE 4        /* create the last component as an empty regular file (`mode`) */

/* The openat2-free resolution: one component at a time with O_NOFOLLOW,
 * symlinks expanded by hand inside the root (at most MR_MAX_SYMLINKS, ".."
 * never above the root), /proc magic links refused with ELOOP.  `flags` as
 * openat(2) for the last component (O_CLOEXEC added). */
int mr_walk_in_root (int rootfd, const char *path, int flags, mode_t mode, int how, mr_error_t *err);

/* O_PATH fd of `path` in the root; when missing, create it as an empty
 * regular file (mode) and its parents as directories (0755).  An existing
 * object of any type is returned as is. */
int mr_mkfile_in_root (int rootfd, const char *path, mode_t mode, mr_error_t *err);

/* Testing hook: pretend openat2 is missing (ENOSYS) so that every
 * resolution takes the mr_walk_in_root() path. */
extern bool mr_pathsafe_force_walk;

/* "/a//b/" == "/a/b": compare two absolute paths ignoring repeated and
 * trailing slashes (and "." components). */
bool mr_path_equal (const char *a, const char *b);

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

/* Make config->mounts[index] inside the root at rootfd.  `drop` is cleared
 * from the mount's flags (prepare defers MS_RDONLY of /dev until the device
 * nodes exist).  Errors name the mount: "mounts[3] (/proc, type proc, ...)". */
int mr_mount_one (int rootfd, const struct mr_config *config, size_t index, const struct mr_rootfs_opts *opts,
                  unsigned long drop, mr_error_t *err);

/* ---------- devices.c ---------- */

/* True unless the config bind mounts something (the host's /dev) at /dev. */
bool mr_rootfs_needs_dev (const struct mr_config *config);
/* /dev/pts and /dev/shm when the config lacks them, default devices,
 * linux.devices, /dev/fd & co symlinks, /dev/ptmx.  Before pivot_root. */
int mr_rootfs_setup_dev (int rootfd, const struct mr_config *config, const struct mr_rootfs_opts *opts,
                         mr_error_t *err);

#endif
