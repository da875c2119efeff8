/* test_security_util.h: what the security tests (test_security.c,
 * test_seccomp.c) share beyond harness.h: UNDER_VALGRIND / UNDER_SANITIZER
 * (valgrind refuses to raise RLIMIT_NOFILE's hard limit, and valgrind and
 * ASan run their own syscalls inside a seccomp-filtered child, so a few steps
 * are skipped there), mr_security_prepare with its error message put in a
 * buffer, a prepare that must fail with a given message, and a forked child
 * that applies the prepared settings as the container process would, runs a
 * check inside and optionally stops itself for inspection. */
#ifndef MINIRUN_TEST_SECURITY_UTIL_H
#define MINIRUN_TEST_SECURITY_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "security/security.h"

#if defined __has_include
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND 0
#endif
#ifdef __SANITIZE_ADDRESS__
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* mr_security_prepare (s may be NULL); on failure the message goes to msg. */
static inline int
ts_prepare (const struct mr_process *p, const struct mr_seccomp *s, struct mr_security **sec, char *msg,
            size_t len)
{
  mr_error_t err = NULL;
  if (mr_security_prepare (p, s, sec, &err) == 0)
    return 0;
  snprintf (msg, len, "%s", err->msg);
  mr_error_free (&err);
  return -1;
}

/* mr_security_prepare must fail with `expect` in its message: 0 if it does. */
static inline int
ts_expect_prepare_error (const struct mr_process *p, const struct mr_seccomp *s, const char *expect)
{
  struct mr_security *sec = NULL;
  char msg[1024] = "";
  int ret = 0;

  REQUIRE (ts_prepare (p, s, &sec, msg, sizeof msg) < 0, "prepare succeeded, expected `%s`", expect);
  REQUIRE (strstr (msg, expect) != NULL, "error `%s` does not contain `%s`", msg, expect);
out:
  mr_security_free (sec);
  return ret;
}

/* Runs in the child; harness_say() reports from there.  Nonzero: failed. */
typedef int (*ts_inside_fn) (void *arg);

struct ts_apply
{
  const struct mr_security *sec;
  const struct mr_process *p;
  ts_inside_fn inside;
  void *arg;
  bool stop;
};

static inline int
ts_apply_child (void *arg)
{
  const struct ts_apply *a = arg;
  mr_error_t err = NULL;

  if (mr_security_apply (a->sec, a->p, NULL, &err) < 0)
    {
      harness_say ("apply: %s", err->msg);
      return 2;
    }
  if (a->inside && a->inside (a->arg) != 0)
    return 3;
  if (a->stop)
    raise (SIGSTOP);
  return 0;
}

/* Fork a child that applies sec/p and runs inside(arg) (if not NULL): it
 * exits 0 if all went well, 2 if apply failed, 3 if inside failed; with stop
 * it raises SIGSTOP at the end.  Wait for it with harness_child_wait. */
static inline void
ts_start (struct harness_child *c, const struct mr_security *sec, const struct mr_process *p,
          ts_inside_fn inside, void *arg, bool stop)
{
  struct ts_apply a = { sec, p, inside, arg, stop };
  harness_child_start (c, ts_apply_child, &a);
}

#endif
