/* cgroup.c: the cgroup interface (cgroup.h) over the v1 and v2 drivers.
 * Owns layout detection (statfs of the cgroup root, /proc/self/cgroup and
 * /proc/self/mountinfo for the v1 hierarchies and their mount points), the
 * container's directories in every hierarchy (path rules, creation with
 * rollback, v1 cpuset initialisation, v2 subtree_control), the dispatch that
 * sends each resource group to the v1 hierarchy or the v2 tree holding its
 * controller (or fails naming the config path), joining, freeze/kill/pids/
 * stats dispatch, removal, and the small file helpers both drivers use.
 * The controller files are written by cgroup_v1.c and cgroup_v2.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup_internal.h"
#include "cleanup.h"
#include "log.h"
#include "utils.h"

/* ---------- layout detection ---------- */

static struct mr_cg_host *host_cache;

static void
host_free (struct mr_cg_host *h)
{
  if (h == NULL)
    return;
  for (size_t i = 0; i < h->n_v1; i++)
    {
      free (h->v1[i].name);
      free (h->v1[i].mount);
      free (h->v1[i].own);
      free (h->v1[i].mount_opts);
    }
  free (h->v1);
  free (h->root);
  free (h->v2_mount);
  free (h->v2_own);
  free (h->v2_controllers);
  free (h);
}

void
mr_cg_host_reset (void)
{
  host_free (host_cache);
  host_cache = NULL;
}

/* Is `item` one of the `sep`-separated words of `list`? */
bool
mr_cg_list_has (const char *list, char sep, const char *item)
{
  size_t n = strlen (item);
  const char *p = list;
  if (list == NULL || n == 0)
    return false;
  while (*p)
    {
      const char *e = strchr (p, sep);
      size_t l = e ? (size_t) (e - p) : strlen (p);
      if (l == n && memcmp (p, item, n) == 0)
        return true;
      if (e == NULL)
        break;
      p = e + 1;
    }
  return false;
}

/* Same set of comma-separated words (order may differ)? */
static bool
same_set (const char *a, const char *b)
{
  size_t na = 0, nb = 0;
  cleanup_free char *copy = xstrdup (a);
  char *save = NULL;
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save), na++)
    if (!mr_cg_list_has (b, ',', t))
      return false;
  for (const char *p = b; *p; p++)
    nb += *p == ',';
  return na > 0 && na == nb + 1;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
unescape (char *s)
{
  char *w = s;
  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

/* The controllers of a v1 mount from its super options ("rw,cpu,cpuacct"). */
static char *
v1_controllers (const char *superopts)
{
  static const char *const not_ctrl[]
      = { "rw", "ro", "none", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods", NULL };
  cleanup_free char *copy = xstrdup (superopts);
  char *out = xcalloc (1, strlen (superopts) + 1), *save = NULL;
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    {
      bool skip = strncmp (t, "release_agent=", 14) == 0;
      for (size_t i = 0; not_ctrl[i] && !skip; i++)
        skip = strcmp (t, not_ctrl[i]) == 0;
      if (skip)
        continue;
      if (*out)
        strcat (out, ",");
      strcat (out, t);
    }
  return out;
}

/* `own` (a path in the hierarchy) as seen below a mount of `mount_root`. */
static char *
own_below (const char *own, const char *mount_root)
{
  size_t n = strlen (mount_root);
  if (strcmp (mount_root, "/") != 0 && strncmp (own, mount_root, n) == 0 && (own[n] == '/' || own[n] == '\0'))
    own += n;
  else if (strcmp (mount_root, "/") != 0)
    own = "";
  if (strcmp (own, "/") == 0)
    own = "";
  return xstrdup (own);
}

struct proc_cg
{
  long id;
  char *ctrls, *path;
};

static int
read_proc_cgroup (struct proc_cg **out, size_t *n_out, mr_error_t *err)
{
  cleanup_file FILE *f = fopen ("/proc/self/cgroup", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0, n = 0;
  struct proc_cg *v = NULL;

  if (f == NULL)
    return mr_error_set (err, errno, "open `/proc/self/cgroup`");
  while (getline (&line, &cap, f) > 0)
    {
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL)
        continue;
      line[strcspn (line, "\n")] = '\0';
      *c2 = '\0';
      v = xrealloc (v, (n + 1) * sizeof *v);
      v[n].id = strtol (line, NULL, 10);
      v[n].ctrls = xstrdup (c1 + 1);
      v[n].path = xstrdup (c2 + 1);
      n++;
    }
  *out = v;
  *n_out = n;
  return 0;
}

static bool
under_root (const char *mnt, const char *root)
{
  size_t n = strlen (root);
  return strncmp (mnt, root, n) == 0 && mnt[n] == '/' && strchr (mnt + n + 1, '/') == NULL;
}

/* Walk mountinfo: the v1 hierarchies mounted directly below root, and the
 * mount root of the cgroup2 mount (to place v2_own). */
static int
scan_mounts (struct mr_cg_host *h, struct proc_cg *pc, size_t n_pc, mr_error_t *err)
{
  cleanup_file FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return mr_error_set (err, errno, "open `/proc/self/mountinfo`");
  while (getline (&line, &cap, f) > 0)
    {
      char *fld[6], *p = line, *dash, *fstype, *super;
      line[strcspn (line, "\n")] = '\0';
      for (int i = 0; i < 6; i++)
        fld[i] = strsep (&p, " ");
      dash = p ? strstr (p, "- ") : NULL;
      if (fld[5] == NULL || dash == NULL)
        continue;
      p = dash + 2;
      fstype = strsep (&p, " ");
      strsep (&p, " ");
      super = p ? p : (char *) "";
      unescape (fld[3]);
      unescape (fld[4]);
      if (strcmp (fstype, "cgroup2") == 0 && h->v2_mount && strcmp (fld[4], h->v2_mount) == 0)
        {
          const char *own = h->v2_own ? h->v2_own : "/";
          char *o = own_below (own, fld[3]);
          free (h->v2_own);
          h->v2_own = o;
        }
      if (strcmp (fstype, "cgroup") != 0 || h->layout == MR_CGROUP_UNIFIED || !under_root (fld[4], h->root))
        continue;
      cleanup_free char *ctrls = v1_controllers (super);
      for (size_t i = 0; i < n_pc; i++)
        {
          bool dup = false;
          if (pc[i].ctrls[0] == '\0' || !same_set (pc[i].ctrls, ctrls))
            continue;
          for (size_t j = 0; j < h->n_v1; j++)
            dup |= strcmp (h->v1[j].name, pc[i].ctrls) == 0;
          if (dup)
            break;
          h->v1 = xrealloc (h->v1, (h->n_v1 + 1) * sizeof *h->v1);
          h->v1[h->n_v1].name = xstrdup (pc[i].ctrls);
          h->v1[h->n_v1].mount = xstrdup (fld[4]);
          h->v1[h->n_v1].own = own_below (pc[i].path, fld[3]);
          h->v1[h->n_v1].mount_opts = strncmp (pc[i].ctrls, "name=", 5) == 0 && !strchr (pc[i].ctrls, ',')
                                          ? xasprintf ("none,%s", pc[i].ctrls)
                                          : xstrdup (pc[i].ctrls);
          h->n_v1++;
          break;
        }
    }
  return 0;
}

static int
detect (struct mr_cg_host *h, mr_error_t *err)
{
  struct statfs st;
  struct proc_cg *pc = NULL;
  size_t n_pc = 0;
  int ret;

  if (statfs (h->root, &st) < 0)
    return mr_error_set (err, errno, "statfs `%s` (is a cgroup filesystem mounted there?)", h->root);
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    {
      h->layout = MR_CGROUP_UNIFIED;
      h->v2_mount = xstrdup (h->root);
    }
  else if (st.f_type == CGROUP_SUPER_MAGIC)
    return mr_error_set (
        err, 0, "`%s` is a single cgroup v1 hierarchy: expected cgroup2 or a tmpfs of hierarchies", h->root);
  else
    {
      cleanup_free char *u = xasprintf ("%s/unified", h->root);
      h->layout = MR_CGROUP_LEGACY;
      if (statfs (u, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        {
          h->layout = MR_CGROUP_HYBRID;
          h->v2_mount = MR_STEAL (u);
        }
    }
  if (read_proc_cgroup (&pc, &n_pc, err) < 0)
    return -1;
  for (size_t i = 0; i < n_pc; i++)
    if (pc[i].id == 0 && pc[i].ctrls[0] == '\0' && h->v2_own == NULL)
      h->v2_own = xstrdup (pc[i].path);
  ret = scan_mounts (h, pc, n_pc, err);
  for (size_t i = 0; i < n_pc; i++)
    {
      free (pc[i].ctrls);
      free (pc[i].path);
    }
  free (pc);
  if (ret < 0)
    return -1;
  if (h->v2_mount)
    {
      cleanup_free char *c = NULL;
      if (h->v2_own == NULL || h->v2_own[0] == '/')
        {
          char *o = own_below (h->v2_own ? h->v2_own : "/", "/");
          free (h->v2_own);
          h->v2_own = o;
        }
      if (mr_cg_read (h->v2_mount, "cgroup.controllers", &c, err) < 0)
        return -1;
      c[strcspn (c, "\n")] = '\0';
      h->v2_controllers = xasprintf (" %s ", c);
    }
  if (h->layout != MR_CGROUP_UNIFIED && h->n_v1 == 0)
    return mr_error_set (err, 0, "no cgroup v1 hierarchy mounted below `%s` (see /proc/self/mountinfo)",
                         h->root);
  return 0;
}

int
mr_cg_host_get (const struct mr_cg_host **out, mr_error_t *err)
{
  if (host_cache == NULL)
    {
      const char *root = getenv ("MINIRUN_CGROUP_ROOT");
      struct mr_cg_host *h = xcalloc (1, sizeof *h);
      h->root = xstrdup (root && *root ? root : "/sys/fs/cgroup");
      for (size_t l = strlen (h->root); l > 1 && h->root[l - 1] == '/'; l--)
        h->root[l - 1] = '\0';
      if (detect (h, err) < 0)
        {
          host_free (h);
          return mr_error_wrap (err, "detect the cgroup layout");
        }
      host_cache = h;
    }
  *out = host_cache;
  return 0;
}

int
mr_cgroup_layout (enum mr_cgroup_layout *out, mr_error_t *err)
{
  const struct mr_cg_host *h;
  if (mr_cg_host_get (&h, err) < 0)
    return -1;
  *out = h->layout;
  return 0;
}

const char *
mr_cgroup_layout_name (enum mr_cgroup_layout l)
{
  switch (l)
    {
    case MR_CGROUP_UNIFIED:
      return "unified";
    case MR_CGROUP_HYBRID:
      return "hybrid";
    case MR_CGROUP_LEGACY:
      return "legacy";
    }
  return "unknown";
}

/* ---------- paths ---------- */

char *
mr_cgroup_path_for (const char *cgroups_path, const char *id)
{
  if (cgroups_path && *cgroups_path)
    return xstrdup (cgroups_path);
  return xasprintf ("/minirun/%s", id);
}

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

/* Fill in cg->path and the directory in every hierarchy (fds closed). */
static int
resolve (const char *path, struct mr_cgroup **out, mr_error_t *err)
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

/* The directory a container path starts from in a hierarchy: dir minus "/rel". */
static size_t
base_len (const struct mr_cgroup *cg, const char *dir)
{
  const char *rel = cg->path + (cg->path[0] == '/');
  return strlen (dir) - strlen (rel) - 1;
}

void
mr_cgroup_free (struct mr_cgroup *cg)
{
  if (cg == NULL)
    return;
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

/* Open the fds the child and later commands use; missing dirs give -1. */
static int
open_fds (struct mr_cgroup *cg, bool must_exist, mr_error_t *err)
{
  bool any = false;
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      cleanup_free char *p = xasprintf ("%s/cgroup.procs", cg->v1[i].dir);
      cg->v1[i].procs_fd = open (p, O_WRONLY | O_CLOEXEC);
      if (cg->v1[i].procs_fd < 0 && (must_exist || errno != ENOENT))
        return mr_error_set (err, errno, "open `%s`", p);
      any |= cg->v1[i].procs_fd >= 0;
    }
  if (cg->v2_dir)
    {
      cg->v2_fd = open (cg->v2_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (cg->v2_fd < 0 && (must_exist || errno != ENOENT))
        return mr_error_set (err, errno, "open `%s`", cg->v2_dir);
      any |= cg->v2_fd >= 0;
    }
  if (!any)
    return mr_error_set (err, ENOENT, "cgroup `%s` does not exist in any hierarchy", cg->path);
  return 0;
}

int
mr_cgroup_open (const char *path, struct mr_cgroup **out, mr_error_t *err)
{
  struct mr_cgroup *cg;
  if (resolve (path, &cg, err) < 0)
    return -1;
  if (open_fds (cg, false, err) < 0)
    {
      mr_cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}

/* ---------- where resources go ---------- */

int
mr_cg_locate (const struct mr_cgroup *cg, const char *v1_name, const char *v2_name)
{
  if (v1_name)
    for (size_t i = 0; i < cg->n_v1; i++)
      if (mr_cg_list_has (cg->v1[i].h->name, ',', v1_name))
        return (int) i;
  if (cg->v2_dir && v2_name
      && (strcmp (v2_name, "devices") == 0 || mr_cg_list_has (cg->host->v2_controllers, ' ', v2_name)))
    return MR_CG_V2;
  return MR_CG_NONE;
}

#define SET(o) MR_CG_SET (o)

static const char *
given_memory (const struct mr_resources *r)
{
  return SET (r->memory.limit)         ? "linux.resources.memory.limit"
         : SET (r->memory.reservation) ? "linux.resources.memory.reservation"
         : SET (r->memory.swap)        ? "linux.resources.memory.swap"
         : r->memory.swappiness.set    ? "linux.resources.memory.swappiness"
         : (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer)
             ? "linux.resources.memory.disableOOMKiller"
         : r->memory.has_use_hierarchy ? "linux.resources.memory.useHierarchy"
                                       : NULL;
}

static const char *
given_cpu (const struct mr_resources *r)
{
  return SET (r->cpu.shares)             ? "linux.resources.cpu.shares"
         : SET (r->cpu.quota)            ? "linux.resources.cpu.quota"
         : SET (r->cpu.period)           ? "linux.resources.cpu.period"
         : SET (r->cpu.burst)            ? "linux.resources.cpu.burst"
         : SET (r->cpu.realtime_runtime) ? "linux.resources.cpu.realtimeRuntime"
         : SET (r->cpu.realtime_period)  ? "linux.resources.cpu.realtimePeriod"
         : SET (r->cpu.idle)             ? "linux.resources.cpu.idle"
                                         : NULL;
}

static const char *
given_cpuset (const struct mr_resources *r)
{
  return (r->cpu.cpus && *r->cpu.cpus)   ? "linux.resources.cpu.cpus"
         : (r->cpu.mems && *r->cpu.mems) ? "linux.resources.cpu.mems"
                                         : NULL;
}

static const char *
given_pids (const struct mr_resources *r)
{
  return SET (r->pids.limit) ? "linux.resources.pids.limit" : NULL;
}

static const char *
given_blkio (const struct mr_resources *r)
{
  const typeof (r->block_io) *b = &r->block_io;
  return SET (b->weight)            ? "linux.resources.blockIO.weight"
         : SET (b->leaf_weight)     ? "linux.resources.blockIO.leafWeight"
         : b->n_weight_device       ? "linux.resources.blockIO.weightDevice"
         : b->n_throttle_read_bps   ? "linux.resources.blockIO.throttleReadBpsDevice"
         : b->n_throttle_write_bps  ? "linux.resources.blockIO.throttleWriteBpsDevice"
         : b->n_throttle_read_iops  ? "linux.resources.blockIO.throttleReadIOPSDevice"
         : b->n_throttle_write_iops ? "linux.resources.blockIO.throttleWriteIOPSDevice"
                                    : NULL;
}

static const char *
given_hugetlb (const struct mr_resources *r)
{
  return r->n_hugepage_limits ? "linux.resources.hugepageLimits" : NULL;
}

static const char *
given_devices (const struct mr_resources *r)
{
  return r->n_devices ? "linux.resources.devices" : NULL;
}

static const char *
given_net_cls (const struct mr_resources *r)
{
  return SET (r->network.class_id) ? "linux.resources.network.classID" : NULL;
}

static const char *
given_net_prio (const struct mr_resources *r)
{
  return r->network.n_priorities ? "linux.resources.network.priorities" : NULL;
}

static const char *
given_rdma (const struct mr_resources *r)
{
  return r->n_rdma ? "linux.resources.rdma" : NULL;
}

typedef int (*apply_fn) (const char *dir, const struct mr_resources *r, bool update, mr_error_t *err);

static const struct
{
  const char *v1, *v2; /* controller names; NULL: does not exist there */
  const char *(*given) (const struct mr_resources *r);
  apply_fn v1_apply, v2_apply;
} groups[] = {
  { "memory", "memory", given_memory, mr_cg_v1_memory, mr_cg_v2_memory },
  { "cpu", "cpu", given_cpu, mr_cg_v1_cpu, mr_cg_v2_cpu },
  { "cpuset", "cpuset", given_cpuset, mr_cg_v1_cpuset, mr_cg_v2_cpuset },
  { "pids", "pids", given_pids, mr_cg_v1_pids, mr_cg_v2_pids },
  { "blkio", "io", given_blkio, mr_cg_v1_blkio, mr_cg_v2_io },
  { "hugetlb", "hugetlb", given_hugetlb, mr_cg_v1_hugetlb, mr_cg_v2_hugetlb },
  { "devices", "devices", given_devices, mr_cg_v1_devices, mr_cg_v2_devices },
  { "net_cls", NULL, given_net_cls, mr_cg_v1_net_cls, NULL },
  { "net_prio", NULL, given_net_prio, mr_cg_v1_net_prio, NULL },
  { "rdma", "rdma", given_rdma, mr_cg_v1_rdma, mr_cg_v1_rdma },
};

static int
unavailable (const struct mr_cgroup *cg, const char *cfg, const char *v1, const char *v2, mr_error_t *err)
{
  const struct mr_cg_host *h = cg->host;
  const char *name = v2 ? v2 : v1;
  if (h->layout == MR_CGROUP_UNIFIED && v2 == NULL)
    return mr_error_set (err, 0,
                         "%s: the %s controller does not exist in cgroup v2 (this host is cgroup v2 at %s)",
                         cfg, v1, h->v2_mount);
  if (h->layout == MR_CGROUP_UNIFIED)
    return mr_error_set (err, 0,
                         "%s: %s controller not available in cgroup v2 at %s (cgroup.controllers: %.*s)", cfg,
                         name, h->v2_mount, (int) strlen (h->v2_controllers) - 2, h->v2_controllers + 1);
  if (h->layout == MR_CGROUP_HYBRID && v2 == NULL)
    return mr_error_set (
        err, 0,
        "%s: %s controller not available: no cgroup v1 hierarchy for it below %s (and cgroup v2 "
        "has no %s controller)",
        cfg, v1, h->root, v1);
  if (h->layout == MR_CGROUP_HYBRID)
    return mr_error_set (err, 0,
                         "%s: %s controller not available: no cgroup v1 hierarchy for it below %s and %s "
                         "controller not available in cgroup v2 at %s",
                         cfg, v1, h->root, v2, h->v2_mount);
  return mr_error_set (err, 0, "%s: %s controller not available: no cgroup v1 hierarchy for it below %s", cfg,
                       v1, h->root);
}

/* Every given resource has a home?  Run before anything is created. */
static int
check (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  for (size_t i = 0; res && i < sizeof groups / sizeof groups[0]; i++)
    {
      const char *cfg = groups[i].given (res);
      if (cfg && mr_cg_locate (cg, groups[i].v1, groups[i].v2) == MR_CG_NONE)
        return unavailable (cg, cfg, groups[i].v1, groups[i].v2, err);
    }
  if (res && res->n_unified && cg->v2_dir == NULL)
    return mr_error_set (err, 0,
                         "linux.resources.unified: needs cgroup v2, but this host has only cgroup v1 (%s)",
                         cg->host->root);
  return 0;
}

int
mr_cg_apply (struct mr_cgroup *cg, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (res == NULL)
    return 0;
  if (check (cg, res, err) < 0)
    return -1;
  if (SET (res->memory.kernel) || SET (res->memory.kernel_tcp))
    mr_log_warning ("linux.resources.memory.%s ignored: kernel memory limits were removed in Linux 5.16",
                    SET (res->memory.kernel) ? "kernel" : "kernelTCP");
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
    {
      int where, ret;
      if (groups[i].given (res) == NULL)
        continue;
      where = mr_cg_locate (cg, groups[i].v1, groups[i].v2);
      ret = where >= 0 ? groups[i].v1_apply (cg->v1[where].dir, res, update, err)
                       : groups[i].v2_apply (cg->v2_dir, res, update, err);
      if (ret < 0)
        return -1;
    }
  if (res->n_unified && mr_cg_v2_unified (cg, res, err) < 0)
    return -1;
  return 0;
}

int
mr_cgroup_update (struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err)
{
  if (mr_cg_apply (cg, res, true, err) < 0)
    return mr_error_wrap (err, "update cgroup `%s`", cg->path);
  return 0;
}

/* ---------- create ---------- */

struct created
{
  char **dirs;
  size_t n;
};

static void
rollback (struct created *c)
{
  while (c->n > 0)
    {
      char *d = c->dirs[--c->n];
      if (rmdir (d) < 0 && errno != ENOENT)
        mr_log_warning ("cannot remove cgroup `%s` after a failed create: %s", d, strerror (errno));
      free (d);
    }
  free (c->dirs);
}

/* The v2 controllers to enable on the way down: on a pure v2 host all that
 * are available (stats need them), on hybrid only those a resource needs.
 * `needed[i]` names the config path needing want[i], or NULL. */
static size_t
v2_wanted (const struct mr_cgroup *cg, const struct mr_resources *res, const char **want, const char **needed,
           size_t max, char (*keybuf)[32])
{
  size_t n = 0;
  if (cg->host->layout == MR_CGROUP_UNIFIED)
    {
      cleanup_free char *copy = xstrdup (cg->host->v2_controllers);
      char *save = NULL;
      for (char *t = strtok_r (copy, " ", &save); t && n < max; t = strtok_r (NULL, " ", &save))
        {
          for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            if (groups[g].v2 && strcmp (groups[g].v2, t) == 0)
              {
                want[n] = groups[g].v2;
                needed[n] = res ? groups[g].given (res) : NULL;
                n++;
              }
        }
    }
  else
    for (size_t g = 0; res && g < sizeof groups / sizeof groups[0] && n < max; g++)
      if (groups[g].given (res) && strcmp (groups[g].v1, "devices") != 0
          && mr_cg_locate (cg, groups[g].v1, groups[g].v2) == MR_CG_V2)
        {
          want[n] = groups[g].v2;
          needed[n++] = groups[g].given (res);
        }
  /* linux.resources.unified keys name their controller before the dot. */
  for (size_t k = 0, nk = 0; res && k < res->n_unified && n < max; k++)
    {
      const char *key = res->unified[k].key;
      size_t l = strcspn (key, "."), i;
      if (l >= 32 || (l == 6 && strncmp (key, "cgroup", 6) == 0))
        continue;
      for (i = 0; i < n; i++)
        if (strncmp (want[i], key, l) == 0 && want[i][l] == '\0')
          break;
      if (i == n)
        {
          memcpy (keybuf[nk], key, l);
          keybuf[nk][l] = '\0';
          want[n++] = keybuf[nk++];
        }
      needed[i] = "linux.resources.unified";
    }
  return n;
}

/* mkdir -p of `dir` below its base (which exists).  v1 cpuset levels get
 * cpus/mems from their parent; on v2 the parents get `want` enabled. */
static int
make_dirs (const struct mr_cgroup *cg, const char *dir, bool cpuset, const char *const *want,
           const char *const *needed, size_t n_want, struct created *c, bool *existed, mr_error_t *err)
{
  cleanup_free char *p = xstrdup (dir);
  size_t start = base_len (cg, dir);

  for (int attempt = 0;; attempt++)
    {
      char *slash = p + start;
      int ret = 0;
      do
        {
          char saved;
          slash = strchr (slash + 1, '/');
          saved = slash ? *slash : '\0';
          if (slash)
            *slash = '\0';
          /* enable controllers in the parent (p minus its last component) */
          if (n_want)
            {
              char *last = strrchr (p, '/');
              *last = '\0';
              ret = mr_cg_v2_enable (p, want, needed, n_want, err);
              *last = '/';
            }
          if (ret == 0 && mkdir (p, 0755) == 0)
            {
              c->dirs = xrealloc (c->dirs, (c->n + 1) * sizeof *c->dirs);
              c->dirs[c->n++] = xstrdup (p);
              *existed = false;
            }
          else if (ret == 0 && errno == EEXIST)
            *existed = true;
          else if (ret == 0)
            ret = mr_error_set (err, errno, "mkdir `%s`", p);
          if (ret == 0 && cpuset)
            {
              char *last = strrchr (p, '/');
              *last = '\0';
              cleanup_free char *parent = xstrdup (p);
              *last = '/';
              ret = mr_cg_v1_cpuset_init (parent, p, err);
            }
          if (slash)
            *slash = saved;
        }
      while (ret == 0 && slash);
      if (ret == 0)
        return 0;
      /* A concurrent delete may remove a shared parent between two mkdirs. */
      if ((*err)->errno_ != ENOENT || attempt >= 4)
        return -1;
      mr_error_free (err);
    }
}

static int
busy (const char *dir, bool *has, mr_error_t *err)
{
  pid_t *pids = NULL;
  size_t n = 0;
  if (mr_cg_procs_read (dir, &pids, &n, err) < 0)
    return -1;
  free (pids);
  *has = n > 0;
  return 0;
}

int
mr_cgroup_create (const char *path, const struct mr_resources *res, struct mr_cgroup **out, mr_error_t *err)
{
  struct mr_cgroup *cg;
  struct created c = { NULL, 0 };
  const char *want[16], *needed[16];
  char keybuf[16][32];
  size_t n_want;
  bool existed = false, has = false;

  if (resolve (path, &cg, err) < 0)
    return -1;
  if (check (cg, res, err) < 0)
    goto fail;
  n_want = v2_wanted (cg, res, want, needed, 16, keybuf);
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      bool cpuset = mr_cg_list_has (cg->v1[i].h->name, ',', "cpuset");
      if (make_dirs (cg, cg->v1[i].dir, cpuset, NULL, NULL, 0, &c, &existed, err) < 0)
        goto fail;
      if (existed && busy (cg->v1[i].dir, &has, err) < 0)
        goto fail;
      if (has)
        {
          mr_error_set (err, EBUSY, "cgroup `%s` already in use (has processes)", cg->v1[i].dir);
          goto fail;
        }
    }
  if (cg->v2_dir)
    {
      if (make_dirs (cg, cg->v2_dir, false, want, needed, n_want, &c, &existed, err) < 0)
        goto fail;
      if (existed && busy (cg->v2_dir, &has, err) < 0)
        goto fail;
      if (has)
        {
          mr_error_set (err, EBUSY, "cgroup `%s` already in use (has processes)", cg->v2_dir);
          goto fail;
        }
    }
  if (mr_cg_apply (cg, res, false, err) < 0 || open_fds (cg, true, err) < 0)
    goto fail;
  for (size_t i = 0; i < c.n; i++)
    free (c.dirs[i]);
  free (c.dirs);
  *out = cg;
  return 0;

fail:
  rollback (&c);
  mr_error_wrap (err, "create cgroup `%s`", cg->path);
  mr_cgroup_free (cg);
  return -1;
}

/* ---------- joining ---------- */

int
mr_cgroup_child_join (const struct mr_cgroup *cg, mr_error_t *err)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].procs_fd >= 0 && write (cg->v1[i].procs_fd, "0", 1) != 1)
      return mr_error_set (err, errno, "join cgroup `%s`", cg->v1[i].dir);
  return 0;
}

int
mr_cgroup_enter_pid (const struct mr_cgroup *cg, pid_t pid, mr_error_t *err)
{
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%d", (int) pid);
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].procs_fd >= 0 && mr_write_all (cg->v1[i].procs_fd, buf, (size_t) len) < 0)
      return mr_error_set (err, errno, "move pid %d into cgroup `%s`", (int) pid, cg->v1[i].dir);
  if (cg->v2_fd >= 0)
    {
      cleanup_close int fd = openat (cg->v2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || mr_write_all (fd, buf, (size_t) len) < 0)
        return mr_error_set (err, errno, "move pid %d into cgroup `%s`", (int) pid, cg->v2_dir);
    }
  return 0;
}

/* ---------- destroy ---------- */

static long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Remove the sub-cgroups of `dir` (made by the container); *had says if any. */
static int remove_tree (const char *dir, long deadline, mr_error_t *err);
static int
remove_children (const char *dir, long deadline, bool *had, mr_error_t *err)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int ret = 0;
  *had = false;
  if (d == NULL)
    return errno == ENOENT ? 0 : mr_error_set (err, errno, "open `%s`", dir);
  while (ret == 0 && (e = readdir (d)))
    if (e->d_type == DT_DIR && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        cleanup_free char *sub = xasprintf ("%s/%s", dir, e->d_name);
        *had = true;
        ret = remove_tree (sub, deadline, err);
      }
  closedir (d);
  return ret;
}

/* rmdir `dir` and its sub-cgroups (depth first), retrying EBUSY (cgroupfs'
 * answer both for "has processes" and "has children") until `deadline`. */
static int
remove_tree (const char *dir, long deadline, mr_error_t *err)
{
  for (;;)
    {
      bool had = false;
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY && errno != ENOTEMPTY)
        return mr_error_set (err, errno, "remove cgroup `%s`", dir);
      if (remove_children (dir, deadline, &had, err) < 0)
        return -1;
      if (had)
        continue;
      if (now_ms () > deadline)
        return mr_error_set (err, EBUSY, "remove cgroup `%s` (it still has processes)", dir);
      usleep (5000);
    }
}

/* Remove now-empty ancestors below the base (hierarchy root or our own cgroup). */
static void
remove_parents (const struct mr_cgroup *cg, const char *dir, const char *own_dir)
{
  cleanup_free char *p = xstrdup (dir);
  size_t base = base_len (cg, dir);
  char *slash;
  while ((slash = strrchr (p, '/')) && (size_t) (slash - p) > base)
    {
      *slash = '\0';
      if (own_dir && strcmp (p, own_dir) == 0)
        break;
      if (rmdir (p) < 0 && errno != ENOENT)
        break; /* ENOTEMPTY/EBUSY: shared with other containers */
    }
}

int
mr_cgroup_destroy (struct mr_cgroup *cg, mr_error_t *err)
{
  long deadline = now_ms () + 1000;
  int ret = 0;
  mr_error_t first = NULL;

  for (size_t i = 0; i < cg->n_v1; i++)
    {
      if (cg->v1[i].procs_fd >= 0)
        close (cg->v1[i].procs_fd);
      cg->v1[i].procs_fd = -1;
    }
  if (cg->v2_fd >= 0)
    close (cg->v2_fd);
  cg->v2_fd = -1;
  for (size_t i = 0; i <= cg->n_v1; i++)
    {
      const char *dir = i < cg->n_v1 ? cg->v1[i].dir : cg->v2_dir;
      mr_error_t e = NULL;
      if (dir == NULL)
        continue;
      if (remove_tree (dir, deadline, &e) < 0)
        {
          ret = -1;
          if (first == NULL)
            first = e;
          else
            mr_error_free (&e);
          continue;
        }
      cleanup_free char *own = NULL;
      if (cg->path[0] == '/')
        own = i < cg->n_v1 ? xasprintf ("%s%s", cg->v1[i].h->mount, cg->v1[i].h->own)
                           : xasprintf ("%s%s", cg->host->v2_mount, cg->host->v2_own);
      remove_parents (cg, dir, own);
    }
  if (ret < 0)
    {
      *err = first;
      return mr_error_wrap (err, "destroy cgroup `%s`", cg->path);
    }
  return 0;
}

/* ---------- freeze, kill, pids, stats ---------- */

int
mr_cgroup_freeze (struct mr_cgroup *cg, bool frozen, mr_error_t *err)
{
  /* On hybrid hosts the v1 freezer is preferred: every process joins it
   * (mr_cgroup_child_join), while the v2 directory only holds processes
   * started with CLONE_INTO_CGROUP. */
  int i = mr_cg_locate (cg, "freezer", NULL);
  if (i >= 0)
    return mr_cg_v1_freeze (cg->v1[i].dir, frozen, err);
  if (cg->v2_dir)
    return mr_cg_v2_freeze (cg->v2_dir, frozen, err);
  return mr_error_set (err, 0, "%s cgroup `%s`: no freezer (no v1 freezer hierarchy and no cgroup v2)",
                       frozen ? "freeze" : "thaw", cg->path);
}

int
mr_cgroup_is_frozen (const struct mr_cgroup *cg, bool *frozen, mr_error_t *err)
{
  cleanup_free char *s = NULL;
  int i = mr_cg_locate (cg, "freezer", NULL);
  if (i >= 0)
    {
      if (mr_cg_read (cg->v1[i].dir, "freezer.state", &s, err) < 0)
        return -1;
      *frozen = strncmp (s, "FROZEN", 6) == 0;
      return 0;
    }
  if (cg->v2_dir == NULL)
    return mr_error_set (err, 0, "cgroup `%s`: no freezer", cg->path);
  if (mr_cg_read (cg->v2_dir, "cgroup.events", &s, err) < 0)
    return -1;
  *frozen = mr_cg_kv (s, "frozen", 0) == 1;
  return 0;
}

/* The directory whose cgroup.procs lists the container's processes. */
static const char *
procs_dir (const struct mr_cgroup *cg)
{
  static const char *const pref[] = { "pids", "memory", "freezer", "name=systemd", "devices", "cpu", NULL };
  if (cg->host->layout == MR_CGROUP_UNIFIED)
    return cg->v2_dir;
  for (size_t k = 0; pref[k]; k++)
    {
      int i = mr_cg_locate (cg, pref[k], NULL);
      if (i >= 0)
        return cg->v1[i].dir;
    }
  return cg->n_v1 ? cg->v1[0].dir : cg->v2_dir;
}

int
mr_cgroup_pids (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err)
{
  return mr_cg_procs_read (procs_dir (cg), pids, n, err);
}

/* kill --all.  Signalling pids read from cgroup.procs races with pid reuse:
 * a process may exit and its pid be reused by an unrelated process before
 * kill() runs, and a process may fork a child we never see.  For SIGKILL the
 * window is closed: on a pure v2 host cgroup.kill does it in the kernel;
 * elsewhere (as runc does) the cgroup is frozen (nothing exits or forks while
 * frozen), signalled, and thawed, which lets the SIGKILLs take effect.  On a
 * hybrid host the v1 freezer is used rather than the unified cgroup.kill:
 * every process joins v1, only CLONE_INTO_CGROUP children are in the unified
 * directory.  Other signals keep the (small) race. */
int
mr_cgroup_kill (struct mr_cgroup *cg, int sig, mr_error_t *err)
{
  bool done = false, frozen = false;
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = 0;

  if (sig == SIGKILL && cg->host->layout == MR_CGROUP_UNIFIED)
    {
      if (mr_cg_v2_kill (cg->v2_dir, &done, err) < 0)
        return -1;
      if (done)
        return 0;
    }
  if (sig == SIGKILL)
    {
      mr_error_t ferr = NULL;
      frozen = mr_cgroup_freeze (cg, true, &ferr) == 0;
      if (!frozen)
        {
          mr_log_debug ("kill: cannot freeze `%s` first: %s", cg->path, ferr->msg);
          mr_error_free (&ferr);
        }
    }
  if (mr_cgroup_pids (cg, &pids, &n, err) < 0)
    ret = -1;
  for (size_t i = 0; ret == 0 && i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      ret = mr_error_set (err, errno, "kill pid %d (cgroup `%s`) with signal %d", (int) pids[i], cg->path,
                          sig);
  free (pids);
  if (frozen)
    {
      mr_error_t terr = NULL;
      if (mr_cgroup_freeze (cg, false, &terr) < 0)
        {
          if (ret == 0)
            *err = terr;
          else
            mr_error_free (&terr);
          ret = -1;
        }
    }
  return ret;
}

int
mr_cgroup_stats (const struct mr_cgroup *cg, struct mr_cgroup_stats *out, mr_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (cg->v2_dir)
    mr_cg_v2_stats (cg, out);
  if (cg->n_v1)
    mr_cg_v1_stats (cg, out);
  return 0;
}

/* ---------- file helpers shared by the drivers ---------- */

int
mr_cg_write (const char *dir, const char *file, const char *value, const char *cfg, mr_error_t *err)
{
  char path[PATH_MAX];
  cleanup_close int fd = -1;
  snprintf (path, sizeof path, "%s/%s", dir, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && cfg)
    return mr_error_set (err, 0, "%s: `%s` is not available in `%s` (the kernel or controller lacks it)", cfg,
                         file, dir);
  if (fd < 0)
    return mr_error_set (err, errno, "%s%sopen `%s`", cfg ? cfg : "", cfg ? ": " : "", path);
  if (mr_write_all (fd, value, strlen (value)) < 0)
    return mr_error_set (err, errno, "%s%swrite `%s` to `%s`", cfg ? cfg : "", cfg ? ": " : "", value, path);
  return 0;
}

int
mr_cg_writef (const char *dir, const char *file, const char *cfg, mr_error_t *err, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  return mr_cg_write (dir, file, buf, cfg, err);
}

int
mr_cg_read (const char *dir, const char *file, char **out, mr_error_t *err)
{
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  return mr_read_file_at (AT_FDCWD, path, 1 << 20, out, NULL, err);
}

bool
mr_cg_exists (const char *dir, const char *file)
{
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

uint64_t
mr_cg_kv (const char *text, const char *key, uint64_t def)
{
  size_t n = strlen (key);
  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, key, n) == 0 && p[n] == ' ')
      return strtoull (p + n + 1, NULL, 10);
  return def;
}

uint64_t
mr_cg_read_u64 (const char *dir, const char *file)
{
  cleanup_free char *s = NULL;
  mr_error_t err = NULL;
  if (mr_cg_read (dir, file, &s, &err) < 0)
    {
      mr_error_free (&err);
      return 0;
    }
  return strncmp (s, "max", 3) == 0 ? 0 : strtoull (s, NULL, 10);
}

int
mr_cg_procs_read (const char *dir, pid_t **pids, size_t *n, mr_error_t *err)
{
  cleanup_free char *s = NULL;
  size_t cnt = 0;
  pid_t *v = NULL;
  *pids = NULL;
  *n = 0;
  if (dir == NULL)
    return 0;
  if (mr_cg_read (dir, "cgroup.procs", &s, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err); /* the cgroup is gone: no processes */
      return 0;
    }
  for (char *p = s, *end; *p; p = end)
    {
      long pid = strtol (p, &end, 10);
      if (end == p)
        break;
      v = xrealloc (v, (cnt + 1) * sizeof *v);
      v[cnt++] = (pid_t) pid;
    }
  *pids = v;
  *n = cnt;
  return 0;
}

int
mr_cg_wait_file (const char *dir, const char *file, const char *key, const char *want, int timeout_ms,
                 mr_error_t *err)
{
  long deadline = now_ms () + timeout_ms;
  for (;;)
    {
      cleanup_free char *s = NULL;
      bool ok;
      if (mr_cg_read (dir, file, &s, err) < 0)
        return -1;
      if (key)
        ok = mr_cg_kv (s, key, UINT64_MAX) == strtoull (want, NULL, 10);
      else
        ok = strncmp (s, want, strlen (want)) == 0 && (s[strlen (want)] == '\n' || s[strlen (want)] == '\0');
      if (ok)
        return 0;
      if (now_ms () > deadline)
        {
          s[strcspn (s, "\n")] = '\0';
          return mr_error_set (err, ETIMEDOUT, "`%s/%s` did not reach `%s%s%s` within %d ms (last `%.64s`)",
                               dir, file, key ? key : "", key ? " " : "", want, timeout_ms, s);
        }
      usleep (1000);
    }
}

size_t
mr_cg_hugepage_sizes (char (*names)[16], size_t max)
{
  DIR *d = opendir ("/sys/kernel/mm/hugepages");
  struct dirent *e;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir (d)) && n < max)
    {
      unsigned int kb;
      if (sscanf (e->d_name, "hugepages-%ukB", &kb) != 1)
        continue;
      if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
        snprintf (names[n++], 16, "%uGB", kb / (1024 * 1024));
      else if (kb >= 1024 && kb % 1024 == 0)
        snprintf (names[n++], 16, "%uMB", kb / 1024);
      else
        snprintf (names[n++], 16, "%uKB", kb);
    }
  closedir (d);
  return n;
}
