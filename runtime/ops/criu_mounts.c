/* criu_mounts.c: the container's mounts as CRIU must be told about them.
 *
 * CRIU dumps and restores the mounts a container made itself (proc, tmpfs
 * with its files, sysfs, devpts, mqueue, the binds of /dev/null over masked
 * files, read-only remounts).  A mount whose source lives outside the
 * container is "external": at checkpoint CRIU records only a key (here the
 * mount point inside the container), at restore it binds whatever host path
 * the key maps to.  External here: the config's bind mounts (and what a
 * recursive bind brought along), and the cgroup hierarchies minirun binds
 * into the container's /sys/fs/cgroup (cgroup_mount.c), which at restore are
 * the new container's own cgroup directories.  The init's fds 0-2 that point
 * outside the container (a pipe, a host file, the host's /dev/null) become
 * CRIU keys too: at restore a pipe is replaced by the fd `restore` itself
 * was given, as runc does; a host file is opened again (CRIU checks that a
 * regular file is the same, by size and seek position, so it must be that
 * file); a device or FIFO is restore's own fd when that is one of the same
 * kind, else opened again. */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/criu.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pathsafe.h"
#include "base/utils.h"
#include "ops/criu.h"

/* A mount destination as the container sees it: resolved inside the rootfs
 * (its symlinks followed without leaving it) when it exists there. */
static char *
dest_key (int rootfd, const char *rootfs, const char *dest)
{
  mr_error_t e = NULL;
  char link[64], buf[PATH_MAX];
  cleanup_close int fd = mr_open_in_root (rootfd, dest, O_PATH, 0, &e);
  const char *rest;
  ssize_t n;

  mr_error_free (&e);
  if (fd >= 0)
    {
      (void)snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
      n = readlink (link, buf, sizeof buf - 1);
      if (n > 0)
        {
          buf[n] = '\0';
          if (mr_criu_below (buf, rootfs, &rest))
            return xstrdup (*rest ? rest : "/");
        }
    }
  {
    /* normalised: no repeated or trailing slashes */
    char *out = xstrdup (dest), *o = out;
    for (const char *p = dest; *p; p++)
      if (!(*p == '/' && (p[1] == '/' || p[1] == '\0') && o != out))
        *o++ = *p;
    *o = '\0';
    return out;
  }
}

static int
add_ext (const char *key, const char *val, mr_error_t *err)
{
  int r = criu_add_ext_mount (key, val);
  if (r < 0)
    return mr_error_set (err, -r, "libcriu: add the external mount `%s`", key);
  mr_log_debug ("criu: external mount %s -> %s", key, val);
  return 0;
}

/* The fd's mount is in the container's mount namespace? */
static bool
mount_listed (const struct mr_criu_mnts *m, int id)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].id == id)
      return true;
  return false;
}

static int
stdio_externals (pid_t init, const struct mr_criu_mnts *m, struct mr_criu_record *rec, mr_error_t *err)
{
  for (int fd = 0; fd < 3; fd++)
    {
      char path[64], link[PATH_MAX], *line;
      cleanup_free char *info = NULL;
      mr_error_t e = NULL;
      struct stat st;
      ssize_t n;
      int mnt_id = -1;

      (void)snprintf (path, sizeof path, "/proc/%d/fd/%d", (int)init, fd);
      n = readlink (path, link, sizeof link - 1);
      if (n <= 0 || stat (path, &st) < 0)
        continue; /* closed */
      link[n] = '\0';
      if (strncmp (link, "pipe:", 5) == 0)
        {
          rec->stdio[fd] = xstrdup (link); /* CRIU's key for a pipe: pipe:[inode] */
          continue;
        }
      if (link[0] != '/')
        continue; /* sockets, anon inodes: CRIU's own rules */
      (void)snprintf (path, sizeof path, "/proc/%d/fdinfo/%d", (int)init, fd);
      if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &info, NULL, &e) < 0)
        {
          mr_error_free (&e);
          continue;
        }
      if ((line = strstr (info, "mnt_id:")))
        mnt_id = (int)strtol (line + 7, NULL, 10);
      if (mnt_id < 0 || mount_listed (m, mnt_id))
        continue; /* inside the container: CRIU dumps it */
      rec->stdio[fd] = xasprintf ("file[%x:%llx]", (unsigned)mnt_id, (unsigned long long)st.st_ino);
      rec->stdio_path[fd] = xstrdup (link);
      rec->stdio_type[fd] = st.st_mode & S_IFMT;
      if ((line = strstr (info, "flags:")))
        rec->stdio_flags[fd] = (int)strtol (line + 6, NULL, 8);
      if (criu_add_external (rec->stdio[fd]) < 0)
        return mr_error_set (err, ENOMEM, "libcriu: add the external file %s", rec->stdio[fd]);
      mr_log_debug ("criu: the init's fd %d (%s) is external: %s", fd, link, rec->stdio[fd]);
    }
  return 0;
}

int
mr_criu_dump_externals (pid_t init, const struct mr_config *c, const char *rootfs, struct mr_criu_record *rec,
                        mr_error_t *err)
{
  struct mr_criu_mnts m;
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int ret = 0;

  if (rootfd < 0)
    return mr_error_set (err, errno, "open the rootfs `%s`", rootfs);
  if (mr_criu_mounts_read (init, &m, err) < 0)
    return mr_error_wrap (err, "read the container's mounts");
  for (size_t i = 0; i < c->n_mounts && ret == 0; i++)
    {
      const struct mr_mount *mt = &c->mounts[i];
      bool cg = mt->type && (strcmp (mt->type, "cgroup") == 0 || strcmp (mt->type, "cgroup2") == 0);
      cleanup_free char *key = NULL;
      if (!mt->bind && !cg)
        continue;
      key = dest_key (rootfd, rootfs, mt->destination);
      for (size_t k = 0; k < m.n && ret == 0; k++)
        {
          const char *rest;
          bool is_cg = strcmp (m.v[k].fstype, "cgroup") == 0 || strcmp (m.v[k].fstype, "cgroup2") == 0;
          if (!mr_criu_below (m.v[k].point, key, &rest))
            continue;
          /* a bind and what a recursive bind brought; every cgroup
             hierarchy bind below a cgroup mount (not its tmpfs) */
          if ((mt->bind && (*rest == '\0' || mt->recursive)) || (cg && is_cg))
            ret = add_ext (m.v[k].point, m.v[k].point, err);
        }
    }
  if (ret == 0)
    ret = stdio_externals (init, &m, rec, err);
  mr_criu_mounts_free (&m);
  return ret;
}

/* ---------- restore ---------- */

/* The mount point of a bundle mount in the rootfs CRIU restores into: a
 * directory, or a file for a bind of a file. */
static int
ensure_mountpoint (int rootfd, const struct mr_mount *mt, mr_error_t *err)
{
  struct stat st;
  int fd;
  bool file = mt->bind && mt->source && stat (mt->source, &st) == 0 && !S_ISDIR (st.st_mode);

  fd = file ? mr_mkfile_in_root (rootfd, mt->destination, 0644, err)
            : mr_mkdir_in_root (rootfd, mt->destination, 0755, err);
  if (fd < 0)
    return mr_error_wrap (err, "create the mount point `%s` in the rootfs", mt->destination);
  close (fd);
  return 0;
}

/* Is the destination on one of the bundle's tmpfs mounts (CRIU restores
 * those with their content, mount points included)? */
static bool
on_tmpfs (const struct mr_config *c, const char *dest)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const char *rest;
      if (c->mounts[i].type && strcmp (c->mounts[i].type, "tmpfs") == 0
          && mr_criu_below (dest, c->mounts[i].destination, &rest) && *rest)
        return true;
    }
  return false;
}

int
mr_criu_restore_mounts (const struct mr_config *c, int image_fd, const char *root, const char *cg_path,
                        mr_error_t *err)
{
  struct mr_criu_mnts host;
  cleanup_close int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int ret = 0;

  (void)image_fd;
  if (rootfd < 0)
    return mr_error_set (err, errno, "open `%s`", root);
  if (mr_criu_mounts_read (0, &host, err) < 0)
    return -1;
  for (size_t i = 0; i < c->n_mounts && ret == 0; i++)
    {
      const struct mr_mount *mt = &c->mounts[i];
      bool cg = mt->type && (strcmp (mt->type, "cgroup") == 0 || strcmp (mt->type, "cgroup2") == 0);
      cleanup_free char *key = NULL;

      if (!cg && !on_tmpfs (c, mt->destination) && ensure_mountpoint (rootfd, mt, err) < 0)
        ret = -1;
      if (ret < 0 || (!mt->bind && !cg))
        continue;
      key = dest_key (rootfd, root, mt->destination);
      if (cg)
        {
          if (cg_path)
            ret = mr_criu_cgroup_binds (&host, key, cg_path, err);
          continue;
        }
      if (mt->source == NULL)
        continue;
      ret = add_ext (key, mt->source, err);
      /* what a recursive bind of the source brings along */
      for (size_t k = 0; k < host.n && ret == 0 && mt->recursive; k++)
        {
          const char *rest;
          cleanup_free char *sub = NULL;
          if (mr_criu_below (host.v[k].point, mt->source, &rest) && *rest)
            {
              sub = xasprintf ("%s%s", key, rest);
              ret = add_ext (sub, host.v[k].point, err);
            }
        }
    }
  mr_criu_mounts_free (&host);
  return ret;
}
#endif
