/* launcher.c: setting a container up on the host side (run.c builds
 * `create` and `run` from these steps).
 *
 *   prepare   config -> rootfs path, namespaces to create or join, pid plan,
 *             compiled security (every config error surfaces here, before
 *             anything exists on the system)
 *   spawn     state directory (locked), cgroup, setup channel, clone3 of the
 *             init with its namespaces, CLONE_INTO_CGROUP and set_tid; NSpid
 *             verified against the pins; id maps; runtime hooks; READY
 *
 * A failure at any step undoes everything before it: the init is killed
 * through its pidfd, the cgroup and the state directory are removed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "ns/ns.h"
#include "base/crash.h"
#include "config/devrules.h"
#include "process/hooks.h"
#include "launch/launcher.h"
#include "base/log.h"
#include "rootfs/rootfs.h"
#include "process/pidpin.h"
#include "process/supervise.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "process/terminal.h"
#include "base/utils.h"

void
mr_launch_init (struct mr_launch *l, const struct mr_run_opts *opts)
{
  memset (l, 0, sizeof *l);
  l->opts = opts;
  l->state_dirfd = -1;
  l->sync_parent = l->sync_child = -1;
  l->start_listen_fd = -1;
  l->console_fd = -1;
  l->pidfd = -1;
  for (int i = 0; i < MR_NS_COUNT; i++)
    l->ns_fds[i] = -1;
}

void
mr_launch_release (struct mr_launch *l)
{
  for (int i = 0; i < MR_NS_COUNT; i++)
    if (l->ns_fds[i] >= 0)
      close (l->ns_fds[i]);
  if (l->state_dirfd >= 0)
    close (l->state_dirfd);
  if (l->sync_parent >= 0)
    close (l->sync_parent);
  if (l->sync_child >= 0)
    close (l->sync_child);
  if (l->start_listen_fd >= 0)
    close (l->start_listen_fd);
  if (l->console_fd >= 0)
    close (l->console_fd);
  if (l->pidfd >= 0)
    close (l->pidfd);
  mr_cgroup_free (l->cgroup);
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

/* runtime spec: a namespace type missing from linux.namespaces is the
 * runtime's.  Without a mount namespace of its own, the container's mounts
 * are made in the runtime's, inside a bind of the rootfs that goes at delete
 * (mr_rootfs_shared_bind), and it enters its root with chroot.  What would
 * change the runtime's mount tree itself is refused; say what is shared. */
static int
shared_mount_ns_check (const struct mr_launch *l, mr_error_t *err)
{
  const struct mr_config *c = l->config;
  char shared[128] = "";

  if (c->rootfs_propagation != MR_PROP_NONE)
    return mr_error_set (err, 0,
                         "linux.rootfsPropagation needs a mount namespace of the container's own (it would "
                         "change the runtime's mount tree): add {\"type\": \"mount\"} to linux.namespaces "
                         "or drop it");
  for (int t = 0; t < MR_NS_COUNT; t++)
    if (!c->namespaces[t].present && t != MR_NS_USER && t != MR_NS_TIME)
      {
        size_t used = strlen (shared);
        snprintf (shared + used, sizeof shared - used, "%s%s", used ? ", " : "", mr_ns_type_name (t));
      }
  mr_log_warning ("linux.namespaces has no mount namespace: the container shares the runtime's %s "
                  "namespace%s; its mounts are made under a bind of its rootfs in the runtime's mount "
                  "namespace (removed at delete) and it enters the rootfs with chroot, not pivot_root",
                  shared, strchr (shared, ',') ? "s" : "");
  return 0;
}

int
mr_launch_prepare (struct mr_launch *l, mr_error_t *err)
{
  const struct mr_run_opts *o = l->opts;
  cleanup_free char *root = NULL;
  const char *config_path;
  struct mr_config *c;
  struct mr_pidplan_env env = { .container = MR_PIDNS_SHARED };
  struct stat st;

  l->bundle = realpath (o->bundle ? o->bundle : ".", NULL);
  if (l->bundle == NULL)
    return mr_error_set (err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
  l->config_path = o->config_path ? xstrdup (o->config_path) : xasprintf ("%s/config.json", l->bundle);
  config_path = l->config_path;
  if (mr_read_file_at (AT_FDCWD, config_path, 4 << 20, &l->config_data, &l->config_len, err) < 0
      || mr_config_parse_named (l->config_data, l->config_len, config_path, &l->config, err) < 0)
    return -1;
  c = l->config;
  if (!c->has_process)
    return mr_error_set (err, 0, "%s: `process` is missing: there is nothing to run", config_path);

  root = c->root_path[0] == '/' ? xstrdup (c->root_path) : xasprintf ("%s/%s", l->bundle, c->root_path);
  l->rootfs = realpath (root, NULL);
  if (l->rootfs == NULL)
    return mr_error_set (err, errno, "root.path `%s` (resolved to `%s`)", c->root_path, root);
  if (stat (l->rootfs, &st) < 0 || !S_ISDIR (st.st_mode))
    return mr_error_set (err, ENOTDIR, "root.path `%s`", l->rootfs);

  for (int t = 0; t < MR_NS_COUNT; t++)
    {
      if (!c->namespaces[t].present)
        continue;
      if (c->namespaces[t].path == NULL)
        {
          l->new_ns[t] = true;
          continue;
        }
      l->ns_fds[t] = open (c->namespaces[t].path, O_RDONLY | O_CLOEXEC);
      if (l->ns_fds[t] < 0)
        return mr_error_set (err, errno, "linux.namespaces[%zu].path: open the %s namespace `%s`",
                             c->namespaces[t].index, mr_ns_type_name (t), c->namespaces[t].path);
      {
        /* make sure the path really is a namespace of that type */
        int type = ioctl (l->ns_fds[t], NS_GET_NSTYPE);
        static const int kinds[MR_NS_COUNT] = { CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC,
                                                CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME };
        if (type < 0 || type != kinds[t])
          return mr_error_set (err, type < 0 ? errno : 0, "linux.namespaces[%zu].path: `%s` is not a %s namespace",
                               c->namespaces[t].index, c->namespaces[t].path, mr_ns_type_name (t));
      }
    }
  if (!c->namespaces[MR_NS_MOUNT].present && shared_mount_ns_check (l, err) < 0)
    return -1;
  /* A uts namespace joined by path is the container's too: set them there. */
  if ((c->hostname || c->domainname) && !c->namespaces[MR_NS_UTS].present)
    return mr_error_set (err, 0, "%s is set but the container has no uts namespace of its own: it would "
                         "rename the host (add {\"type\": \"uts\"} to linux.namespaces)",
                         c->hostname ? "hostname" : "domainname");
  if (c->time_offsets.present && !l->new_ns[MR_NS_TIME])
    return mr_error_set (err, 0, "linux.timeOffsets needs a new time namespace in linux.namespaces");
  if (mr_sysctl_validate (c, l->new_ns, err) < 0)
    return -1;

  if (l->new_ns[MR_NS_PID])
    env.container = MR_PIDNS_NEW;
  else if (l->ns_fds[MR_NS_PID] >= 0)
    {
      env.container = MR_PIDNS_JOINED;
      if (mr_pidpin_depth_below_self (l->ns_fds[MR_NS_PID], c->namespaces[MR_NS_PID].path, &env.joined_depth, err)
          < 0)
        return mr_error_wrap (err, "linux.namespaces[%zu].path", c->namespaces[MR_NS_PID].index);
      env.joined_pid_max = MR_PID_MAX_LIMIT;
      if (env.joined_depth == 0)
        env.container = MR_PIDNS_SHARED;
    }
  env.host_pid_max = (c->pins.n_init_pins || c->pins.n_processes) ? mr_pidpin_host_pid_max () : MR_PID_MAX_LIMIT;
  if (mr_pidplan_build (c, &env, &l->plan, err) < 0)
    return -1;
  l->plan->use_legacy = l->plan->any_pins && mr_pidpin_want_legacy (c->pins.legacy_ns_last_pid);
  if (l->plan->n_procs > 1 && c->seccomp.listener_path)
    return mr_error_set (err, ENOTSUP,
                         "linux.seccomp.listenerPath with minirun.processes: one seccomp agent connection per "
                         "process is not supported; drop one of them");
  mr_seccomp_cache_set_dir (l->opts->state_root);
  if (mr_security_prepare (&c->process, &c->seccomp, &l->sec, err) < 0)
    return -1;
  return 0;
}

static char *
now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

bool
mr_launch_init_needs_pid (const struct mr_launch *l)
{
  const struct mr_config *c = l->config;
  return c->n_hooks[MR_HOOK_CREATE_CONTAINER] + c->n_hooks[MR_HOOK_START_CONTAINER] > 0 || c->seccomp.listener_path;
}

char *
mr_launch_state_json (const struct mr_launch *l, enum mr_status status)
{
  struct mr_state st = l->state;
  st.id = (char *) l->opts->id;
  st.bundle = l->bundle;
  st.rootfs = l->rootfs;
  st.pid = l->pid;
  st.annotations = l->config->annotations;
  st.n_annotations = l->config->n_annotations;
  return mr_state_to_oci_json (&st, status, false);
}

int
mr_launch_save_state (struct mr_launch *l, enum mr_status status, mr_error_t *err)
{
  struct mr_state st = l->state;
  st.id = (char *) l->opts->id;
  st.bundle = l->bundle;
  st.rootfs = l->rootfs;
  st.status = status;
  st.pid = l->pid;
  st.annotations = l->config->annotations;
  st.n_annotations = l->config->n_annotations;
  st.detached = l->opts->detach;
  return mr_state_write (l->state_dirfd, &st, err);
}


static int
listen_start_socket (struct mr_launch *l, mr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return mr_error_set (err, errno, "create the start socket");
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/start.sock", l->state_dirfd);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    {
      int e = errno;
      close (fd);
      return mr_error_set (err, e, "bind the start socket in the state directory");
    }
  l->start_listen_fd = fd;
  return 0;
}

static int
write_time_offsets (const struct mr_config *c, mr_error_t *err)
{
  char buf[128];
  int n = snprintf (buf, sizeof buf, "monotonic %lld %u\nboottime %lld %u\n",
                    (long long) c->time_offsets.monotonic_secs, c->time_offsets.monotonic_nsecs,
                    (long long) c->time_offsets.boottime_secs, c->time_offsets.boottime_nsecs);
  if (mr_write_file_at (AT_FDCWD, "/proc/self/timens_offsets", buf, (size_t) n, err) < 0)
    return mr_error_wrap (err, "linux.timeOffsets");
  return 0;
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
  /* Without a pid namespace of its own, the container's other processes do
   * not die with its init: the cgroup knows them all. */
  if (l->cgroup && !l->new_ns[MR_NS_PID] && l->plan && l->plan->n_procs > 1 && mr_cgroup_kill (l->cgroup, SIGKILL, &err) < 0)
    mr_error_warn (&err, "cleanup");
  if (l->cgroup && mr_cgroup_destroy (l->cgroup, &err) < 0)
    mr_error_warn (&err, "cleanup");
  if (l->state_dirfd >= 0 && mr_rootfs_shared_unbind (l->state_dirfd, &err) < 0)
    mr_error_warn (&err, "cleanup");
  if (l->state_dirfd >= 0 && mr_state_dir_remove (l->opts->state_root, l->opts->id, l->state_dirfd, &err) < 0)
    mr_error_warn (&err, "cleanup");
}

static int
run_runtime_hooks (struct mr_launch *l, mr_error_t *err)
{
  const struct mr_config *c = l->config;
  /* runtime spec (and crun): the state these hooks see says "created" */
  cleanup_free char *state = mr_launch_state_json (l, MR_STATUS_CREATED);

  if (mr_hooks_run (c->hooks[MR_HOOK_PRESTART], c->n_hooks[MR_HOOK_PRESTART], "prestart", state, err) < 0)
    return -1;
  return mr_hooks_run (c->hooks[MR_HOOK_CREATE_RUNTIME], c->n_hooks[MR_HOOK_CREATE_RUNTIME], "createRuntime", state,
                       err);
}

static uint64_t
clone_flags (const struct mr_launch *l)
{
  static const uint64_t flag[MR_NS_COUNT] = {
    [MR_NS_PID] = CLONE_NEWPID, [MR_NS_NET] = CLONE_NEWNET, [MR_NS_MOUNT] = CLONE_NEWNS,
    [MR_NS_IPC] = CLONE_NEWIPC, [MR_NS_UTS] = CLONE_NEWUTS, [MR_NS_USER] = CLONE_NEWUSER,
  };
  uint64_t f = 0;
  for (int t = 0; t < MR_NS_COUNT; t++)
    if (l->new_ns[t])
      f |= flag[t]; /* cgroup: unshared by the child after it joined; time: see spawn() */
  return f;
}

/* clone3 of the init, with the pid and time namespaces for children set
 * around it when they are joined or new. */
static int
clone_init (struct mr_launch *l, mr_error_t *err)
{
  cleanup_close int own_pidns = -1, own_timens = -1;
  int cgroup_fd = l->cgroup ? mr_cgroup_v2_dirfd (l->cgroup) : -1;
  pid_t pid;
  int ret = 0;

  if (l->ns_fds[MR_NS_PID] >= 0)
    {
      own_pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
      if (own_pidns < 0 || setns (l->ns_fds[MR_NS_PID], CLONE_NEWPID) < 0)
        return mr_error_set (err, errno, "join the pid namespace at `%s`", l->config->namespaces[MR_NS_PID].path);
    }
  if (l->new_ns[MR_NS_TIME])
    {
      own_timens = open ("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
      if (own_timens < 0 || unshare (CLONE_NEWTIME) < 0)
        ret = mr_error_set (err, errno, "unshare(CLONE_NEWTIME)");
      else if (l->config->time_offsets.present)
        ret = write_time_offsets (l->config, err);
    }

  if (ret == 0)
    {
      pid = mr_pidpin_clone (l->plan, 0, clone_flags (l), cgroup_fd, true, &l->pidfd, err);
      if (pid == 0)
        mr_child_main (l);
      if (pid < 0)
        ret = -1;
      else
        l->pid = pid;
    }

  if (own_pidns >= 0 && setns (own_pidns, CLONE_NEWPID) < 0)
    mr_log_warning ("return to minirun's own pid namespace: %s", strerror (errno));
  if (own_timens >= 0 && setns (own_timens, CLONE_NEWTIME) < 0)
    mr_log_warning ("return to minirun's own time namespace: %s", strerror (errno));
  return ret;
}

/* Record what the kernel gave the init and check it against the pins. */
static int
verify_init (struct mr_launch *l, mr_error_t *err)
{
  struct mr_state_proc *sp;
  pid_t nspid[MR_SYNC_MAX_LEVELS];
  size_t n = 0;

  l->state.procs = xcalloc (1, sizeof *l->state.procs);
  l->state.n_procs = 1;
  sp = &l->state.procs[0];
  sp->name = (char *) "init";
  sp->host_pid = l->pid;
  sp->pins = l->plan->any_pins ? mr_pidplan_describe (l->plan, 0) : NULL;
  l->state.start_time = mr_proc_start_time (l->pid);
  if (!l->plan->any_pins)
    return 0;
  if (mr_pidpin_read_nspid (l->pidfd, nspid, MR_SYNC_MAX_LEVELS, &n, err) < 0)
    return -1;
  memcpy (sp->nspid, nspid, n * sizeof *nspid);
  sp->n_nspid = n;
  return mr_pidplan_verify (l->plan, 0, nspid, n, err);
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

/* A planned child reported in: its host pid comes from SCM_CREDENTIALS;
 * read its NSpid through a pidfd and check every pinned level. */
static int
record_process (struct mr_launch *l, const struct mr_sync_msg *msg, const char **vanished, mr_error_t *err)
{
  struct mr_state_proc *sp;
  pid_t nspid[MR_SYNC_MAX_LEVELS];
  size_t n = 0;
  int fd;

  if (msg->index <= 0 || (size_t) msg->index >= l->plan->n_procs || msg->sender_pid <= 0)
    return mr_error_set (err, EPROTO, "setup channel: malformed PIDS message (index %d, pid %d)", msg->index,
                         msg->sender_pid);
  fd = mr_pidfd_open (msg->sender_pid, 0);
  if (fd < 0 && errno == ESRCH)
    {
      /* gone already: the container is being torn down because another of
       * its processes failed, and that one's ERROR follows in the queue */
      *vanished = l->plan->procs[msg->index].name;
      return 0;
    }
  if (fd < 0)
    return mr_error_set (err, errno, "process \"%s\": pidfd_open(%d)", l->plan->procs[msg->index].name,
                         msg->sender_pid);
  if (mr_pidpin_read_nspid (fd, nspid, MR_SYNC_MAX_LEVELS, &n, err) < 0)
    {
      close (fd);
      return mr_error_wrap (err, "process \"%s\"", l->plan->procs[msg->index].name);
    }
  close (fd);
  l->state.procs = xrealloc (l->state.procs, (l->state.n_procs + 1) * sizeof *l->state.procs);
  sp = &l->state.procs[l->state.n_procs++];
  memset (sp, 0, sizeof *sp);
  sp->name = (char *) l->plan->procs[msg->index].name;
  sp->host_pid = msg->sender_pid;
  sp->pins = mr_pidplan_describe (l->plan, (size_t) msg->index);
  memcpy (sp->nspid, nspid, n * sizeof *nspid);
  sp->n_nspid = n;
  return mr_pidplan_verify (l->plan, (size_t) msg->index, nspid, n, err);
}

/* An ERROR from the container.  A pin refused with EEXIST inside the
 * container can only name the level; from here the host level's holder can
 * be named too. */
static void
explain_child_error (struct mr_launch *l, const struct mr_sync_msg *msg, mr_error_t *err)
{
  if (msg->errno_ == EEXIST && msg->index > 0 && (size_t) msg->index < l->plan->n_procs)
    {
      const struct mr_plan_proc *p = &l->plan->procs[msg->index];
      for (size_t off = 0; off < p->set_tid_size; off++)
        if (p->level_ns[off] == 0 && p->explicit_pin[off])
          {
            cleanup_free char *holder = mr_pidpin_holder (p->set_tid[off]);
            if (holder)
              {
                mr_error_set_explained (err, EEXIST,
                                        "process \"%s\": pid %d is already in use in pid namespace \"host\" (held "
                                        "by %s; a running or zombie process, a process group or a session keeps "
                                        "a number in use)",
                                        p->name, p->set_tid[off], holder);
                return;
              }
          }
    }
  mr_error_set_explained (err, msg->errno_, "%s", msg->text);
}

/* Everything up to READY. */
int
mr_launch_spawn (struct mr_launch *l, enum mr_start_mode mode, int *terminal_master, mr_error_t *err)
{
  int fds[2];
  struct mr_sync_msg msg;
  cleanup_free char *cg_path = NULL;
  const char *vanished = NULL;

  l->start_mode = mode;
  l->state_dirfd = mr_state_dir_create (l->opts->state_root, l->opts->id, err);
  if (l->state_dirfd < 0)
    return -1;
  l->state.created = now_rfc3339 ();
  l->state.owner = mr_state_owner ();
  {
    struct stat self;
    if (stat ("/proc/self/exe", &self) == 0)
      {
        l->state.init_exe_dev = self.st_dev;
        l->state.init_exe_ino = self.st_ino;
      }
  }
  mr_crash_point ("create:state-dir");

  /* From here on a state file always says what exists, so that `delete
   * --force` can undo a launcher that died at any step. */
  cg_path = mr_cgroup_path_for (l->config->cgroups_path, l->opts->id);
  l->state.cgroup_path = xstrdup (cg_path);
  if (mr_launch_save_state (l, MR_STATUS_CREATING, err) < 0)
    goto fail;
  mr_crash_point ("create:state-creating");
  {
    /* the device rules really applied: the config's plus the defaults */
    struct mr_resources res = l->config->resources;
    cleanup_free struct mr_device_rule *rules = NULL;
    if (res.n_devices > 0)
      {
        rules = mr_devrules_effective (l->config, &res.n_devices);
        res.devices = rules;
      }
    if (mr_cgroup_create (cg_path, res.present ? &res : NULL, &l->cgroup, err) < 0)
      {
        /* Rootless without limits: a cgroup is a nicety we may not have the
         * right to create; the container still runs (as with runc). */
        bool denied = (*err)->errno_ == EACCES || (*err)->errno_ == EPERM || (*err)->errno_ == EROFS;
        if (!(geteuid () != 0 && denied && !l->config->resources.present))
          goto fail;
        mr_log_debug ("rootless: no cgroup for `%s`: %s", l->opts->id, (*err)->msg);
        mr_error_free (err);
        l->cgroup = NULL;
      }
  }
  if (l->cgroup == NULL)
    {
      free (l->state.cgroup_path);
      l->state.cgroup_path = NULL;
    }
  mr_crash_point ("create:cgroup");

  if (mr_sync_pair (fds, err) < 0)
    goto fail;
  l->sync_parent = fds[0];
  l->sync_child = fds[1];
  if (mode == MR_START_BY_SOCKET && listen_start_socket (l, err) < 0)
    goto fail;
  if (l->config->process.terminal && l->opts->console_socket)
    {
      l->console_fd = mr_console_socket_connect (l->opts->console_socket, err);
      if (l->console_fd < 0)
        goto fail;
    }

  if (!l->config->namespaces[MR_NS_MOUNT].present && mr_rootfs_shared_bind (l->rootfs, l->state_dirfd, err) < 0)
    goto fail;

  /* The seccomp agent's socket is a host path: connect before the init
   * leaves the host's mount namespace view. */
  if (mr_security_listener_connect (l->sec, err) < 0)
    goto fail;
  if (clone_init (l, err) < 0)
    goto fail;
  /* the init is in its cgroup: the systemd driver lets its scope's holder go */
  if (l->cgroup && mr_cgroup_init_started (l->cgroup, l->pid, err) < 0)
    goto fail;
  /* The init has its copy; ours (and our copy of the agent socket) go. */
  mr_security_free (l->sec);
  l->sec = NULL;
  close (l->sync_child);
  l->sync_child = -1;
  if (l->start_listen_fd >= 0)
    {
      close (l->start_listen_fd); /* the init holds it now */
      l->start_listen_fd = -1;
    }
  if (verify_init (l, err) < 0 || mr_launch_save_state (l, MR_STATUS_CREATING, err) < 0)
    goto fail;
  mr_crash_point ("create:clone");
  if (l->new_ns[MR_NS_USER])
    {
      if (mr_sync_expect (l->sync_parent, l->pidfd, -1, MR_SYNC_USERNS_READY, &msg, err) < 0
          || mr_userns_write_maps (l->pid, l->config, geteuid () != 0, err) < 0
          || mr_sync_send (l->sync_parent, MR_SYNC_USERNS_MAPPED, err) < 0)
        goto fail;
    }
  /* The init cannot see its own host pid; its hooks and seccomp agent need it. */
  if (mr_launch_init_needs_pid (l))
    {
      struct mr_sync_msg pm;
      memset (&pm, 0, sizeof pm);
      pm.type = MR_SYNC_INIT_PID;
      pm.pids[0] = l->pid;
      if (mr_sync_send_msg (l->sync_parent, &pm, err) < 0)
        goto fail;
    }

  for (;;)
    {
      if (mr_sync_recv (l->sync_parent, l->pidfd, -1, "container setup", &msg, err) < 0)
        goto fail;
      if (msg.type == MR_SYNC_READY)
        {
          if (vanished)
            {
              mr_error_set (err, ECHILD, "process \"%s\" exited during setup", vanished);
              goto fail;
            }
          break;
        }
      switch (msg.type)
        {
        case MR_SYNC_HOOKS_RUNTIME:
          if (run_runtime_hooks (l, err) < 0 || mr_sync_send (l->sync_parent, MR_SYNC_HOOKS_DONE, err) < 0)
            goto fail;
          break;
        case MR_SYNC_PIDS:
          if (record_process (l, &msg, &vanished, err) < 0)
            goto fail;
          break;
        case MR_SYNC_TERMINAL:
          if (terminal_master && *terminal_master < 0)
            *terminal_master = msg.fd;
          else if (msg.fd >= 0)
            close (msg.fd);
          break;
        case MR_SYNC_ERROR:
          explain_child_error (l, &msg, err);
          goto fail;
        case MR_SYNC_EOF:
          mr_error_set (err, EPIPE, "the container process exited during setup without saying why");
          goto fail;
        default:
          mr_error_set (err, EPROTO, "setup channel: unexpected %s", mr_sync_type_name (msg.type));
          goto fail;
        }
    }
  mr_crash_point ("create:ready");
  /* `run` records the container once it runs; only `create` stops at created */
  if (keep_config (l, err) < 0 || (mode == MR_START_BY_SOCKET && mr_launch_save_state (l, MR_STATUS_CREATED, err) < 0))
    goto fail;
  mr_crash_point ("create:created");
  if (l->opts->pid_file && mr_write_pid_file (l->opts->pid_file, l->pid, err) < 0)
    goto fail;
  return 0;

fail:
  if (terminal_master && *terminal_master >= 0)
    {
      close (*terminal_master);
      *terminal_master = -1;
    }
  mr_launch_undo (l);
  return -1;
}
