/* seccomp_notify.c: the seccomp agent's side of SCMP_ACT_NOTIFY: the OCI
 * containerProcessState JSON (the container's state, the fd names and the
 * listenerMetadata) and the hand-over of the listener fd to the agent at
 * linux.seccomp.listenerPath over a unix socket (SCM_RIGHTS).  Runs in the
 * container process right after the filter is loaded (seccomp.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "security/security_internal.h"
#include "base/utils.h"

/* The ociVersion put into the containerProcessState when the caller's state
 * JSON has none. */
#define MR_SECCOMP_OCI_VERSION "1.2.0"

char *
mr_seccomp_process_state (const char *state_json, const char *metadata, mr_error_t *err)
{
  json_t *state, *root, *v;
  json_error_t jerr;
  json_int_t pid = getpid ();
  const char *version = MR_SECCOMP_OCI_VERSION;
  char *out;

  if (state_json != NULL)
    {
      state = json_loads (state_json, 0, &jerr);
      if (state == NULL)
        {
          mr_error_set (err, 0, "container state for the seccomp listener: invalid JSON: %s", jerr.text);
          return NULL;
        }
      if (!json_is_object (state))
        {
          json_decref (state);
          mr_error_set (err, 0, "container state for the seccomp listener is not a JSON object");
          return NULL;
        }
    }
  else
    state = json_pack ("{s:s, s:s, s:I}", "ociVersion", version, "status", "creating", "pid", pid);
  if (state == NULL)
    {
      mr_error_set (err, ENOMEM, "build the container state");
      return NULL;
    }
  if ((v = json_object_get (state, "pid")) != NULL && json_is_integer (v))
    pid = json_integer_value (v);
  if ((v = json_object_get (state, "ociVersion")) != NULL && json_is_string (v))
    version = json_string_value (v);

  /* "o" steals the reference to state. */
  root = json_pack ("{s:s, s:[s], s:I, s:o}", "ociVersion", version, "fds", "seccompFd", "pid", pid, "state",
                    state);
  if (root == NULL)
    {
      mr_error_set (err, ENOMEM, "build the containerProcessState");
      return NULL;
    }
  if (metadata != NULL && json_object_set_new (root, "metadata", json_string (metadata)) < 0)
    {
      json_decref (root);
      mr_error_set (err, EINVAL, "linux.seccomp.listenerMetadata is not valid UTF-8");
      return NULL;
    }
  out = json_dumps (root, JSON_COMPACT);
  json_decref (root);
  if (out == NULL)
    {
      mr_error_set (err, ENOMEM, "serialize the containerProcessState");
      return NULL;
    }
  return out;
}

int
mr_seccomp_connect_listener (const char *path, mr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  if (strlen (path) >= sizeof addr.sun_path)
    return mr_error_set (err, ENAMETOOLONG, "linux.seccomp.listenerPath `%s`: longer than %zu bytes", path,
                         sizeof addr.sun_path - 1);
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return mr_error_set (err, errno, "socket for the seccomp listener");
  while (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    if (errno != EINTR)
      return mr_error_set (err, errno, "connect to the seccomp listener `%s` (linux.seccomp.listenerPath)",
                           path);
  return MR_STEAL_FD (fd);
}

int
mr_seccomp_send_listener (const struct mr_security *sec, int notify_fd, const char *state_json, mr_error_t *err)
{
  cleanup_free char *msg = mr_seccomp_process_state (state_json, sec->listener_metadata, err);
  cleanup_close int sock = -1;
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov;
  struct msghdr mh = { 0 };
  struct cmsghdr *cm;
  size_t len, done;
  ssize_t n;

  if (msg == NULL)
    return -1;
  sock = sec->listener_fd >= 0 ? sec->listener_fd : mr_seccomp_connect_listener (sec->listener_path, err);
  if (sock < 0)
    return -1;

  len = strlen (msg);
  iov = (struct iovec){ .iov_base = msg, .iov_len = len };
  memset (&u, 0, sizeof u);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = u.buf;
  mh.msg_controllen = sizeof u.buf;
  cm = CMSG_FIRSTHDR (&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &notify_fd, sizeof (int));

  do
    n = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return mr_error_set (err, errno, "send the seccomp listener fd to `%s`", sec->listener_path);
  for (done = (size_t) n; done < len; done += (size_t) n)
    {
      n = send (sock, msg + done, len - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        {
          n = 0;
          continue;
        }
      if (n < 0)
        return mr_error_set (err, errno, "send the container state to the seccomp listener `%s`",
                             sec->listener_path);
    }
  return 0;
}

