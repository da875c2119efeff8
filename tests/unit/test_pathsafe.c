/* test_pathsafe.c: mr_open_in_root, mr_mkdir_in_root and mr_mkfile_in_root
 * against a real directory tree, once through openat2 and once through the
 * user-space component walk (mr_pathsafe_force_walk): ".." clamped at the
 * root, absolute and relative symlinks resolved inside it, symlink loops and
 * the 40-link limit (ELOOP), /proc magic links refused, creation through
 * dangling symlinks landing inside the root, and a host canary left alone.
 * Needs root only for the procfs mount of the magic-link case. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "test_rootfs_util.h"

static char *root;   /* the tree */
static char *canary; /* a host directory outside it */
static int rootfd = -1;

static void
build_tree (void)
{
  root = tr_tempdir ("pathsafe");
  canary = tr_tempdir ("canary");
  tr_write (tr_path ("%s/canaryfile", canary), "host\n");

  tr_mkdir (tr_path ("%s/a", root));
  tr_mkdir (tr_path ("%s/a/b", root));
  tr_write (tr_path ("%s/a/b/c", root), "abc");
  tr_mkdir (tr_path ("%s/etc", root));
  tr_write (tr_path ("%s/etc/hostname", root), "inroot");
  tr_write (tr_path ("%s/file", root), "f");
  tr_mkdir (tr_path ("%s/proc", root));
  tr_symlink ("/a/b", tr_path ("%s/abs", root));
  tr_symlink ("a/b", tr_path ("%s/rel", root));
  tr_symlink ("../../../../a", tr_path ("%s/up", root));
  tr_symlink ("../../../../../etc/hostname", tr_path ("%s/dotdot", root));
  tr_symlink ("../../etc", tr_path ("%s/a/b/back", root));
  tr_symlink ("loop2", tr_path ("%s/loop1", root));
  tr_symlink ("loop1", tr_path ("%s/loop2", root));
  tr_symlink ("selfloop", tr_path ("%s/selfloop", root));
  tr_symlink ("/made/here", tr_path ("%s/dangle", root));
  tr_symlink ("/newfile", tr_path ("%s/dfile", root));
  tr_symlink ("/run/x/y.conf", tr_path ("%s/dfile2", root));
  tr_symlink (canary, tr_path ("%s/hostabs", root));
  tr_symlink ("/proc/self/root", tr_path ("%s/magic", root));
  /* chain/l0 -> l1 -> ... -> l40 -> /a/b: 41 links from l0, 40 from l1. */
  tr_mkdir (tr_path ("%s/chain", root));
  for (int i = 0; i < 40; i++)
    tr_symlink (tr_path ("l%d", i + 1), tr_path ("%s/chain/l%d", root, i));
  tr_symlink ("/a/b", tr_path ("%s/chain/l40", root));

  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    exit (2);
}

/* Open in root and return the file's content, or NULL with *errno_out. */
static const char *
read_in_root (const char *path, int *errno_out)
{
  static char buf[256];
  mr_error_t err = NULL;
  int fd = mr_open_in_root (rootfd, path, O_RDONLY, 0, &err);
  ssize_t n;

  *errno_out = 0;
  if (fd < 0)
    {
      *errno_out = err->errno_;
      mr_error_free (&err);
      return NULL;
    }
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

static int
open_errno (const char *path, int flags)
{
  mr_error_t err = NULL;
  int fd = mr_open_in_root (rootfd, path, flags, 0644, &err);
  int e = 0;

  if (fd >= 0)
    close (fd);
  else
    {
      e = err->errno_;
      mr_error_free (&err);
    }
  return e;
}

static void
expect_content (const char *path, const char *want)
{
  int e;
  const char *got = read_in_root (path, &e);
  CHECK (got != NULL && strcmp (got, want) == 0, "%s: got %s (errno %s), want %s", path, got ? got : "NULL",
         strerror (e), want);
}

/* Close what an *_in_root call returned (if anything) and free its error. */
static void
drop_fd (int fd, mr_error_t *err)
{
  if (fd >= 0)
    close (fd);
  mr_error_free (err);
}

/* An *_in_root call that must succeed. */
static void
expect_fd (int fd, mr_error_t *err, const char *what)
{
  CHECK (fd >= 0, "%s: %s", what, *err ? (*err)->msg : "");
  drop_fd (fd, err);
}

static void
test_resolution (void)
{
  int e;

  expect_content ("a/b/c", "abc");
  expect_content ("/a/b/c", "abc");
  expect_content ("/abs/c", "abc");
  expect_content ("rel/c", "abc");
  /* ".." never leaves the root. */
  expect_content ("/../../../etc/hostname", "inroot");
  expect_content ("a/../../../a/b/c", "abc");
  expect_content ("up/b/c", "abc");
  expect_content ("dotdot", "inroot");
  expect_content ("a/b/back/hostname", "inroot");
  expect_content ("abs/../b/c", "abc");
  expect_content ("//a/./b//c", "abc");
  /* 40 links are fine, 41 are a loop. */
  expect_content ("chain/l1/c", "abc");
  CHECK (open_errno ("chain/l0/c", O_RDONLY) == ELOOP, "41 symlinks: %s",
         strerror (open_errno ("chain/l0/c", 0)));
  CHECK (open_errno ("loop1", O_RDONLY) == ELOOP, "loop: %s", strerror (open_errno ("loop1", 0)));
  CHECK (open_errno ("selfloop/x", O_RDONLY) == ELOOP, "self loop");
  CHECK (open_errno ("file/x", O_RDONLY) == ENOTDIR, "file/x: %s", strerror (open_errno ("file/x", 0)));
  CHECK (open_errno ("file/", O_RDONLY) == ENOTDIR, "file/: %s", strerror (open_errno ("file/", 0)));
  CHECK (open_errno ("nothere", O_RDONLY) == ENOENT, "nothere");
  /* The absolute link to the host canary resolves inside the root. */
  CHECK (read_in_root ("hostabs/canaryfile", &e) == NULL && e == ENOENT, "hostabs/canaryfile: errno %s",
         strerror (e));
  CHECK (open_errno ("/", O_RDONLY | O_DIRECTORY) == 0, "open /: %s",
         strerror (open_errno ("/", O_RDONLY | O_DIRECTORY)));

  /* O_NOFOLLOW: the last symlink is not followed. */
  {
    mr_error_t err = NULL;
    struct stat sb;
    int fd = mr_open_in_root (rootfd, "abs", O_PATH | O_NOFOLLOW, 0, &err);
    CHECK (fd >= 0 && fstat (fd, &sb) == 0 && S_ISLNK (sb.st_mode), "O_PATH|O_NOFOLLOW on a symlink");
    drop_fd (fd, &err);
    CHECK (open_errno ("abs", O_RDONLY | O_NOFOLLOW) == ELOOP, "O_NOFOLLOW on a symlink");
    /* Returned fds are close-on-exec. */
    fd = mr_open_in_root (rootfd, "a/b/c", O_RDONLY, 0, &err);
    CHECK (fd >= 0 && (fcntl (fd, F_GETFD) & FD_CLOEXEC), "O_CLOEXEC");
    drop_fd (fd, &err);
  }
}

static void
test_create (bool walk)
{
  mr_error_t err = NULL;
  struct stat sb;
  int fd;

  /* O_CREAT through a dangling absolute symlink creates inside the root. */
  unlink (tr_path ("%s/newfile", root));
  expect_fd (mr_open_in_root (rootfd, "dfile", O_CREAT | O_WRONLY, 0600, &err), &err,
             "O_CREAT through dangling link");
  CHECK (lstat (tr_path ("%s/newfile", root), &sb) == 0 && S_ISREG (sb.st_mode), "created %s/newfile", root);
  CHECK (open_errno ("dfile", O_CREAT | O_EXCL | O_WRONLY) == EEXIST, "O_EXCL on existing");
  CHECK (open_errno ("abs/created", O_CREAT | O_WRONLY) == 0, "O_CREAT via abs");
  CHECK (lstat (tr_path ("%s/a/b/created", root), &sb) == 0, "abs/created landed in a/b");

  /* mkdir -p through symlinks, dangling ones included. */
  fd = mr_mkdir_in_root (rootfd, "/abs/x/y", 0755, &err);
  CHECK (fd >= 0 && (fcntl (fd, F_GETFL) & O_PATH) && fstat (fd, &sb) == 0 && S_ISDIR (sb.st_mode),
         "mkdir abs/x/y: %s", err ? err->msg : "");
  drop_fd (fd, &err);
  CHECK (stat (tr_path ("%s/a/b/x/y", root), &sb) == 0 && S_ISDIR (sb.st_mode), "a/b/x/y exists");
  expect_fd (mr_mkdir_in_root (rootfd, "dangle/sub", 0755, &err), &err, "mkdir through dangling link");
  CHECK (stat (tr_path ("%s/made/here/sub", root), &sb) == 0 && S_ISDIR (sb.st_mode), "made/here/sub exists");
  fd = mr_mkdir_in_root (rootfd, "file/sub", 0755, &err);
  CHECK (fd < 0 && err && err->errno_ == ENOTDIR, "mkdir under a file: %s", err ? err->msg : "no error");
  mr_error_free (&err);
  drop_fd (mr_mkdir_in_root (rootfd, "/../../escape", 0755, &err), &err);
  CHECK (stat (tr_path ("%s/escape", root), &sb) == 0, "../../escape clamped to the root");
  drop_fd (mr_mkdir_in_root (rootfd, "hostabs/new", 0755, &err), &err);
  CHECK (stat (tr_path ("%s%s/new", root, canary), &sb) == 0, "hostabs/new created inside the root");
  CHECK (stat (tr_path ("%s/new", canary), &sb) < 0 && errno == ENOENT, "host canary untouched");
  fd = mr_mkdir_in_root (rootfd, "loop1/x", 0755, &err);
  CHECK (fd < 0 && err && err->errno_ == ELOOP, "mkdir through a loop: %s", err ? err->msg : "no error");
  mr_error_free (&err);

  /* Mount target files. */
  expect_fd (mr_mkfile_in_root (rootfd, "/etc/new/resolv.conf", 0644, &err), &err, "mkfile");
  CHECK (stat (tr_path ("%s/etc/new/resolv.conf", root), &sb) == 0 && S_ISREG (sb.st_mode),
         "etc/new/resolv.conf");
  expect_fd (mr_mkfile_in_root (rootfd, "dfile2", 0644, &err), &err, "mkfile through dangling link");
  CHECK (stat (tr_path ("%s/run/x/y.conf", root), &sb) == 0 && S_ISREG (sb.st_mode), "run/x/y.conf created");
  fd = mr_mkfile_in_root (rootfd, "a", 0644, &err);
  CHECK (fd >= 0 && fstat (fd, &sb) == 0 && S_ISDIR (sb.st_mode), "mkfile on an existing dir returns it");
  drop_fd (fd, &err);
  drop_fd (mr_mkfile_in_root (rootfd, "hostabs/canaryfile", 0644, &err), &err);
  CHECK (strcmp (tr_read (tr_path ("%s/canaryfile", canary)), "host\n") == 0, "canary content");
  CHECK (stat (tr_path ("%s%s/canaryfile", root, canary), &sb) == 0,
         "mkfile hostabs/canaryfile inside the root");

  /* Clean what this pass created so that the other pass starts equal. */
  tr_rmtree (tr_path ("%s/made", root));
  tr_rmtree (tr_path ("%s/run", root));
  tr_rmtree (tr_path ("%s/tmp", root));
  tr_rmtree (tr_path ("%s/escape", root));
  tr_rmtree (tr_path ("%s/a/b/x", root));
  tr_rmtree (tr_path ("%s/etc/new", root));
  unlink (tr_path ("%s/a/b/created", root));
  unlink (tr_path ("%s/newfile", root));
  (void)walk;
}

/* In a private mount namespace, with a procfs at <root>/proc. */
static int
magic_case (void *arg)
{
  bool walk = *(bool *)arg;
  mr_error_t err = NULL;
  struct stat sb;
  int fd;

  mr_pathsafe_force_walk = walk;
  /* "none", not NULL: valgrind flags a NULL fstype the kernel ignores here. */
  if (mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("proc", tr_path ("%s/proc", root), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    {
      perror ("mount proc");
      return 1;
    }
  /* An fd opened before unshare(CLONE_NEWNS) walks the old namespace's
     mount tree: reopen the root in this one. */
  close (rootfd);
  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK (open_errno ("/proc/self/status", O_RDONLY) == 0, "plain /proc/self/status is fine");
  CHECK (open_errno ("/proc/self/root/etc/passwd", O_RDONLY) == ELOOP, "/proc/self/root: %s",
         strerror (open_errno ("/proc/self/root/etc/passwd", O_RDONLY)));
  CHECK (open_errno ("magic/etc/passwd", O_RDONLY) == ELOOP, "symlink to a magic link");
  CHECK (open_errno (tr_path ("/proc/self/fd/%d", rootfd), O_PATH) == ELOOP, "/proc/self/fd/N");
  CHECK (open_errno ("/proc/self/cwd", O_PATH) == ELOOP, "/proc/self/cwd");
  fd = mr_mkdir_in_root (rootfd, tr_path ("/proc/self/root%s/made", canary), 0755, &err);
  CHECK (fd < 0 && err && err->errno_ == ELOOP, "mkdir through a magic link: %s",
         err ? err->msg : "no error");
  if (walk && err)
    CHECK (strstr (err->msg, "magic link") != NULL, "message names the magic link: %s", err->msg);
  mr_error_free (&err);
  CHECK (stat (tr_path ("%s/made", canary), &sb) < 0, "canary untouched");
  fd = mr_mkfile_in_root (rootfd, tr_path ("/proc/self/cwd%s/file", canary), 0644, &err);
  CHECK (fd < 0 && err && err->errno_ == ELOOP, "mkfile through a magic link");
  mr_error_free (&err);
  umount2 (tr_path ("%s/proc", root), MNT_DETACH);
  return 0;
}

static void
test_path_equal (void)
{
  CHECK (mr_path_equal ("/dev", "/dev/"), "trailing slash");
  CHECK (mr_path_equal ("//dev//pts", "/dev/pts"), "double slashes");
  CHECK (mr_path_equal ("/dev/./pts", "/dev/pts"), "dot");
  CHECK (!mr_path_equal ("/dev", "/devx"), "prefix");
  CHECK (!mr_path_equal ("/dev/pts", "/dev"), "longer");
  CHECK (mr_path_equal ("/", "//"), "root");
}

int
main (void)
{
  harness_share_counts ();
  build_tree ();
  test_path_equal ();
  for (int pass = 0; pass < 2; pass++)
    {
      bool walk = pass == 1;
      int st;

      harness_case = walk ? "walk" : "openat2";
      mr_pathsafe_force_walk = walk;
      test_resolution ();
      test_create (walk);
      if (geteuid () == 0)
        {
          st = tr_run_in_ns (magic_case, &walk);
          CHECK (st == 0, "magic-link case exited %d", st);
        }
      else
        fprintf (stderr, "skip magic-link case: needs root\n");
    }
  close (rootfd);
  tr_rmtree (root);
  tr_rmtree (canary);
  free (root);
  free (canary);
  return harness_summary ();
}
