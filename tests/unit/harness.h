/* harness.h: the assertion harness every unit test shares, header-only.  It
 * offers pass/fail counters (in this process, or in shared memory after
 * harness_share_counts() when checks run in forked children); CHECK and
 * CHECK_STR, which count and go on; REQUIRE, which fails the current test
 * function (sets its `ret` to -1 and jumps to its `out:` label); a failure
 * line "FAIL [case] file:line: cond: message" on harness_out (stderr unless
 * set); harness_summary(), which prints "N passed, M failed" on its own line
 * and returns the exit code (0 pass, 1 fail); harness_skip() for exit code 77;
 * HARNESS_RUN, which runs a table of named test functions (one "ok  NAME" or
 * "FAIL NAME" line each, each counting once); and the fork-a-child-and-check
 * helpers: start a child with a message pipe (harness_say and EXPECT report
 * from inside it), wait for its exit or its SIGSTOP, kill and reap it, read a
 * /proc/PID/status field, read a small file, and a SIGALRM timeout that
 * cleans up. */
#ifndef MINIRUN_TEST_HARNESS_H
#define MINIRUN_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minirun/error.h"

/* The exit code ctest counts as "skipped" (SKIP_RETURN_CODE). */
#define HARNESS_SKIP 77

/* The message of an mr_error_t that may be NULL. */
#define ERRMSG(e) ((e) ? (e)->msg : "(no error)")

/* ---------- counters and failure lines ---------- */

struct harness_counts
{
  int passed, failed;
};

static struct harness_counts harness_own_counts __attribute__ ((unused));
static struct harness_counts *harness_counts __attribute__ ((unused)) = &harness_own_counts;
/* Printed as "[case] " in failure lines when set. */
static const char *harness_case __attribute__ ((unused));
/* Where failure lines go; NULL: stderr. */
static FILE *harness_out __attribute__ ((unused));

static inline FILE *
harness_stream (void)
{
  return harness_out ? harness_out : stderr;
}

/* Put the counters in shared memory: checks made by forked children count too. */
static inline void
harness_share_counts (void)
{
  struct harness_counts *c
      = mmap (NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (c == MAP_FAILED)
    {
      perror ("mmap");
      exit (2);
    }
  *c = *harness_counts;
  harness_counts = c;
}

static inline void
harness_pass (void)
{
  __atomic_add_fetch (&harness_counts->passed, 1, __ATOMIC_SEQ_CST);
}

/* Count a failure and print fmt as it is (the caller gives the newline). */
static inline void __attribute__ ((format (printf, 1, 2))) harness_fail (const char *fmt, ...)
{
  va_list ap;
  __atomic_add_fetch (&harness_counts->failed, 1, __ATOMIC_SEQ_CST);
  va_start (ap, fmt);
  vfprintf (harness_stream (), fmt, ap);
  va_end (ap);
}

/* "<indent>FAIL [case] file:line: expr: message\n".  msg is " " followed by
 * the message (so that it can be empty): the macros pass " " __VA_ARGS__. */
static inline void __attribute__ ((format (printf, 5, 0)))
harness_vreport (const char *indent, const char *file, int line, const char *expr, const char *msg,
                 va_list ap)
{
  FILE *f = harness_stream ();
  fprintf (f, "%sFAIL ", indent);
  if (harness_case)
    fprintf (f, "[%s] ", harness_case);
  fprintf (f, "%s:%d: %s", file, line, expr);
  if (msg[0] != '\0' && msg[1] != '\0')
    {
      fputc (':', f);
      vfprintf (f, msg, ap);
    }
  fputc ('\n', f);
}

static inline void __attribute__ ((format (printf, 4, 5)))
harness_fail_at (const char *file, int line, const char *expr, const char *msg, ...)
{
  va_list ap;
  __atomic_add_fetch (&harness_counts->failed, 1, __ATOMIC_SEQ_CST);
  va_start (ap, msg);
  harness_vreport ("", file, line, expr, msg, ap);
  va_end (ap);
}

/* A REQUIRE failure: reported (indented under the test's name), not counted. */
static inline void __attribute__ ((format (printf, 4, 5)))
harness_require_failed_at (const char *file, int line, const char *expr, const char *msg, ...)
{
  va_list ap;
  va_start (ap, msg);
  harness_vreport ("  ", file, line, expr, msg, ap);
  va_end (ap);
}

/* Count cond; on failure print it with the optional printf-style message
 * (its arguments are evaluated only then). */
#define CHECK(cond, ...)                                                                                     \
  do                                                                                                         \
    {                                                                                                        \
      if (cond)                                                                                              \
        harness_pass ();                                                                                     \
      else                                                                                                   \
        harness_fail_at (__FILE__, __LINE__, #cond, " " __VA_ARGS__);                                        \
    }                                                                                                        \
  while (0)

/* Two strings are equal (neither NULL); each expression is evaluated once. */
#define CHECK_STR(a, b) harness_check_str_at (__FILE__, __LINE__, #a " == " #b, (a), (b))

static inline void
harness_check_str_at (const char *file, int line, const char *expr, const char *a, const char *b)
{
  if (a != NULL && b != NULL && strcmp (a, b) == 0)
    harness_pass ();
  else
    harness_fail_at (file, line, expr, " got \"%s\", expected \"%s\"", a ? a : "(null)", b ? b : "(null)");
}

/* In a test function returning int with `int ret = 0` and an `out:` label:
 * on failure print it, set ret to -1 and go to out (the cleanup). */
#define REQUIRE(cond, ...)                                                                                   \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        {                                                                                                    \
          harness_require_failed_at (__FILE__, __LINE__, #cond, " " __VA_ARGS__);                            \
          ret = -1;                                                                                          \
          goto out;                                                                                          \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

/* Print "N passed, M failed" and return the exit code. */
static inline int
harness_summary (void)
{
  printf ("%d passed, %d failed\n", harness_counts->passed, harness_counts->failed);
  return harness_counts->failed ? 1 : 0;
}

/* Say why the test cannot run here; returns HARNESS_SKIP for main to return. */
static inline int __attribute__ ((format (printf, 1, 2))) harness_skip (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  return HARNESS_SKIP;
}

/* ---------- a table of named test functions ---------- */

struct harness_test
{
  const char *name;
  int (*fn) (void); /* 0: passed */
};

static inline int
harness_run (const struct harness_test *tests, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      int r = tests[i].fn ();
      printf ("%s %s\n", r == 0 ? "ok  " : "FAIL", tests[i].name);
      if (r == 0)
        harness_pass ();
      else
        __atomic_add_fetch (&harness_counts->failed, 1, __ATOMIC_SEQ_CST);
    }
  return harness_summary ();
}

/* Run a static array of struct harness_test, print the summary, return the exit code. */
#define HARNESS_RUN(tests) harness_run ((tests), sizeof (tests) / sizeof (tests)[0])

/* ---------- forked children ---------- */

struct harness_child
{
  pid_t pid;  /* 0: none (reaped) */
  int msg_fd; /* what the child said (harness_say), EOF when it exits */
};

/* In the child: the write end of its message pipe. */
static int harness_msg_fd __attribute__ ((unused)) = -1;

/* From inside a child started by harness_child_start: a message for the parent. */
static inline void __attribute__ ((format (printf, 1, 2))) harness_say (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vdprintf (harness_msg_fd, fmt, ap);
  va_end (ap);
}

/* Inside a child function returning int: on failure say so and return -1. */
#define EXPECT(cond, ...)                                                                                    \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        {                                                                                                    \
          harness_say ("%s:%d: %s: ", __FILE__, __LINE__, #cond);                                            \
          harness_say (__VA_ARGS__);                                                                         \
          return -1;                                                                                         \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

/* Fork a child that runs fn(arg) and exits with its return value; it can
 * harness_say() to the parent.  Aborts if pipe or fork fail. */
static inline void
harness_child_start (struct harness_child *c, int (*fn) (void *), void *arg)
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
      close (fds[0]);
      harness_msg_fd = fds[1];
      _exit (fn (arg));
    }
  close (fds[1]);
  c->msg_fd = fds[0];
}

/* Wait for the child.  stop: a child that stops (SIGSTOP) is left stopped
 * for inspection, c->pid kept (end it with harness_child_finish), and 0 is
 * returned.  Otherwise its messages go to msg (NUL-terminated, at most len - 1
 * bytes), it is reaped (c->pid = 0) and its wait status returned. */
static inline int
harness_child_wait (struct harness_child *c, bool stop, char *msg, size_t len)
{
  size_t n = 0;
  ssize_t r;
  int st;

  if (waitpid (c->pid, &st, stop ? WUNTRACED : 0) != c->pid)
    abort ();
  if (stop && WIFSTOPPED (st))
    return 0;
  while (len > 0 && n < len - 1 && (r = read (c->msg_fd, msg + n, len - 1 - n)) > 0)
    n += (size_t)r;
  if (len > 0)
    msg[n] = '\0';
  close (c->msg_fd);
  c->msg_fd = -1;
  c->pid = 0;
  return st;
}

/* SIGKILL and reap a child of ours (nothing for pid <= 0). */
static inline void
harness_kill_reap (pid_t pid)
{
  if (pid > 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
}

/* End a child still running or stopped (nothing if it was reaped). */
static inline void
harness_child_finish (struct harness_child *c)
{
  if (c->pid > 0)
    {
      harness_kill_reap (c->pid);
      close (c->msg_fd);
      c->msg_fd = -1;
      c->pid = 0;
    }
}

/* Reap pid: its signal number if killed, else 1000 + its exit code; -1 if waitpid fails. */
static inline int
harness_reap (pid_t pid)
{
  int st = 0;
  if (waitpid (pid, &st, 0) != pid)
    return -1;
  return WIFSIGNALED (st) ? WTERMSIG (st) : 1000 + WEXITSTATUS (st);
}

/* The value of "Name:\t..." in /proc/PID/status, blanks before it skipped. */
static inline bool
harness_status_field (pid_t pid, const char *name, char *out, size_t outlen)
{
  char path[64], line[512];
  size_t nl = strlen (name);
  bool found = false;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
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

/* ---------- files, timeouts ---------- */

/* A small file's content without its final newline, in a static buffer
 * (overwritten by the next call); NULL if it cannot be read. */
static inline char *
harness_slurp (const char *path)
{
  static char buf[8192];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);
  if (fd >= 0)
    close (fd);
  buf[n > 0 ? n : 0] = '\0';
  if (n > 0 && buf[n - 1] == '\n')
    buf[n - 1] = '\0';
  return n < 0 ? NULL : buf;
}

/* Does path hold exactly want (final newline aside)?  Says what it holds if not. */
static inline bool
harness_file_is (const char *path, const char *want)
{
  const char *s = harness_slurp (path);
  if (s == NULL || strcmp (s, want) != 0)
    {
      printf ("  %s is `%s`, expected `%s`\n", path, s ? s : "(unreadable)", want);
      return false;
    }
  return true;
}

static void (*harness_timeout_cleanup) (void) __attribute__ ((unused));

static inline void
harness_on_timeout (int sig)
{
  (void)sig;
  printf ("FAIL: timed out, cleaning up\n");
  if (harness_timeout_cleanup)
    harness_timeout_cleanup ();
  _exit (2);
}

/* After `seconds`: print "FAIL: timed out, cleaning up", run cleanup, exit 2. */
static inline void
harness_timeout (unsigned seconds, void (*cleanup) (void))
{
  harness_timeout_cleanup = cleanup;
  signal (SIGALRM, harness_on_timeout);
  alarm (seconds);
}

#endif
