/* config_mounts.c: the OCI `mounts` array.  Each mount's options are kept as
 * written and also decoded into what mount(2) and mount_setattr(2) take:
 * MS_* flags to set and to clear, bind/rbind, propagation, the recursive
 * options ("rro", "rnoexec", ...: one MOUNT_ATTR_* change each, in order),
 * tmpcopyup, the idmapping, and the leftover filesystem data
 * ("mode=755,size=65536k").  iversion/noiversion and silent/loud are mount
 * flags (MS_I_VERSION, MS_SILENT), as in mount(8).  Later options win over
 * earlier ones ("ro" then "rw" is read-write).  The mappings of idmapped
 * mounts are config_idmap.c's. */
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
  if (mr_cfg_mount_mappings (v, path, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err) < 0
      || mr_cfg_mount_mappings (v, path, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err) < 0)
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
