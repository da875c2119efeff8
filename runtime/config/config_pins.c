/* config_pins.c: minirun's pid-pinning extension: the top-level `minirun`
 * object (pids, pidNamespaces, processes, legacyNsLastPid), the
 * `minirun.pids` annotation, and the pin-list string syntax shared with
 * `exec --pid` ("host=42000,container=1", values an integer > 0 or "any").
 * Only syntax and types are checked here (valid names, no duplicates, the
 * reserved names "init", "host" and "container"); whether the tree and the
 * namespaces make sense is the pid planner's job.  Unlike OCI fields,
 * unknown keys inside `minirun` are errors: a misspelt "pid" must not
 * silently leave a process unpinned.  Omitted `parent` and
 * `pidNamespace` are stored as their defaults ("init", "container" and, for
 * a declared namespace, "container"), so consumers never see NULL there. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

#define PIN_NAME_MAX 64

static bool
valid_name (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > PIN_NAME_MAX)
    return false;
  for (const char *p = s; *p; p++)
    if (!isalnum ((unsigned char)*p) && *p != '_' && *p != '-')
      return false;
  return true;
}

static int
name_error (mr_error_t *err, const char *path, const char *what, const char *name)
{
  return mr_cfg_error (err, path,
                       "invalid %s name \"%s\" (expected 1-%d characters from A-Z, a-z, 0-9, '_' and '-')",
                       what, name, PIN_NAME_MAX);
}

void
mr_pins_free (struct mr_pin *pins, size_t n)
{
  for (size_t i = 0; pins && i < n; i++)
    free (pins[i].ns);
  free (pins);
}

static void
trim (char **s)
{
  char *e;
  while (isspace ((unsigned char)**s))
    (*s)++;
  e = *s + strlen (*s);
  while (e > *s && isspace ((unsigned char)e[-1]))
    *--e = '\0';
}

int
mr_pins_parse_string (const char *spec, const char *what, struct mr_pin **out, size_t *n_out, mr_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec ? spec : "");
  struct mr_pin *pins = NULL;
  size_t n = 0, cap = 0;
  char *tok = copy, *next;

  what = what ? what : "pin list";
  trim (&tok);
  if (*tok == '\0')
    return mr_error_set (err, 0,
                         "%s: empty pin list (expected NAME=PID,..., e.g. \"host=42000,container=1\")", what);
  for (; tok != NULL; tok = next)
    {
      char *name = tok, *value;
      int64_t pid = 0;

      next = strchr (tok, ',');
      if (next != NULL)
        *next++ = '\0';
      value = strchr (tok, '=');
      trim (&name);
      if (value == NULL)
        {
          mr_error_set (err, 0, "%s: \"%s\" is not NAME=PID (e.g. \"container=1\")", what, name);
          mr_pins_free (pins, n);
          return -1;
        }
      *value++ = '\0';
      trim (&name);
      trim (&value);
      if (!valid_name (name))
        {
          mr_error_set (
              err, 0,
              "%s: invalid pid namespace name \"%s\" (expected 1-%d characters from A-Z, a-z, 0-9, '_' "
              "and '-')",
              what, name, PIN_NAME_MAX);
          mr_pins_free (pins, n);
          return -1;
        }
      if (strcmp (value, "any") != 0 && !mr_parse_i64 (value, 1, INT_MAX, &pid))
        {
          mr_error_set (err, 0, "%s: \"%s=%s\": expected a pid (an integer in 1..%d) or \"any\"", what, name,
                        value, INT_MAX);
          mr_pins_free (pins, n);
          return -1;
        }
      for (size_t i = 0; i < n; i++)
        if (strcmp (pins[i].ns, name) == 0)
          {
            mr_error_set (err, 0, "%s: pid namespace \"%s\" is given twice", what, name);
            mr_pins_free (pins, n);
            return -1;
          }
      if (n == cap)
        {
          cap = cap ? cap * 2 : 4;
          pins = xrealloc (pins, cap * sizeof *pins);
        }
      pins[n].ns = xstrdup (name);
      pins[n].pid = (int)pid;
      n++;
    }
  *out = pins;
  *n_out = n;
  return 0;
}

/* The extension is minirun's own: an unknown key there is a typo that would
 * silently drop a pin, so it is an error (unlike unknown OCI fields). */
static int
check_known_keys (const json_t *obj, const char *path, const char *const *known, const char *list,
                  mr_error_t *err)
{
  const char *key;
  json_t *v;

  json_object_foreach ((json_t *)obj, key, v)
  {
    const char *const *k;
    for (k = known; *k; k++)
      if (strcmp (key, *k) == 0)
        break;
    if (*k == NULL)
      {
        cleanup_free char *kp = mr_cfg_key (path, key);
        return mr_cfg_error (err, kp, "unknown field (expected one of %s)", list);
      }
  }
  return 0;
}

static const char *const minirun_keys[] = { "pids", "pidNamespaces", "processes", "legacyNsLastPid", NULL };
static const char *const pidns_keys[] = { "parent", NULL };
static const char *const process_keys[]
    = { "name", "parent", "pidNamespace", "pids", "args", "env", "cwd", "user", NULL };

/* A JSON pin object {"ns": pid|"any", ...} at obj.key. */
static int
parse_pin_object (const json_t *obj, const char *path, const char *key, struct mr_pin **out, size_t *n_out,
                  mr_error_t *err)
{
  json_t *map = NULL, *v;
  cleanup_free char *mp = NULL;
  const char *ns;
  size_t i = 0;
  int r = mr_cfg_object (obj, path, key, &map, err);

  if (r <= 0 || json_object_size (map) == 0)
    return r;
  mp = mr_cfg_key (path, key);
  *out = xcalloc (json_object_size (map), sizeof **out);
  *n_out = json_object_size (map);
  json_object_foreach (map, ns, v)
  {
    cleanup_free char *ep = mr_cfg_key (mp, ns);
    struct mr_pin *p = &(*out)[i++];

    if (!valid_name (ns))
      return name_error (err, mp, "pid namespace", ns);
    p->ns = xstrdup (ns);
    if (json_is_string (v) && strcmp (json_string_value (v), "any") == 0)
      p->pid = MR_PID_ANY;
    else if (json_is_number (v))
      {
        int64_t pid;
        if (mr_cfg_v_i64 (v, ep, INT64_MIN, INT64_MAX, &pid, err) < 0)
          return -1;
        if (pid < 1 || pid > INT_MAX)
          return mr_cfg_error (err, ep, "%lld is not a pid (expected an integer in 1..%d or \"any\")",
                               (long long)pid, INT_MAX);
        p->pid = (int)pid;
      }
    else
      return mr_cfg_type_error (err, ep, "a pid (an integer > 0) or \"any\"", v);
  }
  return 1;
}

static int
parse_name_field (const json_t *obj, const char *path, const char *key, const char *what, const char *dflt,
                  char **out, mr_error_t *err)
{
  int r = mr_cfg_string (obj, path, key, out, err);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      if (dflt == NULL)
        return mr_cfg_missing (err, path, key);
      *out = xstrdup (dflt);
      return 0;
    }
  if (!valid_name (*out))
    {
      cleanup_free char *fp = mr_cfg_key (path, key);
      return name_error (err, fp, what, *out);
    }
  return 1;
}

static int
parse_pid_namespaces (const json_t *mr, struct mr_pin_config *pc, mr_error_t *err)
{
  json_t *map = NULL, *v;
  const char *name;
  size_t i = 0;
  int r = mr_cfg_object (mr, "minirun", "pidNamespaces", &map, err);

  if (r <= 0 || json_object_size (map) == 0)
    return r;
  pc->pid_namespaces = xcalloc (json_object_size (map), sizeof *pc->pid_namespaces);
  pc->n_pid_namespaces = json_object_size (map);
  json_object_foreach (map, name, v)
  {
    cleanup_free char *ep = mr_cfg_key ("minirun.pidNamespaces", name);
    struct mr_pidns_decl *d = &pc->pid_namespaces[i++];

    if (!valid_name (name))
      return name_error (err, "minirun.pidNamespaces", "pid namespace", name);
    if (strcmp (name, MR_PIDNS_HOST) == 0 || strcmp (name, MR_PIDNS_CONTAINER) == 0)
      return mr_cfg_error (
          err, ep, "\"%s\" is a built-in pid namespace name; declare a namespace with another name", name);
    d->name = xstrdup (name);
    if (mr_cfg_v_object (v, ep, err) < 0 || check_known_keys (v, ep, pidns_keys, "parent", err) < 0
        || parse_name_field (v, ep, "parent", "pid namespace", MR_PIDNS_CONTAINER, &d->parent, err) < 0)
      return -1;
  }
  return 1;
}

static int
parse_proc_spec (const json_t *e, const char *ep, struct mr_pin_config *pc, size_t idx, mr_error_t *err)
{
  struct mr_proc_spec *ps = &pc->processes[idx];
  json_t *user;

  if (mr_cfg_v_object (e, ep, err) < 0
      || check_known_keys (e, ep, process_keys, "name, parent, pidNamespace, pids, args, env, cwd, user", err)
             < 0
      || parse_name_field (e, ep, "name", "process", NULL, &ps->name, err) < 0)
    return -1;
  if (strcmp (ps->name, "init") == 0)
    return mr_cfg_error (err, ep,
                         "the process name \"init\" is reserved for the OCI `process`; choose another name");
  for (size_t j = 0; j < idx; j++)
    if (strcmp (pc->processes[j].name, ps->name) == 0)
      {
        cleanup_free char *np = mr_cfg_key (ep, "name");
        return mr_cfg_error (err, np, "process name \"%s\" is already used by minirun.processes[%zu]",
                             ps->name, j);
      }
  if (parse_name_field (e, ep, "parent", "process", "init", &ps->parent, err) < 0
      || parse_name_field (e, ep, "pidNamespace", "pid namespace", MR_PIDNS_CONTAINER, &ps->pid_ns, err) < 0
      || parse_pin_object (e, ep, "pids", &ps->pins, &ps->n_pins, err) < 0)
    return -1;
  if (strcmp (ps->parent, ps->name) == 0)
    {
      cleanup_free char *pp = mr_cfg_key (ep, "parent");
      return mr_cfg_error (err, pp, "process \"%s\" cannot be its own parent", ps->name);
    }
  if (mr_cfg_strv (e, ep, "args", &ps->args, &ps->n_args, err) < 0)
    return -1;
  if (ps->n_args == 0 || ps->args[0][0] == '\0')
    {
      cleanup_free char *ap = mr_cfg_key (ep, "args");
      return ps->args ? mr_cfg_error (err, ap, "is empty (expected at least the program to run)")
                      : mr_cfg_missing (err, ep, "args");
    }
  if (mr_cfg_env (e, ep, "env", &ps->env, &ps->n_env, err) < 0
      || mr_cfg_abs_path (e, ep, "cwd", &ps->cwd, err) < 0)
    return -1;
  user = mr_cfg_get (e, "user");
  if (user != NULL)
    {
      cleanup_free char *up = mr_cfg_key (ep, "user");
      ps->has_user = true;
      if (mr_cfg_parse_user (user, up, &ps->user, err) < 0)
        return -1;
    }
  return 0;
}

static int
parse_processes (const json_t *mr, struct mr_pin_config *pc, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  size_t i;
  int r = mr_cfg_array (mr, "minirun", "processes", &arr, err);

  if (r <= 0 || json_array_size (arr) == 0)
    return r;
  pc->processes = xcalloc (json_array_size (arr), sizeof *pc->processes);
  pc->n_processes = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx ("minirun.processes", i);
    if (parse_proc_spec (e, ep, pc, i, err) < 0)
      return -1;
  }
  return 1;
}

void
mr_cfg_pins_clear (struct mr_pin_config *pc)
{
  mr_pins_free (pc->init_pins, pc->n_init_pins);
  for (size_t i = 0; pc->pid_namespaces && i < pc->n_pid_namespaces; i++)
    {
      free (pc->pid_namespaces[i].name);
      free (pc->pid_namespaces[i].parent);
    }
  free (pc->pid_namespaces);
  for (size_t i = 0; pc->processes && i < pc->n_processes; i++)
    {
      struct mr_proc_spec *ps = &pc->processes[i];
      free (ps->name);
      free (ps->parent);
      free (ps->pid_ns);
      mr_pins_free (ps->pins, ps->n_pins);
      mr_strv_free (ps->args);
      mr_strv_free (ps->env);
      free (ps->cwd);
      mr_cfg_user_clear (&ps->user);
    }
  free (pc->processes);
  memset (pc, 0, sizeof *pc);
}

int
mr_cfg_parse_pins (const json_t *root, struct mr_config *c, mr_error_t *err)
{
  struct mr_pin_config *pc = &c->pins;
  const char *annotation = NULL;
  json_t *mr = NULL;

  for (size_t i = 0; i < c->n_annotations; i++)
    if (strcmp (c->annotations[i].key, "minirun.pids") == 0)
      annotation = c->annotations[i].value;

  if (mr_cfg_object (root, "", "minirun", &mr, err) < 0)
    return -1;
  if (mr != NULL)
    {
      if (check_known_keys (mr, "minirun", minirun_keys, "pids, pidNamespaces, processes, legacyNsLastPid",
                            err)
              < 0
          || parse_pin_object (mr, "minirun", "pids", &pc->init_pins, &pc->n_init_pins, err) < 0
          || parse_pid_namespaces (mr, pc, err) < 0 || parse_processes (mr, pc, err) < 0
          || mr_cfg_bool (mr, "minirun", "legacyNsLastPid", &pc->legacy_ns_last_pid, err) < 0)
        return -1;
    }
  if (annotation != NULL)
    {
      if (mr_cfg_get (mr, "pids") != NULL)
        return mr_error_set (err, 0, "both minirun.pids and the annotation minirun.pids are set; use one");
      if (mr_pins_parse_string (annotation, "annotations[\"minirun.pids\"]", &pc->init_pins, &pc->n_init_pins,
                                err)
          < 0)
        return -1;
      pc->init_pins_from_annotation = true;
    }
  return 0;
}
