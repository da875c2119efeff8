/* test_security.c: runtime/security.h against the real kernel (run as root):
 * capabilities, user/groups, umask, no_new_privs, rlimits, oom_score_adj, LSM
 * checks (user-namespace maps: test_security_userns.c).  Each case prepares in this process, forks
 * a child that applies (as the container process would) and then either
 * checks from inside or stops itself so that this process reads
 * /proc/PID/{status,limits,oom_score_adj,uid_map}; every child is killed and
 * reaped.  Prints "N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "security.h"
#include "utils.h"

/* Valgrind refuses to change RLIMIT_NOFILE's hard limit and runs its own
 * syscalls inside a seccomp-filtered child: a few steps are skipped there. */
#if defined __has_include
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND 0
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

#define BIT(c) (UINT64_C (1) << (c))

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

/* Fork a child that applies `sec`/`p` and runs `inside`.  stop: the child
 * raises SIGSTOP at the end (or `inside` execs something that stops); then
 * the stopped pid is returned for inspection (finish() it).  Otherwise the
 * child's wait status goes to *status and its messages to msg; returns 0. */
static pid_t
spawn (const struct mr_security *sec, const struct mr_process *p, inside_fn inside, void *arg, bool stop,
       int *status, char *msg, size_t msglen)
{
  int fds[2], st;
  pid_t pid;
  size_t len = 0;
  ssize_t n;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    abort ();
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
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
  if (waitpid (pid, &st, stop ? WUNTRACED : 0) != pid)
    abort ();
  if (stop && WIFSTOPPED (st))
    {
      close (fds[0]);
      return pid;
    }
  while (msglen > 0 && len < msglen - 1 && (n = read (fds[0], msg + len, msglen - 1 - len)) > 0)
    len += (size_t) n;
  if (msglen > 0)
    msg[len] = '\0';
  close (fds[0]);
  if (stop) /* it exited instead of stopping */
    waitpid (pid, &st, 0);
  *status = st;
  return 0;
}

static void
finish (pid_t pid)
{
  if (pid > 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
}

/* The value of "Name:\t..." in /proc/PID/status. */
static bool
status_field (pid_t pid, const char *name, char *out, size_t outlen)
{
  char path[64], line[512];
  size_t nl = strlen (name);
  bool found = false;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  f = fopen (path, "re");
  if (f == NULL)
    return false;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, name, nl) == 0 && line[nl] == ':')
      {
        char *v = line + nl + 1;
        v += strspn (v, " \t");
        v[strcspn (v, "\n")] = '\0';
        snprintf (out, outlen, "%s", v);
        found = true;
        break;
      }
  fclose (f);
  return found;
}

static uint64_t
status_mask (pid_t pid, const char *name)
{
  char v[64];
  if (!status_field (pid, name, v, sizeof v))
    return ~UINT64_C (0);
  return strtoull (v, NULL, 16);
}

static void
init_process (struct mr_process *p)
{
  memset (p, 0, sizeof *p);
  p->cwd = (char *) "/";
}

static int
prepare (const struct mr_process *p, struct mr_security **sec, char *errmsg, size_t len)
{
  mr_error_t err = NULL;
  if (mr_security_prepare (p, NULL, sec, &err) == 0)
    return 0;
  snprintf (errmsg, len, "%s", err->msg);
  mr_error_free (&err);
  return -1;
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
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  CHECK (pid > 0, "child did not stop: status %#x: %s", st, msg);
  CHECK (status_mask (pid, "CapBnd") == 0x421, "CapBnd %#llx",
         (unsigned long long) status_mask (pid, "CapBnd"));
  CHECK (status_mask (pid, "CapPrm") == 0x421, "CapPrm %#llx",
         (unsigned long long) status_mask (pid, "CapPrm"));
  CHECK (status_mask (pid, "CapEff") == 0x421, "CapEff %#llx",
         (unsigned long long) status_mask (pid, "CapEff"));
  CHECK (status_mask (pid, "CapInh") == 0x20, "CapInh %#llx",
         (unsigned long long) status_mask (pid, "CapInh"));
  CHECK (status_mask (pid, "CapAmb") == 0x20, "CapAmb %#llx",
         (unsigned long long) status_mask (pid, "CapAmb"));
  CHECK (status_field (pid, "NoNewPrivs", msg, sizeof msg) && strcmp (msg, "0") == 0, "NoNewPrivs %s", msg);
  CHECK (status_field (pid, "Umask", msg, sizeof msg) && strcmp (msg, "0022") == 0, "default umask %s", msg);
out:
  finish (pid);
  mr_security_free (sec);
  return ret;
}

static int
exec_stop_shell (void *arg)
{
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "kill -STOP $$; exit 0", NULL };
  (void) arg;
  execv (argv[0], argv);
  say ("exec /bin/sh: %s", strerror (errno));
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
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, exec_stop_shell, NULL, true, &st, msg, sizeof msg);
  CHECK (pid > 0, "child did not stop: status %#x: %s", st, msg);
  CHECK (status_field (pid, "Name", v, sizeof v) && strcmp (v, "sh") == 0, "not exec'd: Name %s", v);
  CHECK (status_field (pid, "Uid", v, sizeof v) && strcmp (v, "1000\t1000\t1000\t1000") == 0, "Uid %s", v);
  CHECK (status_field (pid, "Gid", v, sizeof v) && strcmp (v, "1000\t1000\t1000\t1000") == 0, "Gid %s", v);
  CHECK (status_field (pid, "Groups", v, sizeof v) && strncmp (v, "10 20", 5) == 0
             && strspn (v + 5, " ") == strlen (v + 5),
         "Groups `%s`", v);
  CHECK (status_field (pid, "Umask", v, sizeof v) && strcmp (v, "0077") == 0, "Umask %s", v);
  CHECK (status_mask (pid, "CapEff") == 0x400, "CapEff %#llx",
         (unsigned long long) status_mask (pid, "CapEff"));
  CHECK (status_mask (pid, "CapPrm") == 0x400, "CapPrm %#llx",
         (unsigned long long) status_mask (pid, "CapPrm"));
  CHECK (status_mask (pid, "CapAmb") == 0x400, "CapAmb %#llx",
         (unsigned long long) status_mask (pid, "CapAmb"));
  CHECK (status_mask (pid, "CapBnd") == 0x400, "CapBnd %#llx",
         (unsigned long long) status_mask (pid, "CapBnd"));
out:
  finish (pid);
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
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  CHECK (pid > 0, "child did not stop: status %#x: %s", st, msg);
  CHECK (status_mask (pid, "CapBnd") == status_mask (getpid (), "CapBnd"), "CapBnd changed");
  CHECK (status_mask (pid, "CapEff") == status_mask (getpid (), "CapEff"), "CapEff changed");
  CHECK (status_field (pid, "Groups", v, sizeof v) && strspn (v, " ") == strlen (v), "Groups `%s`", v);
out:
  finish (pid);
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
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  CHECK (pid > 0, "child did not stop: status %#x: %s", st, msg);
  CHECK (status_field (pid, "NoNewPrivs", v, sizeof v) && strcmp (v, "1") == 0, "NoNewPrivs %s", v);
out:
  finish (pid);
  mr_security_free (sec);
  return ret;
}

static int
expect_prepare_error (const struct mr_process *p, const char *expect)
{
  struct mr_security *sec = NULL;
  char msg[1024] = "";
  int ret = 0;

  CHECK (prepare (p, &sec, msg, sizeof msg) < 0, "prepare succeeded, expected `%s`", expect);
  CHECK (strstr (msg, expect) != NULL, "error `%s` does not contain `%s`", msg, expect);
out:
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
  CHECK (expect_prepare_error (&p, "process.capabilities.effective: CAP_KILL is not in "
                                   "process.capabilities.permitted")
             == 0,
         "effective");
  p.capabilities.effective = BIT (CAP_CHOWN);
  p.capabilities.ambient = BIT (CAP_CHOWN);
  CHECK (expect_prepare_error (&p, "process.capabilities.ambient: CAP_CHOWN must also be in") == 0,
         "ambient");
  p.capabilities.ambient = 0;
  p.capabilities.inheritable = BIT (CAP_SYS_ADMIN);
  CHECK (expect_prepare_error (&p, "process.capabilities.inheritable: CAP_SYS_ADMIN is not in "
                                   "process.capabilities.bounding")
             == 0,
         "inheritable");
  /* A bit beyond this kernel's last capability is skipped, not an error. */
  p.capabilities.inheritable = 0;
  p.capabilities.bounding |= BIT (63);
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  CHECK (mr_cap_from_name ("CAP_SYS_ADMIN") == 21, "CAP_SYS_ADMIN -> %d", mr_cap_from_name ("CAP_SYS_ADMIN"));
  CHECK (mr_cap_from_name ("CAP_NET_BIND_SERVICE") == 10, "CAP_NET_BIND_SERVICE");
  CHECK (mr_cap_from_name ("CAP_CHECKPOINT_RESTORE") == 40, "CAP_CHECKPOINT_RESTORE");
  CHECK (mr_cap_from_name ("SYS_ADMIN") == -1, "SYS_ADMIN accepted");
  CHECK (mr_cap_from_name ("CAP_BOGUS") == -1, "CAP_BOGUS accepted");
  CHECK (mr_cap_from_name ("21") == -1 && mr_cap_from_name ("CAP_21") == -1, "numbers accepted");
  CHECK (mr_cap_from_name ("") == -1 && mr_cap_from_name (NULL) == -1, "empty accepted");
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
    { .type = (char *) "RLIMIT_CORE", .resource = RLIMIT_CORE, .soft = 4096, .hard = 8192 },
    { .type = (char *) "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE, .soft = 100, .hard = 200 },
  };
  char msg[1024] = "", path[64], *limits = NULL;
  mr_error_t err = NULL;
  int ret = 0, st = 0;
  pid_t pid = 0;

  init_process (&p);
  p.rlimits = rl;
  p.n_rlimits = UNDER_VALGRIND ? 1 : 2;
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  CHECK (pid > 0, "child did not stop: status %#x: %s", st, msg);
  snprintf (path, sizeof path, "/proc/%d/limits", (int) pid);
  CHECK (mr_read_file_at (AT_FDCWD, path, 65536, &limits, NULL, &err) == 0, "%s", err->msg);
  CHECK (strstr (limits, "Max core file size        4096                 8192                 bytes") != NULL,
         "limits:\n%s", limits);
  CHECK (UNDER_VALGRIND
             || strstr (limits, "Max open files            100                  200                  files")
                    != NULL,
         "limits:\n%s", limits);
out:
  free (limits);
  mr_error_free (&err);
  finish (pid);
  mr_security_free (sec);
  return ret;
}

static int
test_rlimit_errors (void)
{
  struct mr_process p, p2;
  struct mr_security *sec = NULL;
  struct rlimit cur;
  struct mr_rlimit rl = { .type = (char *) "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE };
  char msg[1024] = "", expect[512];
  int ret = 0, st = 0;

  init_process (&p);
  p.rlimits = &rl;
  p.n_rlimits = 1;
  rl.soft = 300, rl.hard = 200;
  CHECK (expect_prepare_error (&p, "process.rlimits[0]: RLIMIT_NOFILE soft=300 is above hard=200") == 0,
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
      (unsigned long long) rl.soft, (unsigned long long) rl.hard, (unsigned long long) cur.rlim_max);
  CHECK (expect_prepare_error (&p, expect) == 0, "raise in prepare");

  /* The same refusal at apply time (prepared without the rlimit). */
  init_process (&p2);
  CHECK (prepare (&p2, &sec, msg, sizeof msg) == 0, "%s", msg);
  spawn (sec, &p, NULL, NULL, false, &st, msg, sizeof msg);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 2, "status %#x", st);
  CHECK (strstr (msg, expect) != NULL, "apply error `%s`", msg);
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
  CHECK (expect_prepare_error (&p, "process.oomScoreAdj: 1001 is out of range") == 0, "range");
  p.oom_score_adj = 500;
  CHECK (prepare (&p, &sec, msg, sizeof msg) == 0, "%s", msg);
  pid = spawn (sec, &p, NULL, NULL, true, &st, msg, sizeof msg);
  CHECK (pid > 0, "child did not stop: status %#x: %s", st, msg);
  snprintf (path, sizeof path, "/proc/%d/oom_score_adj", (int) pid);
  CHECK (mr_read_file_at (AT_FDCWD, path, 64, &v, NULL, &err) == 0, "%s", err->msg);
  CHECK (strcmp (v, "500\n") == 0, "oom_score_adj %s", v);
  finish (pid);
  pid = 0;
  if (!have_sys_resource ())
    {
      p.oom_score_adj = -500;
      spawn (sec, &p, NULL, NULL, false, &st, msg, sizeof msg);
      CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 2, "status %#x", st);
      CHECK (strstr (msg, "process.oomScoreAdj: lowering `/proc/self/oom_score_adj` from 0 to -500 needs "
                          "CAP_SYS_RESOURCE")
                 != NULL,
             "error `%s`", msg);
    }
out:
  free (v);
  mr_error_free (&err);
  finish (pid);
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
      p.apparmor_profile = (char *) "docker-default";
      CHECK (expect_prepare_error (&p,
                                   "process.apparmorProfile: profile `docker-default` is set but AppArmor is "
                                   "not enabled")
                 == 0,
             "apparmor");
      p.apparmor_profile = (char *) "";
    }
  if (access ("/sys/fs/selinux/enforce", F_OK) < 0)
    {
      p.selinux_label = (char *) "system_u:system_r:container_t:s0";
      CHECK (expect_prepare_error (
                 &p, "process.selinuxLabel: label `system_u:system_r:container_t:s0` is set but "
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
  static const struct
  {
    const char *name;
    int (*fn) (void);
  } tests[] = {
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
    {
      printf ("test_security needs root\n");
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
