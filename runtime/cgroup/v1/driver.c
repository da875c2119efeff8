/* v1/driver.c: the cgroup v1 driver (legacy hosts) and the v1 steps a
 * composition reuses: the container's directory in every mounted hierarchy
 * (cpuset levels initialised on the way down), the "tasks" fds the child
 * joins through, moving a pid in, removal, the v1 freezer, the directory
 * listing the processes, and kill --all (freeze, signal, thaw). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/driver.h"
#include "cgroup/v1/v1.h"
#include "cgroup/common/mount.h"
#include "cgroup/common/sub.h"
#include "cgroup/common/signal.h"
#include "cgroup/common/util.h"
#include "cgroup/common/writers.h"
#include "base/cleanup.h"
#include "base/utils.h"

/* ---------- the steps ---------- */

static int
cpuset_level (const char *parent, const char *dir, void *ctx, mr_error_t *err)
{
  return mr_cg_v1_cpuset_init (parent, dir, err);
}

int
mr_cg_v1_make (const struct mr_cgroup *cg, struct mr_cg_created *c, mr_error_t *err)
{
  static const struct mr_cg_level_hooks cpuset = { .after = cpuset_level };
  for (size_t i = 0; i < cg->n_v1; i++)
    if (mr_cg_make_leaf (cg, cg->v1[i].dir,
                         mr_cg_list_has (cg->v1[i].h->name, ',', "cpuset") ? &cpuset : NULL, c, err)
        < 0)
      return -1;
  return 0;
}

int
mr_cg_v1_open (struct mr_cgroup *cg, bool must_exist, bool *any, mr_error_t *err)
{
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
      *any |= cg->v1[i].procs_fd >= 0;
    }
  return 0;
}

int
mr_cg_v1_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].procs_fd >= 0 && write (cg->v1[i].procs_fd, "0", 1) != 1)
      return mr_error_set (err, errno, "join cgroup `%s`%s", cg->v1[i].dir,
                           errno == ENOSPC ? " (a cpuset cgroup without cpuset.cpus or cpuset.mems: write them)" : "");
  return 0;
}

int
mr_cg_v1_sub (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      const struct mr_cg_sub *s;
      int fd;
      if (cg->v1[i].procs_fd < 0)
        continue; /* no directory in this hierarchy: a controller of it is refused by the front */
      if (mr_cg_subs_for (subs, cg->v1[i].h->name, ',', &s, err) < 0)
        return -1;
      if (s == NULL)
        continue;
      if (mr_cg_sub_open (cg->v1[i].dir, s, "tasks", O_WRONLY, &fd, err) < 0)
        return -1;
      close (cg->v1[i].procs_fd);
      cg->v1[i].procs_fd = fd;
      if (*s->path)
        {
          char *dir = xasprintf ("%s/%s", cg->v1[i].dir, s->path);
          free (cg->v1[i].dir);
          cg->v1[i].dir = dir;
        }
    }
  return 0;
}

int
mr_cg_v1_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
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
  return 0;
}

void
mr_cg_v1_teardown (struct mr_cgroup *cg, struct mr_cg_teardown *td)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      if (cg->v1[i].procs_fd >= 0)
        close (cg->v1[i].procs_fd);
      cg->v1[i].procs_fd = -1;
    }
  for (size_t i = 0; i < cg->n_v1; i++)
    mr_cg_teardown_dir (cg, td, cg->v1[i].dir, cg->v1[i].h->mount, cg->v1[i].h->own);
}

const char *
mr_cg_v1_freezer (const struct mr_cgroup *cg)
{
  int i = mr_cg_locate (cg, "freezer", NULL);
  return i >= 0 ? cg->v1[i].dir : NULL;
}

/* FROZEN goes through FREEZING until every task stopped; rewrite it now and
 * then (as runc does) and give up after about a second, thawing again. */
int
mr_cg_v1_freeze (const char *dir, bool frozen, mr_error_t *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  for (int attempt = 0; attempt < 10; attempt++)
    {
      if (mr_cg_write (dir, "freezer.state", want, NULL, err) < 0)
        return -1;
      if (mr_cg_wait_file (dir, "freezer.state", NULL, want, 100, err) == 0)
        return 0;
      if ((*err)->errno_ != ETIMEDOUT)
        return -1;
      mr_error_free (err);
    }
  if (frozen)
    {
      mr_error_t ignored = NULL;
      if (mr_cg_write (dir, "freezer.state", "THAWED", NULL, &ignored) < 0)
        mr_error_free (&ignored);
    }
  return mr_error_set (err, ETIMEDOUT, "%s `%s`: freezer.state did not become %s within 1 s",
                       frozen ? "freeze" : "thaw", dir, want);
}

int
mr_cg_v1_is_frozen (const char *dir, bool *frozen, mr_error_t *err)
{
  cleanup_free char *s = NULL;
  if (mr_cg_read (dir, "freezer.state", &s, err) < 0)
    return -1;
  *frozen = strncmp (s, "FROZEN", 6) == 0;
  return 0;
}

const char *
mr_cg_v1_procs_dir (const struct mr_cgroup *cg)
{
  static const char *const pref[] = { "pids", "memory", "freezer", "name=systemd", "devices", "cpu", NULL };
  for (size_t k = 0; pref[k]; k++)
    {
      int i = mr_cg_locate (cg, pref[k], NULL);
      if (i >= 0)
        return cg->v1[i].dir;
    }
  return cg->n_v1 ? cg->v1[0].dir : NULL;
}

/* ---------- the driver ---------- */

static int
v1_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_apply_resources (cg, res, update, &mr_cg_v1_writers, NULL, err);
}

static int
v1_create (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  struct mr_cg_created c = { 0 };
  bool any = false;
  if (mr_cg_check (cg, res, err) < 0 || mr_cg_v1_make (cg, &c, err) < 0 || v1_apply (cg, res, false, err) < 0
      || mr_cg_v1_open (cg, true, &any, err) < 0)
    {
      mr_cg_rollback (&c);
      return -1;
    }
  mr_cg_created_done (&c);
  return 0;
}

static int
v1_open (struct mr_cgroup *cg, mr_error_t *err)
{
  bool any = false;
  if (mr_cg_v1_open (cg, false, &any, err) < 0)
    return -1;
  return any ? 0 : mr_cg_missing (cg, err);
}

static int
v1_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  return v1_apply (cg, res, true, err);
}

static int
v1_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  const char *dir = mr_cg_v1_freezer (cg);
  if (dir == NULL)
    return mr_error_set (err, 0, "%s cgroup `%s`: no freezer (no v1 freezer hierarchy and no cgroup v2)",
                         frozen ? "freeze" : "thaw", cg->path);
  return mr_cg_v1_freeze (dir, frozen, err);
}

static int
v1_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  const char *dir = mr_cg_v1_freezer (cg);
  if (dir == NULL)
    return mr_error_set (err, 0, "cgroup `%s`: no freezer", cg->path);
  return mr_cg_v1_is_frozen (dir, frozen, err);
}

static int
v1_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  return mr_cg_procs_read (mr_cg_v1_procs_dir (cg), pids, n, err);
}

static int
v1_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  return mr_cg_signal_all (cg, sig, v1_freeze, v1_pids, err);
}

static int
v1_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  mr_cg_v1_stats (cg, out);
  return 0;
}

static const char *
memory_dir (const struct mr_cgroup *cg)
{
  int i = mr_cg_locate (cg, "memory", NULL);
  return i >= 0 ? cg->v1[i].dir : NULL;
}

static int
v1_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                 mr_error_t *err)
{
  *memory_stat = NULL;
  if (mr_cg_v1_percpu (cg, percpu, n_percpu, err) < 0)
    return -1;
  if (mr_cg_read_memory_stat (memory_dir (cg), memory_stat, err) < 0)
    {
      free (*percpu);
      *percpu = NULL;
      *n_percpu = 0;
      return -1;
    }
  return 0;
}

static int
v1_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err)
{
  *count = 0;
  return memory_dir (cg) ? mr_cg_v1_oom_kills (memory_dir (cg), count, err) : 0;
}

static int
v1_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err)
{
  *fd = -1;
  return memory_dir (cg) ? mr_cg_v1_oom_watch (memory_dir (cg), fd, err) : 0;
}

static int
v1_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err)
{
  unsigned int attr = mr_cg_mnt_attr (flags);
  cleanup_close int tmpfs = -1;
  if (mr_cg_v1_mount_view (cg, dest_fd, attr, &tmpfs, err) < 0)
    return -1;
  return mr_cg_mnt_set_attr (tmpfs, attr, "the cgroup tmpfs", err);
}

static int
v1_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  struct mr_cg_teardown td;
  mr_cg_teardown_begin (&td);
  mr_cg_v1_teardown (cg, &td);
  return mr_cg_teardown_end (&td, err);
}

static int
v1_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  return mr_cg_v1_join (cg, err);
}

static int
v1_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  return mr_cg_v1_enter_pid (cg, pid, err);
}

const struct mr_cgroup_driver mr_cg_driver_v1 = {
  .name = "v1",
  .create = v1_create,
  .open = v1_open,
  .sub = mr_cg_v1_sub,
  .join = v1_join,
  .enter_pid = v1_enter_pid,
  .apply = v1_apply,
  .update = v1_update,
  .freeze = v1_freeze,
  .is_frozen = v1_is_frozen,
  .kill = v1_kill,
  .pids = v1_pids,
  .stats = v1_stats,
  .stats_detail = v1_stats_detail,
  .oom_kills = v1_oom_kills,
  .oom_watch = v1_oom_watch,
  .mount = v1_mount,
  .destroy = v1_destroy,
};
