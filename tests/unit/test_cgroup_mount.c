/* test_cgroup_mount.c: mr_cgroup_mount for real, each case in a child with
 * its own mount namespace (nothing leaks to the host): the hybrid layout (a
 * read-only tmpfs with one mount per v1 hierarchy plus "unified"), bind
 * mounted without and inside a cgroup namespace (where the binds must look
 * like fresh mounts: rooted at the container, "/" in mountinfo), and the
 * pure v2 layout (via mr_cg_host_set_root ("/sys/fs/cgroup/unified")), both ways.
 * The cgroups live below /minirun-test-<pid>* and are removed at exit. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/util.h"
#include "harness.h"
#include "test_cgroup_util.h"

static char top[64], dest[64];

static const char *
at (const char *rel)
{
  static char p[256];
  snprintf (p, sizeof p, "%s/%s", dest, rel);
  return p;
}

static long
fs_type (const char *p)
{
  struct statfs st;
  return statfs (p, &st) < 0 ? -1 : (long)st.f_type;
}

static bool
lists_pid (const char *procs_file, pid_t pid)
{
  char want[32];
  const char *s = harness_slurp (procs_file);
  snprintf (want, sizeof want, "%d", (int)pid);
  for (const char *p = s; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : "")
    if (strncmp (p, want, strlen (want)) == 0 && (p[strlen (want)] == '\n' || p[strlen (want)] == '\0'))
      return true;
  return false;
}

/* The root field (4th) of the mountinfo line whose mount point is `where`,
 * or "" when there is none. */
static const char *
mountinfo_root (const char *where)
{
  static char root[256];
  char line[1024], mnt[256];
  FILE *f = fopen ("/proc/self/mountinfo", "re");

  root[0] = '\0';
  if (f == NULL)
    return root;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "%*d %*d %*s %255s %255s", root, mnt) == 2 && strcmp (mnt, where) == 0)
      {
        fclose (f);
        return root;
      }
  fclose (f);
  root[0] = '\0';
  return root;
}

/* Run fn in a child with its own counters and add them here. */
static void
in_child (void (*fn) (const struct mr_cgroup *), const struct mr_cgroup *cg)
{
  int p[2], r[2] = { 0, 1 }, st;
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return;
  pid = fork ();
  if (pid == 0)
    {
      harness_counts->passed = harness_counts->failed = 0;
      fn (cg);
      r[0] = harness_counts->passed;
      r[1] = harness_counts->failed;
      if (write (p[1], r, sizeof r) != sizeof r)
        _exit (1);
      _exit (0);
    }
  close (p[1]);
  if (pid < 0 || read (p[0], r, sizeof r) != sizeof r)
    r[1] = 1, printf ("FAIL: a test child died\n");
  close (p[0]);
  if (pid > 0)
    waitpid (pid, &st, 0);
  harness_counts->passed += r[0];
  harness_counts->failed += r[1];
}

static int
private_ns (int extra)
{
  if (unshare (CLONE_NEWNS | extra) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      harness_fail ("FAIL: unshare/make private: %s\n", strerror (errno));
      return -1;
    }
  return 0;
}

static int
do_mount (const struct mr_cgroup *cg)
{
  mr_error_t err = NULL;
  int fd = open (dest, O_PATH | O_DIRECTORY | O_CLOEXEC), r;
  r = mr_cgroup_mount (cg, fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, &err);
  if (r < 0 && err->errno_ == ENOSYS)
    printf ("SKIP: the mount API (fsopen/open_tree/move_mount) is ENOSYS here (valgrind 3.19?): %s\n",
            err->msg);
  else
    CHECK (r == 0, "mount: %s", ERRMSG (err));
  mr_error_free (&err);
  close (fd);
  return r;
}

/* Join cg, then mount it in a new mount and cgroup namespace. */
static int
join_and_mount_ns (const struct mr_cgroup *cg)
{
  mr_error_t err = NULL;
  CHECK (mr_cgroup_enter_pid (cg, getpid (), &err) == 0, "join: %s", ERRMSG (err));
  mr_error_free (&err);
  if (private_ns (CLONE_NEWCGROUP) < 0 || do_mount (cg) < 0)
    return -1;
  return 0;
}

static void
hybrid_bind (const struct mr_cgroup *cg)
{
  if (private_ns (0) < 0 || do_mount (cg) < 0)
    return;
  CHECK (fs_type (dest) == TMPFS_MAGIC, "tmpfs at the top");
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      const char *name = strrchr (cg->v1[i].h->mount, '/') + 1;
      CHECK (fs_type (at (name)) == CGROUP_SUPER_MAGIC, "%s is a cgroup mount", at (name));
    }
  CHECK (strcmp (harness_slurp (at ("memory/memory.limit_in_bytes")) ?: "", "67108864") == 0,
         "the container's memory dir is bound: %s", harness_slurp (at ("memory/memory.limit_in_bytes")));
  CHECK (strcmp (harness_slurp (at ("pids/pids.max")) ?: "", "7") == 0, "pids dir");
  CHECK (access (at ("systemd/cgroup.procs"), F_OK) == 0, "name=systemd");
  CHECK (fs_type (at ("unified")) == CGROUP2_SUPER_MAGIC, "unified is cgroup2");
  CHECK (access (at ("unified/cgroup.type"), F_OK) == 0, "unified is the container's (non-root) dir");
  CHECK (mkdir (at ("x"), 0755) < 0 && errno == EROFS, "tmpfs read-only: %s", strerror (errno));
  CHECK (mkdir (at ("memory/x"), 0755) < 0 && errno == EROFS, "cgroup mount read-only: %s", strerror (errno));
}

static void
hybrid_ns (const struct mr_cgroup *cg)
{
  if (join_and_mount_ns (cg) < 0)
    return;
  CHECK (strstr (harness_slurp ("/proc/self/cgroup") ?: "", "minirun-test") == NULL,
         "cgroupns hides the path: %s", harness_slurp ("/proc/self/cgroup"));
  CHECK (strcmp (harness_slurp (at ("memory/memory.limit_in_bytes")) ?: "", "67108864") == 0,
         "fresh memory mount is rooted at the container: %s",
         harness_slurp (at ("memory/memory.limit_in_bytes")));
  CHECK (lists_pid (at ("memory/cgroup.procs"), getpid ()), "we are at its root");
  CHECK (lists_pid (at ("unified/cgroup.procs"), getpid ()), "unified rooted at the container");
  CHECK (lists_pid (at ("systemd/cgroup.procs"), getpid ()), "named hierarchy mounted");
  CHECK (mkdir (at ("memory/x"), 0755) < 0 && errno == EROFS, "read-only: %s", strerror (errno));
  CHECK (strcmp (mountinfo_root (at ("memory")), "/") == 0, "memory shows root \"/\" in mountinfo: %s",
         mountinfo_root (at ("memory")));
  CHECK (strcmp (mountinfo_root (at ("unified")), "/") == 0, "unified shows root \"/\" in mountinfo: %s",
         mountinfo_root (at ("unified")));
}

static void
v2_bind (const struct mr_cgroup *cg)
{
  if (private_ns (0) < 0 || do_mount (cg) < 0)
    return;
  CHECK (fs_type (dest) == CGROUP2_SUPER_MAGIC, "cgroup2 at the top");
  CHECK (strcmp (harness_slurp (at ("hugetlb.2MB.max")) ?: "", "2097152") == 0,
         "the container's dir is bound");
  CHECK (mkdir (at ("x"), 0755) < 0 && errno == EROFS, "read-only: %s", strerror (errno));
}

static void
v2_ns (const struct mr_cgroup *cg)
{
  if (join_and_mount_ns (cg) < 0)
    return;
  CHECK (fs_type (dest) == CGROUP2_SUPER_MAGIC, "cgroup2 at the top");
  CHECK (lists_pid (at ("cgroup.procs"), getpid ()), "rooted at the container");
  CHECK (strcmp (harness_slurp (at ("hugetlb.2MB.max")) ?: "", "2097152") == 0, "with its limit");
}

/* Create a cgroup at path with r, then in a child each: bind(cg), ns(cg);
 * then destroy it. */
static void
create_and_mount (const char *path, const struct mr_resources *r, void (*bind) (const struct mr_cgroup *),
                  void (*ns) (const struct mr_cgroup *))
{
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;
  CHECK (mr_cgroup_create (path, r, &cg, &err) == 0, "create: %s", ERRMSG (err));
  if (cg)
    {
      in_child (bind, cg);
      in_child (ns, cg);
      CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", ERRMSG (err));
      mr_cgroup_free (cg);
    }
  mr_error_free (&err);
}

/* In a child: switch to the pure v2 view of the unified mount and test there. */
static void
v2_cases (const struct mr_cgroup *unused)
{
  struct mr_resources r = { 0 };
  struct mr_hugepage_limit hp = { (char *)"2MB", 2 << 20 };
  char path[128];
  mr_cg_host_set_root ("/sys/fs/cgroup/unified");
  mr_cg_host_reset ();
  r.hugepage_limits = &hp;
  r.n_hugepage_limits = 1;
  snprintf (path, sizeof path, "%s-v2/x", top);
  create_and_mount (path, &r, v2_bind, v2_ns);
  mr_cg_host_reset ();
}

int
main (void)
{
  struct mr_resources r = { 0 };
  mr_error_t err = NULL;
  enum mr_cgroup_layout l;
  char path[128], cmd[512];

  if (!tc_begin (geteuid () == 0, "needs root", top, sizeof top))
    {
      harness_summary ();
      return 77; /* skipped, reason printed */
    }
  snprintf (dest, sizeof dest, "/tmp/minirun-cgmount-XXXXXX");
  if (mkdtemp (dest) == NULL || mr_cgroup_layout (&l, &err) < 0)
    {
      harness_fail ("FAIL: setup: %s\n", err ? err->msg : strerror (errno));
      return harness_summary ();
    }
  alarm (60);
  if (l == MR_CGROUP_HYBRID)
    {
      r.memory.limit = (struct mr_opt_i64){ true, 64 << 20 };
      r.pids.limit = (struct mr_opt_i64){ true, 7 };
      snprintf (path, sizeof path, "%s/x", top);
      create_and_mount (path, &r, hybrid_bind, hybrid_ns);
      in_child (v2_cases, NULL);
    }
  else
    printf ("SKIP hybrid cases: layout is %s\n", mr_cgroup_layout_name (l));

  /* belt and braces: nothing of ours may stay */
  snprintf (cmd, sizeof cmd,
            "find /sys/fs/cgroup/*%s /sys/fs/cgroup/*%s-v2 /sys/fs/cgroup/unified%s-v2 -depth -type d "
            "-exec rmdir {} + 2>/dev/null",
            top, top, top);
  if (system (cmd) < 0)
    printf ("cleanup failed\n");
  rmdir (dest);
  mr_cg_host_reset ();
  return harness_summary ();
}
