/* cgroup_v2.c: the cgroup v2 driver.  Enables controllers in parents'
 * cgroup.subtree_control, writes linux.resources into v2 files (converting
 * the OCI v1-style values as runc does: cpu.shares -> cpu.weight, blkio
 * weight -> io.weight, memory+swap -> memory.swap.max, quota/period ->
 * cpu.max), writes linux.resources.unified verbatim, hands device rules to the
 * eBPF filter (cgroup_ebpf.c), and drives cgroup.freeze, cgroup.kill and the
 * v2 statistics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#define SET(o) MR_CG_SET (o)

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
      snprintf (plus, sizeof plus, "+%s", want[i]);
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

static int
write_max (const char *dir, const char *file, int64_t v, const char *cfg, mr_error_t *err)
{
  if (v < 0)
    return mr_cg_write (dir, file, "max", cfg, err);
  return mr_cg_writef (dir, file, cfg, err, "%lld", (long long) v);
}

int
mr_cg_v2_memory (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  const typeof (res->memory) *m = &res->memory;
  int64_t swap = 0;
  int has_swap
      = mr_cgroup_swap_to_v2 (SET (m->swap) ? m->swap.v : 0, SET (m->limit) ? m->limit.v : 0, &swap, err);

  if (has_swap < 0)
    return -1;
  if (update && m->has_check_before_update && m->check_before_update && SET (m->limit) && m->limit.v > 0)
    {
      uint64_t usage = mr_cg_read_u64 (dir, "memory.current");
      if (usage > (uint64_t) m->limit.v)
        return mr_error_set (err, 0,
                             "linux.resources.memory.limit (%lld) is below the current usage (%llu) and "
                             "checkBeforeUpdate is set",
                             (long long) m->limit.v, (unsigned long long) usage);
    }
  if (SET (m->limit) && write_max (dir, "memory.max", m->limit.v, "linux.resources.memory.limit", err) < 0)
    return -1;
  if (has_swap && !mr_cg_exists (dir, "memory.swap.max"))
    {
      if (SET (m->swap))
        return mr_error_set (
            err, 0,
            "linux.resources.memory.swap: swap accounting is not available (`memory.swap.max` "
            "missing in `%s`); boot the kernel with swapaccount=1 or remove the swap limit",
            dir);
    }
  else if (has_swap && write_max (dir, "memory.swap.max", swap, "linux.resources.memory.swap", err) < 0)
    return -1;
  if (SET (m->reservation)
      && write_max (dir, "memory.low", m->reservation.v, "linux.resources.memory.reservation", err) < 0)
    return -1;
  if (m->swappiness.set)
    mr_log_warning ("linux.resources.memory.swappiness ignored: cgroup v2 has no per-cgroup swappiness");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    mr_log_warning (
        "linux.resources.memory.disableOOMKiller ignored: cgroup v2 cannot disable the OOM killer");
  if (m->has_use_hierarchy && !m->use_hierarchy)
    mr_log_warning ("linux.resources.memory.useHierarchy=false ignored: cgroup v2 is always hierarchical");
  return 0;
}

int
mr_cg_v2_cpu (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  const typeof (res->cpu) *c = &res->cpu;
  char max[64];

  if (SET (c->realtime_runtime) || SET (c->realtime_period))
    return mr_error_set (err, 0,
                         "linux.resources.cpu.%s: realtime scheduling limits are not supported on cgroup v2",
                         SET (c->realtime_runtime) ? "realtimeRuntime" : "realtimePeriod");
  if (SET (c->shares)
      && mr_cg_writef (dir, "cpu.weight", "linux.resources.cpu.shares", err, "%llu",
                       (unsigned long long) mr_cgroup_shares_to_weight (c->shares.v))
             < 0)
    return -1;
  if (mr_cg_cpu_max (&c->quota, &c->period, max, sizeof max)
      && mr_cg_write (dir, "cpu.max", max,
                      SET (c->quota) ? "linux.resources.cpu.quota" : "linux.resources.cpu.period", err)
             < 0)
    return -1;
  if (SET (c->burst)
      && mr_cg_writef (dir, "cpu.max.burst", "linux.resources.cpu.burst", err, "%llu",
                       (unsigned long long) c->burst.v)
             < 0)
    return -1;
  if (SET (c->idle)
      && mr_cg_writef (dir, "cpu.idle", "linux.resources.cpu.idle", err, "%lld", (long long) c->idle.v) < 0)
    return -1;
  return 0;
}

int
mr_cg_v2_cpuset (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_v1_cpuset (dir, res, update, err); /* same file names on v2 */
}

int
mr_cg_v2_pids (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_v1_pids (dir, res, update, err); /* same file and values on v2 */
}

static int
io_max (const char *dir, const char *key, const char *cfg, const struct mr_throttle_device *t, size_t n,
        mr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char what[96];
      snprintf (what, sizeof what, "%s[%zu]", cfg, i);
      if (mr_cg_writef (dir, "io.max", what, err, "%lld:%lld %s=%llu", (long long) t[i].major,
                        (long long) t[i].minor, key, (unsigned long long) t[i].rate)
          < 0)
        return -1;
    }
  return 0;
}

int
mr_cg_v2_io (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  const typeof (res->block_io) *b = &res->block_io;
  /* BFQ keeps blkio's 1..1000 scale; io.weight is 1..10000. */
  bool bfq = !mr_cg_exists (dir, "io.weight") && mr_cg_exists (dir, "io.bfq.weight");

  if (SET (b->weight)
      && mr_cg_writef (dir, bfq ? "io.bfq.weight" : "io.weight", "linux.resources.blockIO.weight", err,
                       "%llu",
                       (unsigned long long) (bfq ? b->weight.v : mr_cgroup_blkio_weight_to_io (b->weight.v)))
             < 0)
    return -1;
  if (SET (b->leaf_weight))
    mr_log_warning ("linux.resources.blockIO.leafWeight ignored: cgroup v2 has no leaf weight");
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct mr_weight_device *w = &b->weight_device[i];
      char what[64];
      snprintf (what, sizeof what, "linux.resources.blockIO.weightDevice[%zu]", i);
      if (SET (w->weight)
          && mr_cg_writef (
                 dir, bfq ? "io.bfq.weight" : "io.weight", what, err, "%lld:%lld %llu", (long long) w->major,
                 (long long) w->minor,
                 (unsigned long long) (bfq ? w->weight.v : mr_cgroup_blkio_weight_to_io (w->weight.v)))
                 < 0)
        return -1;
    }
  if (io_max (dir, "rbps", "linux.resources.blockIO.throttleReadBpsDevice", b->throttle_read_bps,
              b->n_throttle_read_bps, err)
          < 0
      || io_max (dir, "wbps", "linux.resources.blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
                 b->n_throttle_write_bps, err)
             < 0
      || io_max (dir, "riops", "linux.resources.blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
                 b->n_throttle_read_iops, err)
             < 0
      || io_max (dir, "wiops", "linux.resources.blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
                 b->n_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

int
mr_cg_v2_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_hugetlb_write (dir, res, "max", err);
}

int
mr_cg_v2_devices (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (mr_cg_ebpf_apply (dir, res->devices, res->n_devices, err) < 0)
    return mr_error_wrap (err, "linux.resources.devices");
  return 0;
}

int
mr_cg_v2_unified (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  for (size_t i = 0; i < res->n_unified; i++)
    {
      const char *key = res->unified[i].key;
      char what[160], ctrl[32];
      size_t l = strcspn (key, ".");
      snprintf (what, sizeof what, "linux.resources.unified[\"%s\"]", key);
      if (strchr (key, '/') || key[l] == '\0' || l == 0 || l >= sizeof ctrl)
        return mr_error_set (err, 0, "%s: not a cgroup v2 file name (expected `<controller>.<file>`)", what);
      memcpy (ctrl, key, l);
      ctrl[l] = '\0';
      if (strcmp (ctrl, "cgroup") != 0 && !mr_cg_list_has (cg->host->v2_controllers, ' ', ctrl))
        return mr_error_set (err, 0, "%s: %s controller not available in cgroup v2 at %s", what, ctrl,
                             cg->host->v2_mount);
      if (mr_cg_write (cg->v2_dir, key, res->unified[i].value, what, err) < 0)
        return -1;
    }
  return 0;
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
          snprintf (out->hugetlb[k].page_size, sizeof out->hugetlb[k].page_size, "%s", sizes[k]);
          snprintf (f, sizeof f, "hugetlb.%s.current", sizes[k]);
          out->hugetlb[k].usage = mr_cg_read_u64 (d, f);
          snprintf (f, sizeof f, "hugetlb.%s.events", sizes[k]);
          if (mr_cg_read (d, f, &ev, &err) == 0)
            out->hugetlb[k].failcnt = mr_cg_kv (ev, "max", 0);
          mr_error_free (&err);
        }
    }
}

/* ---------- v1 -> v2 value conversions ---------- */

uint64_t
mr_cgroup_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
mr_cgroup_blkio_weight_to_io (uint64_t weight)
{
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + (weight - 10) * 9999 / 990;
}

int
mr_cgroup_swap_to_v2 (int64_t swap, int64_t limit, int64_t *out, mr_error_t *err)
{
  if (limit == -1 && swap == 0)
    {
      *out = -1;
      return 1;
    }
  if (swap == 0)
    return 0;
  if (swap == -1)
    {
      *out = -1;
      return 1;
    }
  if (limit <= 0)
    return mr_error_set (
        err, 0, "linux.resources.memory.swap (%lld): needs a memory limit (memory.limit) on cgroup v2",
        (long long) swap);
  if (swap < limit)
    return mr_error_set (
        err, 0, "linux.resources.memory.swap (%lld) must be >= memory.limit (%lld): it is memory+swap",
        (long long) swap, (long long) limit);
  *out = swap - limit;
  return 1;
}

bool
mr_cg_cpu_max (const struct mr_opt_i64 *quota, const struct mr_opt_u64 *period, char *buf, size_t len)
{
  int n;
  if (!MR_CG_SET (*quota) && !MR_CG_SET (*period))
    return false;
  n = quota->set && quota->v > 0 ? snprintf (buf, len, "%lld", (long long) quota->v)
                                 : snprintf (buf, len, "max");
  if (MR_CG_SET (*period))
    snprintf (buf + n, len - (size_t) n, " %llu", (unsigned long long) period->v);
  return true;
}
