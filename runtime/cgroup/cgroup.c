/* cgroup.c: the front of the cgroup interface (cgroup.h).  Owns the
 * default cgroups path, the registration of the drivers (driver.h) and the
 * choice among them: a path the systemd driver claims (slice:prefix:name)
 * picks it, else the host layout detected once (common/detect.c) picks the
 * driver, which every struct mr_cgroup keeps; each public call then goes
 * through that driver's table, with the context the caller's message needs
 * ("create cgroup `/minirun/x`: ...").  --systemd-cgroup
 * (mr_cgroup_use_systemd) makes a systemd path the default for new
 * containers.  Nothing here knows a controller file. */
#include <string.h>
#include <unistd.h>

#include "cgroup/driver.h"
#include "cgroup/common/cg.h"
#include "cgroup/common/sub.h"
#include "base/utils.h"

/* --systemd-cgroup was given (this process creates systemd scopes) */
static bool use_systemd;

int
mr_cgroup_use_systemd (mr_error_t *err)
{
  if (mr_cg_driver_systemd.available (err) < 0)
    return mr_error_wrap (err, "--systemd-cgroup");
  use_systemd = true;
  return 0;
}

char *
mr_cgroup_path_for (const char *cgroups_path, const char *id)
{
  if (cgroups_path && *cgroups_path)
    return xstrdup (cgroups_path);
  if (use_systemd) /* runc's default, with minirun's prefix: the unit minirun-ID.scope */
    return xasprintf ("%s:minirun:%s", geteuid () == 0 ? "system.slice" : "user.slice", id);
  return xasprintf ("/minirun/%s", id);
}

/* The registered drivers: the systemd one for its paths, else the one of
 * the host's layout. */
static const struct mr_cgroup_driver *
pick (const char *path, const struct mr_cg_host *h)
{
  if (mr_cg_driver_systemd.claims (path))
    return &mr_cg_driver_systemd;
  switch (h->layout)
    {
    case MR_CGROUP_UNIFIED:
      return &mr_cg_driver_v2;
    case MR_CGROUP_HYBRID:
      return &mr_cg_driver_hybrid;
    case MR_CGROUP_LEGACY:
      break;
    }
  return &mr_cg_driver_v1;
}

static int
resolve (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  if (mr_cg_resolve (path, out, err) < 0)
    return -1;
  (*out)->drv = pick (path, (*out)->host);
  if ((*out)->drv->resolve && (*out)->drv->resolve (*out, err) < 0)
    {
      mr_cgroup_free (*out);
      *out = NULL;
      return -1;
    }
  return 0;
}

const char *
mr_cgroup_driver_name (const struct mr_cgroup *cg)
{
  return cg->drv->name;
}

int
mr_cgroup_lookup (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  return resolve (path, out, err);
}

int
mr_cgroup_open (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  struct mr_cgroup *cg;
  if (resolve (path, &cg, err) < 0)
    return -1;
  if (cg->drv->open (cg, err) < 0)
    {
      mr_cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}

int
mr_cgroup_create (const char *path, const struct mr_resources *res, struct mr_cgroup **out, mr_error_t *err)
{
  return mr_cgroup_create_annotated (path, res, NULL, 0, out, err);
}

int
mr_cgroup_create_annotated (const char *path, const struct mr_resources *res, const struct mr_kv *annotations,
                            size_t n_annotations, struct mr_cgroup **out, mr_error_t *err)
{
  struct mr_cgroup *cg;
  int r;
  if (resolve (path, &cg, err) < 0)
    return -1;
  if (use_systemd && cg->drv != &mr_cg_driver_systemd)
    {
      mr_error_set (err, 0,
                    "--systemd-cgroup: linux.cgroupsPath `%s` is a path, not systemd's slice:prefix:name (e.g. "
                    "system.slice:minirun:ID); give that form, or no --systemd-cgroup",
                    path);
      mr_cgroup_free (cg);
      return -1;
    }
  cg->annotations = annotations;
  cg->n_annotations = n_annotations;
  r = cg->drv->create (cg, res, err);
  cg->annotations = NULL;
  cg->n_annotations = 0;
  if (r < 0)
    {
      mr_error_wrap (err, "create cgroup `%s`", cg->path);
      mr_cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}

int
mr_cgroup_join_sub (struct mr_cgroup *cg, char *const *specs, size_t n, mr_error_t *err)
{
  struct mr_cg_subs subs;
  int r;
  if (n == 0)
    return 0;
  if (mr_cg_subs_parse (specs, n, &subs, err) < 0)
    return -1;
  r = cg->drv->sub (cg, &subs, err);
  if (r == 0)
    r = mr_cg_subs_check_used (&subs, err);
  mr_cg_subs_free (&subs);
  return r;
}

const char *
mr_cgroup_get_path (const struct mr_cgroup *cg)
{
  return cg->path;
}

int
mr_cgroup_v2_dirfd (const struct mr_cgroup *cg)
{
  return cg->v2_fd;
}

int
mr_cgroup_init_started (struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  if (cg->drv->started && cg->drv->started (cg, pid, err) < 0)
    return mr_error_wrap (err, "cgroup `%s`", cg->path);
  return 0;
}

int
mr_cgroup_child_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  return cg->drv->join (cg, err);
}

int
mr_cgroup_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  return cg->drv->enter_pid (cg, pid, err);
}

int
mr_cgroup_mount (const struct mr_cgroup *cg, int dest_fd, unsigned long flags, mr_error_t *err)
{
  if (cg->drv->mount (cg, dest_fd, flags, err) < 0)
    return mr_error_wrap (err, "mount the cgroup filesystem (cgroup `%s`)", cg->path);
  return 0;
}

int
mr_cgroup_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  if (cg->drv->update (cg, res, err) < 0)
    return mr_error_wrap (err, "update cgroup `%s`", cg->path);
  return 0;
}

int
mr_cgroup_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  return cg->drv->freeze (cg, frozen, err);
}

int
mr_cgroup_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  return cg->drv->is_frozen (cg, frozen, err);
}

int
mr_cgroup_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  return cg->drv->kill (cg, sig, err);
}

int
mr_cgroup_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  return cg->drv->pids (cg, pids, n, err);
}

int
mr_cgroup_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  memset (out, 0, sizeof *out);
  return cg->drv->stats (cg, out, err);
}

int
mr_cgroup_stats_detail (const struct mr_cgroup *cg, uint64_t **percpu, size_t *n_percpu, char **memory_stat,
                        mr_error_t *err)
{
  return cg->drv->stats_detail (cg, percpu, n_percpu, memory_stat, err);
}

int
mr_cgroup_oom_kills (const struct mr_cgroup *cg, uint64_t *count, mr_error_t *err)
{
  return cg->drv->oom_kills (cg, count, err);
}

int
mr_cgroup_oom_watch (const struct mr_cgroup *cg, int *fd, mr_error_t *err)
{
  return cg->drv->oom_watch (cg, fd, err);
}

int
mr_cgroup_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  if (cg->drv->destroy (cg, err) < 0)
    return mr_error_wrap (err, "destroy cgroup `%s`", cg->path);
  return 0;
}
