/* config_resources.c: `linux.resources` (the cgroup settings): memory, cpu,
 * pids, blockIO with its per-device arrays, hugepageLimits, the device
 * allow/deny list (type defaults to 'a', major/minor to -1 = any, access to
 * "rwm" and must be a subset of it), network classID/priorities, rdma
 * (device -> hcaHandles/hcaObjects) and the cgroup v2 `unified` map.  Only
 * types and ranges are checked here; whether the host supports a setting
 * is the cgroup drivers' business. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

static int
parse_memory (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *m = NULL;
  cleanup_free char *mp = NULL;
  int ret = mr_cfg_object (res, path, "memory", &m, err);

  if (ret <= 0)
    return ret;
  mp = mr_cfg_key (path, "memory");
  if (mr_cfg_opt_i64 (m, mp, "limit", &r->memory.limit, err) < 0
      || mr_cfg_opt_i64 (m, mp, "reservation", &r->memory.reservation, err) < 0
      || mr_cfg_opt_i64 (m, mp, "swap", &r->memory.swap, err) < 0
      || mr_cfg_opt_i64 (m, mp, "kernel", &r->memory.kernel, err) < 0
      || mr_cfg_opt_i64 (m, mp, "kernelTCP", &r->memory.kernel_tcp, err) < 0
      || mr_cfg_opt_u64 (m, mp, "swappiness", 100, &r->memory.swappiness, err) < 0)
    return -1;
  ret = mr_cfg_bool (m, mp, "disableOOMKiller", &r->memory.disable_oom_killer, err);
  if (ret < 0)
    return -1;
  r->memory.has_disable_oom_killer = ret > 0;
  ret = mr_cfg_bool (m, mp, "useHierarchy", &r->memory.use_hierarchy, err);
  if (ret < 0)
    return -1;
  r->memory.has_use_hierarchy = ret > 0;
  ret = mr_cfg_bool (m, mp, "checkBeforeUpdate", &r->memory.check_before_update, err);
  if (ret < 0)
    return -1;
  r->memory.has_check_before_update = ret > 0;
  return 1;
}

static int
parse_cpu (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *c = NULL;
  cleanup_free char *cp = NULL;
  int ret = mr_cfg_object (res, path, "cpu", &c, err);

  if (ret <= 0)
    return ret;
  cp = mr_cfg_key (path, "cpu");
  if (mr_cfg_opt_u64 (c, cp, "shares", UINT64_MAX, &r->cpu.shares, err) < 0
      || mr_cfg_opt_i64 (c, cp, "quota", &r->cpu.quota, err) < 0
      || mr_cfg_opt_u64 (c, cp, "burst", UINT64_MAX, &r->cpu.burst, err) < 0
      || mr_cfg_opt_u64 (c, cp, "period", UINT64_MAX, &r->cpu.period, err) < 0
      || mr_cfg_opt_i64 (c, cp, "realtimeRuntime", &r->cpu.realtime_runtime, err) < 0
      || mr_cfg_opt_u64 (c, cp, "realtimePeriod", UINT64_MAX, &r->cpu.realtime_period, err) < 0
      || mr_cfg_string (c, cp, "cpus", &r->cpu.cpus, err) < 0
      || mr_cfg_string (c, cp, "mems", &r->cpu.mems, err) < 0
      || mr_cfg_opt_i64 (c, cp, "idle", &r->cpu.idle, err) < 0)
    return -1;
  return 1;
}

static int
parse_major_minor (const json_t *e, const char *ep, int64_t *major, int64_t *minor, mr_error_t *err)
{
  if (!mr_cfg_get (e, "major"))
    return mr_cfg_missing (err, ep, "major");
  if (!mr_cfg_get (e, "minor"))
    return mr_cfg_missing (err, ep, "minor");
  if (mr_cfg_i64 (e, ep, "major", 0, UINT32_MAX, major, err) < 0
      || mr_cfg_i64 (e, ep, "minor", 0, UINT32_MAX, minor, err) < 0)
    return -1;
  return 0;
}

static int
parse_throttle (const json_t *bio, const char *path, const char *key, struct mr_throttle_device **out,
                size_t *n, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL;
  size_t i;
  int ret = mr_cfg_array (bio, path, key, &arr, err);

  if (ret <= 0 || json_array_size (arr) == 0)
    return ret;
  ap = mr_cfg_key (path, key);
  *out = xcalloc (json_array_size (arr), sizeof **out);
  *n = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
    if (mr_cfg_v_object (e, ep, err) < 0
        || parse_major_minor (e, ep, &(*out)[i].major, &(*out)[i].minor, err) < 0)
      return -1;
    if (!mr_cfg_get (e, "rate"))
      return mr_cfg_missing (err, ep, "rate");
    if (mr_cfg_u64 (e, ep, "rate", UINT64_MAX, &(*out)[i].rate, err) < 0)
      return -1;
  }
  return 1;
}

static int
parse_block_io (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *b = NULL, *arr = NULL, *e;
  cleanup_free char *bp = NULL, *wp = NULL;
  size_t i;
  int ret = mr_cfg_object (res, path, "blockIO", &b, err);

  if (ret <= 0)
    return ret;
  bp = mr_cfg_key (path, "blockIO");
  if (mr_cfg_opt_u64 (b, bp, "weight", UINT16_MAX, &r->block_io.weight, err) < 0
      || mr_cfg_opt_u64 (b, bp, "leafWeight", UINT16_MAX, &r->block_io.leaf_weight, err) < 0)
    return -1;
  ret = mr_cfg_array (b, bp, "weightDevice", &arr, err);
  if (ret < 0)
    return -1;
  if (ret > 0 && json_array_size (arr) > 0)
    {
      wp = mr_cfg_key (bp, "weightDevice");
      r->block_io.weight_device = xcalloc (json_array_size (arr), sizeof *r->block_io.weight_device);
      r->block_io.n_weight_device = json_array_size (arr);
      json_array_foreach (arr, i, e)
      {
        cleanup_free char *ep = mr_cfg_idx (wp, i);
        struct mr_weight_device *w = &r->block_io.weight_device[i];
        if (mr_cfg_v_object (e, ep, err) < 0 || parse_major_minor (e, ep, &w->major, &w->minor, err) < 0
            || mr_cfg_opt_u64 (e, ep, "weight", UINT16_MAX, &w->weight, err) < 0
            || mr_cfg_opt_u64 (e, ep, "leafWeight", UINT16_MAX, &w->leaf_weight, err) < 0)
          return -1;
      }
    }
  if (parse_throttle (b, bp, "throttleReadBpsDevice", &r->block_io.throttle_read_bps,
                      &r->block_io.n_throttle_read_bps, err)
          < 0
      || parse_throttle (b, bp, "throttleWriteBpsDevice", &r->block_io.throttle_write_bps,
                         &r->block_io.n_throttle_write_bps, err)
             < 0
      || parse_throttle (b, bp, "throttleReadIOPSDevice", &r->block_io.throttle_read_iops,
                         &r->block_io.n_throttle_read_iops, err)
             < 0
      || parse_throttle (b, bp, "throttleWriteIOPSDevice", &r->block_io.throttle_write_iops,
                         &r->block_io.n_throttle_write_iops, err)
             < 0)
    return -1;
  return 1;
}

static int
parse_hugepages (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL;
  size_t i;
  int ret = mr_cfg_array (res, path, "hugepageLimits", &arr, err);

  if (ret <= 0 || json_array_size (arr) == 0)
    return ret;
  ap = mr_cfg_key (path, "hugepageLimits");
  r->hugepage_limits = xcalloc (json_array_size (arr), sizeof *r->hugepage_limits);
  r->n_hugepage_limits = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
    struct mr_hugepage_limit *h = &r->hugepage_limits[i];
    if (mr_cfg_v_object (e, ep, err) < 0 || mr_cfg_string (e, ep, "pageSize", &h->page_size, err) < 0)
      return -1;
    if (h->page_size == NULL || h->page_size[0] == '\0')
      return mr_cfg_missing (err, ep, "pageSize");
    if (!mr_cfg_get (e, "limit"))
      return mr_cfg_missing (err, ep, "limit");
    if (mr_cfg_u64 (e, ep, "limit", UINT64_MAX, &h->limit, err) < 0)
      return -1;
  }
  return 1;
}

static int
parse_device_rules (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL;
  size_t i;
  int ret = mr_cfg_array (res, path, "devices", &arr, err);

  if (ret <= 0 || json_array_size (arr) == 0)
    return ret;
  ap = mr_cfg_key (path, "devices");
  r->devices = xcalloc (json_array_size (arr), sizeof *r->devices);
  r->n_devices = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
    cleanup_free char *type = NULL, *access = NULL;
    struct mr_device_rule *d = &r->devices[i];

    if (mr_cfg_v_object (e, ep, err) < 0)
      return -1;
    if (!mr_cfg_get (e, "allow"))
      return mr_cfg_missing (err, ep, "allow");
    d->major = d->minor = -1;
    if (mr_cfg_bool (e, ep, "allow", &d->allow, err) < 0 || mr_cfg_string (e, ep, "type", &type, err) < 0
        || mr_cfg_i64 (e, ep, "major", -1, UINT32_MAX, &d->major, err) < 0
        || mr_cfg_i64 (e, ep, "minor", -1, UINT32_MAX, &d->minor, err) < 0
        || mr_cfg_string (e, ep, "access", &access, err) < 0)
      return -1;
    d->type = 'a';
    if (type != NULL)
      {
        if (strlen (type) != 1 || strchr ("acb", type[0]) == NULL)
          {
            cleanup_free char *tp = mr_cfg_key (ep, "type");
            return mr_cfg_error (err, tp, "unknown device type \"%s\" (expected one of a, c, b)", type);
          }
        d->type = type[0];
      }
    if (access == NULL)
      strcpy (d->access, "rwm");
    else
      {
        bool seen[3] = { false, false, false };
        size_t k = 0;
        if (access[0] == '\0' || strspn (access, "rwm") != strlen (access))
          {
            cleanup_free char *xp = mr_cfg_key (ep, "access");
            return mr_cfg_error (err, xp, "\"%s\" is not a non-empty combination of r, w and m", access);
          }
        for (const char *p = access; *p; p++)
          seen[*p == 'r' ? 0 : *p == 'w' ? 1 : 2] = true;
        for (int j = 0; j < 3; j++)
          if (seen[j])
            d->access[k++] = "rwm"[j];
        d->access[k] = '\0';
      }
  }
  return 1;
}

static int
parse_network (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *net = NULL, *arr = NULL, *e;
  cleanup_free char *np = NULL, *pp = NULL;
  size_t i;
  int ret = mr_cfg_object (res, path, "network", &net, err);

  if (ret <= 0)
    return ret;
  np = mr_cfg_key (path, "network");
  if (mr_cfg_opt_u64 (net, np, "classID", UINT32_MAX, &r->network.class_id, err) < 0)
    return -1;
  ret = mr_cfg_array (net, np, "priorities", &arr, err);
  if (ret <= 0 || json_array_size (arr) == 0)
    return ret;
  pp = mr_cfg_key (np, "priorities");
  r->network.priorities = xcalloc (json_array_size (arr), sizeof *r->network.priorities);
  r->network.n_priorities = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (pp, i);
    struct mr_net_priority *p = &r->network.priorities[i];
    uint64_t prio;
    if (mr_cfg_v_object (e, ep, err) < 0 || mr_cfg_string (e, ep, "name", &p->name, err) < 0)
      return -1;
    if (p->name == NULL || p->name[0] == '\0')
      return mr_cfg_missing (err, ep, "name");
    if (!mr_cfg_get (e, "priority"))
      return mr_cfg_missing (err, ep, "priority");
    if (mr_cfg_u64 (e, ep, "priority", UINT32_MAX, &prio, err) < 0)
      return -1;
    p->priority = (uint32_t)prio;
  }
  return 1;
}

static int
parse_rdma (const json_t *res, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *map = NULL, *v;
  cleanup_free char *rp = NULL;
  const char *dev;
  size_t i = 0;
  int ret = mr_cfg_object (res, path, "rdma", &map, err);

  if (ret <= 0 || json_object_size (map) == 0)
    return ret;
  rp = mr_cfg_key (path, "rdma");
  r->rdma = xcalloc (json_object_size (map), sizeof *r->rdma);
  r->n_rdma = json_object_size (map);
  json_object_foreach (map, dev, v)
  {
    cleanup_free char *ep = mr_cfg_key (rp, dev);
    struct mr_rdma_limit *l = &r->rdma[i++];
    l->device = xstrdup (dev);
    if (mr_cfg_v_object (v, ep, err) < 0
        || mr_cfg_opt_u64 (v, ep, "hcaHandles", UINT32_MAX, &l->hca_handles, err) < 0
        || mr_cfg_opt_u64 (v, ep, "hcaObjects", UINT32_MAX, &l->hca_objects, err) < 0)
      return -1;
  }
  return 1;
}

void
mr_cfg_resources_clear (struct mr_resources *r)
{
  free (r->cpu.cpus);
  free (r->cpu.mems);
  free (r->block_io.weight_device);
  free (r->block_io.throttle_read_bps);
  free (r->block_io.throttle_write_bps);
  free (r->block_io.throttle_read_iops);
  free (r->block_io.throttle_write_iops);
  for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  free (r->devices);
  for (size_t i = 0; r->network.priorities && i < r->network.n_priorities; i++)
    free (r->network.priorities[i].name);
  free (r->network.priorities);
  for (size_t i = 0; r->rdma && i < r->n_rdma; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  mr_cfg_kv_free (r->unified, r->n_unified);
  memset (r, 0, sizeof *r);
}

int
mr_cfg_parse_resources (const json_t *v, const char *path, struct mr_resources *r, mr_error_t *err)
{
  json_t *pids = NULL;
  cleanup_free char *pp = NULL;
  int ret;

  if (mr_cfg_v_object (v, path, err) < 0)
    return -1;
  r->present = true;
  if (parse_memory (v, path, r, err) < 0 || parse_cpu (v, path, r, err) < 0)
    return -1;
  ret = mr_cfg_object (v, path, "pids", &pids, err);
  if (ret < 0)
    return -1;
  pp = mr_cfg_key (path, "pids");
  if (ret > 0 && mr_cfg_opt_i64 (pids, pp, "limit", &r->pids.limit, err) < 0)
    return -1;
  if (parse_block_io (v, path, r, err) < 0 || parse_hugepages (v, path, r, err) < 0
      || parse_device_rules (v, path, r, err) < 0 || parse_network (v, path, r, err) < 0
      || parse_rdma (v, path, r, err) < 0
      || mr_cfg_kv (v, path, "unified", &r->unified, &r->n_unified, err) < 0)
    return -1;
  return 1;
}
