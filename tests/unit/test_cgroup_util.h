/* test_cgroup_util.h: what the cgroup tests (test_cgroup.c, test_cgroup_v2.c,
 * test_cgroup_mount.c) share beyond harness.h: their start (results on
 * stdout, the /minirun-test-<pid> prefix), a create that must fail with a
 * given message, the idle end of a test child, and starting a child
 * directly in a cgroup's v2 directory with clone3(CLONE_INTO_CGROUP), or
 * where clone3 is ENOSYS (valgrind 3.19) by fork and a move by pid. */
#ifndef MINIRUN_TEST_CGROUP_UTIL_H
#define MINIRUN_TEST_CGROUP_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/util.h"
#include "harness.h"
#include "base/syscalls.h"

/* The start of a cgroup test: results and failures go to stdout.  If it
 * cannot run here, print "SKIP: <why>" and return false (main then returns
 * harness_summary ()); else make stdout unbuffered (children print too) and
 * set top to "/minirun-test-<pid>", the prefix of every cgroup it makes. */
static inline bool
tc_begin (bool can_run, const char *why, char *top, size_t len)
{
  harness_out = stdout;
  if (!can_run)
    {
      printf ("SKIP: %s\n", why);
      return false;
    }
  setvbuf (stdout, NULL, _IONBF, 0);
  snprintf (top, len, "/minirun-test-%d", (int)getpid ());
  return true;
}

/* mr_cgroup_create (path, r) must fail with needle in its message (what
 * names the case in the failure line); show: print the message. */
static inline void
tc_expect_create_error (const char *path, const struct mr_resources *r, const char *needle, const char *what,
                        bool show)
{
  struct mr_cgroup *cg = NULL;
  mr_error_t err = NULL;

  CHECK (mr_cgroup_create (path, r, &cg, &err) < 0 && strstr (ERRMSG (err), needle), "%s: %s", what,
         ERRMSG (err));
  if (show)
    printf ("  (expected error) %s\n", ERRMSG (err));
  mr_cgroup_free (cg);
  mr_error_free (&err);
}

/* The end of a test child: spin on *counter (spin) or sleep until killed. */
static inline void __attribute__ ((noreturn)) tc_child_idle (bool spin, volatile long *counter)
{
  if (spin)
    for (;;)
      (*counter)++;
  for (;;)
    pause ();
}

/* Like fork(): 0 in the child (which is in cg's v2 directory; it exits 97 if
 * the fallback move fails), the pid in the parent, -1 on failure. */
static inline pid_t
tc_clone_into (const struct mr_cgroup *cg)
{
  struct clone_args a = { 0 };
  pid_t pid;

  a.flags = CLONE_INTO_CGROUP;
  a.exit_signal = SIGCHLD;
  a.cgroup = (uint64_t)mr_cgroup_v2_dirfd (cg);
  pid = mr_clone3 (&a, sizeof a);
  if (pid < 0 && errno == ENOSYS)
    {
      /* valgrind 3.19 has no clone3: the slow path, a move by pid */
      static bool said;
      if (!said)
        printf ("  note: clone3 is ENOSYS here (valgrind?): using fork + mr_cgroup_enter_pid\n");
      said = true;
      pid = fork ();
      if (pid == 0)
        {
          mr_error_t err = NULL;
          if (mr_cgroup_enter_pid (cg, getpid (), &err) < 0)
            _exit (97);
        }
    }
  return pid;
}

#endif
