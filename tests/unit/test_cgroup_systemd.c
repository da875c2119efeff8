/* test_cgroup_systemd.c: the pure parts of the systemd cgroup driver: the
 * cgroupsPath form slice:prefix:name (which paths are systemd's, the slice
 * and its place in the tree, the unit name and its escapes, the refusals),
 * the cgroup directory name systemd gives a unit, cpu lists as systemd's
 * bitmask, and linux.resources as the unit properties systemd knows.  No
 * bus: the D-Bus part runs in tests/integration/test_systemd_cgroup.py,
 * where systemd is PID 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/systemd/systemd.h"
#include "harness.h"

static void
test_is_path (void)
{
  CHECK (mr_sd_is_path ("system.slice:minirun:abc"), "the usual form");
  CHECK (mr_sd_is_path ("::abc"), "empty slice and prefix");
  CHECK (!mr_sd_is_path ("/minirun/abc"), "a path");
  CHECK (!mr_sd_is_path ("a:b"), "two parts");
  CHECK (!mr_sd_is_path ("a:b:c:d"), "four parts");
  CHECK (!mr_sd_is_path ("/x:y:z"), "a slash makes it a path");
  CHECK (!mr_sd_is_path ("system.slice:p:a/b"), "a slash in the name");
  CHECK (!mr_sd_is_path (NULL) && !mr_sd_is_path (""), "none");
}

static void
expect_name (const char *path, bool rootless, const char *slice, const char *unit, const char *slice_path)
{
  struct mr_sd_name n;
  mr_error_t err = NULL;
  if (mr_sd_name_parse (path, rootless, &n, &err) < 0)
    {
      CHECK (false, "%s: %s", path, ERRMSG (err));
      mr_error_free (&err);
      return;
    }
  CHECK_STR (n.slice, slice);
  CHECK_STR (n.unit, unit);
  CHECK_STR (n.slice_path, slice_path);
  mr_sd_name_free (&n);
}

static void
expect_refused (const char *path, const char *why)
{
  struct mr_sd_name n;
  mr_error_t err = NULL;
  int r = mr_sd_name_parse (path, false, &n, &err);
  CHECK (r < 0 && err && strstr (err->msg, why) && strstr (err->msg, path), "%s: %s", path,
         r < 0 ? ERRMSG (err) : "accepted");
  if (r == 0)
    mr_sd_name_free (&n);
  mr_error_free (&err);
}

static void
test_names (void)
{
  char long_name[400];

  expect_name ("system.slice:minirun:abc", false, "system.slice", "minirun-abc.scope", "/system.slice");
  expect_name ("machine.slice:libpod:0123abcd", false, "machine.slice", "libpod-0123abcd.scope", "/machine.slice");
  expect_name (":minirun:abc", false, "system.slice", "minirun-abc.scope", "/system.slice");
  expect_name (":minirun:abc", true, "user.slice", "minirun-abc.scope", "/user.slice");
  expect_name ("-:minirun:abc", false, "-.slice", "minirun-abc.scope", "");
  expect_name ("-.slice:minirun:abc", false, "-.slice", "minirun-abc.scope", "");
  expect_name ("a-b-c.slice:p:n", false, "a-b-c.slice", "p-n.scope", "/a.slice/a-b.slice/a-b-c.slice");
  expect_name ("user-1000.slice:p:n", false, "user-1000.slice", "p-n.scope", "/user.slice/user-1000.slice");
  /* no prefix: the name alone; a container id's '+' and a leading dot escaped as systemd does */
  expect_name ("system.slice::abc", false, "system.slice", "abc.scope", "/system.slice");
  expect_name ("system.slice:minirun:a+b", false, "system.slice", "minirun-a\\x2bb.scope", "/system.slice");
  expect_name ("system.slice::.x", false, "system.slice", "\\x2ex.scope", "/system.slice");
  expect_name ("system.slice:p:.x", false, "system.slice", "p-.x.scope", "/system.slice");

  expect_refused ("system:p:n", "must be a name ending in .slice");
  expect_refused (".slice:p:n", "must be a name ending in .slice");
  expect_refused ("a--b.slice:p:n", "must not be empty");
  expect_refused ("-a.slice:p:n", "must not be empty");
  expect_refused ("a-.slice:p:n", "must not be empty");
  expect_refused ("a b.slice:p:n", "a character a unit name cannot have");
  expect_refused ("system.slice:p:", "the name part is empty");
  expect_refused ("system.slice:p:x.slice", "not supported");
  expect_refused ("system.slice:p q:n", "the prefix holds a character");
  expect_refused ("system.slice:.p:n", "must not start with a dot");
  expect_refused ("/minirun/x", "not of the systemd form");
  memset (long_name, 'x', 300);
  strcpy (long_name + 300, "");
  {
    char path[512];
    (void) snprintf (path, sizeof path, "system.slice:p:%s", long_name);
    expect_refused (path, "longer than systemd's 255");
  }
}

static void
test_cgroup_name (void)
{
  static const char *const cases[][2] = {
    { "minirun-x.scope", "minirun-x.scope" }, { "cpu.scope", "_cpu.scope" },     { "cpuset.scope", "_cpuset.scope" },
    { "cgroup.scope", "_cgroup.scope" },      { "_x.scope", "__x.scope" },       { "memory-x.scope", "memory-x.scope" },
    { "pids.scope", "_pids.scope" },          { "io.scope", "_io.scope" },       { "iox.scope", "iox.scope" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *got = mr_sd_cgroup_name (cases[i][0]);
      CHECK_STR (got, cases[i][1]);
      free (got);
    }
}

static void
expect_bits (const char *list, const uint8_t *want, size_t n)
{
  uint8_t *b = NULL;
  size_t nb = 0;
  mr_error_t err = NULL;
  if (mr_sd_cpulist_bits (list, "linux.resources.cpu.cpus", &b, &nb, &err) < 0)
    {
      CHECK (false, "`%s`: %s", list, ERRMSG (err));
      mr_error_free (&err);
      return;
    }
  CHECK (nb == n && memcmp (b, want, n) == 0, "`%s`: %zu bytes, first 0x%02x", list, nb, nb ? b[0] : 0);
  free (b);
}

static void
test_cpulist (void)
{
  static const char *const bad[] = { "", "3-1", "a", "1,", "1-", "-1", "0 1", "70000", "0,,1" };
  expect_bits ("0", (const uint8_t[]){ 0x01 }, 1);
  expect_bits ("0-3,7", (const uint8_t[]){ 0x8f }, 1);
  expect_bits ("0,2-3", (const uint8_t[]){ 0x0d }, 1);
  expect_bits ("8", (const uint8_t[]){ 0x00, 0x01 }, 2);
  expect_bits ("1,9-10", (const uint8_t[]){ 0x02, 0x06 }, 2);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      uint8_t *b = NULL;
      size_t nb;
      mr_error_t err = NULL;
      int r = mr_sd_cpulist_bits (bad[i], "linux.resources.cpu.cpus", &b, &nb, &err);
      CHECK (r < 0 && err && strstr (err->msg, "linux.resources.cpu.cpus"), "`%s` refused", bad[i]);
      if (r == 0)
        free (b);
      mr_error_free (&err);
    }
}

static const struct mr_sd_prop *
find (const struct mr_sd_props *p, const char *name)
{
  const struct mr_sd_prop *last = NULL;
  for (size_t i = 0; i < p->n; i++)
    if (strcmp (p->p[i].name, name) == 0)
      last = &p->p[i];
  return last;
}

static void
expect_u64 (const struct mr_sd_props *p, const char *name, uint64_t want)
{
  const struct mr_sd_prop *e = find (p, name);
  CHECK (e && strcmp (e->sig, "t") == 0 && e->u == want, "%s: want %llu, got %s %llu", name,
         (unsigned long long) want, e ? "" : "(missing)", e ? (unsigned long long) e->u : 0ULL);
}

static void
test_props (void)
{
  struct mr_resources r = { .present = true };
  struct mr_kv unified[] = { { (char *) "memory.high", (char *) "max" },
                             { (char *) "memory.min", (char *) "4096" },
                             { (char *) "memory.low", (char *) "junk" },
                             { (char *) "io.max", (char *) "8:0 rbps=1" } };
  struct mr_sd_props p = { 0 };
  mr_error_t err = NULL;
  const struct mr_sd_prop *e;

  r.memory.limit = (struct mr_opt_i64){ true, 64 << 20 };
  r.memory.reservation = (struct mr_opt_i64){ true, -1 };
  r.memory.swap = (struct mr_opt_i64){ true, 96 << 20 };
  r.pids.limit = (struct mr_opt_i64){ true, 20 };
  r.cpu.shares = (struct mr_opt_u64){ true, 1024 };
  r.cpu.quota = (struct mr_opt_i64){ true, 12345 };
  r.cpu.period = (struct mr_opt_u64){ true, 100000 };
  r.cpu.cpus = (char *) "0-1";
  r.cpu.mems = (char *) "0";
  r.block_io.weight = (struct mr_opt_u64){ true, 500 };
  r.unified = unified;
  r.n_unified = 4;

  CHECK (mr_sd_props_from_resources (&r, false, &p, &err) == 0, "%s", ERRMSG (err));
  expect_u64 (&p, "MemoryMax", 64 << 20);
  expect_u64 (&p, "MemoryLow", MR_SD_INFINITY); /* -1 is unlimited; memory.low "junk" is left to the writer */
  expect_u64 (&p, "MemorySwapMax", 32 << 20);    /* memory+swap minus memory, as memory.swap.max */
  CHECK (find (&p, "TasksMax") == NULL, "pids left out (started applies them)");
  expect_u64 (&p, "CPUWeight", 39);
  expect_u64 (&p, "CPUQuotaPeriodUSec", 100000);
  expect_u64 (&p, "CPUQuotaPerSecUSec", 123450);
  expect_u64 (&p, "IOWeight", 4950);
  expect_u64 (&p, "MemoryHigh", MR_SD_INFINITY);
  expect_u64 (&p, "MemoryMin", 4096);
  e = find (&p, "AllowedCPUs");
  CHECK (e && strcmp (e->sig, "ay") == 0 && e->n_bytes == 1 && e->bytes[0] == 0x03, "AllowedCPUs 0-1");
  e = find (&p, "AllowedMemoryNodes");
  CHECK (e && e->n_bytes == 1 && e->bytes[0] == 0x01, "AllowedMemoryNodes 0");
  e = find (&p, "MemoryMax");
  CHECK (e && e->cfg && strcmp (e->cfg, "linux.resources.memory.limit") == 0, "the config path is kept");
  mr_sd_props_free (&p);

  CHECK (mr_sd_props_from_resources (&r, true, &p, &err) == 0, "%s", ERRMSG (err));
  expect_u64 (&p, "TasksMax", 20);
  mr_sd_props_free (&p);

  /* unlimited and rounding */
  memset (&r, 0, sizeof r);
  r.present = true;
  r.pids.limit = (struct mr_opt_i64){ true, -1 };
  r.memory.limit = (struct mr_opt_i64){ true, -1 };
  r.cpu.quota = (struct mr_opt_i64){ true, 1 };
  r.cpu.period = (struct mr_opt_u64){ true, 3 };
  CHECK (mr_sd_props_from_resources (&r, true, &p, &err) == 0, "%s", ERRMSG (err));
  expect_u64 (&p, "TasksMax", MR_SD_INFINITY);
  expect_u64 (&p, "MemoryMax", MR_SD_INFINITY);
  expect_u64 (&p, "CPUQuotaPerSecUSec", 333334); /* rounded up: systemd's cpu.max is never below the config's */
  mr_sd_props_free (&p);

  r.cpu.quota = (struct mr_opt_i64){ true, -1 };
  r.cpu.period.set = false;
  CHECK (mr_sd_props_from_resources (&r, true, &p, &err) == 0, "%s", ERRMSG (err));
  expect_u64 (&p, "CPUQuotaPerSecUSec", MR_SD_INFINITY);
  CHECK (find (&p, "CPUQuotaPeriodUSec") == NULL, "no period given, none sent");
  mr_sd_props_free (&p);

  /* nothing given: nothing sent; errors name the config path */
  memset (&r, 0, sizeof r);
  CHECK (mr_sd_props_from_resources (&r, true, &p, &err) == 0 && p.n == 0, "%zu properties for nothing", p.n);
  CHECK (mr_sd_props_from_resources (NULL, true, &p, &err) == 0 && p.n == 0, "NULL resources");
  r.cpu.mems = (char *) "0-x";
  CHECK (mr_sd_props_from_resources (&r, true, &p, &err) < 0 && err
             && strstr (err->msg, "linux.resources.cpu.mems"),
         "bad mems: %s", ERRMSG (err));
  mr_error_free (&err);
  mr_sd_props_free (&p);
  memset (&r, 0, sizeof r);
  r.memory.swap = (struct mr_opt_i64){ true, 100 };
  r.memory.limit = (struct mr_opt_i64){ true, 200 };
  CHECK (mr_sd_props_from_resources (&r, true, &p, &err) < 0 && err && strstr (err->msg, "memory.swap"),
         "swap below the limit: %s", ERRMSG (err));
  mr_error_free (&err);
  mr_sd_props_free (&p);
}

static void
test_no_systemd_here (void)
{
  mr_error_t err = NULL;
  if (access ("/run/systemd/system", F_OK) == 0)
    return; /* systemd runs here: the integration tests cover it */
  CHECK (mr_sd_available (&err) < 0 && err
             && (strstr (err->msg, "systemd is not running") || strstr (err->msg, "built without")),
         "%s", ERRMSG (err));
  mr_error_free (&err);
}

int
main (void)
{
  test_is_path ();
  test_names ();
  test_cgroup_name ();
  test_cpulist ();
  test_props ();
  test_no_systemd_here ();
  return harness_summary ();
}
