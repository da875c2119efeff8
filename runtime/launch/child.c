/* child.c: the container's init before it execs the user process.
 *
 * It runs in the process clone3() created (already inside the new pid, mount,
 * uts, ipc, net and user namespaces, and on v2 already in its cgroup) and
 * works from its copy of the launcher's memory: no re-exec of minirun.  It
 * executes the prepared plan step by step; every failure is sent to the
 * launcher as (step, errno, message) and the process exits.  Steps, in order:
 *
 *   identity      no core dumps / no /proc/PID/exe access (not dumpable),
 *                 default signal dispositions, parent-death signal
 *   userns        wait for the launcher to write the id maps
 *   setns         join the namespaces given by path (mount last)
 *   cgroup        join the v1 hierarchies itself, then a new cgroup namespace
 *   hooks         createRuntime/prestart hooks run by the launcher
 *   uts           hostname, domainname
 *   sysctl        linux.sysctl (namespaced keys only)
 *   network       lo up in a new network namespace
 *   rootfs        mounts, /dev, pivot_root, masked and read-only paths
 *   cwd           chdir into process.cwd, checked to stay inside the root
 *   exec          find process.args[0] (PATH of process.env): fails the create
 *   ready         tell the launcher; wait for start
 *   fds           everything but stdio and --preserve-fds is closed on exec
 *   security      rlimits, user, capabilities, no_new_privs, seccomp
 *   exec          execve what was found
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/hooks.h"
#include "launch/launcher.h"
#include "ns/ns.h"
#include "process/procexec.h"
#include "rootfs/rootfs.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "process/terminal.h"
#include "launch/tree.h"
#include "base/utils.h"

static int child_sync_fd = -1;
static int child_start_conn = -1;   /* create/start: the connection from `minirun start` */

static void __attribute__ ((noreturn))
fail (const char *step, mr_error_t *err)
{
  struct mr_error fallback = { 0, (char *) "unknown error" };
  const struct mr_error *e = (err && *err) ? *err : &fallback;
  cleanup_free char *text = xasprintf ("container setup step \"%s\": %s", step, e->msg);
  struct mr_error wrapped = { e->errno_, text };

  if (child_start_conn >= 0)
    {
      /* `minirun start` is waiting: it reports the failure. */
      (void) !write (child_start_conn, text, strlen (text));
    }
  mr_sync_send_error (child_sync_fd, step, &wrapped);
  _exit (127);
}

static void
reset_signals (void)
{
  sigset_t all;
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction (s, &sa, NULL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

static const int setns_order[] = { MR_NS_IPC, MR_NS_UTS, MR_NS_NET, MR_NS_CGROUP, MR_NS_TIME, MR_NS_MOUNT };
static const int setns_flag[MR_NS_COUNT] = {
  [MR_NS_PID] = CLONE_NEWPID, [MR_NS_NET] = CLONE_NEWNET,       [MR_NS_MOUNT] = CLONE_NEWNS,
  [MR_NS_IPC] = CLONE_NEWIPC, [MR_NS_UTS] = CLONE_NEWUTS,       [MR_NS_USER] = CLONE_NEWUSER,
  [MR_NS_CGROUP] = CLONE_NEWCGROUP, [MR_NS_TIME] = CLONE_NEWTIME,
};

static int
join_namespaces (struct mr_launch *l, mr_error_t *err)
{
  for (size_t i = 0; i < sizeof setns_order / sizeof setns_order[0]; i++)
    {
      int t = setns_order[i];
      if (l->ns_fds[t] < 0)
        continue;
      if (setns (l->ns_fds[t], setns_flag[t]) < 0)
        return mr_error_set (err, errno, "join the %s namespace at `%s`", mr_ns_type_name (t),
                             l->config->namespaces[t].path);
    }
  return 0;
}

static int
set_uts (const struct mr_config *c, mr_error_t *err)
{
  if (c->hostname && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return mr_error_set (err, errno, "sethostname \"%s\"", c->hostname);
  if (c->domainname && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return mr_error_set (err, errno, "setdomainname \"%s\"", c->domainname);
  return 0;
}


/* Wait for `start`: either the launcher's START on the setup channel, or a
 * connection from `minirun start` on the start socket. */
static int
wait_for_start (struct mr_launch *l, mr_error_t *err)
{
  struct mr_sync_msg msg;

  if (l->start_mode == MR_START_BY_SYNC)
    return mr_sync_expect (child_sync_fd, -1, -1, MR_SYNC_START, &msg, err);

  for (;;)
    {
      char c;
      ssize_t n;
      int conn = accept4 (l->start_listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0 && errno == EINTR)
        continue;
      if (conn < 0)
        return mr_error_set (err, errno, "wait for `minirun start` (accept on the start socket)");
      do
        n = read (conn, &c, 1);
      while (n < 0 && errno == EINTR);
      if (n == 1 && c == 'S')
        {
          child_start_conn = conn;
          close (l->start_listen_fd);
          return 0;
        }
      close (conn); /* something else connected: keep waiting */
    }
}


void
mr_child_main (struct mr_launch *l)
{
  const struct mr_config *c = l->config;
  mr_error_t err = NULL;
  struct mr_sync_msg msg;
  struct mr_tree_gate gate = { -1, -1, 0 };
  char *exe = NULL; /* process.args[0] as found at create; this process ends in execve or _exit */
  struct mr_rootfs_opts ro = {
    .rootfs = l->rootfs,
    .bundle = l->bundle,
    .in_userns = l->new_ns[MR_NS_USER] || l->ns_fds[MR_NS_USER] >= 0,
    .no_pivot = l->opts->no_pivot,
    .shared_mount_ns = !c->namespaces[MR_NS_MOUNT].present,
    .cgroup = l->cgroup,
  };

  child_sync_fd = l->sync_child;
  close (l->sync_parent);
  /* The state directory's flock belongs to the launcher: our copy of its fd
   * would keep it locked for as long as we wait for `start`. */
  close (l->state_dirfd);
  l->state_dirfd = -1;

  /* identity: not dumpable, so nothing in the container can open our
   * /proc/PID/exe (the host's minirun binary) or ptrace us.  With a new user
   * namespace the launcher must write our id maps first, which needs us
   * dumpable: nothing else lives in our namespaces until then. */
  if (!l->new_ns[MR_NS_USER] && prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    {
      mr_error_set (&err, errno, "prctl(PR_SET_DUMPABLE, 0)");
      fail ("identity", &err);
    }
  reset_signals ();
  if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    {
      mr_error_set (&err, errno, "prctl(PR_SET_PDEATHSIG)");
      fail ("identity", &err);
    }
  if (mr_sync_peer_gone (child_sync_fd))
    _exit (127);

  /* userns */
  if (l->ns_fds[MR_NS_USER] >= 0 && setns (l->ns_fds[MR_NS_USER], CLONE_NEWUSER) < 0)
    {
      mr_error_set (&err, errno, "join the user namespace at `%s`", c->namespaces[MR_NS_USER].path);
      fail ("userns", &err);
    }
  if (l->new_ns[MR_NS_USER])
    {
      if (mr_sync_send (child_sync_fd, MR_SYNC_USERNS_READY, &err) < 0
          || mr_sync_expect (child_sync_fd, -1, -1, MR_SYNC_USERNS_MAPPED, &msg, &err) < 0)
        fail ("userns", &err);
      if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        {
          mr_error_set (&err, errno, "prctl(PR_SET_DUMPABLE, 0)");
          fail ("identity", &err);
        }
    }
  if ((l->new_ns[MR_NS_USER] || l->ns_fds[MR_NS_USER] >= 0) && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    {
      mr_error_set (&err, errno, "become root in the user namespace (is uid/gid 0 mapped?)");
      fail ("userns", &err);
    }

  if (mr_launch_init_needs_pid (l))
    {
      if (mr_sync_expect (child_sync_fd, -1, -1, MR_SYNC_INIT_PID, &msg, &err) < 0)
        fail ("identity", &err);
      l->pid = msg.pids[0];
    }

  /* setns */
  if (join_namespaces (l, &err) < 0)
    fail ("setns", &err);

  /* cgroup */
  if (l->cgroup && mr_cgroup_child_join (l->cgroup, &err) < 0)
    fail ("cgroup", &err);
  if (l->new_ns[MR_NS_CGROUP] && unshare (CLONE_NEWCGROUP) < 0)
    {
      mr_error_set (&err, errno, "unshare(CLONE_NEWCGROUP)");
      fail ("cgroup", &err);
    }

  /* hooks run by the launcher in the runtime namespace */
  if (c->n_hooks[MR_HOOK_PRESTART] + c->n_hooks[MR_HOOK_CREATE_RUNTIME] > 0)
    {
      if (mr_sync_send (child_sync_fd, MR_SYNC_HOOKS_RUNTIME, &err) < 0
          || mr_sync_expect (child_sync_fd, -1, -1, MR_SYNC_HOOKS_DONE, &msg, &err) < 0)
        fail ("hooks", &err);
    }

  /* oom_score_adj and LSM exec labels go through the host's /proc now: the
   * container need not mount one; they hold until execve. */
  if (mr_security_apply_procfs (&c->process, -1, &err) < 0)
    fail ("security", &err);

  if (set_uts (c, &err) < 0)
    fail ("uts", &err);
  if (mr_sysctl_apply (c, &err) < 0)
    fail ("sysctl", &err);
  if (l->new_ns[MR_NS_NET] && mr_netlink_loopback_up (&err) < 0)
    fail ("network", &err);

  /* rootfs */
  if (mr_rootfs_prepare (c, &ro, &err) < 0)
    fail ("rootfs", &err);
  if (c->n_hooks[MR_HOOK_CREATE_CONTAINER] > 0)
    {
      cleanup_free char *state = mr_launch_state_json (l, MR_STATUS_CREATED);
      if (mr_hooks_run (c->hooks[MR_HOOK_CREATE_CONTAINER], c->n_hooks[MR_HOOK_CREATE_CONTAINER], "createContainer",
                        state, &err) < 0)
        fail ("createContainer hooks", &err);
    }
  if (mr_rootfs_pivot (&ro, &err) < 0)
    fail ("pivot_root", &err);
  if (mr_rootfs_finalize (c, &ro, &err) < 0)
    fail ("rootfs", &err);

  /* terminal */
  if (c->process.terminal && mr_terminal_setup (&c->process, l->console_fd, child_sync_fd, &err) < 0)
    fail ("terminal", &err);
  /* a session of its own, as with runc and crun (the terminal's is made
     above): CRIU cannot checkpoint a tree whose session leader is outside */
  if (!c->process.terminal && setsid () < 0 && mr_error_set (&err, errno, "setsid") < 0)
    fail ("session", &err);

  /* minirun.processes: every pinned process exists before anything execs */
  if (mr_tree_spawn (l, child_sync_fd, &gate, &err) < 0)
    fail ("processes", &err);

  if (mr_enter_cwd (c->process.cwd, &err) < 0)
    fail ("cwd", &err);
  /* as runc: a command that cannot be run fails the create, not the start */
  if (mr_find_executable (&c->process, &exe, &err) < 0)
    fail ("exec", &err);

  /* ready: from here a detached container outlives its launcher */
  if (!l->keep_pdeathsig && prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
    {
      mr_error_set (&err, errno, "prctl(PR_SET_PDEATHSIG, 0)");
      fail ("ready", &err);
    }
  if (mr_sync_send (child_sync_fd, MR_SYNC_READY, &err) < 0)
    fail ("ready", &err);
  if (wait_for_start (l, &err) < 0)
    fail ("start", &err);

  if (c->n_hooks[MR_HOOK_START_CONTAINER] > 0)
    {
      cleanup_free char *state = mr_launch_state_json (l, MR_STATUS_CREATED);
      if (mr_hooks_run (c->hooks[MR_HOOK_START_CONTAINER], c->n_hooks[MR_HOOK_START_CONTAINER], "startContainer",
                        state, &err) < 0)
        fail ("startContainer hooks", &err);
    }

  if (mr_tree_release (&gate, &err) < 0)
    fail ("start", &err);

  /* a session keyring of its own, as runc gives (unless --no-new-keyring) */
  if (!l->opts->no_new_keyring)
    {
      long key = syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, l->opts->id);
      if (key < 0 && errno != ENOSYS && errno != EACCES && errno != EPERM)
        {
          mr_error_set (&err, errno, "join a new session keyring (use --no-new-keyring to keep the caller's)");
          fail ("keyring", &err);
        }
      if (key >= 0)
        syscall (SYS_keyctl, KEYCTL_SETPERM, key, 0x3f3f0000); /* possessor and user: all */
    }

  /* fds: only stdio and the preserved ones survive exec */
  if (mr_close_range (3 + (unsigned) l->opts->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      mr_error_set (&err, errno, "close_range(CLOSE_RANGE_CLOEXEC)");
      fail ("fds", &err);
    }
  for (int fd = 3; fd < 3 + l->opts->preserve_fds; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags >= 0 && fd != child_sync_fd && fd != child_start_conn)
        fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC);
    }

  {
    cleanup_free char *state = c->seccomp.listener_path ? mr_launch_state_json (l, MR_STATUS_CREATED) : NULL;
    if (mr_security_apply_final (l->sec, &c->process, state, &err) < 0)
      fail ("security", &err);
  }

  mr_exec_found (exe, &c->process, &err);
  fail ("exec", &err);
}
