/* hooks.c: run OCI hooks (prestart, createRuntime, createContainer,
 * startContainer, poststart, poststop).  The caller decides where a hook runs
 * (launcher: runtime namespaces; container init: container namespaces) and
 * what a failure means for the container; this file runs one list. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "hooks.h"
#include "syscalls.h"
#include "utils.h"

static int
run_one (const struct mr_hook *h, size_t index, const char *kind, const char *state_json, mr_error_t *err)
{
  static char *const empty_env[] = { NULL };
  int in[2];
  pid_t pid;
  cleanup_close int pidfd = -1;
  siginfo_t info;
  size_t len = state_json ? strlen (state_json) : 0;

  if (pipe2 (in, O_CLOEXEC) < 0)
    return mr_error_set (err, errno, "%s hook %zu (%s): pipe", kind, index, h->path);
  pid = fork ();
  if (pid < 0)
    {
      close (in[0]);
      close (in[1]);
      return mr_error_set (err, errno, "%s hook %zu (%s): fork", kind, index, h->path);
    }
  if (pid == 0)
    {
      char *const default_args[] = { (char *) h->path, NULL };
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (dup2 (in[0], 0) < 0)
        _exit (126);
      execve (h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
      dprintf (2, "minirun: %s hook %zu: exec `%s`: %s\n", kind, index, h->path, strerror (errno));
      _exit (127);
    }
  close (in[0]);
  pidfd = mr_pidfd_open (pid, 0);
  /* The state is small (< pipe buffer) in practice; a hook that does not
   * read its stdin must not block us, so write without waiting. */
  fcntl (in[1], F_SETFL, O_NONBLOCK);
  if (len > 0 && mr_write_all (in[1], state_json, len) < 0 && errno != EPIPE && errno != EAGAIN)
    mr_error_set (err, errno, "%s hook %zu (%s): write the state to its stdin", kind, index, h->path);
  close (in[1]);
  if (err && *err)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return -1;
    }

  if (h->has_timeout && pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int r;
      do
        r = poll (&pfd, 1, h->timeout * 1000);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        {
          mr_pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
          waitpid (pid, NULL, 0);
          return mr_error_set (err, ETIMEDOUT, "%s hook %zu (%s) timed out after %d s", kind, index, h->path,
                               h->timeout);
        }
    }
  memset (&info, 0, sizeof info);
  while (waitid (P_PID, (id_t) pid, &info, WEXITED) < 0)
    if (errno != EINTR)
      return mr_error_set (err, errno, "%s hook %zu (%s): wait", kind, index, h->path);
  if (info.si_code == CLD_EXITED && info.si_status == 0)
    return 0;
  if (info.si_code == CLD_EXITED)
    return mr_error_set (err, 0, "%s hook %zu (%s) failed with exit status %d", kind, index, h->path,
                         info.si_status);
  return mr_error_set (err, 0, "%s hook %zu (%s) was killed by signal %d", kind, index, h->path, info.si_status);
}

int
mr_hooks_run (const struct mr_hook *hooks, size_t n, const char *kind, const char *state_json, mr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (run_one (&hooks[i], i, kind, state_json, err) < 0)
      return -1;
  return 0;
}
