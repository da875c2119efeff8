/* test_seccomp_notify.c: SCMP_ACT_NOTIFY end to end against the real kernel
 * (run as root).  This process plays the seccomp agent: it listens on a unix
 * socket, a forked child applies a filter whose mkdir/mkdirat notify, the
 * agent receives the listener fd with SCM_RIGHTS plus the OCI
 * containerProcessState JSON, checks it, and answers the child's mkdir calls
 * with seccomp_notify_respond (an error, then a value) which the child
 * checks.  Run once with the child connecting to listenerPath itself and
 * with the socket pre-connected by mr_security_listener_connect (with and
 * without no_new_privs).  Also
 * checks the containerProcessState builder.  Children are reaped, the socket
 * removed.  Prints "N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <seccomp.h>

#include "harness.h"
#include "security/security.h"
#include "security/security_internal.h"

#define TIMEOUT_MS 10000

/* The container side: apply, then two mkdirs answered by the agent. */
static void __attribute__ ((noreturn))
child_main (const struct mr_security *sec, const struct mr_process *p, int msg_fd)
{
  mr_error_t err = NULL;
  char state[256];

  snprintf (
      state, sizeof state,
      "{\"ociVersion\":\"1.2.0\",\"id\":\"mr-test\",\"status\":\"created\",\"pid\":%d,\"bundle\":\"/b\"}",
      (int)getpid ());
  if (mr_security_apply (sec, p, state, &err) < 0)
    {
      dprintf (msg_fd, "apply: %s", err->msg);
      _exit (2);
    }
  errno = 0;
  if (mkdir ("/mr-test-notify-nonexistent/a", 0700) != -1 || errno != EROFS)
    {
      dprintf (msg_fd, "first mkdir: errno %d, expected EROFS from the agent", errno);
      _exit (3);
    }
  if (mkdir ("/mr-test-notify-nonexistent/b", 0700) != 0)
    {
      dprintf (msg_fd, "second mkdir: errno %d, expected 0 from the agent", errno);
      _exit (3);
    }
  _exit (0);
}

static bool
wait_readable (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  return poll (&pfd, 1, TIMEOUT_MS) == 1;
}

/* Receive the fd and the whole JSON (the sender closes after one message). */
static int
receive (int conn, int *fd, char *buf, size_t len)
{
  union
  {
    char b[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
  struct cmsghdr *cm;
  size_t n;
  ssize_t r;

  *fd = -1;
  if (!wait_readable (conn) || (r = recvmsg (conn, &mh, MSG_CMSG_CLOEXEC)) <= 0)
    return -1;
  for (cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      memcpy (fd, CMSG_DATA (cm), sizeof (int));
  n = (size_t)r;
  while (n < len - 1 && wait_readable (conn) && (r = read (conn, buf + n, len - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = '\0';
  return *fd >= 0 ? 0 : -1;
}

/* Wait for one notification and answer it. */
static int
answer (int fd, pid_t pid, int error, int64_t val, char *why, size_t len)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  int r = -1;

  if (seccomp_notify_alloc (&req, &resp) < 0)
    {
      snprintf (why, len, "seccomp_notify_alloc failed");
      return -1;
    }
  if (!wait_readable (fd))
    snprintf (why, len, "no notification within %d ms", TIMEOUT_MS);
  else if (seccomp_notify_receive (fd, req) < 0)
    snprintf (why, len, "seccomp_notify_receive failed");
  else if (req->pid != (uint32_t)pid)
    snprintf (why, len, "notification from pid %u, expected %d", req->pid, (int)pid);
  else if (req->data.nr != __NR_mkdir && req->data.nr != __NR_mkdirat)
    snprintf (why, len, "notification for syscall %d, expected mkdir", req->data.nr);
  else
    {
      resp->id = req->id;
      resp->error = error;
      resp->val = val;
      resp->flags = 0;
      if (seccomp_notify_respond (fd, resp) < 0)
        snprintf (why, len, "seccomp_notify_respond failed");
      else
        r = 0;
    }
  seccomp_notify_free (req, resp);
  return r;
}

static int
run_notify (bool preconnect, bool nnp)
{
  static char *names[] = { (char *)"mkdir", (char *)"mkdirat", NULL };
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct mr_seccomp_rule rule = { .names = names, .n_names = 2, .action = MR_SECCOMP_NOTIFY };
  struct mr_seccomp s
      = { .present = true, .default_action = MR_SECCOMP_ALLOW, .syscalls = &rule, .n_syscalls = 1 };
  struct mr_process p = { .cwd = (char *)"/", .no_new_privileges = nnp };
  struct mr_security *sec = NULL;
  mr_error_t err = NULL;
  char buf[4096] = "", why[256] = "";
  json_t *root = NULL;
  json_error_t jerr;
  int ret = 0, lfd = -1, conn = -1, nfd = -1, msg[2] = { -1, -1 }, st;
  pid_t pid = 0;

  snprintf (addr.sun_path, sizeof addr.sun_path, "/tmp/mr-test-seccomp-%d.sock", (int)getpid ());
  unlink (addr.sun_path);
  lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE (lfd >= 0 && bind (lfd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen (lfd, 4) == 0,
           "listen: %s", strerror (errno));
  s.listener_path = addr.sun_path;
  s.listener_metadata = (char *)"hello=1";
  REQUIRE (mr_security_prepare (&p, &s, &sec, &err) == 0, "%s", err->msg);
  if (preconnect)
    REQUIRE (mr_security_listener_connect (sec, &err) == 0, "%s", err->msg);
  REQUIRE (pipe2 (msg, O_CLOEXEC) == 0, "pipe");
  fflush (NULL);
  pid = fork ();
  REQUIRE (pid >= 0, "fork");
  if (pid == 0)
    {
      close (msg[0]);
      child_main (sec, &p, msg[1]);
    }
  close (msg[1]);
  msg[1] = -1;
  mr_security_free (sec); /* the launcher's copy of the pre-connected socket */
  sec = NULL;

  REQUIRE (wait_readable (lfd) && (conn = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0, "no connection");
  REQUIRE (receive (conn, &nfd, buf, sizeof buf) == 0, "no fd received; data `%s`", buf);
  root = json_loads (buf, 0, &jerr);
  REQUIRE (root != NULL, "JSON `%s`: %s", buf, jerr.text);
  REQUIRE (
      json_array_size (json_object_get (root, "fds")) == 1
          && strcmp (json_string_value (json_array_get (json_object_get (root, "fds"), 0)) ?: "", "seccompFd")
                 == 0,
      "fds in `%s`", buf);
  REQUIRE (strcmp (json_string_value (json_object_get (root, "metadata")) ?: "", "hello=1") == 0,
           "metadata `%s`", buf);
  REQUIRE (json_integer_value (json_object_get (root, "pid")) == pid, "pid in `%s`", buf);
  REQUIRE (strcmp (json_string_value (json_object_get (root, "ociVersion")) ?: "", "1.2.0") == 0,
           "version `%s`", buf);
  REQUIRE (
      strcmp (json_string_value (json_object_get (json_object_get (root, "state"), "id")) ?: "", "mr-test")
          == 0,
      "state in `%s`", buf);
  REQUIRE (answer (nfd, pid, -EROFS, 0, why, sizeof why) == 0, "first: %s", why);
  REQUIRE (answer (nfd, pid, 0, 0, why, sizeof why) == 0, "second: %s", why);
  REQUIRE (waitpid (pid, &st, 0) == pid, "waitpid");
  pid = 0;
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      ssize_t n = read (msg[0], why, sizeof why - 1);
      why[n > 0 ? n : 0] = '\0';
    }
  REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 0, "child status %#x: %s", st, why);
out:
  if (pid > 0)
    {
      ssize_t n = read (msg[0], why, sizeof why - 1); /* the child may have said why */
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      if (n > 0)
        fprintf (stderr, "  child: %.*s\n", (int)n, why);
    }
  json_decref (root);
  mr_error_free (&err);
  mr_security_free (sec);
  {
    int fds[] = { lfd, conn, nfd, msg[0], msg[1] };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
      if (fds[i] >= 0)
        close (fds[i]);
  }
  unlink (addr.sun_path);
  return ret;
}

static int
test_notify_child_connects (void)
{
  return run_notify (false, true);
}

static int
test_notify_preconnected (void)
{
  return run_notify (true, true);
}

/* Without no_new_privs the filter is loaded (and its fd sent) before the
 * capabilities are dropped. */
static int
test_notify_without_nnp (void)
{
  return run_notify (true, false);
}

static int
test_process_state (void)
{
  mr_error_t err = NULL;
  char *s = NULL;
  json_t *root = NULL;
  int ret = 0;

  s = mr_seccomp_process_state (NULL, NULL, &err);
  REQUIRE (s != NULL, "%s", err->msg);
  root = json_loads (s, 0, NULL);
  REQUIRE (root && json_integer_value (json_object_get (json_object_get (root, "state"), "pid")) == getpid (),
           "`%s`", s);
  REQUIRE (json_object_get (root, "metadata") == NULL, "metadata without listenerMetadata: `%s`", s);
  free (s);
  s = NULL;
  REQUIRE (mr_seccomp_process_state ("{\"pid\":", NULL, &err) == NULL, "invalid JSON accepted");
  REQUIRE (strstr (err->msg, "container state for the seccomp listener: invalid JSON") != NULL, "`%s`",
           err->msg);
  mr_error_free (&err);
  REQUIRE (mr_seccomp_process_state ("[1]", NULL, &err) == NULL, "array accepted");
  REQUIRE (strstr (err->msg, "is not a JSON object") != NULL, "`%s`", err->msg);
out:
  json_decref (root);
  free (s);
  mr_error_free (&err);
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "notify_child_connects", test_notify_child_connects },
    { "notify_preconnected", test_notify_preconnected },
    { "notify_without_nnp", test_notify_without_nnp },
    { "process_state", test_process_state },
  };

  if (geteuid () != 0)
    return harness_skip ("test_seccomp_notify needs root");
  if (seccomp_api_get () < 5)
    return harness_skip ("seccomp API level %u < 5: no notify support, skipped", seccomp_api_get ());
  return HARNESS_RUN (tests);
}
