/* plan.c: the init plan from the bundle (mr_launch_prepare): the config
 * parsed, the rootfs path resolved, the namespaces to create or join (joined
 * ones opened and checked to be of their type), the pid plan, the compiled
 * security settings.  Every config error surfaces here, before anything
 * exists on the system; the fds of the plan are the launcher's to fill as it
 * spawns (launcher.c). */
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "launch/launcher.h"
#include "ns/ns.h"
#include "process/pidpin.h"
#include "process/schedattr.h"
#include "rootfs/rootfs.h"
#include "security/security.h"
#include "base/utils.h"

void
mr_init_plan_clear (struct mr_init_plan *plan)
{
  memset (plan, 0, sizeof *plan);
  for (int i = 0; i < MR_NS_COUNT; i++)
    plan->ns_fds[i] = -1;
  plan->join_pidfd = -1;
  plan->start_listen_fd = -1;
  plan->sync_fd = -1;
  plan->console_fd = -1;
  plan->launcher_fds[0] = plan->launcher_fds[1] = -1;
}

/* What the container side reads of the prepared config; the state it
 * records from here on borrows the same strings. */
static void
fill_plan (struct mr_launch *l)
{
  const struct mr_config *c = l->config;
  struct mr_init_plan *p = &l->init;

  p->config = c;
  p->pids = l->plan;
  p->sec = l->sec;
  p->rootfs = l->rootfs;
  p->bundle = l->bundle;
  p->no_pivot = l->opts->no_pivot;
  p->preserve_fds = l->opts->preserve_fds;
  p->no_new_keyring = l->opts->no_new_keyring;
  p->id = l->opts->id;
  p->needs_pid = c->n_hooks[MR_HOOK_CREATE_CONTAINER] + c->n_hooks[MR_HOOK_START_CONTAINER] > 0
                 || c->seccomp.listener_path;
  l->state.id = (char *) l->opts->id;
  l->state.bundle = l->bundle;
  l->state.rootfs = l->rootfs;
  l->state.annotations = c->annotations;
  l->state.n_annotations = c->n_annotations;
  p->state = &l->state;
}

/* runtime spec: a namespace type missing from linux.namespaces is the
 * runtime's.  Without a mount namespace of its own, the container's mounts
 * are made in the runtime's, inside a bind of the rootfs that goes at delete
 * (mr_rootfs_shared_bind), and it enters its root with chroot.  What would
 * change the runtime's mount tree itself is refused; say what is shared. */
static int
shared_mount_ns_check (const struct mr_config *c, mr_error_t *err)
{
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
        (void) snprintf (shared + used, sizeof shared - used, "%s%s", used ? ", " : "", mr_ns_type_name (t));
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
          l->init.new_ns[t] = true;
          continue;
        }
      l->init.ns_fds[t] = open (c->namespaces[t].path, O_RDONLY | O_CLOEXEC);
      if (l->init.ns_fds[t] < 0)
        return mr_error_set (err, errno, "linux.namespaces[%zu].path: open the %s namespace `%s`",
                             c->namespaces[t].index, mr_ns_type_name (t), c->namespaces[t].path);
      {
        /* make sure the path really is a namespace of that type */
        int type = ioctl (l->init.ns_fds[t], NS_GET_NSTYPE);
        static const int kinds[MR_NS_COUNT] = { CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC,
                                                CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME };
        if (type < 0 || type != kinds[t])
          return mr_error_set (err, type < 0 ? errno : 0, "linux.namespaces[%zu].path: `%s` is not a %s namespace",
                               c->namespaces[t].index, c->namespaces[t].path, mr_ns_type_name (t));
      }
    }
  if (c->mount_label && c->mount_label[0] && !mr_selinux_enabled ())
    mr_log_warning ("linux.mountLabel \"%s\" is not applied: SELinux is not enabled on this host (no selinuxfs "
                    "at /sys/fs/selinux)",
                    c->mount_label);
  if (!c->namespaces[MR_NS_MOUNT].present && shared_mount_ns_check (c, err) < 0)
    return -1;
  /* A uts namespace joined by path is the container's too: set them there. */
  if ((c->hostname || c->domainname) && !c->namespaces[MR_NS_UTS].present)
    return mr_error_set (err, 0, "%s is set but the container has no uts namespace of its own: it would "
                         "rename the host (add {\"type\": \"uts\"} to linux.namespaces)",
                         c->hostname ? "hostname" : "domainname");
  if (c->time_offsets.present && !l->init.new_ns[MR_NS_TIME])
    return mr_error_set (err, 0, "linux.timeOffsets needs a new time namespace in linux.namespaces");
  if (mr_sysctl_validate (c, l->init.new_ns, err) < 0)
    return -1;
  if (mr_mempolicy_check_host (&c->memory_policy, err) < 0)
    return -1;
  if (c->n_net_devices > 0 && !mr_cap_effective (CAP_NET_ADMIN))
    return mr_error_set (err, EPERM, "linux.netDevices: moving host interfaces needs CAP_NET_ADMIN on the host "
                                     "(run as root; rootless containers cannot take host devices)");
  if (mr_netdev_validate (c, l->init.ns_fds[MR_NS_NET], err) < 0)
    return -1;

  if (l->init.new_ns[MR_NS_PID])
    env.container = MR_PIDNS_NEW;
  else if (l->init.ns_fds[MR_NS_PID] >= 0)
    {
      env.container = MR_PIDNS_JOINED;
      if (mr_pidpin_depth_below_self (l->init.ns_fds[MR_NS_PID], c->namespaces[MR_NS_PID].path,
                                      &env.joined_depth, err)
          < 0)
        return mr_error_wrap (err, "linux.namespaces[%zu].path", c->namespaces[MR_NS_PID].index);
      env.joined_pid_max = MR_PID_MAX_LIMIT;
      if (env.joined_depth == 0)
        env.container = MR_PIDNS_SHARED;
    }
  env.host_pid_max = (c->pins.n_init_pins || c->pins.n_processes) ? mr_pidpin_host_pid_max () : MR_PID_MAX_LIMIT;
  env.host_pins_denied = (c->pins.n_init_pins || c->pins.n_processes)
                         && !mr_cap_effective (CAP_SYS_ADMIN) && !mr_cap_effective (CAP_CHECKPOINT_RESTORE);
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
  fill_plan (l);
  return 0;
}

