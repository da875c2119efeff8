/* v2/resources.c: the cgroup v2 writers.  linux.resources into v2 files,
 * converting the OCI v1-style values as runc does (cpu.shares ->
 * cpu.weight, blkio weight -> io.weight, memory+swap -> memory.swap.max,
 * quota/period -> cpu.max), the throttles as io.max lines, device rules
 * through the eBPF filter (v2/ebpf.c), linux.resources.unified verbatim;
 * cpuset, pids, hugetlb and rdma come from common/writers.c.  Also the
 * table the dispatch (common/resources.c) takes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/v2/v2.h"
#include "cgroup/common/util.h"
#include "cgroup/common/writers.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#define SET(o) MR_CG_SET (o)

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
  if (c->burst.set /* 0 is a value: no burst (runc writes it too) */
      && mr_cg_writef (dir, "cpu.max.burst", "linux.resources.cpu.burst", err, "%llu",
                       (unsigned long long) c->burst.v)
             < 0)
    return -1;
  if (c->idle.set /* 0 is a value: back to normal weight */
      && mr_cg_writef (dir, "cpu.idle", "linux.resources.cpu.idle", err, "%lld", (long long) c->idle.v) < 0)
    return -1;
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
      (void) snprintf (what, sizeof what, "linux.resources.blockIO.weightDevice[%zu]", i);
      if (SET (w->weight)
          && mr_cg_writef (
                 dir, bfq ? "io.bfq.weight" : "io.weight", what, err, "%lld:%lld %llu", (long long) w->major,
                 (long long) w->minor,
                 (unsigned long long) (bfq ? w->weight.v : mr_cgroup_blkio_weight_to_io (w->weight.v)))
                 < 0)
        return -1;
    }
  if (mr_cg_write_device_rates (dir, "io.max", "rbps", "linux.resources.blockIO.throttleReadBpsDevice",
                                b->throttle_read_bps, b->n_throttle_read_bps, err)
          < 0
      || mr_cg_write_device_rates (dir, "io.max", "wbps", "linux.resources.blockIO.throttleWriteBpsDevice",
                                   b->throttle_write_bps, b->n_throttle_write_bps, err)
             < 0
      || mr_cg_write_device_rates (dir, "io.max", "riops", "linux.resources.blockIO.throttleReadIOPSDevice",
                                   b->throttle_read_iops, b->n_throttle_read_iops, err)
             < 0
      || mr_cg_write_device_rates (dir, "io.max", "wiops", "linux.resources.blockIO.throttleWriteIOPSDevice",
                                   b->throttle_write_iops, b->n_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

int
mr_cg_v2_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_write_hugetlb (dir, res, "max", err);
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
      (void) snprintf (what, sizeof what, "linux.resources.unified[\"%s\"]", key);
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
    (void) snprintf (buf + n, len - (size_t) n, " %llu", (unsigned long long) period->v);
  return true;
}

const struct mr_cg_writers mr_cg_v2_writers = {
  .group = {
    [MR_CG_G_MEMORY] = mr_cg_v2_memory,
    [MR_CG_G_CPU] = mr_cg_v2_cpu,
    [MR_CG_G_CPUSET] = mr_cg_write_cpuset, /* same file names on v2 */
    [MR_CG_G_PIDS] = mr_cg_write_pids,     /* same file and values on v2 */
    [MR_CG_G_BLKIO] = mr_cg_v2_io,
    [MR_CG_G_HUGETLB] = mr_cg_v2_hugetlb,
    [MR_CG_G_DEVICES] = mr_cg_v2_devices,
    [MR_CG_G_RDMA] = mr_cg_write_rdma,     /* rdma.max has the same format on v1 and v2 */
  },
  .unified = mr_cg_v2_unified,
};
