/* run.c: the `create` and `run` entry points over the launcher: create
 * leaves the init waiting for start; run starts it at once and, in the
 * foreground, forwards signals, waits, runs poststop hooks and cleans up. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/hooks.h"
#include "launch/launcher.h"
#include "ns/ns.h"
#include "base/log.h"
#include "rootfs/rootfs.h"
#include "process/supervise.h"
#include "process/sync.h"
#include "base/syscalls.h"

int
mr_container_create (const struct mr_run_opts *opts, mr_error_t *err)
{
  struct mr_launch l;
  int ret;

  mr_launch_init (&l, opts);
  ret = mr_launch_prepare (&l, err);
  if (ret == 0 && l.config->process.terminal && opts->console_socket == NULL)
    ret = mr_error_set (err, 0, "process.terminal is true: `create` needs --console-socket to hand the pty to");
  if (ret == 0)
    ret = mr_launch_spawn (&l, MR_START_BY_SOCKET, NULL, err);
  mr_launch_release (&l);
  return ret;
}

/* The init exited: poststop hooks, then its cgroup and state go (unless --keep). */
static void
finish_stopped (struct mr_launch *l)
{
  const struct mr_config *c = l->config;
  mr_error_t err = NULL;

  while (flock (l->state_dirfd, LOCK_EX) < 0 && errno == EINTR)
    ;
  if (c->n_hooks[MR_HOOK_POSTSTOP] > 0)
    {
      cleanup_free char *state = mr_state_to_oci_json (&l->state, MR_STATUS_STOPPED, false);
      mr_hooks_run_all (c->hooks[MR_HOOK_POSTSTOP], c->n_hooks[MR_HOOK_POSTSTOP], "poststop", state);
    }
  if (l->opts->keep)
    {
      if (mr_launch_save_state (l, MR_STATUS_STOPPED, &err) < 0)
        mr_error_warn (&err, NULL);
      return;
    }
  if (l->cgroup && mr_cgroup_destroy (l->cgroup, &err) < 0)
    mr_error_warn (&err, NULL);
  if (mr_rootfs_shared_unbind (l->state_dirfd, &err) < 0)
    mr_error_warn (&err, NULL);
  if (mr_state_dir_remove (l->opts->state_root, l->opts->id, l->state_dirfd, &err) < 0)
    mr_error_warn (&err, NULL);
}

int
mr_container_run (const struct mr_run_opts *opts, int *exit_status, mr_error_t *err)
{
  struct mr_launch l;
  struct mr_sync_msg msg;
  sigset_t old;
  cleanup_close int sigfd = -1, master = -1;
  int ret = -1;
  bool foreground = !opts->detach;

  mr_launch_init (&l, opts);
  if (mr_launch_prepare (&l, err) < 0)
    goto out;
  if (l.config->process.terminal && opts->detach && opts->console_socket == NULL)
    {
      mr_error_set (err, 0, "process.terminal is true: `run --detach` needs --console-socket");
      goto out;
    }

  /* Signals to forward are queued from before the clone on. */
  if (foreground)
    {
      sigfd = mr_forward_signals_begin (&old, err);
      if (sigfd < 0)
        goto out;
      l.init.keep_pdeathsig = true;
    }

  if (mr_launch_spawn (&l, MR_START_BY_SYNC, &master, err) < 0)
    goto out_mask;
  if (mr_sync_send (l.sync_parent, MR_SYNC_START, err) < 0)
    goto fail;
  if (mr_sync_recv (l.sync_parent, l.pidfd, -1, "start", &msg, err) < 0)
    goto fail;
  if (msg.type == MR_SYNC_ERROR)
    {
      mr_error_set_explained (err, msg.errno_, "%s", msg.text);
      goto fail;
    }
  /* it runs: its linux.netDevices are its own now, gone with its namespace */
  mr_netdev_moves_free (l.netdevs);
  l.netdevs = NULL;
  if (mr_launch_save_state (&l, MR_STATUS_RUNNING, err) < 0)
    goto fail;
  /* Other commands (state, kill, delete, list) may act on it from now on. */
  flock (l.state_dirfd, LOCK_UN);
  if (l.config->n_hooks[MR_HOOK_POSTSTART] > 0)
    {
      cleanup_free char *state = mr_state_to_oci_json (&l.state, MR_STATUS_RUNNING, false);
      /* runtime spec: a failing poststart hook is logged, the others still
       * run and the container keeps running */
      mr_hooks_run_all (l.config->hooks[MR_HOOK_POSTSTART], l.config->n_hooks[MR_HOOK_POSTSTART], "poststart",
                        state);
    }
  if (!foreground)
    {
      *exit_status = 0;
      ret = 0;
      goto out;
    }
  if (mr_supervise (l.pidfd, sigfd, master, exit_status, err) < 0)
    goto fail;
  close (l.pidfd);
  l.pidfd = -1;
  finish_stopped (&l);
  ret = 0;
  goto out_mask;

fail:
  mr_launch_undo (&l);
out_mask:
  if (foreground)
    mr_forward_signals_end (&old);
out:
  mr_launch_release (&l);
  return ret;
}
