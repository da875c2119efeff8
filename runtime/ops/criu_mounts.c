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

struct mnt
{
  int id;
  char *root, *point, *fstype, *super;
};

struct mnts
{
  struct mnt *v;
  size_t n;
  char *data;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void
unescape (char *s)
{
  char *o = s;
  for (; *s; s++)
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
      {
        *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
        s += 3;
      }
    else
      *o++ = *s;
  *o = '\0';
}

static int
mounts_read (pid_t pid, struct mnts *m, mr_error_t *err)
{
  char path[64];
  size_t cap = 0;
  char *save = NULL;

  memset (m, 0, sizeof *m);
  if (pid > 0)
    snprintf (path, sizeof path, "/proc/%d/mountinfo", (int) pid);
  else
    snprintf (path, sizeof path, "/proc/self/mountinfo");
  if (mr_read_file_at (AT_FDCWD, path, 16 << 20, &m->data, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r (m->data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[6], *sep = strstr (line, " - "), *s2 = NULL, *p;
      int k = 0;
      if (sep == NULL)
        continue;
      *sep = '\0';
      for (p = strtok_r (line, " ", &s2); p && k < 6; p = strtok_r (NULL, " ", &s2))
        f[k++] = p;
      if (k < 5)
        continue;
      if (m->n == cap)
        m->v = xrealloc (m->v, (cap = cap ? cap * 2 : 64) * sizeof *m->v);
      m->v[m->n].id = atoi (f[0]);
      m->v[m->n].root = f[3];
      m->v[m->n].point = f[4];
      unescape (f[3]);
      unescape (f[4]);
      s2 = NULL;
      m->v[m->n].fstype = strtok_r (sep + 3, " ", &s2);
      strtok_r (NULL, " ", &s2); /* source */
      m->v[m->n].super = strtok_r (NULL, " ", &s2);
      if (m->v[m->n].fstype == NULL)
        continue;
      if (m->v[m->n].super == NULL)
        m->v[m->n].super = (char *) "";
      m->n++;
    }
  return 0;
}

static void
mounts_free (struct mnts *m)
{
  free (m->v);
  free (m->data);
}

/* Is `path` `dir` or below it?  *rest: what follows (""/"/x"). */
static bool
below (const char *path, const char *dir, const char **rest)
{
  size_t n = strlen (dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  if (n == 1 && dir[0] == '/')
    n = 0;
  if (strncmp (path, dir, n) != 0 || (path[n] != '/' && path[n] != '\0'))
    return false;
  if (rest)
    *rest = path + n;
  return true;
}

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
      snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
      n = readlink (link, buf, sizeof buf - 1);
      if (n > 0)
        {
          buf[n] = '\0';
          if (below (buf, rootfs, &rest))
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
mount_listed (const struct mnts *m, int id)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].id == id)
      return true;
  return false;
}

static int
stdio_externals (pid_t init, const struct mnts *m, struct mr_criu_record *rec, mr_error_t *err)
{
  for (int fd = 0; fd < 3; fd++)
    {
      char path[64], link[PATH_MAX], *line;
      cleanup_free char *info = NULL;
      mr_error_t e = NULL;
      struct stat st;
      ssize_t n;
      int mnt_id = -1;

      snprintf (path, sizeof path, "/proc/%d/fd/%d", (int) init, fd);
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
      snprintf (path, sizeof path, "/proc/%d/fdinfo/%d", (int) init, fd);
      if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &info, NULL, &e) < 0)
        {
          mr_error_free (&e);
          continue;
        }
      if ((line = strstr (info, "mnt_id:")))
        mnt_id = atoi (line + 7);
      if (mnt_id < 0 || mount_listed (m, mnt_id))
        continue; /* inside the container: CRIU dumps it */
      rec->stdio[fd] = xasprintf ("file[%x:%llx]", (unsigned) mnt_id, (unsigned long long) st.st_ino);
      rec->stdio_path[fd] = xstrdup (link);
      rec->stdio_type[fd] = st.st_mode & S_IFMT;
      if ((line = strstr (info, "flags:")))
        rec->stdio_flags[fd] = (int) strtol (line + 6, NULL, 8);
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
  struct mnts m;
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int ret = 0;

  if (rootfd < 0)
    return mr_error_set (err, errno, "open the rootfs `%s`", rootfs);
  if (mounts_read (init, &m, err) < 0)
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
          if (!below (m.v[k].point, key, &rest))
            continue;
          /* a bind and what a recursive bind brought; every cgroup
             hierarchy bind below a cgroup mount (not its tmpfs) */
          if ((mt->bind && (*rest == '\0' || mt->recursive)) || (cg && is_cg))
            ret = add_ext (m.v[k].point, m.v[k].point, err);
        }
    }
  if (ret == 0)
    ret = stdio_externals (init, &m, rec, err);
  mounts_free (&m);
  return ret;
}

/* ---------- cgroup directories ---------- */

/* The host's cgroup hierarchies are the ones mounted at /sys/fs/cgroup or
 * directly below it (as cgroup_detect.c finds them). */
static bool
host_cgroup_mount (const struct mnt *m)
{
  const char *rest;
  bool v1 = strcmp (m->fstype, "cgroup") == 0, v2 = strcmp (m->fstype, "cgroup2") == 0;
  if (!(v1 || v2) || !below (m->point, "/sys/fs/cgroup", &rest))
    return false;
  return (*rest == '\0' && v2) || (*rest == '/' && strchr (rest + 1, '/') == NULL);
}

/* Does the v1 controller list `ctrls` ("cpu,cpuacct", "name=systemd") name
 * this mount's hierarchy (its super options)? */
static bool
same_hierarchy (const char *ctrls, const char *super)
{
  cleanup_free char *copy = xstrdup (ctrls);
  char *save = NULL;
  size_t found = 0;
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    {
      const char *p = super;
      size_t l = strlen (t);
      bool hit = false;
      while ((p = strstr (p, t)) != NULL)
        {
          if ((p == super || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
            {
              hit = true;
              break;
            }
          p += l;
        }
      if (!hit)
        return false;
      found++;
    }
  return found > 0;
}

/* The host directory of cgroup `cg_path` (absolute in the hierarchy, or
 * relative to our own cgroup there, as mr_cgroup_path_for says) in the
 * hierarchy named `ctrls` ("" for cgroup2). */
static char *
cgroup_dir (const struct mnts *host, const char *ctrls, const char *cg_path)
{
  cleanup_free char *self = NULL, *own = NULL;
  mr_error_t e = NULL;
  char *save = NULL;
  const struct mnt *mp = NULL;
  cleanup_free char *path = NULL;
  const char *rest;

  for (size_t i = 0; i < host->n && mp == NULL; i++)
    {
      bool v2 = strcmp (host->v[i].fstype, "cgroup2") == 0;
      if (!host_cgroup_mount (&host->v[i]))
        continue;
      if (*ctrls == '\0' ? v2 : (strcmp (host->v[i].fstype, "cgroup") == 0 && same_hierarchy (ctrls, host->v[i].super)))
        mp = &host->v[i];
    }
  if (mp == NULL)
    return NULL;
  if (cg_path[0] != '/')
    {
      if (mr_read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &self, NULL, &e) < 0)
        {
          mr_error_free (&e);
          return NULL;
        }
      for (char *line = strtok_r (self, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
        {
          char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
          if (c2 == NULL)
            continue;
          *c2 = '\0';
          if (*ctrls == '\0' ? c1[1] == '\0' : strcmp (c1 + 1, ctrls) == 0)
            own = xstrdup (c2 + 1);
        }
      if (own == NULL)
        return NULL;
      path = xasprintf ("%s/%s", strcmp (own, "/") == 0 ? "" : own, cg_path);
    }
  else
    path = xstrdup (cg_path);
  if (!below (path, mp->root, &rest))
    return NULL;
  return xasprintf ("%s%s", mp->point, rest);
}

char *
mr_criu_freezer_dir (pid_t init, mr_error_t *err)
{
  char file[64], *save = NULL;
  cleanup_free char *data = NULL, *v1 = NULL, *v2 = NULL;
  struct mnts host;
  char *dir = NULL;

  snprintf (file, sizeof file, "/proc/%d/cgroup", (int) init);
  if (mr_read_file_at (AT_FDCWD, file, 1 << 16, &data, NULL, err) < 0)
    return NULL;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL)
        continue;
      *c2 = '\0';
      if (c1[1] == '\0')
        v2 = xstrdup (c2 + 1);
      else if (same_hierarchy ("freezer", c1 + 1))
        v1 = xstrdup (c2 + 1);
    }
  if (mounts_read (0, &host, err) < 0)
    return NULL;
  /* the init's view of its cgroup, from the host: absolute paths */
  if (v1)
    dir = cgroup_dir (&host, "freezer", v1);
  if (dir == NULL && v2)
    dir = cgroup_dir (&host, "", v2);
  mounts_free (&host);
  if (dir == NULL)
    mr_error_set (err, ENOENT, "no freezer cgroup for process %d", (int) init);
  return dir;
}

/* ---------- restore ---------- */

/* The cgroup hierarchies the container's cgroup mount at `dest` shows, as
 * cgroup_mount.c lays them out: on v1 one subdirectory per hierarchy named
 * after its host mount point (+ "unified" on hybrid hosts); on a pure v2
 * host the mount itself. */
static int
restore_cgroup_binds (const struct mnts *host, const char *key, const char *cg_path, mr_error_t *err)
{
  bool any_v1 = false;

  for (size_t i = 0; i < host->n; i++)
    if (strcmp (host->v[i].fstype, "cgroup") == 0)
      any_v1 = true;
  for (size_t i = 0; i < host->n; i++)
    {
      const struct mnt *mp = &host->v[i];
      const char *base = strrchr (mp->point, '/');
      bool v2 = strcmp (mp->fstype, "cgroup2") == 0;
      cleanup_free char *ctrls = NULL, *dir = NULL, *k = NULL;
      if (!host_cgroup_mount (mp))
        continue;
      if (v2)
        ctrls = xstrdup ("");
      else
        {
          /* the hierarchy's controllers from its super options */
          cleanup_free char *copy = xstrdup (mp->super);
          char *save = NULL;
          FILE *f;
          size_t len = 0;
          f = open_memstream (&ctrls, &len);
          if (f == NULL)
            return mr_error_set (err, errno, "open_memstream");
          for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
            if (strcmp (t, "rw") && strcmp (t, "ro") && strcmp (t, "xattr") && strncmp (t, "release_agent", 13)
                && strcmp (t, "clone_children") && strcmp (t, "noprefix") && strcmp (t, "cpuset_v2_mode")
                && strcmp (t, "favordynmods"))
              fprintf (f, "%s%s", ftell (f) ? "," : "", t);
          fclose (f);
        }
      dir = cgroup_dir (host, ctrls, cg_path);
      if (dir == NULL || base == NULL)
        continue;
      if (v2)
        k = any_v1 ? xasprintf ("%s/unified", key) : xstrdup (key);
      else
        k = xasprintf ("%s%s", key, base);
      if (add_ext (k, dir, err) < 0)
        return -1;
    }
  return 0;
}

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
      if (c->mounts[i].type && strcmp (c->mounts[i].type, "tmpfs") == 0 && below (dest, c->mounts[i].destination, &rest)
          && *rest)
        return true;
    }
  return false;
}

int
mr_criu_restore_mounts (const struct mr_config *c, int image_fd, const char *root, const char *cg_path,
                        mr_error_t *err)
{
  struct mnts host;
  cleanup_close int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int ret = 0;

  (void) image_fd;
  if (rootfd < 0)
    return mr_error_set (err, errno, "open `%s`", root);
  if (mounts_read (0, &host, err) < 0)
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
            ret = restore_cgroup_binds (&host, key, cg_path, err);
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
          if (below (host.v[k].point, mt->source, &rest) && *rest)
            {
              sub = xasprintf ("%s%s", key, rest);
              ret = add_ext (sub, host.v[k].point, err);
            }
        }
    }
  mounts_free (&host);
  return ret;
}
/* CRIU's cgroup roots: the checkpointed container's cgroup tree goes below
 * the new container's cgroup in every hierarchy. */
int
mr_criu_cg_roots (const char *cg_path, mr_error_t *err)
{
  cleanup_free char *self = NULL;
  char *save = NULL;
  int r;

  if (cg_path[0] == '/')
    {
      r = criu_add_cg_root (NULL, cg_path);
      return r < 0 ? mr_error_set (err, -r, "libcriu: add the cgroup root `%s`", cg_path) : 0;
    }
  /* relative to minirun's own cgroup, which differs per hierarchy */
  if (mr_read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &self, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r (self, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      cleanup_free char *path = NULL;
      const char *ctrl;
      if (c2 == NULL)
        continue;
      *c2 = '\0';
      ctrl = strncmp (c1 + 1, "name=", 5) == 0 ? c1 + 6 : c1 + 1;
      path = xasprintf ("%s/%s", strcmp (c2 + 1, "/") == 0 ? "" : c2 + 1, cg_path);
      r = criu_add_cg_root (*ctrl ? ctrl : NULL, path);
      if (r < 0)
        return mr_error_set (err, -r, "libcriu: add the cgroup root `%s`", path);
    }
  return 0;
}
#endif
