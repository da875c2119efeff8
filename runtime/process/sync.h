/* sync.h: the launcher <-> container-init protocol.
 *
 * One SOCK_SEQPACKET socketpair (both ends O_CLOEXEC), one fixed-size message
 * per step, so a message never needs reassembly.  The child's end closes on
 * execve, so "EOF after START" is the proof that exec succeeded.
 *
 *   child  -> parent   USERNS_READY   child has a new user namespace: write its id maps
 *   parent -> child    USERNS_MAPPED  maps written
 *   child  -> parent   HOOKS_RUNTIME  namespaces exist: run createRuntime/prestart hooks
 *   parent -> child    HOOKS_DONE     hooks ran
 *   child  -> parent   PIDS           a pinned child process was created (issue: trees)
 *   child  -> parent   READY          setup finished; the init waits before exec
 *   parent -> child    START          go on to exec (foreground `run`; `create` uses the
 *                                     start socket in the state directory instead)
 *   parent -> child    INIT_PID       the init's host pid, when hooks or a seccomp agent need it
 *   child  -> parent   TERMINAL       the pty master, when no --console-socket was given
 *   child  -> parent   ERROR          a step failed: step name, errno, message
 *   (EOF)                             the child exec'd (or died: the pidfd tells which)
 */
#ifndef MINIRUN_SYNC_H
#define MINIRUN_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/error.h"

enum mr_sync_type
{
  MR_SYNC_EOF = 0,         /* not a message: the peer closed its end */
  MR_SYNC_USERNS_READY = 1,
  MR_SYNC_USERNS_MAPPED,
  MR_SYNC_HOOKS_RUNTIME,
  MR_SYNC_HOOKS_DONE,
  MR_SYNC_PIDS,
  MR_SYNC_READY,
  MR_SYNC_START,
  MR_SYNC_ERROR,
  MR_SYNC_TERMINAL,        /* child -> parent: the pty master rides along (SCM_RIGHTS) */
  MR_SYNC_INIT_PID,        /* parent -> child: the init's host pid (pids[0]), for hooks and the seccomp agent */
  MR_SYNC_NETDEVS,         /* child -> parent: in its network namespace; move linux.netDevices there */
  MR_SYNC_NETDEVS_DONE,    /* parent -> child: they are moved */
};

#define MR_SYNC_TEXT_MAX 1536
#define MR_SYNC_MAX_LEVELS 33

struct mr_sync_msg
{
  uint32_t type;
  int32_t errno_;                  /* ERROR: errno of the failing call (0: none) */
  int32_t index;                   /* PIDS: process index in the pid plan */
  int32_t n_pids;                  /* PIDS: entries in pids[] */
  int32_t fd;                      /* receiver side: the fd that came with it (SCM_RIGHTS), or -1 */
  int32_t sender_pid;              /* receiver side: the sender's pid in the receiver's pid namespace
                                      (SCM_CREDENTIALS, see mr_sync_pair), or 0 */
  int32_t pids[MR_SYNC_MAX_LEVELS]; /* PIDS: NSpid, outermost first, as the child saw it */
  char step[32];                   /* ERROR: the setup step ("mounts", "pivot_root", ...) */
  char text[MR_SYNC_TEXT_MAX];     /* ERROR: the full message */
};

/* fds[0] is the launcher's end: SO_PASSCRED is set on it, so every message
 * carries its sender's pid translated into the launcher's pid namespace. */
int mr_sync_pair (int fds[2], mr_error_t *err);
/* Send a bare message of `type`. */
int mr_sync_send (int fd, enum mr_sync_type type, mr_error_t *err);
int mr_sync_send_msg (int fd, const struct mr_sync_msg *msg, mr_error_t *err);
/* Child side: report an error (step + error) to the parent; never fails loudly. */
void mr_sync_send_error (int fd, const char *step, const struct mr_error *e);
/* The same for a planned process other than the init (index in the pid plan). */
void mr_sync_send_error_index (int fd, int index, const char *step, const struct mr_error *e);

/* Receive one message.  Waits until a message arrives, the peer closes
 * (type MR_SYNC_EOF), the process behind `pidfd` (>= 0) exits (error naming
 * `what`), or timeout_ms passes (< 0: no timeout). */
int mr_sync_recv (int fd, int pidfd, int timeout_ms, const char *what, struct mr_sync_msg *msg,
                  mr_error_t *err);
/* Receive and require `type`; an ERROR message becomes *err
 * ("<step>: <text>") with its errno. */
int mr_sync_expect (int fd, int pidfd, int timeout_ms, enum mr_sync_type type, struct mr_sync_msg *msg,
                    mr_error_t *err);

/* Send a message of `type` carrying `fd` (SCM_RIGHTS). */
int mr_sync_send_fd (int sock, enum mr_sync_type type, int fd, mr_error_t *err);
/* Receive a message with an fd (e.g. TERMINAL); *fd_out is -1 if none came. */
int mr_sync_recv_fd (int sock, struct mr_sync_msg *msg, int *fd_out, mr_error_t *err);

/* SCM_RIGHTS on any unix socket: send `fd` with a small payload. */
int mr_send_fd (int sock, int fd, const void *payload, size_t len, mr_error_t *err);
/* Connect to the AF_UNIX stream socket at `path` (a CLOEXEC fd); `flag`
 * names the option it came from in errors ("--console-socket"). */
int mr_unix_connect (const char *path, const char *flag, mr_error_t *err);
/* --pidfd-socket: a copy of `pidfd` goes to `sock` with runc's payload,
 * "standard" for a container's init, "setns" for an exec'd process. */
int mr_pidfd_socket_send (int sock, int pidfd, const char *kind, mr_error_t *err);

/* Child side, right after PR_SET_PDEATHSIG: has the launcher already died
 * (its end of the channel is closed)?  Closes the window in which the
 * launcher could die before the death signal was armed. */
bool mr_sync_peer_gone (int fd);

const char *mr_sync_type_name (enum mr_sync_type t);

#endif
