/* state.c: the state record: state.json (written atomically, read back
 * tolerantly: a field missing from an older file reads as empty), the status
 * names, the owner recorded at creation, and the OCI state JSON that
 * `state`, the hooks and the seccomp agent receive. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "state/state.h"
#include "base/utils.h"

static const char *const status_names[] = { "creating", "created", "running", "paused", "stopped" };

const char *
mr_status_name (enum mr_status s)
{
  return (unsigned) s < sizeof status_names / sizeof status_names[0] ? status_names[s] : "unknown";
}

static int
status_from_name (const char *s)
{
  for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
    if (strcmp (s, status_names[i]) == 0)
      return (int) i;
  return -1;
}

static json_t *
kv_to_json (const struct mr_kv *kv, size_t n)
{
  json_t *o = json_object ();
  for (size_t i = 0; i < n; i++)
    json_object_set_new (o, kv[i].key, json_string (kv[i].value));
  return o;
}

static json_t *
procs_to_json (const struct mr_state *st)
{
  json_t *arr = json_array ();
  for (size_t i = 0; i < st->n_procs; i++)
    {
      const struct mr_state_proc *p = &st->procs[i];
      json_t *nspid = json_array ();
      for (size_t k = 0; k < p->n_nspid; k++)
        json_array_append_new (nspid, json_integer (p->nspid[k]));
      json_array_append_new (arr, json_pack ("{s:s, s:I, s:s, s:o}", "name", p->name, "pid", (json_int_t) p->host_pid,
                                             "pins", p->pins ? p->pins : "", "nspid", nspid));
    }
  return arr;
}

int
mr_state_write (int dirfd, const struct mr_state *st, mr_error_t *err)
{
  json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:b, s:s, s:o, s:o, s:I, s:I}", "id", st->id,
                         "bundle", st->bundle ? st->bundle : "", "rootfs", st->rootfs ? st->rootfs : "",
                         "cgroupPath", st->cgroup_path ? st->cgroup_path : "", "created",
                         st->created ? st->created : "", "status", mr_status_name (st->status), "pid",
                         (json_int_t) st->pid, "startTime", (json_int_t) st->start_time, "detached",
                         st->detached, "hasPoststopHooks", st->has_poststop_hooks, "owner",
                         st->owner ? st->owner : "", "annotations", kv_to_json (st->annotations, st->n_annotations),
                         "processes", procs_to_json (st), "initExeDev", (json_int_t) st->init_exe_dev, "initExeIno",
                         (json_int_t) st->init_exe_ino);
  cleanup_free char *dump = NULL;

  if (o == NULL)
    return mr_error_set (err, ENOMEM, "encode the state of `%s`", st->id);
  dump = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  if (dump == NULL)
    return mr_error_set (err, ENOMEM, "encode the state of `%s`", st->id);
  if (mr_write_file_atomic (dirfd, "state.json", dump, strlen (dump), 0600, err) < 0)
    {
      char link[64], dir[PATH_MAX];
      ssize_t n;
      (void) snprintf (link, sizeof link, "/proc/self/fd/%d", dirfd);
      n = readlink (link, dir, sizeof dir - 1);
      dir[n > 0 ? n : 0] = '\0';
      return mr_error_wrap (err, "save the state of container `%s` in `%s`", st->id, n > 0 ? dir : "?");
    }
  return 0;
}

static char *
jstr (json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s && *s ? xstrdup (s) : NULL;
}

int
mr_state_read (int dirfd, const char *id, struct mr_state **out, mr_error_t *err)
{
  cleanup_free char *data = NULL;
  json_error_t jerr;
  json_t *o, *v;
  struct mr_state *st;
  const char *key;
  size_t i;
  int status;

  if (mr_read_file_at (dirfd, "state.json", 1 << 20, &data, NULL, err) < 0)
    {
      if ((*err)->errno_ == ENOENT)
        {
          mr_error_free (err);
          return mr_error_set (err, ENOENT, "container `%s` is still being created (no state yet)", id);
        }
      return mr_error_wrap (err, "read the state of container `%s`", id);
    }
  o = json_loads (data, 0, &jerr);
  if (o == NULL || !json_is_object (o))
    {
      json_decref (o);
      return mr_error_set (err, EINVAL,
                           "the state file of container `%s` is corrupt (%s); `minirun delete --force %s` "
                           "removes it",
                           id, jerr.text, id);
    }
  st = xcalloc (1, sizeof *st);
  st->id = jstr (o, "id");
  st->bundle = jstr (o, "bundle");
  st->rootfs = jstr (o, "rootfs");
  st->cgroup_path = jstr (o, "cgroupPath");
  st->created = jstr (o, "created");
  st->owner = jstr (o, "owner");
  st->pid = (pid_t) json_integer_value (json_object_get (o, "pid"));
  st->start_time = (unsigned long long) json_integer_value (json_object_get (o, "startTime"));
  st->detached = json_is_true (json_object_get (o, "detached"));
  st->has_poststop_hooks = json_is_true (json_object_get (o, "hasPoststopHooks"));
  st->init_exe_dev = (uint64_t) json_integer_value (json_object_get (o, "initExeDev"));
  st->init_exe_ino = (uint64_t) json_integer_value (json_object_get (o, "initExeIno"));
  status = status_from_name (json_string_value (json_object_get (o, "status")) ?: "");
  st->status = status < 0 ? MR_STATUS_STOPPED : (enum mr_status) status;
  v = json_object_get (o, "annotations");
  if (json_is_object (v))
    {
      json_t *val;
      st->annotations = xcalloc (json_object_size (v) + 1, sizeof *st->annotations);
      json_object_foreach (v, key, val)
      {
        st->annotations[st->n_annotations].key = xstrdup (key);
        st->annotations[st->n_annotations].value = xstrdup (json_string_value (val) ?: "");
        st->n_annotations++;
      }
    }
  v = json_object_get (o, "processes");
  if (json_is_array (v))
    {
      json_t *p;
      st->procs = xcalloc (json_array_size (v) + 1, sizeof *st->procs);
      json_array_foreach (v, i, p)
      {
        struct mr_state_proc *sp = &st->procs[st->n_procs++];
        json_t *ns = json_object_get (p, "nspid"), *x;
        size_t k;
        sp->name = jstr (p, "name");
        if (sp->name == NULL)
          sp->name = xstrdup ("?");
        sp->pins = jstr (p, "pins");
        sp->host_pid = (pid_t) json_integer_value (json_object_get (p, "pid"));
        json_array_foreach (ns, k, x)
        {
          if (k < sizeof sp->nspid / sizeof sp->nspid[0])
            sp->nspid[sp->n_nspid++] = (pid_t) json_integer_value (x);
        }
      }
    }
  json_decref (o);
  if (st->id == NULL)
    st->id = xstrdup (id);
  *out = st;
  return 0;
}

void
mr_state_free (struct mr_state *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->cgroup_path);
  free (st->created);
  free (st->owner);
  for (size_t i = 0; i < st->n_annotations; i++)
    {
      free (st->annotations[i].key);
      free (st->annotations[i].value);
    }
  free (st->annotations);
  for (size_t i = 0; i < st->n_procs; i++)
    {
      free (st->procs[i].name);
      free (st->procs[i].pins);
    }
  free (st->procs);
  free (st);
}

char *
mr_state_owner (void)
{
  struct passwd pw, *res = NULL;
  char buf[1024];
  uid_t uid = geteuid ();

  if (uid == 0)
    return xstrdup ("root");
#ifdef MINIRUN_STATIC
  /* A static glibc resolves NSS sources other than "files" (systemd, ldap)
   * by loading their modules, and with them a second, shared libc: a crash
   * waiting to happen.  The static build reads /etc/passwd only. */
  {
    FILE *f = fopen ("/etc/passwd", "re");
    char *name = NULL;
    if (f != NULL)
      {
        while (name == NULL && fgetpwent_r (f, &pw, buf, sizeof buf, &res) == 0)
          if (res->pw_uid == uid)
            name = xstrdup (res->pw_name);
        fclose (f);
      }
    if (name != NULL)
      return name;
  }
#else
  if (getpwuid_r (uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
    return xstrdup (res->pw_name);
#endif
  return xasprintf ("%u", (unsigned) uid);
}

char *
mr_state_to_oci_json (const struct mr_state *st, enum mr_status status, bool pretty)
{
  json_t *o = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o}", "ociVersion", MR_OCI_VERSION, "id", st->id,
                         "status", mr_status_name (status), "pid",
                         (json_int_t) (status == MR_STATUS_STOPPED ? 0 : st->pid), "bundle",
                         st->bundle ? st->bundle : "", "rootfs", st->rootfs ? st->rootfs : "", "created",
                         st->created ? st->created : "", "owner", st->owner ? st->owner : "", "annotations",
                         kv_to_json (st->annotations, st->n_annotations));
  char *dump;

  if (o == NULL)
    return NULL;
  if (st->n_procs > 0)
    json_object_set_new (o, "minirun", json_pack ("{s:o}", "processes", procs_to_json (st)));
  dump = json_dumps (o, pretty ? JSON_INDENT (2) : JSON_COMPACT);
  json_decref (o);
  return dump;
}

