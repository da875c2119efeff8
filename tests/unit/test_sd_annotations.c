/* test_sd_annotations.c: the org.systemd.property.* annotations as unit
 * properties (runtime/cgroup/systemd/annot.c): the GVariant text values
 * (booleans, each integer type and its range, doubles, strings and their
 * escapes, string arrays, arrays of string pairs), NAMESec as NAMEUSec in
 * microseconds, USec names as uint64, the name check, the refusal of the
 * properties minirun sets itself, and errors that name the annotation.  No
 * bus: test_systemd_cgroup.py shows systemd taking them (systemd guest). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/systemd/systemd.h"
#include "harness.h"

#define K "org.systemd.property."

/* Parse NAME=VALUE alone; the one property, or NULL (*props to free). */
static const struct mr_sd_prop *
one (const char *name, const char *value, struct mr_sd_props *p)
{
  char key[128];
  mr_error_t err = NULL;
  (void) snprintf (key, sizeof key, K "%s", name);
  memset (p, 0, sizeof *p);
  if (mr_sd_prop_parse (key, name, value, p, &err) < 0)
    {
      CHECK (false, "%s=%s: %s", name, value, ERRMSG (err));
      mr_error_free (&err);
      return NULL;
    }
  CHECK (p->n == 1, "%s=%s: %zu properties", name, value, p->n);
  return p->n == 1 ? &p->p[0] : NULL;
}

static void
expect (const char *name, const char *value, const char *want_name, const char *sig, uint64_t want)
{
  struct mr_sd_props p;
  const struct mr_sd_prop *e = one (name, value, &p);
  if (e)
    {
      uint64_t got = 0;
      CHECK_STR (e->name, want_name);
      CHECK_STR (e->sig, sig);
      switch (sig[0])
        {
        case 'y': got = e->v.y; break;
        case 'n': got = (uint64_t) (int64_t) e->v.n; break;
        case 'q': got = e->v.q; break;
        case 'i': got = (uint64_t) (int64_t) e->v.i; break;
        case 'u': got = e->v.u32; break;
        case 'x': got = (uint64_t) e->v.x; break;
        default: got = e->u; break; /* b, t */
        }
      CHECK (got == want, "%s=%s: want %llu, got %llu", name, value, (unsigned long long) want,
             (unsigned long long) got);
    }
  mr_sd_props_free (&p);
}

static void
expect_str (const char *name, const char *value, const char *want)
{
  struct mr_sd_props p;
  const struct mr_sd_prop *e = one (name, value, &p);
  if (e)
    {
      CHECK_STR (e->sig, "s");
      CHECK_STR (e->s, want);
    }
  mr_sd_props_free (&p);
}

/* `want`: the strv joined with `|` */
static void
expect_strv (const char *name, const char *value, const char *sig, const char *want)
{
  struct mr_sd_props p;
  const struct mr_sd_prop *e = one (name, value, &p);
  if (e)
    {
      char got[256] = "";
      CHECK_STR (e->sig, sig);
      for (char **s = e->strv; s && *s; s++)
        (void) snprintf (got + strlen (got), sizeof got - strlen (got), "%s%s", s == e->strv ? "" : "|", *s);
      CHECK_STR (got, want);
    }
  mr_sd_props_free (&p);
}

static void
expect_error (const char *name, const char *value, const char *want)
{
  struct mr_sd_props p = { 0 };
  mr_error_t err = NULL;
  char key[128];
  (void) snprintf (key, sizeof key, K "%s", name);
  CHECK (mr_sd_prop_parse (key, name, value, &p, &err) < 0 && err && strstr (err->msg, key)
             && strstr (err->msg, want),
         "%s=%s: want an error naming the annotation and `%s`, got %s", name, value, want,
         err ? err->msg : "success");
  CHECK (p.n == 0, "%s=%s: nothing appended on an error", name, value);
  mr_error_free (&err);
  mr_sd_props_free (&p);
}

static void
test_types (void)
{
  expect ("SendSIGHUP", "true", "SendSIGHUP", "b", 1);
  expect ("SendSIGHUP", " false ", "SendSIGHUP", "b", 0);
  expect ("SendSIGHUP", "boolean true", "SendSIGHUP", "b", 1);
  expect ("CPUWeight", "uint64 123", "CPUWeight", "t", 123);
  expect ("CPUWeight", "@t 18446744073709551615", "CPUWeight", "t", UINT64_MAX);
  expect ("CPUWeight", "0x10", "CPUWeight", "i", 16);
  expect ("FooBar", "42", "FooBar", "i", 42);
  expect ("FooBar", "-42", "FooBar", "i", (uint64_t) -42);
  expect ("FooBar", "-2147483648", "FooBar", "i", (uint64_t) INT32_MIN);
  expect ("FooBar", "4294967296", "FooBar", "x", 4294967296ULL);
  expect ("FooBar", "9223372036854775808", "FooBar", "t", 9223372036854775808ULL);
  expect ("FooBar", "byte 255", "FooBar", "y", 255);
  expect ("FooBar", "int16 -32768", "FooBar", "n", (uint64_t) -32768);
  expect ("FooBar", "uint16 65535", "FooBar", "q", 65535);
  expect ("FooBar", "int32 7", "FooBar", "i", 7);
  expect ("FooBar", "uint32 4294967295", "FooBar", "u", 4294967295U);
  expect ("FooBar", "int64 -9223372036854775808", "FooBar", "x", (uint64_t) INT64_MIN);
  expect ("FooBar", "@u 5", "FooBar", "u", 5);

  struct mr_sd_props p;
  const struct mr_sd_prop *e = one ("FooBar", "1.5", &p);
  CHECK (e && strcmp (e->sig, "d") == 0 && fabs (e->v.d - 1.5) < 1e-9, "a double");
  mr_sd_props_free (&p);
  e = one ("FooBar", "double 2", &p);
  CHECK (e && strcmp (e->sig, "d") == 0 && fabs (e->v.d - 2.0) < 1e-9, "double 2 is a double");
  mr_sd_props_free (&p);
  e = one ("FooBar", "1e3", &p);
  CHECK (e && strcmp (e->sig, "d") == 0 && fabs (e->v.d - 1000.0) < 1e-9, "an exponent makes a double");
  mr_sd_props_free (&p);
}

static void
test_strings (void)
{
  expect_str ("CollectMode", "'inactive-or-failed'", "inactive-or-failed");
  expect_str ("Description", "\"my container\"", "my container");
  expect_str ("Description", "string 'x'", "x");
  expect_str ("Description", "@s ''", "");
  expect_str ("Description", "'it\\'s a \"test\"\\n\\\\'", "it's a \"test\"\n\\");
  expect_str ("Description", "'a, [b] (c)'", "a, [b] (c)");
  expect_strv ("Wants", "['a.service', \"b.service\"]", "as", "a.service|b.service");
  expect_strv ("Wants", "[ 'one' ]", "as", "one");
  expect_strv ("Wants", "@as []", "as", "");
  expect_strv ("DeviceAllow", "[('/dev/null', 'rwm'), ('char-pts', 'rw')]", "a(ss)", "/dev/null|rwm|char-pts|rw");
  expect_strv ("DeviceAllow", "@a(ss) []", "a(ss)", "");
}

static void
test_seconds (void)
{
  /* runc's conversions: NAMESec -> NAMEUSec, seconds -> microseconds */
  expect ("TimeoutStopUSec", "uint64 123456789", "TimeoutStopUSec", "t", 123456789);
  expect ("TimeoutStopUSec", "123456789", "TimeoutStopUSec", "t", 123456789);
  expect ("TimeoutStopSec", "456", "TimeoutStopUSec", "t", 456000000);
  expect ("TimeoutStopSec", "byte 234", "TimeoutStopUSec", "t", 234000000);
  expect ("TimeoutStopSec", "int16 234", "TimeoutStopUSec", "t", 234000000);
  expect ("TimeoutStopSec", "uint32 234", "TimeoutStopUSec", "t", 234000000);
  expect ("TimeoutStopSec", "uint64 234", "TimeoutStopUSec", "t", 234000000);
  expect ("TimeoutStopSec", "234.789", "TimeoutStopUSec", "t", 234789000);
  expect ("RuntimeMaxSec", "0", "RuntimeMaxUSec", "t", 0);
  /* not converted: an upper-case letter before Sec, or nothing */
  expect ("FOOSec", "123", "FOOSec", "i", 123);
  expect ("Sec", "123", "Sec", "i", 123);
  expect_error ("TimeoutStopSec", "false", "number of seconds");
  expect_error ("TimeoutStopSec", "'covfefe'", "number of seconds");
  expect_error ("TimeoutStopSec", "-1", "negative");
  expect_error ("TimeoutStopSec", "18446744073710", "above 2^64");
  expect_error ("TimeoutStopUSec", "1.5", "whole number of microseconds");
  expect_error ("TimeoutStopUSec", "-5", "negative");
}

static void
test_errors (void)
{
  expect_error ("Xo", "1", "at least 3 ASCII letters");
  expect_error ("Number1", "1", "at least 3 ASCII letters");
  expect_error ("Col-Mode", "1", "at least 3 ASCII letters");
  expect_error ("ValidName", "invalid-value", "expected true, false, a number");
  expect_error ("ValidName", "", "expected true, false, a number");
  expect_error ("ValidName", "'open", "closing quote");
  expect_error ("ValidName", "'a\\q'", "escape");
  expect_error ("ValidName", "'a' 'b'", "follows the value");
  expect_error ("ValidName", "truex", "follows the value");
  expect_error ("ValidName", "[]", "@as []");
  expect_error ("ValidName", "[1, 2]", "'strings'");
  expect_error ("ValidName", "['a' 'b']", "separated by `,`");
  expect_error ("ValidName", "['a', ('b', 'c')]", "one type");
  expect_error ("ValidName", "[('a')]", "pair");
  expect_error ("ValidName", "byte 256", "out of its type's range");
  expect_error ("ValidName", "byte -1", "out of its type's range");
  expect_error ("ValidName", "int16 32768", "out of its type's range");
  expect_error ("ValidName", "uint32 4294967296", "out of its type's range");
  expect_error ("ValidName", "int32 -2147483649", "out of its type's range");
  expect_error ("ValidName", "18446744073709551616", "above 18446744073709551615");
  expect_error ("ValidName", "-9223372036854775809", "out of its type's range");
  expect_error ("ValidName", "12abc", "not an integer");
  expect_error ("ValidName", "uint64 'x'", "string given to another type");
  expect_error ("ValidName", "string 5", "number given to a boolean");
  expect_error ("ValidName", "int32 true", "true or false given");
  expect_error ("ValidName", "@as 'x'", "string given");
  expect_error ("ValidName", "@as [('a', 'b')]", "not of the type given");
  expect_error ("ValidName", "@ai [1]", "a type other than");
  expect_error ("Slice", "'other.slice'", "minirun sets Slice itself");
  expect_error ("PIDs", "[1]", "minirun sets PIDs itself");
  expect_error ("Delegate", "false", "minirun sets Delegate itself");
}

static void
test_annotations (void)
{
  struct mr_kv a[] = {
    { (char *) "org.opencontainers.image.title", (char *) "not ours" },
    { (char *) K "CollectMode", (char *) "'inactive-or-failed'" },
    { (char *) "org.systemd.propertyX", (char *) "not the prefix" },
    { (char *) K "TimeoutStopSec", (char *) "5" },
  };
  struct mr_kv badv[] = { { (char *) K "CollectMode", (char *) "inactive" } };
  struct mr_sd_props p = { 0 };
  mr_error_t err = NULL;

  CHECK (mr_sd_props_from_annotations (a, 4, &p, &err) == 0, "%s", ERRMSG (err));
  CHECK (p.n == 2, "two of the four annotations are systemd properties: %zu", p.n);
  if (p.n == 2)
    {
      CHECK_STR (p.p[0].name, "CollectMode");
      CHECK_STR (p.p[1].name, "TimeoutStopUSec");
      CHECK (p.p[1].u == 5000000, "5 s");
      CHECK_STR (p.p[1].cfg, K "TimeoutStopSec");
    }
  mr_sd_props_free (&p);
  CHECK (mr_sd_props_from_annotations (NULL, 0, &p, &err) == 0 && p.n == 0, "no annotations");
  CHECK (mr_sd_props_from_annotations (badv, 1, &p, &err) < 0 && err
             && strstr (err->msg, "annotation " K "CollectMode: value `inactive`"),
         "the error names the annotation and its value: %s", ERRMSG (err));
  mr_error_free (&err);
  mr_sd_props_free (&p);
}

int
main (void)
{
  test_types ();
  test_strings ();
  test_seconds ();
  test_errors ();
  test_annotations ();
  return harness_summary ();
}
