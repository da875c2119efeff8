/* container.c: the lifecycle operations on an existing container: start,
 * state, kill, delete.  Each takes the container's lock, derives the status
 * from the facts (state/handle.h), and signals only through a pidfd whose process is
 * verified to be the container's init (never a bare, maybe reused, pid). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/cleanup.h"
#include "base/crash.h"
#include "process/hooks.h"
#include "base/log.h"
#include "resctrl/resctrl.h"
#include "rootfs/rootfs.h"
#include "minirun/minirun.h"
#include "state/handle.h"
#include "base/syscalls.h"
#include "base/utils.h"

/* The hooks the container was created with: a copy of its config is kept in
 * the state directory when it has poststart/poststop hooks. */
static void
run_state_hooks (struct mr_handle *o, enum mr_hook_kind kind, const char *name, enum mr_status status)
{
  struct mr_config *c = NULL;
  mr_error_t err = NULL;
  cleanup_free char *json = NULL;

  if (mr_handle_config (o, &c, &err) < 0)
    {
      if (err->errno_ != ENOENT)
        mr_log_warning ("%s hooks: %s", name, err->msg);
      mr_error_free (&err);
      return;
    }
  json = mr_state_to_oci_json (o->st, status, false);
  mr_hooks_run_all (c->hooks[kind], c->n_hooks[kind], name, json);
  mr_config_free (c);
}

int
mr_container_start (const char *root, const char *id, mr_error_t *err)
{
  struct mr_handle o;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;
  char buf[2048];
  ssize_t n;
  size_t got = 0;

  if (mr_handle_open (root, id, true, &o, err) < 0)
    return -1;
  if (o.status != MR_STATUS_CREATED)
    {
      mr_error_set (err, 0, "cannot start container `%s`: it is %s, not created", id, mr_status_name (o.status));
      goto fail;
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      mr_error_set (err, errno, "start `%s`: socket", id);
      goto fail;
    }
  (void) snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/start.sock", o.dirfd);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      mr_error_set (err, errno, "start `%s`: the container's init is not waiting for start", id);
      goto fail;
    }
  mr_crash_point ("start:connected");
  if (mr_write_all (fd, "S", 1) < 0)
    {
      mr_error_set (err, errno, "start `%s`: signal the init", id);
      goto fail;
    }
  mr_crash_point ("start:signalled");
  /* The init closes the connection by exec (success) or writes why it failed. */
  while (got < sizeof buf - 1 && (n = read (fd, buf + got, sizeof buf - 1 - got)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      got += (size_t) n;
    }
  buf[got] = '\0';
  unlinkat (o.dirfd, "start.sock", 0);
  if (got > 0)
    {
      /* The init failed after start (a startContainer hook, the exec): as the
       * runtime spec says, the container is stopped and deleted. */
      mr_error_t derr = NULL;
      mr_error_set (err, 0, "start `%s`: %s", id, buf);
      mr_handle_close (&o);
      if (mr_container_delete (root, id, true, &derr) < 0)
        {
          mr_error_warn (&derr, NULL);
        }
      return -1;
    }
  o.st->status = MR_STATUS_RUNNING;
  if (mr_state_write (o.dirfd, o.st, err) < 0)
    goto fail;
  run_state_hooks (&o, MR_HOOK_POSTSTART, "poststart", MR_STATUS_RUNNING);
  mr_handle_close (&o);
  return 0;

fail:
  mr_handle_close (&o);
  return -1;
}

int
mr_container_state (const char *root, const char *id, char **json, mr_error_t *err)
{
  struct mr_handle o;

  if (mr_handle_open (root, id, false, &o, err) < 0)
    return -1;
  *json = mr_state_to_oci_json (o.st, o.status, true);
  mr_handle_close (&o);
  if (*json == NULL)
    return mr_error_set (err, ENOMEM, "encode the state of `%s`", id);
  return 0;
}

int
mr_container_kill (const char *root, const char *id, int sig, bool all, mr_error_t *err)
{
  struct mr_handle o;
  cleanup_close int pidfd = -1;
  int ret = 0;

  if (mr_handle_open (root, id, false, &o, err) < 0)
    return -1;
  if (o.status == MR_STATUS_STOPPED && !all)
    {
      mr_error_set (err, ESRCH, "container `%s` is not running", id);
      mr_handle_close (&o);
      return -1;
    }
  if (all && o.st->cgroup_path)
    {
      struct mr_cgroup *cg = NULL;
      if (mr_cgroup_open (o.st->cgroup_path, &cg, err) < 0 || mr_cgroup_kill (cg, sig, err) < 0)
        ret = -1;
      mr_cgroup_free (cg);
    }
  else
    {
      pidfd = mr_state_open_pidfd (o.st);
      if (pidfd < 0)
        ret = mr_error_set (err, ESRCH, "container `%s` is not running", id);
      else if (mr_pidfd_send_signal (pidfd, sig, NULL, 0) < 0)
        ret = mr_error_set (err, errno, "send signal %d to the init of `%s`", sig, id);
    }
  mr_handle_close (&o);
  return ret;
}

/* Wait (bounded) until the process behind pidfd is gone. */
static bool
wait_gone (int pidfd, int timeout_ms)
{
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
  int r;
  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

/* delete --force without a readable state: the container's processes are
 * found through its cgroup, whose path comes from the config kept beside the
 * state (or is the default /minirun/<id>). */
static int
kill_by_cgroup (const struct mr_handle *o, const char *id, mr_error_t *err)
{
  cleanup_free char *path = NULL;
  struct mr_config *c = NULL;
  struct mr_cgroup *cg = NULL;
  mr_error_t ignored = NULL;
  int ret = 0;

  mr_handle_config (o, &c, &ignored);
  mr_error_free (&ignored);
  path = mr_cgroup_path_for (c ? c->cgroups_path : NULL, id);
  mr_config_free (c);
  if (mr_cgroup_open (path, &cg, &ignored) < 0)
    {
      mr_error_free (&ignored); /* no cgroup: nothing of the container runs there */
      return 0;
    }
  if (mr_cgroup_kill (cg, SIGKILL, err) < 0 || mr_cgroup_destroy (cg, err) < 0)
    ret = mr_error_wrap (err, "delete --force `%s` (its state is unreadable): cgroup `%s` is left behind", id, path);
  mr_cgroup_free (cg);
  return ret;
}

int
mr_container_delete (const char *root, const char *id, bool force, mr_error_t *err)
{
  struct mr_handle o;
  struct mr_cgroup *cg = NULL;
  cleanup_close int pidfd = -1;
  mr_error_t cgerr = NULL;

  if (mr_handle_lock (root, id, true, &o, err) < 0)
    {
      /* runc: deleting with --force what is not there is done, not an
       * error (podman and containerd delete --force to be sure). */
      if (force && (*err)->errno_ == ENOENT)
        {
          mr_log_debug ("delete --force `%s`: %s", id, (*err)->msg);
          mr_error_free (err);
          return 0;
        }
      return -1;
    }
  if (mr_handle_read (&o, id, err) < 0)
    {
      /* No state: creation never finished (or the file is corrupt). With
       * --force the directory goes; otherwise say what to do. */
      if (!force)
        {
          mr_error_wrap (err, "delete `%s` (use --force to remove what is left)", id);
          mr_handle_close (&o);
          return -1;
        }
      mr_error_free (err);
      if (kill_by_cgroup (&o, id, err) < 0)
        {
          mr_handle_close (&o);
          return -1;
        }
      if (mr_rootfs_shared_unbind (o.dirfd, &cgerr) < 0)
        mr_error_warn (&cgerr, NULL);
      if (mr_rdt_release_dir (o.dirfd, &cgerr) < 0)
        mr_error_warn (&cgerr, NULL);
      {
        int r = mr_state_dir_remove (root, id, o.dirfd, err);
        mr_handle_close (&o);
        return r;
      }
    }
  if (o.status == MR_STATUS_RUNNING || o.status == MR_STATUS_PAUSED)
    {
      if (!force)
        {
          mr_error_set (err, EBUSY, "cannot delete container `%s`: it is %s (stop it first, or use --force)", id,
                        mr_status_name (o.status));
          mr_handle_close (&o);
          return -1;
        }
    }
  if (o.st->cgroup_path && mr_cgroup_lookup (o.st->cgroup_path, &cg, &cgerr) < 0)
    {
      mr_log_debug ("delete `%s`: %s", id, cgerr->msg);
      mr_error_free (&cgerr);
      cg = NULL;
    }
  if (o.status != MR_STATUS_STOPPED)
    {
      pidfd = mr_state_open_pidfd (o.st);
      if (o.status == MR_STATUS_PAUSED && cg)
        {
          if (mr_cgroup_freeze (cg, false, &cgerr) < 0)
            mr_error_warn (&cgerr, NULL);
        }
      if (pidfd >= 0)
        {
          mr_pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
          if (!wait_gone (pidfd, 5000))
            mr_log_warning ("delete `%s`: the init did not exit within 5 s of SIGKILL", id);
        }
    }
  mr_crash_point ("delete:killed");
  if (cg)
    {
      pid_t *pids = NULL;
      size_t n = 0;
      /* processes left in a shared pid namespace die with the container */
      if (mr_cgroup_pids (cg, &pids, &n, &cgerr) == 0 && n > 0)
        {
          if (mr_cgroup_kill (cg, SIGKILL, &cgerr) < 0)
            mr_error_warn (&cgerr, NULL);
        }
      else
        mr_error_free (&cgerr);
      free (pids);
      if (mr_cgroup_destroy (cg, &cgerr) < 0)
        {
          mr_cgroup_free (cg);
          mr_handle_close (&o);
          *err = cgerr;
          return mr_error_wrap (err, "delete `%s`", id);
        }
      mr_cgroup_free (cg);
    }
  mr_crash_point ("delete:cgroup");
  /* no mount namespace of its own: its mounts go with the rootfs bind */
  if (mr_rootfs_shared_unbind (o.dirfd, &cgerr) < 0)
    mr_error_warn (&cgerr, NULL);
  if (mr_rdt_release_dir (o.dirfd, &cgerr) < 0)
    mr_error_warn (&cgerr, NULL);
  if (o.st->has_poststop_hooks)
    run_state_hooks (&o, MR_HOOK_POSTSTOP, "poststop", MR_STATUS_STOPPED);
  /* Removed while still locked: a command waiting for the lock then finds the
   * directory gone, never a half-removed one. */
  {
    int r = mr_state_dir_remove (root, id, o.dirfd, err);
    mr_handle_close (&o);
    return r;
  }
}
