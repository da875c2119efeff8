/* rootfs.h: the container's filesystem, built in the child inside its new
 * mount namespace.
 *
 * Every path inside the rootfs (mount destinations, device nodes, masked and
 * read-only paths, cwd) is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) (or a component-by-component O_NOFOLLOW walk where
 * openat2 is missing), and mounts are made onto the resolved fd through
 * /proc/self/fd/N, never by re-resolving a path string.  A symlink in the
 * rootfs can therefore never make minirun touch a host path.
 *
 * Caller contract (the container's init, before exec):
 *  - runs as (namespaced) root with CAP_SYS_ADMIN in its own, NEW mount
 *    namespace (fds opened before unshare/clone walk the old namespace's
 *    mount tree: open nothing here ahead of time), already inside the new
 *    pid namespace if it mounts procfs, and after joining/creating the user,
 *    cgroup and net namespaces (mounts of proc/sysfs/cgroup are checked
 *    against them);
 *  - the host's /proc is mounted (prepare uses /proc/self/fd);
 *  - calls prepare, then pivot, then finalize, in that order (hooks may run
 *    between prepare and pivot; sysctl writes may go between pivot and
 *    finalize, before /proc/sys turns read-only);
 *  - single-threaded: prepare sets the umask to 0 around mknod.
 * No fd is left open between or after the calls.  The cwd is not changed by
 * prepare; after pivot and after finalize it is "/" of the container.
 * process.cwd is created (mkdir -p in the root) by prepare; entering it is
 * the caller's job.
 *
 * Policies: "/" gets rootfsPropagation before anything is mounted (default
 * rprivate, as crun; runc uses rslave) and again at the end of finalize; a
 * bind remount keeps the source mount's ro/nosuid/nodev/noexec/atime flags
 * unless the config clears them ("rw", "suid", "dev", "exec", an atime
 * option); /dev is populated only when it is a tmpfs (or other non-bind)
 * mount or not mounted at all (a bind of the host's /dev is left as is, as in
 * runc); a read-only /dev is remounted read-only only after the nodes exist;
 * a "cgroup" mount without opts->cgroup works only on a pure cgroup v2 host
 * (a cgroup2 mount), elsewhere it is an error; a sysfs mount refused with
 * EPERM in a user namespace falls back to an rbind of the host's /sys. */
#ifndef MINIRUN_ROOTFS_H
#define MINIRUN_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"
#include "base/pathsafe.h"

struct mr_cgroup;

/* The idmapped mounts the launcher made (mr_rootfs_idmap_open): fds[i] is a
 * detached mount for config->mounts[i], or -1. */
struct mr_idmapped_mounts
{
  size_t n;
  int fds[];
};

struct mr_rootfs_opts
{
  const char *rootfs;             /* absolute host path of the rootfs directory */
  bool in_userns;                 /* devices must be bind mounted, not mknod'ed */
  bool no_pivot;                  /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
  bool shared_mount_ns;           /* no mount namespace of its own: mounts go under the rootfs
                                   * bind the launcher made (mr_rootfs_shared_bind), chroot */
  const struct mr_cgroup *cgroup; /* for mounts of type "cgroup" (may be NULL) */
  const char *bundle;             /* relative bind sources are relative to it (NULL: to the cwd) */
  const struct mr_idmapped_mounts *idmapped; /* from mr_rootfs_idmap_open (NULL: none); prepare
                                              * attaches them and closes every fd, even on error */
};

/* Before pivot_root: set propagation (rootfsPropagation, default rprivate
 * for /), bind the rootfs onto itself, make every config mount in order,
 * create /dev (default devices + linux.devices, /dev/fd, stdin/out/err
 * symlinks, /dev/pts, /dev/shm, /dev/ptmx) when /dev is a tmpfs mount or not
 * mounted at all, create process.cwd.  Errors name the config entry:
 * "mounts[3] (/proc, type proc, source proc): mount (flags ...): <errno>". */
int mr_rootfs_prepare (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err);

/* Host side, before the init is cloned (it inherits the fds): for every
 * mount with an idmapping (mr_mount.idmap), a detached mount with
 * MOUNT_ATTR_IDMAP of a user namespace that has the mount's mappings (a
 * short-lived helper process's, reaped before this returns), or of
 * `userns_fd` (the container's joined user namespace, -1 if none) when the
 * mount takes the container's.  A bind source is open_tree(OPEN_TREE_CLONE)d
 * (AT_RECURSIVE for rbind; the mapping on every mount of it for "ridmap"); any
 * other type is a new filesystem (fsopen/fsconfig/fsmount with the mount's
 * data).  *out is NULL when no mount is idmapped.  The filesystem must
 * support idmapped mounts (ext4, xfs, btrfs, tmpfs, overlayfs, ...): EINVAL
 * says so.  Errors name the mount; nothing is left open. */
int mr_rootfs_idmap_open (const struct mr_config *config, const char *bundle, int userns_fd,
                          struct mr_idmapped_mounts **out, mr_error_t *err);
/* Close what is left open and free; *p becomes NULL. */
void mr_rootfs_idmap_free (struct mr_idmapped_mounts **p);

/* Without a mount namespace of the container's own (none in
 * linux.namespaces: the spec says it is the runtime's), the container's mounts
 * are made in the runtime's mount namespace.  So that they change nothing
 * outside the rootfs and all go at delete, the launcher binds the rootfs onto
 * itself first (recursive, then private, so that nothing mounted inside it
 * propagates back to its source), records the bind's mount id in the state
 * directory (rootfs.mount: the id and the path), and the container mounts
 * inside it.  unbind detaches that bind, and everything mounted inside it, if
 * it is still the topmost mount at that path with that id; without a record
 * there is nothing to do. */
int mr_rootfs_shared_bind (const char *rootfs, int state_dirfd, mr_error_t *err);
int mr_rootfs_shared_unbind (int state_dirfd, mr_error_t *err);

/* pivot_root into the rootfs and detach the old root (or MS_MOVE + chroot
 * with no_pivot).  A clear error where pivot_root cannot work (rootfs on a
 * ramfs/initramfs root: use --no-pivot). */
int mr_rootfs_pivot (const struct mr_rootfs_opts *opts, mr_error_t *err);

/* After pivot_root: read-only paths (bind + remount ro, keeping
 * nosuid/nodev/noexec), masked paths (a /dev/null bind for files, a
 * read-only empty tmpfs for directories; missing ones are skipped), then
 * root.readonly and the final rootfsPropagation.  Masked and read-only paths
 * that exist need a procfs at the container's /proc (checked: f_type), and
 * masking a file needs /dev/null to be the char device 1:3 (not a symlink or
 * file from the image). */
int mr_rootfs_finalize (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err);

/* Whether this host enforces SELinux labels (selinuxfs mounted at
 * /sys/fs/selinux): linux.mountLabel is applied only then (mounts.c). */
bool mr_selinux_enabled (void);

#endif
