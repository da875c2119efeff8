/* cgroup.c: the cgroup interface (cgroup.h) over the v1 and v2 drivers.
 * Owns the container's directories in every hierarchy: path rules, opening,
 * creation with rollback (v1 cpuset initialisation, v2 subtree_control),
 * joining, removal, and the freeze/kill/pids dispatch.  Layout detection is
 * in cgroup_detect.c, the resource dispatch in cgroup_apply.c, statistics
 * and OOM counts in cgroup_stats.c, the file helpers in cgroup_util.c; the
 * controller files are written by cgroup_v1.c and cgroup_v2.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

/* ---------- paths ---------- */

char *
mr_cgroup_path_for (const char *cgroups_path, const char *id)
{
  if (cgroups_path && *cgroups_path)
    return xstrdup (cgroups_path);
  return xasprintf ("/minirun/%s", id);
}

/* Collapse "//", drop trailing "/", refuse "." and ".." components and the root. */
static int
normalise (const char *path, char **out, mr_error_t *err)
{
  char *r = xcalloc (1, strlen (path) + 2), *w = r;
  const char *p = path;
  if (*p == '/')
    *w++ = '/';
  while (*p)
    {
      size_t l;
      while (*p == '/')
        p++;
      l = strcspn (p, "/");
      if (l == 0)
        break;
      if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
        {
          free (r);
          return mr_error_set (err, 0, "cgroupsPath `%s`: `.` and `..` components are not allowed", path);
        }
      if (w > r && w[-1] != '/')
        *w++ = '/';
      memcpy (w, p, l);
      w += l;
      p += l;
    }
  if (w == r || (w == r + 1 && r[0] == '/'))
    {
      free (r);
      return mr_error_set (err, 0, "cgroupsPath `%s` names the cgroup root; give a path below it", path);
    }
  *out = r;
  return 0;
}

/* Fill in cg->path and the directory in every hierarchy (fds closed). */
static int
resolve (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  const struct mr_cg_host *h;
  struct mr_cgroup *cg;
  const char *rel;
  bool abs = path && path[0] == '/';

  if (mr_cg_host_get (&h, err) < 0)
    return -1;
  cg = xcalloc (1, sizeof *cg);
  cg->v2_fd = -1;
  cg->host = h;
  if (normalise (path ? path : "", &cg->path, err) < 0)
    {
      mr_cgroup_free (cg);
      return -1;
    }
  rel = cg->path + (abs ? 1 : 0);
  if (h->layout != MR_CGROUP_UNIFIED)
    {
      cg->v1 = xcalloc (h->n_v1, sizeof *cg->v1);
      for (size_t i = 0; i < h->n_v1; i++)
        {
          cg->v1[i].h = &h->v1[i];
          cg->v1[i].procs_fd = -1;
          cg->v1[i].dir = xasprintf ("%s%s/%s", h->v1[i].mount, abs ? "" : h->v1[i].own, rel);
        }
      cg->n_v1 = h->n_v1;
    }
  if (h->v2_mount)
    cg->v2_dir = xasprintf ("%s%s/%s", h->v2_mount, abs ? "" : h->v2_own, rel);
  *out = cg;
  return 0;
}

/* The directory a container path starts from in a hierarchy: dir minus "/rel". */
static size_t
base_len (const struct mr_cgroup *cg, const char *dir)
{
  const char *rel = cg->path + (cg->path[0] == '/');
  return strlen (dir) - strlen (rel) - 1;
}

void
mr_cgroup_free (struct mr_cgroup *cg)
{
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      if (cg->v1[i].procs_fd >= 0)
        close (cg->v1[i].procs_fd);
      free (cg->v1[i].dir);
    }
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  free (cg->v1);
  free (cg->v2_dir);
  free (cg->path);
  free (cg);
}

const char *
mr_cgroup_get_path (const struct mr_cgroup *cg)
{
  return cg->path;
}

int
mr_cgroup_v2_dirfd (const struct mr_cgroup *cg)
{
  return cg->v2_fd;
}

/* Open the fds the child and later commands use; missing dirs give -1. */
static int
open_fds (struct mr_cgroup *cg, bool must_exist, mr_error_t *err)
{
  bool any = false;
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      /* "tasks", not "cgroup.procs": a single-threaded process writing 0 to
       * tasks moves itself without taking cgroup_threadgroup_rwsem for
       * writing, which costs an RCU grace period (10-20 ms here) when the
       * machine has been quiet.  The processes that join this way (the init
       * and exec'd processes, before they exec) are single-threaded. */
      cleanup_free char *p = xasprintf ("%s/tasks", cg->v1[i].dir);
      cg->v1[i].procs_fd = open (p, O_WRONLY | O_CLOEXEC);
      if (cg->v1[i].procs_fd < 0 && (must_exist || errno != ENOENT))
        return mr_error_set (err, errno, "open `%s`", p);
      any |= cg->v1[i].procs_fd >= 0;
    }
  if (cg->v2_dir)
    {
      cg->v2_fd = open (cg->v2_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (cg->v2_fd < 0 && (must_exist || errno != ENOENT))
        return mr_error_set (err, errno, "open `%s`", cg->v2_dir);
      any |= cg->v2_fd >= 0;
    }
  if (!any)
    return mr_error_set (err, ENOENT, "cgroup `%s` does not exist in any hierarchy", cg->path);
  return 0;
}

int
mr_cgroup_lookup (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  return resolve (path, out, err);
}

int
mr_cgroup_open (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  struct mr_cgroup *cg;
  if (resolve (path, &cg, err) < 0)
    return -1;
  if (open_fds (cg, false, err) < 0)
    {
      mr_cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}

/* ---------- ownership marks ----------
 *
 * minirun removes only the cgroup directories it made itself (an admin's
 * parent such as /admin-slice, with its limits, survives every delete).  The
 * record is on the directory, where every later command (delete, delete
 * --force after a crashed create, the last of several containers sharing a
 * parent) finds it: the extended attribute "trusted.minirun" (root; cgroupfs
 * keeps xattrs in memory for the directory's lifetime) or "user.minirun"
 * (rootless: the owner of a delegated cgroup may set it).
 *   "created"  set right after minirun's mkdir of a leaf or a parent;
 *   "foreign"  set on a container leaf that already existed at create.
 * An ancestor is removed only when marked "created"; the leaf is removed
 * unless marked "foreign" (a foreign leaf keeps itself, only the container's
 * sub-cgroups go), so leaves of containers made before marks existed, or on
 * a host whose cgroupfs takes no xattrs, are removed as they always were. */

#define MARK_VALUE_CREATED "created"
#define MARK_VALUE_FOREIGN "foreign"

static const char *const mark_names[] = { "trusted.minirun", "user.minirun" };

/* trusted.* needs CAP_SYS_ADMIN: an unprivileged caller uses user.* only. */
static size_t
mark_first (void)
{
  return geteuid () == 0 ? 0 : 1;
}

int
mr_cg_mark_set (const char *dir, const char *value, mr_error_t *err)
{
  int e = 0;
  for (size_t i = mark_first (); i < 2; i++)
    {
      if (setxattr (dir, mark_names[i], value, strlen (value), 0) == 0)
        return 0;
      if (e == 0 || errno != EOPNOTSUPP)
        e = errno;
    }
  return mr_error_set (err, e, "setxattr `%s` %s=%s (the record that minirun %s this cgroup)", dir,
                       mark_names[mark_first ()], value,
                       strcmp (value, MARK_VALUE_CREATED) == 0 ? "created" : "did not create");
}

enum mr_cg_mark
mr_cg_mark_get (const char *dir)
{
  bool unsupported = false;
  for (size_t i = mark_first (); i < 2; i++)
    {
      char buf[16];
      ssize_t n = getxattr (dir, mark_names[i], buf, sizeof buf - 1);
      if (n >= 0)
        {
          buf[n] = '\0';
          if (strcmp (buf, MARK_VALUE_CREATED) == 0)
            return MR_CG_MARK_CREATED;
          if (strcmp (buf, MARK_VALUE_FOREIGN) == 0)
            return MR_CG_MARK_FOREIGN;
          continue;
        }
      if (errno == ENOENT)
        return MR_CG_MARK_NONE;
      if (errno == EOPNOTSUPP)
        unsupported = true;
    }
  return unsupported ? MR_CG_MARK_UNKNOWN : MR_CG_MARK_NONE;
}

/* Undo a "foreign" mark (the rollback of a failed create, or the end of the
 * container that reused the leaf). */
static void
mark_clear (const char *dir)
{
  for (size_t i = mark_first (); i < 2; i++)
    if (removexattr (dir, mark_names[i]) < 0 && errno != ENODATA && errno != ENOENT && errno != EOPNOTSUPP)
      mr_log_warning ("cannot remove %s from cgroup `%s`: %s", mark_names[i], dir, strerror (errno));
}

/* ---------- create ---------- */

/* What one create made: the directories (in mkdir order) and the
 * pre-existing leaves it marked "foreign". */
struct created
{
  char **dirs;
  size_t n;
  char **foreign;
  size_t n_foreign;
};

static void
created_free (struct created *c)
{
  for (size_t i = 0; i < c->n; i++)
    free (c->dirs[i]);
  for (size_t i = 0; i < c->n_foreign; i++)
    free (c->foreign[i]);
  free (c->dirs);
  free (c->foreign);
}

/* Remove exactly what this create made, deepest first. */
static void
rollback (struct created *c)
{
  while (c->n > 0)
    {
      char *d = c->dirs[--c->n];
      if (rmdir (d) < 0 && errno != ENOENT)
        mr_log_warning ("cannot remove cgroup `%s` after a failed create: %s", d, strerror (errno));
      free (d);
    }
  while (c->n_foreign > 0)
    {
      char *d = c->foreign[--c->n_foreign];
      mark_clear (d);
      free (d);
    }
  created_free (c);
}

/* The leaf `dir` existed before this create: unless an earlier minirun made
 * it (a leftover of a crashed create, now reused), it is someone else's and
 * stays at delete.  Without a mark it goes at delete, as it always did. */
static void
claim_existing_leaf (const char *dir, struct created *c)
{
  enum mr_cg_mark m = mr_cg_mark_get (dir);
  mr_error_t e = NULL;
  if (m == MR_CG_MARK_CREATED || m == MR_CG_MARK_FOREIGN)
    return;
  if (mr_cg_mark_set (dir, MARK_VALUE_FOREIGN, &e) < 0)
    {
      if (e->errno_ == EOPNOTSUPP)
        mr_log_debug ("%s", e->msg);
      else
        mr_log_warning ("cgroup `%s` existed before this container; %s, so delete will remove it", dir,
                        e->msg);
      mr_error_free (&e);
      return;
    }
  c->foreign = xrealloc (c->foreign, (c->n_foreign + 1) * sizeof *c->foreign);
  c->foreign[c->n_foreign++] = xstrdup (dir);
}

/* mkdir -p of `dir` below its base (which exists).  v1 cpuset levels get
 * cpus/mems from their parent; on v2 the parents get `want` enabled. */
static int
make_dirs (const struct mr_cgroup *cg, const char *dir, bool cpuset, const char *const *want,
           const char *const *needed, size_t n_want, struct created *c, bool *existed, mr_error_t *err)
{
  cleanup_free char *p = xstrdup (dir);
  size_t start = base_len (cg, dir);

  for (int attempt = 0;; attempt++)
    {
      char *slash = p + start;
      int ret = 0;
      do
        {
          char saved;
          slash = strchr (slash + 1, '/');
          saved = slash ? *slash : '\0';
          if (slash)
            *slash = '\0';
          /* enable controllers in the parent (p minus its last component) */
          if (n_want)
            {
              char *last = strrchr (p, '/');
              *last = '\0';
              ret = mr_cg_v2_enable (p, want, needed, n_want, err);
              *last = '/';
            }
          if (ret == 0 && mkdir (p, 0755) == 0)
            {
              mr_error_t merr = NULL;
              c->dirs = xrealloc (c->dirs, (c->n + 1) * sizeof *c->dirs);
              c->dirs[c->n++] = xstrdup (p);
              *existed = false;
              /* Unmarked, a parent stays after delete (never one we did not
               * make); a leaf goes anyway.  Not an error. */
              if (mr_cg_mark_set (p, MARK_VALUE_CREATED, &merr) < 0)
                {
                  mr_log_debug ("%s", merr->msg);
                  mr_error_free (&merr);
                }
            }
          else if (ret == 0 && errno == EEXIST)
            *existed = true;
          else if (ret == 0)
            ret = mr_error_set (err, errno, "mkdir `%s`", p);
          if (ret == 0 && cpuset)
            {
              char *last = strrchr (p, '/');
              *last = '\0';
              cleanup_free char *parent = xstrdup (p);
              *last = '/';
              ret = mr_cg_v1_cpuset_init (parent, p, err);
            }
          if (slash)
            *slash = saved;
        }
      while (ret == 0 && slash);
      if (ret == 0)
        return 0;
      /* A concurrent delete may remove a shared parent between two mkdirs
       * (ENOENT), or while we read its files (ENODEV: kernfs is tearing the
       * directory down). */
      if (((*err)->errno_ != ENOENT && (*err)->errno_ != ENODEV) || attempt >= 4)
        return -1;
      mr_error_free (err);
    }
}

static int
busy (const char *dir, bool *has, mr_error_t *err)
{
  pid_t *pids = NULL;
  size_t n = 0;
  if (mr_cg_procs_read (dir, &pids, &n, err) < 0)
    return -1;
  free (pids);
  *has = n > 0;
  return 0;
}

int
mr_cgroup_create (const char *path, const struct mr_resources *res, struct mr_cgroup **out, mr_error_t *err)
{
  struct mr_cgroup *cg;
  struct created c = { 0 };
  const char *want[16], *needed[16];
  char keybuf[16][32];
  size_t n_want;
  bool existed = false, has = false;

  if (resolve (path, &cg, err) < 0)
    return -1;
  if (mr_cg_check (cg, res, err) < 0)
    goto fail;
  n_want = mr_cg_v2_wanted (cg, res, want, needed, 16, keybuf);
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      bool cpuset = mr_cg_list_has (cg->v1[i].h->name, ',', "cpuset");
      if (make_dirs (cg, cg->v1[i].dir, cpuset, NULL, NULL, 0, &c, &existed, err) < 0)
        goto fail;
      if (existed && busy (cg->v1[i].dir, &has, err) < 0)
        goto fail;
      if (has)
        {
          mr_error_set (err, EBUSY, "cgroup `%s` already in use (has processes)", cg->v1[i].dir);
          goto fail;
        }
      if (existed)
        claim_existing_leaf (cg->v1[i].dir, &c);
    }
  if (cg->v2_dir)
    {
      if (make_dirs (cg, cg->v2_dir, false, want, needed, n_want, &c, &existed, err) < 0)
        goto fail;
      if (existed && busy (cg->v2_dir, &has, err) < 0)
        goto fail;
      if (has)
        {
          mr_error_set (err, EBUSY, "cgroup `%s` already in use (has processes)", cg->v2_dir);
          goto fail;
        }
      if (existed)
        claim_existing_leaf (cg->v2_dir, &c);
    }
  if (mr_cg_apply (cg, res, false, err) < 0 || open_fds (cg, true, err) < 0)
    goto fail;
  created_free (&c);
  *out = cg;
  return 0;

fail:
  rollback (&c);
  mr_error_wrap (err, "create cgroup `%s`", cg->path);
  mr_cgroup_free (cg);
  return -1;
}

/* ---------- joining ---------- */

int
mr_cgroup_child_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].procs_fd >= 0 && write (cg->v1[i].procs_fd, "0", 1) != 1)
      return mr_error_set (err, errno, "join cgroup `%s`", cg->v1[i].dir);
  return 0;
}

int
mr_cgroup_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%d", (int)pid);
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      /* a whole thread group: cgroup.procs (procs_fd is the "tasks" file) */
      cleanup_free char *p = xasprintf ("%s/cgroup.procs", cg->v1[i].dir);
      cleanup_close int fd = -1;
      if (cg->v1[i].procs_fd < 0)
        continue;
      fd = open (p, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || mr_write_all (fd, buf, (size_t)len) < 0)
        return mr_error_set (err, errno, "move pid %d into cgroup `%s`", (int)pid, cg->v1[i].dir);
    }
  if (cg->v2_fd >= 0)
    {
      cleanup_close int fd = openat (cg->v2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || mr_write_all (fd, buf, (size_t)len) < 0)
        return mr_error_set (err, errno, "move pid %d into cgroup `%s`", (int)pid, cg->v2_dir);
    }
  return 0;
}

/* ---------- destroy ---------- */

/* Remove the sub-cgroups of `dir` (made by the container); *had says if any. */
static int remove_tree (const char *dir, long long deadline, mr_error_t *err);
static int
remove_children (const char *dir, long long deadline, bool *had, mr_error_t *err)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int ret = 0;
  *had = false;
  if (d == NULL)
    return errno == ENOENT ? 0 : mr_error_set (err, errno, "open `%s`", dir);
  while (ret == 0 && (e = readdir (d)))
    if (e->d_type == DT_DIR && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        cleanup_free char *sub = xasprintf ("%s/%s", dir, e->d_name);
        *had = true;
        ret = remove_tree (sub, deadline, err);
      }
  closedir (d);
  return ret;
}

/* rmdir `dir` and its sub-cgroups (depth first), retrying EBUSY (cgroupfs'
 * answer both for "has processes" and "has children") until `deadline`. */
static int
remove_tree (const char *dir, long long deadline, mr_error_t *err)
{
  for (;;)
    {
      bool had = false;
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY && errno != ENOTEMPTY)
        return mr_error_set (err, errno, "remove cgroup `%s`", dir);
      if (remove_children (dir, deadline, &had, err) < 0)
        return -1;
      if (had)
        continue;
      if (mr_now_ms () > deadline)
        return mr_error_set (err, EBUSY, "remove cgroup `%s` (it still has processes)", dir);
      usleep (5000);
    }
}

/* Remove the ancestors minirun created (marked "created") that are now
 * empty, deepest first, below the base (hierarchy root or our own cgroup);
 * the first one not marked, and everything above it, stays.  False when the
 * first of them is still in use (by other containers). */
static bool
remove_parents (const struct mr_cgroup *cg, const char *dir, const char *own_dir)
{
  cleanup_free char *p = xstrdup (dir);
  size_t base = base_len (cg, dir);
  bool first = true;
  char *slash;
  while ((slash = strrchr (p, '/')) && (size_t)(slash - p) > base)
    {
      *slash = '\0';
      if (own_dir && strcmp (p, own_dir) == 0)
        break;
      if (mr_cg_mark_get (p) != MR_CG_MARK_CREATED)
        break; /* not ours (or gone): neither it nor what is above it */
      if (rmdir (p) < 0 && errno != ENOENT)
        return !first; /* ENOTEMPTY/EBUSY: shared with other containers */
      first = false;
    }
  return true;
}

int
mr_cgroup_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  long long deadline = mr_now_ms () + 1000;
  bool parents_free = true;
  int ret = 0;
  mr_error_t first = NULL;

  for (size_t i = 0; i < cg->n_v1; i++)
    {
      if (cg->v1[i].procs_fd >= 0)
        close (cg->v1[i].procs_fd);
      cg->v1[i].procs_fd = -1;
    }
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  cg->v2_fd = -1;
  for (size_t i = 0; i <= cg->n_v1; i++)
    {
      const char *dir = i < cg->n_v1 ? cg->v1[i].dir : cg->v2_dir;
      mr_error_t e = NULL;
      bool had = false;
      if (dir == NULL)
        continue;
      if (mr_cg_mark_get (dir) == MR_CG_MARK_FOREIGN)
        {
          /* The leaf existed before the container: only what the container
           * made inside it goes, and nothing above it; the leaf is left as
           * it was found (without minirun's mark). */
          if (remove_children (dir, deadline, &had, &e) < 0)
            {
              ret = -1;
              if (first == NULL)
                first = e;
              else
                mr_error_free (&e);
            }
          else
            mark_clear (dir);
          continue;
        }
      if (remove_tree (dir, deadline, &e) < 0)
        {
          ret = -1;
          if (first == NULL)
            first = e;
          else
            mr_error_free (&e);
          continue;
        }
      /* Every container has a directory in every hierarchy: when the shared
       * parent is busy in one, it is in all, and each failing rmdir takes
       * the kernel's global cgroup_mutex (50 parallel deletes contend on
       * it), so the other hierarchies are not asked. */
      if (!parents_free)
        continue;
      cleanup_free char *own = NULL;
      if (cg->path[0] == '/')
        own = i < cg->n_v1 ? xasprintf ("%s%s", cg->v1[i].h->mount, cg->v1[i].h->own)
                           : xasprintf ("%s%s", cg->host->v2_mount, cg->host->v2_own);
      parents_free = remove_parents (cg, dir, own);
    }
  if (ret < 0)
    {
      *err = first;
      return mr_error_wrap (err, "destroy cgroup `%s`", cg->path);
    }
  return 0;
}

/* ---------- freeze, kill, pids ---------- */

int
mr_cgroup_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  /* On hybrid hosts the v1 freezer is preferred: every process joins it
   * (mr_cgroup_child_join), while the v2 directory only holds processes
   * started with CLONE_INTO_CGROUP. */
  int i = mr_cg_locate (cg, "freezer", NULL);
  if (i >= 0)
    return mr_cg_v1_freeze (cg->v1[i].dir, frozen, err);
  if (cg->v2_dir)
    return mr_cg_v2_freeze (cg->v2_dir, frozen, err);
  return mr_error_set (err, 0, "%s cgroup `%s`: no freezer (no v1 freezer hierarchy and no cgroup v2)",
                       frozen ? "freeze" : "thaw", cg->path);
}

int
mr_cgroup_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  cleanup_free char *s = NULL;
  int i = mr_cg_locate (cg, "freezer", NULL);
  if (i >= 0)
    {
      if (mr_cg_read (cg->v1[i].dir, "freezer.state", &s, err) < 0)
        return -1;
      *frozen = strncmp (s, "FROZEN", 6) == 0;
      return 0;
    }
  if (cg->v2_dir == NULL)
    return mr_error_set (err, 0, "cgroup `%s`: no freezer", cg->path);
  if (mr_cg_read (cg->v2_dir, "cgroup.events", &s, err) < 0)
    return -1;
  *frozen = mr_cg_kv (s, "frozen", 0) == 1;
  return 0;
}

/* The directory whose cgroup.procs lists the container's processes. */
static const char *
procs_dir (const struct mr_cgroup *cg)
{
  static const char *const pref[] = { "pids", "memory", "freezer", "name=systemd", "devices", "cpu", NULL };
  if (cg->host->layout == MR_CGROUP_UNIFIED)
    return cg->v2_dir;
  for (size_t k = 0; pref[k]; k++)
    {
      int i = mr_cg_locate (cg, pref[k], NULL);
      if (i >= 0)
        return cg->v1[i].dir;
    }
  return cg->n_v1 ? cg->v1[0].dir : cg->v2_dir;
}

int
mr_cgroup_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  return mr_cg_procs_read (procs_dir (cg), pids, n, err);
}

/* kill --all.  Signalling pids read from cgroup.procs races with pid reuse:
 * a process may exit and its pid be reused by an unrelated process before
 * kill() runs, and a process may fork a child we never see.  For SIGKILL the
 * window is closed: on a pure v2 host cgroup.kill does it in the kernel;
 * elsewhere (as runc does) the cgroup is frozen (nothing exits or forks while
 * frozen), signalled, and thawed, which lets the SIGKILLs take effect.  On a
 * hybrid host the v1 freezer is used rather than the unified cgroup.kill:
 * every process joins v1, only CLONE_INTO_CGROUP children are in the unified
 * directory.  Other signals keep the (small) race. */
int
mr_cgroup_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  bool done = false, frozen = false;
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = 0;

  if (sig == SIGKILL && cg->host->layout == MR_CGROUP_UNIFIED)
    {
      if (mr_cg_v2_kill (cg->v2_dir, &done, err) < 0)
        return -1;
      if (done)
        return 0;
    }
  if (sig == SIGKILL)
    {
      mr_error_t ferr = NULL;
      frozen = mr_cgroup_freeze (cg, true, &ferr) == 0;
      if (!frozen)
        {
          mr_log_debug ("kill: cannot freeze `%s` first: %s", cg->path, ferr->msg);
          mr_error_free (&ferr);
        }
    }
  if (mr_cgroup_pids (cg, &pids, &n, err) < 0)
    ret = -1;
  for (size_t i = 0; ret == 0 && i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      ret = mr_error_set (err, errno, "kill pid %d (cgroup `%s`) with signal %d", (int)pids[i], cg->path,
                          sig);
  free (pids);
  if (frozen)
    {
      mr_error_t terr = NULL;
      if (mr_cgroup_freeze (cg, false, &terr) < 0)
        {
          if (ret == 0)
            *err = terr;
          else
            mr_error_free (&terr);
          ret = -1;
        }
    }
  return ret;
}
