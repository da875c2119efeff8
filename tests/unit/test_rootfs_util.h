/* test_rootfs_util.h: shared helpers of the rootfs and pathsafe tests (their
 * checks run in forked children, inside new mount and pid namespaces, so
 * they count with harness_share_counts()): temp trees built and removed
 * without following symlinks, a busybox rootfs, a runner that executes a
 * function as pid 1 of a fresh pid namespace in a fresh mount namespace, one
 * that runs a named case that way on a fresh rootfs, and the start and end
 * of a test that must leave the host's mount table as it found it. */
#ifndef MINIRUN_TEST_ROOTFS_UTIL_H
#define MINIRUN_TEST_ROOTFS_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static __attribute__ ((unused)) void
tr_write (const char *path, const char *content)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, content, strlen (content)) != (ssize_t)strlen (content))
    {
      fprintf (stderr, "setup: write %s: %s\n", path, strerror (errno));
      exit (2);
    }
  close (fd);
}

static __attribute__ ((unused)) char *
tr_read (const char *path)
{
  static char buf[4096];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return NULL;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return buf;
}

static __attribute__ ((unused)) void
tr_mkdir (const char *path)
{
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    {
      fprintf (stderr, "setup: mkdir %s: %s\n", path, strerror (errno));
      exit (2);
    }
}

static __attribute__ ((unused)) void
tr_symlink (const char *target, const char *path)
{
  if (symlink (target, path) < 0)
    {
      fprintf (stderr, "setup: symlink %s: %s\n", path, strerror (errno));
      exit (2);
    }
}

static __attribute__ ((unused)) char *tr_path (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static __attribute__ ((unused)) char *
tr_path (const char *fmt, ...)
{
  static char bufs[8][4096];
  static int next;
  char *b = bufs[next++ % 8];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (b, sizeof bufs[0], fmt, ap);
  va_end (ap);
  return b;
}

static __attribute__ ((unused)) int
tr_rm_one (const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
  (void)sb;
  (void)ftw;
  if (type == FTW_DP)
    return rmdir (path) < 0 ? (fprintf (stderr, "cleanup: rmdir %s: %s\n", path, strerror (errno)), 0) : 0;
  return unlink (path) < 0 ? (fprintf (stderr, "cleanup: unlink %s: %s\n", path, strerror (errno)), 0) : 0;
}

/* rm -rf without following symlinks or crossing into other mounts. */
static __attribute__ ((unused)) void
tr_rmtree (const char *path)
{
  nftw (path, tr_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static __attribute__ ((unused)) char *
tr_tempdir (const char *tag)
{
  char *d = strdup (tr_path ("/tmp/mr-%s-XXXXXX", tag));
  if (d == NULL || mkdtemp (d) == NULL)
    {
      perror ("mkdtemp");
      exit (2);
    }
  return d;
}

/* How many entries (other than . and ..) path has; -1 if it cannot be opened. */
static __attribute__ ((unused)) int
tr_dir_entries (const char *path)
{
  DIR *d = opendir (path);
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)))
    n += strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
  closedir (d);
  return n;
}

static __attribute__ ((unused)) int
tr_mountinfo_lines (void)
{
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  int n = 0, c;

  if (f == NULL)
    return -1;
  while ((c = fgetc (f)) != EOF)
    n += c == '\n';
  fclose (f);
  return n;
}

/* The /proc/self/mountinfo line whose mount point is `mnt` (last match). */
static __attribute__ ((unused)) char *
tr_mountinfo_line (const char *mnt)
{
  static char found[1024];
  char line[1024];
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  bool any = false;

  if (f == NULL)
    return NULL;
  while (fgets (line, sizeof line, f))
    {
      char a[64], b[64], c[64], d[512], e[512];
      if (sscanf (line, "%63s %63s %63s %511s %511s", a, b, c, d, e) == 5 && strcmp (e, mnt) == 0)
        {
          snprintf (found, sizeof found, "%s", line);
          any = true;
        }
    }
  fclose (f);
  return any ? found : NULL;
}

/* A minimal rootfs: /bin/busybox (+ sh, cat, ls links), /proc, /sys, /dev,
 * /etc, /tmp and a /MARKER file to recognise it from inside. */
static __attribute__ ((unused)) char *
tr_make_rootfs (void)
{
  char *root = tr_tempdir ("rootfs");
  int in, out;
  char buf[65536];
  ssize_t n;

  tr_mkdir (tr_path ("%s/bin", root));
  in = open ("/bin/busybox", O_RDONLY | O_CLOEXEC);
  out = open (tr_path ("%s/bin/busybox", root), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (in < 0 || out < 0)
    {
      fprintf (stderr, "setup: copy /bin/busybox (apt-get install busybox-static): %s\n", strerror (errno));
      exit (2);
    }
  while ((n = read (in, buf, sizeof buf)) > 0)
    if (write (out, buf, (size_t)n) != n)
      exit (2);
  close (in);
  close (out);
  tr_symlink ("busybox", tr_path ("%s/bin/sh", root));
  tr_symlink ("busybox", tr_path ("%s/bin/cat", root));
  tr_symlink ("busybox", tr_path ("%s/bin/ls", root));
  tr_mkdir (tr_path ("%s/proc", root));
  tr_mkdir (tr_path ("%s/sys", root));
  tr_mkdir (tr_path ("%s/dev", root));
  tr_mkdir (tr_path ("%s/etc", root));
  tr_mkdir (tr_path ("%s/tmp", root));
  tr_write (tr_path ("%s/MARKER", root), "rootfs\n");
  return root;
}

/* Run fn(arg) as pid 1 of a new pid namespace inside a new mount namespace.
 * Returns fn's exit status (or 128+signal). */
static __attribute__ ((unused)) int
tr_run_in_ns (int (*fn) (void *), void *arg)
{
  pid_t pid;
  int status;

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      perror ("fork");
      exit (2);
    }
  if (pid == 0)
    {
      pid_t init;

      if (unshare (CLONE_NEWNS | CLONE_NEWPID) < 0)
        {
          perror ("unshare(CLONE_NEWNS|CLONE_NEWPID)");
          _exit (100);
        }
      init = fork ();
      if (init < 0)
        _exit (101);
      if (init == 0)
        {
          int r = fn (arg);
          fflush (stdout);
          fflush (stderr);
          _exit (r);
        }
      if (waitpid (init, &status, 0) < 0)
        _exit (102);
      _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
    }
  if (waitpid (pid, &status, 0) < 0)
    return 103;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static int tr_host_mounts __attribute__ ((unused));

/* The start of a rootfs test: counters shared with the cases' children and
 * the host's mount table size noted for tr_end.  false (after saying why)
 * when not root: main then returns HARNESS_SKIP. */
static __attribute__ ((unused)) bool
tr_begin (void)
{
  harness_share_counts ();
  if (geteuid () != 0)
    {
      harness_skip ("skipped: needs root");
      return false;
    }
  tr_host_mounts = tr_mountinfo_lines ();
  return true;
}

/* The end: the host's mount table is as it was; the summary and exit code. */
static __attribute__ ((unused)) int
tr_end (void)
{
  int after = tr_mountinfo_lines ();
  CHECK (tr_host_mounts == after, "host mount table: %d lines before, %d after", tr_host_mounts, after);
  return harness_summary ();
}

/* Case `name` (the tag of its failures): a fresh busybox rootfs in *rootfs,
 * prep() (if given), fn(arg) run by tr_run_in_ns that must exit 0, after()
 * (if given); then the rootfs is removed and freed. */
static __attribute__ ((unused)) void
tr_run_case (const char *name, char **rootfs, int (*fn) (void *), void *arg, void (*prep) (void),
             void (*after) (void))
{
  int st;

  harness_case = name;
  *rootfs = tr_make_rootfs ();
  if (prep)
    prep ();
  st = tr_run_in_ns (fn, arg);
  CHECK (st == 0, "case exited with %d", st);
  if (after)
    after ();
  tr_rmtree (*rootfs);
  free (*rootfs);
}

#endif
