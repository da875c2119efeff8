/* finalize.c: the container's filesystem after pivot_root (mr_rootfs_finalize):
 * linux.readonlyPaths (a bind onto itself, remounted read-only with the
 * mount's nosuid/nodev/noexec/atime flags kept), linux.maskedPaths (a
 * read-only empty tmpfs over a directory, the container's verified /dev/null
 * over anything else; missing paths are skipped), root.readonly and the final
 * rootfsPropagation of "/".  mount(2) paths go through the container's own,
 * verified procfs ("self/fd/N" after an fchdir to it), never through a path
 * string the container could redirect. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "base/utils.h"

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
