/* cgroup_stats.c: reading a container's cgroup from outside: the statistics
 * (each driver fills the counters of the controllers it holds, v2 first so
 * that a v1 controller on a hybrid host wins), the variable-size extras
 * (per-CPU usage, memory.stat), and the OOM kill count with a way to wait
 * for it to change: inotify on v2's memory.events (notified after the count
 * changed), an eventfd registered through v1's cgroup.event_control for
 * memory.oom_control (signalled when the cgroup runs out of memory, just
 * before the OOM killer counts its kill). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/utils.h"

int
mr_cgroup_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (cg->v2_dir)
    mr_cg_v2_stats (cg, out);
  if (cg->n_v1)
    mr_cg_v1_stats (cg, out);
  return 0;
}

/* The directory holding the memory controller, NULL when there is none. */
static const char *
memory_dir (const struct mr_cgroup *cg)
{
  int where = mr_cg_locate (cg, "memory", "memory");
  return where >= 0 ? cg->v1[where].dir : where == MR_CG_V2 ? cg->v2_dir : NULL;
}

int
mr_cgroup_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                        mr_error_t *err)
{
  const char *mem = memory_dir (cg);
  int where = mr_cg_locate (cg, "cpuacct", NULL);
  cleanup_free char *pc = NULL;
  uint64_t *v = NULL;
  size_t n = 0;

  *percpu = NULL;
  *n_percpu = 0;
  *memory_stat = NULL;
  if (where >= 0)
    {
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
    }
  if (mem && mr_cg_read (mem, "memory.stat", memory_stat, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        {
          free (v);
          return -1;
        }
      mr_error_free (err);
    }
  *percpu = v;
  *n_percpu = n;
  return 0;
}

int
mr_cgroup_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err)
{
  const char *mem = memory_dir (cg);
  cleanup_free char *s = NULL;

  *count = 0;
  if (mem == NULL)
    return 0;
  if (mr_cg_read (mem, mem == cg->v2_dir ? "memory.events" : "memory.oom_control", &s, err) < 0)
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
mr_cgroup_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err)
{
  const char *mem = memory_dir (cg);
  cleanup_close int w = -1, ctl = -1;
  cleanup_free char *path = NULL;

  *fd = -1;
  if (mem == NULL)
    return 0;
  if (mem == cg->v2_dir)
    {
      path = xasprintf ("%s/memory.events", mem);
      w = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (w < 0)
        return mr_error_set (err, errno, "inotify_init1");
      if (inotify_add_watch (w, path, IN_MODIFY) < 0)
        return mr_error_set (err, errno, "watch `%s`", path);
    }
  else
    {
      /* v1: an eventfd the kernel signals when the cgroup is out of memory
       * (before the OOM killer acts) and when the cgroup is removed. */
      path = xasprintf ("%s/memory.oom_control", mem);
      w = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (w < 0)
        return mr_error_set (err, errno, "eventfd");
      ctl = open (path, O_RDONLY | O_CLOEXEC);
      if (ctl < 0)
        return mr_error_set (err, errno, "open `%s`", path);
      if (mr_cg_writef (mem, "cgroup.event_control", NULL, err, "%d %d", w, ctl) < 0)
        return -1;
    }
  *fd = MR_STEAL_FD (w);
  return 0;
}
