/* common/cg.c: the container's cgroup struct shared by every driver: the
 * cgroups path rules (normalised, no `.`/`..`, not the root), the directory
 * it names in each hierarchy of the host (absolute paths from the
 * hierarchy's root, relative ones below this process's own cgroup), freeing
 * it, and where a controller lives for it (mr_cg_locate: the per-controller
 * routing of a hybrid host). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/common/cg.h"
#include "cgroup/common/util.h"
#include "base/utils.h"

/* Collapse "//", drop trailing "/", refuse "." and ".." components and the root. */
static int
normalise (const char *path, char **out, mr_error_t *err)
{
  char *r = xcalloc (1, strlen (path) + 2), *w = r;
  const char *p = path;
  if (*p == '/')
    *w++ = '/';
  while (*p)
    {
      size_t l;
      while (*p == '/')
        p++;
      l = strcspn (p, "/");
      if (l == 0)
        break;
      if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
        {
          free (r);
          return mr_error_set (err, 0, "cgroupsPath `%s`: `.` and `..` components are not allowed", path);
        }
      if (w > r && w[-1] != '/')
        *w++ = '/';
      memcpy (w, p, l);
      w += l;
      p += l;
    }
  if (w == r || (w == r + 1 && r[0] == '/'))
    {
      free (r);
      return mr_error_set (err, 0, "cgroupsPath `%s` names the cgroup root; give a path below it", path);
    }
  *out = r;
  return 0;
}

int
mr_cg_resolve (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  const struct mr_cg_host *h;
  struct mr_cgroup *cg;
  const char *rel;
  bool abs = path && path[0] == '/';

  if (mr_cg_host_get (&h, err) < 0)
    return -1;
  cg = xcalloc (1, sizeof *cg);
  cg->v2_fd = -1;
  cg->host = h;
  if (normalise (path ? path : "", &cg->path, err) < 0)
    {
      mr_cgroup_free (cg);
      return -1;
    }
  rel = cg->path + (abs ? 1 : 0);
  if (h->layout != MR_CGROUP_UNIFIED)
    {
      cg->v1 = xcalloc (h->n_v1, sizeof *cg->v1);
      for (size_t i = 0; i < h->n_v1; i++)
        {
          cg->v1[i].h = &h->v1[i];
          cg->v1[i].procs_fd = -1;
          cg->v1[i].dir = xasprintf ("%s%s/%s", h->v1[i].mount, abs ? "" : h->v1[i].own, rel);
        }
      cg->n_v1 = h->n_v1;
    }
  if (h->v2_mount)
    cg->v2_dir = xasprintf ("%s%s/%s", h->v2_mount, abs ? "" : h->v2_own, rel);
  *out = cg;
  return 0;
}

size_t
mr_cg_base_len (const struct mr_cgroup *cg, const char *dir)
{
  const char *rel = cg->path + (cg->path[0] == '/');
  return strlen (dir) - strlen (rel) - 1;
}

int
mr_cg_missing (const struct mr_cgroup *cg, mr_error_t *err)
{
  return mr_error_set (err, ENOENT, "cgroup `%s` does not exist in any hierarchy", cg->path);
}

void
mr_cgroup_free (struct mr_cgroup *cg)
{
  if (cg == NULL)
    return;
  if (cg->priv && cg->priv_free)
    cg->priv_free (cg->priv);
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      if (cg->v1[i].procs_fd >= 0)
        close (cg->v1[i].procs_fd);
      free (cg->v1[i].dir);
    }
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  free (cg->v1);
  free (cg->v2_dir);
  free (cg->path);
  free (cg);
}

int
mr_cg_locate (const struct mr_cgroup *cg, const char *v1_name, const char *v2_name)
{
  if (v1_name)
    for (size_t i = 0; i < cg->n_v1; i++)
      if (mr_cg_list_has (cg->v1[i].h->name, ',', v1_name))
        return (int)i;
  if (cg->v2_dir && v2_name
      && (strcmp (v2_name, "devices") == 0 || mr_cg_list_has (cg->host->v2_controllers, ' ', v2_name)))
    return MR_CG_V2;
  return MR_CG_NONE;
}
