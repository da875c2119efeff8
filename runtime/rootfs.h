/* rootfs.h: the container's filesystem, built in the child inside its new
 * mount namespace.
 *
 * Every path inside the rootfs (mount destinations, device nodes, masked and
 * read-only paths, cwd) is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) (or a component-by-component O_NOFOLLOW walk where
 * openat2 is missing), and mounts are made onto the resolved fd through
 * /proc/self/fd/N, never by re-resolving a path string.  A symlink in the
 * rootfs can therefore never make minirun touch a host path. */
#ifndef MINIRUN_ROOTFS_H
#define MINIRUN_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

struct mr_cgroup;

struct mr_rootfs_opts
{
  const char *rootfs;              /* absolute host path of the rootfs directory */
  bool in_userns;                  /* devices must be bind mounted, not mknod'ed */
  bool in_cgroupns;                /* see mr_cgroup_mount() */
  bool no_pivot;                   /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
  const struct mr_cgroup *cgroup;  /* for mounts of type "cgroup" (may be NULL) */
};

/* Before pivot_root: set propagation (rootfsPropagation, default rprivate
 * for /), bind the rootfs onto itself, make every config mount in order,
 * create /dev (default devices + linux.devices, /dev/fd, stdin/out/err
 * symlinks, /dev/pts, /dev/shm, /dev/ptmx) when /dev is a tmpfs mount or not
 * mounted at all. */
int mr_rootfs_prepare (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err);

/* pivot_root into the rootfs and detach the old root (or MS_MOVE + chroot
 * with no_pivot).  A clear error where pivot_root cannot work (rootfs on a
 * ramfs/initramfs root: use --no-pivot). */
int mr_rootfs_pivot (const struct mr_rootfs_opts *opts, mr_error_t *err);

/* After pivot_root: masked paths (a /dev/null bind for files, a read-only
 * empty tmpfs for directories), read-only paths (bind + remount ro),
 * root.readonly, and the final rootfsPropagation. */
int mr_rootfs_finalize (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err);

/* In-root path resolution (pathsafe.c). Flags as openat(2); O_CLOEXEC added.
 * With O_CREAT the last component is created as a regular file. */
int mr_open_in_root (int rootfd, const char *path, int flags, mode_t mode, mr_error_t *err);
/* mkdir -p inside the root; returns an O_PATH|O_DIRECTORY fd of the last one. */
int mr_mkdir_in_root (int rootfd, const char *path, mode_t mode, mr_error_t *err);

#endif
