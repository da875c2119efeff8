/* systemd/driver.c: the systemd cgroup driver, chosen by a cgroupsPath of
 * the form slice:prefix:name (--systemd-cgroup makes that the default): a
 * composition of systemd's D-Bus API (bus.c) and the v2 driver's steps.
 *
 * create   a transient scope `prefix-name.scope` in the slice, started
 *          through StartTransientUnit with Delegate=yes, the accounting
 *          switches and the resource properties systemd knows (props.c).
 *          A scope needs a process when it starts, and minirun's init is
 *          cloned straight into its cgroup (CLONE_INTO_CGROUP), so a small
 *          holder process (a fork that only waits, SIGKILLed if minirun
 *          dies) is the scope's first process until the init is in; its
 *          /proc/PID/cgroup says where systemd put the scope.  Then the
 *          controllers a resource needs that systemd did not delegate
 *          (hugetlb, rdma) are enabled in the parents, and every resource
 *          is written into the scope's directory with the v2 writers.
 * started  (the launcher: the init is in) the holder goes; pids.limit is
 *          applied now (TasksMax and pids.max), so that the holder never
 *          counts against it.
 * update   SetUnitProperties for what systemd knows, then the v2 writers.
 * destroy  StopUnit, waiting for its job (systemd removes the cgroup and
 *          what the container made below it), ResetFailedUnit.
 * The rest (freeze, kill, pids, stats, OOM, the view) is the v2 driver's
 * on the scope's directory.  cgroup v2 only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/driver.h"
#include "cgroup/systemd/systemd.h"
#include "cgroup/v2/v2.h"
#include "cgroup/common/util.h"
#include "cgroup/common/writers.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"

struct sd_state
{
  struct mr_sd_name name;
  bool user;            /* the user's manager (rootless) */
  pid_t owner;          /* the process that made the holder and the bus; a clone of it touches neither */
  int holder_fd;        /* pidfd of the holder, -1 when there is none */
  struct mr_sd_bus *bus; /* from create to started */
  int bus_fd;           /* its socket, for a clone to close */
  bool pids_pending;    /* pids.limit, applied by started */
  struct mr_opt_i64 pids;
};

static bool
mine (const struct sd_state *s)
{
  return s && s->owner == getpid ();
}

static void
holder_stop (struct sd_state *s)
{
  if (mine (s))
    mr_sd_holder_stop (&s->holder_fd);
}

static void
state_free (void *p)
{
  struct sd_state *s = p;
  if (mine (s))
    {
      holder_stop (s);
      mr_sd_bus_close (s->bus);
    }
  mr_sd_name_free (&s->name);
  free (s);
}

/* Where systemd put the holder: the scope's directory. */
static int
scope_dir (struct mr_cgroup *cg, struct sd_state *s, pid_t pid, mr_error_t *err)
{
  cleanup_free char *rel = NULL, *leaf = mr_sd_cgroup_name (s->name.unit);
  size_t len, ll = strlen (leaf);

  if (mr_sd_proc_cgroup (pid, &rel, err) < 0)
    return mr_error_wrap (err, "find the cgroup of systemd's scope `%s`", s->name.unit);
  len = strlen (rel);
  if (len <= ll || strcmp (rel + len - ll, leaf) != 0 || rel[len - ll - 1] != '/')
    return mr_error_set (err, 0,
                         "systemd started the scope `%s`, but its first process is in the cgroup `%s`, not in "
                         "the scope's",
                         s->name.unit, rel);
  if (strcmp (cg->v2_dir + strlen (cg->host->v2_mount), rel) != 0)
    mr_log_debug ("systemd put the scope `%s` at `%s`", s->name.unit, rel);
  free (cg->v2_dir);
  cg->v2_dir = xasprintf ("%s%s", cg->host->v2_mount, rel);
  return 0;
}

/* The init is cloned into the scope (CLONE_INTO_CGROUP), which the kernel
 * allows only with write access to cgroup.procs of the closest cgroup
 * holding both this process and the scope: always as root; rootless, only
 * from inside the part of the tree the user's systemd owns (user@UID.service). */
static int
reachable (const struct mr_cgroup *cg, const struct sd_state *s, mr_error_t *err)
{
  cleanup_free char *own = NULL, *procs = NULL;
  const char *scope = cg->v2_dir + strlen (cg->host->v2_mount);
  size_t common = 0;

  if (geteuid () == 0)
    return 0;
  if (mr_sd_proc_cgroup (getpid (), &own, err) < 0)
    return -1;
  for (size_t i = 0;; i++)
    {
      if ((own[i] == '\0' || own[i] == '/') && (scope[i] == '\0' || scope[i] == '/'))
        common = i; /* the end of a component both paths have */
      if (own[i] == '\0' || own[i] != scope[i])
        break;
    }
  procs = xasprintf ("%s%.*s/cgroup.procs", cg->host->v2_mount, (int) common, scope);
  if (access (procs, W_OK) == 0)
    return 0;
  /* errno 0: the systemd driver was asked for, this is no rootless nicety to skip */
  return mr_error_set (err, 0,
                       "rootless: minirun runs in the cgroup `%s`, outside what the user's systemd manages, and "
                       "cannot put the container's init in its scope `%s` (that needs write access to `%s`: %s); "
                       "run minirun inside the user's systemd (e.g. systemd-run --user --scope minirun ...), or "
                       "use the cgroupfs driver",
                       own, s->name.unit, procs, strerror (errno));
}

/* The controllers given resources need that the scope does not have
 * (systemd delegates only those it knows: not hugetlb, rdma, misc),
 * enabled in every parent from the root down. */
static int
enable_parents (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  const char *want[16], *needed[16], *miss[16], *miss_by[16];
  char keybuf[16][32];
  cleanup_free char *have = NULL, *dir = NULL;
  size_t n = mr_cg_v2_wanted (cg, res, false, want, needed, 16, keybuf), m = 0, base;

  if (n == 0)
    return 0;
  if (mr_cg_read (cg->v2_dir, "cgroup.controllers", &have, err) < 0)
    return -1;
  for (char *p = have; *p; p++)
    if (*p == '\n')
      *p = ' ';
  for (size_t i = 0; i < n; i++)
    if (!mr_cg_list_has (have, ' ', want[i]))
      {
        miss[m] = want[i];
        miss_by[m++] = needed[i];
      }
  if (m == 0)
    return 0;
  dir = xstrdup (cg->v2_dir);
  base = strlen (cg->host->v2_mount);
  for (size_t i = base; dir[i]; i++)
    if (dir[i] == '/')
      {
        int r;
        dir[i] = '\0';
        r = mr_cg_v2_enable (i == base ? cg->host->v2_mount : dir, miss, miss_by, m, err);
        dir[i] = '/';
        if (r < 0)
          return -1;
      }
  return 0;
}

/* The resources but pids.limit (started applies it), written into the scope. */
static int
apply_direct (struct mr_cgroup *cg, const struct mr_resources *res, bool update, bool pids, mr_error_t *err)
{
  struct mr_resources r;
  if (res == NULL)
    return 0;
  r = *res;
  if (!pids)
    r.pids.limit.set = false;
  if (enable_parents (cg, &r, err) < 0)
    return -1;
  return mr_cg_apply_resources (cg, &r, update, NULL, &mr_cg_v2_writers, err);
}

static int
sd_create (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  struct sd_state *s = cg->priv;
  struct mr_sd_props props = { 0 };
  bool unit_started = false, any = false;
  pid_t holder;

  if (mr_sd_available (err) < 0 || reachable (cg, s, err) < 0 || mr_cg_check (cg, res, err) < 0
      || mr_sd_props_from_resources (res, false, &props, err) < 0)
    goto fail;
  s->pids_pending = res && MR_CG_SET (res->pids.limit);
  s->pids = res ? res->pids.limit : (struct mr_opt_i64){ 0 };
  if (mr_sd_holder_start (&holder, &s->holder_fd, err) < 0 || mr_sd_bus_open (s->user, &s->bus, err) < 0)
    goto fail;
  s->bus_fd = mr_sd_bus_fd (s->bus);
  if (mr_sd_start_scope (s->bus, s->name.unit, s->name.slice, holder, &props, err) < 0)
    goto fail;
  unit_started = true;
  if (scope_dir (cg, s, holder, err) < 0 || apply_direct (cg, res, false, false, err) < 0
      || mr_cg_v2_open (cg, true, &any, err) < 0)
    goto fail;
  mr_sd_props_free (&props);
  return 0;

fail:
  mr_sd_props_free (&props);
  holder_stop (s);
  if (unit_started)
    {
      mr_error_t e2 = NULL;
      if (mr_sd_stop_unit (s->bus, s->name.unit, &e2) < 0)
        mr_error_warn (&e2, "cleanup");
    }
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  cg->v2_fd = -1;
  mr_sd_bus_close (s->bus);
  s->bus = NULL;
  return -1;
}

static int
sd_started (struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  struct sd_state *s = cg->priv;
  int ret = 0;
  if (!mine (s))
    return 0;
  holder_stop (s);
  if (s->pids_pending)
    {
      struct mr_resources r = { .present = true };
      struct mr_sd_props p = { 0 };
      r.pids.limit = s->pids;
      if ((s->bus == NULL && mr_sd_bus_open (s->user, &s->bus, err) < 0)
          || mr_sd_props_from_resources (&r, true, &p, err) < 0 || mr_sd_set_properties (s->bus, s->name.unit, &p, err) < 0
          || mr_cg_write_pids (cg->v2_dir, &r, false, err) < 0)
        ret = -1;
      mr_sd_props_free (&p);
      s->pids_pending = false;
    }
  mr_sd_bus_close (s->bus);
  s->bus = NULL;
  return ret;
}

static int
sd_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  struct sd_state *s = cg->priv;
  struct mr_sd_props props = { 0 };
  struct mr_sd_bus *bus = NULL;
  int ret = 0;

  if (mr_sd_props_from_resources (res, true, &props, err) < 0)
    return -1;
  if (props.n
      && (mr_sd_bus_open (s->user, &bus, err) < 0 || mr_sd_set_properties (bus, s->name.unit, &props, err) < 0))
    ret = -1;
  mr_sd_bus_close (bus);
  mr_sd_props_free (&props);
  if (ret == 0)
    ret = apply_direct (cg, res, true, true, err);
  return ret;
}

static int
sd_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  struct sd_state *s = cg->priv;
  struct mr_sd_bus *bus = NULL;
  long long deadline;
  int ret;

  holder_stop (s);
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  cg->v2_fd = -1;
  ret = mr_sd_bus_open (s->user, &bus, err) < 0 ? -1 : mr_sd_stop_unit (bus, s->name.unit, err);
  mr_sd_bus_close (bus);
  if (ret < 0)
    return -1;
  /* systemd removes the scope's cgroup as the scope stops */
  deadline = mr_now_ms () + 1000;
  while (access (cg->v2_dir, F_OK) == 0)
    {
      if (mr_now_ms () > deadline)
        return mr_error_set (err, 0, "systemd stopped the scope `%s`, but its cgroup `%s` is still there",
                             s->name.unit, cg->v2_dir);
      usleep (1000);
    }
  return 0;
}

static char *
default_dir (const struct mr_cgroup *cg, const struct sd_state *s)
{
  cleanup_free char *leaf = mr_sd_cgroup_name (s->name.unit);
  unsigned int uid = (unsigned int) geteuid ();
  if (s->user) /* the user's manager, user@UID.service, is the root of its units */
    return xasprintf ("%s/user.slice/user-%u.slice/user@%u.service%s/%s", cg->host->v2_mount, uid, uid,
                      s->name.slice_path, leaf);
  return xasprintf ("%s%s/%s", cg->host->v2_mount, s->name.slice_path, leaf);
}

static int
sd_resolve (struct mr_cgroup *cg, mr_error_t *err)
{
  struct sd_state *s;

  /* first whether systemd runs at all (the same words on every layout) */
  if (mr_sd_available (err) < 0)
    return mr_error_wrap (err, "cgroupsPath `%s` is for the systemd cgroup driver", cg->path);
  if (cg->host->layout != MR_CGROUP_UNIFIED)
    {
      return mr_error_set (err, 0,
                           "cgroupsPath `%s`: the systemd cgroup driver needs a cgroup v2 host (cgroup2 alone at "
                           "%s, systemd.unified_cgroup_hierarchy=1); this one is %s",
                           cg->path, cg->host->root, mr_cgroup_layout_name (cg->host->layout));
    }
  s = xcalloc (1, sizeof *s);
  s->holder_fd = s->bus_fd = -1;
  s->user = geteuid () != 0;
  s->owner = getpid ();
  if (mr_sd_name_parse (cg->path, s->user, &s->name, err) < 0)
    {
      free (s);
      return -1;
    }
  cg->priv = s;
  cg->priv_free = state_free;
  free (cg->v2_dir);
  cg->v2_dir = default_dir (cg, s);
  return 0;
}

/* Not where systemd puts a scope by default: ask systemd. */
static int
sd_open (struct mr_cgroup *cg, mr_error_t *err)
{
  struct sd_state *s = cg->priv;
  struct mr_sd_bus *bus = NULL;
  cleanup_free char *rel = NULL;
  bool any = false;
  int r;

  if (mr_cg_v2_open (cg, false, &any, err) < 0)
    return -1;
  if (any)
    return 0;
  r = mr_sd_bus_open (s->user, &bus, err) < 0 ? -1 : mr_sd_unit_cgroup (bus, s->name.unit, &rel, err);
  mr_sd_bus_close (bus);
  if (r < 0 && (*err)->errno_ == ENOENT)
    {
      mr_error_free (err);
      return mr_cg_missing (cg, err);
    }
  if (r < 0)
    return -1;
  free (cg->v2_dir);
  cg->v2_dir = xasprintf ("%s%s", cg->host->v2_mount, rel);
  return mr_cg_v2_open (cg, true, &any, err);
}

/* A clone of the launcher (the init) holds copies of the bus socket and of
 * the holder's pidfd: they are the launcher's. */
static int
sd_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  struct sd_state *s = cg->priv;
  if (s && !mine (s))
    {
      if (s->bus_fd >= 0)
        close (s->bus_fd);
      if (s->holder_fd >= 0)
        close (s->holder_fd);
      s->bus_fd = s->holder_fd = -1;
      s->bus = NULL;
    }
  return 0;
}

static bool
sd_claims (const char *path)
{
  return mr_sd_is_path (path);
}

/* The rest is the v2 driver's, on the scope's directory. */
static int
sd_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  return mr_cg_driver_v2.enter_pid (cg, pid, err);
}

static int
sd_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err)
{
  return apply_direct (cg, res, update, true, err);
}

static int
sd_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  return mr_cg_driver_v2.freeze (cg, frozen, err);
}

static int
sd_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  return mr_cg_driver_v2.is_frozen (cg, frozen, err);
}

static int
sd_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  return mr_cg_driver_v2.kill (cg, sig, err);
}

static int
sd_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  return mr_cg_driver_v2.pids (cg, pids, n, err);
}

static int
sd_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  return mr_cg_driver_v2.stats (cg, out, err);
}

static int
sd_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                 mr_error_t *err)
{
  return mr_cg_driver_v2.stats_detail (cg, percpu, n_percpu, memory_stat, err);
}

static int
sd_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err)
{
  return mr_cg_driver_v2.oom_kills (cg, count, err);
}

static int
sd_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err)
{
  return mr_cg_driver_v2.oom_watch (cg, fd, err);
}

static int
sd_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err)
{
  return mr_cg_driver_v2.mount (cg, dest_fd, flags, err);
}

const struct mr_cgroup_driver mr_cg_driver_systemd = {
  .name = "systemd",
  .available = mr_sd_available,
  .claims = sd_claims,
  .resolve = sd_resolve,
  .create = sd_create,
  .started = sd_started,
  .open = sd_open,
  .join = sd_join,
  .enter_pid = sd_enter_pid,
  .apply = sd_apply,
  .update = sd_update,
  .freeze = sd_freeze,
  .is_frozen = sd_is_frozen,
  .kill = sd_kill,
  .pids = sd_pids,
  .stats = sd_stats,
  .stats_detail = sd_stats_detail,
  .oom_kills = sd_oom_kills,
  .oom_watch = sd_oom_watch,
  .mount = sd_mount,
  .destroy = sd_destroy,
};
