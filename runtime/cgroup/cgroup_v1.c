/* cgroup_v1.c: the cgroup v1 driver.  Writes linux.resources into the files
 * of one v1 hierarchy's directory (memory.*, cpu.*, cpuset.*, pids.max,
 * blkio.*, hugetlb.*, devices.allow/deny, net_cls/net_prio, rdma.max),
 * initialises new cpuset levels from their parent, drives the v1 freezer and
 * reads the v1 statistics; also the v1 device rule format ("c 1:3 rwm").
 * Which hierarchy gets which group is decided in
 * cgroup.c; every function here gets the directory to write. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#define SET(o) MR_CG_SET (o)

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
  snprintf (lim, sizeof lim, "%lld", (long long)m->limit.v);
  snprintf (sw, sizeof sw, "%lld", (long long)swap);
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
  else if (SET (m->limit)
           && mr_cg_write (dir, "memory.limit_in_bytes", lim, "linux.resources.memory.limit", err) < 0)
    return -1;
  else if (!SET (m->limit) && swap != 0
           && mr_cg_write (dir, memsw, sw, "linux.resources.memory.swap", err) < 0)
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
  if (SET (c->burst)
      && mr_cg_writef (dir, "cpu.cfs_burst_us", "linux.resources.cpu.burst", err, "%llu",
                       (unsigned long long)c->burst.v)
             < 0)
    return -1;
  if (SET (c->realtime_period)
      && mr_cg_writef (dir, "cpu.rt_period_us", "linux.resources.cpu.realtimePeriod", err, "%llu",
                       (unsigned long long)c->realtime_period.v)
             < 0)
    return -1;
  if (SET (c->realtime_runtime)
      && mr_cg_writef (dir, "cpu.rt_runtime_us", "linux.resources.cpu.realtimeRuntime", err, "%lld",
                       (long long)c->realtime_runtime.v)
             < 0)
    return -1;
  if (SET (c->idle)
      && mr_cg_writef (dir, "cpu.idle", "linux.resources.cpu.idle", err, "%lld", (long long)c->idle.v) < 0)
    return -1;
  return 0;
}

int
mr_cg_v1_cpuset (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (res->cpu.cpus && *res->cpu.cpus
      && mr_cg_write (dir, "cpuset.cpus", res->cpu.cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (res->cpu.mems && *res->cpu.mems
      && mr_cg_write (dir, "cpuset.mems", res->cpu.mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  return 0;
}

int
mr_cg_v1_pids (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (res->pids.limit.v > 0)
    return mr_cg_writef (dir, "pids.max", "linux.resources.pids.limit", err, "%lld",
                         (long long)res->pids.limit.v);
  return mr_cg_write (dir, "pids.max", "max", "linux.resources.pids.limit", err);
}

static int
throttle (const char *dir, const char *file, const char *cfg, const struct mr_throttle_device *t, size_t n,
          mr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char what[96];
      snprintf (what, sizeof what, "%s[%zu]", cfg, i);
      if (mr_cg_writef (dir, file, what, err, "%lld:%lld %llu", (long long)t[i].major, (long long)t[i].minor,
                        (unsigned long long)t[i].rate)
          < 0)
        return -1;
    }
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
      snprintf (what, sizeof what, "linux.resources.blockIO.weightDevice[%zu]", i);
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
  if (throttle (dir, "blkio.throttle.read_bps_device", "linux.resources.blockIO.throttleReadBpsDevice",
                b->throttle_read_bps, b->n_throttle_read_bps, err)
          < 0
      || throttle (dir, "blkio.throttle.write_bps_device", "linux.resources.blockIO.throttleWriteBpsDevice",
                   b->throttle_write_bps, b->n_throttle_write_bps, err)
             < 0
      || throttle (dir, "blkio.throttle.read_iops_device", "linux.resources.blockIO.throttleReadIOPSDevice",
                   b->throttle_read_iops, b->n_throttle_read_iops, err)
             < 0
      || throttle (dir, "blkio.throttle.write_iops_device", "linux.resources.blockIO.throttleWriteIOPSDevice",
                   b->throttle_write_iops, b->n_throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

/* Shared with v2 (suffix "max" there): an explicit limit of 0 is written,
 * it forbids huge pages. */
static int
hugetlb (const char *dir, const struct mr_resources *res, const char *suffix, mr_error_t *err)
{
  char sizes[8][16];
  size_t n_sizes = mr_cg_hugepage_sizes (sizes, 8);
  for (size_t i = 0; i < res->n_hugepage_limits; i++)
    {
      const struct mr_hugepage_limit *l = &res->hugepage_limits[i];
      char what[64], file[64];
      bool ok = false;
      snprintf (what, sizeof what, "linux.resources.hugepageLimits[%zu]", i);
      for (size_t k = 0; k < n_sizes; k++)
        ok |= strcmp (sizes[k], l->page_size) == 0;
      if (!ok)
        return mr_error_set (
            err, 0, "%s.pageSize: `%s` is not a huge page size of this host (see /sys/kernel/mm/hugepages)",
            what, l->page_size);
      snprintf (file, sizeof file, "hugetlb.%s.%s", l->page_size, suffix);
      if (mr_cg_writef (dir, file, what, err, "%llu", (unsigned long long)l->limit) < 0)
        return -1;
    }
  return 0;
}

int
mr_cg_v1_hugetlb (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return hugetlb (dir, res, "limit_in_bytes", err);
}

int
mr_cg_hugetlb_write (const char *dir, const struct mr_resources *res, const char *suffix, mr_error_t *err)
{
  return hugetlb (dir, res, suffix, err);
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
      snprintf (what, sizeof what, "linux.resources.network.priorities[%zu]", i);
      if (mr_cg_writef (dir, "net_prio.ifpriomap", what, err, "%s %u", res->network.priorities[i].name,
                        res->network.priorities[i].priority)
          < 0)
        return -1;
    }
  return 0;
}

int
mr_cg_v1_rdma (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  for (size_t i = 0; i < res->n_rdma; i++)
    {
      const struct mr_rdma_limit *r = &res->rdma[i];
      char what[48], line[256];
      int n = snprintf (line, sizeof line, "%s", r->device);
      snprintf (what, sizeof what, "linux.resources.rdma[\"%s\"]", r->device);
      if (r->hca_handles.set)
        n += snprintf (line + n, sizeof line - (size_t)n, " hca_handle=%llu",
                       (unsigned long long)r->hca_handles.v);
      if (r->hca_objects.set)
        snprintf (line + n, sizeof line - (size_t)n, " hca_object=%llu",
                  (unsigned long long)r->hca_objects.v);
      if ((r->hca_handles.set || r->hca_objects.set) && mr_cg_write (dir, "rdma.max", line, what, err) < 0)
        return -1;
    }
  return 0;
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
          snprintf (out->hugetlb[k].page_size, sizeof out->hugetlb[k].page_size, "%s", sizes[k]);
          snprintf (f, sizeof f, "hugetlb.%s.usage_in_bytes", sizes[k]);
          out->hugetlb[k].usage = mr_cg_read_u64 (cg->v1[i].dir, f);
          snprintf (f, sizeof f, "hugetlb.%s.max_usage_in_bytes", sizes[k]);
          out->hugetlb[k].max_usage = mr_cg_read_u64 (cg->v1[i].dir, f);
          snprintf (f, sizeof f, "hugetlb.%s.failcnt", sizes[k]);
          out->hugetlb[k].failcnt = mr_cg_read_u64 (cg->v1[i].dir, f);
        }
    }
}

void
mr_cg_device_rule_v1 (const struct mr_device_rule *r, char *buf, size_t len)
{
  char maj[24] = "*", min[24] = "*";
  const char *access = r->access[0] ? r->access : "rwm";
  if (r->type == 'a')
    {
      snprintf (buf, len, "a *:* %s", access);
      return;
    }
  if (r->major >= 0)
    snprintf (maj, sizeof maj, "%lld", (long long)r->major);
  if (r->minor >= 0)
    snprintf (min, sizeof min, "%lld", (long long)r->minor);
  snprintf (buf, len, "%c %s:%s %s", r->type, maj, min, access);
}
