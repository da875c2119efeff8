/* common/cg.h: the container's cgroup as every driver sees it: one
 * directory per v1 hierarchy and/or one in the unified tree, the fds kept for
 * joining, the driver that owns it, and where a controller lives for it
 * (common/cg.c). */
#ifndef MINIRUN_CGROUP_COMMON_CG_H
#define MINIRUN_CGROUP_COMMON_CG_H

#include <stdbool.h>
#include <stddef.h>

#include "cgroup/cgroup.h"
#include "cgroup/common/host.h"

struct mr_cgroup_driver;

/* The container's directory in one v1 hierarchy. */
struct mr_cg_v1dir
{
  const struct mr_cg_hier *h;
  char *dir;    /* absolute path */
  int procs_fd; /* dir/tasks, O_WRONLY|O_CLOEXEC, or -1 (dir missing): the self-join path (v1/driver.c) */
};

struct mr_cgroup
{
  const struct mr_cgroup_driver *drv; /* set by the front (cgroup.c) from the layout */
  char *path;                         /* normalised cgroups path ("/minirun/x" or "rel/x") */
  const struct mr_cg_host *host;
  struct mr_cg_v1dir *v1; /* one per host v1 hierarchy; none on a pure v2 host */
  size_t n_v1;
  char *v2_dir; /* absolute path of the v2 directory, NULL without v2 */
  int v2_fd;    /* O_PATH|O_DIRECTORY|O_CLOEXEC, -1 when absent */
  void *priv;   /* the driver's own state (the systemd driver's unit), NULL for most */
  void (*priv_free) (void *priv); /* called by mr_cgroup_free when priv is set */
  /* The config's annotations, for create only (not owned; NULL after it):
   * the systemd driver reads org.systemd.property.* from them. */
  const struct mr_kv *annotations;
  size_t n_annotations;
};

/* A struct mr_cgroup for `path` (normalised, refused if it has `.`/`..` or
 * names the root) with the directory in every hierarchy of the host filled
 * in; nothing opened, no driver set.  Free with mr_cgroup_free(). */
int mr_cg_resolve (const char *path, struct mr_cgroup **out, mr_error_t *err);
/* The length of the directory a container path starts from in a hierarchy
 * (the hierarchy's root, or for a relative path this process's cgroup):
 * `dir` minus "/<path>". */
size_t mr_cg_base_len (const struct mr_cgroup *cg, const char *dir);
/* "cgroup `path` does not exist in any hierarchy" (ENOENT). */
int mr_cg_missing (const struct mr_cgroup *cg, mr_error_t *err);

/* Where a controller lives for a container: an index into cg->v1 (the v1
 * hierarchy that has `v1_name`), else MR_CG_V2 (the unified tree has
 * `v2_name`; "devices" is always there: eBPF), else MR_CG_NONE.  A NULL name
 * is never found on that version. */
#define MR_CG_V2 (-1)
#define MR_CG_NONE (-2)
int mr_cg_locate (const struct mr_cgroup *cg, const char *v1_name, const char *v2_name);

#endif
