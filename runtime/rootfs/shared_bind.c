/* shared_bind.c: the rootfs bind of a container without a mount namespace
 * of its own (mr_rootfs_shared_bind / mr_rootfs_shared_unbind): made by the
 * launcher in the runtime's mount namespace, recorded in the state directory
 * (rootfs.mount: the mount id and the path), detached at delete through an
 * fd of the mount at that path, only while that fd's mount id is still the
 * recorded one.  A second such container on the same rootfs is refused while
 * the first one's bind is mounted: its bind would cover the first one's, and
 * a covered mount cannot be reached to be detached (the first one's delete
 * would have to leave it, with all its mounts, behind).  The first one is
 * found by its record in a sibling state directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/pathsafe.h"
#include "rootfs/rootfs.h"
#include "base/utils.h"

#define SHARED_BIND_RECORD "rootfs.mount"

/* The mount id of path (relative to dirfd; "" for dirfd itself). */
static int
mount_id_of (int dirfd, const char *path, uint64_t *id)
{
  struct statx stx;

  if (statx (dirfd, path, AT_NO_AUTOMOUNT | (path[0] == '\0' ? AT_EMPTY_PATH : 0), STATX_MNT_ID, &stx) < 0)
    return -1;
  if (!(stx.stx_mask & STATX_MNT_ID))
    {
      errno = ENOSYS;
      return -1;
    }
  *id = stx.stx_mnt_id;
  return 0;
}

/* Is mount `id` in this mount namespace? */
static bool
mount_listed (int64_t id)
{
  cleanup_free char *text = NULL;
  size_t len;
  mr_error_t err = NULL;
  char want[32];
  int n = snprintf (want, sizeof want - 1, "%lld ", (long long) id);

  if (mr_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &text, &len, &err) < 0)
    {
      mr_error_free (&err);
      return false;
    }
  /* each line starts with the mount id and a space */
  if (strncmp (text, want, (size_t) n) == 0)
    return true;
  memmove (want + 1, want, (size_t) n + 1);
  want[0] = '\n';
  return strstr (text, want) != NULL;
}

/* Read a rootfs.mount record of the state directory at dirfd: 1 with the id
 * and the path (*text owns it), 0 when there is none, -1 on error. */
static int
read_record (int dirfd, char **text, int64_t *id, char **path, mr_error_t *err)
{
  size_t len;
  char *end;

  if (mr_read_file_at (dirfd, SHARED_BIND_RECORD, PATH_MAX + 64, text, &len, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err);
      return 0;
    }
  *path = memchr (*text, '\n', len);
  end = *path ? memchr (*path + 1, '\n', len - (size_t) (*path + 1 - *text)) : NULL;
  if (*path == NULL || end == NULL)
    return mr_error_set (err, EINVAL, "%s in the state directory: expected a mount id and a path",
                         SHARED_BIND_RECORD);
  *(*path)++ = '\0';
  *end = '\0';
  if (!mr_parse_i64 (*text, 1, INT64_MAX, id) || (*path)[0] != '/')
    return mr_error_set (err, EINVAL, "%s in the state directory: expected a mount id and a path",
                         SHARED_BIND_RECORD);
  return 1;
}

/* The container (a sibling state directory) whose bind of `rootfs` is still
 * mounted, or NULL.  Unreadable entries are not containers of ours. */
static char *
other_user (int state_dirfd, const char *rootfs)
{
  cleanup_close int parent = openat (state_dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat self, sb;
  char *who = NULL;
  struct dirent *de;
  DIR *d;
  int dfd;

  if (parent < 0 || fstat (state_dirfd, &self) < 0)
    return NULL;
  dfd = openat (parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || (d = fdopendir (dfd)) == NULL)
    {
      if (dfd >= 0)
        close (dfd);
      return NULL;
    }
  while (who == NULL && (de = readdir (d)) != NULL)
    {
      cleanup_close int cfd = -1;
      cleanup_free char *text = NULL;
      mr_error_t e = NULL;
      char *path = NULL;
      int64_t id;

      if (de->d_name[0] == '.')
        continue;
      cfd = openat (parent, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0 || fstat (cfd, &sb) < 0 || (sb.st_dev == self.st_dev && sb.st_ino == self.st_ino))
        continue;
      if (read_record (cfd, &text, &id, &path, &e) == 1 && mr_path_equal (path, rootfs) && mount_listed (id))
        who = xstrdup (de->d_name);
      mr_error_free (&e);
    }
  closedir (d);
  return who;
}

int
mr_rootfs_shared_bind (const char *rootfs, int state_dirfd, mr_error_t *err)
{
  cleanup_free char *text = NULL, *who = other_user (state_dirfd, rootfs);
  uint64_t id;

  if (who != NULL)
    return mr_error_set (err, EBUSY,
                         "the rootfs `%s` is in use by container `%s`, which has no mount namespace of its own "
                         "either, and its bind of the rootfs is still mounted: a second bind would cover it, and "
                         "`%s` could not detach its mounts at delete; give this container a mount namespace "
                         "(linux.namespaces: {\"type\": \"mount\"}), another rootfs, or delete `%s` first",
                         rootfs, who, who, who);
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mr_error_set (err, errno, "bind mount the rootfs `%s` onto itself", rootfs);
  if (mount (NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0 || mount_id_of (AT_FDCWD, rootfs, &id) < 0)
    {
      int saved = errno;
      umount2 (rootfs, MNT_DETACH);
      return mr_error_set (err, saved, "make the rootfs bind `%s` private", rootfs);
    }
  /* the mount id, then the path: enough for a delete that has no state */
  text = xasprintf ("%llu\n%s\n", (unsigned long long) id, rootfs);
  if (mr_write_file_atomic (state_dirfd, SHARED_BIND_RECORD, text, strlen (text), 0600, err) < 0)
    {
      umount2 (rootfs, MNT_DETACH);
      return -1;
    }
  return 0;
}

int
mr_rootfs_shared_unbind (int state_dirfd, mr_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_close int fd = -1;
  char fdpath[64];
  int64_t want;
  uint64_t id;
  char *path = NULL;
  int r = read_record (state_dirfd, &text, &want, &path, err);

  if (r <= 0)
    return r;
  /* The mount at the path now, held by an fd: what is checked is what goes. */
  fd = open (path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || mount_id_of (fd, "", &id) < 0 || id != (uint64_t) want)
    {
      if (!mount_listed (want))
        mr_log_debug ("the rootfs bind (mount %lld) at `%s` is gone already", (long long) want, path);
      else
        mr_log_warning ("the rootfs bind at `%s` (mount %lld), with the container's mounts in it, is covered by "
                        "another mount: it stays until that one is gone; then `umount -R %s`",
                        path, (long long) want, path);
      return 0;
    }
  (void) snprintf (fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
  if (umount2 (fdpath, MNT_DETACH) < 0)
    return mr_error_set (err, errno, "detach the rootfs bind `%s` and the container's mounts in it", path);
  return 0;
}
