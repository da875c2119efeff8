/* rootfs.c: the order of the container's filesystem setup, run by the
 * container's init inside its new mount namespace.  prepare: "/" gets the
 * config's rootfsPropagation (default rprivate, as crun; runc uses rslave),
 * the rootfs's parent mount is made private if it is still shared, the rootfs
 * is bind mounted onto itself (pivot_root needs a mount point), then every
 * config mount in order (mounts.c), /dev (devices.c), a read-only /dev is
 * remounted read-only only after its nodes exist, and process.cwd is created.
 * pivot: pivot_root(".", ".") and a detached, slave-first unmount of the old
 * root (or MS_MOVE + chroot with --no-pivot).  finalize, inside: readonly
 * paths, masked paths, root.readonly, and rootfsPropagation again on the new
 * "/".  No fd stays open between the three calls; each reopens what it needs
 * (the host path of the rootfs before pivot, "/" after it). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "base/syscalls.h"
#include "base/utils.h"

/* The propagation "/" gets before anything is mounted.  The unbindable
 * variants would make the rootfs bind below fail: they wait for finalize. */
static unsigned long
initial_root_propagation (const struct mr_config *config)
{
  switch (config->rootfs_propagation)
    {
    case MR_PROP_NONE:
    case MR_PROP_UNBINDABLE:
    case MR_PROP_RUNBINDABLE:
      return MS_REC | MS_PRIVATE;
    default:
      return mr_propagation_flags (config->rootfs_propagation);
    }
}

/* Undo mountinfo's octal escapes (\040 for space) in place. */
static void
unescape (char *s)
{
  char *w = s;

  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
          s += 3;
        }
      else
        *w++ = *s;
    }
  *w = '\0';
}

static bool
path_has_prefix (const char *path, const char *prefix)
{
  size_t n = strlen (prefix);

  if (strcmp (prefix, "/") == 0)
    return true;
  return strncmp (path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* pivot_root refuses a new root whose parent mount is shared, and a bind
 * under a shared mount would propagate to the host: make the mount that
 * holds the rootfs private when it is shared (runc and crun do the same). */
static int
make_parent_private (const char *rootfs, mr_error_t *err)
{
  cleanup_free char *real = realpath (rootfs, NULL);
  cleanup_free char *best = NULL;
  cleanup_file FILE *f = NULL;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  bool best_shared = false;

  if (real == NULL)
    return mr_error_set (err, errno, "resolve rootfs `%s`", rootfs);
  f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return mr_error_set (err, errno, "open /proc/self/mountinfo");
  while (getline (&line, &cap, f) > 0)
    {
      char *save = NULL, *tok, *mnt = NULL;
      bool shared = false;
      int field = 0;

      for (tok = strtok_r (line, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save), field++)
        {
          if (field == 4)
            mnt = tok;
          else if (field >= 6 && strcmp (tok, "-") == 0)
            break;
          else if (field >= 6 && strncmp (tok, "shared:", 7) == 0)
            shared = true;
        }
      if (mnt == NULL)
        continue;
      unescape (mnt);
      /* The last (topmost) longest match is the mount that holds the rootfs. */
      if (path_has_prefix (real, mnt) && (best == NULL || strlen (mnt) >= strlen (best)))
        {
          free (best);
          best = xstrdup (mnt);
          best_shared = shared;
        }
    }
  if (best != NULL && best_shared && mount (NULL, best, NULL, MS_PRIVATE, NULL) < 0)
    return mr_error_set (err, errno, "make `%s` (the mount holding the rootfs) private", best);
  return 0;
}

static int
remount_dev_ro (int rootfd, const struct mr_mount *m, size_t index, mr_error_t *err)
{
  cleanup_close int fd = mr_open_in_root (rootfd, "/dev", O_PATH | O_DIRECTORY, 0, err);
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | (m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC));
  struct mr_fdpath fp;
  unsigned long cur;

  if (fd < 0)
    return mr_error_wrap (err, "mounts[%zu] (/dev): remount read-only", index);
  if (mr_mount_flags_of (fd, &cur) == 0)
    flags |= cur & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
  if (mount (NULL, mr_fdpath (&fp, MR_HOST_FDPREFIX, fd), NULL, flags, NULL) < 0)
    return mr_error_set (err, errno, "mounts[%zu] (/dev): remount read-only after creating the devices",
                         index);
  return 0;
}

int
mr_rootfs_prepare (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err)
{
  cleanup_close int rootfd = -1;
  unsigned long root_prop = initial_root_propagation (config);
  ssize_t dev_ro = -1;
  char fbuf[64];

  if (opts->rootfs == NULL || opts->rootfs[0] != '/')
    return mr_error_set (err, 0, "the rootfs path must be absolute (got `%s`)",
                         opts->rootfs ? opts->rootfs : "");
  if (access ("/proc/self/fd", F_OK) < 0)
    return mr_error_set (err, errno, "/proc/self/fd (minirun needs /proc mounted on the host)");

  /* In the runtime's own mount namespace the launcher made the rootfs bind
   * already, and / is the host's: its propagation is not ours to change. */
  if (!opts->shared_mount_ns)
    {
      if (mount (NULL, "/", NULL, root_prop, NULL) < 0)
        return mr_error_set (err, errno, "linux.rootfsPropagation: make / %s",
                             mr_mount_flags_str (root_prop, fbuf, sizeof fbuf));
      /* After a recursive private or slave change nothing is shared any more. */
      if (root_prop != (MS_REC | MS_PRIVATE) && root_prop != (MS_REC | MS_SLAVE)
          && make_parent_private (opts->rootfs, err) < 0)
        return -1;
      if (mount (opts->rootfs, opts->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return mr_error_set (err, errno, "bind mount the rootfs `%s` onto itself", opts->rootfs);
    }
  rootfd = open (opts->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return mr_error_set (err, errno, "open rootfs `%s`", opts->rootfs);

  for (size_t i = 0; i < config->n_mounts; i++)
    {
      const struct mr_mount *m = &config->mounts[i];
      unsigned long drop = 0;

      /* A read-only /dev tmpfs gets its nodes first, its MS_RDONLY after. */
      if (m->destination != NULL && mr_path_equal (m->destination, "/dev") && !m->bind
          && (m->flags & MS_RDONLY))
        {
          drop = MS_RDONLY;
          dev_ro = (ssize_t)i;
        }
      else if (m->destination != NULL && mr_path_equal (m->destination, "/dev"))
        dev_ro = -1;
      if (mr_mount_one (rootfd, config, i, opts, drop, err) < 0)
        return -1;
    }

  if (mr_rootfs_needs_dev (config) && mr_rootfs_setup_dev (rootfd, config, opts, err) < 0)
    return mr_error_wrap (err, "/dev");
  if (dev_ro >= 0 && remount_dev_ro (rootfd, &config->mounts[dev_ro], (size_t)dev_ro, err) < 0)
    return -1;

  if (config->has_process && config->process.cwd != NULL)
    {
      cleanup_close int cwdfd = mr_mkdir_in_root (rootfd, config->process.cwd, 0755, err);
      if (cwdfd < 0)
        return mr_error_wrap (err, "process.cwd");
    }
  return 0;
}

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

static int
move_root (int newroot, const char *rootfs, mr_error_t *err)
{
  if (fchdir (newroot) < 0)
    return mr_error_set (err, errno, "chdir to rootfs `%s`", rootfs);
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    return mr_error_set (err, errno, "--no-pivot: move rootfs `%s` onto /", rootfs);
  if (chroot (".") < 0)
    return mr_error_set (err, errno, "--no-pivot: chroot into `%s`", rootfs);
  if (chdir ("/") < 0)
    return mr_error_set (err, errno, "chdir / in the container");
  return 0;
}

int
mr_rootfs_pivot (const struct mr_rootfs_opts *opts, mr_error_t *err)
{
  cleanup_close int newroot = -1, oldroot = -1;
  struct statfs sfs;

  newroot = open (opts->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return mr_error_set (err, errno, "open rootfs `%s`", opts->rootfs);
  if (opts->shared_mount_ns)
    {
      /* the runtime's mount namespace: no pivot_root (it would change the
       * host's root) and no MS_MOVE onto its /; chroot into the bind */
      if (fchdir (newroot) < 0)
        return mr_error_set (err, errno, "chdir to rootfs `%s`", opts->rootfs);
      if (chroot (".") < 0)
        return mr_error_set (err, errno, "chroot into `%s` (no mount namespace of the container's own)",
                             opts->rootfs);
      if (chdir ("/") < 0)
        return mr_error_set (err, errno, "chdir / in the container");
      return 0;
    }
  if (opts->no_pivot)
    return move_root (newroot, opts->rootfs, err);

  oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return mr_error_set (err, errno, "open /");
  if (fchdir (newroot) < 0)
    return mr_error_set (err, errno, "chdir to rootfs `%s`", opts->rootfs);
  if (mr_pivot_root (".", ".") < 0)
    {
      int saved = errno;

      /* A shared root (rootfsPropagation shared/rshared) is refused: make
         the old and the new root mounts (not their children) private. */
      if (saved == EINVAL && mount (NULL, "/", NULL, MS_PRIVATE, NULL) == 0
          && mount (NULL, ".", NULL, MS_PRIVATE, NULL) == 0 && mr_pivot_root (".", ".") == 0)
        goto pivoted;
      if (saved == EINVAL && statfs ("/", &sfs) == 0
          && (sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC))
        return mr_error_set (err, saved,
                             "pivot_root into `%s`: the host's / looks like an initramfs (rootfs), which "
                             "cannot be pivoted away from; run with --no-pivot",
                             opts->rootfs);
      return mr_error_set (err, saved, "pivot_root into `%s`%s", opts->rootfs,
                           saved == EINVAL ? " (if / is an initramfs, run with --no-pivot)" : "");
    }
pivoted:
  /* The old root is now stacked on "/"; go there explicitly rather than
     trusting where the kernel leaves the cwd. */
  if (fchdir (oldroot) < 0)
    return mr_error_set (err, errno, "chdir to the old root");
  /* Slave first so that the detach does not propagate to the host. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return mr_error_set (err, errno, "make the old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return mr_error_set (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return mr_error_set (err, errno, "chdir / in the container");
  return 0;
}

/* ---------- after pivot_root ---------- */

struct finalize
{
  int rootfd;
  int procfd;  /* the container's procfs, verified; -1 until needed */
  int devnull; /* the container's /dev/null, verified; -1 until needed */
};

/* mount(2) paths after pivot_root go through the container's own procfs,
 * relative to it (we fchdir there) so that nothing in the container can
 * redirect "/proc" between the check and the use. */
static int
need_proc (struct finalize *f, const char *what, mr_error_t *err)
{
  struct statfs sfs;

  if (f->procfd >= 0)
    return 0;
  f->procfd = mr_open_in_root (f->rootfd, "/proc", O_PATH | O_DIRECTORY, 0, err);
  if (f->procfd < 0)
    return mr_error_wrap (err, "%s: needs /proc in the container (a mount of type proc)", what);
  if (fstatfs (f->procfd, &sfs) < 0)
    return mr_error_set (err, errno, "%s: statfs /proc", what);
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return mr_error_set (err, 0, "%s: /proc in the container is not a procfs (add a mount of type proc)",
                         what);
  if (fchdir (f->procfd) < 0)
    return mr_error_set (err, errno, "%s: chdir /proc", what);
  return 0;
}

/* Open a masked or read-only path; 0 with *fd = -1 when it does not exist. */
static int
open_existing (struct finalize *f, const char *path, const char *what, int *fd, mr_error_t *err)
{
  *fd = mr_open_in_root (f->rootfd, path, O_PATH, 0, err);
  if (*fd >= 0)
    return need_proc (f, what, err);
  if ((*err)->errno_ == ENOENT || (*err)->errno_ == ENOTDIR)
    {
      mr_error_free (err);
      return 0;
    }
  return mr_error_wrap (err, "%s", what);
}

static int
readonly_path (struct finalize *f, const char *path, size_t i, mr_error_t *err)
{
  cleanup_free char *what = xasprintf ("linux.readonlyPaths[%zu] (%s)", i, path);
  cleanup_close int fd = -1, newfd = -1;
  struct mr_fdpath fp;
  unsigned long cur = 0;

  if (open_existing (f, path, what, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  mr_fdpath (&fp, "self/fd/", fd);
  if (mount (fp.buf, fp.buf, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mr_error_set (err, errno, "%s: bind onto itself", what);
  newfd = mr_open_in_root (f->rootfd, path, O_PATH, 0, err);
  if (newfd < 0)
    return mr_error_wrap (err, "%s: reopen after mount", what);
  if (mr_mount_flags_of (newfd, &cur) < 0)
    return mr_error_set (err, errno, "%s: statvfs", what);
  cur &= MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;
  if (mount (NULL, mr_fdpath (&fp, "self/fd/", newfd), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | cur, NULL)
      < 0)
    return mr_error_set (err, errno, "%s: remount read-only", what);
  return 0;
}

static int
masked_path (struct finalize *f, const char *path, size_t i, mr_error_t *err)
{
  cleanup_free char *what = xasprintf ("linux.maskedPaths[%zu] (%s)", i, path);
  cleanup_close int fd = -1;
  struct mr_fdpath fp, np;
  struct stat sb;

  if (open_existing (f, path, what, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  if (fstat (fd, &sb) < 0)
    return mr_error_set (err, errno, "%s: stat", what);
  mr_fdpath (&fp, "self/fd/", fd);
  if (S_ISDIR (sb.st_mode))
    {
      if (mount ("tmpfs", fp.buf, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return mr_error_set (err, errno, "%s: mount an empty read-only tmpfs over it", what);
      return 0;
    }
  if (f->devnull < 0)
    {
      /* The container's /dev/null may come from the image: it must be the
         real null device, not a symlink or a file (CVE-2025-31133). */
      f->devnull = mr_open_in_root (f->rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);
      if (f->devnull < 0)
        return mr_error_wrap (err, "%s: masking a file needs /dev/null", what);
      if (fstat (f->devnull, &sb) < 0)
        return mr_error_set (err, errno, "%s: stat /dev/null", what);
      if (!S_ISCHR (sb.st_mode) || major (sb.st_rdev) != 1 || minor (sb.st_rdev) != 3)
        return mr_error_set (err, 0,
                             "%s: /dev/null in the container is not the null device (char 1:3); refusing "
                             "to bind it over masked paths",
                             what);
    }
  if (mount (mr_fdpath (&np, "self/fd/", f->devnull), fp.buf, NULL, MS_BIND, NULL) < 0)
    return mr_error_set (err, errno, "%s: bind /dev/null over it", what);
  return 0;
}

static int
finalize_paths (struct finalize *f, const struct mr_config *config, mr_error_t *err)
{
  for (size_t i = 0; i < config->n_readonly_paths; i++)
    if (readonly_path (f, config->readonly_paths[i], i, err) < 0)
      return -1;
  for (size_t i = 0; i < config->n_masked_paths; i++)
    if (masked_path (f, config->masked_paths[i], i, err) < 0)
      return -1;
  return 0;
}

int
mr_rootfs_finalize (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err)
{
  struct finalize f = { .rootfd = -1, .procfd = -1, .devnull = -1 };
  char fbuf[64];
  int ret;

  (void)opts;
  f.rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (f.rootfd < 0)
    return mr_error_set (err, errno, "open / in the container");
  ret = finalize_paths (&f, config, err);
  if (f.procfd >= 0 && fchdir (f.rootfd) < 0 && ret == 0)
    ret = mr_error_set (err, errno, "chdir / in the container");
  mr_closep (&f.procfd);
  mr_closep (&f.devnull);
  mr_closep (&f.rootfd);
  if (ret < 0)
    return -1;

  if (config->root_readonly)
    {
      unsigned long cur = 0;
      int fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

      if (fd < 0 || mr_mount_flags_of (fd, &cur) < 0)
        {
          int saved = errno;
          if (fd >= 0)
            close (fd);
          return mr_error_set (err, saved, "root.readonly: statvfs /");
        }
      close (fd);
      cur &= MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;
      if (mount (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | cur, NULL) < 0)
        return mr_error_set (err, errno, "root.readonly: remount / read-only");
    }
  if (config->rootfs_propagation != MR_PROP_NONE
      && mount (NULL, "/", NULL, mr_propagation_flags (config->rootfs_propagation), NULL) < 0)
    return mr_error_set (
        err, errno, "linux.rootfsPropagation: make / %s",
        mr_mount_flags_str (mr_propagation_flags (config->rootfs_propagation), fbuf, sizeof fbuf));
  return 0;
}
