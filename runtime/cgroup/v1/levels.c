/* v1/levels.c: what a v1 container cgroup needs from the levels above it.
 * cpuset: a new level starts with empty cpus/mems and refuses processes, so
 * it gets its parent's (and no load balancing of its own under a balancing
 * ancestor).  cpu realtime (RT group scheduling): a group's
 * cpu.rt_runtime_us/cpu.rt_period_us share may not exceed what its parent
 * has left for its children, and a new group gets 0, so a container below
 * /minirun (or any parent minirun made) could get no realtime runtime at all:
 * before the container's own values are written, each parent minirun made
 * (marked "created", walking up from the leaf to the first one it did not
 * make) is raised, if needed, to the sum of its children's shares with the
 * container's new one.  A parent minirun did not make is never changed.  A
 * raised parent is not lowered again when a container goes (it goes itself
 * with its last container). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/v1/v1.h"
#include "cgroup/common/marks.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/utils.h"

#define SET(o) MR_CG_SET (o)

/* ---------- cpuset ---------- */

/* Whether `dir` or one of its ancestors (up to the hierarchy's root, where
 * the file ends) balances load: then the scheduler builds one domain over
 * that ancestor's cpus and every descendant's sched_load_balance is moot. */
static bool
ancestor_balances (const char *dir)
{
  cleanup_free char *p = xstrdup (dir);

  for (;;)
    {
      cleanup_free char *flag = NULL;
      mr_error_t ignored = NULL;
      char *slash;
      if (mr_cg_read (p, "cpuset.sched_load_balance", &flag, &ignored) < 0)
        {
          mr_error_free (&ignored);
          return false; /* above the hierarchy's root */
        }
      if (flag[0] == '1')
        return true;
      slash = strrchr (p, '/');
      if (slash == NULL || slash == p)
        return false;
      *slash = '\0';
    }
}

/* A new v1 cpuset cgroup starts with empty cpus/mems and refuses processes
 * until they are set: copy them from the parent (levels already set are
 * left alone).
 *
 * A cgroup that has cpus and sched_load_balance=1 makes the kernel rebuild
 * the scheduling domains, walking every cpuset, when it is removed (and when
 * the flag changes): with 1000 containers that walk, run by a kworker that
 * holds cpuset_mutex, stalls the next create's cpuset writes.  Under a
 * balancing ancestor the flag changes nothing, so the fresh cgroup clears it
 * while it has no cpus yet, which costs no rebuild. */
int
mr_cg_v1_cpuset_init (const char *parent, const char *dir, mr_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *cur = NULL, *from = NULL;
      if (mr_cg_read (dir, files[i], &cur, err) < 0)
        return -1;
      if (cur[strspn (cur, " \n")] != '\0')
        continue;
      if (mr_cg_read (parent, files[i], &from, err) < 0)
        return -1;
      from[strcspn (from, "\n")] = '\0';
      if (i == 0 && ancestor_balances (parent))
        {
          mr_error_t ignored = NULL;
          if (mr_cg_write (dir, "cpuset.sched_load_balance", "0", NULL, &ignored) < 0)
            mr_error_free (&ignored);
        }
      if (mr_cg_write (dir, files[i], from, NULL, err) < 0)
        return mr_error_wrap (err, "initialise cpuset of `%s` from its parent", dir);
    }
  return 0;
}

/* ---------- cpu realtime ---------- */

#define RT_RUNTIME "cpu.rt_runtime_us"
#define RT_PERIOD "cpu.rt_period_us"
#define CFG_RUNTIME "linux.resources.cpu.realtimeRuntime"
#define CFG_PERIOD "linux.resources.cpu.realtimePeriod"
#define BW_SHIFT 20 /* the kernel's fixed point for bandwidth ratios */

/* A cgroup's rt runtime (-1: unlimited) and period; false if it has none
 * (no RT group scheduling, or the cgroup is gone). */
static bool
rt_values (const char *dir, int64_t *runtime, uint64_t *period)
{
  cleanup_free char *r = NULL, *p = NULL;
  mr_error_t ignored = NULL;
  char *end;
  if (mr_cg_read (dir, RT_RUNTIME, &r, &ignored) < 0 || mr_cg_read (dir, RT_PERIOD, &p, &ignored) < 0)
    {
      mr_error_free (&ignored);
      return false;
    }
  *runtime = strtoll (r, &end, 10);
  if (end == r)
    return false;
  *period = strtoull (p, &end, 10);
  return end != p && *period > 0;
}

/* runtime per period in units of 2^-20, as the kernel's to_ratio() counts
 * it (an unlimited runtime is the whole cpu). */
static uint64_t
rt_ratio (uint64_t period, int64_t runtime)
{
  if (runtime < 0)
    return 1ULL << BW_SHIFT;
  return (uint64_t)(((unsigned __int128)runtime << BW_SHIFT) / period);
}

/* The shares of the sub-cgroups of `dir` other than `skip`. */
static uint64_t
children_ratio (const char *dir, const char *skip)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  uint64_t sum = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir (d)))
    {
      int64_t runtime;
      uint64_t period;
      if (e->d_type != DT_DIR || strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0
          || strcmp (e->d_name, skip) == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", dir, e->d_name);
      if (rt_values (sub, &runtime, &period))
        sum += rt_ratio (period, runtime);
    }
  closedir (d);
  return sum;
}

struct rt_raise
{
  char *dir;
  uint64_t runtime, period;
};

/* Raise the parents minirun made, deepest-needed first computed, written
 * from the top down (each write is checked by the kernel against the level
 * above, which must already have its new value). */
static int
raise_parents (const char *dir, const struct mr_resources *res, mr_error_t *err)
{
  const typeof (res->cpu) *c = &res->cpu;
  struct rt_raise up[32];
  size_t n = 0;
  int64_t runtime;
  uint64_t period, need;
  cleanup_free char *p = xstrdup (dir);
  int ret = 0;

  if (!rt_values (dir, &runtime, &period))
    return 0; /* no RT group scheduling here: the leaf's write says so */
  if (SET (c->realtime_runtime))
    runtime = c->realtime_runtime.v;
  if (SET (c->realtime_period))
    period = c->realtime_period.v;
  if (runtime <= 0 || (uint64_t)runtime > period)
    return 0; /* nothing to reserve, or the kernel refuses the leaf anyway */
  need = rt_ratio (period, runtime);
  for (char *slash; n < sizeof up / sizeof up[0] && (slash = strrchr (p, '/')) && slash != p;)
    {
      int64_t have;
      uint64_t pperiod, want;
      cleanup_free char *child = xstrdup (slash + 1);
      *slash = '\0';
      if (mr_cg_mark_get (p) != MR_CG_MARK_CREATED || !rt_values (p, &have, &pperiod) || have < 0)
        break; /* not minirun's (or unlimited): left as it is */
      need += children_ratio (p, child);
      want = (uint64_t)(((unsigned __int128)need * pperiod + (1ULL << BW_SHIFT) - 1) >> BW_SHIFT);
      if ((uint64_t)have >= want)
        break; /* enough already: nothing above it changes either */
      if (want > pperiod)
        {
          ret = mr_error_set (err, 0,
                              CFG_RUNTIME
                              ": the cgroups below `%s` would need %llu us of realtime runtime per "
                              "%llu us period, more than the whole period",
                              p, (unsigned long long)want, (unsigned long long)pperiod);
          break;
        }
      up[n].dir = xstrdup (p);
      up[n].runtime = want;
      up[n].period = pperiod;
      n++;
      need = rt_ratio (pperiod, (int64_t)want);
    }
  while (n > 0)
    {
      struct rt_raise *u = &up[--n];
      if (ret == 0
          && mr_cg_writef (u->dir, RT_RUNTIME, NULL, err, "%llu", (unsigned long long)u->runtime) < 0)
        ret = mr_error_wrap (
            err, CFG_RUNTIME ": give `%s` (a parent minirun made) %llu us of realtime runtime per %llu us%s",
            u->dir, (unsigned long long)u->runtime, (unsigned long long)u->period,
            (*err)->errno_ == EINVAL ? " (its own parent has less left for its children; minirun "
                                       "changes only the cgroups it made)"
                                     : "");
      free (u->dir);
    }
  return ret;
}

/* The container's own values, in the order the kernel takes them: a new
 * period can be refused while the old runtime does not fit it, then the
 * runtime goes first. */
static int
write_leaf (const char *dir, const struct mr_resources *res, mr_error_t *err)
{
  const typeof (res->cpu) *c = &res->cpu;
  bool period_later = false;

  if (SET (c->realtime_period)
      && mr_cg_writef (dir, RT_PERIOD, CFG_PERIOD, err, "%llu", (unsigned long long)c->realtime_period.v) < 0)
    {
      if ((*err)->errno_ != EINVAL || !SET (c->realtime_runtime))
        return -1;
      mr_error_free (err);
      period_later = true;
    }
  if (SET (c->realtime_runtime)
      && mr_cg_writef (dir, RT_RUNTIME, CFG_RUNTIME, err, "%lld", (long long)c->realtime_runtime.v) < 0)
    return -1;
  if (period_later
      && mr_cg_writef (dir, RT_PERIOD, CFG_PERIOD, err, "%llu", (unsigned long long)c->realtime_period.v) < 0)
    return -1;
  return 0;
}

int
mr_cg_v1_rt (const char *dir, const struct mr_resources *res, mr_error_t *err)
{
  cleanup_free char *parent = xstrdup (dir);
  char *slash = strrchr (parent, '/');
  if (slash && slash != parent)
    *slash = '\0';
  /* A parallel create may take a parent's budget between our raise and our
   * write: then the raise is computed again (bounded). */
  for (int attempt = 0;; attempt++)
    {
      if (raise_parents (dir, res, err) < 0)
        return -1;
      if (write_leaf (dir, res, err) == 0)
        return 0;
      if ((*err)->errno_ != EINVAL || attempt >= 2)
        break;
      mr_error_free (err);
    }
  if ((*err)->errno_ == EINVAL)
    {
      /* the kernel's EINVAL says neither which rule: name both */
      mr_error_t e = NULL;
      mr_error_set_explained (
          &e, EINVAL,
          "%s (the realtime runtime must be at most the period and fit in what `%s` has left "
          "for its children; minirun raises only the parents it made)",
          (*err)->msg, parent);
      mr_error_free (err);
      *err = e;
    }
  return -1;
}
