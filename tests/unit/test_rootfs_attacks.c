/* test_rootfs_attacks.c: a hostile rootfs must never make minirun touch the
 * host.  The rootfs holds symlinks that point at a host canary directory
 * (absolute, relative with a pile of "..", through /proc magic links), and
 * the config mounts, creates devices, file bind targets and the cwd through
 * them.  Every case runs once with openat2 and once with the user-space walk
 * (mr_pathsafe_force_walk).  Afterwards the canary must be byte-for-byte the
 * same, no mount may sit on a host path, and what was created must be inside
 * the rootfs (or the setup must fail with a clear error).  Also: a /dev/null
 * symlink in the image is refused for masked paths, and finalize refuses a
 * /proc that is not a procfs. */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "test_rootfs_util.h"

#define MNT(dest, typ, src, fl, dat)                                                                         \
  {                                                                                                          \
    .destination = (char *)(dest), .type = (char *)(typ), .source = (char *)(src), .flags = (fl),            \
    .data = (char *)(dat)                                                                                    \
  }
#define M_PROC MNT ("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL)
#define M_DEV MNT ("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755")

static char *rootfs;
static char *canary;  /* host directory the attacks aim at */
static char *hostsrc; /* a host file to bind */
static bool walk;

static void
check_canary (void)
{
  const char *c = tr_read (tr_path ("%s/canary", canary));
  CHECK (c != NULL && strcmp (c, "original") == 0, "canary file changed: %s", c ? c : "(gone)");
  CHECK (tr_dir_entries (canary) == 1, "canary dir has %d entries (want 1)", tr_dir_entries (canary));
  CHECK (tr_mountinfo_line (canary) == NULL, "a mount sits on the host canary %s", canary);
}

/* Symlinks to the canary, by absolute path and by a relative climb. */
static int
case_symlinks (void *arg)
{
  struct mr_mount mounts[] = {
    M_PROC,
    MNT ("/etc/tmpfs-over", "tmpfs", "tmpfs", 0, NULL),
    { .destination = (char *)"/etc/resolv.conf", .source = hostsrc, .bind = true, .flags = MS_RDONLY },
    MNT ("/rel/sub", "tmpfs", "tmpfs", 0, NULL),
    MNT (tr_path ("/../../../../..%s/dotdot", canary), "tmpfs", "tmpfs", 0, NULL),
    M_DEV,
  };
  struct mr_device devs[] = {
    { .path = (char *)"/devlink/evilnull", .type = 'c', .major = 1, .minor = 3 },
  };
  struct mr_config c
      = { .mounts = mounts, .n_mounts = 6, .devices = devs, .n_devices = 1, .has_process = true };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  mr_error_t err = NULL;
  char *inroot = strdup (tr_path ("%s%s", rootfs, canary));
  struct stat sb;

  (void)arg;
  mr_pathsafe_force_walk = walk;
  mounts[4].destination = strdup (mounts[4].destination);
  c.process.cwd = (char *)"/etc/cwd";
  if (mr_rootfs_prepare (&c, &o, &err) < 0)
    {
      CHECK (false, "prepare: %s", err->msg);
      mr_error_free (&err);
      free (inroot);
      free (mounts[4].destination);
      return 1;
    }
  /* Still before pivot_root: host paths and the rootfs are both visible. */
  check_canary ();
  CHECK (tr_mountinfo_line (tr_path ("%s/tmpfs-over", inroot)) != NULL, "tmpfs landed inside the rootfs");
  CHECK (tr_mountinfo_line (tr_path ("%s/resolv.conf", inroot)) != NULL,
         "file bind landed inside the rootfs");
  CHECK (tr_mountinfo_line (tr_path ("%s/sub", inroot)) != NULL, "relative climb landed inside the rootfs");
  CHECK (tr_mountinfo_line (tr_path ("%s/dotdot", inroot)) != NULL,
         "\"..\" destination clamped in the rootfs");
  CHECK (stat (tr_path ("%s/evilnull", inroot), &sb) == 0 && S_ISCHR (sb.st_mode),
         "device made inside the rootfs");
  CHECK (stat (tr_path ("%s/cwd", inroot), &sb) == 0 && S_ISDIR (sb.st_mode), "cwd made inside the rootfs");
  CHECK (mr_rootfs_pivot (&o, &err) == 0 && mr_rootfs_finalize (&c, &o, &err) == 0, "pivot/finalize: %s",
         err ? err->msg : "");
  mr_error_free (&err);
  CHECK (tr_read ("/etc/resolv.conf") && strcmp (tr_read ("/etc/resolv.conf"), "resolver") == 0,
         "/etc/resolv.conf in the container is the bind");
  free (inroot);
  free (mounts[4].destination);
  return 0;
}

/* A destination through a /proc magic link (the init's root is still the
 * host's /) must be refused, not followed. */
struct magic
{
  const char *link_prefix; /* <rootfs>/magic points to <prefix><canary> */
  bool as_device;          /* attack through linux.devices instead of a mount */
};

static int
case_magic (void *arg)
{
  struct magic *mg = arg;
  struct mr_mount mounts[] = { M_PROC, M_DEV, MNT ("/magic/x", "tmpfs", "tmpfs", 0, NULL) };
  struct mr_device devs[] = { { .path = (char *)"/magic/evil", .type = 'c', .major = 1, .minor = 3 } };
  struct mr_config c = {
    .mounts = mounts, .n_mounts = mg->as_device ? 2 : 3, .devices = devs, .n_devices = mg->as_device ? 1 : 0
  };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  mr_error_t err = NULL;

  mr_pathsafe_force_walk = walk;
  tr_symlink (tr_path ("%s%s", mg->link_prefix, canary), tr_path ("%s/magic", rootfs));
  CHECK (mr_rootfs_prepare (&c, &o, &err) < 0, "prepare through %s should fail", mg->link_prefix);
  if (err)
    {
      CHECK (err->errno_ == ELOOP, "errno %d (%s), want ELOOP", err->errno_, err->msg);
      CHECK (strstr (err->msg, mg->as_device ? "linux.devices[0]" : "mounts[2] (/magic/x") != NULL,
             "message names the culprit: %s", err->msg);
      printf ("  expected error (%s): %s\n", walk ? "walk" : "openat2", err->msg);
    }
  mr_error_free (&err);
  check_canary ();
  return 0;
}

/* The image's /dev/null is a symlink (no /dev mount, so it stays): masked
 * files must not be bound from it (CVE-2025-31133). */
static int
case_devnull_symlink (void *arg)
{
  static char *masked[] = { (char *)"/etc/secret" };
  struct mr_mount mounts[] = { M_PROC };
  struct mr_config c = { .mounts = mounts, .n_mounts = 1, .masked_paths = masked, .n_masked_paths = 1 };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  mr_error_t err = NULL;

  (void)arg;
  mr_pathsafe_force_walk = walk;
  tr_write (tr_path ("%s/etc/secret", rootfs), "secret");
  tr_symlink ("/proc/sys/kernel/core_pattern", tr_path ("%s/dev/null", rootfs));
  if (mr_rootfs_prepare (&c, &o, &err) < 0 || mr_rootfs_pivot (&o, &err) < 0)
    {
      CHECK (false, "prepare/pivot: %s", err->msg);
      mr_error_free (&err);
      return 1;
    }
  CHECK (mr_rootfs_finalize (&c, &o, &err) < 0, "finalize should refuse the fake /dev/null");
  CHECK (err && strstr (err->msg, "/dev/null") && strstr (err->msg, "maskedPaths[0]"), "message: %s",
         err ? err->msg : "");
  if (err)
    printf ("  expected error: %s\n", err->msg);
  mr_error_free (&err);
  return 0;
}

/* No procfs at /proc (only a directory faking one): finalize must not
 * build mount paths through it. */
static int
case_fake_proc (void *arg)
{
  static char *ro[] = { (char *)"/etc" };
  struct mr_config c = { .readonly_paths = ro, .n_readonly_paths = 1 };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  mr_error_t err = NULL;

  (void)arg;
  mr_pathsafe_force_walk = walk;
  tr_mkdir (tr_path ("%s/proc/self", rootfs));
  tr_symlink (canary, tr_path ("%s/proc/self/fd", rootfs));
  if (mr_rootfs_prepare (&c, &o, &err) < 0 || mr_rootfs_pivot (&o, &err) < 0)
    {
      CHECK (false, "prepare/pivot: %s", err->msg);
      mr_error_free (&err);
      return 1;
    }
  CHECK (mr_rootfs_finalize (&c, &o, &err) < 0, "finalize should refuse a fake /proc");
  CHECK (err && strstr (err->msg, "not a procfs"), "message: %s", err ? err->msg : "");
  if (err)
    printf ("  expected error: %s\n", err->msg);
  mr_error_free (&err);
  return 0;
}

/* tmpcopyup over a directory of symlinks to the canary, and at a destination
 * that is itself such a symlink: the copy holds the symlinks, never what they
 * point at, and nothing is mounted on or copied from the host. */
static int
case_copyup (void *arg)
{
  struct mr_mount mounts[] = {
    M_PROC,
    MNT ("/opt/tree", "tmpfs", "tmpfs", 0, "size=1m"),
    MNT ("/linked", "tmpfs", "tmpfs", 0, "size=1m"),
  };
  struct mr_config c = { .mounts = mounts, .n_mounts = 3 };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  mr_error_t err = NULL;
  char target[4096];
  ssize_t n;
  struct stat sb;

  (void)arg;
  mr_pathsafe_force_walk = walk;
  mounts[1].tmpcopyup = mounts[2].tmpcopyup = true;
  tr_mkdir (tr_path ("%s/opt", rootfs));
  tr_mkdir (tr_path ("%s/opt/tree", rootfs));
  tr_write (tr_path ("%s/opt/tree/file", rootfs), "inside");
  tr_symlink (canary, tr_path ("%s/opt/tree/abs", rootfs));
  tr_symlink (tr_path ("../../../../../../../..%s", canary), tr_path ("%s/opt/tree/rel", rootfs));
  tr_symlink (tr_path ("%s/canary", canary), tr_path ("%s/opt/tree/file-link", rootfs));
  tr_symlink (canary, tr_path ("%s/linked", rootfs));
  if (mr_rootfs_prepare (&c, &o, &err) < 0)
    {
      CHECK (false, "prepare: %s", err->msg);
      mr_error_free (&err);
      return 1;
    }
  check_canary ();
  CHECK (tr_mountinfo_line (tr_path ("%s/opt/tree", rootfs)) != NULL, "the tmpfs is on /opt/tree");
  CHECK (tr_read (tr_path ("%s/opt/tree/file", rootfs))
             && strcmp (tr_read (tr_path ("%s/opt/tree/file", rootfs)), "inside") == 0,
         "the file was copied");
  for (int i = 0; i < 3; i++)
    {
      const char *name = i == 0 ? "abs" : i == 1 ? "rel" : "file-link";
      CHECK (lstat (tr_path ("%s/opt/tree/%s", rootfs, name), &sb) == 0 && S_ISLNK (sb.st_mode),
             "%s was copied as a symlink", name);
    }
  n = readlink (tr_path ("%s/opt/tree/abs", rootfs), target, sizeof target - 1);
  CHECK (n > 0 && (size_t)n == strlen (canary) && strncmp (target, canary, (size_t)n) == 0,
         "abs keeps its target");
  /* /linked resolved inside the root: its tmpfs is there, empty (nothing of the canary copied) */
  CHECK (tr_mountinfo_line (tr_path ("%s%s", rootfs, canary)) != NULL,
         "the /linked tmpfs is inside the rootfs");
  CHECK (tr_dir_entries (tr_path ("%s%s", rootfs, canary)) == 0, "the canary's contents were copied");
  return 0;
}

static void
run (const char *name, int (*fn) (void *), void *arg, void (*prep) (void))
{
  tr_run_case (name, &rootfs, fn, arg, prep, check_canary);
}

static void
prep_symlinks (void)
{
  /* <rootfs>/etc -> the canary (absolute), <rootfs>/rel -> climb out, relative. */
  tr_rmtree (tr_path ("%s/etc", rootfs));
  tr_symlink (canary, tr_path ("%s/etc", rootfs));
  tr_symlink (tr_path ("../../../../../../../../..%s", canary), tr_path ("%s/rel", rootfs));
  tr_symlink (canary, tr_path ("%s/devlink", rootfs));
}

int
main (void)
{
  static struct magic magics[] = {
    { "/proc/self/root", false },
    { "/proc/self/cwd/../../../../../../../..", false },
    { "/proc/1/root", false },
    { "/proc/self/root", true },
  };

  if (!tr_begin ())
    return HARNESS_SKIP;
  canary = tr_tempdir ("canary");
  tr_write (tr_path ("%s/canary", canary), "original");
  hostsrc = strdup (tr_path ("%s.resolv", canary));
  tr_write (hostsrc, "resolver");

  for (int pass = 0; pass < 2; pass++)
    {
      walk = pass == 1;
      run (walk ? "symlinks/walk" : "symlinks/openat2", case_symlinks, NULL, prep_symlinks);
      for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        run (walk ? "magic/walk" : "magic/openat2", case_magic, &magics[i], NULL);
      run (walk ? "devnull/walk" : "devnull/openat2", case_devnull_symlink, NULL, NULL);
      run (walk ? "fakeproc/walk" : "fakeproc/openat2", case_fake_proc, NULL, NULL);
      run (walk ? "copyup/walk" : "copyup/openat2", case_copyup, NULL, NULL);
    }

  harness_case = "host";
  check_canary ();
  CHECK (tr_read (hostsrc) && strcmp (tr_read (hostsrc), "resolver") == 0, "bind source unchanged");
  tr_rmtree (canary);
  unlink (hostsrc);
  free (canary);
  free (hostsrc);
  return tr_end ();
}
