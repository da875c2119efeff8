/* v2/stats.c: reading a v2 container cgroup from outside: the counters of
 * the controllers the unified tree holds for it (memory, cpu.stat, pids,
 * hugetlb; on a hybrid host only those v1 does not have), and the OOM kill
 * count with a way to wait for it to change: inotify on memory.events,
 * notified after the count changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup/v2/v2.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/utils.h"

void
mr_cg_v2_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out)
{
  const char *d = cg->v2_dir;
  mr_error_t err = NULL;

  if (mr_cg_locate (cg, "memory", "memory") == MR_CG_V2)
    {
      cleanup_free char *ev = NULL, *st = NULL;
      uint64_t swap_max = mr_cg_read_u64 (d, "memory.swap.max");
      out->memory.usage = mr_cg_read_u64 (d, "memory.current");
      out->memory.max_usage = mr_cg_read_u64 (d, "memory.peak");
      out->memory.limit = mr_cg_read_u64 (d, "memory.max");
      /* swap_* keep v1's memory+swap meaning */
      out->memory.swap_usage = mr_cg_read_u64 (d, "memory.swap.current") + out->memory.usage;
      out->memory.swap_limit = swap_max && out->memory.limit ? swap_max + out->memory.limit : 0;
      if (mr_cg_read (d, "memory.events", &ev, &err) == 0)
        {
          out->memory.failcnt = mr_cg_kv (ev, "max", 0);
          out->memory.oom_events = mr_cg_kv (ev, "oom", 0);
          out->memory.oom_kill = mr_cg_kv (ev, "oom_kill", 0);
        }
      mr_error_free (&err);
      if (mr_cg_read (d, "memory.stat", &st, &err) == 0)
        {
          out->memory.cache = mr_cg_kv (st, "file", 0);
          out->memory.rss = mr_cg_kv (st, "anon", 0);
        }
      mr_error_free (&err);
    }
  if (mr_cg_locate (cg, "cpuacct", NULL) < 0)
    {
      /* cpu.stat's usage lines exist in every v2 cgroup, throttling only with the cpu controller */
      cleanup_free char *st = NULL;
      if (mr_cg_read (d, "cpu.stat", &st, &err) == 0)
        {
          out->cpu.usage_total = mr_cg_kv (st, "usage_usec", 0) * 1000;
          out->cpu.usage_user = mr_cg_kv (st, "user_usec", 0) * 1000;
          out->cpu.usage_kernel = mr_cg_kv (st, "system_usec", 0) * 1000;
          if (mr_cg_locate (cg, "cpu", "cpu") == MR_CG_V2)
            {
              out->cpu.periods = mr_cg_kv (st, "nr_periods", 0);
              out->cpu.throttled_periods = mr_cg_kv (st, "nr_throttled", 0);
              out->cpu.throttled_time = mr_cg_kv (st, "throttled_usec", 0) * 1000;
            }
        }
      mr_error_free (&err);
    }
  if (mr_cg_locate (cg, "pids", "pids") == MR_CG_V2)
    {
      out->pids.current = mr_cg_read_u64 (d, "pids.current");
      out->pids.limit = mr_cg_read_u64 (d, "pids.max");
    }
  if (mr_cg_locate (cg, "hugetlb", "hugetlb") == MR_CG_V2)
    {
      char sizes[4][16], f[64];
      out->n_hugetlb = mr_cg_hugepage_sizes (sizes, 4);
      for (size_t k = 0; k < out->n_hugetlb; k++)
        {
          cleanup_free char *ev = NULL;
          (void) snprintf (out->hugetlb[k].page_size, sizeof out->hugetlb[k].page_size, "%s", sizes[k]);
          (void) snprintf (f, sizeof f, "hugetlb.%s.current", sizes[k]);
          out->hugetlb[k].usage = mr_cg_read_u64 (d, f);
          (void) snprintf (f, sizeof f, "hugetlb.%s.events", sizes[k]);
          if (mr_cg_read (d, f, &ev, &err) == 0)
            out->hugetlb[k].failcnt = mr_cg_kv (ev, "max", 0);
          mr_error_free (&err);
        }
    }
}

int
mr_cg_v2_oom_kills (const char *dir, uint64_t *count, mr_error_t *err)
{
  cleanup_free char *s = NULL;

  *count = 0;
  if (mr_cg_read (dir, "memory.events", &s, err) < 0)
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
mr_cg_v2_oom_watch (const char *dir, int *fd, mr_error_t *err)
{
  cleanup_close int w = -1;
  cleanup_free char *path = xasprintf ("%s/memory.events", dir);

  *fd = -1;
  w = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (w < 0)
    return mr_error_set (err, errno, "inotify_init1");
  if (inotify_add_watch (w, path, IN_MODIFY) < 0)
    return mr_error_set (err, errno, "watch `%s`", path);
  *fd = MR_STEAL_FD (w);
  return 0;
}
