/* copyup.c: the "tmpcopyup" mount option (crun's; podman uses it): a
 * tmpfs mounted over a directory of the rootfs gets a copy of what that
 * directory held.  The caller opens the directory before the tmpfs covers it
 * (resolved in the root by pathsafe.c) and the tmpfs's root after; the copy
 * walks the old tree with one O_NOFOLLOW fd per directory, by single names
 * from readdir, so a symlink in the image is copied as a symlink and never
 * followed, in or out of the rootfs.  Regular files, directories, symlinks,
 * fifos and device nodes are copied with mode, owner, atime/mtime and
 * extended attributes; what the kernel refuses to give a tmpfs here (an id
 * not mapped in a user namespace, a trusted.* xattr, mknod of a device in a
 * user namespace) is skipped with a debug message.  Hard links become
 * separate files, sockets are skipped, and other mounts below the directory
 * are not entered (their mount points are copied as empty directories). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "rootfs/rootfs_internal.h"

/* Directory levels below the copied directory before we refuse. */
#define MAX_DEPTH 128

struct copy
{
  dev_t dev;           /* the copied directory's filesystem: other mounts are not entered */
  char path[PATH_MAX]; /* the entry being copied, relative to the directory (for messages) */
  size_t len;
  unsigned depth;
};

static bool
skippable (int e)
{
  return e == EPERM || e == EINVAL || e == ENOTSUP || e == EACCES || e == EOVERFLOW;
}

static int
copy_xattrs (struct copy *c, int from, int to, mr_error_t *err)
{
  cleanup_free char *names = NULL, *value = NULL;
  ssize_t len = flistxattr (from, NULL, 0);

  if (len < 0 && (errno == ENOTSUP || errno == EPERM))
    return 0;
  if (len < 0)
    return mr_error_set (err, errno, "list the xattrs of `%s`", c->path);
  if (len == 0)
    return 0;
  names = xmalloc ((size_t)len);
  len = flistxattr (from, names, (size_t)len);
  if (len < 0)
    return mr_error_set (err, errno, "list the xattrs of `%s`", c->path);
  value = xmalloc (XATTR_SIZE_MAX);
  for (char *name = names; name < names + len; name += strlen (name) + 1)
    {
      ssize_t vlen = fgetxattr (from, name, value, XATTR_SIZE_MAX);

      if (vlen < 0 && skippable (errno))
        continue;
      if (vlen < 0)
        return mr_error_set (err, errno, "read xattr %s of `%s`", name, c->path);
      if (fsetxattr (to, name, value, (size_t)vlen, 0) < 0)
        {
          if (!skippable (errno))
            return mr_error_set (err, errno, "set xattr %s on the copy of `%s`", name, c->path);
          mr_log_debug ("tmpcopyup: xattr %s of `%s` not copied: %s", name, c->path, strerror (errno));
        }
    }
  return 0;
}

/* Owner, then mode (chown clears setuid), xattrs, times: of an open copy. */
static int
copy_attrs (struct copy *c, int from, int to, const struct stat *sb, mr_error_t *err)
{
  struct timespec times[2] = { sb->st_atim, sb->st_mtim };

  if (fchown (to, sb->st_uid, sb->st_gid) < 0)
    {
      if (!skippable (errno))
        return mr_error_set (err, errno, "chown the copy of `%s` to %u:%u", c->path, sb->st_uid, sb->st_gid);
      mr_log_debug ("tmpcopyup: the copy of `%s` keeps our owner: chown %u:%u: %s", c->path, sb->st_uid,
                    sb->st_gid, strerror (errno));
    }
  if (fchmod (to, sb->st_mode & 07777) < 0)
    return mr_error_set (err, errno, "chmod the copy of `%s` to %04o", c->path, sb->st_mode & 07777);
  if (from >= 0 && copy_xattrs (c, from, to, err) < 0)
    return -1;
  if (futimens (to, times) < 0)
    return mr_error_set (err, errno, "set the times of the copy of `%s`", c->path);
  return 0;
}

static int
copy_data (struct copy *c, int from, int to, mr_error_t *err)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = read (from, buf, sizeof buf), off = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return mr_error_set (err, errno, "read `%s`", c->path);
      if (n == 0)
        return 0;
      while (off < n)
        {
          ssize_t w = write (to, buf + off, (size_t)(n - off));

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return mr_error_set (err, errno, "write the copy of `%s`%s", c->path,
                                 errno == ENOSPC ? " (the tmpfs is full: raise its size=)" : "");
          off += w;
        }
    }
}

static int copy_dir (struct copy *c, int from, int to, mr_error_t *err);

static int
copy_entry (struct copy *c, int fromdir, int todir, const char *name, mr_error_t *err)
{
  cleanup_close int from = -1, to = -1;
  struct stat sb;

  if (fstatat (fromdir, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
    return mr_error_set (err, errno, "stat `%s`", c->path);
  switch (sb.st_mode & S_IFMT)
    {
    case S_IFREG:
      from = openat (fromdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
      if (from < 0)
        return mr_error_set (err, errno, "open `%s`", c->path);
      to = openat (todir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (to < 0)
        return mr_error_set (err, errno, "create the copy of `%s`", c->path);
      if (copy_data (c, from, to, err) < 0)
        return -1;
      return copy_attrs (c, from, to, &sb, err);
    case S_IFDIR:
      from = openat (fromdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (from < 0)
        return mr_error_set (err, errno, "open directory `%s`", c->path);
      if (mkdirat (todir, name, 0700) < 0)
        return mr_error_set (err, errno, "create the copy of directory `%s`", c->path);
      to = openat (todir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (to < 0)
        return mr_error_set (err, errno, "open the copy of directory `%s`", c->path);
      if (sb.st_dev != c->dev)
        mr_log_debug ("tmpcopyup: `%s` is another mount: copied as an empty directory", c->path);
      else if (copy_dir (c, from, to, err) < 0)
        return -1;
      return copy_attrs (c, from, to, &sb, err);
    case S_IFLNK:
      {
        char target[PATH_MAX];
        ssize_t n = readlinkat (fromdir, name, target, sizeof target);
        struct timespec times[2] = { sb.st_atim, sb.st_mtim };

        if (n < 0)
          return mr_error_set (err, errno, "readlink `%s`", c->path);
        if ((size_t)n >= sizeof target)
          return mr_error_set (err, ENAMETOOLONG, "readlink `%s`", c->path);
        target[n] = '\0';
        if (symlinkat (target, todir, name) < 0)
          return mr_error_set (err, errno, "create the copy of symlink `%s`", c->path);
        if (fchownat (todir, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && !skippable (errno))
          return mr_error_set (err, errno, "chown the copy of symlink `%s`", c->path);
        if (utimensat (todir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
          return mr_error_set (err, errno, "set the times of the copy of symlink `%s`", c->path);
        return 0;
      }
    case S_IFIFO:
    case S_IFCHR:
    case S_IFBLK:
      if (mknodat (todir, name, sb.st_mode & (S_IFMT | 0600), sb.st_rdev) < 0)
        {
          if (errno == EPERM && !S_ISFIFO (sb.st_mode))
            {
              mr_log_debug ("tmpcopyup: device node `%s` (%u:%u) not copied: mknod: %s", c->path,
                            major (sb.st_rdev), minor (sb.st_rdev), strerror (errno));
              return 0;
            }
          return mr_error_set (err, errno, "mknod the copy of `%s`", c->path);
        }
      /* by name (opening a fifo or a device node is not ours to do): it is
         the node we just made, in a directory only we have written to */
      {
        struct timespec times[2] = { sb.st_atim, sb.st_mtim };

        if (fchownat (todir, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && !skippable (errno))
          return mr_error_set (err, errno, "chown the copy of `%s`", c->path);
        if (fchmodat (todir, name, sb.st_mode & 07777, 0) < 0)
          return mr_error_set (err, errno, "chmod the copy of `%s`", c->path);
        if (utimensat (todir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
          return mr_error_set (err, errno, "set the times of the copy of `%s`", c->path);
      }
      return 0;
    default:
      mr_log_debug ("tmpcopyup: `%s` is a socket: not copied", c->path);
      return 0;
    }
}

static int
copy_dir (struct copy *c, int from, int to, mr_error_t *err)
{
  int dfd;
  DIR *d;
  struct dirent *de;
  size_t base = c->len;
  int ret = 0;

  if (++c->depth > MAX_DEPTH)
    return mr_error_set (err, ELOOP, "`%s`: more than %d directory levels", c->path, MAX_DEPTH);
  dfd = openat (from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return mr_error_set (err, errno, "open directory `%s`", c->len ? c->path : ".");
  d = fdopendir (dfd);
  if (d == NULL)
    {
      int saved = errno;
      close (dfd);
      return mr_error_set (err, saved, "read directory `%s`", c->len ? c->path : ".");
    }
  for (errno = 0; ret == 0 && (de = readdir (d)) != NULL; errno = 0)
    {
      size_t n = strlen (de->d_name);

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (base + (base ? 1 : 0) + n >= sizeof c->path)
        {
          ret = mr_error_set (err, ENAMETOOLONG, "`%s/%s`: path too long", c->path, de->d_name);
          break;
        }
      c->len
          = base
            + (size_t)snprintf (c->path + base, sizeof c->path - base, "%s%s", base ? "/" : "", de->d_name);
      ret = copy_entry (c, from, to, de->d_name, err);
      c->len = base;
      c->path[base] = '\0';
    }
  if (ret == 0 && errno != 0)
    ret = mr_error_set (err, errno, "read directory `%s`", c->len ? c->path : ".");
  closedir (d);
  c->depth--;
  return ret;
}

/* Does the tmpfs data set `key`= ("mode", "uid", "gid")? */
static bool
data_sets (const char *data, const char *key)
{
  size_t n = strlen (key);

  for (const char *p = data; p != NULL && *p; p = strchr (p, ','), p = p ? p + 1 : NULL)
    if (strncmp (p, key, n) == 0 && p[n] == '=')
      return true;
  return false;
}

int
mr_tmpcopyup (int from, int to, const char *data, mr_error_t *err)
{
  struct copy *c = xcalloc (1, sizeof *c);
  struct stat sb;
  int ret = -1;

  if (fstat (from, &sb) < 0)
    {
      mr_error_set (err, errno, "stat the directory underneath");
      goto out;
    }
  c->dev = sb.st_dev;
  if (copy_dir (c, from, to, err) < 0)
    goto out;
  /* the tmpfs's root: as the directory was, unless the options say */
  if (!data_sets (data, "uid") && !data_sets (data, "gid") && fchown (to, sb.st_uid, sb.st_gid) < 0
      && !skippable (errno))
    {
      mr_error_set (err, errno, "chown the tmpfs to %u:%u", sb.st_uid, sb.st_gid);
      goto out;
    }
  if (!data_sets (data, "mode") && fchmod (to, sb.st_mode & 07777) < 0)
    {
      mr_error_set (err, errno, "chmod the tmpfs to %04o", sb.st_mode & 07777);
      goto out;
    }
  ret = copy_xattrs (c, from, to, err);
out:
  free (c);
  return ret;
}
