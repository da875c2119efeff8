/* test_cgroup_v2.c: the cgroup v2 driver for real.  This machine is hybrid,
 * but its cgroup2 mount at /sys/fs/cgroup/unified is a complete v2 tree (with
 * only hugetlb), so mr_cg_host_set_root ("/sys/fs/cgroup/unified") makes minirun
 * treat it as a pure v2 host: subtree_control, hugetlb.<size>.max, unified
 * keys, the eBPF device filter (it binds: /dev/zero is writable or not),
 * clone3(CLONE_INTO_CGROUP), cgroup.freeze, cgroup.kill, v2 stats and the
 * "controller not available in cgroup v2" errors for everything else.
 * Creates /minirun-test-<pid>* there and removes it at exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/util.h"
#include "cgroup/v2/v2.h"
#include "harness.h"
#include "test_cgroup_util.h"

#define V2 "/sys/fs/cgroup/unified"

static char top[64];
static bool had_hugetlb;
static volatile long *counter;

static void
put (const char *path, const char *v)
{
  FILE *f = fopen (path, "we");
  if (f)
    fclose ((fputs (v, f), f));
}

static void
cleanup_all (void)
{
  char p[512];
  snprintf (p, sizeof p, V2 "%s/x/cgroup.kill", top);
  put (p, "1");
  usleep (20000);
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  snprintf (p, sizeof p, "find " V2 "%s " V2 "%s-none -depth -type d -exec rmdir {} + 2>/dev/null", top, top);
  if (system (p) < 0)
    printf ("cleanup: system failed\n");
  if (!had_hugetlb)
    put (V2 "/cgroup.subtree_control", "-hugetlb");
}

/* A child created in the cgroup by clone3(CLONE_INTO_CGROUP).  what: 0 sleep,
 * 1 spin, 2 report errno of opening /dev/null rw, /dev/zero r, /dev/zero w,
 * /dev/full r. */
static pid_t
spawn (const struct mr_cgroup *cg, int what, int res[4])
{
  int p[2];
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  pid = tc_clone_into (cg);
  if (pid == 0)
    {
      static const struct
      {
        const char *path;
        int flags;
      } probe[4] = { { "/dev/null", O_RDWR },
                     { "/dev/zero", O_RDONLY },
                     { "/dev/zero", O_WRONLY },
                     { "/dev/full", O_RDONLY } };
      int r[4] = { 0 };
      mr_error_t err = NULL;
      if (mr_cgroup_child_join (cg, &err) < 0) /* no v1 here: a no-op */
        _exit (99);
      for (int i = 0; what == 2 && i < 4; i++)
        {
          int fd = open (probe[i].path, probe[i].flags | O_CLOEXEC);
          r[i] = fd >= 0 ? 0 : errno;
        }
      if (write (p[1], r, sizeof r) != sizeof r)
        _exit (98);
      if (what == 2)
        _exit (0);
      tc_child_idle (what == 1, counter);
    }
  close (p[1]);
  if (pid > 0)
    {
      int r[4] = { -1, -1, -1, -1 };
      if (read (p[0], r, sizeof r) != sizeof r)
        printf ("  child %d did not report\n", (int)pid);
      else if (res)
        memcpy (res, r, sizeof r);
    }
  close (p[0]);
  return pid;
}

static int
attached_filters (const char *dir)
{
  union bpf_attr a;
  uint32_t ids[16];
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;
  memset (&a, 0, sizeof a);
  a.query.target_fd = (uint32_t)fd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = 16;
  r = (int)syscall (SYS_bpf, BPF_PROG_QUERY, &a, sizeof a);
  close (fd);
  return r < 0 ? -1 : (int)a.query.prog_cnt;
}

static void
test_unavailable (void)
{
  struct mr_resources r = { 0 };
  struct mr_kv kv = { (char *)"memory.high", (char *)"1000000" };
  char path[128], d[256];

  snprintf (path, sizeof path, "%s-none/x", top);
  snprintf (d, sizeof d, V2 "%s-none", top);
  r.memory.limit = (struct mr_opt_i64){ true, 64 << 20 };
  tc_expect_create_error (path, &r,
                          "linux.resources.memory.limit: memory controller not available in cgroup v2 at " V2,
                          "memory", true);
  memset (&r, 0, sizeof r);
  r.pids.limit = (struct mr_opt_i64){ true, 5 };
  tc_expect_create_error (path, &r, "linux.resources.pids.limit: pids", "pids", false);
  memset (&r, 0, sizeof r);
  r.network.class_id = (struct mr_opt_u64){ true, 7 };
  tc_expect_create_error (path, &r, "net_cls controller does not exist", "net_cls", false);
  memset (&r, 0, sizeof r);
  r.unified = &kv;
  r.n_unified = 1;
  tc_expect_create_error (path, &r, "memory controller not available in cgroup v2", "unified memory.high",
                          false);
  CHECK (access (d, F_OK) < 0, "nothing created at %s", d);
}

static void
test_v2 (void)
{
  struct mr_resources r = { 0 };
  struct mr_hugepage_limit hp = { (char *)"2MB", 4 << 20 };
  struct mr_device_rule dev[3]
      = { { false, 'a', -1, -1, "rwm" }, { true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "r" } };
  struct mr_device_rule dev2[4];
  /* a unified key in a file no other resource writes, for a page size this
   * host has (1GB pages are not on every machine) */
  char sizes[4][16], key[64];
  size_t n_sizes = mr_cg_hugepage_sizes (sizes, 4);
  struct mr_kv kv = { key, (char *)"0" };
  struct mr_cgroup *cg = NULL;
  struct mr_cgroup_stats st;
  mr_error_t err = NULL;
  char path[128], d[256], f[320], line[160];
  int res[4] = { -1, -1, -1, -1 };
  pid_t sleeper, spinner, probe;
  pid_t *pids = NULL;
  size_t n = 0;
  bool frozen = false;

  snprintf (key, sizeof key, "hugetlb.%s.rsvd.max", n_sizes ? sizes[n_sizes - 1] : "2MB");
  r.hugepage_limits = &hp;
  r.n_hugepage_limits = 1;
  r.devices = dev;
  r.n_devices = 3;
  r.unified = &kv;
  r.n_unified = 1;
  r.memory.kernel = (struct mr_opt_i64){ true, 1 << 20 }; /* warned about, not an error */
  snprintf (path, sizeof path, "%s/x", top);
  snprintf (d, sizeof d, V2 "%s", path);
  CHECK (mr_cgroup_create (path, &r, &cg, &err) == 0, "create: %s", ERRMSG (err));
  if (cg == NULL)
    return;
  CHECK (cg->n_v1 == 0 && strcmp (cg->v2_dir, d) == 0, "only a v2 dir: %s", cg->v2_dir);
  snprintf (f, sizeof f, "%s/hugetlb.2MB.max", d);
  CHECK (harness_file_is (f, "4194304"), "hugetlb limit");
  snprintf (f, sizeof f, "%s/%s", d, key);
  CHECK (harness_file_is (f, "0"), "unified key %s written verbatim", key);
  snprintf (f, sizeof f, V2 "%s/cgroup.subtree_control", top);
  CHECK (harness_file_is (f, "hugetlb"), "parent enables hugetlb");
  CHECK (strstr (harness_slurp (V2 "/cgroup.subtree_control") ?: "", "hugetlb") != NULL,
         "root enables hugetlb");
  CHECK (attached_filters (d) == 1, "one device filter attached: %d", attached_filters (d));

  /* the filter binds */
  probe = spawn (cg, 2, res);
  CHECK (res[0] == 0, "/dev/null rw allowed: %s", strerror (res[0]));
  CHECK (res[1] == 0, "/dev/zero r allowed: %s", strerror (res[1]));
  CHECK (res[2] == EPERM, "/dev/zero w denied: %s", strerror (res[2]));
  CHECK (res[3] == EPERM, "/dev/full denied: %s", strerror (res[3]));
  CHECK (harness_reap (probe) == 1000, "probe exited");

  /* update replaces the filter: later rules win per access bit */
  memcpy (dev2, dev, sizeof dev);
  dev2[3] = (struct mr_device_rule){ true, 'c', 1, 7, "r" };
  dev2[2] = (struct mr_device_rule){ false, 'c', 1, 5, "r" };
  memset (&r, 0, sizeof r);
  r.devices = dev2;
  r.n_devices = 4;
  CHECK (mr_cgroup_update (cg, &r, &err) == 0, "update devices: %s", ERRMSG (err));
  CHECK (attached_filters (d) == 1, "still one filter: %d", attached_filters (d));
  probe = spawn (cg, 2, res);
  CHECK (res[0] == 0 && res[1] == EPERM && res[3] == 0, "after update: null %s, zero %s, full %s",
         strerror (res[0]), strerror (res[1]), strerror (res[3]));
  harness_reap (probe);

  /* CLONE_INTO_CGROUP */
  sleeper = spawn (cg, 0, NULL);
  spinner = spawn (cg, 1, NULL);
  snprintf (f, sizeof f, "/proc/%d/cgroup", (int)sleeper);
  snprintf (line, sizeof line, "0::%s", path);
  CHECK (strstr (harness_slurp (f) ?: "", line) != NULL, "in %s: %s", line, harness_slurp (f));
  CHECK (mr_cgroup_pids (cg, &pids, &n, &err) == 0 && n == 2, "2 pids: %zu", n);
  free (pids);

  /* cgroup.freeze */
  CHECK (mr_cgroup_freeze (cg, true, &err) == 0, "freeze: %s", ERRMSG (err));
  CHECK (mr_cgroup_is_frozen (cg, &frozen, &err) == 0 && frozen, "frozen");
  {
    long c1 = *counter, c2;
    usleep (100000);
    c2 = *counter;
    CHECK (c1 == c2, "counter stands still: %ld -> %ld", c1, c2);
  }
  CHECK (mr_cgroup_freeze (cg, false, &err) == 0, "thaw: %s", ERRMSG (err));
  CHECK (mr_cgroup_is_frozen (cg, &frozen, &err) == 0 && !frozen, "thawed");
  {
    long c1 = *counter;
    usleep (50000);
    CHECK (*counter > c1, "counter runs again");
  }

  CHECK (mr_cgroup_stats (cg, &st, &err) == 0, "stats");
  CHECK (st.cpu.usage_total > 1000000 && st.cpu.usage_user > 0, "cpu.stat usage %llu user %llu",
         (unsigned long long)st.cpu.usage_total, (unsigned long long)st.cpu.usage_user);
  CHECK (st.n_hugetlb >= 1 && st.hugetlb[0].page_size[0], "hugetlb stats");

  /* cgroup.kill */
  CHECK (mr_cgroup_kill (cg, SIGKILL, &err) == 0, "kill: %s", ERRMSG (err));
  CHECK (harness_reap (sleeper) == SIGKILL && harness_reap (spinner) == SIGKILL, "both killed");
  CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
  CHECK (access (d, F_OK) < 0, "%s removed", d);
  snprintf (f, sizeof f, V2 "%s", top);
  CHECK (access (f, F_OK) < 0, "%s removed", f);
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

int
main (void)
{
  enum mr_cgroup_layout l;
  mr_error_t err = NULL;
  if (!tc_begin (geteuid () == 0 && access (V2 "/cgroup.controllers", F_OK) == 0,
                 "needs root and a cgroup2 mount at " V2, top, sizeof top))
    {
      harness_summary ();
      return 77; /* skipped, reason printed */
    }
  had_hugetlb = strstr (harness_slurp (V2 "/cgroup.subtree_control") ?: "", "hugetlb") != NULL;
  counter = mmap (NULL, sizeof *counter, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  harness_timeout (60, cleanup_all);
  mr_cg_host_set_root (V2);
  mr_cg_host_reset ();

  CHECK (mr_cgroup_layout (&l, &err) == 0 && l == MR_CGROUP_UNIFIED, "unified: %s", ERRMSG (err));
  mr_error_free (&err);
  {
    /* the layout picks the driver: a pure v2 host gets the v2 one */
    struct mr_cgroup *cg = NULL;
    CHECK (mr_cgroup_lookup ("/x", &cg, &err) == 0 && strcmp (mr_cgroup_driver_name (cg), "v2") == 0,
           "v2 driver: %s", cg ? mr_cgroup_driver_name (cg) : ERRMSG (err));
    CHECK (cg && cg->n_v1 == 0 && cg->v2_dir && strcmp (cg->v2_dir, V2 "/x") == 0, "only a v2 directory");
    mr_cgroup_free (cg);
    mr_error_free (&err);
  }
  test_unavailable ();
  test_v2 ();

  cleanup_all ();
  mr_cg_host_reset ();
  return harness_summary ();
}
