/* cgroup_apply.c: where each linux.resources group goes.  A table maps every
 * group (memory, cpu, cpuset, pids, blkio/io, hugetlb, devices, net_cls,
 * net_prio, rdma) to its v1 and v2 controller names, the first config path
 * given for it, and the v1/v2 writers; the dispatch sends a group to the v1
 * hierarchy holding its controller, else to the unified tree, else fails
 * naming the config path and the missing controller (checked before anything
 * is created or written).  Also the v2 controllers a new cgroup's parents
 * must enable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

int
mr_cg_locate (const struct mr_cgroup *cg, const char *v1_name, const char *v2_name)
{
  if (v1_name)
    for (size_t i = 0; i < cg->n_v1; i++)
      if (mr_cg_list_has (cg->v1[i].h->name, ',', v1_name))
        return (int)i;
  if (cg->v2_dir && v2_name
      && (strcmp (v2_name, "devices") == 0 || mr_cg_list_has (cg->host->v2_controllers, ' ', v2_name)))
    return MR_CG_V2;
  return MR_CG_NONE;
}

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
         : SET (r->cpu.burst)            ? "linux.resources.cpu.burst"
         : SET (r->cpu.realtime_runtime) ? "linux.resources.cpu.realtimeRuntime"
         : SET (r->cpu.realtime_period)  ? "linux.resources.cpu.realtimePeriod"
         : SET (r->cpu.idle)             ? "linux.resources.cpu.idle"
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

typedef int (*apply_fn) (const char *dir, const struct mr_resources *r, bool update, mr_error_t *err);

static const struct
{
  const char *v1, *v2; /* controller names; NULL: does not exist there */
  const char *(*given) (const struct mr_resources *r);
  apply_fn v1_apply, v2_apply;
} groups[] = {
  { "memory", "memory", given_memory, mr_cg_v1_memory, mr_cg_v2_memory },
  { "cpu", "cpu", given_cpu, mr_cg_v1_cpu, mr_cg_v2_cpu },
  { "cpuset", "cpuset", given_cpuset, mr_cg_v1_cpuset, mr_cg_v2_cpuset },
  { "pids", "pids", given_pids, mr_cg_v1_pids, mr_cg_v2_pids },
  { "blkio", "io", given_blkio, mr_cg_v1_blkio, mr_cg_v2_io },
  { "hugetlb", "hugetlb", given_hugetlb, mr_cg_v1_hugetlb, mr_cg_v2_hugetlb },
  { "devices", "devices", given_devices, mr_cg_v1_devices, mr_cg_v2_devices },
  { "net_cls", NULL, given_net_cls, mr_cg_v1_net_cls, NULL },
  { "net_prio", NULL, given_net_prio, mr_cg_v1_net_prio, NULL },
  { "rdma", "rdma", given_rdma, mr_cg_v1_rdma, mr_cg_v1_rdma },
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
  for (size_t i = 0; res && i < sizeof groups / sizeof groups[0]; i++)
    {
      const char *cfg = groups[i].given (res);
      if (cfg && mr_cg_locate (cg, groups[i].v1, groups[i].v2) == MR_CG_NONE)
        return unavailable (cg, cfg, groups[i].v1, groups[i].v2, err);
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
apply_kernel_tcp (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  int where;
  if (!SET (res->memory.kernel_tcp))
    return 0;
  where = mr_cg_locate (cg, "memory", "memory");
  if (where >= 0)
    return mr_cg_v1_kernel_tcp (cg->v1[where].dir, res, err);
  if (where == MR_CG_V2)
    mr_log_warning ("linux.resources.memory.kernelTCP ignored: cgroup v2 has no TCP buffer limit (its memory "
                    "controller accounts socket memory in memory.max)");
  else
    mr_log_warning ("linux.resources.memory.kernelTCP ignored: no memory controller (no cgroup v1 memory "
                    "hierarchy below %s and none in cgroup v2)",
                    cg->host->root);
  return 0;
}

int
mr_cg_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (res == NULL)
    return 0;
  if (mr_cg_check (cg, res, err) < 0)
    return -1;
  if (SET (res->memory.kernel))
    mr_log_warning ("linux.resources.memory.kernel ignored: kernel memory limits were removed in Linux 5.16");
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
    {
      int where, ret;
      if (groups[i].given (res) == NULL)
        continue;
      where = mr_cg_locate (cg, groups[i].v1, groups[i].v2);
      ret = where >= 0 ? groups[i].v1_apply (cg->v1[where].dir, res, update, err)
                       : groups[i].v2_apply (cg->v2_dir, res, update, err);
      if (ret < 0)
        return -1;
    }
  if (res->n_unified && mr_cg_v2_unified (cg, res, err) < 0)
    return -1;
  return apply_kernel_tcp (cg, res, err);
}

int
mr_cgroup_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  if (mr_cg_apply (cg, res, true, err) < 0)
    return mr_error_wrap (err, "update cgroup `%s`", cg->path);
  return 0;
}

/* The v2 controllers to enable on the way down: on a pure v2 host all that
 * are available (stats need them), on hybrid only those a resource needs.
 * `needed[i]` names the config path needing want[i], or NULL. */
size_t
mr_cg_v2_wanted (const struct mr_cgroup *cg, const struct mr_resources *res, const char **want,
                 const char **needed, size_t max, char (*keybuf)[32])
{
  size_t n = 0;
  if (cg->host->layout == MR_CGROUP_UNIFIED)
    {
      cleanup_free char *copy = xstrdup (cg->host->v2_controllers);
      char *save = NULL;
      for (char *t = strtok_r (copy, " ", &save); t && n < max; t = strtok_r (NULL, " ", &save))
        {
          for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            if (groups[g].v2 && strcmp (groups[g].v2, t) == 0)
              {
                want[n] = groups[g].v2;
                needed[n] = res ? groups[g].given (res) : NULL;
                n++;
              }
        }
    }
  else
    for (size_t g = 0; res && g < sizeof groups / sizeof groups[0] && n < max; g++)
      if (groups[g].given (res) && strcmp (groups[g].v1, "devices") != 0
          && mr_cg_locate (cg, groups[g].v1, groups[g].v2) == MR_CG_V2)
        {
          want[n] = groups[g].v2;
          needed[n++] = groups[g].given (res);
        }
  /* linux.resources.unified keys name their controller before the dot. */
  for (size_t k = 0, nk = 0; res && k < res->n_unified && n < max; k++)
    {
      const char *key = res->unified[k].key;
      size_t l = strcspn (key, "."), i;
      if (l >= 32 || (l == 6 && strncmp (key, "cgroup", 6) == 0))
        continue;
      for (i = 0; i < n; i++)
        if (strncmp (want[i], key, l) == 0 && want[i][l] == '\0')
          break;
      if (i == n)
        {
          memcpy (keybuf[nk], key, l);
          keybuf[nk][l] = '\0';
          want[n++] = keybuf[nk++];
        }
      needed[i] = "linux.resources.unified";
    }
  return n;
}
