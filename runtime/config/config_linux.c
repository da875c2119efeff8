/* config_linux.c: the OCI `linux` object except resources and seccomp (which
 * have their own files): namespaces (OCI type names, absolute join paths, no
 * duplicates), uid/gid mappings, devices, cgroupsPath, sysctl,
 * rootfsPropagation, masked and read-only paths, mountLabel, timeOffsets,
 * intelRdt.closID and personality.domain.  Also mr_ns_type_name(). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

static const char *const ns_names[MR_NS_COUNT] = {
  [MR_NS_PID] = "pid", [MR_NS_NET] = "network", [MR_NS_MOUNT] = "mount",   [MR_NS_IPC] = "ipc",
  [MR_NS_UTS] = "uts", [MR_NS_USER] = "user",   [MR_NS_CGROUP] = "cgroup", [MR_NS_TIME] = "time",
};

const char *
mr_ns_type_name (enum mr_ns_type t)
{
  if ((int)t < 0 || t >= MR_NS_COUNT)
    return "unknown";
  return ns_names[t];
}

static int
parse_namespaces (const json_t *lx, struct mr_config *c, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  size_t i, where[MR_NS_COUNT] = { 0 };
  int r = mr_cfg_array (lx, "linux", "namespaces", &arr, err);

  if (r <= 0)
    return r;
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx ("linux.namespaces", i);
    cleanup_free char *type = NULL;
    int t;

    if (mr_cfg_v_object (e, ep, err) < 0 || mr_cfg_string (e, ep, "type", &type, err) < 0)
      return -1;
    if (type == NULL)
      return mr_cfg_missing (err, ep, "type");
    for (t = 0; t < MR_NS_COUNT; t++)
      if (strcmp (type, ns_names[t]) == 0)
        break;
    if (t == MR_NS_COUNT)
      {
        cleanup_free char *tp = mr_cfg_key (ep, "type");
        return mr_cfg_error (
            err, tp,
            "unknown namespace type \"%s\" (expected one of pid, network, mount, ipc, uts, user, "
            "cgroup, time)",
            type);
      }
    if (c->namespaces[t].present)
      {
        cleanup_free char *tp = mr_cfg_key (ep, "type");
        return mr_cfg_error (err, tp, "namespace \"%s\" is listed twice (first at linux.namespaces[%zu])",
                             type, where[t]);
      }
    c->namespaces[t].present = true;
    c->namespaces[t].index = i;
    where[t] = i;
    if (mr_cfg_abs_path (e, ep, "path", &c->namespaces[t].path, err) < 0)
      return -1;
  }
  return 1;
}

static int
parse_idmaps (const json_t *lx, const char *key, struct mr_idmap **out, size_t *n, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL;
  size_t i;
  int r = mr_cfg_array (lx, "linux", key, &arr, err);

  if (r <= 0 || json_array_size (arr) == 0)
    return r;
  ap = mr_cfg_key ("linux", key);
  *out = xcalloc (json_array_size (arr), sizeof **out);
  *n = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
    static const char *const fields[] = { "containerID", "hostID", "size" };
    uint64_t vals[3];

    if (mr_cfg_v_object (e, ep, err) < 0)
      return -1;
    for (size_t k = 0; k < 3; k++)
      {
        if (!mr_cfg_get (e, fields[k]))
          return mr_cfg_missing (err, ep, fields[k]);
        if (mr_cfg_u64 (e, ep, fields[k], UINT32_MAX, &vals[k], err) < 0)
          return -1;
      }
    if (vals[2] == 0)
      {
        cleanup_free char *sp = mr_cfg_key (ep, "size");
        return mr_cfg_error (err, sp, "is 0 (expected a mapping of at least one id)");
      }
    (*out)[i].container_id = (uint32_t)vals[0];
    (*out)[i].host_id = (uint32_t)vals[1];
    (*out)[i].size = (uint32_t)vals[2];
  }
  return 1;
}

static int
parse_devices (const json_t *lx, struct mr_config *c, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  size_t i;
  int r = mr_cfg_array (lx, "linux", "devices", &arr, err);

  if (r <= 0 || json_array_size (arr) == 0)
    return r;
  c->devices = xcalloc (json_array_size (arr), sizeof *c->devices);
  c->n_devices = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx ("linux.devices", i);
    cleanup_free char *type = NULL;
    struct mr_device *d = &c->devices[i];
    uint64_t u;

    if (mr_cfg_v_object (e, ep, err) < 0 || mr_cfg_abs_path (e, ep, "path", &d->path, err) < 0
        || mr_cfg_string (e, ep, "type", &type, err) < 0)
      return -1;
    if (d->path == NULL)
      return mr_cfg_missing (err, ep, "path");
    if (type == NULL)
      return mr_cfg_missing (err, ep, "type");
    if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
      {
        cleanup_free char *tp = mr_cfg_key (ep, "type");
        return mr_cfg_error (err, tp, "unknown device type \"%s\" (expected one of c, b, u, p)", type);
      }
    d->type = type[0];
    d->major = d->minor = 0;
    if (d->type != 'p')
      {
        if (!mr_cfg_get (e, "major"))
          return mr_cfg_missing (err, ep, "major");
        if (!mr_cfg_get (e, "minor"))
          return mr_cfg_missing (err, ep, "minor");
      }
    if (mr_cfg_i64 (e, ep, "major", 0, UINT32_MAX, &d->major, err) < 0
        || mr_cfg_i64 (e, ep, "minor", 0, UINT32_MAX, &d->minor, err) < 0)
      return -1;
    /* the permission bits, optionally with the file type bits of the
     * device's own type (020666 for a char device, as runc and crun take) */
    r = mr_cfg_u64 (e, ep, "fileMode", 0177777, &u, err);
    if (r < 0)
      return -1;
    if (r > 0 && (u & S_IFMT) != 0)
      {
        mode_t want = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        if ((u & S_IFMT) != want)
          return mr_cfg_error (err, ep,
                               "fileMode %#llo: its file type bits (%#llo) are not those of a %s device (%#o); "
                               "give the permission bits only",
                               (unsigned long long) u, (unsigned long long) (u & S_IFMT),
                               d->type == 'b' ? "block" : d->type == 'p' ? "fifo" : "char", (unsigned) want);
        u &= 07777;
      }
    d->has_file_mode = r > 0;
    d->file_mode = r > 0 ? (mode_t)u : 0;
    r = mr_cfg_u64 (e, ep, "uid", UINT32_MAX - 1, &u, err);
    if (r < 0)
      return -1;
    d->has_uid = r > 0;
    d->uid = r > 0 ? (uid_t)u : 0;
    r = mr_cfg_u64 (e, ep, "gid", UINT32_MAX - 1, &u, err);
    if (r < 0)
      return -1;
    d->has_gid = r > 0;
    d->gid = r > 0 ? (gid_t)u : 0;
  }
  return 1;
}

static int
parse_time_offsets (const json_t *lx, struct mr_config *c, mr_error_t *err)
{
  json_t *to = NULL, *clk = NULL;
  static const char *const clocks[] = { "monotonic", "boottime" };
  int r = mr_cfg_object (lx, "linux", "timeOffsets", &to, err);

  if (r <= 0)
    return r;
  c->time_offsets.present = true;
  for (size_t k = 0; k < 2; k++)
    {
      cleanup_free char *cp = mr_cfg_key ("linux.timeOffsets", clocks[k]);
      int64_t secs = 0;
      uint64_t nsecs = 0;
      clk = NULL;
      r = mr_cfg_object (to, "linux.timeOffsets", clocks[k], &clk, err);
      if (r < 0)
        return -1;
      if (r == 0)
        continue;
      if (mr_cfg_i64 (clk, cp, "secs", INT64_MIN, INT64_MAX, &secs, err) < 0
          || mr_cfg_u64 (clk, cp, "nanosecs", 999999999, &nsecs, err) < 0)
        return -1;
      if (k == 0)
        {
          c->time_offsets.monotonic_secs = secs;
          c->time_offsets.monotonic_nsecs = (uint32_t)nsecs;
        }
      else
        {
          c->time_offsets.boottime_secs = secs;
          c->time_offsets.boottime_nsecs = (uint32_t)nsecs;
        }
    }
  return 1;
}


/* linux.intelRdt: the resctrl group and what to write to it.  A schemata
 * line is one "RESOURCE:ID=VALUE;..." line (no newline: each is one write). */
static int
parse_intel_rdt (const json_t *obj, struct mr_intel_rdt *rdt, mr_error_t *err)
{
  const char *p = "linux.intelRdt";

  rdt->present = true;
  if (mr_cfg_string (obj, p, "closID", &rdt->clos_id, err) < 0
      || mr_cfg_string (obj, p, "l3CacheSchema", &rdt->l3_cache_schema, err) < 0
      || mr_cfg_string (obj, p, "memBwSchema", &rdt->mem_bw_schema, err) < 0
      || mr_cfg_strv (obj, p, "schemata", &rdt->schemata, &rdt->n_schemata, err) < 0
      || mr_cfg_bool (obj, p, "enableMonitoring", &rdt->enable_monitoring, err) < 0)
    return -1;
  if (rdt->clos_id != NULL
      && (rdt->clos_id[0] == '\0' || strchr (rdt->clos_id, '/') != NULL || strcmp (rdt->clos_id, ".") == 0
          || strcmp (rdt->clos_id, "..") == 0 || strlen (rdt->clos_id) > 255))
    return mr_cfg_error (err, "linux.intelRdt.closID",
                         "\"%s\" is not a resctrl group name (a directory name: not empty, no '/', not . or ..)",
                         rdt->clos_id);
  if (rdt->l3_cache_schema && strchr (rdt->l3_cache_schema, '\n'))
    return mr_cfg_error (err, "linux.intelRdt.l3CacheSchema", "one schemata line, without a newline");
  if (rdt->mem_bw_schema && strchr (rdt->mem_bw_schema, '\n'))
    return mr_cfg_error (err, "linux.intelRdt.memBwSchema", "one schemata line, without a newline");
  for (size_t i = 0; i < rdt->n_schemata; i++)
    if (rdt->schemata[i][0] == '\0' || strchr (rdt->schemata[i], '\n'))
      return mr_cfg_error (err, "linux.intelRdt.schemata", "entry %zu: one schemata line, not empty, without a newline",
                           i);
  return 0;
}

static int
parse_misc (const json_t *lx, struct mr_config *c, mr_error_t *err)
{
  cleanup_free char *prop = NULL;
  json_t *obj = NULL;
  int r;

  if (mr_cfg_string (lx, "linux", "cgroupsPath", &c->cgroups_path, err) < 0
      || mr_cfg_kv (lx, "linux", "sysctl", &c->sysctl, &c->n_sysctl, err) < 0
      || mr_cfg_abs_strv (lx, "linux", "maskedPaths", &c->masked_paths, &c->n_masked_paths, err) < 0
      || mr_cfg_abs_strv (lx, "linux", "readonlyPaths", &c->readonly_paths, &c->n_readonly_paths, err) < 0
      || mr_cfg_string (lx, "linux", "mountLabel", &c->mount_label, err) < 0
      || mr_cfg_string (lx, "linux", "rootfsPropagation", &prop, err) < 0)
    return -1;
  if (prop != NULL && prop[0] != '\0' && !mr_cfg_propagation_from_name (prop, &c->rootfs_propagation))
    return mr_cfg_error (
        err, "linux.rootfsPropagation",
        "unknown propagation \"%s\" (expected one of private, rprivate, shared, rshared, slave, "
        "rslave, unbindable, runbindable)",
        prop);
  for (size_t i = 0; i < c->n_sysctl; i++)
    if (c->sysctl[i].key[0] == '\0')
      return mr_cfg_error (err, "linux.sysctl", "a sysctl name is empty");

  if (mr_cfg_parse_memory_policy (lx, &c->memory_policy, err) < 0)
    return -1;
  r = mr_cfg_object (lx, "linux", "intelRdt", &obj, err);
  if (r < 0 || (r > 0 && parse_intel_rdt (obj, &c->intel_rdt, err) < 0))
    return -1;
  obj = NULL;
  r = mr_cfg_object (lx, "linux", "personality", &obj, err);
  if (r < 0 || (r > 0 && mr_cfg_string (obj, "linux.personality", "domain", &c->personality_domain, err) < 0))
    return -1;
  if (r > 0 && c->personality_domain == NULL)
    return mr_cfg_missing (err, "linux.personality", "domain");
  if (c->personality_domain && strcmp (c->personality_domain, "LINUX") != 0
      && strcmp (c->personality_domain, "LINUX32") != 0)
    return mr_cfg_error (err, "linux.personality.domain", "unknown domain \"%s\" (expected LINUX or LINUX32)",
                         c->personality_domain);
  return 0;
}

void
mr_cfg_linux_clear (struct mr_config *c)
{
  for (int t = 0; t < MR_NS_COUNT; t++)
    free (c->namespaces[t].path);
  free (c->uid_mappings);
  free (c->gid_mappings);
  for (size_t i = 0; c->devices && i < c->n_devices; i++)
    free (c->devices[i].path);
  free (c->devices);
  free (c->cgroups_path);
  mr_cfg_resources_clear (&c->resources);
  mr_cfg_kv_free (c->sysctl, c->n_sysctl);
  mr_cfg_seccomp_clear (&c->seccomp);
  mr_strv_free (c->masked_paths);
  mr_strv_free (c->readonly_paths);
  free (c->mount_label);
  free (c->intel_rdt.clos_id);
  free (c->intel_rdt.l3_cache_schema);
  free (c->intel_rdt.mem_bw_schema);
  mr_strv_free (c->intel_rdt.schemata);
  free (c->personality_domain);
  free (c->memory_policy.nodes);
  mr_cfg_net_devices_clear (c);
}

int
mr_cfg_parse_linux (const json_t *root, struct mr_config *c, mr_error_t *err)
{
  json_t *lx = NULL, *v;
  int r = mr_cfg_object (root, "", "linux", &lx, err);

  if (r <= 0)
    return r;
  if (parse_namespaces (lx, c, err) < 0
      || parse_idmaps (lx, "uidMappings", &c->uid_mappings, &c->n_uid_mappings, err) < 0
      || parse_idmaps (lx, "gidMappings", &c->gid_mappings, &c->n_gid_mappings, err) < 0
      || parse_devices (lx, c, err) < 0 || parse_time_offsets (lx, c, err) < 0 || parse_misc (lx, c, err) < 0
      || mr_cfg_parse_net_devices (lx, c, err) < 0)
    return -1;
  v = mr_cfg_get (lx, "resources");
  if (v != NULL && mr_cfg_parse_resources (v, "linux.resources", &c->resources, err) < 0)
    return -1;
  v = mr_cfg_get (lx, "seccomp");
  if (v != NULL && mr_cfg_parse_seccomp (v, "linux.seccomp", &c->seccomp, err) < 0)
    return -1;
  return 1;
}
