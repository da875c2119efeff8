/* config_process.c: the OCI `process` object (also the whole document of
 * `exec --process FILE`): terminal, console size, cwd, args, env, user,
 * capabilities (names resolved to bits with libcap's cap_from_name, a pure
 * table lookup), rlimits (names resolved to RLIMIT_* numbers), and the
 * scalar security fields.  Unknown capability or rlimit names are errors:
 * runc only warns, but a typo in a security setting should not pass. */
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/log.h"
#include "base/utils.h"

#define ID_MAX ((uint64_t)UINT32_MAX - 1) /* (uid_t) -1 is "no change" everywhere */

void
mr_cfg_user_clear (struct mr_user *u)
{
  free (u->additional_gids);
  free (u->username);
  memset (u, 0, sizeof *u);
}

int
mr_cfg_parse_user (const json_t *v, const char *path, struct mr_user *u, mr_error_t *err)
{
  json_t *gids = NULL, *e;
  uint64_t n;
  size_t i;
  int r;

  if (mr_cfg_v_object (v, path, err) < 0)
    return -1;
  if (mr_cfg_u64 (v, path, "uid", ID_MAX, &n, err) < 0)
    return -1;
  u->uid = mr_cfg_get (v, "uid") ? (uid_t)n : 0;
  if (mr_cfg_u64 (v, path, "gid", ID_MAX, &n, err) < 0)
    return -1;
  u->gid = mr_cfg_get (v, "gid") ? (gid_t)n : 0;
  r = mr_cfg_u64 (v, path, "umask", 0777, &n, err);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      u->has_umask = true;
      u->umask = (mode_t)n;
    }
  if (mr_cfg_string (v, path, "username", &u->username, err) < 0)
    return -1;
  r = mr_cfg_array (v, path, "additionalGids", &gids, err);
  if (r < 0)
    return -1;
  if (r > 0 && json_array_size (gids) > 0)
    {
      cleanup_free char *gp = mr_cfg_key (path, "additionalGids");
      u->additional_gids = xcalloc (json_array_size (gids), sizeof *u->additional_gids);
      json_array_foreach (gids, i, e)
      {
        cleanup_free char *ep = mr_cfg_idx (gp, i);
        if (mr_cfg_v_u64 (e, ep, ID_MAX, &n, err) < 0)
          return -1;
        u->additional_gids[i] = (gid_t)n;
        u->n_additional_gids = i + 1;
      }
    }
  return 0;
}

static int
parse_cap_set (const json_t *caps, const char *path, const char *key, uint64_t *mask, mr_error_t *err)
{
  cleanup_strv char **names = NULL;
  cleanup_free char *fp = NULL;
  size_t n = 0;
  int r = mr_cfg_strv (caps, path, key, &names, &n, err);

  if (r <= 0)
    return r;
  fp = mr_cfg_key (path, key);
  for (size_t i = 0; i < n; i++)
    {
      cap_value_t cap;
      if (strncmp (names[i], "CAP_", 4) != 0 || cap_from_name (names[i], &cap) != 0 || cap < 0 || cap > 63)
        {
          /* runtime spec: a capability that cannot be mapped is logged as a
           * warning and the container still runs (as runc and crun) */
          cleanup_free char *ep = mr_cfg_idx (fp, i);
          mr_log_warning ("%s: unknown capability \"%s\" is ignored (expected a name like \"CAP_NET_ADMIN\" "
                          "that this libcap knows)",
                          ep, names[i]);
          continue;
        }
      *mask |= UINT64_C (1) << cap;
    }
  return 1;
}

static int
parse_capabilities (const json_t *proc, const char *path, struct mr_process *p, mr_error_t *err)
{
  json_t *caps = NULL;
  cleanup_free char *cp = NULL;
  int r = mr_cfg_object (proc, path, "capabilities", &caps, err);

  if (r <= 0)
    return r;
  cp = mr_cfg_key (path, "capabilities");
  p->has_capabilities = true;
  if (parse_cap_set (caps, cp, "bounding", &p->capabilities.bounding, err) < 0
      || parse_cap_set (caps, cp, "effective", &p->capabilities.effective, err) < 0
      || parse_cap_set (caps, cp, "inheritable", &p->capabilities.inheritable, err) < 0
      || parse_cap_set (caps, cp, "permitted", &p->capabilities.permitted, err) < 0
      || parse_cap_set (caps, cp, "ambient", &p->capabilities.ambient, err) < 0)
    return -1;
  return 1;
}

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

static int
parse_rlimits (const json_t *proc, const char *path, struct mr_process *p, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL;
  size_t i;
  int r = mr_cfg_array (proc, path, "rlimits", &arr, err);

  if (r <= 0 || json_array_size (arr) == 0)
    return r;
  ap = mr_cfg_key (path, "rlimits");
  p->rlimits = xcalloc (json_array_size (arr), sizeof *p->rlimits);
  p->n_rlimits = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
    struct mr_rlimit *rl = &p->rlimits[i];
    size_t k;

    if (mr_cfg_v_object (e, ep, err) < 0)
      return -1;
    if (mr_cfg_string (e, ep, "type", &rl->type, err) < 0)
      return -1;
    if (rl->type == NULL)
      return mr_cfg_missing (err, ep, "type");
    for (k = 0; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
      if (strcmp (rl->type, rlimit_names[k].name) == 0)
        break;
    if (k == sizeof rlimit_names / sizeof rlimit_names[0])
      {
        cleanup_free char *tp = mr_cfg_key (ep, "type");
        return mr_cfg_error (err, tp, "unknown rlimit \"%s\" (expected a name like \"RLIMIT_NOFILE\")",
                             rl->type);
      }
    rl->resource = rlimit_names[k].resource;
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[j].resource == rl->resource)
        {
          cleanup_free char *tp = mr_cfg_key (ep, "type");
          return mr_cfg_error (err, tp, "\"%s\" is already set by %s[%zu]", rl->type, ap, j);
        }
    if (!mr_cfg_get (e, "soft"))
      return mr_cfg_missing (err, ep, "soft");
    if (!mr_cfg_get (e, "hard"))
      return mr_cfg_missing (err, ep, "hard");
    if (mr_cfg_u64 (e, ep, "soft", UINT64_MAX, &rl->soft, err) < 0
        || mr_cfg_u64 (e, ep, "hard", UINT64_MAX, &rl->hard, err) < 0)
      return -1;
    if (rl->soft > rl->hard)
      return mr_cfg_error (err, ep, "soft limit %llu is greater than hard limit %llu",
                           (unsigned long long)rl->soft, (unsigned long long)rl->hard);
  }
  return 1;
}

void
mr_cfg_process_clear (struct mr_process *p)
{
  free (p->cwd);
  mr_strv_free (p->args);
  mr_strv_free (p->env);
  mr_cfg_user_clear (&p->user);
  for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
    free (p->rlimits[i].type);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  mr_cfg_proc_attrs_clear (p);
  memset (p, 0, sizeof *p);
}

int
mr_cfg_parse_process (const json_t *v, const char *path, struct mr_process *p, mr_error_t *err)
{
  json_t *cs = NULL, *user;
  int64_t i64;
  uint64_t u64;
  int r;

  if (mr_cfg_v_object (v, path, err) < 0)
    return -1;
  if (mr_cfg_bool (v, path, "terminal", &p->terminal, err) < 0)
    return -1;
  r = mr_cfg_object (v, path, "consoleSize", &cs, err);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      cleanup_free char *cp = mr_cfg_key (path, "consoleSize");
      p->has_console_size = true;
      if (mr_cfg_u64 (cs, cp, "height", UINT16_MAX, &u64, err) < 0)
        return -1;
      p->console_height = mr_cfg_get (cs, "height") ? (unsigned int)u64 : 0;
      if (mr_cfg_u64 (cs, cp, "width", UINT16_MAX, &u64, err) < 0)
        return -1;
      p->console_width = mr_cfg_get (cs, "width") ? (unsigned int)u64 : 0;
    }

  if (mr_cfg_abs_path (v, path, "cwd", &p->cwd, err) < 0)
    return -1;
  if (p->cwd == NULL)
    return mr_cfg_missing (err, path, "cwd");

  if (mr_cfg_strv (v, path, "args", &p->args, &p->n_args, err) < 0)
    return -1;
  if (p->n_args == 0)
    {
      cleanup_free char *ap = mr_cfg_key (path, "args");
      if (p->args == NULL)
        return mr_cfg_missing (err, path, "args");
      return mr_cfg_error (err, ap, "is empty (expected at least the program to run)");
    }
  if (p->args[0][0] == '\0')
    {
      cleanup_free char *ap = mr_cfg_key (path, "args");
      cleanup_free char *a0 = mr_cfg_idx (ap, 0);
      return mr_cfg_error (err, a0, "the program name is empty");
    }
  if (mr_cfg_env (v, path, "env", &p->env, &p->n_env, err) < 0)
    return -1;

  user = mr_cfg_get (v, "user");
  if (user != NULL)
    {
      cleanup_free char *up = mr_cfg_key (path, "user");
      if (mr_cfg_parse_user (user, up, &p->user, err) < 0)
        return -1;
    }
  if (parse_capabilities (v, path, p, err) < 0 || parse_rlimits (v, path, p, err) < 0)
    return -1;
  if (mr_cfg_bool (v, path, "noNewPrivileges", &p->no_new_privileges, err) < 0)
    return -1;
  r = mr_cfg_i64 (v, path, "oomScoreAdj", -1000, 1000, &i64, err);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      p->has_oom_score_adj = true;
      p->oom_score_adj = (int)i64;
    }
  if (mr_cfg_string (v, path, "apparmorProfile", &p->apparmor_profile, err) < 0
      || mr_cfg_string (v, path, "selinuxLabel", &p->selinux_label, err) < 0)
    return -1;
  return mr_cfg_parse_proc_attrs (v, path, p, err);
}
