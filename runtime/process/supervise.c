/* supervise.c: what a foreground `run` or `exec` does while its process
 * lives (see supervise.h).  The process is only ever signalled and reaped
 * through its pidfd, never by a number that may have been reused. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/supervise.h"
#include "base/syscalls.h"
#include "process/terminal.h"
#include "base/utils.h"

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

int
mr_forward_signals_begin (sigset_t *old, mr_error_t *err)
{
  sigset_t mask;
  int fd;

  sigemptyset (&mask);
  for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
    sigaddset (&mask, forwarded_signals[i]);
  if (sigprocmask (SIG_BLOCK, &mask, old) < 0)
    return mr_error_set (err, errno, "block the signals to forward");
  fd = signalfd (-1, &mask, SFD_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      sigprocmask (SIG_SETMASK, old, NULL);
      return mr_error_set (err, e, "signalfd");
    }
  return fd;
}

void
mr_forward_signals_end (const sigset_t *old)
{
  sigprocmask (SIG_SETMASK, old, NULL);
}

int
mr_reap_status (int pidfd, int *status, mr_error_t *err)
{
  siginfo_t info;

  memset (&info, 0, sizeof info);
  while (waitid (P_PIDFD, (id_t) pidfd, &info, WEXITED) < 0)
    if (errno != EINTR)
      return mr_error_set (err, errno, "wait for the container process");
  *status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  return 0;
}

int
mr_supervise (int pidfd, int sigfd, int master, int *status, mr_error_t *err)
{
  if (master >= 0)
    {
      if (mr_terminal_relay (master, pidfd, sigfd, err) < 0)
        return -1;
    }
  else
    for (;;)
      {
        struct pollfd pfd[2] = { { .fd = sigfd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
        if (poll (pfd, 2, -1) < 0)
          {
            if (errno == EINTR)
              continue;
            return mr_error_set (err, errno, "poll for signals and the container process's exit");
          }
        if (pfd[0].revents & POLLIN)
          {
            struct signalfd_siginfo si;
            if (read (sigfd, &si, sizeof si) == (ssize_t) sizeof si)
              mr_pidfd_send_signal (pidfd, (int) si.ssi_signo, NULL, 0);
          }
        if (pfd[1].revents & POLLIN)
          break;
      }
  return mr_reap_status (pidfd, status, err);
}

int
mr_write_pid_file (const char *path, pid_t pid, mr_error_t *err)
{
  cleanup_free char *dir = xstrdup (path);
  cleanup_close int dirfd = -1;
  char buf[32];
  const char *base = strrchr (path, '/');
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);

  if (base)
    {
      dir[base - path] = '\0';
      base++;
      dirfd = open (*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  else
    {
      base = path;
      dirfd = open (".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  if (dirfd < 0)
    return mr_error_set (err, errno, "--pid-file `%s`: open its directory", path);
  if (mr_write_file_atomic (dirfd, base, buf, (size_t) n, 0644, err) < 0)
    return mr_error_wrap (err, "--pid-file `%s`", path);
  return 0;
}
