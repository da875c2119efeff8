/* v1/stats.c: reading a v1 container cgroup from outside: the counters of
 * the controllers its v1 hierarchies hold (memory, cpuacct, cpu, pids,
 * hugetlb), per-CPU usage, and the OOM kill count with a way to wait for it
 * to change: an eventfd registered through cgroup.event_control for
 * memory.oom_control, signalled when the cgroup runs out of memory, just
 * before the OOM killer counts its kill (and when the cgroup is removed). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/v1/v1.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/utils.h"

void
mr_cg_v1_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out)
{
  int i;
  mr_error_t err = NULL;
  long hz = sysconf (_SC_CLK_TCK);

  if ((i = mr_cg_locate (cg, "memory", NULL)) >= 0)
    {
      const char *d = cg->v1[i].dir;
      cleanup_free char *st = NULL, *oom = NULL;
      out->memory.usage = mr_cg_read_u64 (d, "memory.usage_in_bytes");
      out->memory.max_usage = mr_cg_read_u64 (d, "memory.max_usage_in_bytes");
      out->memory.limit = mr_cg_read_u64 (d, "memory.limit_in_bytes");
      out->memory.failcnt = mr_cg_read_u64 (d, "memory.failcnt");
      out->memory.swap_usage = mr_cg_read_u64 (d, "memory.memsw.usage_in_bytes");
      out->memory.swap_limit = mr_cg_read_u64 (d, "memory.memsw.limit_in_bytes");
      if (mr_cg_read (d, "memory.stat", &st, &err) == 0)
        {
          out->memory.cache = mr_cg_kv (st, "total_cache", mr_cg_kv (st, "cache", 0));
          out->memory.rss = mr_cg_kv (st, "total_rss", mr_cg_kv (st, "rss", 0));
        }
      mr_error_free (&err);
      if (mr_cg_read (d, "memory.oom_control", &oom, &err) == 0)
        out->memory.oom_kill = out->memory.oom_events = mr_cg_kv (oom, "oom_kill", 0);
      mr_error_free (&err);
    }
  if ((i = mr_cg_locate (cg, "cpuacct", NULL)) >= 0)
    {
      cleanup_free char *st = NULL;
      out->cpu.usage_total = mr_cg_read_u64 (cg->v1[i].dir, "cpuacct.usage");
      if (mr_cg_read (cg->v1[i].dir, "cpuacct.stat", &st, &err) == 0 && hz > 0)
        {
          /* USER_HZ ticks -> ns */
          out->cpu.usage_user = mr_cg_kv (st, "user", 0) * (1000000000ULL / (uint64_t)hz);
          out->cpu.usage_kernel = mr_cg_kv (st, "system", 0) * (1000000000ULL / (uint64_t)hz);
        }
      mr_error_free (&err);
    }
  if ((i = mr_cg_locate (cg, "cpu", NULL)) >= 0)
    {
      cleanup_free char *st = NULL;
      if (mr_cg_read (cg->v1[i].dir, "cpu.stat", &st, &err) == 0)
        {
          out->cpu.periods = mr_cg_kv (st, "nr_periods", 0);
          out->cpu.throttled_periods = mr_cg_kv (st, "nr_throttled", 0);
          out->cpu.throttled_time = mr_cg_kv (st, "throttled_time", 0);
        }
      mr_error_free (&err);
    }
  if ((i = mr_cg_locate (cg, "pids", NULL)) >= 0)
    {
      out->pids.current = mr_cg_read_u64 (cg->v1[i].dir, "pids.current");
      out->pids.limit = mr_cg_read_u64 (cg->v1[i].dir, "pids.max");
    }
  if ((i = mr_cg_locate (cg, "hugetlb", NULL)) >= 0)
    {
      char sizes[4][16], f[64];
      out->n_hugetlb = mr_cg_hugepage_sizes (sizes, 4);
      for (size_t k = 0; k < out->n_hugetlb; k++)
        {
          (void) snprintf (out->hugetlb[k].page_size, sizeof out->hugetlb[k].page_size, "%s", sizes[k]);
          (void) snprintf (f, sizeof f, "hugetlb.%s.usage_in_bytes", sizes[k]);
          out->hugetlb[k].usage = mr_cg_read_u64 (cg->v1[i].dir, f);
          (void) snprintf (f, sizeof f, "hugetlb.%s.max_usage_in_bytes", sizes[k]);
          out->hugetlb[k].max_usage = mr_cg_read_u64 (cg->v1[i].dir, f);
          (void) snprintf (f, sizeof f, "hugetlb.%s.failcnt", sizes[k]);
          out->hugetlb[k].failcnt = mr_cg_read_u64 (cg->v1[i].dir, f);
        }
    }
}

int
mr_cg_v1_percpu (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, mr_error_t *err)
{
  int where = mr_cg_locate (cg, "cpuacct", NULL);
  cleanup_free char *pc = NULL;
  uint64_t *v = NULL;
  size_t n = 0;

  *percpu = NULL;
  *n_percpu = 0;
  if (where < 0)
    return 0;
  if (mr_cg_read (cg->v1[where].dir, "cpuacct.usage_percpu", &pc, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err); /* the cgroup is gone: nothing to report */
    }
  for (char *p = pc, *end; p && *p; p = end)
    {
      uint64_t x = strtoull (p, &end, 10);
      if (end == p)
        break;
      v = xrealloc (v, (n + 1) * sizeof *v);
      v[n++] = x;
    }
  *percpu = v;
  *n_percpu = n;
  return 0;
}

int
mr_cg_v1_oom_kills (const char *dir, uint64_t *count, mr_error_t *err)
{
  cleanup_free char *s = NULL;

  *count = 0;
  if (mr_cg_read (dir, "memory.oom_control", &s, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err); /* removed with the container */
      return 0;
    }
  *count = mr_cg_kv (s, "oom_kill", 0);
  return 0;
}

int
mr_cg_v1_oom_watch (const char *dir, int *fd, mr_error_t *err)
{
  cleanup_close int w = -1, ctl = -1;
  cleanup_free char *path = xasprintf ("%s/memory.oom_control", dir);

  *fd = -1;
  w = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w < 0)
    return mr_error_set (err, errno, "eventfd");
  ctl = open (path, O_RDONLY | O_CLOEXEC);
  if (ctl < 0)
    return mr_error_set (err, errno, "open `%s`", path);
  if (mr_cg_writef (dir, "cgroup.event_control", NULL, err, "%d %d", w, ctl) < 0)
    return -1;
  *fd = MR_STEAL_FD (w);
  return 0;
}
