/* exec.c: `minirun exec`: a new process in a running container.
 *
 * The launcher enters the container's pid namespace for its children only
 * (setns on the init's pidfd), clones the process with set_tid when pins are
 * asked for and CLONE_INTO_CGROUP on v2, and returns to its own pid
 * namespace.  The new process joins the rest itself (mount, network, ipc,
 * uts, cgroup, user, time: one setns on the init's pidfd), joins the v1
 * cgroups, creates a pty when asked, and ends in the tail every container
 * process shares (launch/steps.c): the process's security settings with the
 * container's seccomp profile and personality, then exec.  What it reads is
 * an init plan (plan.h) filled from the container's kept config; its steps
 * are exec_steps.  Errors come back over the setup channel; exec success is
 * its close-on-exec EOF. */
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/cleanup.h"
#include "base/crash.h"
#include "base/log.h"
#include "minirun/minirun.h"
#include "process/pidpin.h"
#include "process/procexec.h"
#include "process/schedattr.h"
#include "plan/pidplan.h"
#include "security/security.h"
#include "launch/steps.h"
#include "state/handle.h"
#include "process/supervise.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "process/terminal.h"
#include "base/utils.h"

#include <linux/nsfs.h>
#include <sys/ioctl.h>

struct exec_ctx
{
  const struct mr_exec_opts *opts;
  struct mr_handle h;              /* the container: its state and cgroup (unlocked after prepare) */
  struct mr_config *config;        /* the container's config (from the state directory) */
  struct mr_process *own_process;  /* --process FILE, when given */
  struct mr_process *process;      /* what runs: own_process or config->process edited */
  struct mr_security *sec;
  struct mr_pid_plan *plan;
  int sync_parent;                 /* our end of the setup channel */
  struct mr_init_plan init;        /* what the new process reads */
};

static const struct
{
  const char *name;
  int flag;
} join_table[] = {
  { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },        { "net", CLONE_NEWNET },    { "ipc", CLONE_NEWIPC },
  { "uts", CLONE_NEWUTS },   { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static bool
same_ns (pid_t pid, const char *name)
{
  char a[64], b[64];
  struct stat sa, sb;
  (void) snprintf (a, sizeof a, "/proc/%d/ns/%s", (int) pid, name);
  (void) snprintf (b, sizeof b, "/proc/self/ns/%s", name);
  if (stat (a, &sa) < 0 || stat (b, &sb) < 0)
    return true;
  return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

/* Apply --env/--cwd/--user/--tty/--cap/--no-new-privs to the container's process. */
static int
edit_process (struct exec_ctx *x, mr_error_t *err)
{
  const struct mr_exec_opts *o = x->opts;
  struct mr_process *p = &x->config->process;
  size_t n;

  if (o->args == NULL || o->args[0] == NULL)
    return mr_error_set (err, 0, "exec: no command given (pass it after the container id, or use --process)");
  mr_strv_free (p->args);
  for (n = 0; o->args[n]; n++)
    ;
  p->args = xcalloc (n + 1, sizeof *p->args);
  for (size_t i = 0; i < n; i++)
    p->args[i] = xstrdup (o->args[i]);
  p->n_args = n;
  for (size_t i = 0; o->env && o->env[i]; i++)
    {
      const char *eq = strchr (o->env[i], '=');
      size_t klen = eq ? (size_t) (eq - o->env[i]) : strlen (o->env[i]);
      bool replaced = false;
      if (eq == NULL)
        return mr_error_set (err, 0, "exec --env `%s`: expected KEY=VALUE", o->env[i]);
      for (size_t k = 0; k < p->n_env && !replaced; k++)
        if (strncmp (p->env[k], o->env[i], klen + 1) == 0)
          {
            free (p->env[k]);
            p->env[k] = xstrdup (o->env[i]);
            replaced = true;
          }
      if (!replaced)
        {
          p->env = xrealloc (p->env, (p->n_env + 2) * sizeof *p->env);
          p->env[p->n_env++] = xstrdup (o->env[i]);
          p->env[p->n_env] = NULL;
        }
    }
  if (o->cwd)
    {
      if (o->cwd[0] != '/')
        return mr_error_set (err, 0, "exec --cwd `%s`: expected an absolute path", o->cwd);
      free (p->cwd);
      p->cwd = xstrdup (o->cwd);
    }
  if (o->user)
    {
      int64_t uid, gid;
      cleanup_free char *copy = xstrdup (o->user);
      char *colon = strchr (copy, ':');
      if (colon)
        *colon = '\0';
      if (!mr_parse_i64 (copy, 0, UINT32_MAX - 1, &uid) || (colon && !mr_parse_i64 (colon + 1, 0, UINT32_MAX - 1, &gid)))
        return mr_error_set (err, 0, "exec --user `%s`: expected UID or UID:GID (numbers)", o->user);
      p->user.uid = (uid_t) uid;
      if (colon)
        p->user.gid = (gid_t) gid;
    }
  p->terminal = o->tty;
  if (o->no_new_privs)
    p->no_new_privileges = true;
  for (size_t i = 0; o->caps && o->caps[i]; i++)
    {
      int c = mr_cap_from_name (o->caps[i]);
      uint64_t bit;
      if (c < 0)
        return mr_error_set (err, 0, "exec --cap `%s`: unknown capability", o->caps[i]);
      bit = 1ULL << c;
      p->has_capabilities = true;
      p->capabilities.bounding |= bit;
      p->capabilities.effective |= bit;
      p->capabilities.permitted |= bit;
      p->capabilities.inheritable |= bit;
      p->capabilities.ambient |= bit;
    }
  return 0;
}

/* Pins for the exec'd process: "container" and "host" only. */
static int
plan_pins (struct exec_ctx *x, mr_error_t *err)
{
  struct mr_config pc;
  struct mr_pidplan_env env = { .container = MR_PIDNS_SHARED, .host_pid_max = MR_PID_MAX_LIMIT,
                                .joined_pid_max = MR_PID_MAX_LIMIT,
                                .host_pins_denied = !mr_cap_effective (CAP_SYS_ADMIN)
                                                    && !mr_cap_effective (CAP_CHECKPOINT_RESTORE) };
  cleanup_close int nsfd = -1;
  char path[64];
  int depth = 0;

  memset (&pc, 0, sizeof pc);
  if (mr_pins_parse_string (x->opts->pins, "exec --pid", &pc.pins.init_pins, &pc.pins.n_init_pins, err) < 0)
    return -1;
  (void) snprintf (path, sizeof path, "/proc/%d/ns/pid", (int) x->h.st->pid);
  nsfd = open (path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    {
      mr_pins_free (pc.pins.init_pins, pc.pins.n_init_pins);
      return mr_error_set (err, errno, "open `%s`", path);
    }
  if (mr_pidpin_depth_below_self (nsfd, path, &depth, err) < 0)
    {
      mr_pins_free (pc.pins.init_pins, pc.pins.n_init_pins);
      return mr_error_wrap (err, "exec --pid");
    }
  if (depth > 0)
    {
      env.container = MR_PIDNS_JOINED;
      env.joined_depth = depth;
    }
  env.host_pid_max = mr_pidpin_host_pid_max ();
  if (mr_pidplan_build (&pc, &env, &x->plan, err) < 0)
    {
      mr_pins_free (pc.pins.init_pins, pc.pins.n_init_pins);
      return mr_error_wrap (err, "exec --pid %s", x->opts->pins);
    }
  /* the plan names the process "init": give it its real name for messages */
  x->plan->procs[0].name = "exec";
  mr_pins_free (pc.pins.init_pins, pc.pins.n_init_pins);
  return 0;
}

/* exec --cgroup: the process joins sub-cgroups of the container's */
static int
join_sub (struct exec_ctx *x, const struct mr_exec_opts *o, mr_error_t *err)
{
  size_t n = 0;
  while (o->cgroups[n])
    n++;
  if (x->h.cg == NULL)
    return mr_error_set (err, 0, "exec --cgroup: container `%s` has no cgroup (created without one, rootless)",
                         o->id);
  if (mr_cgroup_join_sub (x->h.cg, o->cgroups, n, err) < 0)
    return mr_error_wrap (err, "exec in `%s`", o->id);
  return 0;
}

static int
prepare (struct exec_ctx *x, mr_error_t *err)
{
  const struct mr_exec_opts *o = x->opts;
  struct mr_init_plan *plan = &x->init;

  if (mr_handle_open (o->state_root, o->id, false, &x->h, err) < 0)
    return -1;
  if (x->h.status == MR_STATUS_PAUSED && !o->ignore_paused)
    return mr_error_set (err, 0,
                         "cannot exec in container `%s`: it is paused (resume it, or exec --ignore-paused: the "
                         "process then starts when the container is resumed)",
                         o->id);
  if (x->h.status != MR_STATUS_RUNNING && x->h.status != MR_STATUS_CREATED && x->h.status != MR_STATUS_PAUSED)
    return mr_error_set (err, 0, "cannot exec in container `%s`: it is %s", o->id,
                         mr_status_name (x->h.status));
  plan->join_pidfd = mr_state_open_pidfd (x->h.st);
  if (plan->join_pidfd < 0)
    return mr_error_set (err, ESRCH, "cannot exec in container `%s`: its init is gone", o->id);
  if (mr_handle_config (&x->h, &x->config, err) < 0)
    return mr_error_wrap (err, "exec in `%s`: read the container's config", o->id);

  if (o->process_file)
    {
      if (mr_process_parse_file (o->process_file, &x->own_process, err) < 0)
        return -1;
      x->process = x->own_process;
      if (o->tty)
        x->process->terminal = true;
    }
  else
    {
      if (edit_process (x, err) < 0)
        return -1;
      x->process = &x->config->process;
    }
  for (size_t i = 0; o->additional_gids && o->additional_gids[i]; i++)
    {
      struct mr_user *u = &x->process->user;
      int64_t gid;
      if (!mr_parse_i64 (o->additional_gids[i], 0, UINT32_MAX - 1, &gid))
        return mr_error_set (err, 0, "exec --additional-gids `%s`: expected a numeric gid", o->additional_gids[i]);
      u->additional_gids = xrealloc (u->additional_gids, (u->n_additional_gids + 1) * sizeof *u->additional_gids);
      u->additional_gids[u->n_additional_gids++] = (gid_t) gid;
    }
  if (x->process->terminal && o->detach && o->console_socket == NULL)
    return mr_error_set (err, 0, "exec --tty --detach needs --console-socket");
  if (o->pins && plan_pins (x, err) < 0)
    return -1;
  mr_seccomp_cache_set_dir (o->state_root);
  if (mr_security_prepare (x->process, &x->config->seccomp, &x->sec, err) < 0)
    return -1;
  if (x->h.st->cgroup_path && mr_cgroup_open (x->h.st->cgroup_path, &x->h.cg, err) < 0)
    return mr_error_wrap (err, "exec in `%s`", o->id);
  if (o->cgroups && o->cgroups[0] && join_sub (x, o, err) < 0)
    return -1;
  mr_handle_unlock (&x->h);

  for (size_t i = 0; i < sizeof join_table / sizeof join_table[0]; i++)
    if (!same_ns (x->h.st->pid, join_table[i].name))
      plan->join_flags |= join_table[i].flag;
  plan->config = x->config;
  plan->sec = x->sec;
  plan->cgroup = x->h.cg;
  plan->pids = x->plan;
  /* a foreground process dies with `minirun exec`, like a foreground run's init */
  plan->keep_pdeathsig = !o->detach;
  plan->preserve_fds = o->preserve_fds;
  plan->id = o->id;
  return 0;
}

/* ---- the steps of the new process ---- */

static int
exec_cgroup (struct mr_proc *p, mr_error_t *err)
{
  return p->plan->cgroup ? mr_cgroup_child_join (p->plan->cgroup, err) : 0;
}

/* every namespace of the init that is not ours already, in one setns */
static int
exec_setns (struct mr_proc *p, mr_error_t *err)
{
  const struct mr_init_plan *plan = p->plan;

  if (plan->join_flags && setns (plan->join_pidfd, plan->join_flags) < 0)
    return mr_error_set (err, errno, "join the container's namespaces (setns on the init's pidfd)");
  if ((plan->join_flags & CLONE_NEWUSER) && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    return mr_error_set (err, errno, "become root in the container's user namespace");
  return 0;
}

/* its own pty; /dev/console stays the init's */
static int
exec_terminal (struct mr_proc *p, mr_error_t *err)
{
  if (!p->process->terminal) /* a session of its own, as the init's (child.c) */
    return setsid () < 0 ? mr_error_set (err, errno, "setsid") : 0;
  return mr_terminal_setup (p->process, p->plan->console_fd, p->sync_fd, false, err);
}

static const struct mr_step exec_steps[] = {
  { "identity", mr_step_identity },
  { "cgroup", exec_cgroup },
  { "security", mr_step_procfs },
  { "setns", exec_setns },
  { "terminal", exec_terminal },
  { "cwd", mr_step_cwd },
  { "identity", mr_step_own_life },
};

static void __attribute__ ((noreturn))
child_main (struct exec_ctx *x)
{
  struct mr_proc p;

  for (size_t i = 0; i < sizeof x->init.launcher_fds / sizeof x->init.launcher_fds[0]; i++)
    if (x->init.launcher_fds[i] >= 0)
      close (x->init.launcher_fds[i]);
  mr_proc_init (&p, &x->init, MR_PROC_EXEC, x->process);
  p.preserve_fds = x->opts->preserve_fds;
  mr_steps_run (&p, exec_steps, sizeof exec_steps / sizeof exec_steps[0]);
}

static void
release (struct exec_ctx *x)
{
  int fds[] = { x->init.join_pidfd, x->init.sync_fd, x->init.console_fd, x->sync_parent };

  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  mr_pidplan_free (x->plan);
  mr_security_free (x->sec);
  mr_process_free (x->own_process);
  mr_config_free (x->config);
  mr_handle_close (&x->h);
}

int
mr_container_exec (const struct mr_exec_opts *opts, int *exit_status, mr_error_t *err)
{
  struct exec_ctx x = { .opts = opts, .h = MR_HANDLE_INIT, .sync_parent = -1 };
  struct mr_plan_ns unpinned_ns = { .name = MR_PIDNS_CONTAINER, .parent = -1, .creator = -1 };
  struct mr_pid_plan unpinned = { .n_procs = 1, .n_ns = 1, .ns = &unpinned_ns };
  struct mr_plan_proc unpinned_proc = { .name = "exec", .parent = -1 };
  cleanup_close int own_pidns = -1, pidfd = -1, sigfd = -1, master = -1, pidfd_sock = -1;
  struct mr_sync_msg msg;
  sigset_t old;
  bool foreground = !opts->detach, masked = false, pushed = false;
  cpu_set_t own_cpus;
  pid_t pid;
  int ret = -1, fds[2];

  mr_init_plan_clear (&x.init);
  if (prepare (&x, err) < 0)
    goto out;
  if (mr_sync_pair (fds, err) < 0)
    goto out;
  x.sync_parent = x.init.launcher_fds[0] = fds[0];
  x.init.sync_fd = fds[1];
  if (x.process->terminal && opts->console_socket)
    {
      x.init.console_fd = mr_console_socket_connect (opts->console_socket, err);
      if (x.init.console_fd < 0)
        goto out;
    }
  if (opts->pidfd_socket)
    {
      pidfd_sock = mr_unix_connect (opts->pidfd_socket, "--pidfd-socket", err);
      if (pidfd_sock < 0)
        goto out;
    }
  if (mr_security_listener_connect (x.sec, err) < 0)
    goto out;
  if (foreground)
    {
      sigfd = mr_forward_signals_begin (&old, err);
      if (sigfd < 0)
        goto out;
      masked = true;
    }

  own_pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (own_pidns < 0 || (!same_ns (x.h.st->pid, "pid") && setns (x.init.join_pidfd, CLONE_NEWPID) < 0))
    {
      mr_error_set (err, errno, "enter the container's pid namespace");
      goto out;
    }
  unpinned.procs = &unpinned_proc;
  /* execCPUAffinity.initial: we run on it while the process is set up; it
   * is born with it, before it joins the cgroup (or is cloned into it) */
  if (mr_affinity_push_initial (&x.process->exec_cpu_affinity, &own_cpus, &pushed, err) < 0)
    pid = -1;
  else
    pid = mr_pidpin_clone (x.plan ? x.plan : &unpinned, 0, 0, x.h.cg ? mr_cgroup_v2_dirfd (x.h.cg) : -1, true,
                           &pidfd, err);
  if (pid == 0)
    child_main (&x);
  mr_affinity_pop (&own_cpus, pushed);
  if (setns (own_pidns, CLONE_NEWPID) < 0)
    mr_log_warning ("return to minirun's own pid namespace: %s", strerror (errno));
  if (pid < 0)
    goto out;
  mr_crash_point ("exec:clone");
  close (x.init.sync_fd);
  x.init.sync_fd = -1;

  if (x.plan)
    {
      pid_t nspid[MR_SYNC_MAX_LEVELS];
      size_t n = 0;
      if (mr_pidpin_read_nspid (pidfd, nspid, MR_SYNC_MAX_LEVELS, &n, err) < 0
          || mr_pidplan_verify (x.plan, 0, nspid, n, err) < 0)
        goto kill;
    }
  for (;;)
    {
      if (mr_sync_recv (x.sync_parent, -1, -1, "exec", &msg, err) < 0)
        goto kill;
      if (msg.type == MR_SYNC_TERMINAL)
        {
          if (master < 0)
            master = msg.fd;
          else if (msg.fd >= 0)
            close (msg.fd);
          continue;
        }
      if (msg.type == MR_SYNC_EOF)
        break;
      if (msg.type == MR_SYNC_ERROR)
        {
          mr_error_set_explained (err, msg.errno_, "%s", msg.text);
          goto kill;
        }
      mr_error_set (err, EPROTO, "exec: unexpected %s on the setup channel", mr_sync_type_name (msg.type));
      goto kill;
    }
  if (pidfd_sock >= 0 && mr_pidfd_socket_send (pidfd_sock, pidfd, "setns", err) < 0)
    goto kill;
  if (opts->pid_file && mr_write_pid_file (opts->pid_file, pid, err) < 0)
    goto kill;
  if (!foreground)
    {
      *exit_status = 0;
      ret = 0;
      goto out;
    }
  ret = mr_supervise (pidfd, sigfd, master, exit_status, err);
  goto out;

kill:
  mr_pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
  {
    int ignored;
    mr_error_t e2 = NULL;
    if (mr_reap_status (pidfd, &ignored, &e2) < 0)
      mr_error_free (&e2);
  }
out:
  if (masked)
    mr_forward_signals_end (&old);
  release (&x);
  return ret;
}
