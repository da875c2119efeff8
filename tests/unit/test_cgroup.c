/* test_cgroup.c: the cgroup interface against this machine's real (hybrid)
 * cgroups, as root: detection, create with limits in every hierarchy (and the
 * unified tree for hugetlb), child self-join, clone3(CLONE_INTO_CGROUP),
 * device rules and a pids limit that bind, freeze/thaw, stats, update, kill,
 * destroy, and the failure paths (invalid value, busy cgroup, lingering
 * process).  Everything lives below /minirun-test-<pid>* and is removed at
 * exit, also after a failure or a timeout. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/marks.h"
#include "cgroup/common/util.h"
#include "cgroup/v1/v1.h"
#include "harness.h"
#include "test_cgroup_util.h"
#include "base/utils.h"

static const struct mr_cg_host *host;
static char top[64];           /* /minirun-test-<pid> */
static char unified_sub[4096]; /* unified root cgroup.subtree_control at start */
static volatile long *counter; /* shared with the busy child */

/* ---------- helpers ---------- */

/* Is <dir>/<file> exactly want? */
static bool
file_is (const char *dir, const char *file, const char *want)
{
  char p[4096];
  snprintf (p, sizeof p, "%s/%s", dir, file);
  return harness_file_is (p, want);
}

static bool
exists (const char *p)
{
  return access (p, F_OK) == 0;
}

static const char *
v1_dir (const char *ctrl, const char *sub)
{
  static char p[4096];
  for (size_t i = 0; i < host->n_v1; i++)
    if (mr_cg_list_has (host->v1[i].name, ',', ctrl))
      {
        snprintf (p, sizeof p, "%s%s", host->v1[i].mount, sub);
        return p;
      }
  return "/nonexistent";
}

/* kill what is in a test cgroup (only our own children get there), remove it */
static void
rm_tree (const char *path)
{
  char p[4096], *procs;
  FILE *f;
  snprintf (p, sizeof p, "%s/freezer.state", path);
  if ((f = fopen (p, "we")))
    fclose ((fputs ("THAWED", f), f));
  snprintf (p, sizeof p, "%s/cgroup.freeze", path);
  if ((f = fopen (p, "we")))
    fclose ((fputs ("0", f), f));
  snprintf (p, sizeof p, "%s/cgroup.procs", path);
  if ((procs = harness_slurp (p)))
    for (char *s = procs; *s; s = strchr (s, '\n') ? strchr (s, '\n') + 1 : s + strlen (s))
      kill ((pid_t)atoi (s), SIGKILL);
  snprintf (p, sizeof p, "find '%s' -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null", path);
  if (system (p) < 0)
    return;
  for (int i = 0; i < 200 && rmdir (path) < 0 && errno == EBUSY; i++)
    usleep (10000);
}

static void
cleanup_all (void)
{
  char p[4096];
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  for (size_t i = 0; host && i < host->n_v1; i++)
    {
      static const char *const sfx[] = { "", "-fail", "-busy", "-own", "-rt" };
      for (size_t k = 0; k < 5; k++)
        {
          snprintf (p, sizeof p, "%s%s%s", host->v1[i].mount, top, sfx[k]);
          rm_tree (p);
        }
      snprintf (p, sizeof p, "%s%s%s-rel", host->v1[i].mount, host->v1[i].own, top);
      rm_tree (p);
    }
  if (host && host->v2_mount)
    {
      static const char *const sfx[] = { "", "-fail", "-busy", "-rel", "-own" };
      for (size_t k = 0; k < 5; k++)
        {
          snprintf (p, sizeof p, "%s%s%s", host->v2_mount, top, sfx[k]);
          rm_tree (p);
        }
      /* put the unified root's subtree_control back (fails harmlessly while others use hugetlb) */
      if (!mr_cg_list_has (unified_sub, ' ', "hugetlb"))
        {
          FILE *f;
          snprintf (p, sizeof p, "%s/cgroup.subtree_control", host->v2_mount);
          if ((f = fopen (p, "we")))
            fclose ((fputs ("-hugetlb", f), f));
        }
    }
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

/* A child in `cg`: joins the v1 hierarchies itself, optionally created
 * in the v2 directory by clone3(CLONE_INTO_CGROUP); then `what`:
 * 0 sleep, 1 spin on *counter, 2 try devices, 3 fork until it fails. */
static pid_t
spawn (const struct mr_cgroup *cg, bool into_v2, int what, int *report_fd)
{
  int p[2];
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  if (into_v2)
    pid = tc_clone_into (cg);
  else
    pid = fork ();
  if (pid == 0)
    {
      mr_error_t err = NULL;
      int r[2] = { 0, 0 };
      if (mr_cgroup_child_join (cg, &err) < 0)
        {
          printf ("child join: %s\n", err->msg);
          _exit (99);
        }
      if (what == 2)
        {
          int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
          r[0] = fd >= 0 ? 0 : errno;
          fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
          r[1] = fd >= 0 ? 0 : errno;
        }
      if (what == 3)
        {
          for (r[0] = 0; r[0] < 50; r[0]++)
            {
              pid_t g = fork ();
              if (g == 0)
                for (;;)
                  pause ();
              if (g < 0)
                {
                  r[1] = errno;
                  break;
                }
            }
        }
      if (write (p[1], r, sizeof r) != sizeof r)
        _exit (98);
      tc_child_idle (what == 1, counter);
    }
  close (p[1]);
  if (pid < 0)
    {
      close (p[0]);
      return -1;
    }
  if (report_fd)
    *report_fd = p[0];
  else
    {
      int r[2];
      if (read (p[0], r, sizeof r) != sizeof r)
        printf ("  child %d did not start\n", (int)pid);
      close (p[0]);
    }
  return pid;
}

/* Is `line` ("name:path") a whole line of `s` (after the "N:" prefix)? */
static bool
has_line (const char *s, const char *line)
{
  size_t n = strlen (line);
  for (const char *at = strstr (s, line); at; at = strstr (at + 1, line))
    if (at[-1] == ':' && (at[n] == '\n' || at[n] == '\0'))
      return true;
  return false;
}

/* Does /proc/<pid>/cgroup put it in `path` in every v1 hierarchy (and v2 if want_v2)? */
static bool
in_cgroup (pid_t pid, const char *path, bool want_v2)
{
  char p[64], line[512];
  const char *s;
  bool ok = true;
  snprintf (p, sizeof p, "/proc/%d/cgroup", (int)pid);
  if ((s = harness_slurp (p)) == NULL)
    return false;
  for (size_t i = 0; i < host->n_v1; i++)
    {
      snprintf (line, sizeof line, "%s:%s", host->v1[i].name, path);
      if (!has_line (s, line))
        {
          printf ("  pid %d not in %s\n", (int)pid, line);
          ok = false;
        }
    }
  snprintf (line, sizeof line, ":%s", path);
  if (want_v2 && !has_line (s, line))
    {
      printf ("  pid %d not in 0:%s\n%s\n", (int)pid, line, s);
      ok = false;
    }
  return ok;
}

/* ---------- tests ---------- */

static void
test_detect (void)
{
  enum mr_cgroup_layout l;
  mr_error_t err = NULL;
  const char *need[]
      = { "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd" };
  CHECK (mr_cgroup_layout (&l, &err) == 0, "%s", ERRMSG (err));
  CHECK (l == MR_CGROUP_HYBRID, "this machine is hybrid, detected %s", mr_cgroup_layout_name (l));
  CHECK (strcmp (host->v2_mount, "/sys/fs/cgroup/unified") == 0, "v2 at %s", host->v2_mount);
  CHECK (mr_cg_list_has (host->v2_controllers, ' ', "hugetlb"), "unified has hugetlb: `%s`",
         host->v2_controllers);
  for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
    CHECK (strcmp (v1_dir (need[k], ""), "/nonexistent") != 0, "v1 hierarchy %s found", need[k]);
  CHECK (strcmp (v1_dir ("name=systemd", ""), "/sys/fs/cgroup/systemd") == 0, "systemd at %s",
         v1_dir ("name=systemd", ""));
  {
    /* the layout picks the driver: hybrid, a directory in every v1 hierarchy and the unified tree */
    struct mr_cgroup *cg = NULL;
    CHECK (mr_cgroup_lookup ("/x", &cg, &err) == 0 && strcmp (mr_cgroup_driver_name (cg), "hybrid") == 0,
           "hybrid driver: %s", cg ? mr_cgroup_driver_name (cg) : ERRMSG (err));
    CHECK (cg && cg->n_v1 == host->n_v1 && cg->v2_dir && strcmp (cg->v2_dir, "/sys/fs/cgroup/unified/x") == 0,
           "v1 and v2 directories");
    mr_cgroup_free (cg);
  }
  mr_error_free (&err);
}

static void
limits (struct mr_resources *r, struct mr_device_rule *dev, struct mr_hugepage_limit *hp)
{
  memset (r, 0, sizeof *r);
  r->present = true;
  r->memory.limit = (struct mr_opt_i64){ true, 64 << 20 };
  r->memory.swap = (struct mr_opt_i64){ true, 128 << 20 };
  r->memory.reservation = (struct mr_opt_i64){ true, 32 << 20 };
  r->memory.swappiness = (struct mr_opt_u64){ true, 10 };
  r->pids.limit = (struct mr_opt_i64){ true, 20 };
  r->cpu.shares = (struct mr_opt_u64){ true, 512 };
  r->cpu.quota = (struct mr_opt_i64){ true, 50000 };
  r->cpu.period = (struct mr_opt_u64){ true, 100000 };
  r->cpu.cpus = (char *)"0";
  r->cpu.mems = (char *)"0";
  r->block_io.weight = (struct mr_opt_u64){ true, 500 };
  dev[0] = (struct mr_device_rule){ false, 'a', -1, -1, "rwm" };
  dev[1] = (struct mr_device_rule){ true, 'c', 1, 3, "rwm" };
  r->devices = dev;
  r->n_devices = 2;
  hp->page_size = (char *)"2MB";
  hp->limit = 4 << 20;
  r->hugepage_limits = hp;
  r->n_hugepage_limits = 1;
}

static void
test_lifecycle (void)
{
  struct mr_resources r;
  struct mr_device_rule dev[2];
  struct mr_hugepage_limit hp;
  struct mr_cgroup *cg = NULL, *cg2 = NULL, *opened = NULL;
  struct mr_cgroup_stats st;
  mr_error_t err = NULL;
  char path[128], sub[160], d[4096];
  pid_t sleeper, v2kid, spinner, devkid;
  int rep, res[2];
  pid_t *pids = NULL;
  size_t n = 0;
  bool frozen = true;

  limits (&r, dev, &hp);
  snprintf (path, sizeof path, "%s/x", top);
  CHECK (mr_cgroup_create (path, &r, &cg, &err) == 0, "%s", ERRMSG (err));
  if (cg == NULL)
    return;
  CHECK (strcmp (mr_cgroup_get_path (cg), path) == 0, "path %s", mr_cgroup_get_path (cg));
  CHECK (mr_cgroup_v2_dirfd (cg) >= 0, "v2 dirfd");
  /* a directory in every hierarchy */
  for (size_t i = 0; i < host->n_v1; i++)
    {
      snprintf (d, sizeof d, "%s%s", host->v1[i].mount, path);
      CHECK (exists (d), "%s exists", d);
    }
  snprintf (d, sizeof d, "%s%s", host->v2_mount, path);
  CHECK (exists (d), "%s exists", d);
  /* the values */
  snprintf (sub, sizeof sub, "%s", path);
  CHECK (file_is (v1_dir ("memory", sub), "memory.limit_in_bytes", "67108864"), "memory limit");
  CHECK (file_is (v1_dir ("memory", sub), "memory.memsw.limit_in_bytes", "134217728"), "memsw limit");
  CHECK (file_is (v1_dir ("memory", sub), "memory.soft_limit_in_bytes", "33554432"), "reservation");
  CHECK (file_is (v1_dir ("memory", sub), "memory.swappiness", "10"), "swappiness");
  CHECK (file_is (v1_dir ("pids", sub), "pids.max", "20"), "pids");
  CHECK (file_is (v1_dir ("cpu", sub), "cpu.shares", "512"), "shares");
  CHECK (file_is (v1_dir ("cpu", sub), "cpu.cfs_quota_us", "50000"), "quota");
  CHECK (file_is (v1_dir ("cpu", sub), "cpu.cfs_period_us", "100000"), "period");
  CHECK (file_is (v1_dir ("cpuset", sub), "cpuset.cpus", "0"), "cpus");
  CHECK (file_is (v1_dir ("cpuset", sub), "cpuset.mems", "0"), "mems");
  {
    /* copy: harness_slurp's buffer is reused by file_is */
    char parent_cpus[256];
    const char *pc = harness_slurp ("/sys/fs/cgroup/cpuset/cpuset.cpus");
    snprintf (parent_cpus, sizeof parent_cpus, "%s", pc ? pc : "(unreadable)");
    CHECK (file_is (v1_dir ("cpuset", top), "cpuset.cpus", parent_cpus),
           "intermediate cpuset level initialised from its parent");
  }
  CHECK (file_is (v1_dir ("devices", sub), "devices.list", "c 1:3 rwm"), "device rules");
  snprintf (d, sizeof d, "%s", v1_dir ("blkio", sub));
  CHECK (
      file_is (d, exists ("/sys/fs/cgroup/blkio/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight", "500"),
      "blkio weight (CFQ or BFQ file)");
  snprintf (d, sizeof d, "%s%s", host->v2_mount, path);
  CHECK (file_is (d, "hugetlb.2MB.max", "4194304"), "hugetlb on the unified tree");
  snprintf (d, sizeof d, "%s%s", host->v2_mount, top);
  CHECK (file_is (d, "cgroup.subtree_control", "hugetlb"), "hugetlb enabled for the children of %s", top);

  /* a forked child joins the v1 hierarchies itself */
  sleeper = spawn (cg, false, 0, NULL);
  CHECK (sleeper > 0 && in_cgroup (sleeper, path, false), "self-joined child");
  /* clone3(CLONE_INTO_CGROUP) starts a child directly in the unified dir */
  v2kid = spawn (cg, true, 0, NULL);
  CHECK (v2kid > 0 && in_cgroup (v2kid, path, true), "CLONE_INTO_CGROUP child");
  /* device rules bind: /dev/null allowed, /dev/zero denied */
  devkid = spawn (cg, false, 2, &rep);
  CHECK (devkid > 0 && read (rep, res, sizeof res) == sizeof res, "device child report");
  close (rep);
  CHECK (res[0] == 0, "/dev/null opens: %s", strerror (res[0]));
  CHECK (res[1] == EPERM, "/dev/zero is denied: %s", strerror (res[1]));
  spinner = spawn (cg, false, 1, NULL);

  /* the path is in use now */
  CHECK (mr_cgroup_create (path, NULL, &cg2, &err) < 0 && strstr (ERRMSG (err), "already in use"),
         "busy cgroup refused: %s", ERRMSG (err));
  mr_error_free (&err);
  mr_cgroup_free (cg2);

  CHECK (mr_cgroup_pids (cg, &pids, &n, &err) == 0 && n == 4, "4 pids, got %zu: %s", n, ERRMSG (err));
  free (pids);

  /* freeze: the spinner's counter stops */
  CHECK (mr_cgroup_freeze (cg, true, &err) == 0, "freeze: %s", ERRMSG (err));
  CHECK (mr_cgroup_is_frozen (cg, &frozen, &err) == 0 && frozen, "is frozen");
  CHECK (file_is (v1_dir ("freezer", sub), "freezer.state", "FROZEN"), "freezer.state");
  {
    long c1 = *counter, c2;
    usleep (100000);
    c2 = *counter;
    CHECK (c1 == c2, "counter stands still while frozen: %ld -> %ld", c1, c2);
  }
  CHECK (mr_cgroup_freeze (cg, false, &err) == 0, "thaw: %s", ERRMSG (err));
  CHECK (mr_cgroup_is_frozen (cg, &frozen, &err) == 0 && !frozen, "thawed");
  {
    long c1 = *counter, c2;
    usleep (50000);
    c2 = *counter;
    CHECK (c2 > c1, "counter runs again: %ld -> %ld", c1, c2);
  }

  /* stats */
  CHECK (mr_cgroup_stats (cg, &st, &err) == 0, "stats: %s", ERRMSG (err));
  CHECK (st.memory.usage > 0 && st.memory.limit == 64 << 20, "memory usage %llu limit %llu",
         (unsigned long long)st.memory.usage, (unsigned long long)st.memory.limit);
  CHECK (st.memory.swap_limit == 128 << 20, "memsw limit %llu", (unsigned long long)st.memory.swap_limit);
  CHECK (st.pids.current == 4 && st.pids.limit == 20, "pids %llu/%llu", (unsigned long long)st.pids.current,
         (unsigned long long)st.pids.limit);
  CHECK (st.cpu.usage_total > 1000000, "cpu usage %llu ns", (unsigned long long)st.cpu.usage_total);
  CHECK (st.cpu.usage_user + st.cpu.usage_kernel > 0, "user+sys ns");
  CHECK (st.cpu.periods > 0, "cfs periods counted: %llu", (unsigned long long)st.cpu.periods);
  CHECK (st.n_hugetlb >= 1 && (strcmp (st.hugetlb[0].page_size, "2MB") == 0 || st.n_hugetlb > 1),
         "hugetlb sizes");

  /* update a live limit: raising above the old memsw needs memsw first, lowering the limit first */
  {
    struct mr_resources u = { 0 };
    u.memory.limit = (struct mr_opt_i64){ true, 256 << 20 };
    u.memory.swap = (struct mr_opt_i64){ true, 512 << 20 };
    u.pids.limit = (struct mr_opt_i64){ true, 30 };
    CHECK (mr_cgroup_update (cg, &u, &err) == 0, "raise: %s", ERRMSG (err));
    CHECK (file_is (v1_dir ("memory", sub), "memory.limit_in_bytes", "268435456"), "raised limit");
    CHECK (file_is (v1_dir ("memory", sub), "memory.memsw.limit_in_bytes", "536870912"), "raised memsw");
    CHECK (file_is (v1_dir ("pids", sub), "pids.max", "30"), "updated pids");
    u.memory.limit.v = 48 << 20;
    u.memory.swap.v = 56 << 20;
    u.pids.limit.v = -1;
    CHECK (mr_cgroup_update (cg, &u, &err) == 0, "lower: %s", ERRMSG (err));
    CHECK (file_is (v1_dir ("memory", sub), "memory.limit_in_bytes", "50331648"), "lowered limit");
    CHECK (file_is (v1_dir ("memory", sub), "memory.memsw.limit_in_bytes", "58720256"), "lowered memsw");
    CHECK (file_is (v1_dir ("pids", sub), "pids.max", "max"), "pids unlimited");
    mr_error_free (&err);
  }

  /* another command opens the cgroup by path and kills everything */
  CHECK (mr_cgroup_open (path, &opened, &err) == 0, "open: %s", ERRMSG (err));
  if (opened)
    {
      CHECK (mr_cgroup_kill (opened, SIGKILL, &err) == 0, "kill: %s", ERRMSG (err));
      mr_cgroup_free (opened);
    }
  CHECK (harness_reap (sleeper) == SIGKILL, "sleeper killed");
  CHECK (harness_reap (v2kid) == SIGKILL, "v2 child killed");
  CHECK (harness_reap (devkid) == SIGKILL, "device child killed");
  CHECK (harness_reap (spinner) == SIGKILL, "spinner killed");
  CHECK (mr_cgroup_pids (cg, &pids, &n, &err) == 0 && n == 0, "no pids left: %zu", n);
  free (pids);

  /* a non-SIGKILL signal goes to each process */
  sleeper = spawn (cg, false, 0, NULL);
  CHECK (mr_cgroup_kill (cg, SIGTERM, &err) == 0, "kill TERM: %s", ERRMSG (err));
  CHECK (harness_reap (sleeper) == SIGTERM, "SIGTERM delivered");

  /* sub-cgroups the container made itself go too (cgroupfs answers EBUSY for them) */
  snprintf (d, sizeof d, "%s/inner", v1_dir ("memory", sub));
  CHECK (mkdir (d, 0755) == 0, "mkdir %s", d);
  snprintf (d, sizeof d, "%s/inner/deeper", v1_dir ("memory", sub));
  CHECK (mkdir (d, 0755) == 0, "mkdir %s", d);
  snprintf (d, sizeof d, "%s%s/inner", host->v2_mount, path);
  CHECK (mkdir (d, 0755) == 0, "mkdir %s", d);

  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  for (size_t i = 0; i < host->n_v1; i++)
    {
      snprintf (d, sizeof d, "%s%s", host->v1[i].mount, path);
      CHECK (!exists (d), "%s removed", d);
      snprintf (d, sizeof d, "%s%s", host->v1[i].mount, top);
      CHECK (!exists (d), "empty parent %s removed", d);
    }
  snprintf (d, sizeof d, "%s%s", host->v2_mount, top);
  CHECK (!exists (d), "%s removed", d);
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

static void
test_pids_limit (void)
{
  struct mr_resources r = { 0 };
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;
  char path[128];
  int rep, res[2] = { -1, -1 };
  pid_t kid;

  r.pids.limit = (struct mr_opt_i64){ true, 5 };
  snprintf (path, sizeof path, "%s/p", top);
  CHECK (mr_cgroup_create (path, &r, &cg, &err) == 0, "%s", ERRMSG (err));
  if (cg == NULL)
    return;
  kid = spawn (cg, false, 3, &rep);
  CHECK (kid > 0 && read (rep, res, sizeof res) == sizeof res, "fork child report");
  close (rep);
  CHECK (res[0] == 4 && res[1] == EAGAIN, "pids.max 5 lets the child fork 4 times, then EAGAIN: %d, %s",
         res[0], strerror (res[1]));
  CHECK (mr_cgroup_kill (cg, SIGKILL, &err) == 0, "kill: %s", ERRMSG (err));
  CHECK (harness_reap (kid) == SIGKILL, "forker killed");
  while (waitpid (-1, NULL, WNOHANG) > 0) /* grandchildren reparented to us (subreaper) */
    ;
  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

/* A failed create left nothing of <top>-fail in any hierarchy. */
static void
check_fail_tree_gone (void)
{
  char d[4096];
  for (size_t i = 0; i <= host->n_v1; i++)
    {
      snprintf (d, sizeof d, "%s%s-fail", i < host->n_v1 ? host->v1[i].mount : host->v2_mount, top);
      CHECK (!exists (d), "%s left behind", d);
    }
}

static void
test_failures (void)
{
  struct mr_resources r = { 0 };
  struct mr_hugepage_limit hp = { (char *)"3MB", 1 };
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;
  char path[128], d[4096];
  long long t0;
  pid_t kid;

  /* an invalid cpuset fails after the directories were made: all removed */
  r.cpu.cpus = (char *)"999";
  r.memory.limit = (struct mr_opt_i64){ true, 64 << 20 };
  snprintf (path, sizeof path, "%s-fail/a/b", top);
  CHECK (mr_cgroup_create (path, &r, &cg, &err) < 0 && strstr (ERRMSG (err), "linux.resources.cpu.cpus")
             && strstr (ERRMSG (err), "999"),
         "invalid cpus: %s", ERRMSG (err));
  printf ("  (expected error) %s\n", ERRMSG (err));
  mr_error_free (&err);
  check_fail_tree_gone ();

  /* an unknown huge page size */
  memset (&r, 0, sizeof r);
  r.hugepage_limits = &hp;
  r.n_hugepage_limits = 1;
  tc_expect_create_error (path, &r, "hugepageLimits[0].pageSize", "bad page size", false);

  /* swap above what the kernel allows: limit > memsw */
  memset (&r, 0, sizeof r);
  r.memory.limit = (struct mr_opt_i64){ true, 128 << 20 };
  r.memory.swap = (struct mr_opt_i64){ true, 64 << 20 };
  tc_expect_create_error (path, &r, "linux.resources.memory", "swap < limit", false);

  /* net_cls is compiled in (/proc/cgroups) but not mounted here: named error, nothing created */
  memset (&r, 0, sizeof r);
  r.network.class_id = (struct mr_opt_u64){ true, 0x100001 };
  if (strcmp (v1_dir ("net_cls", ""), "/nonexistent") == 0)
    tc_expect_create_error (path, &r, "linux.resources.network.classID: net_cls controller not available",
                            "unmounted controller", true);

  /* blkio.leaf_weight exists only with CFQ (gone since Linux 5.0): a named error */
  memset (&r, 0, sizeof r);
  r.block_io.leaf_weight = (struct mr_opt_u64){ true, 500 };
  CHECK (mr_cgroup_create (path, &r, &cg, &err) < 0
             && strstr (ERRMSG (err), "linux.resources.blockIO.leafWeight")
             && strstr (ERRMSG (err), "not available"),
         "missing file: %s", ERRMSG (err));
  printf ("  (expected error) %s\n", ERRMSG (err));
  mr_error_free (&err);
  check_fail_tree_gone ();

  /* bad paths */
  tc_expect_create_error ("/a/../b", NULL, "..", "dotdot", false);
  CHECK (mr_cgroup_create ("//", NULL, &cg, &err) < 0, "root path refused");
  mr_error_free (&err);
  CHECK (mr_cgroup_open ("/minirun-test-does-not-exist/x", &cg, &err) < 0 && err && err->errno_ == ENOENT,
         "open missing: %s", ERRMSG (err));
  mr_error_free (&err);

  /* destroy while a process stays: bounded retry, then a clear error */
  snprintf (path, sizeof path, "%s-busy/x", top);
  CHECK (mr_cgroup_create (path, NULL, &cg, &err) == 0, "%s", ERRMSG (err));
  if (cg == NULL)
    return;
  kid = spawn (cg, false, 0, NULL);
  t0 = mr_now_ms ();
  CHECK (mr_cgroup_destroy (cg, &err) < 0 && strstr (ERRMSG (err), "still has processes"), "busy destroy: %s",
         ERRMSG (err));
  CHECK (mr_now_ms () - t0 >= 900 && mr_now_ms () - t0 < 3000, "bounded wait: %lld ms", mr_now_ms () - t0);
  mr_error_free (&err);
  kill (kid, SIGKILL);
  harness_reap (kid);
  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy after exit: %s", ERRMSG (err));
  snprintf (d, sizeof d, "%s%s-busy", v1_dir ("memory", ""), top);
  CHECK (!exists (d), "%s removed", d);
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

static void
test_relative (void)
{
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;
  char path[128], d[4096];
  snprintf (path, sizeof path, "%s-rel/x", top + 1);
  CHECK (mr_cgroup_create (path, NULL, &cg, &err) == 0, "%s", ERRMSG (err));
  if (cg == NULL)
    return;
  for (size_t i = 0; i < host->n_v1; i++)
    {
      snprintf (d, sizeof d, "%s%s/%s", host->v1[i].mount, host->v1[i].own, path);
      CHECK (exists (d), "relative below own cgroup: %s", d);
    }
  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  for (size_t i = 0; i < host->n_v1; i++)
    {
      snprintf (d, sizeof d, "%s%s%s-rel", host->v1[i].mount, host->v1[i].own, top);
      CHECK (!exists (d), "%s removed", d);
      snprintf (d, sizeof d, "%s%s", host->v1[i].mount, host->v1[i].own);
      CHECK (exists (d), "own cgroup %s kept", d);
    }
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

/* Write value to dir/file (created if missing, as in a plain directory). */
static bool
write_file (const char *dir, const char *file, const char *value)
{
  char p[4096];
  FILE *f;
  snprintf (p, sizeof p, "%s/%s", dir, file);
  f = fopen (p, "we");
  if (f == NULL)
    return false;
  fputs (value, f);
  return fclose (f) == 0;
}

/* Run f(arg) with stderr in a file; the warnings it printed (caller frees). */
static char *
stderr_of (int (*f) (const char *, const struct mr_resources *, mr_error_t *), const char *dir,
           const struct mr_resources *r, int *ret, mr_error_t *err)
{
  char tmpl[] = "/tmp/minirun-test-stderr-XXXXXX", *text;
  int fd = mkstemp (tmpl), saved = dup (2);
  fflush (stderr);
  dup2 (fd, 2);
  *ret = f (dir, r, err);
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  close (fd);
  text = xstrdup (harness_slurp (tmpl) ?: "");
  unlink (tmpl);
  return text;
}

/* Only what minirun made goes: an admin's parent (with a limit) and an
 * admin's leaf stay, the parents minirun made go with the last container
 * out, and a failed create under an admin's parent removes only its own. */
static void
test_ownership (void)
{
  struct mr_cgroup *a = NULL, *b = NULL, *cg = NULL;
  struct mr_resources r = { 0 };
  mr_error_t err = NULL;
  char own[128], path[256], mem[2048], d[4096], inner[4096];

  snprintf (own, sizeof own, "%s-own", top);
  snprintf (mem, sizeof mem, "%s", v1_dir ("memory", own));
  CHECK (mkdir (mem, 0755) == 0, "mkdir admin parent %s: %s", mem, strerror (errno));
  CHECK (write_file (mem, "memory.limit_in_bytes", "67108864"), "admin limit");
  snprintf (d, sizeof d, "%s%s", host->v2_mount, own);
  CHECK (host->v2_mount == NULL || mkdir (d, 0755) == 0, "mkdir admin v2 parent %s", d);
  CHECK (mr_cg_mark_get (mem) == MR_CG_MARK_NONE, "an admin's directory carries no mark");

  /* two containers below the admin's parent, in a middle level minirun makes */
  snprintf (path, sizeof path, "%s/mid/a", own);
  CHECK (mr_cgroup_create (path, NULL, &a, &err) == 0, "create a: %s", ERRMSG (err));
  snprintf (path, sizeof path, "%s/mid/b", own);
  CHECK (mr_cgroup_create (path, NULL, &b, &err) == 0, "create b: %s", ERRMSG (err));
  if (a == NULL || b == NULL)
    return;
  snprintf (d, sizeof d, "%s/mid", mem);
  CHECK (mr_cg_mark_get (d) == MR_CG_MARK_CREATED, "%s marked created", d);
  CHECK (mr_cg_mark_get (mem) == MR_CG_MARK_NONE, "the admin's parent is not marked");
  CHECK (mr_cgroup_destroy (a, &err) == 0, "destroy a: %s", ERRMSG (err));
  CHECK (exists (d), "shared %s stays while b uses it", d);
  CHECK (mr_cgroup_destroy (b, &err) == 0, "destroy b: %s", ERRMSG (err));
  CHECK (!exists (d), "%s (made by minirun) removed by the last container", d);
  for (size_t i = 0; i <= host->n_v1; i++)
    {
      const char *m = i < host->n_v1 ? host->v1[i].mount : host->v2_mount;
      snprintf (d, sizeof d, "%s%s", m, own);
      if (strcmp (d, mem) == 0 || (i == host->n_v1 && m))
        CHECK (exists (d), "the admin's %s kept", d);
      else if (m)
        CHECK (!exists (d), "%s (made by minirun) removed", d);
    }
  CHECK (file_is (mem, "memory.limit_in_bytes", "67108864"), "the admin's limit intact");
  mr_cgroup_free (a);
  mr_cgroup_free (b);

  /* an admin's leaf: reused, marked foreign, kept with its limit; what the
   * container made inside it goes */
  snprintf (d, sizeof d, "%s/leaf", mem);
  CHECK (mkdir (d, 0755) == 0 && write_file (d, "memory.limit_in_bytes", "33554432"), "admin leaf");
  snprintf (path, sizeof path, "%s/leaf", own);
  CHECK (mr_cgroup_create (path, NULL, &cg, &err) == 0, "create in admin leaf: %s", ERRMSG (err));
  CHECK (mr_cg_mark_get (d) == MR_CG_MARK_FOREIGN, "admin leaf marked foreign");
  snprintf (inner, sizeof inner, "%s/leaf/inner", mem);
  CHECK (mkdir (inner, 0755) == 0, "mkdir %s", inner);
  CHECK (cg && mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  CHECK (exists (d) && file_is (d, "memory.limit_in_bytes", "33554432"), "admin leaf kept with its limit");
  CHECK (mr_cg_mark_get (d) == MR_CG_MARK_NONE, "admin leaf left without minirun's mark");
  CHECK (!exists (inner), "the container's sub-cgroup %s removed", inner);
  mr_cgroup_free (cg);
  cg = NULL;

  /* a failed create below the admin's parent: only its own directories go,
   * and the foreign mark it set on the admin's leaf too */
  CHECK (rmdir (d) == 0, "rmdir %s", d);
  CHECK (mkdir (d, 0755) == 0, "mkdir %s", d);
  r.cpu.cpus = (char *)"999";
  snprintf (path, sizeof path, "%s/leaf", own);
  CHECK (mr_cgroup_create (path, &r, &cg, &err) < 0 && strstr (ERRMSG (err), "999"), "bad cpus: %s",
         ERRMSG (err));
  mr_error_free (&err);
  CHECK (exists (d) && mr_cg_mark_get (d) == MR_CG_MARK_NONE, "admin leaf kept, unmarked after the rollback");
  CHECK (exists (mem) && file_is (mem, "memory.limit_in_bytes", "67108864"), "admin parent intact");
  snprintf (d, sizeof d, "%s%s", v1_dir ("cpuset", ""), own);
  CHECK (!exists (d), "%s (made by the failed create) removed", d);
  mr_error_free (&err);
}

/* kernelTCP: written where memory.kmem.tcp.limit_in_bytes exists, a warning
 * naming the field and the missing file where it does not. */
static void
test_kernel_tcp (void)
{
  struct mr_resources r = { 0 };
  mr_error_t err = NULL;
  char dir[] = "/tmp/minirun-test-kmem-XXXXXX", *out;
  int ret;

  r.memory.kernel_tcp = (struct mr_opt_i64){ true, 8 << 20 };
  CHECK (mkdtemp (dir) != NULL, "mkdtemp");
  out = stderr_of (mr_cg_v1_kernel_tcp, dir, &r, &ret, &err);
  CHECK (ret == 0 && strstr (out, "linux.resources.memory.kernelTCP ignored")
             && strstr (out, "memory.kmem.tcp.limit_in_bytes` missing"),
         "missing file: a warning: %s", out);
  free (out);
  CHECK (write_file (dir, "memory.kmem.tcp.limit_in_bytes", ""), "make the file");
  out = stderr_of (mr_cg_v1_kernel_tcp, dir, &r, &ret, &err);
  CHECK (ret == 0 && *out == '\0', "written without a warning: %s", out);
  CHECK (file_is (dir, "memory.kmem.tcp.limit_in_bytes", "8388608"), "value written");
  free (out);
  {
    char p[4096];
    snprintf (p, sizeof p, "%s/memory.kmem.tcp.limit_in_bytes", dir);
    CHECK (unlink (p) == 0 && rmdir (dir) == 0, "remove %s", dir);
  }
  mr_error_free (&err);
}

/* runtime/period of a cpu cgroup in the kernel's fixed point (2^-20 of a cpu) */
static unsigned long long
rt_share (const char *dir)
{
  char p[4096];
  unsigned long long runtime, period;
  snprintf (p, sizeof p, "%s/cpu.rt_runtime_us", dir);
  runtime = strtoull (harness_slurp (p) ?: "0", NULL, 10);
  snprintf (p, sizeof p, "%s/cpu.rt_period_us", dir);
  period = strtoull (harness_slurp (p) ?: "1", NULL, 10);
  return (runtime << 20) / (period ? period : 1);
}

/* G9: realtime runtime below parents minirun made, which get what their
 * children need (the root of the hierarchy is never touched). */
static void
test_realtime (void)
{
  struct mr_cgroup *x = NULL, *y = NULL;
  struct mr_resources r = { 0 };
  mr_error_t err = NULL;
  char cpu[256], up[384], mid[448], leaf[512], path[576];

  snprintf (cpu, sizeof cpu, "%s", v1_dir ("cpu", ""));
  snprintf (leaf, sizeof leaf, "%s/cpu.rt_runtime_us", cpu);
  if (!exists (leaf))
    {
      printf ("SKIP realtime: no cpu.rt_runtime_us in %s (no RT group scheduling)\n", cpu);
      return;
    }
  snprintf (up, sizeof up, "%s%s-rt", cpu, top);
  snprintf (mid, sizeof mid, "%s/mid", up);
  r.cpu.realtime_runtime = (struct mr_opt_i64){ true, 10000 };
  r.cpu.realtime_period = (struct mr_opt_u64){ true, 1000000 };
  snprintf (path, sizeof path, "%s-rt/mid/x", top);
  CHECK (mr_cgroup_create (path, &r, &x, &err) == 0, "create x: %s", ERRMSG (err));
  mr_error_free (&err);
  snprintf (leaf, sizeof leaf, "%s/x", mid);
  CHECK (file_is (leaf, "cpu.rt_runtime_us", "10000"), "x has its runtime");
  CHECK (rt_share (mid) >= rt_share (leaf) && rt_share (up) >= rt_share (mid), "the parents hold x: %llu %llu %llu",
         rt_share (up), rt_share (mid), rt_share (leaf));
  r.cpu.realtime_runtime = (struct mr_opt_i64){ true, 30000 };
  r.cpu.realtime_period = (struct mr_opt_u64){ true, 100000 };
  snprintf (path, sizeof path, "%s-rt/mid/y", top);
  CHECK (mr_cgroup_create (path, &r, &y, &err) == 0, "create y: %s", ERRMSG (err));
  mr_error_free (&err);
  snprintf (path, sizeof path, "%s/y", mid);
  CHECK (file_is (path, "cpu.rt_period_us", "100000") && file_is (path, "cpu.rt_runtime_us", "30000"), "y too");
  CHECK (rt_share (mid) >= rt_share (leaf) + rt_share (path), "mid holds both: %llu >= %llu + %llu", rt_share (mid),
         rt_share (leaf), rt_share (path));
  CHECK (rt_share (up) >= rt_share (mid), "the top holds mid");
  if (x)
    CHECK (mr_cgroup_destroy (x, &err) == 0, "destroy x: %s", ERRMSG (err));
  mr_error_free (&err);
  if (y)
    CHECK (mr_cgroup_destroy (y, &err) == 0, "destroy y: %s", ERRMSG (err));
  mr_error_free (&err);
  CHECK (!exists (up), "the parents minirun made went with the last container");
  mr_cgroup_free (x);
  mr_cgroup_free (y);
}

int
main (void)
{
  mr_error_t err = NULL;
  if (!tc_begin (geteuid () == 0, "needs root", top, sizeof top))
    {
      harness_summary ();
      return 77; /* skipped, reason printed */
    }
  if (mr_cg_host_get (&host, &err) < 0)
    {
      harness_fail ("FAIL: %s\n", err->msg);
      mr_error_free (&err);
      return harness_summary ();
    }
  if (host->layout == MR_CGROUP_UNIFIED)
    {
      printf ("SKIP: this test is for the hybrid machine\n");
      return harness_summary ();
    }
  snprintf (unified_sub, sizeof unified_sub, " %s ",
            host->v2_mount ? harness_slurp ("/sys/fs/cgroup/unified/cgroup.subtree_control") ?: "" : "");
  for (char *s = unified_sub; *s; s++)
    if (*s == '\n')
      *s = ' ';
  counter = mmap (NULL, sizeof *counter, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  harness_timeout (120, cleanup_all);

  test_detect ();
  test_lifecycle ();
  test_pids_limit ();
  test_failures ();
  test_relative ();
  test_ownership ();
  test_kernel_tcp ();
  test_realtime ();

  cleanup_all ();
  mr_cg_host_reset ();
  return harness_summary ();
}
