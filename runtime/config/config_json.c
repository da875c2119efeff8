/* config_json.c: the typed accessors the config parser is built from.  They
 * turn jansson values into C values and every mismatch into an error naming
 * the JSON path, the value found and what was expected
 * (`process.args[1]: expected a string, got integer 5`).  Integers may also
 * arrive as integral JSON reals: jansson cannot hold integers above
 * INT64_MAX, so a document with such a number (rlimits of
 * 18446744073709551615) is decoded with every integer as a double; the
 * value 2^64 then stands for UINT64_MAX. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

static bool
is_plain_key (const char *key)
{
  if (*key == '\0')
    return false;
  for (const char *p = key; *p; p++)
    if (!isalnum ((unsigned char)*p) && *p != '_')
      return false;
  return true;
}

char *
mr_cfg_key (const char *path, const char *key)
{
  bool plain = is_plain_key (key);
  if (path == NULL || *path == '\0')
    return plain ? xstrdup (key) : xasprintf ("[\"%s\"]", key);
  return plain ? xasprintf ("%s.%s", path, key) : xasprintf ("%s[\"%s\"]", path, key);
}

char *
mr_cfg_idx (const char *path, size_t i)
{
  return xasprintf ("%s[%zu]", path ? path : "", i);
}

char *
mr_cfg_describe (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return xstrdup ("an object");
    case JSON_ARRAY:
      return xstrdup ("an array");
    case JSON_STRING:
      if (json_string_length (v) > 64)
        return xasprintf ("string \"%.64s...\"", json_string_value (v));
      return xasprintf ("string \"%s\"", json_string_value (v));
    case JSON_INTEGER:
      return xasprintf ("integer %lld", (long long)json_integer_value (v));
    case JSON_REAL:
      return xasprintf ("number %.17g", json_real_value (v));
    case JSON_TRUE:
      return xstrdup ("boolean true");
    case JSON_FALSE:
      return xstrdup ("boolean false");
    case JSON_NULL:
    default:
      return xstrdup ("null");
    }
}

int
(mr_cfg_error) (mr_error_t *err, const char *path, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  return mr_error_set (err, 0, "%s: %s", path && *path ? path : "top level", msg ? msg : "invalid value");
}

int
(mr_cfg_type_error) (mr_error_t *err, const char *path, const char *expected, const json_t *v)
{
  cleanup_free char *got = mr_cfg_describe (v);
  return mr_cfg_error (err, path, "expected %s, got %s", expected, got);
}

int
(mr_cfg_missing) (mr_error_t *err, const char *path, const char *key)
{
  cleanup_free char *p = mr_cfg_key (path, key);
  return mr_error_set (err, 0, "%s: required field is missing", p);
}

json_t *
mr_cfg_get (const json_t *obj, const char *key)
{
  json_t *v;
  if (obj == NULL || !json_is_object (obj))
    return NULL;
  v = json_object_get (obj, key);
  return json_is_null (v) ? NULL : v;
}

/* ---- values ---- */

int
mr_cfg_v_string (const json_t *v, const char *path, char **out, mr_error_t *err)
{
  if (!json_is_string (v))
    return mr_cfg_type_error (err, path, "a string", v);
  free (*out);
  *out = xstrdup (json_string_value (v));
  return 1;
}

int
mr_cfg_v_abs_path (const json_t *v, const char *path, char **out, mr_error_t *err)
{
  const char *s;
  if (!json_is_string (v))
    return mr_cfg_type_error (err, path, "an absolute path (string)", v);
  s = json_string_value (v);
  if (s[0] != '/')
    return mr_cfg_error (err, path, "\"%s\" is not an absolute path", s);
  free (*out);
  *out = xstrdup (s);
  return 1;
}

/* A JSON number as an integer: 1 ok (signed in *i or, when >= 2^63, unsigned in *u
 * with *big set), 0 when it is not an integral number. */
static bool
number_value (const json_t *v, int64_t *i, uint64_t *u, bool *big)
{
  *big = false;
  if (json_is_integer (v))
    {
      *i = json_integer_value (v);
      return true;
    }
  if (json_is_real (v))
    {
      double d = json_real_value (v);
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        {
          *i = (int64_t)d;
          return (double)*i == d;
        }
      if (d >= 9223372036854775808.0 && d <= 18446744073709551616.0)
        {
          *big = true;
          *u = d == 18446744073709551616.0 ? UINT64_MAX : (uint64_t)d;
          return (double)*u == d || *u == UINT64_MAX;
        }
    }
  return false;
}

int
mr_cfg_v_i64 (const json_t *v, const char *path, int64_t min, int64_t max, int64_t *out, mr_error_t *err)
{
  int64_t i = 0;
  uint64_t u = 0;
  bool big;

  if (!number_value (v, &i, &u, &big))
    return mr_cfg_type_error (err, path, "an integer", v);
  if (big || i < min || i > max)
    {
      cleanup_free char *got = mr_cfg_describe (v);
      return mr_cfg_error (err, path, "%s is out of range (expected an integer in %lld..%lld)", got,
                           (long long)min, (long long)max);
    }
  *out = i;
  return 1;
}

int
mr_cfg_v_u64 (const json_t *v, const char *path, uint64_t max, uint64_t *out, mr_error_t *err)
{
  int64_t i = 0;
  uint64_t u = 0;
  bool big;

  if (!number_value (v, &i, &u, &big))
    return mr_cfg_type_error (err, path, "a non-negative integer", v);
  if (!big)
    {
      if (i < 0)
        return mr_cfg_error (err, path, "%lld is negative (expected an integer in 0..%llu)", (long long)i,
                             (unsigned long long)max);
      u = (uint64_t)i;
    }
  if (u > max)
    return mr_cfg_error (err, path, "%llu is out of range (expected an integer in 0..%llu)",
                         (unsigned long long)u, (unsigned long long)max);
  *out = u;
  return 1;
}

int
mr_cfg_v_object (const json_t *v, const char *path, mr_error_t *err)
{
  if (!json_is_object (v))
    return mr_cfg_type_error (err, path, "an object", v);
  return 1;
}

/* ---- fields ---- */

/* Look up obj.key; on a type error the path is built only when needed. */
#define FIELD_PROLOGUE(obj, key)                                                                             \
  json_t *v = mr_cfg_get ((obj), (key));                                                                     \
  cleanup_free char *fp = NULL;                                                                              \
  if (v == NULL)                                                                                             \
    return 0;                                                                                                \
  fp = mr_cfg_key (path, (key))

int
mr_cfg_string (const json_t *obj, const char *path, const char *key, char **out, mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  return mr_cfg_v_string (v, fp, out, err);
}

int
mr_cfg_abs_path (const json_t *obj, const char *path, const char *key, char **out, mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  return mr_cfg_v_abs_path (v, fp, out, err);
}

int
mr_cfg_bool (const json_t *obj, const char *path, const char *key, bool *out, mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  if (!json_is_boolean (v))
    return mr_cfg_type_error (err, fp, "a boolean", v);
  *out = json_is_true (v);
  return 1;
}

int
mr_cfg_i64 (const json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out,
            mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  return mr_cfg_v_i64 (v, fp, min, max, out, err);
}

int
mr_cfg_u64 (const json_t *obj, const char *path, const char *key, uint64_t max, uint64_t *out,
            mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  return mr_cfg_v_u64 (v, fp, max, out, err);
}

int
mr_cfg_opt_i64 (const json_t *obj, const char *path, const char *key, struct mr_opt_i64 *out, mr_error_t *err)
{
  int r = mr_cfg_i64 (obj, path, key, INT64_MIN, INT64_MAX, &out->v, err);
  if (r > 0)
    out->set = true;
  return r;
}

int
mr_cfg_opt_u64 (const json_t *obj, const char *path, const char *key, uint64_t max, struct mr_opt_u64 *out,
                mr_error_t *err)
{
  int r = mr_cfg_u64 (obj, path, key, max, &out->v, err);
  if (r > 0)
    out->set = true;
  return r;
}

int
mr_cfg_object (const json_t *obj, const char *path, const char *key, json_t **out, mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  if (!json_is_object (v))
    return mr_cfg_type_error (err, fp, "an object", v);
  *out = v;
  return 1;
}

int
mr_cfg_array (const json_t *obj, const char *path, const char *key, json_t **out, mr_error_t *err)
{
  FIELD_PROLOGUE (obj, key);
  if (!json_is_array (v))
    return mr_cfg_type_error (err, fp, "an array", v);
  *out = v;
  return 1;
}

enum strv_kind
{
  STRV_ANY,
  STRV_ABS,
  STRV_ENV
};

static int
strv_field (const json_t *obj, const char *path, const char *key, enum strv_kind kind, char ***out, size_t *n,
            mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *fp = NULL;
  cleanup_strv char **vec = NULL;
  size_t i;
  int r = mr_cfg_array (obj, path, key, &arr, err);

  if (r <= 0)
    return r;
  fp = mr_cfg_key (path, key);
  vec = xcalloc (json_array_size (arr) + 1, sizeof *vec);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = NULL;
    const char *s;
    if (!json_is_string (e))
      {
        ep = mr_cfg_idx (fp, i);
        return mr_cfg_type_error (err, ep,
                                  kind == STRV_ABS   ? "an absolute path (string)"
                                  : kind == STRV_ENV ? "a string \"NAME=value\""
                                                     : "a string",
                                  e);
      }
    s = json_string_value (e);
    if (kind == STRV_ABS && s[0] != '/')
      {
        ep = mr_cfg_idx (fp, i);
        return mr_cfg_error (err, ep, "\"%s\" is not an absolute path", s);
      }
    if (kind == STRV_ENV && (s[0] == '=' || strchr (s, '=') == NULL))
      {
        ep = mr_cfg_idx (fp, i);
        return mr_cfg_error (err, ep, "\"%s\" is not an environment entry (expected \"NAME=value\")", s);
      }
    vec[i] = xstrdup (s);
  }
  mr_strv_free (*out);
  *n = json_array_size (arr);
  *out = MR_STEAL (vec);
  return 1;
}

int
mr_cfg_strv (const json_t *obj, const char *path, const char *key, char ***out, size_t *n, mr_error_t *err)
{
  return strv_field (obj, path, key, STRV_ANY, out, n, err);
}

int
mr_cfg_abs_strv (const json_t *obj, const char *path, const char *key, char ***out, size_t *n,
                 mr_error_t *err)
{
  return strv_field (obj, path, key, STRV_ABS, out, n, err);
}

int
mr_cfg_env (const json_t *obj, const char *path, const char *key, char ***out, size_t *n, mr_error_t *err)
{
  return strv_field (obj, path, key, STRV_ENV, out, n, err);
}

void
mr_cfg_kv_free (struct mr_kv *kv, size_t n)
{
  for (size_t i = 0; kv && i < n; i++)
    {
      free (kv[i].key);
      free (kv[i].value);
    }
  free (kv);
}

int
mr_cfg_kv (const json_t *obj, const char *path, const char *key, struct mr_kv **out, size_t *n,
           mr_error_t *err)
{
  json_t *map = NULL, *val;
  const char *k;
  cleanup_free char *fp = NULL;
  struct mr_kv *kv;
  size_t i = 0, count;
  int r = mr_cfg_object (obj, path, key, &map, err);

  if (r <= 0)
    return r;
  fp = mr_cfg_key (path, key);
  count = json_object_size (map);
  kv = xcalloc (count, sizeof *kv);
  json_object_foreach (map, k, val)
  {
    if (!json_is_string (val))
      {
        cleanup_free char *ep = mr_cfg_key (fp, k);
        mr_cfg_kv_free (kv, count);
        return mr_cfg_type_error (err, ep, "a string", val);
      }
    kv[i].key = xstrdup (k);
    kv[i].value = xstrdup (json_string_value (val));
    i++;
  }
  mr_cfg_kv_free (*out, *n);
  *out = kv;
  *n = count;
  return 1;
}
