/* v1/resources.c: the cgroup v1 writers.  linux.resources into the files
 * of one v1 hierarchy's directory: memory.* (limit and memsw in the order
 * the kernel accepts), memory.kmem.tcp, cpu.* (the realtime budget with the
 * parents minirun made, v1/levels.c), blkio.* (CFQ or BFQ names),
 * devices.allow/deny, net_cls, net_prio; the groups both versions write
 * alike (cpuset, pids, hugetlb, rdma) come from common/writers.c.  Also the
 * v1 device rule format ("c 1:3 rwm") and the table the dispatch
 * (common/resources.c) takes. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/v1/v1.h"
#include "cgroup/common/util.h"
#include "cgroup/common/writers.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#define SET(o) MR_CG_SET (o)

int
mr_cg_v1_memory (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  const typeof (res->memory) *m = &res->memory;
  const char *memsw = "memory.memsw.limit_in_bytes";
  int64_t swap = SET (m->swap) ? m->swap.v : 0;
  char lim[32], sw[32];

  /* memory -1 with no swap given: both unlimited (as runc). */
  if (swap == 0 && SET (m->limit) && m->limit.v == -1 && mr_cg_exists (dir, memsw))
    swap = -1;
  if (SET (m->limit) && m->limit.v > 0 && swap > 0 && swap < m->limit.v)
    return mr_error_set (err, 0,
                         "linux.resources.memory.swap (%lld) must be >= memory.limit (%lld): it limits "
                         "memory+swap",
                         (long long)swap, (long long)m->limit.v);
  if (swap != 0 && !mr_cg_exists (dir, memsw))
    return mr_error_set (
        err, 0,
        "linux.resources.memory.swap: swap accounting is not available (`%s` missing in `%s`); "
        "boot the kernel with swapaccount=1 or remove the swap limit",
        memsw, dir);
  if (update && m->has_check_before_update && m->check_before_update && SET (m->limit) && m->limit.v > 0)
    {
      uint64_t usage = mr_cg_read_u64 (dir, "memory.usage_in_bytes");
      if (usage > (uint64_t)m->limit.v)
        return mr_error_set (err, 0,
                             "linux.resources.memory.limit (%lld) is below the current usage (%llu) and "
                             "checkBeforeUpdate is set",
                             (long long)m->limit.v, (unsigned long long)usage);
    }
  (void) snprintf (lim, sizeof lim, "%lld", (long long)m->limit.v);
  (void) snprintf (sw, sizeof sw, "%lld", (long long)swap);
  if (SET (m->limit) && swap != 0)
    {
      /* The kernel keeps limit <= memsw at every step: raise memsw first
       * when it grows past the current limit, else lower the limit first. */
      uint64_t cur = mr_cg_read_u64 (dir, "memory.limit_in_bytes");
      bool memsw_first = swap == -1 || (uint64_t)swap >= cur;
      if (mr_cg_write (dir, memsw_first ? memsw : "memory.limit_in_bytes", memsw_first ? sw : lim,
                       memsw_first ? "linux.resources.memory.swap" : "linux.resources.memory.limit", err)
              < 0
          || mr_cg_write (dir, memsw_first ? "memory.limit_in_bytes" : memsw, memsw_first ? lim : sw,
                          memsw_first ? "linux.resources.memory.limit" : "linux.resources.memory.swap", err)
                 < 0)
        return -1;
    }
  else if ((SET (m->limit)
            && mr_cg_write (dir, "memory.limit_in_bytes", lim, "linux.resources.memory.limit", err) < 0)
           || (!SET (m->limit) && swap != 0
               && mr_cg_write (dir, memsw, sw, "linux.resources.memory.swap", err) < 0))
    return -1;
  if (SET (m->reservation)
      && mr_cg_writef (dir, "memory.soft_limit_in_bytes", "linux.resources.memory.reservation", err, "%lld",
                       (long long)m->reservation.v)
             < 0)
    return -1;
  if (m->swappiness.set)
    {
      if (m->swappiness.v > 100)
        return mr_error_set (err, 0, "linux.resources.memory.swappiness: %llu is not in 0..100",
                             (unsigned long long)m->swappiness.v);
      if (mr_cg_writef (dir, "memory.swappiness", "linux.resources.memory.swappiness", err, "%llu",
                        (unsigned long long)m->swappiness.v)
          < 0)
        return -1;
    }
  if (m->has_disable_oom_killer && (m->disable_oom_killer || update)
      && mr_cg_write (dir, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                      "linux.resources.memory.disableOOMKiller", err)
             < 0)
    return -1;
  if (m->has_use_hierarchy
      && mr_cg_write (dir, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0",
                      "linux.resources.memory.useHierarchy", err)
             < 0)
    return -1;
  return 0;
}

int
mr_cg_v1_kernel_tcp (const char *dir, const struct mr_resources *res, mr_error_t *err)
{
  static const char file[] = "memory.kmem.tcp.limit_in_bytes";
  if (!MR_CG_SET (res->memory.kernel_tcp))
    return 0;
  if (!mr_cg_exists (dir, file))
    {
      mr_log_warning ("linux.resources.memory.kernelTCP ignored: this kernel's v1 memory controller has no "
                      "TCP buffer limit (`%s` missing in `%s`)",
                      file, dir);
      return 0;
    }
  return mr_cg_writef (dir, file, "linux.resources.memory.kernelTCP", err, "%lld",
                       (long long)res->memory.kernel_tcp.v);
}

int
mr_cg_v1_cpu (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  const typeof (res->cpu) *c = &res->cpu;
  bool period_later = false;

  if (SET (c->shares)
      && mr_cg_writef (dir, "cpu.shares", "linux.resources.cpu.shares", err, "%llu",
                       (unsigned long long)c->shares.v)
             < 0)
    return -1;
  if (SET (c->period)
      && mr_cg_writef (dir, "cpu.cfs_period_us", "linux.resources.cpu.period", err, "%llu",
                       (unsigned long long)c->period.v)
             < 0)
    {
      /* A smaller period can be refused while the old quota/new period
       * exceeds the parent's; retry once the quota is set. */
      if ((*err)->errno_ != EINVAL || !SET (c->quota))
        return -1;
      mr_error_free (err);
      period_later = true;
    }
  if (SET (c->quota)
      && mr_cg_writef (dir, "cpu.cfs_quota_us", "linux.resources.cpu.quota", err, "%lld",
                       (long long)c->quota.v)
             < 0)
    return -1;
  if (period_later
      && mr_cg_writef (dir, "cpu.cfs_period_us", "linux.resources.cpu.period", err, "%llu",
                       (unsigned long long)c->period.v)
             < 0)
    return -1;
  if (c->burst.set /* 0 is a value: no burst (runc writes it too) */
      && mr_cg_writef (dir, "cpu.cfs_burst_us", "linux.resources.cpu.burst", err, "%llu",
                       (unsigned long long)c->burst.v)
             < 0)
    return -1;
  if ((SET (c->realtime_runtime) || SET (c->realtime_period)) && mr_cg_v1_rt (dir, res, err) < 0)
    return -1;
  if (c->idle.set /* 0 is a value: back to normal weight */
      && mr_cg_writef (dir, "cpu.idle", "linux.resources.cpu.idle", err, "%lld", (long long)c->idle.v) < 0)
    return -1;
  return 0;
}

int
mr_cg_v1_blkio (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  const typeof (res->block_io) *b = &res->block_io;
  /* Without CFQ the proportional weight lives in BFQ's files. */
  bool bfq = !mr_cg_exists (dir, "blkio.weight") && mr_cg_exists (dir, "blkio.bfq.weight");

  if (SET (b->weight)
      && mr_cg_writef (dir, bfq ? "blkio.bfq.weight" : "blkio.weight", "linux.resources.blockIO.weight", err,
                       "%llu", (unsigned long long)b->weight.v)
             < 0)
    return -1;
  if (SET (b->leaf_weight)
      && mr_cg_writef (dir, "blkio.leaf_weight", "linux.resources.blockIO.leafWeight", err, "%llu",
                       (unsigned long long)b->leaf_weight.v)
             < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct mr_weight_device *w = &b->weight_device[i];
      char what[64];
      (void) snprintf (what, sizeof what, "linux.resources.blockIO.weightDevice[%zu]", i);
      if (SET (w->weight)
          && mr_cg_writef (dir, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", what, err,
                           "%lld:%lld %llu", (long long)w->major, (long long)w->minor,
                           (unsigned long long)w->weight.v)
                 < 0)
        return -1;
      if (SET (w->leaf_weight)
          && mr_cg_writef (dir, "blkio.leaf_weight_device", what, err, "%lld:%lld %llu", (long long)w->major,
                           (long long)w->minor, (unsigned long long)w->leaf_weight.v)
                 < 0)
        return -1;
    }
  if (mr_cg_write_device_rates (dir, "blkio.throttle.read_bps_device", NULL,
                                "linux.resources.blockIO.throttleReadBpsDevice", b->throttle_read_bps,
                                b->n_throttle_read_bps, err)
          < 0
      || mr_cg_write_device_rates (dir, "blkio.throttle.write_bps_device", NULL,
                                   "linux.resources.blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
                                   b->n_throttle_write_bps, err)
             < 0
      || mr_cg_write_device_rates (dir, "blkio.throttle.read_iops_device", NULL,
                                   "linux.resources.blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
                                   b->n_throttle_read_iops, err)
             < 0
      || mr_cg_write_device_rates (dir, "blkio.throttle.write_iops_device", NULL,
                                   "linux.resources.blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
                                   b->n_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

/* Deny everything, then replay the rules in order (each write edits the
 * kernel's exception list, so order matters as in the config).  One open
 * of each file for all the rules (a write is one rule): every open is a
 * path walk through cgroupfs, which parallel creates contend on. */
int
mr_cg_v1_devices (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  cleanup_free char *allow_path = xasprintf ("%s/devices.allow", dir);
  cleanup_free char *deny_path = xasprintf ("%s/devices.deny", dir);
  cleanup_close int allow = -1;
  cleanup_close int deny = open (deny_path, O_WRONLY | O_CLOEXEC);

  if (deny < 0)
    return mr_error_set (err, errno, "linux.resources.devices: open `%s`", deny_path);
  if (mr_write_all (deny, "a", 1) < 0)
    return mr_error_set (err, errno, "linux.resources.devices: write `a` to `%s`", deny_path);
  for (size_t i = 0; i < res->n_devices; i++)
    {
      const struct mr_device_rule *r = &res->devices[i];
      const char *path = r->allow ? allow_path : deny_path;
      char rule[80];
      int fd;
      if (r->allow && allow < 0 && (allow = open (allow_path, O_WRONLY | O_CLOEXEC)) < 0)
        return mr_error_set (err, errno, "linux.resources.devices[%zu]: open `%s`", i, allow_path);
      fd = r->allow ? allow : deny;
      mr_cg_device_rule_v1 (r, rule, sizeof rule);
      if (mr_write_all (fd, rule, strlen (rule)) < 0)
        return mr_error_set (err, errno, "linux.resources.devices[%zu]: write `%s` to `%s`", i, rule, path);
    }
  return 0;
}

int
mr_cg_v1_net_cls (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_writef (dir, "net_cls.classid", "linux.resources.network.classID", err, "%llu",
                       (unsigned long long)res->network.class_id.v);
}

int
mr_cg_v1_net_prio (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  for (size_t i = 0; i < res->network.n_priorities; i++)
    {
      char what[64];
      (void) snprintf (what, sizeof what, "linux.resources.network.priorities[%zu]", i);
      if (mr_cg_writef (dir, "net_prio.ifpriomap", what, err, "%s %u", res->network.priorities[i].name,
                        res->network.priorities[i].priority)
          < 0)
        return -1;
    }
  return 0;
}

void
mr_cg_device_rule_v1 (const struct mr_device_rule *r, char *buf, size_t len)
{
  char maj[24] = "*", min[24] = "*";
  const char *access = r->access[0] ? r->access : "rwm";
  if (r->type == 'a')
    {
      (void) snprintf (buf, len, "a *:* %s", access);
      return;
    }
  if (r->major >= 0)
    (void) snprintf (maj, sizeof maj, "%lld", (long long)r->major);
  if (r->minor >= 0)
    (void) snprintf (min, sizeof min, "%lld", (long long)r->minor);
  (void) snprintf (buf, len, "%c %s:%s %s", r->type, maj, min, access);
}

static int
v1_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_write_hugetlb (dir, res, "limit_in_bytes", err);
}

static int
v1_kernel_tcp (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return mr_cg_v1_kernel_tcp (dir, res, err);
}

const struct mr_cg_writers mr_cg_v1_writers = {
  .group = {
    [MR_CG_G_MEMORY] = mr_cg_v1_memory,
    [MR_CG_G_CPU] = mr_cg_v1_cpu,
    [MR_CG_G_CPUSET] = mr_cg_write_cpuset,
    [MR_CG_G_PIDS] = mr_cg_write_pids,
    [MR_CG_G_BLKIO] = mr_cg_v1_blkio,
    [MR_CG_G_HUGETLB] = v1_hugetlb,
    [MR_CG_G_DEVICES] = mr_cg_v1_devices,
    [MR_CG_G_NET_CLS] = mr_cg_v1_net_cls,
    [MR_CG_G_NET_PRIO] = mr_cg_v1_net_prio,
    [MR_CG_G_RDMA] = mr_cg_write_rdma,
  },
  .kernel_tcp = v1_kernel_tcp,
};
