/* tree.c: creating minirun.processes inside the container (see tree.h).
 *
 * Each process is cloned by its planned parent with its set_tid (and
 * CLONE_NEWPID when it is the first process of a declared namespace), after
 * the parent's rootfs work is done, so it shares the container's mounts,
 * and runs its own table of steps (tree_steps, through launch/steps.c).
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
#include "launch/steps.h"
#include "process/pidpin.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "launch/tree.h"
#include "base/utils.h"

static int spawn_children (const struct mr_init_plan *plan, size_t parent, struct mr_tree_gate *gate,
                           mr_error_t *err);

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

/* ---- the steps of a planned process ---- */

static int
tree_identity (struct mr_proc *p, mr_error_t *err)
{
  /* only the init opens the gate: a write end here would keep it from
   * ever reading EOF when the init dies */
  close (p->gate.write_fd);
  p->gate.write_fd = -1;
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl(PR_SET_PDEATHSIG)");
  return 0;
}

static int
tree_children (struct mr_proc *p, mr_error_t *err)
{
  return spawn_children (p->plan, p->index, &p->gate, err);
}

/* tell the launcher who we are: the kernel adds our pid as it sees it */
static int
tree_report_pids (struct mr_proc *p, mr_error_t *err)
{
  struct mr_sync_msg msg;

  memset (&msg, 0, sizeof msg);
  msg.type = MR_SYNC_PIDS;
  msg.index = (int32_t) p->index;
  return mr_sync_send_msg (p->sync_fd, &msg, err);
}

static int
tree_ready (struct mr_proc *p, mr_error_t *err)
{
  if (mr_write_all (p->ready_fd, "R", 1) < 0)
    return mr_error_set (err, errno, "report ready to the parent");
  close (p->ready_fd);
  p->ready_fd = -1;
  return 0;
}

static int
tree_wait_gate (struct mr_proc *p, mr_error_t *err)
{
  char c;
  ssize_t n;

  do
    n = read (p->gate.read_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    _exit (127); /* the init went away without starting: nothing to report to */
  return 0;
}

/* From here on the process lives on its own: its parent's death must not kill it. */
static int
tree_own_life (struct mr_proc *p, mr_error_t *err)
{
  if (prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prepare to exec: prctl(PR_SET_PDEATHSIG, 0)");
  return 0;
}

static const struct mr_step tree_steps[] = {
  { "identity", tree_identity },
  { "children", tree_children },
  { "ready", tree_report_pids },
  { "cwd", mr_step_cwd },
  { "ready", tree_ready },
  { "start", tree_wait_gate },
  { "fds", tree_own_life },
};

static void __attribute__ ((noreturn))
proc_main (const struct mr_init_plan *plan, size_t index, const struct mr_tree_gate *gate, int ready_fd)
{
  const struct mr_plan_proc *pp = &plan->pids->procs[index];
  struct mr_proc p;

  mr_proc_init (&p, plan, MR_PROC_TREE, NULL);
  p.index = index;
  p.name = pp->name;
  p.own = child_process (plan->config, &plan->config->pins.processes[pp->spec]);
  p.process = &p.own;
  p.ready_fd = ready_fd;
  p.gate = *gate;
  mr_steps_run (&p, tree_steps, sizeof tree_steps / sizeof tree_steps[0]);
}

static int
spawn_children (const struct mr_init_plan *plan, size_t parent, struct mr_tree_gate *gate, mr_error_t *err)
{
  for (size_t i = 1; i < plan->pids->n_procs; i++)
    {
      const struct mr_plan_proc *pp = &plan->pids->procs[i];
      int ready[2], pidfd = -1;
      pid_t pid;
      char c;
      ssize_t n;

      if (pp->parent != (int) parent)
        continue;
      if (pipe2 (ready, O_CLOEXEC) < 0)
        return mr_error_set (err, errno, "process \"%s\": pipe", pp->name);
      pid = mr_pidpin_clone (plan->pids, i, pp->new_pidns ? CLONE_NEWPID : 0, -1, false, &pidfd, err);
      if (pid == 0)
        {
          close (ready[0]);
          proc_main (plan, i, gate, ready[1]);
        }
      close (ready[1]);
      if (pid < 0)
        {
          /* report it as this process's failure: the launcher can then name
           * who holds a refused host pid */
          struct mr_proc who;
          close (ready[0]);
          mr_proc_init (&who, plan, MR_PROC_TREE, NULL);
          who.index = i;
          who.name = pp->name;
          mr_proc_fail (&who, "clone", err);
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
mr_tree_spawn (const struct mr_init_plan *plan, struct mr_tree_gate *gate, mr_error_t *err)
{
  int fds[2];

  gate->read_fd = gate->write_fd = -1;
  gate->waiting = 0;
  if (plan->pids->n_procs <= 1)
    return 0;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return mr_error_set (err, errno, "pipe for the start gate");
  gate->read_fd = fds[0];
  gate->write_fd = fds[1];
  if (spawn_children (plan, 0, gate, err) < 0)
    return -1;
  /* every planned process below the init now waits for one byte */
  gate->waiting = plan->pids->n_procs - 1;
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
