/* criu_cgroup.c: the cgroup side of a checkpoint and a restore: the
 * freezer CRIU stops the container with, the host directories of the new
 * container's cgroup that the restored /sys/fs/cgroup binds (minirun binds
 * the container's own cgroup directories there, cgroup_mount.c, and CRIU
 * sees them as external mounts), and CRIU's cgroup roots (where the image's
 * cgroups go).  Paths come from the host's mountinfo and /proc/<pid>/cgroup,
 * read from the host's cgroup namespace (absolute in each hierarchy). */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/criu.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "cgroup/cgroup.h"
#include "ops/criu.h"

/* ---------- cgroup directories ---------- */

/* The host's cgroup hierarchies are the ones mounted at /sys/fs/cgroup or
 * directly below it (as cgroup_detect.c finds them). */
static bool
host_cgroup_mount (const struct mr_criu_mnt *m)
{
  const char *rest;
  bool v1 = strcmp (m->fstype, "cgroup") == 0, v2 = strcmp (m->fstype, "cgroup2") == 0;
  if (!(v1 || v2) || !mr_criu_below (m->point, "/sys/fs/cgroup", &rest))
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
cgroup_dir (const struct mr_criu_mnts *host, const char *ctrls, const char *cg_path)
{
  cleanup_free char *self = NULL, *own = NULL;
  mr_error_t e = NULL;
  char *save = NULL;
  const struct mr_criu_mnt *mp = NULL;
  cleanup_free char *path = NULL;
  const char *rest;

  for (size_t i = 0; i < host->n && mp == NULL; i++)
    {
      bool v2 = strcmp (host->v[i].fstype, "cgroup2") == 0;
      if (!host_cgroup_mount (&host->v[i]))
        continue;
      if (*ctrls == '\0'
              ? v2
              : (strcmp (host->v[i].fstype, "cgroup") == 0 && same_hierarchy (ctrls, host->v[i].super)))
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
  if (!mr_criu_below (path, mp->root, &rest))
    return NULL;
  return xasprintf ("%s%s", mp->point, rest);
}

char *
mr_criu_freezer_dir (pid_t init, mr_error_t *err)
{
  char file[64], *save = NULL;
  cleanup_free char *data = NULL, *v1 = NULL, *v2 = NULL;
  struct mr_criu_mnts host;
  char *dir = NULL;

  (void)snprintf (file, sizeof file, "/proc/%d/cgroup", (int)init);
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
  if (mr_criu_mounts_read (0, &host, err) < 0)
    return NULL;
  /* the init's view of its cgroup, from the host: absolute paths */
  if (v1)
    dir = cgroup_dir (&host, "freezer", v1);
  if (dir == NULL && v2)
    dir = cgroup_dir (&host, "", v2);
  mr_criu_mounts_free (&host);
  if (dir == NULL)
    mr_error_set (err, ENOENT, "no freezer cgroup for process %d", (int)init);
  return dir;
}

/* A cgroup v1 super option that is not a controller. */
static bool
generic_option (const char *t)
{
  static const char *const generic[]
      = { "rw", "ro", "xattr", "clone_children", "noprefix", "cpuset_v2_mode", "favordynmods", NULL };
  if (strncmp (t, "release_agent", 13) == 0)
    return true;
  for (size_t i = 0; generic[i]; i++)
    if (strcmp (t, generic[i]) == 0)
      return true;
  return false;
}

/* The cgroup hierarchies the container's cgroup mount at `dest` shows, as
 * cgroup_mount.c lays them out: on v1 one subdirectory per hierarchy named
 * after its host mount point (+ "unified" on hybrid hosts); on a pure v2
 * host the mount itself. */
int
mr_criu_cgroup_binds (const struct mr_criu_mnts *host, const char *key, const char *cg_path, mr_error_t *err)
{
  bool any_v1 = false;

  for (size_t i = 0; i < host->n; i++)
    if (strcmp (host->v[i].fstype, "cgroup") == 0)
      any_v1 = true;
  for (size_t i = 0; i < host->n; i++)
    {
      const struct mr_criu_mnt *mp = &host->v[i];
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
            if (!generic_option (t))
              fprintf (f, "%s%s", ftell (f) ? "," : "", t);
          (void)fclose (f);
        }
      dir = cgroup_dir (host, ctrls, cg_path);
      if (dir == NULL || base == NULL)
        continue;
      if (v2)
        k = any_v1 ? xasprintf ("%s/unified", key) : xstrdup (key);
      else
        k = xasprintf ("%s%s", key, base);
      if (criu_add_ext_mount (k, dir) < 0)
        return mr_error_set (err, ENOMEM, "libcriu: add the external mount `%s`", k);
      mr_log_debug ("criu: external mount %s -> %s", k, dir);
    }
  return 0;
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
/* --manage-cgroups-mode ignore: CRIU leaves the restored processes in the
 * cgroups of whoever forked them, so minirun restores from inside the
 * container's cgroup (as runc puts `criu swrk` there) and leaves it after. */
int
mr_criu_cgroup_enter_self (const struct mr_cgroup *cg, char **saved, mr_error_t *err)
{
  if (mr_read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 16, saved, NULL, err) < 0)
    return mr_error_wrap (err, "remember minirun's own cgroups");
  if (mr_cgroup_enter_pid (cg, getpid (), err) < 0)
    return mr_error_wrap (err,
                          "enter the container's cgroup to restore into it (--manage-cgroups-mode ignore)");
  return 0;
}

int
mr_criu_cgroup_leave_self (char *saved, mr_error_t *err)
{
  struct mr_criu_mnts host;
  char *save = NULL, pid[24];
  int ret = 0;

  if (saved == NULL)
    return 0;
  if (mr_criu_mounts_read (0, &host, err) < 0)
    return -1;
  (void)snprintf (pid, sizeof pid, "%d", (int)getpid ());
  for (char *line = strtok_r (saved, "\n", &save); line && ret == 0; line = strtok_r (NULL, "\n", &save))
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      cleanup_free char *dir = NULL, *procs = NULL;
      if (c2 == NULL)
        continue;
      *c2 = '\0';
      dir = cgroup_dir (&host, c1 + 1, c2 + 1);
      if (dir == NULL)
        continue; /* a hierarchy minirun does not use */
      procs = xasprintf ("%s/cgroup.procs", dir);
      if (mr_write_file_at (AT_FDCWD, procs, pid, strlen (pid), err) < 0)
        ret = mr_error_wrap (err, "go back to minirun's own cgroup `%s`", dir);
    }
  mr_criu_mounts_free (&host);
  return ret;
}
#endif
