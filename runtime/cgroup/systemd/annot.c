/* systemd/annot.c: the annotations org.systemd.property.NAME=VALUE as
 * extra properties of the container's scope, as runc reads them: VALUE is
 * in the GVariant text form (the subset systemd's transient scope
 * properties need: booleans, numbers of every D-Bus integer type and
 * double, strings, string arrays, arrays of string pairs), NAMESec becomes
 * NAMEUSec in microseconds.  Parsed before the scope is started, so a bad
 * value fails the create with nothing made.  Pure string work, no bus;
 * bus.c sends the result with the rest of the list. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/systemd/systemd.h"
#include "base/cleanup.h"
#include "base/utils.h"

#define SEC_USEC 1000000ULL

/* A parsed value before it becomes a property. */
struct val
{
  const char *sig; /* "b" "y" "n" "q" "i" "u" "x" "t" "d" "s" "as" "a(ss)"; NULL: untyped integer */
  bool neg;        /* integers: the sign and the magnitude */
  uint64_t mag;
  double d;
  bool b;
  char *s;
  char **strv;
  size_t n_strv;
};

struct cur
{
  const char *p;
  const char *key, *value;
  mr_error_t *err;
};

static void
val_free (struct val *v)
{
  free (v->s);
  for (size_t i = 0; i < v->n_strv; i++)
    free (v->strv[i]);
  free (v->strv);
}

static int
bad (struct cur *c, const char *what)
{
  return mr_error_set (c->err, 0,
                       "annotation %s: value `%s`: %s (the GVariant text form: true, 'text', uint64 123, "
                       "['a', 'b']; see docs/cli.md)",
                       c->key, c->value, what);
}

static void
ws (struct cur *c)
{
  while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n')
    c->p++;
}

/* A word (letters, digits, @, parentheses of a type) at the cursor, or "". */
static size_t
word (const struct cur *c)
{
  size_t n = 0;
  while ((c->p[n] >= 'a' && c->p[n] <= 'z') || (c->p[n] >= '0' && c->p[n] <= '9') || c->p[n] == '@'
         || (c->p[0] == '@' && (c->p[n] == '(' || c->p[n] == ')')))
    n++;
  return n;
}

static int
parse_string (struct cur *c, char **out)
{
  char q = *c->p++;
  size_t cap = strlen (c->p) + 1, n = 0;
  cleanup_free char *s = xcalloc (cap, 1);

  for (;; c->p++)
    {
      char ch = *c->p;
      if (ch == '\0')
        return bad (c, "a string without its closing quote");
      if (ch == q)
        break;
      if (ch == '\\')
        {
          static const char from[] = "\\'\"ntr", to[] = "\\'\"\n\t\r";
          const char *e = c->p[1] ? strchr (from, c->p[1]) : NULL;
          if (e == NULL)
            return bad (c, "a string holds an escape other than \\\\ \\' \\\" \\n \\t \\r");
          ch = to[e - from];
          c->p++;
        }
      s[n++] = ch;
    }
  c->p++;
  *out = s;
  s = NULL;
  return 0;
}

/* An integer (decimal, 0x hex) or a double (a dot or an exponent) at the cursor. */
static int
parse_number (struct cur *c, struct val *v, bool want_double)
{
  const char *start = c->p, *digits = c->p + (*c->p == '-');
  size_t n = strspn (digits, "0123456789abcdefABCDEFxX.+-");
  bool hex = strncmp (digits, "0x", 2) == 0 || strncmp (digits, "0X", 2) == 0;
  char *end;

  if (n == 0 || *digits < '0' || *digits > '9')
    return bad (c, "expected true, false, a number, a 'string' or a [list]");
  errno = 0;
  if (want_double || (!hex && strcspn (digits, ".eE") < n))
    {
      v->d = strtod (start, &end);
      if (errno || end != digits + n || !isfinite (v->d))
        return bad (c, "not a number (a double)");
      v->sig = "d";
    }
  else
    {
      v->mag = strtoull (digits, &end, 0);
      if (errno || end != digits + n)
        return bad (c, "not an integer, or above 18446744073709551615");
      v->neg = digits != start && v->mag != 0;
    }
  c->p = digits + n;
  return 0;
}

/* ['a', 'b'] or [('a', 'b'), ...]: the cursor is on the '['. */
static int
parse_array (struct cur *c, struct val *v, const char *type)
{
  bool pairs = false;
  c->p++;
  ws (c);
  if (*c->p == ']')
    {
      c->p++;
      if (type == NULL)
        return bad (c, "an empty list needs its type: @as []");
      v->sig = type;
      return 0;
    }
  pairs = *c->p == '(';
  if (type && (strcmp (type, "a(ss)") == 0) != pairs)
    return bad (c, "the list's items are not of the type given");
  v->sig = pairs ? "a(ss)" : "as";
  for (;;)
    {
      for (int k = 0; k < (pairs ? 2 : 1); k++)
        {
          if (pairs && k == 0)
            c->p++;
          ws (c);
          if (*c->p != '\'' && *c->p != '"')
            return bad (c, "a list's items must be 'strings' or ('string', 'string') pairs");
          v->strv = xrealloc (v->strv, (v->n_strv + 2) * sizeof *v->strv);
          v->strv[v->n_strv + 1] = NULL;
          if (parse_string (c, &v->strv[v->n_strv]) < 0)
            return -1;
          v->n_strv++;
          ws (c);
          if (pairs && *c->p != (k == 0 ? ',' : ')'))
            return bad (c, "a pair is ('string', 'string')");
          if (pairs)
            c->p++;
        }
      ws (c);
      if (*c->p == ']')
        break;
      if (*c->p != ',')
        return bad (c, "a list's items are separated by `,` and the list ends with `]`");
      c->p++;
      ws (c);
      if (pairs != (*c->p == '('))
        return bad (c, "a list's items must all be of one type");
    }
  c->p++;
  return 0;
}

static const struct
{
  const char *word, *sig;
} types[] = {
  { "boolean", "b" }, { "byte", "y" },       { "int16", "n" },  { "uint16", "q" }, { "int32", "i" },
  { "uint32", "u" },  { "int64", "x" },      { "uint64", "t" }, { "double", "d" }, { "string", "s" },
  { "@b", "b" },      { "@y", "y" },         { "@n", "n" },     { "@q", "q" },     { "@i", "i" },
  { "@u", "u" },      { "@x", "x" },         { "@t", "t" },     { "@d", "d" },     { "@s", "s" },
  { "@as", "as" },    { "@a(ss)", "a(ss)" },
};

static int
parse_value (struct cur *c, struct val *v)
{
  const char *type = NULL;
  size_t n;

  ws (c);
  n = word (c);
  for (size_t i = 0; n && i < sizeof types / sizeof types[0]; i++)
    if (strlen (types[i].word) == n && strncmp (c->p, types[i].word, n) == 0)
      type = types[i].sig;
  if (type == NULL && n && *c->p == '@')
    return bad (c, "a type other than @b @y @n @q @i @u @x @t @d @s @as @a(ss)");
  if (type)
    {
      c->p += n;
      ws (c);
    }
  if (strncmp (c->p, "true", 4) == 0 || strncmp (c->p, "false", 5) == 0)
    {
      if (type && strcmp (type, "b") != 0)
        return bad (c, "true or false given to another type");
      v->b = *c->p == 't';
      v->sig = "b";
      c->p += v->b ? 4 : 5;
    }
  else if (*c->p == '\'' || *c->p == '"')
    {
      if (type && strcmp (type, "s") != 0)
        return bad (c, "a string given to another type");
      v->sig = "s";
      if (parse_string (c, &v->s) < 0)
        return -1;
    }
  else if (*c->p == '[')
    {
      if (type && type[0] != 'a')
        return bad (c, "a list given to another type");
      if (parse_array (c, v, type) < 0)
        return -1;
    }
  else
    {
      if (type && strchr ("bsa", type[0]))
        return bad (c, "a number given to a boolean, string or list");
      if (parse_number (c, v, type && type[0] == 'd') < 0)
        return -1;
      if (type && type[0] != 'd')
        v->sig = type;
    }
  ws (c);
  if (*c->p)
    return bad (c, "something follows the value");
  return 0;
}

/* The integer in the range of its type (an untyped one: int32, or int64,
 * or uint64 when it is larger, as it is written). */
static int
fit (struct cur *c, struct val *v, struct mr_sd_prop *e)
{
  static const struct
  {
    char sig;
    uint64_t max_pos, max_neg;
  } r[] = {
    { 'y', UINT8_MAX, 0 },           { 'n', INT16_MAX, 32768 }, { 'q', UINT16_MAX, 0 },
    { 'i', INT32_MAX, 2147483648U }, { 'u', UINT32_MAX, 0 },    { 'x', INT64_MAX, 1ULL << 63 },
    { 't', UINT64_MAX, 0 },
  };
  if (v->sig == NULL)
    v->sig = v->neg ? (v->mag <= 2147483648U ? "i" : "x")
                    : (v->mag <= INT32_MAX   ? "i"
                       : v->mag <= INT64_MAX ? "x"
                                             : "t");
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    if (r[i].sig == v->sig[0])
      {
        int64_t sv = v->neg ? (int64_t)(0 - v->mag) : (int64_t)v->mag;
        if (v->mag > (v->neg ? r[i].max_neg : r[i].max_pos))
          return bad (c, "the number is out of its type's range");
        e->sig = v->sig;
        switch (r[i].sig)
          {
          case 'y':
            e->v.y = (uint8_t)v->mag;
            break;
          case 'n':
            e->v.n = (int16_t)sv;
            break;
          case 'q':
            e->v.q = (uint16_t)v->mag;
            break;
          case 'i':
            e->v.i = (int32_t)sv;
            break;
          case 'u':
            e->v.u32 = (uint32_t)v->mag;
            break;
          case 'x':
            e->v.x = sv;
            break;
          default:
            e->u = v->mag;
            break;
          }
        return 0;
      }
  return bad (c, "internal: no integer type");
}

/* A number of microseconds (uint64): NAMESec's seconds times 1e6, or
 * NAMEUSec's integer as it is. */
static int
usec (struct cur *c, struct val *v, bool seconds, struct mr_sd_prop *e)
{
  e->sig = "t";
  if (v->sig && strchr ("bsa", v->sig[0]))
    return bad (c, seconds ? "a NAMESec property takes a number of seconds"
                           : "a NAMEUSec property takes a number of microseconds (uint64)");
  if (v->sig && v->sig[0] == 'd')
    {
      double us = v->d * (seconds ? (double)SEC_USEC : 1.0);
      if (!seconds)
        return bad (c, "a NAMEUSec property takes a whole number of microseconds");
      if (v->d < 0 || us >= 18446744073709551615.0)
        return bad (c, "the seconds must be a number from 0 below 2^64 microseconds");
      e->u = (uint64_t)us;
      return 0;
    }
  if (v->neg)
    return bad (c, "a time must not be negative");
  if (seconds && v->mag > UINT64_MAX / SEC_USEC)
    return bad (c, "the seconds are above 2^64 microseconds");
  e->u = v->mag * (seconds ? SEC_USEC : 1);
  return 0;
}

int
mr_sd_prop_parse (const char *key, const char *name, const char *value, struct mr_sd_props *out,
                  mr_error_t *err)
{
  static const char *const own[] = { "Slice", "PIDs", "Delegate" };
  struct cur c = { .p = value, .key = key, .value = value, .err = err };
  struct val v = { 0 };
  struct mr_sd_prop e = { 0 };
  size_t len = strlen (name);
  bool sec = len > 3 && strcmp (name + len - 3, "Sec") == 0 && name[len - 4] >= 'a' && name[len - 4] <= 'z';
  bool usec_name = len > 4 && strcmp (name + len - 4, "USec") == 0;
  int r;

  if (len < 3 || strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != len)
    return mr_error_set (err, 0,
                         "annotation %s: the property name `%s` must be at least 3 ASCII letters (a systemd "
                         "unit property, e.g. org.systemd.property.CollectMode)",
                         key, name);
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    if (strcmp (name, own[i]) == 0)
      return mr_error_set (err, 0,
                           "annotation %s: minirun sets %s itself (the scope's slice comes from "
                           "linux.cgroupsPath, its first process and delegation are what the driver depends "
                           "on); remove the annotation",
                           key, name);
  if (parse_value (&c, &v) < 0)
    {
      val_free (&v);
      return -1;
    }
  e.cfg = key;
  if (sec || usec_name)
    r = usec (&c, &v, sec, &e);
  else if (v.sig == NULL || strchr ("ynqiuxt", v.sig[0]))
    r = fit (&c, &v, &e);
  else
    {
      r = 0;
      e.sig = v.sig;
      e.u = v.b;
      e.v.d = v.d;
      e.s = e.own_s = v.s;
      e.strv = v.strv;
      v.s = NULL;
      v.strv = NULL;
      v.n_strv = 0;
    }
  val_free (&v);
  if (r < 0)
    return -1;
  e.name = e.own_name = sec ? xasprintf ("%.*sUSec", (int)(len - 3), name) : xstrdup (name);
  *mr_sd_props_add (out, e.name, e.sig) = e;
  return 0;
}

int
mr_sd_props_from_annotations (const struct mr_kv *a, size_t n, struct mr_sd_props *out, mr_error_t *err)
{
  const size_t plen = strlen (MR_SD_ANNOTATION_PREFIX);
  for (size_t i = 0; i < n; i++)
    if (strncmp (a[i].key, MR_SD_ANNOTATION_PREFIX, plen) == 0
        && mr_sd_prop_parse (a[i].key, a[i].key + plen, a[i].value ? a[i].value : "", out, err) < 0)
      return -1;
  return 0;
}
