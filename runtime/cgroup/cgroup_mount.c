/* cgroup_mount.c: mr_cgroup_mount, the container's view of /sys/fs/cgroup.
 * On a pure v2 host one cgroup2 mount; on hybrid and legacy hosts a tmpfs
 * holding one mount per v1 hierarchy (named after the host's mount point,
 * with co-mount symlinks such as cpu -> cpu,cpuacct) and, on hybrid, a
 * cgroup2 "unified".  Each hierarchy is a bind mount of the container's own
 * directory, with or without a cgroup namespace: inside a new cgroup
 * namespace (unshared after joining) a fresh cgroup mount would show exactly
 * that directory as its root, and mountinfo shows both as "/", but a fresh v1
 * mount costs the kernel a walk of every cgroup of the default hierarchy
 * (cgroup_lock_and_drain_offline) and of every cgroup superblock (sget), and
 * leaves one more superblock per hierarchy per container that every memory
 * cgroup removal walks again: with 1000 containers, ~1.6 ms per create.
 * Everything goes through fds (fsopen/fsmount/open_tree/move_mount), never
 * through a re-resolved path inside the rootfs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/utils.h"

static unsigned int
ms_to_attr (unsigned long flags)
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

static int
set_attr (int mnt, unsigned int attr, const char *what, mr_error_t *err)
{
  struct mount_attr ma
      = { .attr_set = attr, .attr_clr = (attr & MOUNT_ATTR_NOATIME) ? MOUNT_ATTR__ATIME : 0 };
  if (attr && mount_setattr (mnt, "", AT_EMPTY_PATH, &ma, sizeof ma) < 0)
    return mr_error_set (err, errno, "set the mount flags of %s", what);
  return 0;
}

/* Attach detached mount `mnt` on the directory `to_fd` (consumes mnt). */
static int
attach (int mnt, int to_fd, const char *what, mr_error_t *err)
{
  int ret = move_mount (mnt, "", to_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  close (mnt);
  if (ret < 0)
    return mr_error_set (err, saved, "mount %s", what);
  return 0;
}

/* A new superblock mount of `fstype` with comma-separated `opts` ("cpu,cpuacct",
 * "none,name=systemd", "mode=755"), detached. */
static int
fresh (const char *fstype, const char *opts, unsigned int attr, mr_error_t *err)
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

/* A detached bind mount of host directory `dir` with `attr`. */
static int
bind (const char *dir, unsigned int attr, mr_error_t *err)
{
  int mnt = open_tree (AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (mnt < 0)
    return mr_error_set (err, errno, "open_tree `%s`", dir);
  if (set_attr (mnt, attr, dir, err) < 0)
    {
      close (mnt);
      return -1;
    }
  return mnt;
}

static int
mount_v2 (const struct mr_cgroup *cg, int to_fd, unsigned int attr, mr_error_t *err)
{
  int mnt = bind (cg->v2_dir, attr, err);
  if (mnt < 0)
    return -1;
  return attach (mnt, to_fd, cg->v2_dir, err);
}

/* mkdir name in the tmpfs and return an O_PATH fd of it. */
static int
subdir (int mnt, const char *name, mr_error_t *err)
{
  int fd;
  if (mkdirat (mnt, name, 0755) < 0 && errno != EEXIST)
    return mr_error_set (err, errno, "mkdir `%s` in the cgroup tmpfs", name);
  fd = openat (mnt, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mr_error_set (err, errno, "open `%s` in the cgroup tmpfs", name);
  return fd;
}

static int
mount_v1 (const struct mr_cgroup *cg, int dest_fd, unsigned int attr, mr_error_t *err)
{
  cleanup_close int mnt
      = fresh ("tmpfs", "mode=755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
  int again;

  if (mnt < 0)
    return -1;
  /* keep an fd on the mount root after move_mount hands it over */
  again = dup (mnt);
  if (again < 0)
    return mr_error_set (err, errno, "dup");
  if (attach (again, dest_fd, "the cgroup tmpfs", err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      const struct mr_cg_hier *h = cg->v1[i].h;
      const char *name = strrchr (h->mount, '/') + 1;
      cleanup_close int sub = subdir (mnt, name, err);
      cleanup_free char *ctrls = xstrdup (h->name);
      char *save = NULL;
      int m;
      if (sub < 0)
        return -1;
      m = bind (cg->v1[i].dir, attr, err);
      if (m < 0 || attach (m, sub, name, err) < 0)
        return -1;
      /* co-mounted controllers: cpu -> cpu,cpuacct */
      for (char *t = strtok_r (ctrls, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (strncmp (t, "name=", 5) != 0 && strcmp (t, name) != 0 && symlinkat (name, mnt, t) < 0
            && errno != EEXIST)
          return mr_error_set (err, errno, "symlink `%s` -> `%s` in the cgroup tmpfs", t, name);
    }
  if (cg->host->layout == MR_CGROUP_HYBRID && cg->v2_dir)
    {
      cleanup_close int sub = subdir (mnt, "unified", err);
      if (sub < 0 || mount_v2 (cg, sub, attr, err) < 0)
        return -1;
    }
  return set_attr (mnt, attr, "the cgroup tmpfs", err);
}

int
mr_cgroup_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err)
{
  unsigned int attr = ms_to_attr (flags);
  int ret;
  if (cg->host->layout == MR_CGROUP_UNIFIED)
    ret = mount_v2 (cg, dest_fd, attr, err);
  else
    ret = mount_v1 (cg, dest_fd, attr, err);
  if (ret < 0)
    return mr_error_wrap (err, "mount the cgroup filesystem (cgroup `%s`)", cg->path);
  return 0;
}
