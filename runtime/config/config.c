/* config.c: the entry points of the config parser (config.json from a file or
 * memory, a standalone process JSON for `exec --process`) and the top level
 * of the document: ociVersion, root, process, hostname, domainname, hooks
 * and annotations, delegating mounts, linux and the minirun extension to
 * config_mounts.c, config_linux.c and config_pins.c.  Bad JSON is reported
 * as `<file>:<line>:<column>: invalid JSON: ...`; every other error as
 * `<file>: <json path>: ...`.  Duplicate object keys are rejected (a
 * repeated key is almost always an editing mistake that would otherwise
 * silently drop a setting).  Unknown fields are ignored, as the OCI spec
 * requires.  mr_config_free() releases everything. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

#define CONFIG_MAX_SIZE (64u << 20)
#define DATA_NAME "config.json"

static const char *const hook_names[MR_HOOK_COUNT] = {
  [MR_HOOK_PRESTART] = "prestart",
  [MR_HOOK_CREATE_RUNTIME] = "createRuntime",
  [MR_HOOK_CREATE_CONTAINER] = "createContainer",
  [MR_HOOK_START_CONTAINER] = "startContainer",
  [MR_HOOK_POSTSTART] = "poststart",
  [MR_HOOK_POSTSTOP] = "poststop",
};

static json_t *
load_json (const char *data, size_t len, const char *name, mr_error_t *err)
{
  json_error_t je;
  json_t *root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);

  /* An integer above INT64_MAX (e.g. an rlimit of 2^64-1): decode numbers as doubles. */
  if (root == NULL && json_error_code (&je) == json_error_numeric_overflow)
    root = json_loadb (data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
  if (root == NULL)
    {
      mr_error_set (err, 0, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column, je.text);
      return NULL;
    }
  if (!json_is_object (root))
    {
      mr_cfg_type_error (err, "", "an object", root);
      mr_error_wrap (err, "%s", name);
      json_decref (root);
      return NULL;
    }
  return root;
}

static void
hook_clear (struct mr_hook *h)
{
  free (h->path);
  mr_strv_free (h->args);
  mr_strv_free (h->env);
}

static int
parse_hooks (const json_t *root, struct mr_config *c, mr_error_t *err)
{
  json_t *hooks = NULL;
  int r = mr_cfg_object (root, "", "hooks", &hooks, err);

  if (r <= 0)
    return r;
  for (int k = 0; k < MR_HOOK_COUNT; k++)
    {
      cleanup_free char *kp = mr_cfg_key ("hooks", hook_names[k]);
      json_t *arr = NULL, *e;
      size_t i;

      r = mr_cfg_array (hooks, "hooks", hook_names[k], &arr, err);
      if (r < 0)
        return -1;
      if (r == 0 || json_array_size (arr) == 0)
        continue;
      c->hooks[k] = xcalloc (json_array_size (arr), sizeof *c->hooks[k]);
      c->n_hooks[k] = json_array_size (arr);
      json_array_foreach (arr, i, e)
      {
        cleanup_free char *ep = mr_cfg_idx (kp, i);
        struct mr_hook *h = &c->hooks[k][i];
        int64_t timeout;

        if (mr_cfg_v_object (e, ep, err) < 0 || mr_cfg_abs_path (e, ep, "path", &h->path, err) < 0)
          return -1;
        if (h->path == NULL)
          return mr_cfg_missing (err, ep, "path");
        if (mr_cfg_strv (e, ep, "args", &h->args, &h->n_args, err) < 0
            || mr_cfg_env (e, ep, "env", &h->env, &h->n_env, err) < 0)
          return -1;
        r = mr_cfg_i64 (e, ep, "timeout", INT64_MIN, INT64_MAX, &timeout, err);
        if (r < 0)
          return -1;
        if (r > 0 && (timeout <= 0 || timeout > INT32_MAX))
          {
            cleanup_free char *tp = mr_cfg_key (ep, "timeout");
            return mr_cfg_error (err, tp, "%lld is not a valid timeout (expected seconds, an integer > 0)",
                                 (long long)timeout);
          }
        h->has_timeout = r > 0;
        h->timeout = r > 0 ? (int)timeout : 0;
      }
    }
  return 1;
}

static int
parse_root (const json_t *root, struct mr_config *c, mr_error_t *err)
{
  json_t *rt = NULL, *proc;
  int r;

  if (mr_cfg_string (root, "", "ociVersion", &c->oci_version, err) < 0)
    return -1;
  if (c->oci_version == NULL)
    return mr_cfg_missing (err, "", "ociVersion");
  if (c->oci_version[0] == '\0')
    return mr_cfg_error (err, "ociVersion", "is empty (expected a version such as \"1.1.0\")");

  r = mr_cfg_object (root, "", "root", &rt, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return mr_cfg_missing (err, "", "root");
  if (mr_cfg_string (rt, "root", "path", &c->root_path, err) < 0
      || mr_cfg_bool (rt, "root", "readonly", &c->root_readonly, err) < 0)
    return -1;
  if (c->root_path == NULL)
    return mr_cfg_missing (err, "root", "path");
  if (c->root_path[0] == '\0')
    return mr_cfg_error (err, "root.path",
                         "is empty (expected the root filesystem directory, e.g. \"rootfs\")");

  proc = mr_cfg_get (root, "process");
  if (proc != NULL)
    {
      c->has_process = true;
      if (mr_cfg_parse_process (proc, "process", &c->process, err) < 0)
        return -1;
    }
  if (mr_cfg_string (root, "", "hostname", &c->hostname, err) < 0
      || mr_cfg_string (root, "", "domainname", &c->domainname, err) < 0)
    return -1;
  return 0;
}

static int
parse_document (const json_t *root, struct mr_config *c, mr_error_t *err)
{
  if (parse_root (root, c, err) < 0 || mr_cfg_parse_mounts (root, c, err) < 0
      || parse_hooks (root, c, err) < 0
      || mr_cfg_kv (root, "", "annotations", &c->annotations, &c->n_annotations, err) < 0
      || mr_cfg_parse_linux (root, c, err) < 0 || mr_cfg_finish_mounts (c, err) < 0
      || mr_cfg_parse_pins (root, c, err) < 0)
    return -1;
  return 0;
}

static int
parse_named (const char *data, size_t len, const char *name, struct mr_config **out, mr_error_t *err)
{
  struct mr_config *c;
  json_t *root = load_json (data, len, name, err);

  if (root == NULL)
    return -1;
  c = xcalloc (1, sizeof *c);
  if (parse_document (root, c, err) < 0)
    {
      json_decref (root);
      mr_config_free (c);
      return mr_error_wrap (err, "%s", name);
    }
  json_decref (root);
  *out = c;
  return 0;
}

int
mr_config_parse_data (const char *data, size_t len, struct mr_config **out, mr_error_t *err)
{
  return parse_named (data, len, DATA_NAME, out, err);
}

int
mr_config_parse_named (const char *data, size_t len, const char *name, struct mr_config **out, mr_error_t *err)
{
  return parse_named (data, len, name, out, err);
}

int
mr_config_parse_file (const char *path, struct mr_config **out, mr_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (mr_read_file_at (AT_FDCWD, path, CONFIG_MAX_SIZE, &data, &len, err) < 0)
    return -1;
  return parse_named (data, len, path, out, err);
}

void
mr_config_free (struct mr_config *c)
{
  if (c == NULL)
    return;
  free (c->oci_version);
  free (c->root_path);
  mr_cfg_process_clear (&c->process);
  free (c->hostname);
  free (c->domainname);
  mr_cfg_mounts_clear (c);
  for (int k = 0; k < MR_HOOK_COUNT; k++)
    {
      for (size_t i = 0; c->hooks[k] && i < c->n_hooks[k]; i++)
        hook_clear (&c->hooks[k][i]);
      free (c->hooks[k]);
    }
  mr_cfg_kv_free (c->annotations, c->n_annotations);
  mr_cfg_linux_clear (c);
  mr_cfg_pins_clear (&c->pins);
  free (c);
}

int
mr_process_parse_file (const char *path, struct mr_process **out, mr_error_t *err)
{
  cleanup_free char *data = NULL;
  struct mr_process *p;
  json_t *root;
  size_t len = 0;

  if (mr_read_file_at (AT_FDCWD, path, CONFIG_MAX_SIZE, &data, &len, err) < 0)
    return -1;
  root = load_json (data, len, path, err);
  if (root == NULL)
    return -1;
  p = xcalloc (1, sizeof *p);
  if (mr_cfg_parse_process (root, "process", p, err) < 0)
    {
      json_decref (root);
      mr_process_free (p);
      return mr_error_wrap (err, "%s", path);
    }
  json_decref (root);
  *out = p;
  return 0;
}

void
mr_process_free (struct mr_process *p)
{
  if (p == NULL)
    return;
  mr_cfg_process_clear (p);
  free (p);
}
