/* common/dirs.c: a container's directory in one hierarchy, made and removed
 * the same way by every driver: mkdir -p with the version's per-level hook
 * and the ownership marks (common/marks.c), the busy check of a reused
 * leaf, the rollback of a failed create, and the teardown of a destroy
 * (sub-cgroups depth first, EBUSY retried until a deadline, a foreign leaf
 * kept, then the empty ancestors minirun made, deepest first). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/common/dirs.h"
#include "cgroup/common/marks.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

/* ---------- create ---------- */

void
mr_cg_created_done (struct mr_cg_created *c)
{
  for (size_t i = 0; i < c->n; i++)
    free (c->dirs[i]);
  for (size_t i = 0; i < c->n_foreign; i++)
    free (c->foreign[i]);
  free (c->dirs);
  free (c->foreign);
  memset (c, 0, sizeof *c);
}

void
mr_cg_rollback (struct mr_cg_created *c)
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
      mr_cg_mark_clear (d);
      free (d);
    }
  mr_cg_created_done (c);
}

/* The leaf `dir` existed before this create: unless an earlier minirun made
 * it (a leftover of a crashed create, now reused), it is someone else's and
 * stays at delete.  Without a mark it goes at delete, as it always did. */
static void
claim_existing_leaf (const char *dir, struct mr_cg_created *c)
{
  enum mr_cg_mark m = mr_cg_mark_get (dir);
  mr_error_t e = NULL;
  if (m == MR_CG_MARK_CREATED || m == MR_CG_MARK_FOREIGN)
    return;
  if (mr_cg_mark_set (dir, MR_CG_MARK_VALUE_FOREIGN, &e) < 0)
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

/* mkdir -p of `dir` below its base (which exists), with the hooks at every
 * level; *existed: the leaf was there already. */
static int
make_dirs (const struct mr_cgroup *cg, const char *dir, const struct mr_cg_level_hooks *hooks,
           struct mr_cg_created *c, bool *existed, mr_error_t *err)
{
  cleanup_free char *p = xstrdup (dir);
  size_t start = mr_cg_base_len (cg, dir);

  for (int attempt = 0;; attempt++)
    {
      char *slash = p + start;
      int ret = 0;
      do
        {
          char saved, *last;
          slash = strchr (slash + 1, '/');
          saved = (char) (slash ? *slash : '\0');
          if (slash)
            *slash = '\0';
          last = strrchr (p, '/');
          if (hooks && hooks->before)
            {
              *last = '\0';
              ret = hooks->before (p, hooks->ctx, err);
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
              if (mr_cg_mark_set (p, MR_CG_MARK_VALUE_CREATED, &merr) < 0)
                {
                  mr_log_debug ("%s", merr->msg);
                  mr_error_free (&merr);
                }
            }
          else if (ret == 0 && errno == EEXIST)
            *existed = true;
          else if (ret == 0)
            ret = mr_error_set (err, errno, "mkdir `%s`", p);
          if (ret == 0 && hooks && hooks->after)
            {
              *last = '\0';
              cleanup_free char *parent = xstrdup (p);
              *last = '/';
              ret = hooks->after (parent, p, hooks->ctx, err);
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
mr_cg_make_leaf (const struct mr_cgroup *cg, const char *dir, const struct mr_cg_level_hooks *hooks,
                 struct mr_cg_created *c, mr_error_t *err)
{
  bool existed = false, has = false;
  if (make_dirs (cg, dir, hooks, c, &existed, err) < 0)
    return -1;
  if (existed && busy (dir, &has, err) < 0)
    return -1;
  if (has)
    return mr_error_set (err, EBUSY, "cgroup `%s` already in use (has processes)", dir);
  if (existed)
    claim_existing_leaf (dir, c);
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
  size_t base = mr_cg_base_len (cg, dir);
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

void
mr_cg_teardown_begin (struct mr_cg_teardown *td)
{
  td->deadline = mr_now_ms () + 1000;
  td->parents_free = true;
  td->ret = 0;
  td->first = NULL;
}

static void
keep_error (struct mr_cg_teardown *td, mr_error_t *e)
{
  td->ret = -1;
  if (td->first == NULL)
    td->first = *e;
  else
    mr_error_free (e);
  *e = NULL;
}

void
mr_cg_teardown_dir (const struct mr_cgroup *cg, struct mr_cg_teardown *td, const char *dir, const char *mount,
                    const char *own)
{
  mr_error_t e = NULL;
  bool had = false;

  if (dir == NULL)
    return;
  if (mr_cg_mark_get (dir) == MR_CG_MARK_FOREIGN)
    {
      /* The leaf existed before the container: only what the container
       * made inside it goes, and nothing above it; the leaf is left as it
       * was found (without minirun's mark). */
      if (remove_children (dir, td->deadline, &had, &e) < 0)
        keep_error (td, &e);
      else
        mr_cg_mark_clear (dir);
      return;
    }
  if (remove_tree (dir, td->deadline, &e) < 0)
    {
      keep_error (td, &e);
      return;
    }
  /* Every container has a directory in every hierarchy: when the shared
   * parent is busy in one, it is in all, and each failing rmdir takes the
   * kernel's global cgroup_mutex (50 parallel deletes contend on it), so
   * the other hierarchies are not asked. */
  if (!td->parents_free)
    return;
  cleanup_free char *own_dir = NULL;
  if (cg->path[0] == '/')
    own_dir = xasprintf ("%s%s", mount, own);
  td->parents_free = remove_parents (cg, dir, own_dir);
}

int
mr_cg_teardown_end (struct mr_cg_teardown *td, mr_error_t *err)
{
  if (td->ret < 0)
    {
      *err = td->first;
      td->first = NULL;
      return -1;
    }
  return 0;
}
