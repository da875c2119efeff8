/* shared_bind.c: the rootfs bind of a container without a mount namespace
 * of its own (mr_rootfs_shared_bind / mr_rootfs_shared_unbind): made by the
 * launcher in the runtime's mount namespace, recorded in the state directory
 * (rootfs.mount: the mount id and the path), detached at delete only while
 * it is still the mount with that id. */
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
#include "rootfs/rootfs.h"
#include "base/utils.h"

#define SHARED_BIND_RECORD "rootfs.mount"

static int
mount_id_of (const char *path, uint64_t *id)
{
  struct statx stx;

  if (statx (AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
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

int
mr_rootfs_shared_bind (const char *rootfs, int state_dirfd, mr_error_t *err)
{
  cleanup_free char *text = NULL;
  uint64_t id;

  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mr_error_set (err, errno, "bind mount the rootfs `%s` onto itself", rootfs);
  if (mount (NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0 || mount_id_of (rootfs, &id) < 0)
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
  size_t len;
  int64_t want;
  uint64_t id;
  char *path, *end;

  if (mr_read_file_at (state_dirfd, SHARED_BIND_RECORD, PATH_MAX + 64, &text, &len, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err);
      return 0;
    }
  path = memchr (text, '\n', len);
  end = path ? memchr (path + 1, '\n', len - (size_t) (path + 1 - text)) : NULL;
  if (path == NULL || end == NULL)
    return mr_error_set (err, EINVAL, "%s in the state directory: expected a mount id and a path",
                         SHARED_BIND_RECORD);
  *path++ = '\0';
  *end = '\0';
  if (!mr_parse_i64 (text, 1, INT64_MAX, &want) || path[0] != '/')
    return mr_error_set (err, EINVAL, "%s in the state directory: expected a mount id and a path",
                         SHARED_BIND_RECORD);
  if (mount_id_of (path, &id) < 0 || id != (uint64_t) want)
    {
      if (!mount_listed (want))
        mr_log_debug ("the rootfs bind (mount %lld) at `%s` is gone already", (long long) want, path);
      else
        mr_log_warning ("the rootfs bind at `%s` (mount %lld), with the container's mounts in it, is covered by "
                        "another mount (another container without a mount namespace on this rootfs?): it stays "
                        "until that one is gone; then `umount -R %s`",
                        path, (long long) want, path);
      return 0;
    }
  if (umount2 (path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
    return mr_error_set (err, errno, "detach the rootfs bind `%s` and the container's mounts in it", path);
  return 0;
}
