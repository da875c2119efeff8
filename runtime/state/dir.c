/* dir.c: a container's state directory <root>/<id>: its id (validated, or
 * derived from the bundle), creation (locked before it appears under its
 * id), opening with a shared or exclusive flock, the unlocked peek of
 * `list`, removal, and the ids under a state root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "state/state.h"
#include "base/syscalls.h"
#include "base/utils.h"

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
  (void) snprintf (tmp, sizeof tmp, ".new.%d.%08x", (int) getpid (), rnd);
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
