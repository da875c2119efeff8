/* test_cgroup_v1.c: the cgroup v1 driver alone, as on a legacy host, for
 * real.  This machine is hybrid, so in a private mount namespace a tmpfs
 * holding binds of four of its v1 hierarchies (cpu, memory, pids, freezer)
 * becomes the detection root (mr_cg_host_set_root): no cgroup2 "unified" below it, so the layout
 * is legacy and the front picks the v1 driver.  Checked: detection, the
 * legacy "not available" errors (nothing made), create with limits that
 * land in the right hierarchies, a child that joins by itself, the process
 * list, freeze/thaw, stats, kill --all (freeze, SIGKILL, thaw), the
 * container's view (a tmpfs of the four hierarchies, no "unified"), update,
 * and destroy (the parent minirun made goes too).  The cgroups are real
 * (the binds are the host's hierarchies): everything lives below
 * /minirun-test-<pid>* there and is removed at exit. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/util.h"
#include "harness.h"
#include "test_cgroup_util.h"

static const char *const hiers[] = { "cpu", "memory", "pids", "freezer" };
#define N_HIERS (sizeof hiers / sizeof hiers[0])

static char top[64];  /* /minirun-test-<pid> */
static char root[64]; /* the tmpfs of binds */
static char view[96]; /* where the container's view is mounted */

/* <host hierarchy><top><sub>/<file> */
static const char *
host_path (const char *h, const char *sub, const char *file)
{
  static char p[512];
  snprintf (p, sizeof p, "/sys/fs/cgroup/%s%s%s%s%s", h, top, sub, file ? "/" : "", file ? file : "");
  return p;
}

static bool
exists (const char *p)
{
  return access (p, F_OK) == 0;
}

static void
cleanup_all (void)
{
  char cmd[1024];
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  for (size_t i = 0; i < N_HIERS; i++)
    {
      snprintf (cmd, sizeof cmd, "/sys/fs/cgroup/%s%s/x/freezer.state", hiers[i], top);
      if (exists (cmd))
        {
          FILE *f = fopen (cmd, "we");
          if (f)
            fclose ((fputs ("THAWED", f), f));
        }
    }
  snprintf (
      cmd, sizeof cmd,
      "find /sys/fs/cgroup/cpu%s* /sys/fs/cgroup/memory%s* /sys/fs/cgroup/pids%s* /sys/fs/cgroup/freezer%s* "
      "-depth -type d -exec rmdir {} + 2>/dev/null",
      top, top, top, top);
  if (system (cmd) < 0)
    printf ("cleanup: system failed\n");
}

/* The private namespace and the tmpfs of binds. */
static int
setup (void)
{
  char p[160];
  if (unshare (CLONE_NEWNS) < 0 || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
    return harness_fail ("FAIL: unshare/make private: %s\n", strerror (errno)), -1;
  snprintf (root, sizeof root, "/tmp/minirun-cgv1-XXXXXX");
  if (mkdtemp (root) == NULL || mount ("tmpfs", root, "tmpfs", 0, "mode=755") < 0)
    return harness_fail ("FAIL: tmpfs at %s: %s\n", root, strerror (errno)), -1;
  for (size_t i = 0; i < N_HIERS; i++)
    {
      char src[64];
      snprintf (p, sizeof p, "%s/%s", root, hiers[i]);
      snprintf (src, sizeof src, "/sys/fs/cgroup/%s", hiers[i]);
      if (mkdir (p, 0755) < 0 || mount (src, p, "none", MS_BIND, NULL) < 0)
        return harness_fail ("FAIL: bind %s: %s\n", p, strerror (errno)), -1;
    }
  snprintf (view, sizeof view, "%s/view", root);
  if (mkdir (view, 0755) < 0)
    return harness_fail ("FAIL: mkdir %s: %s\n", view, strerror (errno)), -1;
  mr_cg_host_set_root (root);
  mr_cg_host_reset ();
  return 0;
}

static void
test_detect (void)
{
  enum mr_cgroup_layout l;
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;
  CHECK (mr_cgroup_layout (&l, &err) == 0 && l == MR_CGROUP_LEGACY, "legacy: %s",
         err ? err->msg : mr_cgroup_layout_name (l));
  mr_error_free (&err);
  CHECK (mr_cgroup_lookup ("/x", &cg, &err) == 0, "lookup: %s", ERRMSG (err));
  if (cg)
    {
      CHECK (strcmp (mr_cgroup_driver_name (cg), "v1") == 0, "driver %s", mr_cgroup_driver_name (cg));
      CHECK (cg->v2_dir == NULL && cg->n_v1 == N_HIERS, "%zu v1 directories, v2 %s", cg->n_v1,
             cg->v2_dir ? cg->v2_dir : "none");
      CHECK (mr_cgroup_v2_dirfd (cg) == -1, "no v2 fd");
    }
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

static void
test_refusals (void)
{
  char path[128], want[256];
  struct mr_resources r = { 0 };
  struct mr_hugepage_limit hp = { (char *)"2MB", 2 << 20 };
  struct mr_kv u = { (char *)"memory.high", (char *)"1G" };

  snprintf (path, sizeof path, "%s-fail/a", top);
  r.hugepage_limits = &hp;
  r.n_hugepage_limits = 1;
  snprintf (want, sizeof want,
            "linux.resources.hugepageLimits: hugetlb controller not available: no cgroup v1 hierarchy for it "
            "below %s",
            root);
  tc_expect_create_error (path, &r, want, "hugetlb on legacy", true);
  memset (&r, 0, sizeof r);
  r.unified = &u;
  r.n_unified = 1;
  tc_expect_create_error (path, &r,
                          "linux.resources.unified: needs cgroup v2, but this host has only cgroup v1",
                          "unified on legacy", true);
  memset (&r, 0, sizeof r);
  r.block_io.weight = (struct mr_opt_u64){ true, 500 };
  tc_expect_create_error (path, &r, "linux.resources.blockIO.weight: blkio controller not available",
                          "blkio without its hierarchy", true);
  for (size_t i = 0; i < N_HIERS; i++)
    CHECK (!exists (host_path (hiers[i], "-fail", NULL)), "nothing made in %s", hiers[i]);
}

/* A child that joins by itself and sleeps; -1 on failure. */
static pid_t
spawn (const struct mr_cgroup *cg)
{
  int p[2];
  char c = 0;
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      mr_error_t err = NULL;
      c = mr_cgroup_child_join (cg, &err) == 0 ? 'j' : 'f';
      if (write (p[1], &c, 1) != 1)
        _exit (1);
      tc_child_idle (false, NULL);
    }
  close (p[1]);
  if (pid < 0 || read (p[0], &c, 1) != 1 || c != 'j')
    pid = -1;
  close (p[0]);
  return pid;
}

static void
test_lifecycle (void)
{
  char path[128], ent[128], line[256];
  struct mr_resources r = { 0 };
  struct mr_cgroup *cg = NULL;
  struct mr_cgroup_stats st;
  mr_error_t err = NULL;
  pid_t *pids = NULL, child;
  size_t n = 0;
  bool frozen = true, listed = false;
  int status = 0;
  FILE *f;

  snprintf (path, sizeof path, "%s/x", top);
  r.memory.limit = (struct mr_opt_i64){ true, 64 << 20 };
  r.pids.limit = (struct mr_opt_i64){ true, 9 };
  r.cpu.shares = (struct mr_opt_u64){ true, 512 };
  if (mr_cgroup_create (path, &r, &cg, &err) < 0)
    {
      CHECK (false, "create: %s", ERRMSG (err));
      mr_error_free (&err);
      return;
    }
  CHECK (harness_file_is (host_path ("memory", "/x", "memory.limit_in_bytes"), "67108864"), "memory limit");
  CHECK (harness_file_is (host_path ("pids", "/x", "pids.max"), "9"), "pids limit");
  CHECK (harness_file_is (host_path ("cpu", "/x", "cpu.shares"), "512"), "cpu shares");

  child = spawn (cg);
  CHECK (child > 0, "child joined");
  snprintf (ent, sizeof ent, "/proc/%d/cgroup", (int)child);
  snprintf (path, sizeof path, "%s/x", top);
  if (child > 0 && (f = fopen (ent, "re")))
    {
      int found = 0;
      while (fgets (line, sizeof line, f))
        for (size_t i = 0; i < N_HIERS; i++)
          {
            char want[160];
            snprintf (want, sizeof want, ":%s:%s\n", hiers[i], path);
            found += strstr (line, want) != NULL;
          }
      fclose (f);
      CHECK (found == (int)N_HIERS, "the child is in all %zu hierarchies (%d)", N_HIERS, found);
    }
  CHECK (mr_cgroup_pids (cg, &pids, &n, &err) == 0, "pids: %s", ERRMSG (err));
  for (size_t i = 0; i < n; i++)
    listed |= pids[i] == child;
  CHECK (listed && n == 1, "the child is the one process listed (%zu)", n);
  free (pids);

  CHECK (mr_cgroup_freeze (cg, true, &err) == 0, "freeze: %s", ERRMSG (err));
  CHECK (mr_cgroup_is_frozen (cg, &frozen, &err) == 0 && frozen, "frozen: %s", ERRMSG (err));
  CHECK (harness_file_is (host_path ("freezer", "/x", "freezer.state"), "FROZEN"), "freezer.state");
  CHECK (mr_cgroup_freeze (cg, false, &err) == 0, "thaw: %s", ERRMSG (err));
  CHECK (mr_cgroup_is_frozen (cg, &frozen, &err) == 0 && !frozen, "thawed: %s", ERRMSG (err));

  CHECK (mr_cgroup_stats (cg, &st, &err) == 0, "stats: %s", ERRMSG (err));
  CHECK (st.pids.current == 1 && st.pids.limit == 9, "pids %llu/%llu", (unsigned long long)st.pids.current,
         (unsigned long long)st.pids.limit);
  CHECK (st.memory.limit == 64 << 20, "memory limit in stats %llu", (unsigned long long)st.memory.limit);
  CHECK (st.n_hugetlb == 0, "no hugetlb hierarchy, no hugetlb stats");

  memset (&r, 0, sizeof r);
  r.pids.limit = (struct mr_opt_i64){ true, 20 };
  CHECK (mr_cgroup_update (cg, &r, &err) == 0, "update: %s", ERRMSG (err));
  CHECK (harness_file_is (host_path ("pids", "/x", "pids.max"), "20"), "pids limit updated");

  CHECK (mr_cgroup_kill (cg, SIGKILL, &err) == 0, "kill --all: %s", ERRMSG (err));
  CHECK (child > 0 && waitpid (child, &status, 0) == child && WIFSIGNALED (status)
             && WTERMSIG (status) == SIGKILL,
         "the child died of SIGKILL");
  CHECK (harness_file_is (host_path ("freezer", "/x", "freezer.state"), "THAWED"), "thawed after the kill");

  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  for (size_t i = 0; i < N_HIERS; i++)
    CHECK (!exists (host_path (hiers[i], "", NULL)), "%s: the leaf and the parent minirun made are gone",
           hiers[i]);
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

static void
test_view (void)
{
  char path[128], p[256];
  struct mr_resources r = { 0 };
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;
  int fd;

  snprintf (path, sizeof path, "%s-view/c", top);
  r.memory.limit = (struct mr_opt_i64){ true, 32 << 20 };
  if (mr_cgroup_create (path, &r, &cg, &err) < 0)
    {
      CHECK (false, "create: %s", ERRMSG (err));
      mr_error_free (&err);
      return;
    }
  fd = open (view, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (mr_cgroup_mount (cg, fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, &err) < 0
      && err->errno_ == ENOSYS)
    printf ("SKIP view: the mount API is ENOSYS here (valgrind 3.19?): %s\n", err->msg);
  else
    {
      CHECK (err == NULL, "mount: %s", ERRMSG (err));
      for (size_t i = 0; i < N_HIERS; i++)
        {
          snprintf (p, sizeof p, "%s/%s/tasks", view, hiers[i]);
          CHECK (exists (p), "the view has %s", hiers[i]);
        }
      snprintf (p, sizeof p, "%s/memory/memory.limit_in_bytes", view);
      CHECK (harness_file_is (p, "33554432"), "the view's memory is the container's own cgroup");
      snprintf (p, sizeof p, "%s/unified", view);
      CHECK (!exists (p), "no unified tree on a legacy host");
      snprintf (p, sizeof p, "%s/blkio", view);
      CHECK (!exists (p), "only the host's hierarchies");
      umount2 (view, MNT_DETACH);
    }
  close (fd);
  mr_error_free (&err);
  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

int
main (void)
{
  bool ok = geteuid () == 0;
  for (size_t i = 0; ok && i < N_HIERS; i++)
    {
      char p[64];
      snprintf (p, sizeof p, "/sys/fs/cgroup/%s/tasks", hiers[i]);
      ok = exists (p);
    }
  if (!tc_begin (ok,
                 "needs root and the v1 hierarchies cpu, memory, pids and freezer at /sys/fs/cgroup/<name>",
                 top, sizeof top))
    {
      harness_summary ();
      return 77; /* skipped, reason printed */
    }
  harness_timeout (60, cleanup_all);
  if (setup () == 0)
    {
      test_detect ();
      test_refusals ();
      test_lifecycle ();
      test_view ();
    }
  cleanup_all ();
  umount2 (root, MNT_DETACH);
  rmdir (root);
  mr_cg_host_reset ();
  return harness_summary ();
}
