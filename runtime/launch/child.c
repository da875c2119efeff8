/* child.c: the container's init before it execs the user process.
 *
 * It runs in the process clone3() created (already inside the new pid, mount,
 * uts, ipc, net and user namespaces, and on v2 already in its cgroup) and
 * reads the init plan (plan.h) from its copy of the launcher's memory: no
 * re-exec of minirun.  Its steps, in order (init_steps below; each failure
 * goes to the launcher as (step, errno, message) and the process exits):
 *
 *   identity      not dumpable, default signal dispositions, parent-death signal
 *   userns        join the one given by path, or wait for the launcher to
 *                 write the id maps of a new one; become root in it
 *   identity      the host pid, from the launcher, when hooks or the seccomp
 *                 agent need it
 *   setns         join the namespaces given by path (mount last)
 *   cgroup        join the v1 hierarchies itself, then a new cgroup namespace
 *   network devices linux.netDevices, moved in by the launcher
 *   hooks         createRuntime/prestart hooks run by the launcher
 *   security      oom_score_adj, LSM exec labels (through the host's /proc)
 *   uts           hostname, domainname
 *   sysctl        linux.sysctl (namespaced keys only)
 *   network       lo up in a new network namespace
 *   rootfs        mounts, /dev
 *   createContainer hooks
 *   pivot_root
 *   terminal      the pty, bound over /dev/console too (or just a session)
 *   rootfs        masked and read-only paths, root.readonly
 *   processes     minirun.processes (tree.c)
 *   cwd           chdir into process.cwd, checked to stay inside the root
 *   exec          find process.args[0] (PATH of process.env): fails the create
 *   ready         tell the launcher; wait for start
 *   startContainer hooks
 *   start         let the tree exec
 *   keyring       a session keyring of its own
 * then the tail every container process shares (steps.c): fds, personality,
 * final security (rlimits, user, capabilities, no_new_privs, seccomp), exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "launch/child.h"
#include "launch/steps.h"
#include "launch/tree.h"
#include "ns/ns.h"
#include "process/hooks.h"
#include "process/procexec.h"
#include "process/sync.h"
#include "process/terminal.h"
#include "rootfs/rootfs.h"
#include "base/utils.h"

static const int setns_order[] = { MR_NS_IPC, MR_NS_UTS, MR_NS_NET, MR_NS_CGROUP, MR_NS_TIME, MR_NS_MOUNT };
static const int setns_flag[MR_NS_COUNT] = {
  [MR_NS_PID] = CLONE_NEWPID, [MR_NS_NET] = CLONE_NEWNET,       [MR_NS_MOUNT] = CLONE_NEWNS,
  [MR_NS_IPC] = CLONE_NEWIPC, [MR_NS_UTS] = CLONE_NEWUTS,       [MR_NS_USER] = CLONE_NEWUSER,
  [MR_NS_CGROUP] = CLONE_NEWCGROUP, [MR_NS_TIME] = CLONE_NEWTIME,
};

static bool
in_userns (const struct mr_init_plan *plan)
{
  return plan->new_ns[MR_NS_USER] || plan->ns_fds[MR_NS_USER] >= 0;
}

static struct mr_rootfs_opts
rootfs_opts (const struct mr_init_plan *plan)
{
  struct mr_rootfs_opts ro = {
    .rootfs = plan->rootfs,
    .bundle = plan->bundle,
    .in_userns = in_userns (plan),
    .no_pivot = plan->no_pivot,
    .shared_mount_ns = !plan->config->namespaces[MR_NS_MOUNT].present,
    .cgroup = plan->cgroup,
    .idmapped = plan->idmapped,
  };
  return ro;
}

/* Run hooks of `kind` in the container with the state as created. */
static int
run_hooks (struct mr_proc *p, enum mr_hook_kind kind, const char *name, mr_error_t *err)
{
  const struct mr_config *c = p->plan->config;
  cleanup_free char *state = NULL;

  if (c->n_hooks[kind] == 0)
    return 0;
  state = mr_proc_state_json (p, MR_STATUS_CREATED);
  return mr_hooks_run (c->hooks[kind], c->n_hooks[kind], name, state, err);
}

/* ---- the steps ---- */

static int
join_userns (struct mr_proc *p, mr_error_t *err)
{
  const struct mr_init_plan *plan = p->plan;
  if (plan->ns_fds[MR_NS_USER] >= 0 && setns (plan->ns_fds[MR_NS_USER], CLONE_NEWUSER) < 0)
    return mr_error_set (err, errno, "join the user namespace at `%s`", plan->config->namespaces[MR_NS_USER].path);
  return 0;
}

static int
map_userns (struct mr_proc *p, mr_error_t *err)
{
  struct mr_sync_msg msg;
  if (!p->plan->new_ns[MR_NS_USER])
    return 0;
  if (mr_sync_send (p->sync_fd, MR_SYNC_USERNS_READY, err) < 0)
    return -1;
  return mr_sync_expect (p->sync_fd, -1, -1, MR_SYNC_USERNS_MAPPED, &msg, err);
}

/* the maps are written: nothing needs us dumpable any more */
static int
undumpable_after_maps (struct mr_proc *p, mr_error_t *err)
{
  if (p->plan->new_ns[MR_NS_USER] && prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl(PR_SET_DUMPABLE, 0)");
  return 0;
}

static int
become_root (struct mr_proc *p, mr_error_t *err)
{
  if (in_userns (p->plan) && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    return mr_error_set (err, errno, "become root in the user namespace (is uid/gid 0 mapped?)");
  return 0;
}

/* The init cannot see its own host pid; its hooks and seccomp agent need it. */
static int
receive_host_pid (struct mr_proc *p, mr_error_t *err)
{
  struct mr_sync_msg msg;
  if (!p->plan->needs_pid)
    return 0;
  if (mr_sync_expect (p->sync_fd, -1, -1, MR_SYNC_INIT_PID, &msg, err) < 0)
    return -1;
  p->host_pid = msg.pids[0];
  return 0;
}

static int
join_namespaces (struct mr_proc *p, mr_error_t *err)
{
  const struct mr_init_plan *plan = p->plan;
  for (size_t i = 0; i < sizeof setns_order / sizeof setns_order[0]; i++)
    {
      int t = setns_order[i];
      if (plan->ns_fds[t] < 0)
        continue;
      if (setns (plan->ns_fds[t], setns_flag[t]) < 0)
        return mr_error_set (err, errno, "join the %s namespace at `%s`", mr_ns_type_name (t),
                             plan->config->namespaces[t].path);
    }
  return 0;
}

static int
join_cgroup (struct mr_proc *p, mr_error_t *err)
{
  if (p->plan->cgroup && mr_cgroup_child_join (p->plan->cgroup, err) < 0)
    return -1;
  if (p->plan->new_ns[MR_NS_CGROUP] && unshare (CLONE_NEWCGROUP) < 0)
    return mr_error_set (err, errno, "unshare(CLONE_NEWCGROUP)");
  return 0;
}

/* linux.netDevices: moved in from the host, by the launcher, once the init
 * is in its network namespace (before the hooks and sysctls that may name them) */
static int
net_devices (struct mr_proc *p, mr_error_t *err)
{
  struct mr_sync_msg msg;

  if (p->plan->config->n_net_devices == 0)
    return 0;
  if (mr_sync_send (p->sync_fd, MR_SYNC_NETDEVS, err) < 0)
    return -1;
  return mr_sync_expect (p->sync_fd, -1, -1, MR_SYNC_NETDEVS_DONE, &msg, err);
}

/* prestart and createRuntime run in the runtime's namespaces: the launcher's job */
static int
runtime_hooks (struct mr_proc *p, mr_error_t *err)
{
  const struct mr_config *c = p->plan->config;
  struct mr_sync_msg msg;

  if (c->n_hooks[MR_HOOK_PRESTART] + c->n_hooks[MR_HOOK_CREATE_RUNTIME] == 0)
    return 0;
  if (mr_sync_send (p->sync_fd, MR_SYNC_HOOKS_RUNTIME, err) < 0)
    return -1;
  return mr_sync_expect (p->sync_fd, -1, -1, MR_SYNC_HOOKS_DONE, &msg, err);
}

static int
set_uts (struct mr_proc *p, mr_error_t *err)
{
  const struct mr_config *c = p->plan->config;
  if (c->hostname && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return mr_error_set (err, errno, "sethostname \"%s\"", c->hostname);
  if (c->domainname && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return mr_error_set (err, errno, "setdomainname \"%s\"", c->domainname);
  return 0;
}

static int
apply_sysctl (struct mr_proc *p, mr_error_t *err)
{
  return mr_sysctl_apply (p->plan->config, err);
}

static int
loopback_up (struct mr_proc *p, mr_error_t *err)
{
  return p->plan->new_ns[MR_NS_NET] ? mr_netlink_loopback_up (err) : 0;
}

static int
rootfs_prepare (struct mr_proc *p, mr_error_t *err)
{
  struct mr_rootfs_opts ro = rootfs_opts (p->plan);
  return mr_rootfs_prepare (p->plan->config, &ro, err);
}

static int
create_container_hooks (struct mr_proc *p, mr_error_t *err)
{
  return run_hooks (p, MR_HOOK_CREATE_CONTAINER, "createContainer", err);
}

static int
pivot (struct mr_proc *p, mr_error_t *err)
{
  struct mr_rootfs_opts ro = rootfs_opts (p->plan);
  return mr_rootfs_pivot (&ro, err);
}

/* the pty, also bound over /dev/console: before the rootfs is made
 * read-only, since /dev/console may have to be created */
static int
terminal (struct mr_proc *p, mr_error_t *err)
{
  /* without one, a session of its own all the same, as with runc and crun:
     CRIU cannot checkpoint a tree whose session leader is outside it */
  if (!p->process->terminal)
    return setsid () < 0 ? mr_error_set (err, errno, "setsid") : 0;
  return mr_terminal_setup (p->process, p->plan->console_fd, p->sync_fd, true, err);
}

static int
rootfs_finalize (struct mr_proc *p, mr_error_t *err)
{
  struct mr_rootfs_opts ro = rootfs_opts (p->plan);
  return mr_rootfs_finalize (p->plan->config, &ro, err);
}

/* minirun.processes: every pinned process exists before anything execs */
static int
spawn_tree (struct mr_proc *p, mr_error_t *err)
{
  return mr_tree_spawn (p->plan, &p->gate, err);
}

/* as runc: a command that cannot be run fails the create, not the start */
static int
find_exe (struct mr_proc *p, mr_error_t *err)
{
  return mr_find_executable (p->process, &p->exe, err);
}

static int
send_ready (struct mr_proc *p, mr_error_t *err)
{
  return mr_sync_send (p->sync_fd, MR_SYNC_READY, err);
}

/* Wait for `start`: either the launcher's START on the setup channel, or a
 * connection from `minirun start` on the start socket. */
static int
wait_for_start (struct mr_proc *p, mr_error_t *err)
{
  const struct mr_init_plan *plan = p->plan;
  struct mr_sync_msg msg;

  if (plan->start_mode == MR_START_BY_SYNC)
    return mr_sync_expect (p->sync_fd, -1, -1, MR_SYNC_START, &msg, err);

  for (;;)
    {
      char c;
      ssize_t n;
      int conn = accept4 (plan->start_listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0 && errno == EINTR)
        continue;
      if (conn < 0)
        return mr_error_set (err, errno, "wait for `minirun start` (accept on the start socket)");
      do
        n = read (conn, &c, 1);
      while (n < 0 && errno == EINTR);
      if (n == 1 && c == 'S')
        {
          p->start_conn = conn;
          close (plan->start_listen_fd);
          return 0;
        }
      close (conn); /* something else connected: keep waiting */
    }
}

static int
start_container_hooks (struct mr_proc *p, mr_error_t *err)
{
  return run_hooks (p, MR_HOOK_START_CONTAINER, "startContainer", err);
}

static int
release_tree (struct mr_proc *p, mr_error_t *err)
{
  return mr_tree_release (&p->gate, err);
}

/* a session keyring of its own, as runc gives (unless --no-new-keyring) */
static int
join_keyring (struct mr_proc *p, mr_error_t *err)
{
  long key;

  if (p->plan->no_new_keyring)
    return 0;
  key = syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->plan->id);
  if (key < 0 && errno != ENOSYS && errno != EACCES && errno != EPERM)
    return mr_error_set (err, errno, "join a new session keyring (use --no-new-keyring to keep the caller's)");
  if (key >= 0)
    syscall (SYS_keyctl, KEYCTL_SETPERM, key, 0x3f3f0000); /* possessor and user: all */
  return 0;
}

static const struct mr_step init_steps[] = {
  { "identity", mr_step_identity },
  { "userns", join_userns },
  { "userns", map_userns },
  { "identity", undumpable_after_maps },
  { "userns", become_root },
  { "identity", receive_host_pid },
  { "setns", join_namespaces },
  { "cgroup", join_cgroup },
  { "network devices", net_devices },
  { "hooks", runtime_hooks },
  { "security", mr_step_procfs },
  { "uts", set_uts },
  { "sysctl", apply_sysctl },
  { "network", loopback_up },
  { "rootfs", rootfs_prepare },
  { "createContainer hooks", create_container_hooks },
  { "pivot_root", pivot },
  { "terminal", terminal },
  { "rootfs", rootfs_finalize },
  { "processes", spawn_tree },
  { "cwd", mr_step_cwd },
  { "exec", find_exe },
  { "ready", mr_step_own_life },
  { "ready", send_ready },
  { "start", wait_for_start },
  { "startContainer hooks", start_container_hooks },
  { "start", release_tree },
  { "keyring", join_keyring },
};

void
mr_init_main (const struct mr_init_plan *plan)
{
  struct mr_proc p;

  /* The launcher's fds: its end of the setup channel, and the state
   * directory, whose flock our copy would keep for as long as we wait for
   * `start`. */
  for (size_t i = 0; i < sizeof plan->launcher_fds / sizeof plan->launcher_fds[0]; i++)
    if (plan->launcher_fds[i] >= 0)
      close (plan->launcher_fds[i]);
  mr_proc_init (&p, plan, MR_PROC_INIT, &plan->config->process);
  p.preserve_fds = plan->preserve_fds;
  mr_steps_run (&p, init_steps, sizeof init_steps / sizeof init_steps[0]);
}
