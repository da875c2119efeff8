/* criu_image.c: minirun's own record in a checkpoint image (minirun.json):
 * the container it came from (id, bundle, rootfs, cgroup, pid namespace
 * mode), the fingerprint of its config that a restoring bundle must match,
 * where the init's stdio pointed, and every process with its pids at every
 * level (NSpid) and, for the planned ones, the name and pins they were
 * created with.  CRIU's images say how to recreate the processes; this says
 * which container they are, so that `restore` can check a bundle and the
 * pins before it changes anything, and write the new state entry after. */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/utils.h"
#include "cgroup/cgroup.h"
#include "ops/criu.h"

/* ---------- fingerprint ---------- */

static void
add (char ***v, size_t *n, const char *field, char *value)
{
  *v = xrealloc (*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xasprintf ("%s\t%s", field, value);
  (*v)[*n] = NULL;
  free (value);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* A JSON array of the strings; sorted when their order does not matter
 * (a bundle written again, as podman's --import does, may list them in
 * another order). */
static char *
join_json (char **items, size_t n, bool sorted)
{
  char **v = xcalloc (n + 1, sizeof *v);
  json_t *a = json_array ();
  char *s;

  memcpy (v, items, n * sizeof *v);
  if (sorted && n > 1)
    qsort (v, n, sizeof *v, cmp_str);
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  free (v);
  s = json_dumps (a, JSON_COMPACT);
  json_decref (a);
  return s ? s : xstrdup ("[]");
}

char **
mr_criu_fingerprint (const struct mr_config *c)
{
  char **v = NULL;
  size_t n = 0;
  FILE *f;
  char *buf = NULL;
  size_t len = 0;

  add (&v, &n, "process.args", join_json (c->process.args, c->process.n_args, false));
  add (&v, &n, "process.cwd", xstrdup (c->process.cwd ? c->process.cwd : "/"));
  add (&v, &n, "process.user",
       xasprintf ("%u:%u", (unsigned)c->process.user.uid, (unsigned)c->process.user.gid));
  add (&v, &n, "process.terminal", xstrdup (c->process.terminal ? "true" : "false"));
  add (&v, &n, "root.readonly", xstrdup (c->root_readonly ? "true" : "false"));

  f = open_memstream (&buf, &len);
  if (f == NULL)
    abort ();
  for (int t = 0; t < MR_NS_COUNT; t++)
    if (c->namespaces[t].present)
      fprintf (f, "%s%s (%s)", ftell (f) ? ", " : "", mr_ns_type_name (t),
               c->namespaces[t].path ? "joined" : "new");
  (void)fclose (f);
  add (&v, &n, "linux.namespaces", buf);

  {
    char **m = xcalloc (c->n_mounts + 1, sizeof *m);
    for (size_t i = 0; i < c->n_mounts; i++)
      m[i] = xasprintf ("%s (%s)", c->mounts[i].destination,
                        c->mounts[i].bind ? "bind" : (c->mounts[i].type ? c->mounts[i].type : "?"));
    add (&v, &n, "mounts", join_json (m, c->n_mounts, true));
    mr_strv_free (m);
  }
  add (&v, &n, "linux.maskedPaths", join_json (c->masked_paths, c->n_masked_paths, true));
  add (&v, &n, "linux.readonlyPaths", join_json (c->readonly_paths, c->n_readonly_paths, true));

  buf = NULL;
  f = open_memstream (&buf, &len);
  if (f == NULL)
    abort ();
  for (size_t i = 0; i < c->pins.n_processes; i++)
    {
      const struct mr_proc_spec *p = &c->pins.processes[i];
      fprintf (f, "%s%s (parent %s, pid namespace %s)", i ? ", " : "", p->name,
               p->parent ? p->parent : "init", p->pid_ns ? p->pid_ns : "container");
    }
  (void)fclose (f);
  add (&v, &n, "minirun.processes", buf);
  return v;
}

int
mr_criu_fingerprint_compare (char **image, char **bundle, const char *image_bundle, const char *bundle_path,
                             mr_error_t *err)
{
  for (size_t i = 0; image && image[i]; i++)
    {
      size_t flen = strcspn (image[i], "\t");
      const char *mine = NULL;
      for (size_t k = 0; bundle && bundle[k]; k++)
        if (strncmp (bundle[k], image[i], flen + 1) == 0)
          mine = bundle[k] + flen + 1;
      if (mine == NULL || strcmp (mine, image[i] + flen + 1) == 0)
        continue;
      return mr_error_set (
          err, 0,
          "the image is of another container: its %.*s: `%s` (bundle `%s`), but the config of "
          "bundle `%s` says `%s`; restore with the bundle the container was checkpointed from",
          (int)flen, image[i], image[i] + flen + 1, image_bundle ? image_bundle : "?", bundle_path, mine);
    }
  return 0;
}

/* ---------- the record ---------- */

static json_t *
jstr_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

int
mr_criu_record_write (int image_fd, const struct mr_criu_record *r, mr_error_t *err)
{
  json_t *o, *procs = json_array (), *fp = json_array (), *stdio = json_array ();
  cleanup_free char *dump = NULL;

  for (size_t i = 0; r->fingerprint && r->fingerprint[i]; i++)
    json_array_append_new (fp, json_string (r->fingerprint[i]));
  for (int i = 0; i < 3; i++)
    json_array_append_new (stdio, r->stdio[i] ? json_pack ("{s:s, s:o, s:I, s:I}", "key", r->stdio[i], "path",
                                                           jstr_or_null (r->stdio_path[i]), "type",
                                                           (json_int_t)r->stdio_type[i], "flags",
                                                           (json_int_t)r->stdio_flags[i])
                                              : json_null ());
  for (size_t i = 0; i < r->n_procs; i++)
    {
      const struct mr_criu_proc *p = &r->procs[i];
      json_t *ns = json_array ();
      for (size_t k = 0; k < p->n_nspid; k++)
        json_array_append_new (ns, json_integer (p->nspid[k]));
      json_array_append_new (procs,
                             json_pack ("{s:o, s:o, s:I, s:I, s:o, s:I}", "name", jstr_or_null (p->name),
                                        "pins", jstr_or_null (p->pins), "pid", (json_int_t)p->pid, "ppid",
                                        (json_int_t)p->ppid, "nspid", ns, "pidns", (json_int_t)p->pidns));
    }
  o = json_pack ("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:b, s:o, s:o, s:o}", "version", 1, "minirun",
                 MINIRUN_VERSION, "id", jstr_or_null (r->id), "bundle", jstr_or_null (r->bundle), "rootfs",
                 jstr_or_null (r->rootfs), "cgroupPath", jstr_or_null (r->cgroup_path), "created",
                 jstr_or_null (r->created), "pidNamespace", r->pidns ? r->pidns : "new", "terminal",
                 r->terminal, "paused", r->paused, "stdio", stdio, "fingerprint", fp, "processes", procs);
  if (o == NULL)
    return mr_error_set (err, ENOMEM, "encode %s", MR_CRIU_RECORD);
  dump = json_dumps (o, JSON_INDENT (2));
  json_decref (o);
  if (dump == NULL)
    return mr_error_set (err, ENOMEM, "encode %s", MR_CRIU_RECORD);
  if (mr_write_file_atomic (image_fd, MR_CRIU_RECORD, dump, strlen (dump), 0600, err) < 0)
    return mr_error_wrap (err, "write %s in the image directory", MR_CRIU_RECORD);
  return 0;
}

static char *
jdup (json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s ? xstrdup (s) : NULL;
}

int
mr_criu_record_read (int image_fd, const char *image_path, struct mr_criu_record **out, mr_error_t *err)
{
  cleanup_free char *data = NULL;
  struct mr_criu_record *r;
  json_error_t jerr;
  json_t *o, *a, *x;
  size_t i;
  struct stat st;

  if (fstatat (image_fd, "inventory.img", &st, 0) < 0)
    return mr_error_set (
        err, errno == ENOENT ? ENOENT : errno,
        "--image-path `%s` holds no CRIU checkpoint (no inventory.img)%s", image_path,
        errno == ENOENT ? ": checkpoint into it first (minirun checkpoint --image-path DIR ID)" : "");
  if (mr_read_file_at (image_fd, MR_CRIU_RECORD, 16 << 20, &data, NULL, err) < 0)
    {
      if ((*err)->errno_ == ENOENT)
        {
          mr_error_free (err);
          return mr_error_set (
              err, ENOENT,
              "--image-path `%s` was not made by `minirun checkpoint` (no %s): minirun restores "
              "only its own checkpoints, whose record says which container and pins they hold",
              image_path, MR_CRIU_RECORD);
        }
      return mr_error_wrap (err, "--image-path `%s`", image_path);
    }
  o = json_loads (data, 0, &jerr);
  if (o == NULL || !json_is_object (o) || !json_is_array (json_object_get (o, "processes"))
      || json_array_size (json_object_get (o, "processes")) == 0)
    {
      json_decref (o);
      return mr_error_set (err, EINVAL, "--image-path `%s`: %s is corrupt (%s)", image_path, MR_CRIU_RECORD,
                           o ? "no processes" : jerr.text);
    }
  r = xcalloc (1, sizeof *r);
  r->id = jdup (o, "id");
  r->bundle = jdup (o, "bundle");
  r->rootfs = jdup (o, "rootfs");
  r->cgroup_path = jdup (o, "cgroupPath");
  r->created = jdup (o, "created");
  r->pidns = jdup (o, "pidNamespace");
  r->terminal = json_is_true (json_object_get (o, "terminal"));
  r->paused = json_is_true (json_object_get (o, "paused"));
  a = json_object_get (o, "stdio");
  for (i = 0; i < 3 && json_is_array (a); i++)
    {
      json_t *e = json_array_get (a, i);
      if (!json_is_object (e) || !json_is_string (json_object_get (e, "key")))
        continue;
      r->stdio[i] = jdup (e, "key");
      r->stdio_path[i] = jdup (e, "path");
      r->stdio_type[i] = (unsigned)json_integer_value (json_object_get (e, "type"));
      r->stdio_flags[i] = (int)json_integer_value (json_object_get (e, "flags"));
    }
  a = json_object_get (o, "fingerprint");
  r->fingerprint = xcalloc (json_array_size (a) + 1, sizeof *r->fingerprint);
  json_array_foreach (a, i, x)
  {
    if (json_is_string (x))
      r->fingerprint[i] = xstrdup (json_string_value (x));
    else
      r->fingerprint[i] = xstrdup ("?\t?");
  }
  a = json_object_get (o, "processes");
  r->procs = xcalloc (json_array_size (a), sizeof *r->procs);
  json_array_foreach (a, i, x)
  {
    struct mr_criu_proc *p = &r->procs[r->n_procs++];
    json_t *ns = json_object_get (x, "nspid"), *y;
    size_t k;
    p->name = jdup (x, "name");
    p->pins = jdup (x, "pins");
    p->pid = (pid_t)json_integer_value (json_object_get (x, "pid"));
    p->ppid = (pid_t)json_integer_value (json_object_get (x, "ppid"));
    p->pidns = (unsigned long long)json_integer_value (json_object_get (x, "pidns"));
    json_array_foreach (ns, k, y)
    {
      if (p->n_nspid < MR_CRIU_MAX_LEVELS)
        p->nspid[p->n_nspid++] = (pid_t)json_integer_value (y);
    }
    if (p->pid <= 0 || p->n_nspid == 0)
      {
        json_decref (o);
        mr_criu_record_free (r);
        return mr_error_set (err, EINVAL, "--image-path `%s`: %s is corrupt (processes[%zu] has no pid)",
                             image_path, MR_CRIU_RECORD, i);
      }
  }
  json_decref (o);
  *out = r;
  return 0;
}

void
mr_criu_procs_free (struct mr_criu_proc *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].name);
      free (v[i].pins);
    }
  free (v);
}

void
mr_criu_record_free (struct mr_criu_record *r)
{
  if (r == NULL)
    return;
  free (r->id);
  free (r->bundle);
  free (r->rootfs);
  free (r->cgroup_path);
  free (r->created);
  free (r->pidns);
  for (int i = 0; i < 3; i++)
    {
      free (r->stdio[i]);
      free (r->stdio_path[i]);
    }
  mr_strv_free (r->fingerprint);
  mr_criu_procs_free (r->procs, r->n_procs);
  free (r);
}

/* ---------- the live processes ---------- */

static bool
read_one (pid_t pid, struct mr_criu_proc *p)
{
  char path[64];
  cleanup_free char *status = NULL;
  mr_error_t e = NULL;
  struct stat st;
  char *line;

  memset (p, 0, sizeof *p);
  p->pid = pid;
  (void)snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &status, NULL, &e) < 0)
    {
      mr_error_free (&e);
      return false;
    }
  if ((line = strstr (status, "\nPPid:")))
    p->ppid = (pid_t)strtol (line + 6, NULL, 10);
  if ((line = strstr (status, "\nNSpid:")))
    {
      char *q = line + 7, *end;
      while (p->n_nspid < MR_CRIU_MAX_LEVELS)
        {
          long v = strtol (q, &end, 10);
          if (end == q)
            break;
          p->nspid[p->n_nspid++] = (pid_t)v;
          q = end;
        }
    }
  (void)snprintf (path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  if (stat (path, &st) < 0 || p->n_nspid == 0)
    return false;
  p->pidns = (unsigned long long)st.st_ino;
  return true;
}

int
mr_criu_procs_collect (const struct mr_state *st, struct mr_criu_proc **out, size_t *n_out, mr_error_t *err)
{
  pid_t *pids = NULL;
  size_t n = 0, k = 1;
  struct mr_criu_proc *v;

  if (st->cgroup_path == NULL)
    return mr_error_set (err, ENOTSUP,
                         "container `%s` has no cgroup: minirun checkpoints a container's processes "
                         "through its cgroup",
                         st->id);
  {
    struct mr_cgroup *cg = NULL;
    int r = mr_cgroup_open (st->cgroup_path, &cg, err);
    if (r == 0)
      r = mr_cgroup_pids (cg, &pids, &n, err);
    mr_cgroup_free (cg);
    if (r < 0)
      return mr_error_wrap (err, "list the processes of `%s`", st->id);
  }
  v = xcalloc (n + 2, sizeof *v);
  if (!read_one (st->pid, &v[0]))
    {
      free (pids);
      free (v);
      return mr_error_set (err, ESRCH, "container `%s`: its init (pid %d) is gone", st->id, (int)st->pid);
    }
  for (size_t i = 0; i < n; i++)
    if (pids[i] != st->pid && read_one (pids[i], &v[k]))
      k++;
  free (pids);
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < st->n_procs; j++)
      if (st->procs[j].host_pid == v[i].pid)
        {
          v[i].name = xstrdup (st->procs[j].name);
          v[i].pins = st->procs[j].pins ? xstrdup (st->procs[j].pins) : NULL;
        }
  *out = v;
  *n_out = k;
  return 0;
}
#endif
