/* exec.c: `minirun exec`: a new process in a running container.
 *
 * The launcher enters the container's pid namespace for its children only
 * (setns on the init's pidfd), clones the process with set_tid when pins are
 * asked for and CLONE_INTO_CGROUP on v2, and returns to its own pid
 * namespace.  The new process joins the rest itself (mount, network, ipc,
 * uts, cgroup, user, time: one setns on the init's pidfd), joins the v1
 * cgroups, creates a pty when asked, applies the process's security settings
 * with the container's seccomp profile, and execs.  Errors come back over the
 * setup channel; exec success is its close-on-exec EOF. */
#include <errno.h>
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
#include "plan/pidpin.h"
#include "process/procexec.h"
#include "plan/pidplan.h"
#include "security/security.h"
#include "state/state.h"
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
  struct mr_state *st;
  struct mr_config *config;        /* the container's config (from the state directory) */
  struct mr_process *own_process;  /* --process FILE, when given */
  struct mr_process *process;      /* what runs: own_process or config->process edited */
  struct mr_security *sec;
  struct mr_cgroup *cgroup;
  struct mr_pid_plan *plan;
  int init_pidfd;
  int join_flags;                  /* namespaces the new process joins */
  int sync[2];
  int console_fd;
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
  snprintf (a, sizeof a, "/proc/%d/ns/%s", (int) pid, name);
  snprintf (b, sizeof b, "/proc/self/ns/%s", name);
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
                                .joined_pid_max = MR_PID_MAX_LIMIT };
  cleanup_close int nsfd = -1;
  char path[64];
  int depth = 0;

  memset (&pc, 0, sizeof pc);
  if (mr_pins_parse_string (x->opts->pins, "exec --pid", &pc.pins.init_pins, &pc.pins.n_init_pins, err) < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/%d/ns/pid", (int) x->st->pid);
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

static int
prepare (struct exec_ctx *x, mr_error_t *err)
{
  const struct mr_exec_opts *o = x->opts;
  cleanup_close int dirfd = -1;
  cleanup_free char *data = NULL;
  enum mr_status status;
  size_t len;

  dirfd = mr_state_dir_open (o->state_root, o->id, false, err);
  if (dirfd < 0 || mr_state_read (dirfd, o->id, &x->st, err) < 0)
    return -1;
  status = mr_state_status (x->st);
  if (status != MR_STATUS_RUNNING && status != MR_STATUS_CREATED)
    return mr_error_set (err, 0, "cannot exec in container `%s`: it is %s", o->id, mr_status_name (status));
  x->init_pidfd = mr_state_open_pidfd (x->st);
  if (x->init_pidfd < 0)
    return mr_error_set (err, ESRCH, "cannot exec in container `%s`: its init is gone", o->id);
  if (mr_read_file_at (dirfd, "config.json", 4 << 20, &data, &len, err) < 0
      || mr_config_parse_data (data, len, &x->config, err) < 0)
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
  if (x->process->terminal && o->detach && o->console_socket == NULL)
    return mr_error_set (err, 0, "exec --tty --detach needs --console-socket");
  if (o->pins && plan_pins (x, err) < 0)
    return -1;
  mr_seccomp_cache_set_dir (o->state_root);
  if (mr_security_prepare (x->process, &x->config->seccomp, &x->sec, err) < 0)
    return -1;
  if (x->st->cgroup_path && mr_cgroup_open (x->st->cgroup_path, &x->cgroup, err) < 0)
    return mr_error_wrap (err, "exec in `%s`", o->id);

  for (size_t i = 0; i < sizeof join_table / sizeof join_table[0]; i++)
    if (!same_ns (x->st->pid, join_table[i].name))
      x->join_flags |= join_table[i].flag;
  return 0;
}



static void __attribute__ ((noreturn))
child_fail (int sync_fd, const char *step, mr_error_t *err)
{
  cleanup_free char *text = xasprintf ("exec step \"%s\": %s", step, *err ? (*err)->msg : "unknown error");
  struct mr_error e = { *err ? (*err)->errno_ : 0, text };
  mr_sync_send_error (sync_fd, step, &e);
  _exit (127);
}

static void __attribute__ ((noreturn))
child_main (struct exec_ctx *x)
{
  int fd = x->sync[1];
  mr_error_t err = NULL;
  sigset_t none;

  close (x->sync[0]);
  /* Until it execs, the process dies with `minirun exec`. */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    {
      mr_error_set (&err, errno, "prctl");
      child_fail (fd, "identity", &err);
    }
  if (mr_sync_peer_gone (fd))
    _exit (127);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);

  if (x->cgroup && mr_cgroup_child_join (x->cgroup, &err) < 0)
    child_fail (fd, "cgroup", &err);
  if (mr_security_apply_procfs (x->process, -1, &err) < 0)
    child_fail (fd, "security", &err);
  if (x->join_flags && setns (x->init_pidfd, x->join_flags) < 0)
    {
      mr_error_set (&err, errno, "join the container's namespaces (setns on the init's pidfd)");
      child_fail (fd, "setns", &err);
    }
  if ((x->join_flags & CLONE_NEWUSER) && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    {
      mr_error_set (&err, errno, "become root in the container's user namespace");
      child_fail (fd, "setns", &err);
    }
  if (x->process->terminal && mr_terminal_setup (x->process, x->console_fd, fd, &err) < 0)
    child_fail (fd, "terminal", &err);
  /* its own session, as the init's (child.c) */
  if (!x->process->terminal && setsid () < 0 && mr_error_set (&err, errno, "setsid") < 0)
    child_fail (fd, "session", &err);
  if (mr_enter_cwd (x->process->cwd, &err) < 0)
    child_fail (fd, "cwd", &err);
  if (mr_close_range (3 + (unsigned) x->opts->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      mr_error_set (&err, errno, "close_range");
      child_fail (fd, "fds", &err);
    }
  for (int i = 3; i < 3 + x->opts->preserve_fds; i++)
    if (i != fd)
      {
        int flags = fcntl (i, F_GETFD);
        if (flags >= 0)
          fcntl (i, F_SETFD, flags & ~FD_CLOEXEC);
      }
  /* A detached process outlives `minirun exec`; a foreground one dies with
   * it, like the init of a foreground `run`. */
  if (x->opts->detach && prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
    {
      mr_error_set (&err, errno, "prctl(PR_SET_PDEATHSIG, 0)");
      child_fail (fd, "identity", &err);
    }
  if (mr_security_apply_final (x->sec, x->process, NULL, &err) < 0)
    child_fail (fd, "security", &err);
  mr_exec_process (x->process, &err);
  child_fail (fd, "exec", &err);
}

static void
release (struct exec_ctx *x)
{
  if (x->init_pidfd >= 0)
    close (x->init_pidfd);
  for (int i = 0; i < 2; i++)
    if (x->sync[i] >= 0)
      close (x->sync[i]);
  if (x->console_fd >= 0)
    close (x->console_fd);
  mr_pidplan_free (x->plan);
  mr_cgroup_free (x->cgroup);
  mr_security_free (x->sec);
  mr_process_free (x->own_process);
  mr_config_free (x->config);
  mr_state_free (x->st);
}

int
mr_container_exec (const struct mr_exec_opts *opts, int *exit_status, mr_error_t *err)
{
  struct exec_ctx x = { .opts = opts, .init_pidfd = -1, .sync = { -1, -1 }, .console_fd = -1 };
  struct mr_plan_ns unpinned_ns = { .name = MR_PIDNS_CONTAINER, .parent = -1, .creator = -1 };
  struct mr_pid_plan unpinned = { .n_procs = 1, .n_ns = 1, .ns = &unpinned_ns };
  struct mr_plan_proc unpinned_proc = { .name = "exec", .parent = -1 };
  cleanup_close int own_pidns = -1, pidfd = -1, sigfd = -1, master = -1;
  struct mr_sync_msg msg;
  sigset_t old;
  bool foreground = !opts->detach, masked = false;
  pid_t pid;
  int ret = -1;

  if (prepare (&x, err) < 0)
    goto out;
  if (mr_sync_pair (x.sync, err) < 0)
    goto out;
  if (x.process->terminal && opts->console_socket)
    {
      x.console_fd = mr_console_socket_connect (opts->console_socket, err);
      if (x.console_fd < 0)
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
  if (own_pidns < 0 || (!same_ns (x.st->pid, "pid") && setns (x.init_pidfd, CLONE_NEWPID) < 0))
    {
      mr_error_set (err, errno, "enter the container's pid namespace");
      goto out;
    }
  unpinned.procs = &unpinned_proc;
  pid = mr_pidpin_clone (x.plan ? x.plan : &unpinned, 0, 0, x.cgroup ? mr_cgroup_v2_dirfd (x.cgroup) : -1, true,
                         &pidfd, err);
  if (pid == 0)
    child_main (&x);
  if (setns (own_pidns, CLONE_NEWPID) < 0)
    mr_log_warning ("return to minirun's own pid namespace: %s", strerror (errno));
  if (pid < 0)
    goto out;
  mr_crash_point ("exec:clone");
  close (x.sync[1]);
  x.sync[1] = -1;

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
      if (mr_sync_recv (x.sync[0], -1, -1, "exec", &msg, err) < 0)
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
