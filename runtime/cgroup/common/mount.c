/* common/mount.c: the steps of a container's view of /sys/fs/cgroup, shared
 * by the drivers (v1/mount.c builds the tmpfs of hierarchies, v2 binds its
 * directory, hybrid puts the second inside the first): MS_* to
 * MOUNT_ATTR_*, a fresh superblock (fsopen/fsconfig/fsmount), a bind
 * (open_tree), setting attributes and attaching (move_mount), all on fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/common/mount.h"
#include "base/cleanup.h"
#include "base/utils.h"

unsigned int
mr_cg_mnt_attr (unsigned long flags)
{
  unsigned int a = 0;
  a |= flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0;
  a |= flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0;
  a |= flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0;
  a |= flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0;
  a |= flags & MS_NODIRATIME ? MOUNT_ATTR_NODIRATIME : 0;
  a |= flags & MS_NOATIME ? MOUNT_ATTR_NOATIME : 0;
  return a;
}

int
mr_cg_mnt_set_attr (int mnt, unsigned int attr, const char *what, mr_error_t *err)
{
  struct mount_attr ma
      = { .attr_set = attr, .attr_clr = (attr & MOUNT_ATTR_NOATIME) ? MOUNT_ATTR__ATIME : 0 };
  if (attr && mount_setattr (mnt, "", AT_EMPTY_PATH, &ma, sizeof ma) < 0)
    return mr_error_set (err, errno, "set the mount flags of %s", what);
  return 0;
}

int
mr_cg_mnt_attach (int mnt, int to_fd, const char *what, mr_error_t *err)
{
  int ret = move_mount (mnt, "", to_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  close (mnt);
  if (ret < 0)
    return mr_error_set (err, saved, "mount %s", what);
  return 0;
}

int
mr_cg_mnt_fresh (const char *fstype, const char *opts, unsigned int attr, mr_error_t *err)
{
  cleanup_close int fs = fsopen (fstype, FSOPEN_CLOEXEC);
  cleanup_free char *copy = xstrdup (opts ? opts : "");
  char *save = NULL;
  int mnt;

  if (fs < 0)
    return mr_error_set (err, errno, "fsopen `%s`", fstype);
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (t, '=');
      int r;
      if (eq)
        *eq = '\0';
      r = eq ? fsconfig (fs, FSCONFIG_SET_STRING, t, eq + 1, 0)
             : fsconfig (fs, FSCONFIG_SET_FLAG, t, NULL, 0);
      if (eq)
        *eq = '=';
      if (r < 0)
        return mr_error_set (err, errno, "%s mount option `%s`", fstype, t);
    }
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      int saved = errno;
      char log[256] = "";
      ssize_t n = read (fs, log, sizeof log - 1); /* the kernel's reason, if it gave one */
      log[n > 0 ? n : 0] = '\0';
      log[strcspn (log, "\n")] = '\0';
      return mr_error_set (err, saved, "create a %s mount (%s)%s%s", fstype, opts ? opts : "",
                           *log ? ": " : "", log);
    }
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, attr);
  if (mnt < 0)
    return mr_error_set (err, errno, "fsmount %s", fstype);
  return mnt;
}

int
mr_cg_mnt_bind (const char *dir, unsigned int attr, mr_error_t *err)
{
  int mnt = open_tree (AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (mnt < 0)
    return mr_error_set (err, errno, "open_tree `%s`", dir);
  if (mr_cg_mnt_set_attr (mnt, attr, dir, err) < 0)
    {
      close (mnt);
      return -1;
    }
  return mnt;
}

int
mr_cg_mnt_subdir (int mnt, const char *name, mr_error_t *err)
{
  int fd;
  if (mkdirat (mnt, name, 0755) < 0 && errno != EEXIST)
    return mr_error_set (err, errno, "mkdir `%s` in the cgroup tmpfs", name);
  fd = openat (mnt, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mr_error_set (err, errno, "open `%s` in the cgroup tmpfs", name);
  return fd;
}
