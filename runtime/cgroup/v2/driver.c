/* v2/driver.c: the cgroup v2 driver (pure v2 hosts) and the v2 steps a
 * composition reuses: the controllers a new cgroup's parents enable in
 * cgroup.subtree_control, the container's directory in the unified tree,
 * the O_PATH fd for clone3(CLONE_INTO_CGROUP), moving a pid in, removal,
 * cgroup.freeze, cgroup.kill (kill --all in the kernel; else freeze, signal,
 * thaw) and the view for the container (a bind of its directory). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/driver.h"
#include "cgroup/v2/v2.h"
#include "cgroup/common/mount.h"
#include "cgroup/common/signal.h"
#include "cgroup/common/sub.h"
#include "cgroup/common/util.h"
#include "cgroup/common/writers.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

/* ---------- the steps ---------- */

static void
spaces (char *s)
{
  for (; *s; s++)
    if (*s == '\n')
      *s = ' ';
}

int
mr_cg_v2_enable (const char *dir, const char *const *want, const char *const *needed_by, size_t n,
                 mr_error_t *err)
{
  cleanup_free char *avail = NULL, *sub = NULL;

  if (mr_cg_read (dir, "cgroup.controllers", &avail, err) < 0
      || mr_cg_read (dir, "cgroup.subtree_control", &sub, err) < 0)
    return -1;
  spaces (avail);
  spaces (sub);
  for (size_t i = 0; i < n; i++)
    {
      char plus[64];
      if (mr_cg_list_has (sub, ' ', want[i]))
        continue;
      if (!mr_cg_list_has (avail, ' ', want[i]))
        {
          if (needed_by[i])
            return mr_error_set (
                err, 0, "%s: %s controller not available in cgroup v2 at `%s` (cgroup.controllers: %s)",
                needed_by[i], want[i], dir, avail);
          continue;
        }
      if ((size_t) snprintf (plus, sizeof plus, "+%s", want[i]) >= sizeof plus)
        return mr_error_set (err, ENAMETOOLONG, "controller name `%s`", want[i]);
      if (mr_cg_write (dir, "cgroup.subtree_control", plus, NULL, err) < 0)
        {
          if (needed_by[i])
            return mr_error_wrap (err, "%s: enable the %s controller for the children of `%s`", needed_by[i],
                                  want[i], dir);
          mr_log_debug ("cannot enable the %s controller in `%s`: %s", want[i], dir, (*err)->msg);
          mr_error_free (err);
        }
    }
  return 0;
}

size_t
mr_cg_v2_wanted (const struct mr_cgroup *cg, const struct mr_resources *res, bool all, const char **want,
                 const char **needed, size_t max, char (*keybuf)[32])
{
  size_t n = 0;
  if (all)
    {
      cleanup_free char *copy = xstrdup (cg->host->v2_controllers);
      char *save = NULL;
      for (char *t = strtok_r (copy, " ", &save); t && n < max; t = strtok_r (NULL, " ", &save))
        {
          for (size_t g = 0; g < MR_CG_N_GROUPS; g++)
            if (mr_cg_groups[g].v2 && strcmp (mr_cg_groups[g].v2, t) == 0)
              {
                want[n] = mr_cg_groups[g].v2;
                needed[n] = res ? mr_cg_groups[g].given (res) : NULL;
                n++;
              }
        }
    }
  else
    for (size_t g = 0; res && g < MR_CG_N_GROUPS && n < max; g++)
      if (mr_cg_groups[g].given (res) && strcmp (mr_cg_groups[g].v1, "devices") != 0
          && mr_cg_locate (cg, mr_cg_groups[g].v1, mr_cg_groups[g].v2) == MR_CG_V2)
        {
          want[n] = mr_cg_groups[g].v2;
          needed[n++] = mr_cg_groups[g].given (res);
        }
  /* linux.resources.unified keys name their controller before the dot. */
  for (size_t k = 0, nk = 0; res && k < res->n_unified && n < max; k++)
    {
      const char *key = res->unified[k].key;
      size_t l = strcspn (key, "."), i;
      if (l >= 32 || (l == 6 && strncmp (key, "cgroup", 6) == 0))
        continue;
      for (i = 0; i < n; i++)
        if (strncmp (want[i], key, l) == 0 && want[i][l] == '\0')
          break;
      if (i == n)
        {
          memcpy (keybuf[nk], key, l);
          keybuf[nk][l] = '\0';
          want[n++] = keybuf[nk++];
        }
      needed[i] = "linux.resources.unified";
    }
  return n;
}

struct enable_ctx
{
  const char *const *want, *const *needed;
  size_t n;
};

static int
enable_level (const char *parent, void *ctx, mr_error_t *err)
{
  const struct enable_ctx *e = ctx;
  return e->n ? mr_cg_v2_enable (parent, e->want, e->needed, e->n, err) : 0;
}

int
mr_cg_v2_make (const struct mr_cgroup *cg, const char *const *want, const char *const *needed, size_t n,
               struct mr_cg_created *c, mr_error_t *err)
{
  struct enable_ctx e = { want, needed, n };
  struct mr_cg_level_hooks hooks = { .before = enable_level, .ctx = &e };
  if (cg->v2_dir == NULL)
    return 0;
  return mr_cg_make_leaf (cg, cg->v2_dir, &hooks, c, err);
}

int
mr_cg_v2_open (struct mr_cgroup *cg, bool must_exist, bool *any, mr_error_t *err)
{
  if (cg->v2_dir == NULL)
    return 0;
  cg->v2_fd = open (cg->v2_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cg->v2_fd < 0 && (must_exist || errno != ENOENT))
    return mr_error_set (err, errno, "open `%s`", cg->v2_dir);
  *any |= cg->v2_fd >= 0;
  return 0;
}

int
mr_cg_v2_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%d", (int)pid);
  if (cg->v2_fd >= 0)
    {
      cleanup_close int fd = openat (cg->v2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || mr_write_all (fd, buf, (size_t)len) < 0)
        return mr_error_set (err, errno, "move pid %d into cgroup `%s`", (int)pid, cg->v2_dir);
    }
  return 0;
}

int
mr_cg_v2_sub (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err)
{
  const struct mr_cg_sub *s;
  int fd;
  if (cg->v2_fd < 0)
    return 0;
  if (mr_cg_subs_for (subs, cg->host->v2_controllers, ' ', &s, err) < 0)
    return -1;
  if (s == NULL)
    return 0;
  if (mr_cg_sub_open (cg->v2_dir, s, NULL, 0, &fd, err) < 0)
    return -1;
  close (cg->v2_fd);
  cg->v2_fd = fd;
  if (*s->path)
    {
      char *dir = xasprintf ("%s/%s", cg->v2_dir, s->path);
      free (cg->v2_dir);
      cg->v2_dir = dir;
    }
  return 0;
}

int
mr_cg_v2_sub_unified (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err)
{
  for (size_t i = 0; i < subs->n; i++)
    if (subs->s[i].ctl)
      return mr_error_set (err, 0,
                           "exec --cgroup `%s`: on cgroup v2 every controller is in one tree: give a plain PATH "
                           "(CONTROLLER:PATH is for cgroup v1)",
                           subs->s[i].spec);
  if (cg->v2_fd < 0)
    return mr_error_set (err, ENOENT, "exec --cgroup: the container's cgroup `%s` is not open", cg->v2_dir);
  return mr_cg_v2_sub (cg, subs, err);
}

void
mr_cg_v2_teardown (struct mr_cgroup *cg, struct mr_cg_teardown *td)
{
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  cg->v2_fd = -1;
  mr_cg_teardown_dir (cg, td, cg->v2_dir, cg->host->v2_mount, cg->host->v2_own);
}

int
mr_cg_v2_freeze (const char *dir, bool frozen, mr_error_t *err)
{
  if (!mr_cg_exists (dir, "cgroup.freeze"))
    return mr_error_set (err, 0, "%s `%s`: cgroup.freeze is not available (Linux >= 5.2 needed)",
                         frozen ? "freeze" : "thaw", dir);
  if (mr_cg_write (dir, "cgroup.freeze", frozen ? "1" : "0", NULL, err) < 0)
    return -1;
  if (mr_cg_wait_file (dir, "cgroup.events", "frozen", frozen ? "1" : "0", 1000, err) < 0)
    {
      mr_error_t ignored = NULL;
      if (frozen && mr_cg_write (dir, "cgroup.freeze", "0", NULL, &ignored) < 0)
        mr_error_free (&ignored);
      return mr_error_wrap (err, "%s `%s`", frozen ? "freeze" : "thaw", dir);
    }
  return 0;
}

int
mr_cg_v2_is_frozen (const char *dir, bool *frozen, mr_error_t *err)
{
  cleanup_free char *s = NULL;
  if (mr_cg_read (dir, "cgroup.events", &s, err) < 0)
    return -1;
  *frozen = mr_cg_kv (s, "frozen", 0) == 1;
  return 0;
}

int
mr_cg_v2_kill (const char *dir, bool *done, mr_error_t *err)
{
  *done = false;
  if (!mr_cg_exists (dir, "cgroup.kill"))
    return 0;
  if (mr_cg_write (dir, "cgroup.kill", "1", NULL, err) < 0)
    return -1;
  *done = true;
  return 0;
}

int
mr_cg_v2_mount_at (const struct mr_cgroup *cg, int to_fd, unsigned int attr, mr_error_t *err)
{
  int mnt = mr_cg_mnt_bind (cg->v2_dir, attr, err);
  if (mnt < 0)
    return -1;
  return mr_cg_mnt_attach (mnt, to_fd, cg->v2_dir, err);
}

/* ---------- the driver ---------- */

static int
v2_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_apply_resources (cg, res, update, NULL, &mr_cg_v2_writers, err);
}

static int
v2_create (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  struct mr_cg_created c = { 0 };
  const char *want[16], *needed[16];
  char keybuf[16][32];
  bool any = false;
  size_t n_want;

  if (mr_cg_check (cg, res, err) < 0)
    return -1;
  n_want = mr_cg_v2_wanted (cg, res, true, want, needed, 16, keybuf);
  if (mr_cg_v2_make (cg, want, needed, n_want, &c, err) < 0 || v2_apply (cg, res, false, err) < 0
      || mr_cg_v2_open (cg, true, &any, err) < 0)
    {
      mr_cg_rollback (&c);
      return -1;
    }
  mr_cg_created_done (&c);
  return 0;
}

static int
v2_open (struct mr_cgroup *cg, mr_error_t *err)
{
  bool any = false;
  if (mr_cg_v2_open (cg, false, &any, err) < 0)
    return -1;
  return any ? 0 : mr_cg_missing (cg, err);
}

static int
v2_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  return 0; /* the child was created in the directory (CLONE_INTO_CGROUP) */
}

static int
v2_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  return mr_cg_v2_enter_pid (cg, pid, err);
}

static int
v2_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  return v2_apply (cg, res, true, err);
}

static int
v2_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  return mr_cg_v2_freeze (cg->v2_dir, frozen, err);
}

static int
v2_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  return mr_cg_v2_is_frozen (cg->v2_dir, frozen, err);
}

static int
v2_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  return mr_cg_procs_read (cg->v2_dir, pids, n, err);
}

/* SIGKILL: cgroup.kill does it in the kernel (no fork escapes, no pid
 * reuse); without it (Linux < 5.14), and for other signals, freeze, signal
 * each, thaw. */
static int
v2_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  bool done = false;
  if (sig == SIGKILL)
    {
      if (mr_cg_v2_kill (cg->v2_dir, &done, err) < 0)
        return -1;
      if (done)
        return 0;
    }
  return mr_cg_signal_all (cg, sig, v2_freeze, v2_pids, err);
}

static int
v2_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  mr_cg_v2_stats (cg, out);
  return 0;
}

static const char *
memory_dir (const struct mr_cgroup *cg)
{
  return mr_cg_locate (cg, NULL, "memory") == MR_CG_V2 ? cg->v2_dir : NULL;
}

static int
v2_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                 mr_error_t *err)
{
  *percpu = NULL; /* no per-CPU usage in cgroup v2 */
  *n_percpu = 0;
  return mr_cg_read_memory_stat (memory_dir (cg), memory_stat, err);
}

static int
v2_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err)
{
  *count = 0;
  return memory_dir (cg) ? mr_cg_v2_oom_kills (memory_dir (cg), count, err) : 0;
}

static int
v2_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err)
{
  *fd = -1;
  return memory_dir (cg) ? mr_cg_v2_oom_watch (memory_dir (cg), fd, err) : 0;
}

static int
v2_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err)
{
  return mr_cg_v2_mount_at (cg, dest_fd, mr_cg_mnt_attr (flags), err);
}

static int
v2_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  struct mr_cg_teardown td;
  mr_cg_teardown_begin (&td);
  mr_cg_v2_teardown (cg, &td);
  return mr_cg_teardown_end (&td, err);
}

const struct mr_cgroup_driver mr_cg_driver_v2 = {
  .name = "v2",
  .create = v2_create,
  .open = v2_open,
  .sub = mr_cg_v2_sub_unified,
  .join = v2_join,
  .enter_pid = v2_enter_pid,
  .apply = v2_apply,
  .update = v2_update,
  .freeze = v2_freeze,
  .is_frozen = v2_is_frozen,
  .kill = v2_kill,
  .pids = v2_pids,
  .stats = v2_stats,
  .stats_detail = v2_stats_detail,
  .oom_kills = v2_oom_kills,
  .oom_watch = v2_oom_watch,
  .mount = v2_mount,
  .destroy = v2_destroy,
};
