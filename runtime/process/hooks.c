/* hooks.c: run OCI hooks (prestart, createRuntime, createContainer,
 * startContainer, poststart, poststop).  The caller decides where a hook runs
 * (launcher: runtime namespaces; container init: container namespaces) and
 * what a failure means for the container; this file runs one list, either
 * stopping at the first failure or running every hook and warning. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/hooks.h"
#include "base/syscalls.h"
#include "base/utils.h"

static int
run_one (const struct mr_hook *h, size_t index, const char *kind, const char *state_json, mr_error_t *err)
{
  static char *const empty_env[] = { NULL };
  int in[2], ex[2];
  pid_t pid;
  cleanup_close int pidfd = -1;
  siginfo_t info;
  size_t len = state_json ? strlen (state_json) : 0;
  long long deadline;

  if (pipe2 (in, O_CLOEXEC) < 0)
    return mr_error_set (err, errno, "hooks.%s[%zu] (%s): pipe", kind, index, h->path);
  /* ex: the child's execve errno, or EOF when the exec succeeded (CLOEXEC) */
  if (pipe2 (ex, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return mr_error_set (err, errno, "hooks.%s[%zu] (%s): pipe", kind, index, h->path);
    }
  pid = fork ();
  if (pid < 0)
    {
      close (in[0]);
      close (in[1]);
      close (ex[0]);
      close (ex[1]);
      return mr_error_set (err, errno, "hooks.%s[%zu] (%s): fork", kind, index, h->path);
    }
  if (pid == 0)
    {
      char *const default_args[] = { (char *) h->path, NULL };
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      (void) signal (SIGPIPE, SIG_DFL);
      if (dup2 (in[0], 0) < 0)
        _exit (126);
      execve (h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
      {
        int e = errno;
        (void) !write (ex[1], &e, sizeof e);
      }
      _exit (127);
    }
  close (in[0]);
  close (ex[1]);
  {
    int e = 0;
    ssize_t n;
    do
      n = read (ex[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close (ex[0]);
    if (n == (ssize_t) sizeof e)
      {
        close (in[1]);
        waitpid (pid, NULL, 0);
        return mr_error_set (err, e, "hooks.%s[%zu] (%s): exec", kind, index, h->path);
      }
  }
  pidfd = mr_pidfd_open (pid, 0);
  if (pidfd < 0)
    {
      int e = errno;
      close (in[1]);
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return mr_error_set (err, e, "hooks.%s[%zu] (%s): pidfd_open", kind, index, h->path);
    }
  deadline = h->has_timeout ? mr_now_ms () + (long long) h->timeout * 1000 : -1;
  /* Feed the whole state to its stdin while it runs; a hook that exits
   * without reading it (EPIPE) is fine; the timeout covers both phases. */
  fcntl (in[1], F_SETFL, O_NONBLOCK);
  {
    size_t off = 0;
    bool exited = false;
    while (off < len && !exited)
      {
        struct pollfd pfd[2] = { { .fd = in[1], .events = POLLOUT }, { .fd = pidfd, .events = POLLIN } };
        int wait_ms = deadline < 0 ? -1 : (int) (deadline - mr_now_ms ());
        int r;
        if (deadline >= 0 && wait_ms <= 0)
          break;
        r = poll (pfd, 2, wait_ms);
        if (r < 0 && errno == EINTR)
          continue;
        if (r <= 0)
          break;
        if (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP))
          {
            ssize_t n = write (in[1], state_json + off, len - off);
            if (n > 0)
              off += (size_t) n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
              break; /* EPIPE: it closed its stdin */
          }
        if (pfd[1].revents & POLLIN)
          exited = true;
      }
  }
  close (in[1]);

  if (deadline >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int r;
      do
        {
          long long left = deadline - mr_now_ms ();
          r = left > 0 ? poll (&pfd, 1, (int) left) : 0;
        }
      while (r < 0 && errno == EINTR);
      if (r == 0)
        {
          mr_pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
          waitpid (pid, NULL, 0);
          return mr_error_set_explained (err, ETIMEDOUT, "hooks.%s[%zu] (%s) timed out after %d s", kind, index,
                                         h->path, h->timeout);
        }
    }
  memset (&info, 0, sizeof info);
  while (waitid (P_PID, (id_t) pid, &info, WEXITED) < 0)
    if (errno != EINTR)
      return mr_error_set (err, errno, "hooks.%s[%zu] (%s): wait", kind, index, h->path);
  if (info.si_code == CLD_EXITED && info.si_status == 0)
    return 0;
  if (info.si_code == CLD_EXITED)
    return mr_error_set (err, 0, "hooks.%s[%zu] (%s) failed with exit status %d", kind, index, h->path,
                         info.si_status);
  return mr_error_set (err, 0, "hooks.%s[%zu] (%s) was killed by signal %d", kind, index, h->path, info.si_status);
}

int
mr_hooks_run (const struct mr_hook *hooks, size_t n, const char *kind, const char *state_json, mr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (run_one (&hooks[i], i, kind, state_json, err) < 0)
      return -1;
  return 0;
}

size_t
mr_hooks_run_all (const struct mr_hook *hooks, size_t n, const char *kind, const char *state_json)
{
  size_t failed = 0;

  for (size_t i = 0; i < n; i++)
    {
      mr_error_t err = NULL;
      if (run_one (&hooks[i], i, kind, state_json, &err) < 0)
        {
          mr_error_warn (&err, NULL);
          failed++;
        }
    }
  return failed;
}
