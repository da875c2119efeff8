/* test_cgroup_sub.c: exec --cgroup's specs (runtime/cgroup/common/sub.c):
 * runc's two forms, the refusals (`..`, a plain PATH with others, a
 * controller twice, an empty controller), which entry a hierarchy takes
 * (v1 comma lists, the unified tree's space list), two paths for one
 * hierarchy, and a controller no hierarchy took.  The kernel side (the
 * process in the sub-cgroup, openat2 below the container's directory) is
 * tests/integration/test_exec_cgroup.py. */
#include <string.h>

#include "cgroup/common/sub.h"
#include "harness.h"

static void
expect_bad (char **specs, size_t n, const char *want)
{
  struct mr_cg_subs s;
  mr_error_t err = NULL;
  CHECK (mr_cg_subs_parse (specs, n, &s, &err) < 0 && err && strstr (err->msg, want), "%s: want `%s`, got %s",
         specs[n - 1], want, ERRMSG (err));
  CHECK (s.n == 0 && s.s == NULL, "%s: nothing kept on an error", specs[n - 1]);
  mr_error_free (&err);
}

static void
test_parse (void)
{
  char *plain[] = { (char *) "/a/b" };
  char *ctl[] = { (char *) "cpu,cpuacct:x", (char *) "memory:/y" };
  struct mr_cg_subs s;
  mr_error_t err = NULL;

  CHECK (mr_cg_subs_parse (plain, 1, &s, &err) == 0 && s.n == 1, "%s", ERRMSG (err));
  CHECK (s.s[0].ctl == NULL, "the plain form has no controller");
  CHECK_STR (s.s[0].path, "a/b");
  CHECK (!mr_cg_subs_per_controller (&s), "plain");
  mr_cg_subs_free (&s);

  CHECK (mr_cg_subs_parse (ctl, 2, &s, &err) == 0 && s.n == 3, "%s", ERRMSG (err));
  if (s.n == 3)
    {
      CHECK_STR (s.s[0].ctl, "cpu");
      CHECK_STR (s.s[1].ctl, "cpuacct");
      CHECK_STR (s.s[2].ctl, "memory");
      CHECK_STR (s.s[0].path, "x");
      CHECK_STR (s.s[2].path, "y");
    }
  CHECK (mr_cg_subs_per_controller (&s), "per controller");
  mr_cg_subs_free (&s);

  {
    char *a[] = { (char *) "../x" }, *b[] = { (char *) "a/../../x" }, *c[] = { (char *) "memory:.." };
    char *d[] = { (char *) "memory:a", (char *) "b" }, *e[] = { (char *) "memory:a", (char *) "pids,memory:b" };
    char *f[] = { (char *) ",memory:a" }, *g[] = { (char *) "cpu,:a" }, *h[] = { (char *) ":a" };
    char *ok[] = { (char *) "a..b/c.." };
    expect_bad (a, 1, "a `..` would leave the container's cgroup");
    expect_bad (b, 1, "a `..`");
    expect_bad (c, 1, "a `..`");
    expect_bad (d, 2, "must be the only --cgroup");
    expect_bad (e, 2, "the controller `memory` is given more than once");
    expect_bad (f, 1, "an empty controller name");
    expect_bad (g, 1, "an empty controller name");
    expect_bad (h, 1, "an empty controller name");
    CHECK (mr_cg_subs_parse (ok, 1, &s, &err) == 0, "dots inside a name are no `..`: %s", ERRMSG (err));
    mr_cg_subs_free (&s);
  }
}

static void
test_for (void)
{
  char *ctl[] = { (char *) "cpu:x", (char *) "memory:y", (char *) "hugetlb:z" };
  char *clash[] = { (char *) "cpu:x", (char *) "cpuacct:y" };
  char *plain[] = { (char *) "p" };
  const struct mr_cg_sub *e;
  struct mr_cg_subs s;
  mr_error_t err = NULL;

  CHECK (mr_cg_subs_parse (ctl, 3, &s, &err) == 0, "%s", ERRMSG (err));
  CHECK (mr_cg_subs_for (&s, "cpu,cpuacct", ',', &e, &err) == 0 && e && strcmp (e->path, "x") == 0, "cpu");
  CHECK (mr_cg_subs_for (&s, "pids", ',', &e, &err) == 0 && e == NULL, "pids stays at the top");
  CHECK (mr_cg_subs_check_used (&s, &err) < 0 && err && strstr (err->msg, "no cgroup for the controller `memory`"),
         "memory not taken yet: %s", ERRMSG (err));
  mr_error_free (&err);
  CHECK (mr_cg_subs_for (&s, "memory", ',', &e, &err) == 0 && e && strcmp (e->path, "y") == 0, "memory");
  CHECK (mr_cg_subs_for (&s, " hugetlb ", ' ', &e, &err) == 0 && e && strcmp (e->path, "z") == 0,
         "the unified tree's space list");
  CHECK (mr_cg_subs_check_used (&s, &err) == 0, "all taken: %s", ERRMSG (err));
  mr_cg_subs_free (&s);

  CHECK (mr_cg_subs_parse (clash, 2, &s, &err) == 0, "%s", ERRMSG (err));
  CHECK (mr_cg_subs_for (&s, "cpu,cpuacct", ',', &e, &err) < 0 && err && strstr (err->msg, "share one hierarchy"),
         "two paths for one hierarchy: %s", ERRMSG (err));
  mr_error_free (&err);
  mr_cg_subs_free (&s);

  CHECK (mr_cg_subs_parse (plain, 1, &s, &err) == 0, "%s", ERRMSG (err));
  CHECK (mr_cg_subs_for (&s, "memory", ',', &e, &err) == 0 && e && strcmp (e->path, "p") == 0, "plain: v1");
  CHECK (mr_cg_subs_for (&s, NULL, ' ', &e, &err) == 0 && e && strcmp (e->path, "p") == 0, "plain: v2");
  CHECK (mr_cg_subs_check_used (&s, &err) == 0, "%s", ERRMSG (err));
  mr_cg_subs_free (&s);
}

int
main (void)
{
  test_parse ();
  test_for ();
  return harness_summary ();
}
