/* clone.c: the birth of the init (the "create:clone" step of spawn): the
 * setup channel, the start socket in the state directory, the console
 * socket, the seccomp agent's connection, the idmapped mounts, then clone3
 * with its namespaces, CLONE_INTO_CGROUP and set_tid (inside the joined pid
 * namespace and a new time namespace, set around the clone), and the NSpid
 * the kernel gave it checked against the pins. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "launch/child.h"
#include "launch/launcher.h"
#include "process/pidpin.h"
#include "process/sync.h"
#include "process/terminal.h"
#include "rootfs/rootfs.h"

static int
listen_start_socket (struct mr_launch *l, mr_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return mr_error_set (err, errno, "create the start socket");
  (void) snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/start.sock", l->state_dirfd);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    {
      int e = errno;
      close (fd);
      return mr_error_set (err, e, "bind the start socket in the state directory");
    }
  l->init.start_listen_fd = fd;
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

static uint64_t
clone_flags (const struct mr_launch *l)
{
  static const uint64_t flag[MR_NS_COUNT] = {
    [MR_NS_PID] = CLONE_NEWPID, [MR_NS_NET] = CLONE_NEWNET, [MR_NS_MOUNT] = CLONE_NEWNS,
    [MR_NS_IPC] = CLONE_NEWIPC, [MR_NS_UTS] = CLONE_NEWUTS, [MR_NS_USER] = CLONE_NEWUSER,
  };
  uint64_t f = 0;
  for (int t = 0; t < MR_NS_COUNT; t++)
    if (l->init.new_ns[t])
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

  if (l->init.ns_fds[MR_NS_PID] >= 0)
    {
      own_pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
      if (own_pidns < 0 || setns (l->init.ns_fds[MR_NS_PID], CLONE_NEWPID) < 0)
        return mr_error_set (err, errno, "join the pid namespace at `%s`", l->config->namespaces[MR_NS_PID].path);
    }
  if (l->init.new_ns[MR_NS_TIME])
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
        mr_init_main (&l->init);
      if (pid < 0)
        ret = -1;
      else
        l->state.pid = pid;
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
  sp->host_pid = l->state.pid;
  sp->pins = l->plan->any_pins ? mr_pidplan_describe (l->plan, 0) : NULL;
  l->state.start_time = mr_proc_start_time (l->state.pid);
  if (!l->plan->any_pins)
    return 0;
  if (mr_pidpin_read_nspid (l->pidfd, nspid, MR_SYNC_MAX_LEVELS, &n, err) < 0)
    return -1;
  memcpy (sp->nspid, nspid, n * sizeof *nspid);
  sp->n_nspid = n;
  return mr_pidplan_verify (l->plan, 0, nspid, n, err);
}

int
mr_launch_clone (struct mr_launch *l, mr_error_t *err)
{
  int fds[2];

  if (mr_sync_pair (fds, err) < 0)
    return -1;
  l->sync_parent = fds[0];
  l->init.sync_fd = fds[1];
  if (l->init.start_mode == MR_START_BY_SOCKET && listen_start_socket (l, err) < 0)
    return -1;
  if (l->config->process.terminal && l->opts->console_socket)
    {
      l->init.console_fd = mr_console_socket_connect (l->opts->console_socket, err);
      if (l->init.console_fd < 0)
        return -1;
    }
  if (l->opts->pidfd_socket)
    {
      l->pidfd_socket = mr_unix_connect (l->opts->pidfd_socket, "--pidfd-socket", err);
      if (l->pidfd_socket < 0)
        return -1;
    }
  if (!l->config->namespaces[MR_NS_MOUNT].present && mr_rootfs_shared_bind (l->rootfs, l->state_dirfd, err) < 0)
    return -1;
  /* The seccomp agent's socket is a host path: connect before the init
   * leaves the host's mount namespace view. */
  if (mr_security_listener_connect (l->sec, err) < 0)
    return -1;
  /* idmapped mounts need the host's privileges: made here, attached by the init */
  if (mr_rootfs_idmap_open (l->config, l->bundle, l->init.ns_fds[MR_NS_USER], &l->idmapped, err) < 0)
    return -1;
  l->init.idmapped = l->idmapped;
  l->init.launcher_fds[0] = l->sync_parent;
  l->init.launcher_fds[1] = l->state_dirfd;
  if (clone_init (l, err) < 0)
    return -1;
  /* The init has its copies; ours (and our copy of the agent socket) go. */
  mr_rootfs_idmap_free (&l->idmapped);
  l->init.idmapped = NULL;
  mr_security_free (l->sec);
  l->sec = NULL;
  l->init.sec = NULL;
  close (l->init.sync_fd);
  l->init.sync_fd = -1;
  if (l->init.start_listen_fd >= 0)
    {
      close (l->init.start_listen_fd); /* the init holds it now */
      l->init.start_listen_fd = -1;
    }
  return verify_init (l, err);
}

