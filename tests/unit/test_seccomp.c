/* test_seccomp.c: the seccomp half of runtime/security.h against the real
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
#include <stdarg.h>
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

#include "security.h"
#include "security_internal.h"
#include "utils.h"

/* Valgrind runs its own syscalls inside a seccomp-filtered child (and lacks
 * seccomp(2), so the API level is 1): the allow-list child is skipped there. */
#if defined __has_include
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND 0
#endif
/* The same for AddressSanitizer, which needs sigaltstack and mmap at exit. */
#ifdef __SANITIZE_ADDRESS__
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

static int n_passed, n_failed;

#define CHECK(cond, ...)                                                                                     \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        {                                                                                                    \
          fprintf (stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
          fprintf (stderr, __VA_ARGS__);                                                                     \
          fputc ('\n', stderr);                                                                              \
          ret = -1;                                                                                          \
          goto out;                                                                                          \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

/* Inside the child: report and fail. */
#define EXPECT(cond, ...)                                                                                    \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        {                                                                                                    \
          say ("%s:%d: %s: ", __FILE__, __LINE__, #cond);                                                    \
          say (__VA_ARGS__);                                                                                 \
          return -1;                                                                                         \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

/* ---------- harness ---------- */

static int child_msg_fd = -1;

static void __attribute__ ((format (printf, 1, 2))) say (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vdprintf (child_msg_fd, fmt, ap);
  va_end (ap);
}

typedef int (*inside_fn) (void *arg);

struct child
{
  pid_t pid;
  int msg_fd;
};

/* Fork a child that applies sec/p and runs `inside`; exit 0 if all went well, 2 if apply
 * failed, 3 if `inside` failed; with stop it raises SIGSTOP at the end. */
static void
start (struct child *c, const struct mr_security *sec, const struct mr_process *p, inside_fn inside,
       void *arg, bool stop)
{
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) < 0)
    abort ();
  fflush (NULL);
  c->pid = fork ();
  if (c->pid < 0)
    abort ();
  if (c->pid == 0)
    {
      mr_error_t err = NULL;
      close (fds[0]);
      child_msg_fd = fds[1];
      if (mr_security_apply (sec, p, NULL, &err) < 0)
        {
          say ("apply: %s", err->msg);
          _exit (2);
        }
      if (inside && inside (arg) != 0)
        _exit (3);
      if (stop)
        raise (SIGSTOP);
      _exit (0);
    }
  close (fds[1]);
  c->msg_fd = fds[0];
}

/* Wait for exit (stop: for the SIGSTOP, returning 0 when stopped). */
static int
wait_child (struct child *c, bool stop, char *msg, size_t len)
{
  size_t n = 0;
  ssize_t r;
  int st;

  if (waitpid (c->pid, &st, stop ? WUNTRACED : 0) != c->pid)
    abort ();
  if (stop && WIFSTOPPED (st))
    return 0;
  if (stop)
    waitpid (c->pid, &st, 0);
  while (n < len - 1 && (r = read (c->msg_fd, msg + n, len - 1 - n)) > 0)
    n += (size_t) r;
  msg[n] = '\0';
  close (c->msg_fd);
  c->pid = 0;
  return st;
}

static void
finish (struct child *c)
{
  if (c->pid > 0)
    {
      kill (c->pid, SIGKILL);
      waitpid (c->pid, NULL, 0);
      close (c->msg_fd);
      c->pid = 0;
    }
}

static bool
status_field (pid_t pid, const char *name, char *out, size_t outlen)
{
  char path[64], line[512];
  size_t nl = strlen (name);
  bool found = false;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  if ((f = fopen (path, "re")) == NULL)
    return false;
  while (!found && fgets (line, sizeof line, f))
    if (strncmp (line, name, nl) == 0 && line[nl] == ':')
      {
        char *v = line + nl + 1 + strspn (line + nl + 1, " \t");
        v[strcspn (v, "\n")] = '\0';
        snprintf (out, outlen, "%s", v);
        found = true;
      }
  fclose (f);
  return found;
}

static char *names_getcwd_mkdir[] = { (char *) "getcwd", (char *) "mkdir", NULL };

static void
init (struct mr_process *p, struct mr_seccomp *s, enum mr_seccomp_action def)
{
  memset (p, 0, sizeof *p);
  memset (s, 0, sizeof *s);
  p->cwd = (char *) "/";
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
    r->has_errno_ret = true, r->errno_ret = (uint32_t) errno_ret;
}

static int
prepare (const struct mr_process *p, const struct mr_seccomp *s, struct mr_security **sec, char *msg,
         size_t len)
{
  mr_error_t err = NULL;
  if (mr_security_prepare (p, s, sec, &err) == 0)
    return 0;
  snprintf (msg, len, "%s", err->msg);
  mr_error_free (&err);
  return -1;
}

/* prepare() with stderr captured into `captured`. */
static int
prepare_capture (const struct mr_process *p, const struct mr_seccomp *s, struct mr_security **sec, char *msg,
                 size_t len, char *captured, size_t clen)
{
  int saved = dup (STDERR_FILENO), mfd = memfd_create ("stderr", MFD_CLOEXEC), r;
  ssize_t n;

  fflush (stderr);
  dup2 (mfd, STDERR_FILENO);
  r = prepare (p, s, sec, msg, len);
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
  (void) arg;
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
  struct child c = { 0 };
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
      CHECK (prepare (&p, &s, &sec, msg, sizeof msg) == 0, "%s", msg);
      start (&c, sec, &p, inside_errno38, NULL, true);
      st = wait_child (&c, true, msg, sizeof msg);
      CHECK (st == 0, "nnp=%d: status %#x: %s", nnp, st, msg);
      CHECK (status_field (c.pid, "Seccomp", v, sizeof v) && strcmp (v, "2") == 0, "Seccomp %s", v);
      CHECK (status_field (c.pid, "NoNewPrivs", v, sizeof v) && atoi (v) == nnp, "NoNewPrivs %s", v);
      CHECK (nnp || (status_field (c.pid, "CapEff", v, sizeof v) && strcmp (v, "0000000000000000") == 0),
             "CapEff %s", v);
      CHECK (nnp || (status_field (c.pid, "Uid", v, sizeof v) && strncmp (v, "1000\t", 5) == 0), "Uid %s", v);
      finish (&c);
      mr_security_free (sec);
      sec = NULL;
    }
out:
  finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
inside_args (void *arg)
{
  (void) arg;
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
  static char *kill_names[] = { (char *) "kill", NULL };
  static char *prio_names[] = { (char *) "setpriority", NULL };
  static char *umask_names[] = { (char *) "umask", NULL };
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
  struct child c = { 0 };
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
  CHECK (prepare (&p, &s, &sec, msg, sizeof msg) == 0, "%s", msg);
  start (&c, sec, &p, inside_args, NULL, false);
  st = wait_child (&c, false, msg, sizeof msg);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
out:
  finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
inside_allowlist (void *arg)
{
  char buf[64];
  (void) arg;
  errno = 0;
  EXPECT (getcwd (buf, sizeof buf) == NULL && errno == EACCES, "getcwd errno %d", errno);
  EXPECT (getpid () > 0, "getpid");
  return 0;
}

/* defaultAction ERRNO with defaultErrnoRet and an allow-list. */
static int
test_default_errno (void)
{
  static char *allowed[] = { (char *) "write",  (char *) "exit_group",   (char *) "exit",
                             (char *) "getpid", (char *) "rt_sigreturn", NULL };
  static const char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
  static const char *flags[]
      = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC", NULL };
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r;
  struct mr_security *sec = NULL;
  struct child c = { 0 };
  char msg[1024] = "";
  int ret = 0, st;

  init (&p, &s, MR_SECCOMP_ERRNO);
  s.has_default_errno_ret = true;
  s.default_errno_ret = EACCES;
  s.architectures = (char **) archs;
  s.n_architectures = 3;
  s.flags = (char **) flags;
  s.n_flags = 3;
  if (seccomp_api_get () < 4) /* e.g. under valgrind, which lacks seccomp(2) */
    s.n_flags = 0;
  set_rule (&r, allowed, MR_SECCOMP_ALLOW, -1);
  s.syscalls = &r;
  s.n_syscalls = 1;
  CHECK (prepare (&p, &s, &sec, msg, sizeof msg) == 0, "%s", msg);
  if (UNDER_VALGRIND || UNDER_SANITIZER)
    {
      printf ("  (allow-list child skipped under valgrind/ASan: their own syscalls would be denied)\n");
      goto out;
    }
  start (&c, sec, &p, inside_allowlist, NULL, false);
  st = wait_child (&c, false, msg, sizeof msg);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
out:
  finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
inside_mkdir38 (void *arg)
{
  (void) arg;
  errno = 0;
  EXPECT (mkdir ("/mr-test-seccomp-nonexistent/x", 0700) == -1 && errno == 38, "mkdir errno %d", errno);
  return 0;
}

/* Unknown names are skipped with a warning (runc), the rest of the rule stays;
 * a rule with the default action is dropped. */
static int
test_unknown_syscall (void)
{
  static char *names[] = { (char *) "mr_no_such_syscall", (char *) "mkdir", NULL };
  static char *getpid_names[] = { (char *) "getpid", NULL };
  struct mr_process p;
  struct mr_seccomp s;
  struct mr_seccomp_rule r[2];
  struct mr_security *sec = NULL;
  struct child c = { 0 };
  char msg[1024] = "", captured[4096];
  int ret = 0, st;

  init (&p, &s, MR_SECCOMP_ALLOW);
  set_rule (&r[0], names, MR_SECCOMP_ERRNO, 38);
  set_rule (&r[1], getpid_names, MR_SECCOMP_ALLOW, -1);
  s.syscalls = r;
  s.n_syscalls = 2;
  CHECK (prepare_capture (&p, &s, &sec, msg, sizeof msg, captured, sizeof captured) == 0, "%s", msg);
  CHECK (
      strstr (captured, "warning: linux.seccomp.syscalls[0].names[0]: unknown syscall `mr_no_such_syscall`")
          != NULL,
      "stderr `%s`", captured);
  start (&c, sec, &p, inside_mkdir38, NULL, false);
  st = wait_child (&c, false, msg, sizeof msg);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
out:
  finish (&c);
  mr_security_free (sec);
  return ret;
}

static int
expect_error (const struct mr_process *p, const struct mr_seccomp *s, const char *expect)
{
  struct mr_security *sec = NULL;
  char msg[1024] = "";
  int ret = 0;

  CHECK (prepare (p, s, &sec, msg, sizeof msg) < 0, "prepare succeeded, expected `%s`", expect);
  CHECK (strstr (msg, expect) != NULL, "error `%s` does not contain `%s`", msg, expect);
out:
  mr_security_free (sec);
  return ret;
}

static int
test_config_errors (void)
{
  static char *mkdir_names[] = { (char *) "mkdir", NULL };
  static char *write_names[] = { (char *) "write", NULL };
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
  CHECK (expect_error (&p, &s, "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath")
             == 0,
         "notify without listener");
  s.listener_path = (char *) "/run/agent.sock";
  set_rule (&r, write_names, MR_SECCOMP_NOTIFY, -1);
  CHECK (expect_error (&p, &s,
                       seccomp_api_get () >= 5
                           ? "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY on `write` is not supported"
                           : "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY needs seccomp API level 5")
             == 0,
         "notify on write");
  s.n_syscalls = 0;
  s.default_action = MR_SECCOMP_NOTIFY;
  CHECK (expect_error (&p, &s, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action")
             == 0,
         "default notify");
  s.default_action = MR_SECCOMP_ALLOW;
  s.architectures = (char **) bad_arch, s.n_architectures = 1;
  CHECK (expect_error (&p, &s, "linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_BOGUS`") == 0,
         "arch");
  s.architectures = (char **) plain_arch;
  CHECK (expect_error (&p, &s, "linux.seccomp.architectures[0]: `x86_64` is not an SCMP_ARCH_* name") == 0,
         "arch");
  s.n_architectures = 0;
  s.flags = (char **) bad_flag, s.n_flags = 1;
  CHECK (expect_error (&p, &s, "linux.seccomp.flags[0]: unknown flag `SECCOMP_FILTER_FLAG_BOGUS`") == 0,
         "flag");
#ifndef SCMP_FLTATR_CTL_WAITKILL
  s.flags = (char **) waitkill;
  CHECK (
      expect_error (&p, &s, "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported")
          == 0,
      "waitkill");
#else
  (void) waitkill;
#endif
  s.n_flags = 0;
  set_rule (&r, mkdir_names, MR_SECCOMP_ERRNO, -1);
  r.args = &bad_index, r.n_args = 1;
  s.n_syscalls = 1;
  CHECK (expect_error (&p, &s, "linux.seccomp.syscalls[0].args[0].index: 6 is not in [0, 5]") == 0, "index");
  r.n_args = 0;
  r.has_errno_ret = true, r.errno_ret = 70000;
  CHECK (expect_error (&p, &s, "linux.seccomp.syscalls[0]: errnoRet 70000 does not fit") == 0, "errnoRet");
out:
  return ret;
}

int
main (void)
{
  static const struct
  {
    const char *name;
    int (*fn) (void);
  } tests[] = {
    { "errno_rule", test_errno_rule },       { "arg_rules", test_arg_rules },
    { "default_errno", test_default_errno }, { "unknown_syscall", test_unknown_syscall },
    { "config_errors", test_config_errors },
  };

  if (geteuid () != 0)
    {
      printf ("test_seccomp needs root\n");
      return 77;
    }
  for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
    {
      int r = tests[i].fn ();
      printf ("%s %s\n", r == 0 ? "ok  " : "FAIL", tests[i].name);
      if (r == 0)
        n_passed++;
      else
        n_failed++;
    }
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
