/* state.c: the per-container state directory: creation, locking, the state
 * file (atomic writes), status derivation and the OCI state JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "state/state.h"
#include "base/syscalls.h"
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

int
mr_id_validate (const char *id, mr_error_t *err)
{
  size_t len;

  if (id == NULL || *id == '\0')
    return mr_error_set (err, 0, "container id is empty");
  len = strlen (id);
  if (len > MR_ID_MAX)
    return mr_error_set (err, 0, "container id is %zu bytes long, at most %d are allowed", len, MR_ID_MAX);
  for (const char *p = id; *p; p++)
    {
      bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
      if (!ok && p != id && strchr ("_.+-", *p))
        ok = true;
      if (!ok)
        return mr_error_set (err, 0,
                             "invalid container id `%s`: use letters, digits and _ . + - (not first), "
                             "no `/`",
                             id);
    }
  return 0;
}

char *
mr_id_from_bundle (const char *bundle)
{
  cleanup_free char *copy = xstrdup (bundle);
  char base[64] = "";
  size_t len = strlen (copy), o = 0;
  uint32_t rnd = 0;
  const char *b;

  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  b = strrchr (copy, '/');
  b = b ? b + 1 : copy;
  for (; *b && o < 40; b++)
    {
      char c = *b;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || (o > 0 && strchr ("_.+-", c));
      if (ok)
        base[o++] = c;
    }
  base[o] = '\0';
  if (getrandom (&rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
    rnd = (uint32_t) getpid () ^ (uint32_t) (uintptr_t) &rnd;
  return xasprintf ("%s%s%08x", o ? base : "", o ? "-" : "bundle-", rnd);
}

static int
lock_dir (int fd, bool exclusive, const char *id, mr_error_t *err)
{
  int r;
  do
    r = flock (fd, exclusive ? LOCK_EX : LOCK_SH);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return mr_error_set (err, errno, "lock the state of container `%s`", id);
  return 0;
}

int
mr_state_dir_create (const char *root, const char *id, mr_error_t *err)
{
  cleanup_close int rootfd = -1;
  char tmp[64];
  uint32_t rnd = 0;
  int fd;

  if (mr_id_validate (id, err) < 0)
    return -1;
  if (mkdir (root, 0700) < 0 && errno != EEXIST && mr_mkdir_p (root, 0700, err) < 0)
    return mr_error_wrap (err, "create the state root `%s` (choose another with --root)", root);
  rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return mr_error_set (err, errno, "open the state root `%s`", root);

  /* The directory appears under its id only once it is locked: made under a
   * hidden name, locked, then renamed into place (RENAME_NOREPLACE), so no
   * other command ever sees an unlocked, empty one. */
  if (getrandom (&rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
    rnd = (uint32_t) (uintptr_t) &rnd;
  snprintf (tmp, sizeof tmp, ".new.%d.%08x", (int) getpid (), rnd);
  if (mkdirat (rootfd, tmp, 0700) < 0)
    return mr_error_set (err, errno, "create the state directory `%s/%s`", root, id);
  fd = openat (rootfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || lock_dir (fd, true, id, err) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      unlinkat (rootfd, tmp, AT_REMOVEDIR);
      return err && *err ? -1 : mr_error_set (err, e, "open the state directory `%s/%s`", root, tmp);
    }
  if (renameat2 (rootfd, tmp, rootfd, id, RENAME_NOREPLACE) < 0)
    {
      int e = errno;
      close (fd);
      unlinkat (rootfd, tmp, AT_REMOVEDIR);
      if (e == EEXIST || e == ENOTEMPTY)
        return mr_error_set (err, EEXIST, "container `%s` already exists (state in %s/%s)", id, root, id);
      return mr_error_set (err, e, "create the state directory `%s/%s`", root, id);
    }
  return fd;
}

int
mr_state_dir_open (const char *root, const char *id, bool exclusive, mr_error_t *err)
{
  cleanup_free char *path = NULL;
  int fd;

  if (mr_id_validate (id, err) < 0)
    return -1;
  path = xasprintf ("%s/%s", root, id);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return mr_error_set (err, ENOENT, "container `%s` does not exist", id);
      return mr_error_set (err, errno, "open the state directory `%s`", path);
    }
  if (lock_dir (fd, exclusive, id, err) < 0)
    {
      close (fd);
      return -1;
    }
  {
    /* deleted while we waited for the lock */
    struct stat st;
    if (fstat (fd, &st) == 0 && st.st_nlink == 0)
      {
        close (fd);
        return mr_error_set (err, ENOENT, "container `%s` does not exist", id);
      }
  }
  return fd;
}

int
mr_state_dir_peek (const char *root, const char *id, mr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, id);
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return mr_error_set (err, errno, errno == ENOENT ? "container `%s` does not exist" : "open `%s`",
                         errno == ENOENT ? id : path);
  return fd;
}

int
mr_state_dir_remove (const char *root, const char *id, int dirfd, mr_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", root, id);
  struct stat mine, there;
  DIR *d;
  struct dirent *de;
  int fd;

  /* Only the directory we hold: after a race its id may name another one. */
  if (fstat (dirfd, &mine) < 0)
    return mr_error_set (err, errno, "stat the state directory of `%s`", id);
  if (stat (path, &there) < 0)
    return errno == ENOENT ? 0 : mr_error_set (err, errno, "stat `%s`", path);
  if (there.st_ino != mine.st_ino || there.st_dev != mine.st_dev)
    return 0;
  fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mr_error_set (err, errno, "read the state directory `%s`", path);
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return mr_error_set (err, errno, "read the state directory `%s`", path);
    }
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (dirfd, de->d_name, 0) < 0 && errno != ENOENT)
        {
          int e = errno;
          closedir (d);
          return mr_error_set (err, e, "remove `%s/%s`", path, de->d_name);
        }
    }
  closedir (d);
  if (rmdir (path) < 0 && errno != ENOENT)
    return mr_error_set (err, errno, "remove the state directory `%s`", path);
  return 0;
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
      snprintf (link, sizeof link, "/proc/self/fd/%d", dirfd);
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


unsigned long long
mr_proc_start_time (pid_t pid)
{
  struct mr_proc_stat ps;
  return mr_proc_stat_read (pid, &ps) ? ps.start_time : 0;
}


int
mr_state_open_pidfd (const struct mr_state *st)
{
  int fd;

  if (st->pid <= 0)
    return -1;
  fd = mr_pidfd_open (st->pid, 0);
  if (fd < 0)
    return -1;
  /* The pidfd refers to whoever has the pid now: make sure it is our init. */
  if (st->start_time != 0 && mr_proc_start_time (st->pid) != st->start_time)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* A created init has not exec'd yet: it is still a clone of minirun.  (Where
 * /proc/PID/exe cannot be read, as rootless, the recorded status stands.) */
static bool
still_minirun (const struct mr_state *st)
{
  char path[64];
  struct stat a;
  snprintf (path, sizeof path, "/proc/%d/exe", (int) st->pid);
  if (st->init_exe_ino == 0 || stat (path, &a) < 0)
    return true;
  return a.st_dev == st->init_exe_dev && a.st_ino == st->init_exe_ino;
}

enum mr_status
mr_state_status (const struct mr_state *st)
{
  if (st->pid <= 0)
    return st->status == MR_STATUS_CREATING ? MR_STATUS_CREATING : MR_STATUS_STOPPED;
  {
    struct mr_proc_stat ps;
    if (st->start_time == 0 || !mr_proc_stat_read (st->pid, &ps) || ps.start_time != st->start_time
        || ps.state == 'Z' || ps.state == 'X')
      return MR_STATUS_STOPPED;
  }
  if (st->status == MR_STATUS_CREATED && !still_minirun (st))
    return MR_STATUS_RUNNING; /* started, though the `start` that did it died before recording it */
  return st->status;
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

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
mr_state_list (const char *root, char ***ids_out, size_t *n_out, mr_error_t *err)
{
  DIR *d = opendir (root);
  struct dirent *de;
  char **ids = NULL;
  size_t n = 0, cap = 0;

  *ids_out = NULL;
  *n_out = 0;
  if (d == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return mr_error_set (err, errno, "read the state root `%s`", root);
    }
  while ((de = readdir (d)) != NULL)
    {
      mr_error_t ignored = NULL;
      if (de->d_name[0] == '.' || mr_id_validate (de->d_name, &ignored) < 0)
        {
          mr_error_free (&ignored);
          continue;
        }
      if (n + 2 > cap)
        {
          cap = cap ? cap * 2 : 16;
          ids = xrealloc (ids, cap * sizeof *ids);
        }
      ids[n++] = xstrdup (de->d_name);
      ids[n] = NULL;
    }
  closedir (d);
  if (n > 1)
    qsort (ids, n, sizeof *ids, cmp_str);
  *ids_out = ids;
  *n_out = n;
  return 0;
}
