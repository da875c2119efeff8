/* config_mounts.c: the OCI `mounts` array.  Each mount's options are kept as
 * written and also decoded into what mount(2) and mount_setattr(2) take:
 * MS_* flags to set and to clear, bind/rbind, propagation, the recursive
 * options ("rro", "rnoexec", ...: one MOUNT_ATTR_* change each, in order),
 * tmpcopyup, the idmapping, and the leftover filesystem data
 * ("mode=755,size=65536k").  iversion/noiversion and silent/loud are mount
 * flags (MS_I_VERSION, MS_SILENT), as in mount(8).  Later options win over
 * earlier ones ("ro" then "rw" is read-write).  After linux is parsed,
 * mr_cfg_finish_mounts resolves what needs it: "idmap" without mappings takes
 * linux.uidMappings/gidMappings (or the user namespace joined by path), and
 * crun's "idmap=uids=0-1000-10;gids=..." form, whose "@" ids are ids of the
 * container's user namespace. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/log.h"
#include "base/utils.h"

static const struct
{
  const char *name;
  enum mr_propagation prop;
} propagations[] = {
  { "private", MR_PROP_PRIVATE },       { "rprivate", MR_PROP_RPRIVATE },
  { "shared", MR_PROP_SHARED },         { "rshared", MR_PROP_RSHARED },
  { "slave", MR_PROP_SLAVE },           { "rslave", MR_PROP_RSLAVE },
  { "unbindable", MR_PROP_UNBINDABLE }, { "runbindable", MR_PROP_RUNBINDABLE },
};

bool
mr_cfg_propagation_from_name (const char *name, enum mr_propagation *out)
{
  for (size_t i = 0; i < sizeof propagations / sizeof propagations[0]; i++)
    if (strcmp (name, propagations[i].name) == 0)
      {
        *out = propagations[i].prop;
        return true;
      }
  return false;
}

static const struct
{
  const char *name;
  bool clear;
  unsigned long flag;
} flag_options[] = {
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID },
  { "suid", true, MS_NOSUID },
  { "nodev", false, MS_NODEV },
  { "dev", true, MS_NODEV },
  { "noexec", false, MS_NOEXEC },
  { "exec", true, MS_NOEXEC },
  { "noatime", false, MS_NOATIME },
  { "atime", true, MS_NOATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "diratime", true, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "nosymfollow", false, MS_NOSYMFOLLOW },
  { "symfollow", true, MS_NOSYMFOLLOW },
  { "remount", false, MS_REMOUNT },
  { "iversion", false, MS_I_VERSION },
  { "noiversion", true, MS_I_VERSION },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
};

/* The recursive options (mount_setattr(2) with AT_RECURSIVE).  The atime
   mode is one setting: each atime option clears MOUNT_ATTR__ATIME and sets
   one mode; "ratime" and "rnostrictatime" give the kernel's default
   (relatime), "rnorelatime" strictatime (the one mode that is neither). */
static const struct
{
  const char *name;
  uint64_t set, clr;
} recursive_options[] = {
  { "rro", MOUNT_ATTR_RDONLY, 0 },
  { "rrw", 0, MOUNT_ATTR_RDONLY },
  { "rnosuid", MOUNT_ATTR_NOSUID, 0 },
  { "rsuid", 0, MOUNT_ATTR_NOSUID },
  { "rnodev", MOUNT_ATTR_NODEV, 0 },
  { "rdev", 0, MOUNT_ATTR_NODEV },
  { "rnoexec", MOUNT_ATTR_NOEXEC, 0 },
  { "rexec", 0, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", MOUNT_ATTR_NODIRATIME, 0 },
  { "rdiratime", 0, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 },
  { "rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW },
  { "rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
  { "ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
  { "rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
  { "rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
  { "rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
  { "rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
};

static bool
is_idmap_option (const char *opt, bool *recursive)
{
  const char *name = opt[0] == 'r' ? opt + 1 : opt;

  if (strncmp (name, "idmap", 5) != 0 || (name[5] != '\0' && name[5] != '='))
    return false;
  *recursive = name != opt;
  return true;
}

/* Decode options[index]; 0 ok, -1 error.  `data` collects filesystem data. */
static int
apply_option (struct mr_mount *m, size_t index, const char *path, char **data, mr_error_t *err)
{
  const char *opt = m->options[index];
  enum mr_propagation prop;
  bool recursive;

  for (size_t i = 0; i < sizeof flag_options / sizeof flag_options[0]; i++)
    if (strcmp (opt, flag_options[i].name) == 0)
      {
        if (flag_options[i].clear)
          {
            m->clear_flags |= flag_options[i].flag;
            m->flags &= ~flag_options[i].flag;
          }
        else
          {
            m->flags |= flag_options[i].flag;
            m->clear_flags &= ~flag_options[i].flag;
          }
        return 0;
      }
  if (strcmp (opt, "bind") == 0 || strcmp (opt, "rbind") == 0)
    {
      m->bind = true;
      m->recursive = opt[0] == 'r';
      return 0;
    }
  if (mr_cfg_propagation_from_name (opt, &prop))
    {
      m->propagation = prop;
      return 0;
    }
  for (size_t i = 0; i < sizeof recursive_options / sizeof recursive_options[0]; i++)
    if (strcmp (opt, recursive_options[i].name) == 0)
      {
        struct mr_mount_attr *a;

        if (m->rattrs == NULL)
          m->rattrs = xcalloc (m->n_options, sizeof *m->rattrs);
        a = &m->rattrs[m->n_rattrs++];
        a->option = index;
        a->set = recursive_options[i].set;
        a->clr = recursive_options[i].clr;
        return 0;
      }
  if (strcmp (opt, "tmpcopyup") == 0)
    {
      m->tmpcopyup = true;
      return 0;
    }
  if (strcmp (opt, "defaults") == 0 || opt[0] == '\0')
    return 0;
  if (is_idmap_option (opt, &recursive))
    {
      if (m->idmap && m->idmap_option < m->n_options)
        return mr_cfg_error (err, path, "\"%s\" after \"%s\" (options[%zu]): give one idmap option", opt,
                             m->options[m->idmap_option], m->idmap_option);
      m->idmap = true;
      m->idmap_recursive = recursive;
      m->idmap_option = index;
      return 0;
    }
  if (*data == NULL)
    *data = xstrdup (opt);
  else
    {
      char *joined = xasprintf ("%s,%s", *data, opt);
      free (*data);
      *data = joined;
    }
  return 0;
}

/* mounts[i].uidMappings / gidMappings: [{containerID, hostID, size}]. */
static int
parse_mappings (const json_t *v, const char *path, const char *key, struct mr_idmap **out, size_t *n,
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
    (*out)[i].container_id = (uint32_t) vals[0];
    (*out)[i].host_id = (uint32_t) vals[1];
    (*out)[i].size = (uint32_t) vals[2];
  }
  return 1;
}

static int
parse_mount (const json_t *v, const char *path, struct mr_mount *m, mr_error_t *err)
{
  cleanup_free char *op = NULL;

  if (mr_cfg_v_object (v, path, err) < 0)
    return -1;
  if (mr_cfg_string (v, path, "destination", &m->destination, err) < 0)
    return -1;
  if (m->destination == NULL)
    return mr_cfg_missing (err, path, "destination");
  if (m->destination[0] != '/')
    {
      /* runtime spec: a relative destination is relative to "/" (deprecated;
       * runc and crun take it the same way) */
      char *abs = xasprintf ("/%s", m->destination);
      if (m->destination[0] == '\0')
        {
          free (abs);
          return mr_cfg_error (err, path, "destination is empty");
        }
      mr_log_warning ("%s.destination \"%s\" is relative: taken as \"%s\" (relative destinations are deprecated "
                      "by the runtime spec)",
                      path, m->destination, abs);
      free (m->destination);
      m->destination = abs;
    }
  if (mr_cfg_string (v, path, "type", &m->type, err) < 0
      || mr_cfg_string (v, path, "source", &m->source, err) < 0)
    return -1;
  if (parse_mappings (v, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err) < 0
      || parse_mappings (v, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err) < 0)
    return -1;
  if ((m->n_uid_mappings == 0) != (m->n_gid_mappings == 0))
    {
      cleanup_free char *mp = mr_cfg_key (path, m->n_uid_mappings ? "uidMappings" : "gidMappings");
      return mr_cfg_error (err, mp, "is given without %s (an idmapped mount needs both)",
                           m->n_uid_mappings ? "gidMappings" : "uidMappings");
    }
  if (mr_cfg_strv (v, path, "options", &m->options, &m->n_options, err) < 0)
    return -1;
  if (m->type && strcmp (m->type, "bind") == 0)
    m->bind = true;
  m->idmap_option = m->n_options;
  op = mr_cfg_key (path, "options");
  for (size_t i = 0; i < m->n_options; i++)
    {
      cleanup_free char *ep = mr_cfg_idx (op, i);
      if (apply_option (m, i, ep, &m->data, err) < 0)
        return -1;
    }
  if (m->n_uid_mappings > 0)
    m->idmap = true; /* the fields alone ask for it (crun applies them too) */
  if (m->tmpcopyup && (m->bind || m->type == NULL || strcmp (m->type, "tmpfs") != 0))
    {
      size_t j = 0;
      cleanup_free char *ep = NULL;

      while (strcmp (m->options[j], "tmpcopyup") != 0)
        j++;
      ep = mr_cfg_idx (op, j);
      if (m->bind)
        return mr_cfg_error (err, ep, "\"tmpcopyup\" is for a mount of type tmpfs (this one is a bind mount)");
      return mr_cfg_error (err, ep, "\"tmpcopyup\" is for a mount of type tmpfs (this one is of type \"%s\")",
                           m->type ? m->type : "(none)");
    }
  return 0;
}

void
mr_cfg_mounts_clear (struct mr_config *c)
{
  for (size_t i = 0; c->mounts && i < c->n_mounts; i++)
    {
      struct mr_mount *m = &c->mounts[i];
      free (m->destination);
      free (m->type);
      free (m->source);
      mr_strv_free (m->options);
      free (m->data);
      free (m->rattrs);
      free (m->uid_mappings);
      free (m->gid_mappings);
    }
  free (c->mounts);
  c->mounts = NULL;
  c->n_mounts = 0;
}

int
mr_cfg_parse_mounts (const json_t *root, struct mr_config *c, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  size_t i;
  int r = mr_cfg_array (root, "", "mounts", &arr, err);

  if (r <= 0 || json_array_size (arr) == 0)
    return r;
  c->mounts = xcalloc (json_array_size (arr), sizeof *c->mounts);
  c->n_mounts = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx ("mounts", i);
    if (parse_mount (e, ep, &c->mounts[i], err) < 0)
      return -1;
  }
  return 1;
}

/* Is [id, id + size) inside one range of `maps`?  Its host id then. */
static bool
to_host (const struct mr_idmap *maps, size_t n, uint64_t id, uint64_t size, uint32_t *host)
{
  for (size_t i = 0; i < n; i++)
    if (id >= maps[i].container_id && id + size <= (uint64_t) maps[i].container_id + maps[i].size)
      {
        *host = (uint32_t) (id - maps[i].container_id + maps[i].host_id);
        return true;
      }
  return false;
}

/* crun's "uids=" / "gids=" value: "[#][@]A-B-C" triplets (source id,
   id it shows as, count), '#'-separated; "@B" is an id of the container's
   user namespace.  `end` is where this value stops (';' or the end). */
static int
parse_triplets (const char *s, const char *end, const char *path, const char *what,
                const struct mr_idmap *ns_maps, size_t n_ns_maps, struct mr_idmap **out, size_t *n, mr_error_t *err)
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
            return mr_cfg_error (err, path, "%s: expected container-host-size triplets like 0-1000-10, got \"%.*s\"",
                                 what, (int) (end - s), s);
          errno = 0;
          x = strtoull (s, &stop, 10);
          if (errno != 0 || x > UINT32_MAX || stop > end)
            return mr_cfg_error (err, path, "%s: id \"%.*s\" is out of range (0 to %u)", what,
                                 (int) (stop - s), s, UINT32_MAX);
          v[k] = x;
          s = stop;
        }
      if (v[2] == 0)
        return mr_cfg_error (err, path, "%s: a mapping of size 0", what);
      if (s < end && *s != '#')
        return mr_cfg_error (err, path, "%s: unexpected \"%.*s\" after a triplet (triplets are '#'-separated)",
                             what, (int) (end - s), s);
      if (*n == cap)
        {
          cap = cap ? cap * 2 : 4;
          *out = xrealloc (*out, cap * sizeof **out);
        }
      (*out)[*n].container_id = (uint32_t) v[0];
      (*out)[*n].size = (uint32_t) v[2];
      if (!relative)
        (*out)[*n].host_id = (uint32_t) v[1];
      else if (!to_host (ns_maps, n_ns_maps, v[1], v[2], &(*out)[*n].host_id))
        return mr_cfg_error (err, path,
                             "%s: \"@%llu\" (%llu ids) is not inside one range of linux.%s%s (an id after '@' is "
                             "an id of the container's user namespace)",
                             what, (unsigned long long) v[1], (unsigned long long) v[2],
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
                             (int) (end - s), s);
      if ((uids ? m->n_uid_mappings : m->n_gid_mappings) > 0)
        return mr_cfg_error (err, path, "\"%s\" is given twice", uids ? "uids=" : "gids=");
      if (parse_triplets (s + 5, end, path, uids ? "uids" : "gids", uids ? c->uid_mappings : c->gid_mappings,
                          uids ? c->n_uid_mappings : c->n_gid_mappings, uids ? &m->uid_mappings : &m->gid_mappings,
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
            mr_log_warning ("%s: the mappings of \"%s\" are not used: mounts[%zu].uidMappings and gidMappings are "
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
        return mr_cfg_error (err, path,
                             "\"%s\" without mounts[%zu].uidMappings and gidMappings takes the mappings of the "
                             "container's user namespace, and the container has none (no user namespace in "
                             "linux.namespaces, or linux.uidMappings empty): add uidMappings and gidMappings to "
                             "the mount",
                             opt, i);
    }
  return 0;
}
