/* hybrid/driver.c: the driver of a hybrid host (v1 controllers plus a
 * cgroup2 mount at <root>/unified), a composition of the v1 and v2 steps
 * (v1/v1.h, v2/v2.h).  The container has a directory in every v1 hierarchy
 * and one in the unified tree; a resource goes to the v1 hierarchy holding
 * its controller, else to the unified tree (hugetlb here), whose parents
 * enable only the controllers a resource needs.  Every process joins v1
 * (mr_cgroup_child_join), only CLONE_INTO_CGROUP children are in the
 * unified directory, so the freezer, the process list and kill --all are
 * v1's (the unified ones only without a v1 freezer/hierarchy). */
#include <stdlib.h>

#include "cgroup/driver.h"
#include "cgroup/v1/v1.h"
#include "cgroup/v2/v2.h"
#include "cgroup/common/mount.h"
#include "cgroup/common/signal.h"
#include "cgroup/common/util.h"
#include "cgroup/common/writers.h"
#include "base/cleanup.h"

static int
hybrid_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_apply_resources (cg, res, update, &mr_cg_v1_writers, &mr_cg_v2_writers, err);
}

static int
hybrid_create (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  struct mr_cg_created c = { 0 };
  const char *want[16], *needed[16];
  char keybuf[16][32];
  bool any = false;
  size_t n_want;

  if (mr_cg_check (cg, res, err) < 0)
    return -1;
  n_want = mr_cg_v2_wanted (cg, res, false, want, needed, 16, keybuf);
  if (mr_cg_v1_make (cg, &c, err) < 0 || mr_cg_v2_make (cg, want, needed, n_want, &c, err) < 0
      || hybrid_apply (cg, res, false, err) < 0 || mr_cg_v1_open (cg, true, &any, err) < 0
      || mr_cg_v2_open (cg, true, &any, err) < 0)
    {
      mr_cg_rollback (&c);
      return -1;
    }
  mr_cg_created_done (&c);
  return 0;
}

static int
hybrid_open (struct mr_cgroup *cg, mr_error_t *err)
{
  bool any = false;
  if (mr_cg_v1_open (cg, false, &any, err) < 0 || mr_cg_v2_open (cg, false, &any, err) < 0)
    return -1;
  return any ? 0 : mr_cg_missing (cg, err);
}

static int
hybrid_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  return mr_cg_v1_join (cg, err);
}

/* v1 per hierarchy; the unified tree for its own controllers (hugetlb) or the plain form */
static int
hybrid_sub (struct mr_cgroup *cg, struct mr_cg_subs *subs, mr_error_t *err)
{
  return mr_cg_v1_sub (cg, subs, err) < 0 ? -1 : mr_cg_v2_sub (cg, subs, err);
}

static int
hybrid_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  if (mr_cg_v1_enter_pid (cg, pid, err) < 0)
    return -1;
  return mr_cg_v2_enter_pid (cg, pid, err);
}

static int
hybrid_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  return hybrid_apply (cg, res, true, err);
}

static int
hybrid_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  const char *dir = mr_cg_v1_freezer (cg);
  if (dir)
    return mr_cg_v1_freeze (dir, frozen, err);
  if (cg->v2_dir)
    return mr_cg_v2_freeze (cg->v2_dir, frozen, err);
  return mr_error_set (err, 0, "%s cgroup `%s`: no freezer (no v1 freezer hierarchy and no cgroup v2)",
                       frozen ? "freeze" : "thaw", cg->path);
}

static int
hybrid_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  const char *dir = mr_cg_v1_freezer (cg);
  if (dir)
    return mr_cg_v1_is_frozen (dir, frozen, err);
  if (cg->v2_dir == NULL)
    return mr_error_set (err, 0, "cgroup `%s`: no freezer", cg->path);
  return mr_cg_v2_is_frozen (cg->v2_dir, frozen, err);
}

static int
hybrid_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  const char *dir = mr_cg_v1_procs_dir (cg);
  return mr_cg_procs_read (dir ? dir : cg->v2_dir, pids, n, err);
}

/* The v1 freezer rather than the unified cgroup.kill: the unified directory
 * may miss processes that joined only v1. */
static int
hybrid_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  return mr_cg_signal_all (cg, sig, hybrid_freeze, hybrid_pids, err);
}

/* v2 first, so that a v1 controller's counters win. */
static int
hybrid_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  if (cg->v2_dir)
    mr_cg_v2_stats (cg, out);
  if (cg->n_v1)
    mr_cg_v1_stats (cg, out);
  return 0;
}

/* The memory controller's directory and version, NULL when there is none. */
static const char *
memory_dir (const struct mr_cgroup *cg, bool *v2)
{
  int where = mr_cg_locate (cg, "memory", "memory");
  *v2 = where == MR_CG_V2;
  return where >= 0 ? cg->v1[where].dir : where == MR_CG_V2 ? cg->v2_dir : NULL;
}

static int
hybrid_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                     mr_error_t *err)
{
  bool v2;
  *memory_stat = NULL;
  if (mr_cg_v1_percpu (cg, percpu, n_percpu, err) < 0)
    return -1;
  if (mr_cg_read_memory_stat (memory_dir (cg, &v2), memory_stat, err) < 0)
    {
      free (*percpu);
      *percpu = NULL;
      *n_percpu = 0;
      return -1;
    }
  return 0;
}

static int
hybrid_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err)
{
  bool v2;
  const char *dir = memory_dir (cg, &v2);
  *count = 0;
  if (dir == NULL)
    return 0;
  return v2 ? mr_cg_v2_oom_kills (dir, count, err) : mr_cg_v1_oom_kills (dir, count, err);
}

static int
hybrid_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err)
{
  bool v2;
  const char *dir = memory_dir (cg, &v2);
  *fd = -1;
  if (dir == NULL)
    return 0;
  return v2 ? mr_cg_v2_oom_watch (dir, fd, err) : mr_cg_v1_oom_watch (dir, fd, err);
}

/* v1's tmpfs of hierarchies with the unified directory as "unified". */
static int
hybrid_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err)
{
  unsigned int attr = mr_cg_mnt_attr (flags);
  cleanup_close int tmpfs = -1;
  if (mr_cg_v1_mount_view (cg, dest_fd, attr, &tmpfs, err) < 0)
    return -1;
  if (cg->v2_dir)
    {
      cleanup_close int sub = mr_cg_mnt_subdir (tmpfs, "unified", err);
      if (sub < 0 || mr_cg_v2_mount_at (cg, sub, attr, err) < 0)
        return -1;
    }
  return mr_cg_mnt_set_attr (tmpfs, attr, "the cgroup tmpfs", err);
}

static int
hybrid_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  struct mr_cg_teardown td;
  mr_cg_teardown_begin (&td);
  mr_cg_v1_teardown (cg, &td);
  mr_cg_v2_teardown (cg, &td);
  return mr_cg_teardown_end (&td, err);
}

const struct mr_cgroup_driver mr_cg_driver_hybrid = {
  .name = "hybrid",
  .create = hybrid_create,
  .open = hybrid_open,
  .join = hybrid_join,
  .enter_pid = hybrid_enter_pid,
  .sub = hybrid_sub,
  .apply = hybrid_apply,
  .update = hybrid_update,
  .freeze = hybrid_freeze,
  .is_frozen = hybrid_is_frozen,
  .kill = hybrid_kill,
  .pids = hybrid_pids,
  .stats = hybrid_stats,
  .stats_detail = hybrid_stats_detail,
  .oom_kills = hybrid_oom_kills,
  .oom_watch = hybrid_oom_watch,
  .mount = hybrid_mount,
  .destroy = hybrid_destroy,
};
