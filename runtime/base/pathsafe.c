/* pathsafe.c: resolving paths inside a container's root without ever leaving
 * it.  openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) does it in the kernel;
 * where openat2 is missing (ENOSYS, or EPERM from an old seccomp profile) a
 * component walk does the same in user space: every step is an O_PATH |
 * O_NOFOLLOW openat() on the parent's fd, symlinks are read and expanded by
 * hand with absolute targets restarting at the root, ".." pops a stack of
 * directory fds and stops at the root, and symlinks that live on procfs and
 * do not read like a plain relative path (/proc/<pid>/fd/N, cwd, root, exe,
 * ns/...) are refused as magic links.  The walk also creates what is missing
 * (mkdir -p, mount target files) one component at a time with *at() calls on
 * the parent fd, so nothing is ever created through a symlink that points
 * outside. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pathsafe.h"
#include "base/syscalls.h"
#include "base/utils.h"

bool mr_pathsafe_force_walk = false;

/* -1: unknown, 0: openat2 works, 1: fall back to the walk. */
static int openat2_missing = -1;

bool
mr_path_equal (const char *a, const char *b)
{
  for (;;)
    {
      /* Skip separators and "." components on both sides. */
      while (*a == '/' || (a[0] == '.' && (a[1] == '/' || a[1] == '\0')))
        a++;
      while (*b == '/' || (b[0] == '.' && (b[1] == '/' || b[1] == '\0')))
        b++;
      if (*a == '\0' || *b == '\0')
        return *a == *b;
      while (*a != '\0' && *a != '/' && *a == *b)
        a++, b++;
      if ((*a == '\0' || *a == '/') && (*b == '\0' || *b == '/'))
        continue;
      return false;
    }
}

/* ---------- the component walk ---------- */

struct dirstack
{
  int rootfd;
  int *fds;
  size_t n, cap;
};

static int
stack_top (const struct dirstack *s)
{
  return s->n > 0 ? s->fds[s->n - 1] : s->rootfd;
}

static void
stack_push (struct dirstack *s, int fd)
{
  if (s->n == s->cap)
    {
      s->cap = s->cap ? s->cap * 2 : 8;
      s->fds = xrealloc (s->fds, s->cap * sizeof *s->fds);
    }
  s->fds[s->n++] = fd;
}

static void
stack_pop (struct dirstack *s)
{
  if (s->n > 0)
    close (s->fds[--s->n]);
}

static void
stack_clear (struct dirstack *s)
{
  while (s->n > 0)
    stack_pop (s);
}

/* A symlink on procfs is a magic link unless its target reads like an
 * ordinary relative path ("self/mounts", "1234", "1234/task/1234"). */
static bool
is_magic_link (int linkfd, const char *target)
{
  struct statfs sfs;

  if (fstatfs (linkfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
    return false;
  return target[0] == '/' || strchr (target, ':') != NULL || target[0] == '\0';
}

static char *
read_link (int linkfd)
{
  size_t size = 256;

  for (;;)
    {
      char *buf = xmalloc (size);
      ssize_t n = readlinkat (linkfd, "", buf, size);
      if (n < 0)
        {
          free (buf);
          return NULL;
        }
      if ((size_t)n < size)
        {
          buf[n] = '\0';
          return buf;
        }
      free (buf);
      if (size >= 65536)
        {
          errno = ENAMETOOLONG;
          return NULL;
        }
      size *= 2;
    }
}

/* Open the last component `name` (in `dir`, probed as `probefd` with mode
 * `st_mode`, or -1 when it was just created / is "." of dir). */
static int
open_last (int dir, const char *name, int probefd, mode_t st_mode, int flags, mode_t mode, bool must_dir)
{
  int accmode_flags = flags & ~(O_CREAT | O_EXCL);

  if (must_dir && probefd >= 0 && !S_ISDIR (st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }
  if ((flags & O_DIRECTORY) && probefd >= 0 && !S_ISDIR (st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }
  if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) && probefd >= 0)
    {
      errno = EEXIST;
      return -1;
    }
  if ((flags & O_PATH) && probefd >= 0)
    return fcntl (probefd, F_DUPFD_CLOEXEC, 3);
  if (probefd >= 0)
    /* Still there? O_NOFOLLOW refuses a symlink swapped in since the probe. */
    return openat (dir, name, accmode_flags | O_NOFOLLOW | O_CLOEXEC | (must_dir ? O_DIRECTORY : 0));
  return openat (dir, name, flags | O_NOFOLLOW | O_CLOEXEC | (must_dir ? O_DIRECTORY : 0), mode);
}

int
mr_walk_in_root (int rootfd, const char *path, int flags, mode_t mode, int how, mr_error_t *err)
{
  struct dirstack st = { .rootfd = rootfd };
  cleanup_free char *buf = xstrdup (path);
  char *p = buf;
  int links = 0;
  int ret = -1;
  int saved;

  for (;;)
    {
      cleanup_close int fd = -1;
      char *name, *next;
      bool last, must_dir = false;
      struct stat sb;

      while (*p == '/')
        p++;
      if (*p == '\0')
        {
          /* The path ends at a directory we hold ("/", "a/..", "a/."). */
          ret = open_last (stack_top (&st), ".", -1, S_IFDIR, flags & ~(O_CREAT | O_EXCL), 0, false);
          if (ret < 0 && (flags & O_CREAT))
            errno = EISDIR;
          goto out;
        }
      name = p;
      next = strchr (p, '/');
      if (next != NULL)
        {
          *next++ = '\0';
          while (*next == '/')
            next++;
          must_dir = *next == '\0';
        }
      else
        next = p + strlen (p);
      last = *next == '\0';
      p = next;

      if (strcmp (name, ".") == 0)
        continue;
      if (strcmp (name, "..") == 0)
        {
          stack_pop (&st);
          continue;
        }

    again:
      fd = openat (stack_top (&st), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          int r;

          if (errno != ENOENT)
            goto fail;
          if (!last && (how & MR_WALK_MKDIR_PARENTS))
            r = mkdirat (stack_top (&st), name, 0755);
          else if (last && (how & MR_WALK_MKDIR))
            r = mkdirat (stack_top (&st), name, mode);
          else if (last && (how & MR_WALK_MKFILE))
            r = mknodat (stack_top (&st), name, S_IFREG | (mode & 07777), 0);
          else if (last && (flags & O_CREAT))
            {
              ret = open_last (stack_top (&st), name, -1, 0, flags, mode, must_dir);
              if (ret < 0)
                goto fail;
              goto out;
            }
          else
            goto fail;
          /* EEXIST: somebody (or a dangling symlink) got there first; probe again. */
          if (r < 0 && errno != EEXIST)
            goto fail;
          fd = openat (stack_top (&st), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            goto fail;
        }
      if (fstat (fd, &sb) < 0)
        goto fail;

      if (S_ISLNK (sb.st_mode) && !(last && (flags & O_NOFOLLOW)))
        {
          cleanup_free char *target = NULL;
          char *expanded;

          if (++links > MR_MAX_SYMLINKS)
            {
              errno = ELOOP;
              goto fail;
            }
          target = read_link (fd);
          if (target == NULL)
            goto fail;
          if (is_magic_link (fd, target))
            {
              saved = ELOOP;
              stack_clear (&st);
              free (st.fds);
              return mr_error_set (err, saved, "resolve `%s` in the rootfs: `%s` is a /proc magic link", path,
                                   name);
            }
          if (target[0] == '/')
            stack_clear (&st);
          expanded = xasprintf ("%s%s%s", target, *p || must_dir ? "/" : "", p);
          free (buf);
          buf = expanded;
          p = buf;
          continue;
        }
      if (S_ISDIR (sb.st_mode) && !last)
        {
          stack_push (&st, MR_STEAL_FD (fd));
          continue;
        }
      if (!last)
        {
          errno = ENOTDIR;
          goto fail;
        }
      ret = open_last (stack_top (&st), name, fd, sb.st_mode, flags, mode, must_dir);
      if (ret < 0 && errno == ELOOP && !S_ISLNK (sb.st_mode))
        {
          /* Replaced by a symlink between probe and open: resolve again
             (bounded like symlinks, so a busy attacker cannot spin us). */
          if (++links > MR_MAX_SYMLINKS)
            goto fail;
          mr_closep (&fd);
          goto again;
        }
      if (ret < 0)
        goto fail;
      goto out;
    }

fail:
  saved = errno;
  stack_clear (&st);
  free (st.fds);
  return mr_error_set (err, saved, "resolve `%s` in the rootfs", path);
out:
  saved = errno;
  stack_clear (&st);
  free (st.fds);
  if (ret < 0)
    return mr_error_set (err, saved, "open `%s` in the rootfs", path);
  return ret;
}

/* ---------- openat2 first ---------- */

static const char *
eloop_hint (int e)
{
  return e == ELOOP ? " (a symlink loop, more than 40 symlinks, or a /proc magic link)" : "";
}

/* openat2 in the root; -2 (errno set) when the kernel has no openat2. */
static int
try_openat2 (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (unsigned long long)(flags | O_CLOEXEC),
    /* O_TMPFILE contains O_DIRECTORY's bit: test it whole. */
    .mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? (mode & 07777) : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd, tries;

  if (mr_pathsafe_force_walk || openat2_missing == 1)
    return -2;
  /* EAGAIN: a concurrent rename or mount raced with ".." resolution. */
  for (tries = 0; tries < 16; tries++)
    {
      fd = mr_openat2 (rootfd, path, &how, sizeof how);
      if (fd >= 0 || errno != EAGAIN)
        break;
    }
  if (fd < 0 && (errno == ENOSYS || (errno == EPERM && openat2_missing == -1)))
    {
      /* ENOSYS, or EPERM from a seccomp filter on the very first call. */
      openat2_missing = 1;
      return -2;
    }
  openat2_missing = 0;
  return fd;
}

int
mr_open_in_root (int rootfd, const char *path, int flags, mode_t mode, mr_error_t *err)
{
  int fd = try_openat2 (rootfd, path, flags, mode);

  if (fd == -2)
    return mr_walk_in_root (rootfd, path, flags, mode, 0, err);
  if (fd < 0)
    return mr_error_set (err, errno, "open `%s` in the rootfs%s", path, eloop_hint (errno));
  return fd;
}

int
mr_mkdir_in_root (int rootfd, const char *path, mode_t mode, mr_error_t *err)
{
  int fd = try_openat2 (rootfd, path, O_PATH | O_DIRECTORY, 0);

  if (fd >= 0)
    return fd;
  if (fd == -2 || errno == ENOENT)
    return mr_walk_in_root (rootfd, path, O_PATH | O_DIRECTORY, mode, MR_WALK_MKDIR_PARENTS | MR_WALK_MKDIR,
                            err);
  return mr_error_set (err, errno, "resolve directory `%s` in the rootfs%s", path, eloop_hint (errno));
}

int
mr_mkfile_in_root (int rootfd, const char *path, mode_t mode, mr_error_t *err)
{
  int fd = try_openat2 (rootfd, path, O_PATH, 0);

  if (fd >= 0)
    return fd;
  if (fd == -2 || errno == ENOENT)
    return mr_walk_in_root (rootfd, path, O_PATH, mode, MR_WALK_MKDIR_PARENTS | MR_WALK_MKFILE, err);
  return mr_error_set (err, errno, "resolve `%s` in the rootfs%s", path, eloop_hint (errno));
}
