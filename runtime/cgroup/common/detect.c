/* common/detect.c: the host's cgroup layout, detected once per process and
 * cached: statfs of the cgroup root (cgroup2: unified; a tmpfs: legacy, or
 * hybrid when a cgroup2 is mounted at <root>/unified), this process's own
 * cgroups from /proc/self/cgroup, and the v1 hierarchies mounted directly
 * below the root with their controllers and mount options from
 * /proc/self/mountinfo.  Unit tests may detect below another root (mr_cg_host_set_root). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "cgroup/common/host.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/utils.h"

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

static char *root_override;

void
mr_cg_host_reset (void)
{
  host_free (host_cache);
  host_cache = NULL;
}

void
mr_cg_host_set_root (const char *root)
{
  mr_cg_host_reset ();
  free (root_override);
  root_override = root ? xstrdup (root) : NULL;
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
          *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
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
      super = p ? p : (char *)"";
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
      struct mr_cg_host *h = xcalloc (1, sizeof *h);
      h->root = xstrdup (root_override ? root_override : "/sys/fs/cgroup");
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
  const struct mr_cg_host *h = NULL;
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
