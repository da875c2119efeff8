/* ready.c: the launcher's side of the setup channel, from the clone to
 * READY (the "create:ready" step of spawn): the id maps of a new user
 * namespace, the init's host pid when it needs it, linux.netDevices moved
 * into its network namespace, the runtime hooks when it
 * asks for them, the pids of each process of minirun.processes (checked
 * against their pins), the pty master, and the errors the container reports
 * (a refused host pin named with its holder). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/syscalls.h"
#include "base/utils.h"
#include "launch/launcher.h"
#include "ns/ns.h"
#include "process/pidpin.h"
#include "process/hooks.h"
#include "process/sync.h"

static int
run_runtime_hooks (struct mr_launch *l, mr_error_t *err)
{
  const struct mr_config *c = l->config;
  /* runtime spec (and crun): the state these hooks see says "created" */
  cleanup_free char *state = mr_state_to_oci_json (&l->state, MR_STATUS_CREATED, false);

  if (mr_hooks_run (c->hooks[MR_HOOK_PRESTART], c->n_hooks[MR_HOOK_PRESTART], "prestart", state, err) < 0)
    return -1;
  return mr_hooks_run (c->hooks[MR_HOOK_CREATE_RUNTIME], c->n_hooks[MR_HOOK_CREATE_RUNTIME], "createRuntime", state,
                       err);
}

/* linux.netDevices, into the namespace the init is in now (its own or the
 * one it joined); what was moved is kept for undo */
static int
move_net_devices (struct mr_launch *l, mr_error_t *err)
{
  char path[64];
  cleanup_close int fd = -1;

  (void) snprintf (path, sizeof path, "/proc/%d/ns/net", (int) l->state.pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return mr_error_set (err, errno, "linux.netDevices: open the container's network namespace `%s`", path);
  return mr_netdev_move_in (l->config, fd, &l->netdevs, err);
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

int
mr_launch_await_ready (struct mr_launch *l, mr_error_t *err)
{
  struct mr_sync_msg msg;
  const char *vanished = NULL;

  if (l->init.new_ns[MR_NS_USER])
    {
      if (mr_sync_expect (l->sync_parent, l->pidfd, -1, MR_SYNC_USERNS_READY, &msg, err) < 0
          || mr_userns_write_maps (l->state.pid, l->config, geteuid () != 0, err) < 0
          || mr_sync_send (l->sync_parent, MR_SYNC_USERNS_MAPPED, err) < 0)
        return -1;
    }
  /* The init cannot see its own host pid; its hooks and seccomp agent need it. */
  if (l->init.needs_pid)
    {
      memset (&msg, 0, sizeof msg);
      msg.type = MR_SYNC_INIT_PID;
      msg.pids[0] = l->state.pid;
      if (mr_sync_send_msg (l->sync_parent, &msg, err) < 0)
        return -1;
    }

  for (;;)
    {
      if (mr_sync_recv (l->sync_parent, l->pidfd, -1, "container setup", &msg, err) < 0)
        return -1;
      switch (msg.type)
        {
        case MR_SYNC_READY:
          if (vanished)
            return mr_error_set (err, ECHILD, "process \"%s\" exited during setup", vanished);
          return 0;
        case MR_SYNC_HOOKS_RUNTIME:
          if (run_runtime_hooks (l, err) < 0 || mr_sync_send (l->sync_parent, MR_SYNC_HOOKS_DONE, err) < 0)
            return -1;
          break;
        case MR_SYNC_NETDEVS:
          if (move_net_devices (l, err) < 0 || mr_sync_send (l->sync_parent, MR_SYNC_NETDEVS_DONE, err) < 0)
            return -1;
          break;
        case MR_SYNC_PIDS:
          if (record_process (l, &msg, &vanished, err) < 0)
            return -1;
          break;
        case MR_SYNC_TERMINAL:
          if (l->terminal_master < 0)
            l->terminal_master = msg.fd;
          else if (msg.fd >= 0)
            close (msg.fd);
          break;
        case MR_SYNC_ERROR:
          explain_child_error (l, &msg, err);
          return -1;
        case MR_SYNC_EOF:
          return mr_error_set (err, EPIPE, "the container process exited during setup without saying why");
        default:
          return mr_error_set (err, EPROTO, "setup channel: unexpected %s", mr_sync_type_name (msg.type));
        }
    }
}

