/* rootfs.c: the order of the container's filesystem setup before
 * pivot_root, run by the container's init inside its new mount namespace.
 * prepare: "/" gets the config's rootfsPropagation (default rprivate, as
 * crun; runc uses rslave), the rootfs's parent mount is made private if it is
 * still shared, the rootfs is bind mounted onto itself (pivot_root needs a
 * mount point), then every config mount in order (mounts.c), /dev
 * (devices.c), a read-only /dev is remounted read-only only after its nodes
 * exist, and process.cwd is created.  pivot: pivot_root(".", ".") and a
 * detached, slave-first unmount of the old root (or MS_MOVE + chroot with
 * --no-pivot, or a plain chroot without a mount namespace).  What comes after
 * pivot_root is finalize.c's; the bind of a container without a mount
 * namespace is shared_bind.c's.  No fd stays open between the calls; each
 * reopens what it needs (the host path of the rootfs before pivot, "/" after
 * it). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
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

static int
prepare (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err)
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

int
mr_rootfs_prepare (const struct mr_config *config, const struct mr_rootfs_opts *opts, mr_error_t *err)
{
  int ret = prepare (config, opts, err);

  /* the idmapped mounts are attached (or never will be): none stays open */
  for (size_t i = 0; opts->idmapped != NULL && i < opts->idmapped->n; i++)
    if (opts->idmapped->fds[i] >= 0)
      close (opts->idmapped->fds[i]);
  return ret;
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
