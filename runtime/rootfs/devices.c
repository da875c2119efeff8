/* devices.c: the container's /dev, built before pivot_root when /dev is a
 * tmpfs (or not mounted at all; a bind of the host's /dev is left alone):
 * devpts at /dev/pts (newinstance,ptmxmode=0666,mode=0620) and a 64 MiB
 * tmpfs at /dev/shm when the config mounts none there, the default devices
 * (null, zero, full, random, urandom, tty; 0666), linux.devices (mode, uid,
 * gid; parent directories created in the root), the /dev/fd, stdin, stdout,
 * stderr (and core, when the host has /proc/kcore) symlinks, and /dev/ptmx ->
 * pts/ptmx.  Nodes are mknod'ed on the parent directory's fd; in a user
 * namespace (or where mknod is refused) the host's node is bind mounted onto
 * an empty file instead, and nothing is chmod'ed or chown'ed then (that would
 * change the host's node).  Whatever already exists at a path (a mount, a
 * node from the image, a config device) is kept as it is. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "base/utils.h"

struct devnode
{
  const char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major, minor;
  mode_t mode;
  bool has_uid, has_gid;
  uid_t uid;
  gid_t gid;
};

static const struct devnode default_devices[] = {
  { "/dev/null", 'c', 1, 3, 0666, false, false, 0, 0 },
  { "/dev/zero", 'c', 1, 5, 0666, false, false, 0, 0 },
  { "/dev/full", 'c', 1, 7, 0666, false, false, 0, 0 },
  { "/dev/random", 'c', 1, 8, 0666, false, false, 0, 0 },
  { "/dev/urandom", 'c', 1, 9, 0666, false, false, 0, 0 },
  { "/dev/tty", 'c', 5, 0, 0666, false, false, 0, 0 },
};

static const char *const dev_symlinks[][2] = {
  { "fd", "/proc/self/fd" },
  { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" },
  { "stderr", "/proc/self/fd/2" },
};

static bool
has_mount_at (const struct mr_config *config, const char *path)
{
  for (size_t i = 0; i < config->n_mounts; i++)
    if (config->mounts[i].destination != NULL && mr_path_equal (config->mounts[i].destination, path))
      return true;
  return false;
}

static bool
has_device_at (const struct mr_config *config, const char *path)
{
  for (size_t i = 0; i < config->n_devices; i++)
    if (config->devices[i].path != NULL && mr_path_equal (config->devices[i].path, path))
      return true;
  return false;
}

bool
mr_rootfs_needs_dev (const struct mr_config *config)
{
  bool needs = true;

  /* The last mount at /dev is the one that shows. */
  for (size_t i = 0; i < config->n_mounts; i++)
    {
      const struct mr_mount *m = &config->mounts[i];
      if (m->destination != NULL && mr_path_equal (m->destination, "/dev"))
        needs = !(m->bind || (m->type != NULL && strcmp (m->type, "bind") == 0));
    }
  return needs;
}

/* Split "/dev/net/tun" into a parent fd (created in the root) and "tun". */
static int
open_parent (int rootfd, const char *path, const char **base, mr_error_t *err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash;

  /* Trailing slashes make no sense for a node; refuse them with the name. */
  slash = strrchr (dir, '/');
  if (slash == NULL || slash[1] == '\0' || strcmp (slash + 1, ".") == 0 || strcmp (slash + 1, "..") == 0)
    return mr_error_set (err, 0, "`%s` is not a valid device path (absolute, naming a file)", path);
  *base = path + (slash + 1 - dir);
  if (slash == dir)
    slash[1] = '\0';
  else
    *slash = '\0';
  return mr_mkdir_in_root (rootfd, dir, 0755, err);
}

static int
bind_host_node (int parentfd, const char *base, const struct devnode *d, mr_error_t *err)
{
  cleanup_close int fd = -1;
  struct mr_fdpath fp;
  struct stat sb;

  if (mknodat (parentfd, base, S_IFREG | 0644, 0) < 0)
    {
      if (errno == EEXIST)
        return 0;
      return mr_error_set (err, errno, "create the mount point for `%s`", d->path);
    }
  fd = openat (parentfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &sb) < 0)
    return mr_error_set (err, errno, "open the mount point for `%s`", d->path);
  if (!S_ISREG (sb.st_mode))
    return mr_error_set (err, 0, "`%s` changed while it was created", d->path);
  if (mount (d->path, mr_fdpath (&fp, MR_HOST_FDPREFIX, fd), NULL, MS_BIND, NULL) < 0)
    return mr_error_set (err, errno, "bind mount the host's `%s` (no mknod in a user namespace)", d->path);
  return 0;
}

static int
create_node (int rootfd, const struct devnode *d, bool in_userns, mr_error_t *err)
{
  cleanup_close int parentfd = -1;
  const char *base = NULL;
  mode_t fmt;
  mode_t old_umask;
  int r;

  switch (d->type)
    {
    case 'c':
    case 'u':
      fmt = S_IFCHR;
      break;
    case 'b':
      fmt = S_IFBLK;
      break;
    case 'p':
      fmt = S_IFIFO;
      break;
    default:
      return mr_error_set (err, 0, "`%s`: unknown device type '%c' (expected c, b, u or p)", d->path,
                           d->type);
    }
  if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
    return mr_error_set (err, 0, "`%s`: device number %lld:%lld out of range", d->path, (long long)d->major,
                         (long long)d->minor);

  parentfd = open_parent (rootfd, d->path, &base, err);
  if (parentfd < 0)
    return -1;

  if (in_userns && fmt != S_IFIFO)
    return bind_host_node (parentfd, base, d, err);

  /* The mode is exactly what the config says: no umask. */
  old_umask = umask (0);
  r = mknodat (parentfd, base, fmt | (d->mode & 07777),
               fmt == S_IFIFO ? 0 : makedev ((unsigned int)d->major, (unsigned int)d->minor));
  umask (old_umask);
  if (r < 0)
    {
      if (errno == EEXIST)
        return 0;
      if (errno == EPERM && fmt != S_IFIFO)
        return bind_host_node (parentfd, base, d, err);
      return mr_error_set (err, errno, "mknod `%s` (%c %lld:%lld)", d->path, d->type, (long long)d->major,
                           (long long)d->minor);
    }
  if ((d->has_uid || d->has_gid)
      && fchownat (parentfd, base, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
                   AT_SYMLINK_NOFOLLOW)
             < 0)
    return mr_error_set (err, errno, "chown `%s`", d->path);
  return 0;
}

static int
mount_default (int rootfd, const char *dest, const char *type, unsigned long flags, const char *data,
               mr_error_t *err)
{
  cleanup_close int fd = mr_mkdir_in_root (rootfd, dest, 0755, err);
  struct mr_fdpath fp;

  if (fd < 0)
    return mr_error_wrap (err, "default mount %s", dest);
  if (mount (type, mr_fdpath (&fp, MR_HOST_FDPREFIX, fd), type, flags, data) < 0)
    return mr_error_set (err, errno, "default mount %s (type %s, %s)", dest, type, data);
  return 0;
}

static int
setup_ptmx (int rootfd, int devfd, const struct mr_config *config, mr_error_t *err)
{
  cleanup_close int ptsfd = -1;
  struct statfs sfs;

  if (has_device_at (config, "/dev/ptmx") || has_mount_at (config, "/dev/ptmx"))
    return 0;
  ptsfd = mr_open_in_root (rootfd, "/dev/pts", O_PATH | O_DIRECTORY, 0, err);
  if (ptsfd < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return mr_error_wrap (err, "/dev/ptmx");
      mr_error_free (err);
      return 0;
    }
  if (fstatfs (ptsfd, &sfs) < 0)
    return mr_error_set (err, errno, "statfs /dev/pts");
  if (sfs.f_type != DEVPTS_SUPER_MAGIC)
    return 0;
  if (unlinkat (devfd, "ptmx", 0) < 0 && errno != ENOENT)
    return mr_error_set (err, errno, "remove /dev/ptmx to replace it with a symlink to pts/ptmx");
  if (symlinkat ("pts/ptmx", devfd, "ptmx") < 0)
    return mr_error_set (err, errno, "symlink /dev/ptmx -> pts/ptmx");
  return 0;
}

int
mr_rootfs_setup_dev (int rootfd, const struct mr_config *config, const struct mr_rootfs_opts *opts,
                     mr_error_t *err)
{
  cleanup_close int devfd = -1;

  if (!has_mount_at (config, "/dev/pts")
      && mount_default (rootfd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                        "newinstance,ptmxmode=0666,mode=0620", err)
             < 0)
    return -1;
  if (!has_mount_at (config, "/dev/shm")
      && mount_default (rootfd, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "mode=1777,size=65536k", err)
             < 0)
    return -1;

  for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
    {
      if (has_device_at (config, default_devices[i].path))
        continue;
      if (create_node (rootfd, &default_devices[i], opts->in_userns, err) < 0)
        return mr_error_wrap (err, "default device");
    }
  for (size_t i = 0; i < config->n_devices; i++)
    {
      const struct mr_device *cd = &config->devices[i];
      struct devnode d = {
        .path = cd->path,
        .type = cd->type,
        .major = cd->major,
        .minor = cd->minor,
        .mode = cd->has_file_mode ? cd->file_mode : 0666,
        .has_uid = cd->has_uid,
        .has_gid = cd->has_gid,
        .uid = cd->uid,
        .gid = cd->gid,
      };
      if (cd->path == NULL || cd->path[0] != '/')
        return mr_error_set (err, 0, "linux.devices[%zu].path: must be an absolute path", i);
      if (create_node (rootfd, &d, opts->in_userns, err) < 0)
        return mr_error_wrap (err, "linux.devices[%zu]", i);
    }

  devfd = mr_mkdir_in_root (rootfd, "/dev", 0755, err);
  if (devfd < 0)
    return -1;
  for (size_t i = 0; i < sizeof dev_symlinks / sizeof dev_symlinks[0]; i++)
    if (symlinkat (dev_symlinks[i][1], devfd, dev_symlinks[i][0]) < 0 && errno != EEXIST)
      return mr_error_set (err, errno, "symlink /dev/%s -> %s", dev_symlinks[i][0], dev_symlinks[i][1]);
  /* Like runc: /dev/core only where the kernel has /proc/kcore. */
  if (access ("/proc/kcore", F_OK) == 0 && symlinkat ("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
    return mr_error_set (err, errno, "symlink /dev/core -> /proc/kcore");
  return setup_ptmx (rootfd, devfd, config, err);
}
