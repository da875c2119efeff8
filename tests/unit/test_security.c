/* test_security.c: runtime/security/security.h against the real kernel (run as root):
 * capabilities, user/groups, umask, no_new_privs, rlimits, oom_score_adj, LSM
 * checks (user-namespace maps: test_security_userns.c).  Each case prepares in this process, forks
 * a child that applies (as the container process would) and then either
 * checks from inside or stops itself so that this process reads
 * /proc/PID/{status,limits,oom_score_adj,uid_map}; every child is killed and
 * reaped.  Prints "N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "security/security.h"
#include "test_security_util.h"
#include "base/utils.h"

#define BIT(c) (UINT64_C (1) << (c))

/* ---------- helpers ---------- */

/* Fork a child that applies sec/p and runs inside (see ts_start).  stop: the
 * child raises SIGSTOP at the end (or `inside` execs something that stops);
 * then the stopped pid is returned for inspection (harness_kill_reap() it).
 * Otherwise the child's wait status goes to *status and its messages to msg;
 * returns 0. */
static pid_t
spawn (const struct mr_security *sec, const struct mr_process *p, ts_inside_fn inside, void *arg, bool stop,
       int *status, char *msg, size_t msglen)
{
  struct harness_child c;

  ts_start (&c, sec, p, inside, arg, stop);
  *status = harness_child_wait (&c, stop, msg, msglen);
  if (c.pid > 0)
    close (c.msg_fd);
  return c.pid;
}

static uint64_t
status_mask (pid_t pid, const char *name)
{
  char v[64];
  if (!harness_status_field (pid, name, v, sizeof v))
    return ~UINT64_C (0);
  return strtoull (v, NULL, 16);
}

static void
init_process (struct mr_process *p)
{
  memset (p, 0, sizeof *p);
  p->cwd = (char *)"/";
}

static bool
have_sys_resource (void)
{
  cap_t c = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;
  cap_get_flag (c, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
  cap_free (c);
  return v == CAP_SET;
}

/* The capability set `name` ("CapEff", ...) of pid is `want`. */
#define REQUIRE_MASK(pid, name, want)                                                                        \
  REQUIRE (status_mask (pid, name) == (want), name " %#llx", (unsigned long long)status_mask (pid, name))

/* ---------- capabilities ---------- */

static int
test_caps_exact (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  char msg[1024] = "";
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  p.has_capabilities = true;
  p.capabilities.bounding = BIT (CAP_CHOWN) | BIT (CAP_KILL) | BIT (CAP_NET_BIND_SERVICE);
  p.capabilities.permitted = p.capabilities.effective
      = BIT (CAP_CHOWN) | BIT (CAP_KILL) | BIT (CAP_NET_BIND_SERVICE);
  p.capabilities.inheritable = BIT (CAP_KILL);
  p.capabilities.ambient = BIT (CAP_KILL);
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  REQUIRE (pid > 0, "child did not stop: status %#x: %s", st, msg);
  REQUIRE_MASK (pid, "CapBnd", 0x421);
  REQUIRE_MASK (pid, "CapPrm", 0x421);
  REQUIRE_MASK (pid, "CapEff", 0x421);
  REQUIRE_MASK (pid, "CapInh", 0x20);
  REQUIRE_MASK (pid, "CapAmb", 0x20);
  REQUIRE (harness_status_field (pid, "NoNewPrivs", msg, sizeof msg) && strcmp (msg, "0") == 0,
           "NoNewPrivs %s", msg);
  REQUIRE (harness_status_field (pid, "Umask", msg, sizeof msg) && strcmp (msg, "0022") == 0,
           "default umask %s", msg);
out:
  harness_kill_reap (pid);
  mr_security_free (sec);
  return ret;
}

static int
exec_stop_shell (void *arg)
{
  char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"kill -STOP $$; exit 0", NULL };
  (void)arg;
  execv (argv[0], argv);
  harness_say ("exec /bin/sh: %s", strerror (errno));
  return -1;
}

/* Non-root uid with CAP_NET_BIND_SERVICE kept through setresuid and execve (ambient). */
static int
test_user_keeps_caps (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  gid_t groups[] = { 10, 20 };
  char msg[1024] = "", v[256];
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  p.user.uid = 1000;
  p.user.gid = 1000;
  p.user.additional_gids = groups;
  p.user.n_additional_gids = 2;
  p.user.has_umask = true;
  p.user.umask = 0077;
  p.has_capabilities = true;
  p.capabilities.bounding = p.capabilities.effective = p.capabilities.permitted = p.capabilities.inheritable
      = p.capabilities.ambient = BIT (CAP_NET_BIND_SERVICE);
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, exec_stop_shell, NULL, true, &st, msg, sizeof msg);
  REQUIRE (pid > 0, "child did not stop: status %#x: %s", st, msg);
  REQUIRE (harness_status_field (pid, "Name", v, sizeof v) && strcmp (v, "sh") == 0, "not exec'd: Name %s",
           v);
  REQUIRE (harness_status_field (pid, "Uid", v, sizeof v) && strcmp (v, "1000\t1000\t1000\t1000") == 0,
           "Uid %s", v);
  REQUIRE (harness_status_field (pid, "Gid", v, sizeof v) && strcmp (v, "1000\t1000\t1000\t1000") == 0,
           "Gid %s", v);
  REQUIRE (harness_status_field (pid, "Groups", v, sizeof v) && strncmp (v, "10 20", 5) == 0
               && strspn (v + 5, " ") == strlen (v + 5),
           "Groups `%s`", v);
  REQUIRE (harness_status_field (pid, "Umask", v, sizeof v) && strcmp (v, "0077") == 0, "Umask %s", v);
  REQUIRE_MASK (pid, "CapEff", 0x400);
  REQUIRE_MASK (pid, "CapPrm", 0x400);
  REQUIRE_MASK (pid, "CapAmb", 0x400);
  REQUIRE_MASK (pid, "CapBnd", 0x400);
out:
  harness_kill_reap (pid);
  mr_security_free (sec);
  return ret;
}

/* No process.capabilities: left as they are (runc); groups cleared. */
static int
test_caps_absent (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  char msg[1024] = "", v[256];
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  REQUIRE (pid > 0, "child did not stop: status %#x: %s", st, msg);
  REQUIRE (status_mask (pid, "CapBnd") == status_mask (getpid (), "CapBnd"), "CapBnd changed");
  REQUIRE (status_mask (pid, "CapEff") == status_mask (getpid (), "CapEff"), "CapEff changed");
  REQUIRE (harness_status_field (pid, "Groups", v, sizeof v) && strspn (v, " ") == strlen (v), "Groups `%s`",
           v);
out:
  harness_kill_reap (pid);
  mr_security_free (sec);
  return ret;
}

static int
test_nnp (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  char msg[1024] = "", v[64];
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  p.no_new_privileges = true;
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  REQUIRE (pid > 0, "child did not stop: status %#x: %s", st, msg);
  REQUIRE (harness_status_field (pid, "NoNewPrivs", v, sizeof v) && strcmp (v, "1") == 0, "NoNewPrivs %s", v);
out:
  harness_kill_reap (pid);
  mr_security_free (sec);
  return ret;
}

static int
test_caps_validation (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  char msg[1024] = "";
  int ret = 0;

  init_process (&p);
  p.has_capabilities = true;
  p.capabilities.bounding = p.capabilities.permitted = BIT (CAP_CHOWN);
  p.capabilities.effective = BIT (CAP_CHOWN) | BIT (CAP_KILL);
  REQUIRE (ts_expect_prepare_error (&p, NULL,
                                    "process.capabilities.effective: CAP_KILL is not in "
                                    "process.capabilities.permitted")
               == 0,
           "effective");
  p.capabilities.effective = BIT (CAP_CHOWN);
  p.capabilities.ambient = BIT (CAP_CHOWN);
  REQUIRE (ts_expect_prepare_error (&p, NULL, "process.capabilities.ambient: CAP_CHOWN must also be in") == 0,
           "ambient");
  p.capabilities.ambient = 0;
  p.capabilities.inheritable = BIT (CAP_SYS_ADMIN);
  REQUIRE (ts_expect_prepare_error (&p, NULL,
                                    "process.capabilities.inheritable: CAP_SYS_ADMIN is not in "
                                    "process.capabilities.bounding")
               == 0,
           "inheritable");
  /* A bit beyond this kernel's last capability is skipped, not an error. */
  p.capabilities.inheritable = 0;
  p.capabilities.bounding |= BIT (63);
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  REQUIRE (mr_cap_from_name ("CAP_SYS_ADMIN") == 21, "CAP_SYS_ADMIN -> %d",
           mr_cap_from_name ("CAP_SYS_ADMIN"));
  REQUIRE (mr_cap_from_name ("CAP_NET_BIND_SERVICE") == 10, "CAP_NET_BIND_SERVICE");
  REQUIRE (mr_cap_from_name ("CAP_CHECKPOINT_RESTORE") == 40, "CAP_CHECKPOINT_RESTORE");
  REQUIRE (mr_cap_from_name ("SYS_ADMIN") == -1, "SYS_ADMIN accepted");
  REQUIRE (mr_cap_from_name ("CAP_BOGUS") == -1, "CAP_BOGUS accepted");
  REQUIRE (mr_cap_from_name ("21") == -1 && mr_cap_from_name ("CAP_21") == -1, "numbers accepted");
  REQUIRE (mr_cap_from_name ("") == -1 && mr_cap_from_name (NULL) == -1, "empty accepted");
out:
  mr_security_free (sec);
  return ret;
}

/* ---------- rlimits, oom_score_adj ---------- */

static int
test_rlimit_lowered (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  struct mr_rlimit rl[] = {
    { .type = (char *)"RLIMIT_CORE", .resource = RLIMIT_CORE, .soft = 4096, .hard = 8192 },
    { .type = (char *)"RLIMIT_NOFILE", .resource = RLIMIT_NOFILE, .soft = 100, .hard = 200 },
  };
  char msg[1024] = "", path[64], *limits = NULL;
  mr_error_t err = NULL;
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  p.rlimits = rl;
  p.n_rlimits = UNDER_VALGRIND ? 1 : 2;
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  REQUIRE (pid > 0, "child did not stop: status %#x: %s", st, msg);
  snprintf (path, sizeof path, "/proc/%d/limits", (int)pid);
  REQUIRE (mr_read_file_at (AT_FDCWD, path, 65536, &limits, NULL, &err) == 0, "%s", err->msg);
  REQUIRE (strstr (limits, "Max core file size        4096                 8192                 bytes")
               != NULL,
           "limits:\n%s", limits);
  REQUIRE (UNDER_VALGRIND
               || strstr (limits, "Max open files            100                  200                  files")
                      != NULL,
           "limits:\n%s", limits);
out:
  free (limits);
  mr_error_free (&err);
  harness_kill_reap (pid);
  mr_security_free (sec);
  return ret;
}

static int
test_rlimit_errors (void)
{
  struct mr_process p, p2;
  struct mr_security *sec = NULL;
  struct rlimit cur;
  struct mr_rlimit rl = { .type = (char *)"RLIMIT_NOFILE", .resource = RLIMIT_NOFILE };
  char msg[1024] = "", expect[512];
  int ret = 0, st = 0;

  init_process (&p);
  p.rlimits = &rl;
  p.n_rlimits = 1;
  rl.soft = 300, rl.hard = 200;
  REQUIRE (ts_expect_prepare_error (&p, NULL, "process.rlimits[0]: RLIMIT_NOFILE soft=300 is above hard=200")
               == 0,
           "soft>hard");

  if (have_sys_resource ())
    {
      printf ("  (skipping the CAP_SYS_RESOURCE cases: this process has it)\n");
      goto out;
    }
  getrlimit (RLIMIT_NOFILE, &cur);
  rl.soft = rl.hard = cur.rlim_max + 1000;
  snprintf (
      expect, sizeof expect,
      "process.rlimits[0]: RLIMIT_NOFILE soft=%llu hard=%llu exceeds the current hard limit %llu and raising "
      "it needs CAP_SYS_RESOURCE",
      (unsigned long long)rl.soft, (unsigned long long)rl.hard, (unsigned long long)cur.rlim_max);
  REQUIRE (ts_expect_prepare_error (&p, NULL, expect) == 0, "raise in prepare");

  /* The same refusal at apply time (prepared without the rlimit). */
  init_process (&p2);
  REQUIRE (ts_prepare (&p2, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  spawn (sec, &p, NULL, NULL, false, &st, msg, sizeof msg);
  REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 2, "status %#x", st);
  REQUIRE (strstr (msg, expect) != NULL, "apply error `%s`", msg);
out:
  mr_security_free (sec);
  return ret;
}

static int
test_oom_score_adj (void)
{
  struct mr_process p;
  struct mr_security *sec = NULL;
  char msg[1024] = "", path[64], *v = NULL;
  mr_error_t err = NULL;
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  p.has_oom_score_adj = true;
  p.oom_score_adj = 1001;
  REQUIRE (ts_expect_prepare_error (&p, NULL, "process.oomScoreAdj: 1001 is out of range") == 0, "range");
  p.oom_score_adj = 500;
  REQUIRE (ts_prepare (&p, NULL, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  REQUIRE (pid > 0, "child did not stop: status %#x: %s", st, msg);
  snprintf (path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
  REQUIRE (mr_read_file_at (AT_FDCWD, path, 64, &v, NULL, &err) == 0, "%s", err->msg);
  REQUIRE (strcmp (v, "500\n") == 0, "oom_score_adj %s", v);
  harness_kill_reap (pid);
  pid = 0;
  if (!have_sys_resource ())
    {
      p.oom_score_adj = -500;
      spawn (sec, &p, NULL, NULL, false, &st, msg, sizeof msg);
      REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 2, "status %#x", st);
      REQUIRE (strstr (msg, "process.oomScoreAdj: lowering `/proc/self/oom_score_adj` from 0 to -500 needs "
                            "CAP_SYS_RESOURCE")
                   != NULL,
               "error `%s`", msg);
    }
out:
  free (v);
  mr_error_free (&err);
  harness_kill_reap (pid);
  mr_security_free (sec);
  return ret;
}

static int
test_lsm (void)
{
  struct mr_process p;
  int ret = 0;

  init_process (&p);
  if (access ("/sys/kernel/security/apparmor", F_OK) < 0)
    {
      p.apparmor_profile = (char *)"docker-default";
      REQUIRE (
          ts_expect_prepare_error (&p, NULL,
                                   "process.apparmorProfile: profile `docker-default` is set but AppArmor is "
                                   "not enabled")
              == 0,
          "apparmor");
      p.apparmor_profile = (char *)"";
    }
  if (access ("/sys/fs/selinux/enforce", F_OK) < 0)
    {
      p.selinux_label = (char *)"system_u:system_r:container_t:s0";
      REQUIRE (ts_expect_prepare_error (
                   &p, NULL,
                   "process.selinuxLabel: label `system_u:system_r:container_t:s0` is set but "
                   "SELinux is disabled")
                   == 0,
               "selinux");
    }
out:
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "caps_exact", test_caps_exact },
    { "user_keeps_caps", test_user_keeps_caps },
    { "caps_absent", test_caps_absent },
    { "nnp", test_nnp },
    { "caps_validation", test_caps_validation },
    { "rlimit_lowered", test_rlimit_lowered },
    { "rlimit_errors", test_rlimit_errors },
    { "oom_score_adj", test_oom_score_adj },
    { "lsm", test_lsm },
  };

  if (geteuid () != 0)
    return harness_skip ("test_security needs root");
  return HARNESS_RUN (tests);
}
