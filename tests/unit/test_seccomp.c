/* test_seccomp.c: the seccomp half of runtime/security/security.h against the real
 * kernel (run as root).  Each case compiles a linux.seccomp config with
 * mr_security_prepare in this process, forks a child that applies it and
 * checks syscall results from inside (or stops so that /proc/PID/status can
 * be read); the notify case plays the seccomp agent: it listens on a unix
 * socket, receives the listener fd and the containerProcessState JSON and
 * answers the child's mkdir with seccomp_notify_respond.  Children are killed
 * and reaped, the socket removed.  Prints "N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "harness.h"
#include "security/security.h"
#include "security/security_internal.h"
#include "test_security_util.h"
#include "base/utils.h"

static char *names_getcwd_mkdir[] = { (char *)"getcwd", (char *)"mkdir", NULL };

static void
init (struct mr_process *p, struct mr_seccomp *s, enum mr_seccomp_action def)
{
  memset (p, 0, sizeof *p);
  memset (s, 0, sizeof *s);
  p->cwd = (char *)"/";
  p->no_new_privileges = true;
  s->present = true;
  s->default_action = def;
}

static void
set_rule (struct mr_seccomp_rule *r, char **names, enum mr_seccomp_action act, int errno_ret)
{
  memset (r, 0, sizeof *r);
  r->names = names;
  for (r->n_names = 0; names[r->n_names]; r->n_names++)
    ;
  r->action = act;
  if (errno_ret >= 0)
    r->has_errno_ret = true, r->errno_ret = (uint32_t)errno_ret;
}

/* ts_prepare() with stderr captured into `captured`. */
static int
prepare_capture (const struct mr_process *p, const struct mr_seccomp *s, struct mr_security **sec, char *msg,
                 size_t len, char *captured, size_t clen)
{
  int saved = dup (STDERR_FILENO), mfd = memfd_create ("stderr", MFD_CLOEXEC), r;
  ssize_t n;

  fflush (stderr);
  dup2 (mfd, STDERR_FILENO);
  r = ts_prepare (p, s, sec, msg, len);
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  n = pread (mfd, captured, clen - 1, 0);
  captured[n > 0 ? n : 0] = '\0';
  close (mfd);
  return r;
}

/* ---------- cases ---------- */

static int
inside_errno38 (void *arg)
{
  char buf[256];
  (void)arg;
  errno = 0;
  EXPECT (getcwd (buf, sizeof buf) == NULL && errno == 38, "getcwd errno %d", errno);
  errno = 0;
  EXPECT (mkdir ("/mr-test-seccomp-nonexistent/x", 0700) == -1 && errno == 38, "mkdir errno %d", errno);
  EXPECT (getpid () > 0, "getpid");
  return 0;
}

/* ERRNO rule with errnoRet 38, loaded after the caps drop (NNP) and before
 * it (no NNP, non-root user without capabilities at the end). */
static int
test_errno_rule (void)
{
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r;
  struct mr_security *sec = NULL;
  struct harness_child c = { 0 };
  char msg[1024] = "", v[64];
  int ret = 0, st;

  for (int nnp = 1; nnp >= 0; nnp--)
    {
      init (&p, &s, MR_SECCOMP_ALLOW);
      p.no_new_privileges = nnp;
      set_rule (&r, names_getcwd_mkdir, MR_SECCOMP_ERRNO, 38);
      s.syscalls = &r;
      s.n_syscalls = 1;
      if (!nnp)
        {
          p.user.uid = p.user.gid = 1000;
          p.has_capabilities = true; /* all sets empty */
        }
      REQUIRE (ts_prepare (&p, &s, &sec, msg, sizeof msg) == 0, "%s", msg);
      ts_start (&c, sec, &p, inside_errno38, NULL, true);
      st = harness_child_wait (&c, true, msg, sizeof msg);
      REQUIRE (st == 0, "nnp=%d: status %#x: %s", nnp, st, msg);
      REQUIRE (harness_status_field (c.pid, "Seccomp", v, sizeof v) && strcmp (v, "2") == 0, "Seccomp %s", v);
      REQUIRE (harness_status_field (c.pid, "NoNewPrivs", v, sizeof v) && atoi (v) == nnp, "NoNewPrivs %s",
               v);
      REQUIRE (
          nnp || (harness_status_field (c.pid, "CapEff", v, sizeof v) && strcmp (v, "0000000000000000") == 0),
          "CapEff %s", v);
      REQUIRE (nnp || (harness_status_field (c.pid, "Uid", v, sizeof v) && strncmp (v, "1000\t", 5) == 0),
               "Uid %s", v);
      harness_child_finish (&c);
      mr_security_free (sec);
      sec = NULL;
    }
out:
  harness_child_finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
inside_args (void *arg)
{
  (void)arg;
  errno = 0;
  EXPECT (kill (getpid (), SIGUSR1) == -1 && errno == EPERM, "kill SIGUSR1: errno %d", errno);
  EXPECT (kill (getpid (), SIGUSR2) == -1 && errno == EPERM, "kill SIGUSR2: errno %d", errno);
  EXPECT (kill (getpid (), 0) == 0, "kill 0: errno %d", errno);
  errno = 0;
  EXPECT (setpriority (PRIO_PROCESS, 0, 5) == -1 && errno == 77, "setpriority 5: errno %d", errno);
  EXPECT (setpriority (PRIO_PROCESS, 0, 6) == 0, "setpriority 6 (AND: only arg2 == 5 is denied): errno %d",
          errno);
  errno = 0;
  EXPECT (syscall (SYS_umask, 0777) == -1 && errno == 78, "umask 0777: errno %d", errno);
  EXPECT (syscall (SYS_umask, 0022) >= 0, "umask 0022 (masked 0700 != 0700): errno %d", errno);
  return 0;
}

/* Argument conditions: two on the same index are ORed (separate rules, as
 * runc), on different indices ANDed; MASKED_EQ uses value as the mask. */
static int
test_arg_rules (void)
{
  static char *kill_names[] = { (char *)"kill", NULL };
  static char *prio_names[] = { (char *)"setpriority", NULL };
  static char *umask_names[] = { (char *)"umask", NULL };
  struct mr_seccomp_arg kill_args[] = { { .index = 1, .value = SIGUSR1, .op = MR_SECCOMP_OP_EQ },
                                        { .index = 1, .value = SIGUSR2, .op = MR_SECCOMP_OP_EQ } };
  struct mr_seccomp_arg prio_args[] = { { .index = 0, .value = PRIO_PROCESS, .op = MR_SECCOMP_OP_EQ },
                                        { .index = 2, .value = 5, .op = MR_SECCOMP_OP_EQ } };
  struct mr_seccomp_arg umask_args[]
      = { { .index = 0, .value = 0700, .value_two = 0700, .op = MR_SECCOMP_OP_MASKED_EQ } };
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r[3];
  struct mr_security *sec = NULL;
  struct harness_child c = { 0 };
  char msg[1024] = "";
  int ret = 0, st;

  init (&p, &s, MR_SECCOMP_ALLOW);
  set_rule (&r[0], kill_names, MR_SECCOMP_ERRNO, -1);
  r[0].args = kill_args, r[0].n_args = 2;
  set_rule (&r[1], prio_names, MR_SECCOMP_ERRNO, 77);
  r[1].args = prio_args, r[1].n_args = 2;
  set_rule (&r[2], umask_names, MR_SECCOMP_ERRNO, 78);
  r[2].args = umask_args, r[2].n_args = 1;
  s.syscalls = r;
  s.n_syscalls = 3;
  REQUIRE (ts_prepare (&p, &s, &sec, msg, sizeof msg) == 0, "%s", msg);
  ts_start (&c, sec, &p, inside_args, NULL, false);
  st = harness_child_wait (&c, false, msg, sizeof msg);
  REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
out:
  harness_child_finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
inside_allowlist (void *arg)
{
  char buf[64];
  (void)arg;
  errno = 0;
  EXPECT (getcwd (buf, sizeof buf) == NULL && errno == EACCES, "getcwd errno %d", errno);
  EXPECT (getpid () > 0, "getpid");
  return 0;
}

/* defaultAction ERRNO with defaultErrnoRet and an allow-list. */
static int
test_default_errno (void)
{
  static char *allowed[] = { (char *)"write",  (char *)"exit_group",   (char *)"exit",
                             (char *)"getpid", (char *)"rt_sigreturn", NULL };
  static const char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
  static const char *flags[]
      = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC", NULL };
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r;
  struct mr_security *sec = NULL;
  struct harness_child c = { 0 };
  char msg[1024] = "";
  int ret = 0, st;

  init (&p, &s, MR_SECCOMP_ERRNO);
  s.has_default_errno_ret = true;
  s.default_errno_ret = EACCES;
  s.architectures = (char **)archs;
  s.n_architectures = 3;
  s.flags = (char **)flags;
  s.n_flags = 3;
  if (seccomp_api_get () < 4) /* e.g. under valgrind, which lacks seccomp(2) */
    s.n_flags = 0;
  set_rule (&r, allowed, MR_SECCOMP_ALLOW, -1);
  s.syscalls = &r;
  s.n_syscalls = 1;
  REQUIRE (ts_prepare (&p, &s, &sec, msg, sizeof msg) == 0, "%s", msg);
  if (UNDER_VALGRIND || UNDER_SANITIZER)
    {
      printf ("  (allow-list child skipped under valgrind/ASan: their own syscalls would be denied)\n");
      goto out;
    }
  ts_start (&c, sec, &p, inside_allowlist, NULL, false);
  st = harness_child_wait (&c, false, msg, sizeof msg);
  REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
out:
  harness_child_finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
inside_mkdir38 (void *arg)
{
  (void)arg;
  errno = 0;
  EXPECT (mkdir ("/mr-test-seccomp-nonexistent/x", 0700) == -1 && errno == 38, "mkdir errno %d", errno);
  return 0;
}

/* Unknown names are skipped with a warning (runc), the rest of the rule stays;
 * a rule with the default action is dropped. */
static int
test_unknown_syscall (void)
{
  static char *names[] = { (char *)"mr_no_such_syscall", (char *)"mkdir", NULL };
  static char *getpid_names[] = { (char *)"getpid", NULL };
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r[2];
  struct mr_security *sec = NULL;
  struct harness_child c = { 0 };
  char msg[1024] = "", captured[4096];
  int ret = 0, st;

  init (&p, &s, MR_SECCOMP_ALLOW);
  set_rule (&r[0], names, MR_SECCOMP_ERRNO, 38);
  set_rule (&r[1], getpid_names, MR_SECCOMP_ALLOW, -1);
  s.syscalls = r;
  s.n_syscalls = 2;
  REQUIRE (prepare_capture (&p, &s, &sec, msg, sizeof msg, captured, sizeof captured) == 0, "%s", msg);
  REQUIRE (
      strstr (captured, "warning: linux.seccomp.syscalls[0].names[0]: unknown syscall `mr_no_such_syscall`")
          != NULL,
      "stderr `%s`", captured);
  ts_start (&c, sec, &p, inside_mkdir38, NULL, false);
  st = harness_child_wait (&c, false, msg, sizeof msg);
  REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
out:
  harness_child_finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
test_config_errors (void)
{
  static char *mkdir_names[] = { (char *)"mkdir", NULL };
  static char *write_names[] = { (char *)"write", NULL };
  static const char *bad_arch[] = { "SCMP_ARCH_BOGUS", NULL };
  static const char *plain_arch[] = { "x86_64", NULL };
  static const char *bad_flag[] = { "SECCOMP_FILTER_FLAG_BOGUS", NULL };
  static const char *waitkill[] = { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
  struct mr_seccomp_arg bad_index = { .index = 6, .op = MR_SECCOMP_OP_EQ };
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r;
  int ret = 0;

  init (&p, &s, MR_SECCOMP_ALLOW);
  set_rule (&r, mkdir_names, MR_SECCOMP_NOTIFY, -1);
  s.syscalls = &r;
  s.n_syscalls = 1;
  REQUIRE (ts_expect_prepare_error (
               &p, &s, "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath")
               == 0,
           "notify without listener");
  s.listener_path = (char *)"/run/agent.sock";
  set_rule (&r, write_names, MR_SECCOMP_NOTIFY, -1);
  REQUIRE (
      ts_expect_prepare_error (&p, &s,
                               seccomp_api_get () >= 5
                                   ? "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY on `write` is not supported"
                                   : "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY needs seccomp API level 5")
          == 0,
      "notify on write");
  s.n_syscalls = 0;
  s.default_action = MR_SECCOMP_NOTIFY;
  REQUIRE (ts_expect_prepare_error (
               &p, &s, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action")
               == 0,
           "default notify");
  s.default_action = MR_SECCOMP_ALLOW;
  s.architectures = (char **)bad_arch, s.n_architectures = 1;
  REQUIRE (ts_expect_prepare_error (&p, &s,
                                    "linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_BOGUS`")
               == 0,
           "arch");
  s.architectures = (char **)plain_arch;
  REQUIRE (
      ts_expect_prepare_error (&p, &s, "linux.seccomp.architectures[0]: `x86_64` is not an SCMP_ARCH_* name")
          == 0,
      "arch");
  s.n_architectures = 0;
  s.flags = (char **)bad_flag, s.n_flags = 1;
  REQUIRE (
      ts_expect_prepare_error (&p, &s, "linux.seccomp.flags[0]: unknown flag `SECCOMP_FILTER_FLAG_BOGUS`")
          == 0,
      "flag");
  /* a flag of the load, not of the program: accepted with any libseccomp,
   * kept for mr_seccomp_load */
  s.flags = (char **)waitkill;
  {
    struct mr_security *wk = NULL;
    char msg[1024] = "";
    REQUIRE (ts_prepare (&p, &s, &wk, msg, sizeof msg) == 0, "waitkill: %s", msg);
    REQUIRE (wk->bpf_flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, "waitkill: flag not kept");
    mr_security_free (wk);
  }
  s.n_flags = 0;
  set_rule (&r, mkdir_names, MR_SECCOMP_ERRNO, -1);
  r.args = &bad_index, r.n_args = 1;
  s.n_syscalls = 1;
  REQUIRE (ts_expect_prepare_error (&p, &s, "linux.seccomp.syscalls[0].args[0].index: 6 is not in [0, 5]")
               == 0,
           "index");
  r.n_args = 0;
  r.has_errno_ret = true, r.errno_ret = 70000;
  REQUIRE (ts_expect_prepare_error (&p, &s, "linux.seccomp.syscalls[0]: errnoRet 70000 does not fit") == 0,
           "errnoRet");
out:
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "errno_rule", test_errno_rule },       { "arg_rules", test_arg_rules },
    { "default_errno", test_default_errno }, { "unknown_syscall", test_unknown_syscall },
    { "config_errors", test_config_errors },
  };

  if (geteuid () != 0)
    return harness_skip ("test_seccomp needs root");
  return HARNESS_RUN (tests);
}
