/* config_idmap.c: the idmappings of idmapped mounts: mounts[i].uidMappings
 * and gidMappings ([{containerID, hostID, size}], as linux.uidMappings), and,
 * once linux is parsed (mr_cfg_finish_mounts), what depends on it: "idmap" /
 * "ridmap" without mappings take linux.uidMappings/gidMappings (or, with a
 * user namespace joined by path and none in the config, that namespace: the
 * mount's mappings stay empty), and crun's "idmap=uids=0-1000-10;gids=..."
 * form, whose "@" ids are ids of the container's user namespace. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "config/config_internal.h"

/* mounts[i].uidMappings / gidMappings: [{containerID, hostID, size}]. */
int
mr_cfg_mount_mappings (const json_t *v, const char *path, const char *key, struct mr_idmap **out, size_t *n,
                       mr_error_t *err)
{
  static const char *const fields[] = { "containerID", "hostID", "size" };
  cleanup_free char *ap = mr_cfg_key (path, key);
  json_t *arr = NULL, *e;
  size_t i;
  int r = mr_cfg_array (v, path, key, &arr, err);

  if (r <= 0 || json_array_size (arr) == 0) /* empty: none, as in linux.uidMappings */
    return r;
  *out = xcalloc (json_array_size (arr), sizeof **out);
  *n = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
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

/* Is [id, id + size) inside one range of `maps`?  Its host id then. */
static bool
to_host (const struct mr_idmap *maps, size_t n, uint64_t id, uint64_t size, uint32_t *host)
{
  for (size_t i = 0; i < n; i++)
    if (id >= maps[i].container_id && id + size <= (uint64_t)maps[i].container_id + maps[i].size)
      {
        *host = (uint32_t)(id - maps[i].container_id + maps[i].host_id);
        return true;
      }
  return false;
}

/* crun's "uids=" / "gids=" value: "[#][@]A-B-C" triplets (source id,
   id it shows as, count), '#'-separated; "@B" is an id of the container's
   user namespace.  `end` is where this value stops (';' or the end). */
static int
parse_triplets (const char *s, const char *end, const char *path, const char *what,
                const struct mr_idmap *ns_maps, size_t n_ns_maps, struct mr_idmap **out, size_t *n,
                mr_error_t *err)
{
  size_t cap = 0;

  while (s < end)
    {
      uint64_t v[3];
      bool relative = false;

      if (*s == '#')
        s++;
      if (*s == '@')
        {
          relative = true;
          s++;
        }
      for (int k = 0; k < 3; k++)
        {
          char *stop = NULL;
          unsigned long long x;

          if (k > 0 && s < end && *s == '-')
            s++;
          if (s >= end || *s < '0' || *s > '9')
            return mr_cfg_error (err, path,
                                 "%s: expected container-host-size triplets like 0-1000-10, got \"%.*s\"",
                                 what, (int)(end - s), s);
          errno = 0;
          x = strtoull (s, &stop, 10);
          if (errno != 0 || x > UINT32_MAX || stop > end)
            return mr_cfg_error (err, path, "%s: id \"%.*s\" is out of range (0 to %u)", what,
                                 (int)(stop - s), s, UINT32_MAX);
          v[k] = x;
          s = stop;
        }
      if (v[2] == 0)
        return mr_cfg_error (err, path, "%s: a mapping of size 0", what);
      if (s < end && *s != '#')
        return mr_cfg_error (err, path,
                             "%s: unexpected \"%.*s\" after a triplet (triplets are '#'-separated)", what,
                             (int)(end - s), s);
      if (*n == cap)
        {
          cap = cap ? cap * 2 : 4;
          *out = xrealloc (*out, cap * sizeof **out);
        }
      (*out)[*n].container_id = (uint32_t)v[0];
      (*out)[*n].size = (uint32_t)v[2];
      if (!relative)
        (*out)[*n].host_id = (uint32_t)v[1];
      else if (!to_host (ns_maps, n_ns_maps, v[1], v[2], &(*out)[*n].host_id))
        return mr_cfg_error (
            err, path,
            "%s: \"@%llu\" (%llu ids) is not inside one range of linux.%s%s (an id after '@' is "
            "an id of the container's user namespace)",
            what, (unsigned long long)v[1], (unsigned long long)v[2],
            what[0] == 'u' ? "uidMappings" : "gidMappings", n_ns_maps == 0 ? ", which is empty" : "");
      (*n)++;
    }
  return 0;
}

/* "idmap=uids=...;gids=..." of mounts[i].options[j] into the mount's mappings. */
static int
parse_idmap_value (const struct mr_config *c, struct mr_mount *m, const char *value, const char *path,
                   mr_error_t *err)
{
  const char *s = value;

  while (*s)
    {
      const char *end = strchr (s, ';');
      bool uids = strncmp (s, "uids=", 5) == 0;

      if (end == NULL)
        end = s + strlen (s);
      if (!uids && strncmp (s, "gids=", 5) != 0)
        return mr_cfg_error (err, path, "expected \"uids=...\" or \"gids=...\" (';'-separated), got \"%.*s\"",
                             (int)(end - s), s);
      if ((uids ? m->n_uid_mappings : m->n_gid_mappings) > 0)
        return mr_cfg_error (err, path, "\"%s\" is given twice", uids ? "uids=" : "gids=");
      if (parse_triplets (s + 5, end, path, uids ? "uids" : "gids", uids ? c->uid_mappings : c->gid_mappings,
                          uids ? c->n_uid_mappings : c->n_gid_mappings,
                          uids ? &m->uid_mappings : &m->gid_mappings,
                          uids ? &m->n_uid_mappings : &m->n_gid_mappings, err)
          < 0)
        return -1;
      s = *end ? end + 1 : end;
    }
  if (m->n_uid_mappings == 0 && m->n_gid_mappings == 0)
    return mr_cfg_error (err, path, "no mappings after '=' (expected uids=...;gids=...)");
  return 0;
}

static struct mr_idmap *
copy_maps (const struct mr_idmap *maps, size_t n)
{
  struct mr_idmap *copy = xcalloc (n, sizeof *copy);

  memcpy (copy, maps, n * sizeof *copy);
  return copy;
}

int
mr_cfg_finish_mounts (struct mr_config *c, mr_error_t *err)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      struct mr_mount *m = &c->mounts[i];
      const char *opt = m->idmap_option < m->n_options ? m->options[m->idmap_option] : NULL;
      const char *value = opt ? strchr (opt, '=') : NULL;
      cleanup_free char *path = NULL;

      if (!m->idmap)
        continue;
      path = opt ? xasprintf ("mounts[%zu].options[%zu]", i, m->idmap_option) : xasprintf ("mounts[%zu]", i);
      if (m->n_uid_mappings > 0)
        {
          if (value != NULL)
            mr_log_warning (
                "%s: the mappings of \"%s\" are not used: mounts[%zu].uidMappings and gidMappings are "
                "(as crun does)",
                path, opt, i);
          continue;
        }
      if (value != NULL && value[1] != '\0')
        {
          if (parse_idmap_value (c, m, value + 1, path, err) < 0)
            return -1;
          continue;
        }
      /* no mappings of its own: the container's user namespace's */
      if (c->namespaces[MR_NS_USER].present && c->n_uid_mappings > 0)
        {
          m->uid_mappings = copy_maps (c->uid_mappings, c->n_uid_mappings);
          m->n_uid_mappings = c->n_uid_mappings;
          m->gid_mappings = copy_maps (c->gid_mappings, c->n_gid_mappings);
          m->n_gid_mappings = c->n_gid_mappings;
        }
      else if (!(c->namespaces[MR_NS_USER].present && c->namespaces[MR_NS_USER].path != NULL))
        return mr_cfg_error (
            err, path,
            "\"%s\" without mounts[%zu].uidMappings and gidMappings takes the mappings of the "
            "container's user namespace, and the container has none (no user namespace in "
            "linux.namespaces, or linux.uidMappings empty): add uidMappings and gidMappings to "
            "the mount",
            opt, i);
    }
  return 0;
}
