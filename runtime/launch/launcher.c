/* launcher.c: setting a container up on the host side (run.c builds
 * `create` and `run` from these steps; plan.c prepares the init plan).
 *
 * spawn runs spawn_steps in order, each named by the crash point that
 * follows it (MINIRUN_CRASH_AT, base/crash.h):
 *   create:state-dir       the state directory (locked), its creation time and owner
 *   create:state-creating  the state file says "creating" and names the cgroup
 *   create:cgroup          the cgroup, with the config's limits
 *   create:clone           setup channel, start socket, console socket, clone3 of
 *                          the init with its namespaces, CLONE_INTO_CGROUP and
 *                          set_tid; NSpid verified against the pins; recorded
 *   create:ready           id maps, runtime hooks, the tree's pids: up to READY
 *   create:pidfd-socket    --pidfd-socket: a pidfd of the init sent (runc's "standard")
 *   create:created         the config kept; `create` records "created"
 *
 * A failure at any step undoes everything before it: the init is killed
 * through its pidfd, linux.netDevices go back to the host, the cgroup and
 * the state directory are removed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/crash.h"
#include "base/log.h"
#include "base/syscalls.h"
#include "base/utils.h"
#include "config/devrules.h"
#include "launch/child.h"
#include "launch/launcher.h"
#include "ns/ns.h"
#include "process/pidpin.h"
#include "process/hooks.h"
#include "process/supervise.h"
#include "process/sync.h"
#include "process/terminal.h"
#include "rootfs/rootfs.h"

void
mr_launch_init (struct mr_launch *l, const struct mr_run_opts *opts)
{
  memset (l, 0, sizeof *l);
  l->opts = opts;
  mr_init_plan_clear (&l->init);
  l->state_dirfd = -1;
  l->sync_parent = -1;
  l->pidfd = -1;
  l->terminal_master = -1;
  l->pidfd_socket = -1;
}

void
mr_launch_release (struct mr_launch *l)
{
  int fds[] = { l->init.start_listen_fd, l->init.sync_fd, l->init.console_fd, l->state_dirfd, l->sync_parent,
                l->pidfd, l->terminal_master, l->pidfd_socket };

  for (int i = 0; i < MR_NS_COUNT; i++)
    if (l->init.ns_fds[i] >= 0)
      close (l->init.ns_fds[i]);
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  mr_rootfs_idmap_free (&l->idmapped);
  mr_netdev_moves_free (l->netdevs);
  mr_cgroup_free (l->cgroup);
  mr_rdt_clear (&l->rdt);
  mr_security_free (l->sec);
  mr_pidplan_free (l->plan);
  mr_config_free (l->config);
  free (l->bundle);
  free (l->config_path);
  free (l->config_data);
  free (l->rootfs);
  free (l->state.created);
  free (l->state.owner);
  for (size_t i = 0; i < l->state.n_procs; i++)
    free (l->state.procs[i].pins);
  free (l->state.procs);
  free (l->state.cgroup_path);
}

static char *
now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  if (strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    buf[0] = '\0'; /* cannot happen with this format and size */
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

int
mr_launch_save_state (struct mr_launch *l, enum mr_status status, mr_error_t *err)
{
  l->state.status = status;
  l->state.detached = l->opts->detach;
  return mr_state_write (l->state_dirfd, &l->state, err);
}

static void
kill_and_reap (struct mr_launch *l)
{
  siginfo_t info;
  if (l->pidfd < 0)
    return;
  mr_pidfd_send_signal (l->pidfd, SIGKILL, NULL, 0);
  while (waitid (P_PIDFD, (id_t) l->pidfd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  close (l->pidfd);
  l->pidfd = -1;
}

/* Undo a half-made container. Errors here are reported but do not hide the
 * original one. */
void
mr_launch_undo (struct mr_launch *l)
{
  mr_error_t err = NULL;

  kill_and_reap (l);
  /* its network namespace lives on in l->netdevs: the devices come back */
  mr_netdev_move_back (l->netdevs);
  mr_netdev_moves_free (l->netdevs);
  l->netdevs = NULL;
  /* Without a pid namespace of its own, the container's other processes do
   * not die with its init: the cgroup knows them all. */
  if (l->cgroup && !l->init.new_ns[MR_NS_PID] && l->plan && l->plan->n_procs > 1
      && mr_cgroup_kill (l->cgroup, SIGKILL, &err) < 0)
    mr_error_warn (&err, "cleanup");
  if (l->cgroup && mr_cgroup_destroy (l->cgroup, &err) < 0)
    mr_error_warn (&err, "cleanup");
  if (l->rdt.dir && (mr_rdt_leave (&l->rdt, &err) < 0 || mr_rdt_destroy (&l->rdt, &err) < 0))
    mr_error_warn (&err, "cleanup");
  if (l->state_dirfd >= 0 && mr_rootfs_shared_unbind (l->state_dirfd, &err) < 0)
    mr_error_warn (&err, "cleanup");
  if (l->state_dirfd >= 0 && mr_state_dir_remove (l->opts->state_root, l->opts->id, l->state_dirfd, &err) < 0)
    mr_error_warn (&err, "cleanup");
}

/* Keep the config the container was created with next to its state: `exec`
 * takes its process defaults and seccomp profile from it, `start` and
 * `delete` its poststart/poststop hooks. */
static int
keep_config (struct mr_launch *l, mr_error_t *err)
{
  l->state.has_poststop_hooks = l->config->n_hooks[MR_HOOK_POSTSTOP] > 0;
  if (mr_write_file_atomic (l->state_dirfd, "config.json", l->config_data, l->config_len, 0600, err) < 0)
    return mr_error_wrap (err, "keep a copy of the config in the state directory");
  return 0;
}

/* ---- spawn: the host's steps ---- */

static int
make_state_dir (struct mr_launch *l, mr_error_t *err)
{
  struct stat self;

  l->state_dirfd = mr_state_dir_create (l->opts->state_root, l->opts->id, err);
  if (l->state_dirfd < 0)
    return -1;
  l->state.created = now_rfc3339 ();
  l->state.owner = mr_state_owner ();
  if (stat ("/proc/self/exe", &self) == 0)
    {
      l->state.init_exe_dev = self.st_dev;
      l->state.init_exe_ino = self.st_ino;
    }
  return 0;
}

/* From here on a state file always says what exists, so that `delete
 * --force` can undo a launcher that died at any step. */
static int
record_creating (struct mr_launch *l, mr_error_t *err)
{
  l->state.cgroup_path = mr_cgroup_path_for (l->config->cgroups_path, l->opts->id);
  return mr_launch_save_state (l, MR_STATUS_CREATING, err);
}

static int
make_cgroup (struct mr_launch *l, mr_error_t *err)
{
  /* the device rules really applied: the config's plus the defaults */
  struct mr_resources res = l->config->resources;
  cleanup_free struct mr_device_rule *rules = NULL;

  if (res.n_devices > 0)
    {
      rules = mr_devrules_effective (l->config, &res.n_devices);
      res.devices = rules;
    }
  if (mr_cgroup_create (l->state.cgroup_path, res.present ? &res : NULL, &l->cgroup, err) < 0)
    {
      /* Rootless without limits: a cgroup is a nicety we may not have the
       * right to create; the container still runs (as with runc). */
      bool denied = (*err)->errno_ == EACCES || (*err)->errno_ == EPERM || (*err)->errno_ == EROFS;
      if (!(geteuid () != 0 && denied && !l->config->resources.present))
        return -1;
      mr_log_debug ("rootless: no cgroup for `%s`: %s", l->opts->id, (*err)->msg);
      mr_error_free (err);
      l->cgroup = NULL;
    }
  if (l->cgroup == NULL)
    {
      free (l->state.cgroup_path);
      l->state.cgroup_path = NULL;
    }
  l->init.cgroup = l->cgroup;
  return 0;
}

/* linux.intelRdt: the group, recorded before anything can run in it, and
 * the launcher in it so that the init is born there (resctrl.h) */
static int
make_resctrl (struct mr_launch *l, mr_error_t *err)
{
  cleanup_free char *root = NULL;

  if (!l->config->intel_rdt.present)
    return 0;
  root = mr_rdt_mountpoint ();
  if (mr_rdt_create (root, &l->config->intel_rdt, l->opts->id, &l->rdt, err) < 0)
    return -1;
  if (mr_rdt_save (l->state_dirfd, &l->rdt, err) < 0 || mr_rdt_join (&l->rdt, getpid (), err) < 0)
    return -1;
  return 0;
}

/* clone.c; the init is recorded at once, so a crash after it leaves a
 * state that names the init for `delete --force` */
static int
clone_and_record (struct mr_launch *l, mr_error_t *err)
{
  if (mr_launch_clone (l, err) < 0)
    return -1;
  /* the init is in its cgroup: the systemd driver lets its scope's holder go */
  if (l->cgroup && mr_cgroup_init_started (l->cgroup, l->state.pid, err) < 0)
    return -1;
  if (mr_rdt_leave (&l->rdt, err) < 0)
    return -1;
  return mr_launch_save_state (l, MR_STATUS_CREATING, err);
}

/* --pidfd-socket: the init is set up and waits; a pidfd of it goes out */
static int
send_pidfd (struct mr_launch *l, mr_error_t *err)
{
  if (l->pidfd_socket < 0)
    return 0;
  if (mr_pidfd_socket_send (l->pidfd_socket, l->pidfd, "standard", err) < 0)
    return -1;
  close (l->pidfd_socket);
  l->pidfd_socket = -1;
  return 0;
}

/* `run` records the container once it runs; only `create` stops at created */
static int
record_created (struct mr_launch *l, mr_error_t *err)
{
  if (keep_config (l, err) < 0)
    return -1;
  return l->init.start_mode == MR_START_BY_SOCKET ? mr_launch_save_state (l, MR_STATUS_CREATED, err) : 0;
}

struct spawn_step
{
  const char *name; /* its crash point */
  int (*run) (struct mr_launch *l, mr_error_t *err);
};

static const struct spawn_step spawn_steps[] = {
  { "create:state-dir", make_state_dir },
  { "create:state-creating", record_creating },
  { "create:cgroup", make_cgroup },
  { "create:resctrl", make_resctrl },
  { "create:clone", clone_and_record },
  { "create:ready", mr_launch_await_ready },
  { "create:pidfd-socket", send_pidfd },
  { "create:created", record_created },
};

/* Everything up to READY (and "created" for `create`). */
int
mr_launch_spawn (struct mr_launch *l, enum mr_start_mode mode, int *terminal_master, mr_error_t *err)
{
  l->init.start_mode = mode;
  for (size_t i = 0; i < sizeof spawn_steps / sizeof spawn_steps[0]; i++)
    {
      const struct spawn_step *s = &spawn_steps[i];
      if (s->run (l, err) < 0)
        goto fail;
      mr_crash_point (s->name);
    }
  if (l->opts->pid_file && mr_write_pid_file (l->opts->pid_file, l->state.pid, err) < 0)
    goto fail;
  if (terminal_master)
    *terminal_master = MR_STEAL_FD (l->terminal_master);
  return 0;

fail:
  mr_launch_undo (l);
  return -1;
}
