/* sync.c: the launcher <-> container-init message channel (see sync.h).
 * Waiting always watches the child's pidfd as well, so a child that dies
 * mid-setup is noticed at once instead of hanging the launcher. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/sync.h"
#include "base/utils.h"

static const char *const type_names[] = {
  [MR_SYNC_EOF] = "EOF",
  [MR_SYNC_USERNS_READY] = "USERNS_READY",
  [MR_SYNC_USERNS_MAPPED] = "USERNS_MAPPED",
  [MR_SYNC_HOOKS_RUNTIME] = "HOOKS_RUNTIME",
  [MR_SYNC_HOOKS_DONE] = "HOOKS_DONE",
  [MR_SYNC_PIDS] = "PIDS",
  [MR_SYNC_READY] = "READY",
  [MR_SYNC_START] = "START",
  [MR_SYNC_ERROR] = "ERROR",
  [MR_SYNC_TERMINAL] = "TERMINAL",
  [MR_SYNC_INIT_PID] = "INIT_PID",
  [MR_SYNC_NETDEVS] = "NETDEVS",
  [MR_SYNC_NETDEVS_DONE] = "NETDEVS_DONE",
};

const char *
mr_sync_type_name (enum mr_sync_type t)
{
  if ((size_t) t < sizeof type_names / sizeof type_names[0] && type_names[t])
    return type_names[t];
  return "UNKNOWN";
}

int
mr_sync_pair (int fds[2], mr_error_t *err)
{
  int one = 1;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return mr_error_set (err, errno, "socketpair for the setup channel");
  if (setsockopt (fds[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
    {
      int e = errno;
      close (fds[0]);
      close (fds[1]);
      return mr_error_set (err, e, "setsockopt(SO_PASSCRED) on the setup channel");
    }
  return 0;
}

int
mr_sync_send_msg (int fd, const struct mr_sync_msg *msg, mr_error_t *err)
{
  ssize_t n;
  do
    n = send (fd, msg, sizeof *msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return mr_error_set (err, errno, "send %s on the setup channel", mr_sync_type_name (msg->type));
  if ((size_t) n != sizeof *msg)
    return mr_error_set (err, EIO, "short send of %s on the setup channel", mr_sync_type_name (msg->type));
  return 0;
}

int
mr_sync_send (int fd, enum mr_sync_type type, mr_error_t *err)
{
  struct mr_sync_msg msg;
  memset (&msg, 0, sizeof msg);
  msg.type = type;
  return mr_sync_send_msg (fd, &msg, err);
}

void
mr_sync_send_error (int fd, const char *step, const struct mr_error *e)
{
  mr_sync_send_error_index (fd, 0, step, e);
}

void
mr_sync_send_error_index (int fd, int index, const char *step, const struct mr_error *e)
{
  struct mr_sync_msg msg;
  mr_error_t ignored = NULL;

  memset (&msg, 0, sizeof msg);
  msg.type = MR_SYNC_ERROR;
  msg.index = index;
  msg.errno_ = e ? e->errno_ : 0;
  strncpy (msg.step, step ? step : "setup", sizeof msg.step - 1);
  strncpy (msg.text, e && e->msg ? e->msg : "unknown error", sizeof msg.text - 1);
  if (mr_sync_send_msg (fd, &msg, &ignored) < 0)
    mr_error_free (&ignored);
}

int mr_sync_recv_fd (int sock, struct mr_sync_msg *msg, int *fd_out, mr_error_t *err);

int
mr_sync_recv (int fd, int pidfd, int timeout_ms, const char *what, struct mr_sync_msg *msg, mr_error_t *err)
{
  long long deadline = timeout_ms >= 0 ? mr_now_ms () + timeout_ms : -1;

  for (;;)
    {
      struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      int wait_ms = -1, r;

      if (deadline >= 0)
        {
          long long left = deadline - mr_now_ms ();
          if (left <= 0)
            return mr_error_set (err, ETIMEDOUT, "%s: no answer from the container process within %d ms",
                                 what, timeout_ms);
          wait_ms = (int) left;
        }
      r = poll (pfd, pidfd >= 0 ? 2 : 1, wait_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return mr_error_set (err, errno, "%s: poll on the setup channel", what);
      if (r == 0)
        continue;
      if (pfd[0].revents)
        {
          int passed = -1;
          if (mr_sync_recv_fd (fd, msg, &passed, err) < 0)
            return mr_error_wrap (err, "%s", what);
          msg->fd = passed;
          return 0;
        }
      if (pidfd >= 0 && pfd[1].revents)
        {
          /* The child exited.  A message it sent just before dying is still
           * queued: the socket is checked first on the next round. */
          struct pollfd again = { .fd = fd, .events = POLLIN };
          if (poll (&again, 1, 0) > 0)
            continue;
          return mr_error_set (err, ECHILD, "%s: the container process exited during setup", what);
        }
    }
}

int
mr_sync_expect (int fd, int pidfd, int timeout_ms, enum mr_sync_type type, struct mr_sync_msg *msg,
                mr_error_t *err)
{
  if (mr_sync_recv (fd, pidfd, timeout_ms, mr_sync_type_name (type), msg, err) < 0)
    return -1;
  if (msg->type == type)
    return 0;
  if (msg->type == MR_SYNC_ERROR)
    {
      mr_error_set (err, 0, "%s", msg->text);
      (*err)->errno_ = msg->errno_;
      return -1;
    }
  if (msg->type == MR_SYNC_EOF)
    return mr_error_set (err, EPIPE, "the container process closed the setup channel while %s was expected",
                         mr_sync_type_name (type));
  return mr_error_set (err, EPROTO, "setup channel: expected %s, got %s", mr_sync_type_name (type),
                       mr_sync_type_name (msg->type));
}

int
mr_send_fd (int sock, int fd, const void *payload, size_t len, mr_error_t *err)
{
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { .iov_base = (void *) payload, .iov_len = len };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *cm;
  ssize_t n;

  memset (cbuf, 0, sizeof cbuf);
  cm = CMSG_FIRSTHDR (&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof (int));
  do
    n = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return mr_error_set (err, errno, "send a file descriptor (SCM_RIGHTS)");
  return 0;
}

int
mr_unix_connect (const char *path, const char *flag, mr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return mr_error_set (err, errno, "%s: socket", flag);
  if (strlen (path) >= sizeof addr.sun_path)
    return mr_error_set (err, ENAMETOOLONG, "%s `%s`: path longer than %zu bytes", flag, path,
                         sizeof addr.sun_path - 1);
  memcpy (addr.sun_path, path, strlen (path) + 1);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return mr_error_set (err, errno, "%s: connect to `%s`", flag, path);
  return MR_STEAL_FD (fd);
}

int
mr_pidfd_socket_send (int sock, int pidfd, const char *kind, mr_error_t *err)
{
  if (mr_send_fd (sock, pidfd, kind, strlen (kind), err) < 0)
    return mr_error_wrap (err, "--pidfd-socket: send the %s process's pidfd", kind);
  return 0;
}

int
mr_sync_send_fd (int sock, enum mr_sync_type type, int fd, mr_error_t *err)
{
  struct mr_sync_msg msg;
  memset (&msg, 0, sizeof msg);
  msg.type = type;
  return mr_send_fd (sock, fd, &msg, sizeof msg, err);
}

int
mr_sync_recv_fd (int sock, struct mr_sync_msg *msg, int *fd_out, mr_error_t *err)
{
  char cbuf[CMSG_SPACE (sizeof (int)) + CMSG_SPACE (sizeof (struct ucred))];
  struct iovec iov = { .iov_base = msg, .iov_len = sizeof *msg };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *cm;
  ssize_t n;

  *fd_out = -1;
  memset (msg, 0, sizeof *msg);
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return mr_error_set (err, errno, "receive on the setup channel");
  if (n == 0)
    {
      msg->type = MR_SYNC_EOF;
      return 0;
    }
  for (cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy (fd_out, CMSG_DATA (cm), sizeof (int));
      else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS)
        {
          struct ucred cred;
          memcpy (&cred, CMSG_DATA (cm), sizeof cred);
          msg->sender_pid = cred.pid;
        }
    }
  if ((size_t) n != sizeof *msg)
    {
      if (*fd_out >= 0)
        close (*fd_out);
      *fd_out = -1;
      return mr_error_set (err, EPROTO, "malformed message on the setup channel (%zd bytes)", n);
    }
  msg->step[sizeof msg->step - 1] = '\0';
  msg->text[sizeof msg->text - 1] = '\0';
  return 0;
}

bool
mr_sync_peer_gone (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = 0 };
  return poll (&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
}
