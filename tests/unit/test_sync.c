/* test_sync.c: the launcher <-> init channel (runtime/process/sync.c) on a
 * real socketpair, no root needed: the pair's type and flags, a message and
 * its fields both ways, the sender's pid (SO_PASSCRED) from this process and
 * from a forked child, mr_sync_expect's four outcomes (the type, an ERROR
 * that becomes the error, EOF, another type), ERROR messages with long or
 * missing text (truncated, NUL-terminated), an fd passed with a message
 * (received close-on-exec), a malformed message (refused, its fd closed), a
 * send to a closed peer (EPIPE, no SIGPIPE), the timeout, a child that dies
 * without a word (noticed through its pidfd) or after one (the word still
 * arrives), mr_sync_peer_gone, and the type names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/syscalls.h"
#include "harness.h"
#include "process/sync.h"

/* fds[0] the launcher's end, fds[1] the child's, as mr_sync_pair makes them. */
static int fds[2] = { -1, -1 };

static int
open_pair (void)
{
  mr_error_t err = NULL;
  if (mr_sync_pair (fds, &err) < 0)
    {
      printf ("FAIL mr_sync_pair: %s\n", ERRMSG (err));
      mr_error_free (&err);
      return -1;
    }
  return 0;
}

static void
close_pair (void)
{
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  if (d == NULL)
    return -1;
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

static int
test_pair (void)
{
  int ret = 0, type = 0, cred = 0;
  socklen_t len = sizeof type;

  REQUIRE (open_pair () == 0);
  CHECK ((fcntl (fds[0], F_GETFD) & FD_CLOEXEC) && (fcntl (fds[1], F_GETFD) & FD_CLOEXEC),
         "not close-on-exec");
  CHECK (getsockopt (fds[0], SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET, "type %d",
         type);
  len = sizeof cred;
  CHECK (getsockopt (fds[0], SOL_SOCKET, SO_PASSCRED, &cred, &len) == 0 && cred == 1,
         "SO_PASSCRED is not on the launcher's end");
out:
  close_pair ();
  return ret;
}

static int
test_message_fields (void)
{
  struct mr_sync_msg m, got;
  mr_error_t err = NULL;
  int ret = 0;

  REQUIRE (open_pair () == 0);
  memset (&m, 0, sizeof m);
  m.type = MR_SYNC_PIDS;
  m.index = 3;
  m.n_pids = 3;
  m.pids[0] = 42000;
  m.pids[1] = 41;
  m.pids[2] = 1;
  REQUIRE (mr_sync_send_msg (fds[1], &m, &err) == 0, "%s", ERRMSG (err));
  REQUIRE (mr_sync_recv (fds[0], -1, -1, "pids", &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (got.type == MR_SYNC_PIDS && got.index == 3 && got.n_pids == 3);
  CHECK (got.pids[0] == 42000 && got.pids[1] == 41 && got.pids[2] == 1);
  CHECK (got.fd == -1, "fd %d without SCM_RIGHTS", got.fd);
  CHECK (got.sender_pid == getpid (), "sender %d, this process is %d", got.sender_pid, (int)getpid ());

  /* the other way (parent -> child): a bare message; no credentials on that end */
  REQUIRE (mr_sync_send (fds[0], MR_SYNC_START, &err) == 0, "%s", ERRMSG (err));
  REQUIRE (mr_sync_expect (fds[1], -1, -1, MR_SYNC_START, &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (got.index == 0 && got.n_pids == 0 && got.step[0] == '\0' && got.text[0] == '\0');
  CHECK (got.sender_pid == 0, "credentials on the child's end: %d", got.sender_pid);

  /* step and text that fill their buffers arrive NUL-terminated */
  memset (&m, 'x', sizeof m);
  m.type = MR_SYNC_ERROR;
  REQUIRE (mr_sync_send_msg (fds[1], &m, &err) == 0, "%s", ERRMSG (err));
  REQUIRE (mr_sync_recv (fds[0], -1, -1, "error", &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (strlen (got.step) == sizeof got.step - 1 && strlen (got.text) == sizeof got.text - 1);
out:
  mr_error_free (&err);
  close_pair ();
  return ret;
}

static int
child_sends_ready (void *arg)
{
  mr_error_t err = NULL;
  (void)arg;
  close (fds[0]);
  if (mr_sync_send (fds[1], MR_SYNC_READY, &err) < 0)
    return 1;
  return 0;
}

/* The sender's pid comes from the kernel (SCM_CREDENTIALS), not from the message. */
static int
test_sender_pid_of_a_child (void)
{
  struct harness_child c = { 0 };
  struct mr_sync_msg got;
  mr_error_t err = NULL;
  pid_t pid;
  char said[256];
  int ret = 0, st;

  REQUIRE (open_pair () == 0);
  harness_child_start (&c, child_sends_ready, NULL);
  pid = c.pid;
  REQUIRE (mr_sync_expect (fds[0], -1, -1, MR_SYNC_READY, &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (got.sender_pid == pid, "sender %d, the child is %d", got.sender_pid, (int)pid);
  st = harness_child_wait (&c, false, said, sizeof said);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0, "child: %s", said);
out:
  harness_child_finish (&c);
  mr_error_free (&err);
  close_pair ();
  return ret;
}

static int
test_expect_outcomes (void)
{
  struct mr_sync_msg got;
  mr_error_t err = NULL, e = NULL;
  int ret = 0;

  REQUIRE (open_pair () == 0);
  /* an ERROR message becomes the error, errno kept */
  mr_error_set (&e, ENOENT, "mount `/x`");
  mr_sync_send_error (fds[1], "mounts", e);
  CHECK (mr_sync_expect (fds[0], -1, -1, MR_SYNC_READY, &got, &err) < 0);
  REQUIRE (err != NULL);
  CHECK_STR (err->msg, "mount `/x`: No such file or directory");
  CHECK (err->errno_ == ENOENT, "errno %d", err->errno_);
  CHECK_STR (got.step, "mounts");
  mr_error_free (&err);

  /* another type */
  REQUIRE (mr_sync_send (fds[1], MR_SYNC_HOOKS_RUNTIME, &err) == 0, "%s", ERRMSG (err));
  CHECK (mr_sync_expect (fds[0], -1, -1, MR_SYNC_READY, &got, &err) < 0);
  REQUIRE (err != NULL);
  CHECK_STR (err->msg, "setup channel: expected READY, got HOOKS_RUNTIME: Protocol error");
  CHECK (err->errno_ == EPROTO);
  mr_error_free (&err);

  /* EOF: the child's end closed (as on execve) */
  close (fds[1]);
  fds[1] = -1;
  CHECK (mr_sync_recv (fds[0], -1, -1, "eof", &got, &err) == 0 && got.type == MR_SYNC_EOF, "%s",
         ERRMSG (err));
  mr_error_free (&err);
  CHECK (mr_sync_expect (fds[0], -1, -1, MR_SYNC_READY, &got, &err) < 0);
  REQUIRE (err != NULL);
  CHECK_STR (err->msg,
             "the container process closed the setup channel while READY was expected: Broken pipe");
  CHECK (err->errno_ == EPIPE);
out:
  mr_error_free (&err);
  mr_error_free (&e);
  close_pair ();
  return ret;
}

static int
test_error_messages (void)
{
  struct mr_sync_msg got;
  mr_error_t err = NULL, e = NULL;
  char long_text[4000], long_step[100];
  int ret = 0;

  REQUIRE (open_pair () == 0);
  /* no step, no error: still a message that says so */
  mr_sync_send_error_index (fds[1], 5, NULL, NULL);
  REQUIRE (mr_sync_recv (fds[0], -1, -1, "error", &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (got.type == MR_SYNC_ERROR && got.index == 5 && got.errno_ == 0);
  CHECK_STR (got.step, "setup");
  CHECK_STR (got.text, "unknown error");

  /* longer than the buffers: cut, NUL-terminated, the start kept */
  memset (long_text, 'a', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  memset (long_step, 's', sizeof long_step - 1);
  long_step[sizeof long_step - 1] = '\0';
  mr_error_set (&e, 0, "%s", long_text);
  mr_sync_send_error (fds[1], long_step, e);
  REQUIRE (mr_sync_recv (fds[0], -1, -1, "error", &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (got.index == 0);
  CHECK (strlen (got.text) == MR_SYNC_TEXT_MAX - 1
             && strncmp (got.text, long_text, MR_SYNC_TEXT_MAX - 1) == 0,
         "%zu bytes of text", strlen (got.text));
  CHECK (strlen (got.step) == sizeof got.step - 1, "%zu bytes of step", strlen (got.step));
out:
  mr_error_free (&err);
  mr_error_free (&e);
  close_pair ();
  return ret;
}

static int
test_fd_passing (void)
{
  struct mr_sync_msg got;
  mr_error_t err = NULL;
  int ret = 0, p[2] = { -1, -1 };
  char buf[8] = "";

  REQUIRE (open_pair () == 0);
  REQUIRE (pipe2 (p, O_CLOEXEC) == 0);
  REQUIRE (mr_sync_send_fd (fds[1], MR_SYNC_TERMINAL, p[1], &err) == 0, "%s", ERRMSG (err));
  REQUIRE (mr_sync_recv (fds[0], -1, -1, "terminal", &got, &err) == 0, "%s", ERRMSG (err));
  CHECK (got.type == MR_SYNC_TERMINAL);
  REQUIRE (got.fd >= 0 && got.fd != p[1], "fd %d", got.fd);
  CHECK (fcntl (got.fd, F_GETFD) & FD_CLOEXEC, "the received fd is not close-on-exec");
  CHECK (write (got.fd, "hi", 2) == 2);
  CHECK (read (p[0], buf, sizeof buf - 1) == 2 && strcmp (buf, "hi") == 0, "the fd is not the pipe: `%s`",
         buf);
  close (got.fd);

  /* mr_sync_recv_fd directly: no fd came */
  REQUIRE (mr_sync_send (fds[1], MR_SYNC_READY, &err) == 0, "%s", ERRMSG (err));
  {
    int fd = 7;
    REQUIRE (mr_sync_recv_fd (fds[0], &got, &fd, &err) == 0, "%s", ERRMSG (err));
    CHECK (fd == -1 && got.type == MR_SYNC_READY, "fd %d", fd);
  }
out:
  if (p[0] >= 0)
    close (p[0]);
  if (p[1] >= 0)
    close (p[1]);
  mr_error_free (&err);
  close_pair ();
  return ret;
}

static int
test_malformed (void)
{
  struct mr_sync_msg got;
  mr_error_t err = NULL;
  int ret = 0, before, p[2] = { -1, -1 };

  REQUIRE (open_pair () == 0);
  REQUIRE (send (fds[1], "0123456789", 10, 0) == 10);
  CHECK (mr_sync_recv (fds[0], -1, -1, "READY", &got, &err) < 0);
  REQUIRE (err != NULL);
  CHECK_STR (err->msg, "READY: malformed message on the setup channel (10 bytes): Protocol error");
  CHECK (err->errno_ == EPROTO);
  mr_error_free (&err);

  /* a short message with an fd: refused, and the fd does not stay open here */
  REQUIRE (pipe2 (p, O_CLOEXEC) == 0);
  before = count_fds ();
  REQUIRE (mr_send_fd (fds[1], p[1], "x", 1, &err) == 0, "%s", ERRMSG (err));
  CHECK (mr_sync_recv (fds[0], -1, -1, "TERMINAL", &got, &err) < 0);
  CHECK (count_fds () == before, "%d fds open, %d before: the passed fd leaked", count_fds (), before);
out:
  if (p[0] >= 0)
    close (p[0]);
  if (p[1] >= 0)
    close (p[1]);
  mr_error_free (&err);
  close_pair ();
  return ret;
}

static int
test_send_to_a_closed_peer (void)
{
  mr_error_t err = NULL;
  int ret = 0;

  REQUIRE (open_pair () == 0);
  CHECK (!mr_sync_peer_gone (fds[1]), "the peer is still there");
  close (fds[0]);
  fds[0] = -1;
  CHECK (mr_sync_peer_gone (fds[1]), "the closed peer is not noticed");
  /* MSG_NOSIGNAL: an error, not a SIGPIPE that would end this test */
  CHECK (mr_sync_send (fds[1], MR_SYNC_READY, &err) < 0);
  REQUIRE (err != NULL);
  CHECK (err->errno_ == EPIPE, "errno %d", err->errno_);
  CHECK_STR (err->msg, "send READY on the setup channel: Broken pipe");
out:
  mr_error_free (&err);
  close_pair ();
  return ret;
}

/* The timeout is only checked to end the wait with its error, not for how long it took. */
static int
test_timeout (void)
{
  struct mr_sync_msg got;
  mr_error_t err = NULL;
  int ret = 0;

  REQUIRE (open_pair () == 0);
  CHECK (mr_sync_recv (fds[0], -1, 20, "USERNS_READY", &got, &err) < 0);
  REQUIRE (err != NULL);
  CHECK (err->errno_ == ETIMEDOUT, "errno %d", err->errno_);
  CHECK_STR (err->msg,
             "USERNS_READY: no answer from the container process within 20 ms: Connection timed out");
out:
  mr_error_free (&err);
  close_pair ();
  return ret;
}

static int
child_exits (void *arg)
{
  return arg ? child_sends_ready (NULL) : 3;
}

/* A child that exits while the launcher waits: without a message it is an
 * error naming the step; a message sent before it died still arrives. */
static int
test_child_death (void)
{
  struct harness_child c = { 0 };
  struct mr_sync_msg got;
  mr_error_t err = NULL;
  siginfo_t si;
  int ret = 0, pidfd = -1;
  char said[256];

  for (int sends = 0; sends < 2; sends++)
    {
      harness_case = sends ? "sends, then exits" : "exits silently";
      REQUIRE (open_pair () == 0);
      harness_child_start (&c, child_exits, sends ? &c : NULL);
      pidfd = mr_pidfd_open (c.pid, 0);
      if (pidfd < 0 && errno == ENOSYS)
        {
          printf ("  skipped: pidfd_open: %s (a kernel before 5.3, or valgrind)\n", strerror (errno));
          break;
        }
      REQUIRE (pidfd >= 0, "pidfd_open: %s", strerror (errno));
      /* let it exit first (a zombie until reaped: the pidfd is readable) */
      memset (&si, 0, sizeof si);
      REQUIRE (waitid (P_PID, (id_t)c.pid, &si, WEXITED | WNOWAIT) == 0);
      if (sends)
        {
          CHECK (mr_sync_expect (fds[0], pidfd, -1, MR_SYNC_READY, &got, &err) == 0, "%s", ERRMSG (err));
          CHECK (got.sender_pid == c.pid);
        }
      else
        {
          CHECK (mr_sync_expect (fds[0], pidfd, -1, MR_SYNC_READY, &got, &err) < 0);
          REQUIRE (err != NULL);
          CHECK (err->errno_ == ECHILD, "errno %d", err->errno_);
          CHECK_STR (err->msg, "READY: the container process exited during setup: No child processes");
        }
      mr_error_free (&err);
      harness_child_wait (&c, false, said, sizeof said);
      close (pidfd);
      pidfd = -1;
      close_pair ();
    }
out:
  harness_case = NULL;
  if (pidfd >= 0)
    close (pidfd);
  harness_child_finish (&c);
  mr_error_free (&err);
  close_pair ();
  return ret;
}

static int
test_type_names (void)
{
  static const struct
  {
    enum mr_sync_type t;
    const char *name;
  } names[] = {
    { MR_SYNC_EOF, "EOF" },
    { MR_SYNC_USERNS_READY, "USERNS_READY" },
    { MR_SYNC_USERNS_MAPPED, "USERNS_MAPPED" },
    { MR_SYNC_HOOKS_RUNTIME, "HOOKS_RUNTIME" },
    { MR_SYNC_HOOKS_DONE, "HOOKS_DONE" },
    { MR_SYNC_PIDS, "PIDS" },
    { MR_SYNC_READY, "READY" },
    { MR_SYNC_START, "START" },
    { MR_SYNC_ERROR, "ERROR" },
    { MR_SYNC_TERMINAL, "TERMINAL" },
    { MR_SYNC_INIT_PID, "INIT_PID" },
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK_STR (mr_sync_type_name (names[i].t), names[i].name);
  for (int bad = -1; bad <= 99; bad += 100)
    CHECK_STR (mr_sync_type_name ((enum mr_sync_type)bad), "UNKNOWN");
  return 0;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "socketpair type and flags", test_pair },
    { "message fields both ways", test_message_fields },
    { "sender pid of a child", test_sender_pid_of_a_child },
    { "expect: error, other type, EOF", test_expect_outcomes },
    { "error messages: defaults and truncation", test_error_messages },
    { "fd passing", test_fd_passing },
    { "malformed messages", test_malformed },
    { "send to a closed peer", test_send_to_a_closed_peer },
    { "timeout", test_timeout },
    { "child death seen through its pidfd", test_child_death },
    { "type names", test_type_names },
  };
  harness_timeout (60, close_pair);
  return HARNESS_RUN (tests);
}
