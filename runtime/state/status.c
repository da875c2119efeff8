/* status.c: the truth about a recorded container: is its init still the
 * process the state names (pid plus start time, so a reused pid is not
 * mistaken for it), has a created init exec'd, and a pidfd on it that is
 * safe to signal. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/state.h"
#include "base/syscalls.h"
#include "base/utils.h"

unsigned long long
mr_proc_start_time (pid_t pid)
{
  struct mr_proc_stat ps;
  return mr_proc_stat_read (pid, &ps) ? ps.start_time : 0;
}


int
mr_state_open_pidfd (const struct mr_state *st)
{
  int fd;

  if (st->pid <= 0)
    return -1;
  fd = mr_pidfd_open (st->pid, 0);
  if (fd < 0)
    return -1;
  /* The pidfd refers to whoever has the pid now: make sure it is our init. */
  if (st->start_time != 0 && mr_proc_start_time (st->pid) != st->start_time)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* A created init has not exec'd yet: it is still a clone of minirun.  (Where
 * /proc/PID/exe cannot be read, as rootless, the recorded status stands.) */
static bool
still_minirun (const struct mr_state *st)
{
  char path[64];
  struct stat a;
  (void) snprintf (path, sizeof path, "/proc/%d/exe", (int) st->pid);
  if (st->init_exe_ino == 0 || stat (path, &a) < 0)
    return true;
  return a.st_dev == st->init_exe_dev && a.st_ino == st->init_exe_ino;
}

enum mr_status
mr_state_status (const struct mr_state *st)
{
  if (st->pid <= 0)
    return st->status == MR_STATUS_CREATING ? MR_STATUS_CREATING : MR_STATUS_STOPPED;
  {
    struct mr_proc_stat ps;
    if (st->start_time == 0 || !mr_proc_stat_read (st->pid, &ps) || ps.start_time != st->start_time
        || ps.state == 'Z' || ps.state == 'X')
      return MR_STATUS_STOPPED;
  }
  if (st->status == MR_STATUS_CREATED && !still_minirun (st))
    return MR_STATUS_RUNNING; /* started, though the `start` that did it died before recording it */
  return st->status;
}

