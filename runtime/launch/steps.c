/* steps.c: the step runner every container process ends in (see steps.h):
 * the one failure reporter, the steps several tables share, and the tail
 * (fds, personality, memory policy, scheduler, io priority, cpu affinity,
 * final security, execve). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "launch/steps.h"
#include "process/procexec.h"
#include "process/schedattr.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "base/utils.h"

void
mr_proc_init (struct mr_proc *p, const struct mr_init_plan *plan, enum mr_proc_kind kind,
              const struct mr_process *process)
{
  memset (p, 0, sizeof *p);
  p->plan = plan;
  p->kind = kind;
  p->process = process;
  p->sync_fd = plan->sync_fd;
  p->start_conn = -1;
  p->ready_fd = -1;
  p->gate.read_fd = p->gate.write_fd = -1;
}

void
mr_proc_fail (const struct mr_proc *p, const char *step, mr_error_t *err)
{
  const struct mr_error *e = (err && *err) ? *err : NULL;
  const char *msg = e ? e->msg : "unknown error";
  cleanup_free char *text = NULL;
  struct mr_error wrapped;

  switch (p->kind)
    {
    case MR_PROC_TREE:
      text = xasprintf ("process \"%s\": setup step \"%s\": %s", p->name, step, msg);
      break;
    case MR_PROC_EXEC:
      text = xasprintf ("exec step \"%s\": %s", step, msg);
      break;
    case MR_PROC_INIT:
    default:
      text = xasprintf ("container setup step \"%s\": %s", step, msg);
      break;
    }
  wrapped.errno_ = e ? e->errno_ : 0;
  wrapped.msg = text;
  /* `minirun start` is waiting for the exec: it reports the failure. */
  if (p->start_conn >= 0)
    (void) !write (p->start_conn, text, strlen (text));
  mr_sync_send_error_index (p->sync_fd, (int) p->index, step, &wrapped);
  _exit (127);
}

void
mr_proc_reset_signals (void)
{
  sigset_t none;
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction (s, &sa, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

int
mr_step_identity (struct mr_proc *p, mr_error_t *err)
{
  /* Not dumpable, so nothing in the container can open our /proc/PID/exe
   * (the host's minirun binary) or ptrace us.  With a new user namespace the
   * launcher must write our id maps first, which needs us dumpable: the
   * init's table makes itself undumpable once they are written. */
  if (!p->plan->new_ns[MR_NS_USER] && prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl(PR_SET_DUMPABLE, 0)");
  mr_proc_reset_signals ();
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl(PR_SET_PDEATHSIG)");
  /* the launcher died before the death signal was armed: nobody to report to */
  if (mr_sync_peer_gone (p->sync_fd))
    _exit (127);
  return 0;
}

int
mr_step_procfs (struct mr_proc *p, mr_error_t *err)
{
  /* oom_score_adj and LSM exec labels go through the host's /proc: the
   * container need not mount one; they hold until execve. */
  return mr_security_apply_procfs (p->process, -1, err);
}

int
mr_step_cwd (struct mr_proc *p, mr_error_t *err)
{
  return mr_enter_cwd (p->process->cwd, err);
}

int
mr_step_own_life (struct mr_proc *p, mr_error_t *err)
{
  /* detached: from here the process outlives its launcher */
  if (!p->plan->keep_pdeathsig && prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl(PR_SET_PDEATHSIG, 0)");
  return 0;
}

char *
mr_proc_state_json (const struct mr_proc *p, enum mr_status status)
{
  struct mr_state st = *p->plan->state;
  st.pid = p->host_pid;
  return mr_state_to_oci_json (&st, status, false);
}

/* ---- the tail ---- */

/* Only stdio and the preserved fds survive exec; the setup channel and the
 * start connection close on exec whatever --preserve-fds says (their EOF
 * tells the launcher and `minirun start` that the exec happened). */
static int
tail_fds (struct mr_proc *p, mr_error_t *err)
{
  if (mr_close_range (3 + (unsigned) p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return mr_error_set (err, errno, "close_range(CLOSE_RANGE_CLOEXEC)");
  for (int fd = 3; fd < 3 + p->preserve_fds; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags < 0 || fd == p->sync_fd || fd == p->start_conn)
        continue;
      if (fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return mr_error_set (err, errno, "--preserve-fds: keep fd %d open across exec", fd);
    }
  return 0;
}

/* linux.personality: before seccomp, which may not allow personality(2). */
static int
tail_personality (struct mr_proc *p, mr_error_t *err)
{
  const char *domain = p->plan->config->personality_domain;
  unsigned long persona;

  if (domain == NULL)
    return 0;
  persona = strcmp (domain, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX;
  if (personality (persona) == -1)
    return mr_error_set (err, errno, "linux.personality.domain %s: personality(0x%lx)", domain, persona);
  return 0;
}

/* The kernel's per-process attributes (process/schedattr.c): after the
 * cgroup is joined (its RT runtime and cpuset count), before the security
 * step drops CAP_SYS_NICE and seccomp may deny the calls.  The memory policy
 * is the container's (the init and its planned processes); execCPUAffinity
 * is for `exec` only, as the spec says. */
static int
tail_memory_policy (struct mr_proc *p, mr_error_t *err)
{
  return p->kind == MR_PROC_EXEC ? 0 : mr_mempolicy_apply (&p->plan->config->memory_policy, err);
}

static int
tail_scheduler (struct mr_proc *p, mr_error_t *err)
{
  return mr_sched_apply (&p->process->scheduler, err);
}

static int
tail_io_priority (struct mr_proc *p, mr_error_t *err)
{
  return mr_ioprio_apply (&p->process->io_priority, err);
}

static int
tail_cpu_affinity (struct mr_proc *p, mr_error_t *err)
{
  return p->kind == MR_PROC_EXEC ? mr_affinity_apply_final (&p->process->exec_cpu_affinity, err) : 0;
}

static int
tail_security (struct mr_proc *p, mr_error_t *err)
{
  /* the seccomp agent of the container receives its state */
  cleanup_free char *state = p->kind == MR_PROC_INIT && p->plan->config->seccomp.listener_path
                                 ? mr_proc_state_json (p, MR_STATUS_CREATED)
                                 : NULL;
  return mr_security_apply_final (p->plan->sec, p->process, state, err);
}

static int
tail_exec (struct mr_proc *p, mr_error_t *err)
{
  if (p->exe)
    mr_exec_found (p->exe, p->process, err);
  else
    mr_exec_process (p->process, err);
  return -1; /* only a failed execve returns */
}

static const struct mr_step tail[] = {
  { "fds", tail_fds },
  { "personality", tail_personality },
  { "memoryPolicy", tail_memory_policy },
  { "scheduler", tail_scheduler },
  { "ioPriority", tail_io_priority },
  { "execCPUAffinity", tail_cpu_affinity },
  { "security", tail_security },
  { "exec", tail_exec },
};

void
mr_steps_run (struct mr_proc *p, const struct mr_step *steps, size_t n)
{
  mr_error_t err = NULL;

  for (size_t i = 0; i < n; i++)
    if (steps[i].run (p, &err) < 0)
      mr_proc_fail (p, steps[i].name, &err);
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
    if (tail[i].run (p, &err) < 0)
      mr_proc_fail (p, tail[i].name, &err);
  _exit (127); /* not reached: tail_exec fails or never returns */
}
