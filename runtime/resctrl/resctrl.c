/* resctrl.c: linux.intelRdt through the resctrl filesystem (see resctrl.h).
 * Owns the group's lifetime (mkdir/rmdir), its schemata and tasks, the
 * monitoring group, and the record of what minirun made. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/utils.h"
#include "resctrl/resctrl.h"

char *
mr_rdt_mountpoint (void)
{
  cleanup_file FILE *f = fopen ("/proc/self/mountinfo", "re");
  char *line = NULL, *found = NULL;
  size_t cap = 0;

  if (f == NULL)
    return NULL;
  while (found == NULL && getline (&line, &cap, f) > 0)
    {
      /* "36 25 0:32 / /sys/fs/resctrl rw,relatime shared:1 - resctrl resctrl rw" */
      char *sep = strstr (line, " - "), *save = NULL, *mnt;
      int i = 0;
      if (sep == NULL || strncmp (sep + 3, "resctrl ", 8) != 0)
        continue;
      *sep = '\0';
      for (mnt = strtok_r (line, " ", &save); mnt != NULL && i < 4; mnt = strtok_r (NULL, " ", &save))
        i++;
      if (mnt != NULL && strchr (mnt, '\\') == NULL) /* an escaped (odd) mount point: not ours to guess */
        found = xstrdup (mnt);
    }
  free (line);
  return found;
}

/* The kernel explains a refused write in info/last_cmd_status. */
static void
last_status (const char *root, char *buf, size_t len)
{
  cleanup_free char *path = xasprintf ("%s/info/last_cmd_status", root);
  cleanup_free char *text = NULL;
  mr_error_t ignored = NULL;

  buf[0] = '\0';
  if (mr_read_file_at (AT_FDCWD, path, 4096, &text, NULL, &ignored) < 0)
    {
      mr_error_free (&ignored);
      return;
    }
  text[strcspn (text, "\n")] = '\0';
  if (text[0] != '\0' && strcmp (text, "ok") != 0)
    (void) snprintf (buf, len, " (resctrl: %s)", text);
}

/* Write one schemata line (one write: the kernel parses each on its own)
 * to the group's schemata, opened on first use. */
static int
write_line (const char *root, const char *dir, int *fd, const char *field, const char *line, mr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/schemata", dir);
  cleanup_free char *text = NULL;
  char why[256];

  if (line == NULL)
    return 0;
  if (*fd < 0 && (*fd = open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0)
    return mr_error_set (err, errno, "%s: open `%s`", field, path);
  text = xasprintf ("%s\n", line);
  if (mr_write_all (*fd, text, strlen (text)) < 0)
    {
      int e = errno;
      last_status (root, why, sizeof why);
      return mr_error_set (err, e, "%s: write \"%s\" to `%s`%s", field, line, path, why);
    }
  return 0;
}

static int
has_resource (const char *root, const char *name)
{
  cleanup_free char *p = xasprintf ("%s/info/%s", root, name);
  struct stat st;
  return stat (p, &st) == 0 && S_ISDIR (st.st_mode);
}

static int
write_schemata (const char *root, const struct mr_rdt *g, const struct mr_intel_rdt *cfg, mr_error_t *err)
{
  cleanup_close int fd = -1;

  if (cfg->l3_cache_schema && !has_resource (root, "L3"))
    return mr_error_set (err, 0,
                         "linux.intelRdt.l3CacheSchema: this host has no L3 cache allocation (no %s/info/L3)",
                         root);
  if (cfg->mem_bw_schema && !has_resource (root, "MB"))
    return mr_error_set (err, 0,
                         "linux.intelRdt.memBwSchema: this host has no memory bandwidth allocation (no %s/info/MB)",
                         root);
  if (write_line (root, g->dir, &fd, "linux.intelRdt.l3CacheSchema", cfg->l3_cache_schema, err) < 0
      || write_line (root, g->dir, &fd, "linux.intelRdt.memBwSchema", cfg->mem_bw_schema, err) < 0)
    return -1;
  for (size_t i = 0; i < cfg->n_schemata; i++)
    {
      char field[64];
      (void) snprintf (field, sizeof field, "linux.intelRdt.schemata[%zu]", i);
      if (write_line (root, g->dir, &fd, field, cfg->schemata[i], err) < 0)
        return -1;
    }
  return 0;
}

int
mr_rdt_create (const char *root, const struct mr_intel_rdt *cfg, const char *id, struct mr_rdt *out,
               mr_error_t *err)
{
  struct mr_rdt g = { 0 };
  bool schemata = cfg->l3_cache_schema || cfg->mem_bw_schema || cfg->n_schemata > 0;

  memset (out, 0, sizeof *out);
  if (root == NULL)
    return mr_error_set (err, 0,
                         "linux.intelRdt: this host has no resctrl filesystem mounted (Intel RDT / AMD PQoS): "
                         "mount it (mount -t resctrl resctrl /sys/fs/resctrl) on a CPU that has it, or remove "
                         "linux.intelRdt");
  g.dir = xasprintf ("%s/%s", root, cfg->clos_id ? cfg->clos_id : id);
  if (mkdir (g.dir, 0755) == 0)
    g.created = true;
  else if (errno != EEXIST)
    {
      int e = errno;
      char why[256];
      last_status (root, why, sizeof why);
      mr_error_set (err, e, "linux.intelRdt%s: create the resctrl group `%s`%s", cfg->clos_id ? ".closID" : "",
                    g.dir, why);
      goto fail;
    }
  else if (cfg->clos_id == NULL)
    {
      mr_error_set (err, EEXIST, "linux.intelRdt: the resctrl group `%s` exists already (another container "
                    "of this id?)", g.dir);
      free (g.dir);
      return -1; /* not ours: never remove it */
    }
  if (g.created && cfg->clos_id != NULL && !schemata)
    {
      mr_error_set (err, ENOENT,
                    "linux.intelRdt.closID: the resctrl group `%s` does not exist; with no schemata to write it "
                    "must be made beforehand",
                    g.dir);
      goto fail;
    }
  if (write_schemata (root, &g, cfg, err) < 0)
    goto fail;
  if (cfg->enable_monitoring)
    {
      g.mon_dir = xasprintf ("%s/mon_groups/%s", g.dir, id);
      if (mkdir (g.mon_dir, 0755) < 0)
        {
          int e = errno;
          free (g.mon_dir);
          g.mon_dir = NULL;
          mr_error_set (err, e, "linux.intelRdt.enableMonitoring: create the monitoring group `%s/mon_groups/%s`",
                        g.dir, id);
          goto fail;
        }
    }
  *out = g;
  return 0;

fail:
  {
    mr_error_t ignored = NULL;
    if (mr_rdt_destroy (&g, &ignored) < 0)
      mr_error_free (&ignored);
    mr_rdt_clear (&g);
    return -1;
  }
}

static int
add_task (const char *dir, pid_t pid, mr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/tasks", dir);
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);
  return mr_write_file_at (AT_FDCWD, path, buf, (size_t) n, err);
}

int
mr_rdt_join (const struct mr_rdt *g, pid_t pid, mr_error_t *err)
{
  if (g->dir == NULL)
    return 0;
  if (add_task (g->dir, pid, err) < 0 || (g->mon_dir && add_task (g->mon_dir, pid, err) < 0))
    return mr_error_wrap (err, "linux.intelRdt: move the init into its resctrl group");
  return 0;
}

int
mr_rdt_update (const struct mr_rdt *g, const char *l3, const char *mb, mr_error_t *err)
{
  cleanup_free char *root = NULL;
  cleanup_close int fd = -1;

  if (g->dir == NULL)
    return mr_error_set (err, 0, "the container has no resctrl group (its config has no linux.intelRdt)");
  root = xstrdup (g->dir);
  *strrchr (root, '/') = '\0';
  if (write_line (root, g->dir, &fd, "--l3-cache-schema", l3, err) < 0
      || write_line (root, g->dir, &fd, "--mem-bw-schema", mb, err) < 0)
    return -1;
  return 0;
}

int
mr_rdt_destroy (const struct mr_rdt *g, mr_error_t *err)
{
  if (g->mon_dir && rmdir (g->mon_dir) < 0 && errno != ENOENT)
    return mr_error_set (err, errno, "remove the resctrl monitoring group `%s`", g->mon_dir);
  if (g->dir && g->created && rmdir (g->dir) < 0 && errno != ENOENT)
    return mr_error_set (err, errno, "remove the resctrl group `%s`", g->dir);
  return 0;
}

int
mr_rdt_leave (const struct mr_rdt *g, mr_error_t *err)
{
  cleanup_free char *root = NULL, *tasks = NULL;
  char buf[32];
  int n;

  if (g->dir == NULL)
    return 0;
  root = xstrdup (g->dir);
  *strrchr (root, '/') = '\0';
  tasks = xasprintf ("%s/tasks", root);
  n = snprintf (buf, sizeof buf, "%d", (int) getpid ());
  if (mr_write_file_at (AT_FDCWD, tasks, buf, (size_t) n, err) < 0)
    return mr_error_wrap (err, "linux.intelRdt: move minirun itself back to the root resctrl group");
  return 0;
}

#define RECORD "resctrl"

int
mr_rdt_save (int state_dirfd, const struct mr_rdt *g, mr_error_t *err)
{
  cleanup_free char *rec = mr_rdt_record (g);

  if (rec == NULL)
    return 0;
  if (mr_write_file_atomic (state_dirfd, RECORD, rec, strlen (rec), 0600, err) < 0)
    return mr_error_wrap (err, "record the resctrl group in the state directory");
  return 0;
}

int
mr_rdt_load (int state_dirfd, struct mr_rdt *out, mr_error_t *err)
{
  cleanup_free char *text = NULL;

  memset (out, 0, sizeof *out);
  if (mr_read_file_at (state_dirfd, RECORD, 4096, &text, NULL, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return mr_error_wrap (err, "read the container's resctrl record");
      mr_error_free (err);
      return 0;
    }
  return mr_rdt_parse_record (text, out, err);
}

int
mr_rdt_release_dir (int state_dirfd, mr_error_t *err)
{
  struct mr_rdt g;
  int r;

  if (mr_rdt_load (state_dirfd, &g, err) < 0)
    return -1;
  r = mr_rdt_destroy (&g, err);
  mr_rdt_clear (&g);
  return r;
}

char *
mr_rdt_record (const struct mr_rdt *g)
{
  if (g->dir == NULL)
    return NULL;
  return xasprintf ("%s %s\n%s%s%s", g->created ? "created" : "shared", g->dir, g->mon_dir ? "mon " : "",
                    g->mon_dir ? g->mon_dir : "", g->mon_dir ? "\n" : "");
}

int
mr_rdt_parse_record (const char *text, struct mr_rdt *out, mr_error_t *err)
{
  cleanup_free char *copy = xstrdup (text);
  char *save = NULL;

  memset (out, 0, sizeof *out);
  for (char *line = strtok_r (copy, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      char *sp = strchr (line, ' ');
      if (sp == NULL || sp[1] != '/')
        goto bad;
      *sp = '\0';
      if ((strcmp (line, "created") == 0 || strcmp (line, "shared") == 0) && out->dir == NULL)
        out->dir = xstrdup (sp + 1), out->created = line[0] == 'c';
      else if (strcmp (line, "mon") == 0 && out->mon_dir == NULL)
        out->mon_dir = xstrdup (sp + 1);
      else
        goto bad;
    }
  if (out->dir != NULL)
    return 0;
bad:
  mr_rdt_clear (out);
  return mr_error_set (err, 0, "the resctrl record is corrupt");
}

void
mr_rdt_clear (struct mr_rdt *g)
{
  free (g->dir);
  free (g->mon_dir);
  memset (g, 0, sizeof *g);
}
