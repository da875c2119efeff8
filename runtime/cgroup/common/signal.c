/* common/signal.c: kill --all without a kernel kill-all.  Signalling pids
 * read from cgroup.procs races with pid reuse: a process may exit and its
 * pid be reused by an unrelated process before kill() runs, and a process
 * may fork a child we never see.  For SIGKILL the window is closed as runc
 * does: the cgroup is frozen (nothing exits or forks while frozen),
 * signalled, and thawed, which lets the SIGKILLs take effect.  Other signals
 * keep the (small) race.  The freezer and the pid list are the driver's. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "cgroup/common/signal.h"
#include "base/log.h"

int
mr_cg_signal_all (struct mr_cgroup *cg, int sig, mr_cg_freeze_fn freeze, mr_cg_pids_fn pids, mr_error_t *err)
{
  bool frozen = false;
  pid_t *v = NULL;
  size_t n = 0;
  int ret = 0;

  if (sig == SIGKILL)
    {
      mr_error_t ferr = NULL;
      frozen = freeze (cg, true, &ferr) == 0;
      if (!frozen)
        {
          mr_log_debug ("kill: cannot freeze `%s` first: %s", cg->path, ferr->msg);
          mr_error_free (&ferr);
        }
    }
  if (pids (cg, &v, &n, err) < 0)
    ret = -1;
  for (size_t i = 0; ret == 0 && i < n; i++)
    if (kill (v[i], sig) < 0 && errno != ESRCH)
      ret = mr_error_set (err, errno, "kill pid %d (cgroup `%s`) with signal %d", (int)v[i], cg->path, sig);
  free (v);
  if (frozen)
    {
      mr_error_t terr = NULL;
      if (freeze (cg, false, &terr) < 0)
        {
          if (ret == 0)
            *err = terr;
          else
            mr_error_free (&terr);
          ret = -1;
        }
    }
  return ret;
}
