/* criu_restore.c: `minirun restore`: a container back from a CRIU image,
 * with the bundle's config, under a new state entry.
 *
 * Order, each step undone if a later one fails:
 *   1. the bundle is read and checked as `create` would (launcher.c's
 *      prepare), the image's record (minirun.json) read, its fingerprint
 *      compared with the bundle's, the pins checked and the host pids CRIU
 *      will restore at found free (criu_pins.c): nothing exists yet;
 *   2. the state directory (locked) and the cgroup with linux.resources;
 *   3. the rootfs bound at <state>/criu-root (CRIU needs its root to be a
 *      mount point), the mount points the bundle needs, the external mounts
 *      (criu_mounts.c), the namespaces joined by path and the stdio to inherit
 *      (criu_inherit.c);
 *   4. CRIU restores the tree as our child (restore_child); the prestart and
 *      createRuntime hooks run at its setup-namespaces notification, a new
 *      pty master goes to --console-socket at orphan-pts-master;
 *   5. the state entry: the restored init, the planned processes with the
 *      pids they got (checked against the pins), the config kept.
 * Then, unless --detach, minirun waits for the init like `run`. */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <criu/criu.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/syscalls.h"
#include "base/utils.h"
#include "config/devrules.h"
#include "launch/launcher.h"
#include "minirun/minirun.h"
#include "ops/criu.h"
#include "process/hooks.h"
#include "process/supervise.h"
#include "process/sync.h"
#include "process/terminal.h"

#define CRIU_ROOT "criu-root"

/* What the notifications need (libcriu's callback takes no context). */
static struct
{
  struct mr_launch *l;
  const char *console_socket;
  mr_error_t err;
} rctx;

static int
restore_notify (char *action, criu_notify_arg_t na)
{
  struct mr_launch *l = rctx.l;

  if (l == NULL || rctx.err)
    return 0;
  if (strcmp (action, "orphan-pts-master") == 0)
    {
      int master = criu_get_orphan_pts_master_fd (), index = -1;
      cleanup_close int sock = -1;
      char name[32];
      if (master < 0 || rctx.console_socket == NULL)
        return 0;
      /* the payload names the slave, as at create (terminal.c) */
      if (ioctl (master, TIOCGPTN, &index) < 0)
        index = 0;
      (void)snprintf (name, sizeof name, "/dev/pts/%d", index);
      sock = mr_console_socket_connect (rctx.console_socket, &rctx.err);
      if (sock < 0 || mr_send_fd (sock, master, name, strlen (name), &rctx.err) < 0)
        return -1;
      return 0;
    }
  if (strcmp (action, "setup-namespaces") == 0)
    {
      const struct mr_config *c = l->config;
      cleanup_free char *state = NULL;
      if (c->n_hooks[MR_HOOK_PRESTART] + c->n_hooks[MR_HOOK_CREATE_RUNTIME] == 0)
        return 0;
      l->state.pid = criu_notify_pid (na);
      state = mr_state_to_oci_json (&l->state, MR_STATUS_CREATED, false);
      if (mr_hooks_run (c->hooks[MR_HOOK_PRESTART], c->n_hooks[MR_HOOK_PRESTART], "prestart", state,
                        &rctx.err)
              < 0
          || mr_hooks_run (c->hooks[MR_HOOK_CREATE_RUNTIME], c->n_hooks[MR_HOOK_CREATE_RUNTIME],
                           "createRuntime", state, &rctx.err)
                 < 0)
        return -1;
    }
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
  if (strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    buf[0] = '\0'; /* cannot happen with this format and size */
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

static enum mr_container_pidns
pidns_of (const struct mr_launch *l)
{
  int cont = mr_pidplan_ns_index (l->plan, MR_PIDNS_CONTAINER);
  if (l->init.new_ns[MR_NS_PID])
    return MR_PIDNS_NEW;
  return cont >= 0 && l->plan->ns[cont].depth > 0 ? MR_PIDNS_JOINED : MR_PIDNS_SHARED;
}

/* The inode of the pid namespace the container joins by path, 0 if none. */
static unsigned long long
joined_pidns (const struct mr_launch *l)
{
  struct stat st;
  if (l->init.ns_fds[MR_NS_PID] < 0 || fstat (l->init.ns_fds[MR_NS_PID], &st) < 0)
    return 0;
  return (unsigned long long)st.st_ino;
}

/* The state directory's absolute path + "/criu-root", bound to the rootfs. */
static char *
bind_root (struct mr_launch *l, mr_error_t *err)
{
  char link[64], dir[PATH_MAX];
  ssize_t n;
  char *root;

  (void)snprintf (link, sizeof link, "/proc/self/fd/%d", l->state_dirfd);
  n = readlink (link, dir, sizeof dir - 1);
  if (n <= 0)
    {
      mr_error_set (err, errno, "find the state directory of `%s`", l->opts->id);
      return NULL;
    }
  dir[n] = '\0';
  if (mkdirat (l->state_dirfd, CRIU_ROOT, 0755) < 0)
    {
      mr_error_set (err, errno, "create `%s/%s`", dir, CRIU_ROOT);
      return NULL;
    }
  root = xasprintf ("%s/%s", dir, CRIU_ROOT);
  if (mount (l->rootfs, root, "none", MS_BIND | MS_REC, NULL) < 0
      || mount ("none", root, "none", MS_PRIVATE | MS_REC, NULL) < 0)
    {
      mr_error_set (err, errno, "bind the rootfs `%s` at `%s` for CRIU", l->rootfs, root);
      umount2 (root, MNT_DETACH);
      unlinkat (l->state_dirfd, CRIU_ROOT, AT_REMOVEDIR);
      free (root);
      return NULL;
    }
  return root;
}

/* root.readonly: CRIU restores the container's mounts but takes its root as
 * it is given, so the bind is made read-only (once the mount points the
 * bundle needs exist in it). */
static int
root_readonly (struct mr_launch *l, const char *root, mr_error_t *err)
{
  struct statvfs sv;
  unsigned long keep = 0;

  if (!l->config->root_readonly)
    return 0;
  if (statvfs (root, &sv) < 0)
    return mr_error_set (err, errno, "root.readonly: statvfs `%s`", root);
  keep |= (sv.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
  keep |= (sv.f_flag & ST_NODEV) ? MS_NODEV : 0;
  keep |= (sv.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
  if (mount ("none", root, "none", MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
    return mr_error_set (err, errno, "root.readonly: remount `%s` read-only", root);
  return 0;
}

static void
unbind_root (struct mr_launch *l, char **root)
{
  if (*root == NULL)
    return;
  if (umount2 (*root, MNT_DETACH) < 0)
    mr_log_warning ("restore: unmount `%s`: %s", *root, strerror (errno));
  if (unlinkat (l->state_dirfd, CRIU_ROOT, AT_REMOVEDIR) < 0)
    mr_log_warning ("restore: remove `%s`: %s", *root, strerror (errno));
  free (*root);
  *root = NULL;
}

static int
make_state (struct mr_launch *l, mr_error_t *err)
{
  cleanup_free char *cg_path = NULL;

  l->state_dirfd = mr_state_dir_create (l->opts->state_root, l->opts->id, err);
  if (l->state_dirfd < 0)
    return -1;
  l->state.created = now_rfc3339 ();
  l->state.owner = mr_state_owner ();
  cg_path = mr_cgroup_path_for (l->config->cgroups_path, l->opts->id);
  l->state.cgroup_path = xstrdup (cg_path);
  if (mr_launch_save_state (l, MR_STATUS_CREATING, err) < 0)
    return -1;
  {
    /* the device rules `create` applies: the config's plus the defaults */
    struct mr_resources res = l->config->resources;
    cleanup_free struct mr_device_rule *rules = NULL;
    if (res.n_devices > 0)
      {
        rules = mr_devrules_effective (l->config, &res.n_devices);
        res.devices = rules;
      }
    if (mr_cgroup_create_annotated (cg_path, res.present ? &res : NULL, l->config->annotations,
                                    l->config->n_annotations, &l->cgroup, err) < 0)
      return -1;
  }
  free (l->state.cgroup_path);
  l->state.cgroup_path = xstrdup (mr_cgroup_get_path (l->cgroup));
  return mr_launch_save_state (l, MR_STATUS_CREATING, err);
}

/* CRIU's part, between the state directory and the state entry. */
static int
criu_restore_tree (struct mr_launch *l, const struct mr_restore_opts *o, struct mr_criu_session *s,
                   const struct mr_criu_record *rec, mr_error_t *err)
{
  int extra[9] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };
  cleanup_free char *root = NULL, *own_cgroups = NULL;
  sigset_t chld, old;
  int pid = -1;
  mr_error_t left = NULL; /* going back to our own cgroups failed (after a restore) */

  root = bind_root (l, err);
  if (root == NULL)
    return -1;
  if (criu_set_root (root) < 0)
    mr_error_set (err, ENOMEM, "libcriu: criu_set_root");
  else if (mr_criu_restore_mounts (l->config, s->image_fd, root, l->state.cgroup_path, err) == 0
           && root_readonly (l, root, err) == 0 && mr_criu_cg_roots (l->state.cgroup_path, err) == 0
           && mr_criu_inherit_fds (l->config, rec, extra, err) == 0)
    {
      mr_criu_set_common (&o->c);
      criu_set_evasive_devices (true);
      criu_set_tcp_close (o->tcp_close);
      rctx.l = l;
      rctx.console_socket = o->console_socket;
      rctx.err = NULL;
      criu_set_notify_cb (restore_notify);
      /* libcriu: SIGCHLD blocked while the restored tree may already exit */
      sigemptyset (&chld);
      sigaddset (&chld, SIGCHLD);
      sigprocmask (SIG_BLOCK, &chld, &old);
      if (o->c.cg_mode != MR_CG_MODE_IGNORE || mr_criu_cgroup_enter_self (l->cgroup, &own_cgroups, err) == 0)
        pid = mr_criu_call (s, criu_restore_child, "restore", err);
      if (own_cgroups && mr_criu_cgroup_leave_self (own_cgroups, &left) < 0 && pid < 0)
        mr_error_free (&left); /* the restore's own error says more */
      sigprocmask (SIG_SETMASK, &old, NULL);
      rctx.l = NULL;
      if (pid < 0 && rctx.err)
        {
          mr_error_free (err);
          *err = MR_STEAL (rctx.err);
        }
      mr_error_free (&rctx.err);
      if (pid == 0)
        pid = mr_error_set (err, ESRCH, "CRIU restored no process");
    }
  for (size_t i = 0; i < 9; i++)
    if (extra[i] >= 0)
      close (extra[i]);
  unbind_root (l, &root);
  if (pid < 0)
    return -1;
  /* from here the tree exists: recorded, so that an undo kills it */
  l->state.pid = pid;
  l->pidfd = mr_pidfd_open (pid, 0);
  if (left)
    {
      *err = MR_STEAL (left);
      return -1;
    }
  if (l->pidfd < 0)
    return mr_error_set (err, errno, "pidfd_open the restored init (pid %d)", pid);
  l->state.start_time = mr_proc_start_time (pid);
  return 0;
}

/* The init exited (foreground): poststop hooks, cgroup and state go. */
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
  if (l->cgroup && mr_cgroup_destroy (l->cgroup, &err) < 0)
    mr_error_warn (&err, NULL);
  if (mr_state_dir_remove (l->opts->state_root, l->opts->id, l->state_dirfd, &err) < 0)
    mr_error_warn (&err, NULL);
}

/* Steps 1 (checks) and 2-5; the caller undoes on failure. */
static int
restore_steps (struct mr_launch *l, const struct mr_restore_opts *o, struct mr_criu_session *s,
               mr_error_t *err)
{
  struct mr_criu_record *rec = NULL;
  cleanup_strv char **fp = NULL;
  int ret = -1;

  if (mr_criu_record_read (s->image_fd, s->image_path, &rec, err) < 0)
    return -1;
  fp = mr_criu_fingerprint (l->config);
  if (mr_criu_fingerprint_compare (rec->fingerprint, fp, rec->bundle, l->bundle, err) < 0
      || mr_criu_pins_check (rec, l->plan, pidns_of (l), joined_pidns (l), err) < 0)
    goto out;
  if (make_state (l, err) < 0 || criu_restore_tree (l, o, s, rec, err) < 0)
    goto out;
  l->state.has_poststop_hooks = l->config->n_hooks[MR_HOOK_POSTSTOP] > 0;
  if (mr_criu_pins_record (rec, l->plan, l->state.pid, l->state.cgroup_path, &l->state.procs,
                           &l->state.n_procs, err)
          < 0
      || mr_write_file_atomic (l->state_dirfd, "config.json", l->config_data, l->config_len, 0600, err) < 0
      || mr_launch_save_state (l, MR_STATUS_RUNNING, err) < 0
      || (o->pid_file && mr_write_pid_file (o->pid_file, l->state.pid, err) < 0))
    goto out;
  ret = 0;
out:
  mr_criu_record_free (rec);
  return ret;
}

int
mr_container_restore (const struct mr_restore_opts *o, int *exit_status, mr_error_t *err)
{
  struct mr_run_opts ro = { .state_root = o->c.state_root,
                            .id = o->c.id,
                            .bundle = o->bundle,
                            .pid_file = o->pid_file,
                            .console_socket = o->console_socket,
                            .detach = o->detach };
  struct mr_launch l;
  struct mr_criu_session s = { .image_fd = -1, .work_fd = -1 };
  cleanup_close int sigfd = -1;
  sigset_t old;
  bool foreground = !o->detach, masked = false;
  int ret = -1;

  *exit_status = 0;
  mr_launch_init (&l, &ro);
  if (mr_id_validate (o->c.id, err) < 0 || mr_launch_prepare (&l, err) < 0)
    goto out;
  if (!l.config->namespaces[MR_NS_MOUNT].present)
    {
      mr_error_set (err, ENOTSUP,
                    "the bundle's container has no mount namespace of its own: CRIU restores mounts "
                    "only into one (add {\"type\": \"mount\"} to linux.namespaces)");
      goto out;
    }
  if (l.config->process.terminal && o->console_socket == NULL)
    {
      mr_error_set (err, 0,
                    "process.terminal is true: `restore` needs --console-socket to hand the restored pty's "
                    "master to");
      goto out;
    }
  if (l.config->intel_rdt.present)
    {
      mr_error_set (
          err, ENOTSUP,
          "linux.intelRdt: a restore cannot put the restored processes in a resctrl group (CRIU knows "
          "nothing of resctrl, and minirun places only an init it clones itself); drop linux.intelRdt "
          "from the bundle to restore without it");
      goto out;
    }
  if (o->c.cg_mode == MR_CG_MODE_STRICT)
    {
      /* CRIU's strict mode makes every cgroup itself and aborts on one that
         exists; minirun makes the container's (with linux.resources) first */
      mr_error_set (
          err, ENOTSUP,
          "--manage-cgroups-mode strict: CRIU then restores only into cgroups it creates itself, but "
          "minirun creates the container's cgroup (with linux.resources) before CRIU runs; use soft "
          "(the default), full or ignore");
      goto out;
    }
  if (mr_criu_begin (&o->c, false, "restore.log", &s, err) < 0)
    goto out;
  if (foreground)
    {
      sigfd = mr_forward_signals_begin (&old, err);
      if (sigfd < 0)
        goto out;
      masked = true;
      /* orphans of a restored tree without a pid namespace come to us */
      if (!o->no_subreaper)
        prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
  if (restore_steps (&l, o, &s, err) < 0)
    {
      mr_error_t e = NULL;
      if (l.cgroup && l.state.pid > 0 && mr_cgroup_kill (l.cgroup, SIGKILL, &e) < 0)
        mr_error_warn (&e, "cleanup");
      if (l.state_dirfd >= 0 || l.cgroup)
        mr_launch_undo (&l);
      goto out;
    }
  mr_criu_end (&s);
  flock (l.state_dirfd, LOCK_UN);
  if (!foreground)
    {
      ret = 0;
      goto out;
    }
  if (mr_supervise (l.pidfd, sigfd, -1, exit_status, err) < 0)
    {
      mr_launch_undo (&l);
      goto out;
    }
  close (l.pidfd);
  l.pidfd = -1;
  finish_stopped (&l);
  ret = 0;
out:
  if (ret < 0)
    mr_error_wrap (err, "restore `%s`", o->c.id);
  if (s.binary)
    mr_criu_end (&s);
  if (masked)
    mr_forward_signals_end (&old);
  mr_launch_release (&l);
  return ret;
}
#endif
