/* tree.c: creating minirun.processes inside the container (see tree.h).
 *
 * Each process is cloned by its planned parent with its set_tid (and
 * CLONE_NEWPID when it is the first process of a declared namespace), after
 * the parent's rootfs work is done, so it shares the container's mounts.
 * Parents wait for each child's "ready" byte before creating the next one:
 * creation order is the plan's, the same on every run.  A process that fails
 * reports (its plan index, step, errno, message) to the launcher and exits;
 * its parent sees EOF on the ready pipe and fails too, which tears the whole
 * container down. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/pidpin.h"
#include "process/procexec.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "launch/tree.h"
#include "base/utils.h"

static int spawn_children (struct mr_launch *l, size_t parent, int sync_fd, struct mr_tree_gate *gate,
                           mr_error_t *err);

static void __attribute__ ((noreturn))
proc_fail (int sync_fd, size_t index, const char *name, const char *step, mr_error_t *err)
{
  cleanup_free char *text
      = xasprintf ("process \"%s\": setup step \"%s\": %s", name, step, *err ? (*err)->msg : "unknown error");
  struct mr_error e = { *err ? (*err)->errno_ : 0, text };
  mr_sync_send_error_index (sync_fd, (int) index, step, &e);
  _exit (127);
}

/* The OCI process a planned child runs: the container's, with its own
 * args and whatever it overrides. */
static struct mr_process
child_process (const struct mr_config *c, const struct mr_proc_spec *s)
{
  struct mr_process p = c->process;
  p.args = s->args;
  p.n_args = s->n_args;
  if (s->env)
    {
      p.env = s->env;
      p.n_env = s->n_env;
    }
  if (s->cwd)
    p.cwd = s->cwd;
  if (s->has_user)
    p.user = s->user;
  p.terminal = false;
  return p;
}

static void __attribute__ ((noreturn))
proc_main (struct mr_launch *l, size_t index, int sync_fd, struct mr_tree_gate *gate, int ready_fd)
{
  const struct mr_plan_proc *pp = &l->plan->procs[index];
  const struct mr_proc_spec *spec = &l->config->pins.processes[pp->spec];
  struct mr_process p = child_process (l->config, spec);
  struct mr_sync_msg msg;
  mr_error_t err = NULL;
  char c;
  ssize_t n;

  /* only the init opens the gate: a write end here would keep it from
   * ever reading EOF when the init dies */
  close (gate->write_fd);
  gate->write_fd = -1;
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    {
      mr_error_set (&err, errno, "prctl(PR_SET_PDEATHSIG)");
      proc_fail (sync_fd, index, pp->name, "identity", &err);
    }
  if (spawn_children (l, index, sync_fd, gate, &err) < 0)
    proc_fail (sync_fd, index, pp->name, "children", &err);

  /* tell the launcher who we are: the kernel adds our pid as it sees it */
  memset (&msg, 0, sizeof msg);
  msg.type = MR_SYNC_PIDS;
  msg.index = (int32_t) index;
  if (mr_sync_send_msg (sync_fd, &msg, &err) < 0)
    proc_fail (sync_fd, index, pp->name, "ready", &err);
  if (mr_enter_cwd (p.cwd, &err) < 0)
    proc_fail (sync_fd, index, pp->name, "cwd", &err);
  if (mr_write_all (ready_fd, "R", 1) < 0)
    {
      mr_error_set (&err, errno, "report ready to the parent");
      proc_fail (sync_fd, index, pp->name, "ready", &err);
    }
  close (ready_fd);

  do
    n = read (gate->read_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    _exit (127); /* the init went away without starting: nothing to report to */

  /* From here on the process lives on its own: its parent's death must not kill it. */
  if (prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0
      || mr_close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      mr_error_set (&err, errno, "prepare to exec");
      proc_fail (sync_fd, index, pp->name, "fds", &err);
    }
  if (mr_security_apply_final (l->sec, &p, NULL, &err) < 0)
    proc_fail (sync_fd, index, pp->name, "security", &err);
  mr_exec_process (&p, &err);
  proc_fail (sync_fd, index, pp->name, "exec", &err);
}

static int
spawn_children (struct mr_launch *l, size_t parent, int sync_fd, struct mr_tree_gate *gate, mr_error_t *err)
{
  for (size_t i = 1; i < l->plan->n_procs; i++)
    {
      const struct mr_plan_proc *pp = &l->plan->procs[i];
      int ready[2], pidfd = -1;
      pid_t pid;
      char c;
      ssize_t n;

      if (pp->parent != (int) parent)
        continue;
      if (pipe2 (ready, O_CLOEXEC) < 0)
        return mr_error_set (err, errno, "process \"%s\": pipe", pp->name);
      pid = mr_pidpin_clone (l->plan, i, pp->new_pidns ? CLONE_NEWPID : 0, -1, false, &pidfd, err);
      if (pid == 0)
        {
          close (ready[0]);
          proc_main (l, i, sync_fd, gate, ready[1]);
        }
      close (ready[1]);
      if (pid < 0)
        {
          /* report it as this process's failure: the launcher can then name
           * who holds a refused host pid */
          close (ready[0]);
          proc_fail (sync_fd, i, pp->name, "clone", err);
        }
      close (pidfd);
      do
        n = read (ready[0], &c, 1);
      while (n < 0 && errno == EINTR);
      close (ready[0]);
      if (n != 1)
        return mr_error_set (err, ECHILD, "process \"%s\" exited during setup", pp->name);
    }
  return 0;
}

int
mr_tree_spawn (struct mr_launch *l, int sync_fd, struct mr_tree_gate *gate, mr_error_t *err)
{
  int fds[2];

  gate->read_fd = gate->write_fd = -1;
  gate->waiting = 0;
  if (l->plan->n_procs <= 1)
    return 0;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return mr_error_set (err, errno, "pipe for the start gate");
  gate->read_fd = fds[0];
  gate->write_fd = fds[1];
  if (spawn_children (l, 0, sync_fd, gate, err) < 0)
    return -1;
  /* every planned process below the init now waits for one byte */
  gate->waiting = l->plan->n_procs - 1;
  return 0;
}

int
mr_tree_release (struct mr_tree_gate *gate, mr_error_t *err)
{
  char buf[256];

  memset (buf, 'G', sizeof buf);
  for (size_t left = gate->waiting; left > 0;)
    {
      size_t chunk = left < sizeof buf ? left : sizeof buf;
      if (mr_write_all (gate->write_fd, buf, chunk) < 0)
        return mr_error_set (err, errno, "open the start gate");
      left -= chunk;
    }
  if (gate->write_fd >= 0)
    close (gate->write_fd);
  if (gate->read_fd >= 0)
    close (gate->read_fd);
  gate->write_fd = gate->read_fd = -1;
  return 0;
}
