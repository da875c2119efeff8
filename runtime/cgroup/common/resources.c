/* common/resources.c: where each linux.resources group goes.  A table maps
 * every group (memory, cpu, cpuset, pids, blkio/io, hugetlb, devices,
 * net_cls, net_prio, rdma) to its v1 and v2 controller names and the first
 * config path given for it; the dispatch sends a group to the v1 hierarchy
 * holding its controller, else to the unified tree, else fails naming the
 * config path and the missing controller (checked before anything is
 * created or written).  The writers are the drivers': each passes its table
 * (v1/resources.c, v2/resources.c; a hybrid host both). */
#include <string.h>

#include "cgroup/common/resources.h"
#include "cgroup/common/util.h"
#include "base/log.h"

#define SET(o) MR_CG_SET (o)

static const char *
given_memory (const struct mr_resources *r)
{
  return SET (r->memory.limit)         ? "linux.resources.memory.limit"
         : SET (r->memory.reservation) ? "linux.resources.memory.reservation"
         : SET (r->memory.swap)        ? "linux.resources.memory.swap"
         : r->memory.swappiness.set    ? "linux.resources.memory.swappiness"
         : (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer)
             ? "linux.resources.memory.disableOOMKiller"
         : r->memory.has_use_hierarchy ? "linux.resources.memory.useHierarchy"
                                       : NULL;
}

static const char *
given_cpu (const struct mr_resources *r)
{
  return SET (r->cpu.shares)             ? "linux.resources.cpu.shares"
         : SET (r->cpu.quota)            ? "linux.resources.cpu.quota"
         : SET (r->cpu.period)           ? "linux.resources.cpu.period"
         : r->cpu.burst.set              ? "linux.resources.cpu.burst"
         : SET (r->cpu.realtime_runtime) ? "linux.resources.cpu.realtimeRuntime"
         : SET (r->cpu.realtime_period)  ? "linux.resources.cpu.realtimePeriod"
         : r->cpu.idle.set               ? "linux.resources.cpu.idle"
                                         : NULL;
}

static const char *
given_cpuset (const struct mr_resources *r)
{
  return (r->cpu.cpus && *r->cpu.cpus)   ? "linux.resources.cpu.cpus"
         : (r->cpu.mems && *r->cpu.mems) ? "linux.resources.cpu.mems"
                                         : NULL;
}

static const char *
given_pids (const struct mr_resources *r)
{
  return SET (r->pids.limit) ? "linux.resources.pids.limit" : NULL;
}

static const char *
given_blkio (const struct mr_resources *r)
{
  const typeof (r->block_io) *b = &r->block_io;
  return SET (b->weight)            ? "linux.resources.blockIO.weight"
         : SET (b->leaf_weight)     ? "linux.resources.blockIO.leafWeight"
         : b->n_weight_device       ? "linux.resources.blockIO.weightDevice"
         : b->n_throttle_read_bps   ? "linux.resources.blockIO.throttleReadBpsDevice"
         : b->n_throttle_write_bps  ? "linux.resources.blockIO.throttleWriteBpsDevice"
         : b->n_throttle_read_iops  ? "linux.resources.blockIO.throttleReadIOPSDevice"
         : b->n_throttle_write_iops ? "linux.resources.blockIO.throttleWriteIOPSDevice"
                                    : NULL;
}

static const char *
given_hugetlb (const struct mr_resources *r)
{
  return r->n_hugepage_limits ? "linux.resources.hugepageLimits" : NULL;
}

static const char *
given_devices (const struct mr_resources *r)
{
  return r->n_devices ? "linux.resources.devices" : NULL;
}

static const char *
given_net_cls (const struct mr_resources *r)
{
  return SET (r->network.class_id) ? "linux.resources.network.classID" : NULL;
}

static const char *
given_net_prio (const struct mr_resources *r)
{
  return r->network.n_priorities ? "linux.resources.network.priorities" : NULL;
}

static const char *
given_rdma (const struct mr_resources *r)
{
  return r->n_rdma ? "linux.resources.rdma" : NULL;
}

const struct mr_cg_group_info mr_cg_groups[MR_CG_N_GROUPS] = {
  [MR_CG_G_MEMORY] = { "memory", "memory", given_memory },
  [MR_CG_G_CPU] = { "cpu", "cpu", given_cpu },
  [MR_CG_G_CPUSET] = { "cpuset", "cpuset", given_cpuset },
  [MR_CG_G_PIDS] = { "pids", "pids", given_pids },
  [MR_CG_G_BLKIO] = { "blkio", "io", given_blkio },
  [MR_CG_G_HUGETLB] = { "hugetlb", "hugetlb", given_hugetlb },
  [MR_CG_G_DEVICES] = { "devices", "devices", given_devices },
  [MR_CG_G_NET_CLS] = { "net_cls", NULL, given_net_cls },
  [MR_CG_G_NET_PRIO] = { "net_prio", NULL, given_net_prio },
  [MR_CG_G_RDMA] = { "rdma", "rdma", given_rdma },
};

static int
unavailable (const struct mr_cgroup *cg, const char *cfg, const char *v1, const char *v2, mr_error_t *err)
{
  const struct mr_cg_host *h = cg->host;
  const char *name = v2 ? v2 : v1;
  if (h->layout == MR_CGROUP_UNIFIED && v2 == NULL)
    return mr_error_set (err, 0,
                         "%s: the %s controller does not exist in cgroup v2 (this host is cgroup v2 at %s)",
                         cfg, v1, h->v2_mount);
  if (h->layout == MR_CGROUP_UNIFIED)
    return mr_error_set (err, 0,
                         "%s: %s controller not available in cgroup v2 at %s (cgroup.controllers: %.*s)", cfg,
                         name, h->v2_mount, (int)strlen (h->v2_controllers) - 2, h->v2_controllers + 1);
  if (h->layout == MR_CGROUP_HYBRID && v2 == NULL)
    return mr_error_set (
        err, 0,
        "%s: %s controller not available: no cgroup v1 hierarchy for it below %s (and cgroup v2 "
        "has no %s controller)",
        cfg, v1, h->root, v1);
  if (h->layout == MR_CGROUP_HYBRID)
    return mr_error_set (err, 0,
                         "%s: %s controller not available: no cgroup v1 hierarchy for it below %s and %s "
                         "controller not available in cgroup v2 at %s",
                         cfg, v1, h->root, v2, h->v2_mount);
  return mr_error_set (err, 0, "%s: %s controller not available: no cgroup v1 hierarchy for it below %s", cfg,
                       v1, h->root);
}

/* Every given resource has a home?  Run before anything is created. */
int
mr_cg_check (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  for (size_t i = 0; res && i < MR_CG_N_GROUPS; i++)
    {
      const struct mr_cg_group_info *g = &mr_cg_groups[i];
      const char *cfg = g->given (res);
      if (cfg && mr_cg_locate (cg, g->v1, g->v2) == MR_CG_NONE)
        return unavailable (cg, cfg, g->v1, g->v2, err);
    }
  if (res && res->n_unified && cg->v2_dir == NULL)
    return mr_error_set (err, 0,
                         "linux.resources.unified: needs cgroup v2, but this host has only cgroup v1 (%s)",
                         cg->host->root);
  return 0;
}

/* kernelTCP (the TCP buffer limit) exists only in the v1 memory controller
 * (memory.kmem.tcp.limit_in_bytes, still there after the other kernel memory
 * limits went in 5.16); where it cannot be applied it is a warning, as the
 * OCI spec lets a runtime ignore it, never a silent no-op. */
static int
apply_kernel_tcp (const struct mr_cgroup *cg, const struct mr_resources *res, const struct mr_cg_writers *v1,
                  mr_error_t *err)
{
  int where;
  if (!SET (res->memory.kernel_tcp))
    return 0;
  where = mr_cg_locate (cg, "memory", "memory");
  if (where >= 0 && v1 && v1->kernel_tcp)
    return v1->kernel_tcp (cg->v1[where].dir, res, false, err);
  if (where == MR_CG_V2)
    mr_log_warning ("linux.resources.memory.kernelTCP ignored: cgroup v2 has no TCP buffer limit (its memory "
                    "controller accounts socket memory in memory.max)");
  else
    mr_log_warning ("linux.resources.memory.kernelTCP ignored: no memory controller (no cgroup v1 memory "
                    "hierarchy below %s and none in cgroup v2)",
                    cg->host->root);
  return 0;
}

/* The writer of group g in `t`, or an error: a driver handed a directory of
 * a version whose table it did not pass (a bug, not a config problem). */
static mr_cg_writer
writer (const struct mr_cg_writers *t, size_t g, const struct mr_resources *res, mr_error_t *err)
{
  if (t && t->group[g])
    return t->group[g];
  mr_error_set (err, 0, "%s: this cgroup driver has no writer for the %s controller (internal error)",
                mr_cg_groups[g].given (res), mr_cg_groups[g].v1);
  return NULL;
}

int
mr_cg_apply_resources (struct mr_cgroup *cg, const struct mr_resources *res, bool update,
                       const struct mr_cg_writers *v1, const struct mr_cg_writers *v2, mr_error_t *err)
{
  if (res == NULL)
    return 0;
  if (mr_cg_check (cg, res, err) < 0)
    return -1;
  if (SET (res->memory.kernel))
    mr_log_warning ("linux.resources.memory.kernel ignored: kernel memory limits were removed in Linux 5.16");
  for (size_t g = 0; g < MR_CG_N_GROUPS; g++)
    {
      const struct mr_cg_group_info *gi = &mr_cg_groups[g];
      mr_cg_writer w;
      int where;
      if (gi->given (res) == NULL)
        continue;
      where = mr_cg_locate (cg, gi->v1, gi->v2);
      w = writer (where >= 0 ? v1 : v2, g, res, err);
      if (w == NULL || w (where >= 0 ? cg->v1[where].dir : cg->v2_dir, res, update, err) < 0)
        return -1;
    }
  if (res->n_unified)
    {
      if (v2 == NULL || v2->unified == NULL)
        return mr_error_set (err, 0, "linux.resources.unified: this cgroup driver has no unified tree");
      if (v2->unified (cg, res, err) < 0)
        return -1;
    }
  return apply_kernel_tcp (cg, res, v1, err);
}
