/* systemd/holder.c: the holder, the first process of a container's systemd
 * scope.  systemd starts a scope only with a process in it, and minirun's
 * init is cloned straight into its cgroup (CLONE_INTO_CGROUP), which must
 * exist first: so a fork of minirun that only waits is the scope's process
 * from StartTransientUnit until the init is in (then it is SIGKILLed and
 * reaped; it dies with minirun too, PR_SET_PDEATHSIG).  It holds no fd of
 * minirun's.  Also reads where a process is in the v2 tree. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/systemd/systemd.h"
#include "base/cleanup.h"
#include "base/syscalls.h"
#include "base/utils.h"

int
mr_sd_holder_start (pid_t *pid, int *pidfd, mr_error_t *err)
{
  pid_t parent = getpid ();
  *pid = fork ();
  if (*pid < 0)
    return mr_error_set (err, errno, "fork the process that holds the systemd scope until the init is in it");
  if (*pid == 0)
    {
      if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != parent)
        _exit (0);
      close_range (0, ~0U, 0);
      for (;;)
        pause ();
    }
  *pidfd = mr_pidfd_open (*pid, 0);
  if (*pidfd < 0)
    {
      int saved = errno;
      kill (*pid, SIGKILL);
      while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return mr_error_set (err, saved, "pidfd_open(%d) (the systemd scope's holder process)", (int) *pid);
    }
  return 0;
}

void
mr_sd_holder_stop (int *pidfd)
{
  siginfo_t info;
  if (*pidfd < 0)
    return;
  mr_pidfd_send_signal (*pidfd, SIGKILL, NULL, 0);
  while (waitid (P_PIDFD, (id_t) *pidfd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  close (*pidfd);
  *pidfd = -1;
}

int
mr_sd_proc_cgroup (pid_t pid, char **out, mr_error_t *err)
{
  cleanup_free char *text = NULL;
  char file[64], *line, *end;
  size_t len;

  (void) snprintf (file, sizeof file, "/proc/%d/cgroup", (int) pid); /* fits: 64 bytes */
  if (mr_read_file_at (AT_FDCWD, file, 1 << 16, &text, &len, err) < 0)
    return -1;
  for (line = text; line && strncmp (line, "0::", 3) != 0; line = (end = strchr (line, '\n')) ? end + 1 : NULL)
    ;
  if (line == NULL)
    return mr_error_set (err, 0, "no cgroup v2 line (0::) in %s", file);
  line += 3;
  line[strcspn (line, "\n")] = '\0';
  *out = xstrdup (line);
  return 0;
}
