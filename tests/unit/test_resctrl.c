/* test_resctrl.c: the resctrl group of linux.intelRdt against a directory
 * laid out as the resctrl filesystem is (this machine's CPU has no RDT, so
 * there is no real one to use): which group, what is created and what is
 * left alone, the schemata lines one write each, the checks for L3 and MB
 * support, the monitoring group, the rollback of a failed create, and the
 * state record round trip.  The kernel's own files (schemata, tasks) are
 * made by the test where the kernel would have made them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "resctrl/resctrl.h"

static char root[] = "/tmp/mr-resctrl-XXXXXX";

static void
touch (const char *dir, const char *name)
{
  char p[1024];
  int fd;
  snprintf (p, sizeof p, "%s/%s", dir, name);
  fd = open (p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0)
    close (fd);
}

static char *
slurp (const char *dir, const char *name)
{
  static char buf[1024];
  char p[1024];
  FILE *f;
  size_t n;
  snprintf (p, sizeof p, "%s/%s", dir, name);
  f = fopen (p, "re");
  if (f == NULL)
    return NULL;
  n = fread (buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose (f);
  return buf;
}

/* Does root/rel exist? */
static bool
exists (const char *rel)
{
  char p[1024];
  struct stat st;
  snprintf (p, sizeof p, "%s/%s", root, rel);
  return stat (p, &st) == 0;
}

static int
fails_with (const struct mr_intel_rdt *cfg, const char *id, const char *want)
{
  struct mr_rdt g;
  mr_error_t err = NULL;
  int ret = 0;

  REQUIRE (mr_rdt_create (root, cfg, id, &g, &err) < 0, "create succeeded, expected `%s`", want);
  REQUIRE (strstr (err->msg, want) != NULL, "error `%s` does not contain `%s`", err->msg, want);
out:
  mr_error_free (&err);
  return ret;
}

static int
test_no_resctrl (void)
{
  struct mr_intel_rdt cfg = { .present = true };
  struct mr_rdt g;
  mr_error_t err = NULL;
  int ret = 0;

  REQUIRE (mr_rdt_create (NULL, &cfg, "c1", &g, &err) < 0, "create without resctrl succeeded");
  CHECK (strstr (err->msg, "no resctrl filesystem mounted") != NULL, "%s", err->msg);
  CHECK (g.dir == NULL);
out:
  mr_error_free (&err);
  return ret;
}

static int
test_own_group (void)
{
  struct mr_intel_rdt cfg = { .present = true };
  struct mr_rdt g = { 0 }, back = { 0 };
  mr_error_t err = NULL;
  char *rec = NULL, want[1024];
  int ret = 0;

  REQUIRE (mr_rdt_create (root, &cfg, "c1", &g, &err) == 0, "%s", ERRMSG (err));
  snprintf (want, sizeof want, "%s/c1", root);
  CHECK_STR (g.dir, want);
  CHECK (g.created && g.mon_dir == NULL);
  touch (g.dir, "tasks"); /* the kernel's */
  REQUIRE (mr_rdt_join (&g, 4242, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (slurp (g.dir, "tasks"), "4242");
  rec = mr_rdt_record (&g);
  REQUIRE (mr_rdt_parse_record (rec, &back, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (back.dir, g.dir);
  CHECK (back.created && back.mon_dir == NULL);
  /* the same id again: not ours, left alone */
  CHECK (fails_with (&cfg, "c1", "exists already") == 0);
  CHECK (exists ("c1"));
  snprintf (want, sizeof want, "%s/c1/tasks", root);
  unlink (want);
  REQUIRE (mr_rdt_destroy (&back, &err) == 0, "%s", ERRMSG (err));
  CHECK (!exists ("c1"), "the group minirun made is still there");
out:
  free (rec);
  mr_rdt_clear (&g);
  mr_rdt_clear (&back);
  mr_error_free (&err);
  return ret;
}

static int
test_shared_group_schemata_and_monitoring (void)
{
  char *lines[] = { (char *) "L2:0=f", NULL };
  struct mr_intel_rdt cfg = { .present = true, .clos_id = (char *) "gold", .l3_cache_schema = (char *) "L3:0=ff",
                              .mem_bw_schema = (char *) "MB:0=70", .schemata = lines, .n_schemata = 1,
                              .enable_monitoring = true };
  struct mr_rdt g = { 0 }, back = { 0 };
  mr_error_t err = NULL;
  char dir[512], *rec = NULL;
  int ret = 0;

  snprintf (dir, sizeof dir, "%s/gold", root);
  REQUIRE (mkdir (dir, 0755) == 0, "mkdir %s: %s", dir, strerror (errno));
  touch (dir, "schemata");
  snprintf (dir, sizeof dir, "%s/gold/mon_groups", root);
  REQUIRE (mkdir (dir, 0755) == 0, "mkdir %s", dir);
  CHECK (fails_with (&cfg, "c2", "no L3 cache allocation") == 0);
  snprintf (dir, sizeof dir, "%s/info", root);
  mkdir (dir, 0755);
  snprintf (dir, sizeof dir, "%s/info/L3", root);
  mkdir (dir, 0755);
  CHECK (fails_with (&cfg, "c2", "memBwSchema: this host has no memory bandwidth allocation") == 0);
  CHECK (exists ("gold"), "a failed create removed a shared group");
  snprintf (dir, sizeof dir, "%s/info/MB", root);
  mkdir (dir, 0755);
  snprintf (dir, sizeof dir, "%s/gold", root);
  touch (dir, "schemata");
  REQUIRE (mr_rdt_create (root, &cfg, "c2", &g, &err) == 0, "%s", ERRMSG (err));
  CHECK (!g.created, "a group named by closID that existed is not minirun's");
  CHECK_STR (slurp (dir, "schemata"), "L3:0=ff\nMB:0=70\nL2:0=f\n");
  REQUIRE (g.mon_dir != NULL, "no monitoring group");
  CHECK (exists ("gold/mon_groups/c2"));
  rec = mr_rdt_record (&g);
  REQUIRE (mr_rdt_parse_record (rec, &back, &err) == 0, "%s", ERRMSG (err));
  CHECK (!back.created && back.mon_dir != NULL && strcmp (back.mon_dir, g.mon_dir) == 0);
  touch (dir, "schemata");
  REQUIRE (mr_rdt_update (&back, "L3:0=f0", NULL, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (slurp (dir, "schemata"), "L3:0=f0\n");
  REQUIRE (mr_rdt_destroy (&back, &err) == 0, "%s", ERRMSG (err));
  CHECK (!exists ("gold/mon_groups/c2"), "the monitoring group is still there");
  CHECK (exists ("gold"), "destroy removed the shared group");
out:
  free (rec);
  mr_rdt_clear (&g);
  mr_rdt_clear (&back);
  mr_error_free (&err);
  return ret;
}

static int
test_refusals_leave_nothing (void)
{
  struct mr_intel_rdt missing = { .present = true, .clos_id = (char *) "silver" };
  struct mr_intel_rdt broken = { .present = true, .l3_cache_schema = (char *) "L3:0=ff" };
  struct mr_rdt none = { 0 };
  mr_error_t err = NULL;
  int ret = 0;

  CHECK (fails_with (&missing, "c3", "closID: the resctrl group") == 0);
  CHECK (!exists ("silver"), "a refused closID group was left behind");
  /* the group is made, then its schemata cannot be written: rolled back */
  CHECK (fails_with (&broken, "c4", "linux.intelRdt.l3CacheSchema: open") == 0);
  CHECK (!exists ("c4"), "a group whose schemata failed was left behind");
  CHECK (mr_rdt_parse_record ("nonsense", &none, &err) < 0 && none.dir == NULL);
  mr_error_free (&err);
  CHECK (mr_rdt_parse_record ("created relative/dir\n", &none, &err) < 0);
  mr_error_free (&err);
  CHECK (mr_rdt_update (&none, "L3:0=1", NULL, &err) < 0 && strstr (err->msg, "no resctrl group") != NULL);
  mr_error_free (&err);
  return ret;
}

static int
test_mountpoint (void)
{
  char *m = mr_rdt_mountpoint ();
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  char line[4096];
  bool any = false;

  while (f && fgets (line, sizeof line, f))
    if (strstr (line, " - resctrl "))
      any = true;
  if (f)
    fclose (f);
  CHECK (any == (m != NULL), "mountinfo %s a resctrl mount, mr_rdt_mountpoint gave %s", any ? "has" : "has no",
         m ? m : "NULL");
  free (m);
  return 0;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "no resctrl", test_no_resctrl },
    { "own group", test_own_group },
    { "shared group, schemata, monitoring", test_shared_group_schemata_and_monitoring },
    { "refusals leave nothing", test_refusals_leave_nothing },
    { "mount point", test_mountpoint },
  };
  char rm[64];
  int r;

  if (mkdtemp (root) == NULL)
    return 2;
  r = HARNESS_RUN (tests);
  snprintf (rm, sizeof rm, "rm -rf '%s'", root); /* mkdtemp's name: no quote in it */
  if (system (rm) != 0)
    r = r ? r : 1;
  return r;
}
