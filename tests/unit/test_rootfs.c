/* test_rootfs.c: mr_rootfs_prepare / pivot / finalize for real, as root:
 * each case builds a busybox rootfs in /tmp, runs as pid 1 of a new pid
 * namespace in a new mount namespace, sets the rootfs up from a config built
 * as C structs, and checks from inside (stat, statvfs, /proc/self/mountinfo,
 * an exec'd busybox): mount flags and data, bind mounts (ro, rro, locked
 * flags, file targets), default devices and linux.devices (mknod and the
 * user-namespace bind fallback), /dev symlinks and ptmx, root.readonly,
 * masked and read-only paths, propagation, --no-pivot, error messages.
 * The host's mount table must be the same afterwards. */
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "cgroup/cgroup.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "test_rootfs_util.h"

#define MNT(dest, typ, src, fl, dat)                                                                         \
  {                                                                                                          \
    .destination = (char *)(dest), .type = (char *)(typ), .source = (char *)(src), .flags = (fl),            \
    .data = (char *)(dat)                                                                                    \
  }
#define BIND(dest, src, fl)                                                                                  \
  {                                                                                                          \
    .destination = (char *)(dest), .source = (char *)(src), .flags = (fl), .bind = true                      \
  }

#define M_PROC MNT ("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL)
#define M_DEV MNT ("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k")

static char *rootfs;
static char *hostdir;

struct ctx
{
  struct mr_config *config;
  struct mr_rootfs_opts opts;
};

/* prepare + pivot + finalize; prints the error and counts a failure. */
static int
setup (struct mr_config *c, struct mr_rootfs_opts *o)
{
  mr_error_t err = NULL;

  if (mr_rootfs_prepare (c, o, &err) < 0 || mr_rootfs_pivot (o, &err) < 0
      || mr_rootfs_finalize (c, o, &err) < 0)
    {
      CHECK (false, "setup failed: %s", err->msg);
      mr_error_free (&err);
      return -1;
    }
  return 0;
}

static bool
has_opt (const char *line, const char *opt)
{
  char pat[128];
  snprintf (pat, sizeof pat, ",%s,", opt);
  char buf[1024];
  /* Turn spaces into commas so that every option is ",opt," delimited. */
  snprintf (buf, sizeof buf, ",%s,", line ? line : "");
  for (char *p = buf; *p; p++)
    if (*p == ' ' || *p == '\n')
      *p = ',';
  return strstr (buf, pat) != NULL;
}

static int
write_errno (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno;
  close (fd);
  unlink (path);
  return 0;
}

static void
check_dev (const char *path, mode_t type, unsigned maj, unsigned min, mode_t perm)
{
  struct stat sb;
  CHECK (lstat (path, &sb) == 0, "%s: %s", path, strerror (errno));
  CHECK ((sb.st_mode & S_IFMT) == type, "%s: type %o", path, sb.st_mode & S_IFMT);
  if (type == S_IFCHR || type == S_IFBLK)
    CHECK (major (sb.st_rdev) == maj && minor (sb.st_rdev) == min, "%s: %u:%u", path, major (sb.st_rdev),
           minor (sb.st_rdev));
  if (perm)
    CHECK ((sb.st_mode & 07777) == perm, "%s: mode %o, want %o", path, sb.st_mode & 07777, perm);
}

static void
check_link (const char *path, const char *want)
{
  char buf[256];
  ssize_t n = readlink (path, buf, sizeof buf - 1);
  buf[n < 0 ? 0 : n] = '\0';
  CHECK (n > 0 && strcmp (buf, want) == 0, "%s -> %s, want %s", path, buf, want);
}

/* ---------- cases ---------- */

static int
case_basic (void *arg)
{
  struct mr_mount mounts[] = {
    M_PROC,
    M_DEV,
    MNT ("/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL),
    MNT ("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
    MNT ("/tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=1770"),
  };
  struct mr_config c = { .mounts = mounts, .n_mounts = 5, .has_process = true };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  struct statvfs sv;
  struct stat sb;
  char *line, self[32];
  ssize_t n;
  pid_t pid;
  int st;

  (void)arg;
  c.process.cwd = (char *)"/work/dir";
  if (setup (&c, &o) < 0)
    return 1;

  CHECK (tr_read ("/MARKER") && strcmp (tr_read ("/MARKER"), "rootfs\n") == 0, "/MARKER from the rootfs");
  CHECK (stat ("/work/dir", &sb) == 0 && S_ISDIR (sb.st_mode), "process.cwd created");
  /* The old root is gone: nothing of the host is mounted. */
  CHECK (tr_mountinfo_line (rootfs) == NULL, "no mount at the rootfs host path");
  CHECK (stat (rootfs, &sb) < 0, "host path %s not visible", rootfs);
  CHECK (tr_mountinfo_line ("/") != NULL, "/ is a mount");
  CHECK (tr_mountinfo_lines () == 8, "8 mounts (/, 5 + devpts + shm), got %d", tr_mountinfo_lines ());
  n = readlink ("/proc/self", self, sizeof self - 1);
  self[n < 0 ? 0 : n] = '\0';
  CHECK (strcmp (self, "1") == 0, "/proc is the container's procfs (self = %s)", self);

  line = tr_mountinfo_line ("/tmp");
  CHECK (line != NULL, "/tmp mounted");
  CHECK (has_opt (line, "nosuid") && has_opt (line, "nodev") && has_opt (line, "noexec"), "/tmp flags: %s",
         line);
  CHECK (has_opt (line, "size=1024k") && has_opt (line, "mode=1770"), "/tmp data: %s", line);
  CHECK (statvfs ("/tmp", &sv) == 0
             && (sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_NOSUID | ST_NODEV | ST_NOEXEC),
         "/tmp statvfs flags");
  CHECK (statvfs ("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/sys read-only");
  line = tr_mountinfo_line ("/dev/mqueue");
  CHECK (line && strstr (line, " - mqueue "), "/dev/mqueue: %s", line ? line : "missing");
  line = tr_mountinfo_line ("/dev");
  CHECK (line && !has_opt (line, "relatime") && has_opt (line, "nosuid"), "/dev strictatime,nosuid: %s",
         line);

  /* Programs run from the new root. */
  pid = fork ();
  if (pid == 0)
    {
      execl ("/bin/busybox", "sh", "-c", "test -c /dev/null && echo ok > /tmp/ok", (char *)NULL);
      _exit (127);
    }
  CHECK (waitpid (pid, &st, 0) == pid && WIFEXITED (st) && WEXITSTATUS (st) == 0, "busybox sh exit %d", st);
  CHECK (tr_read ("/tmp/ok") && strcmp (tr_read ("/tmp/ok"), "ok\n") == 0, "busybox wrote /tmp/ok");
  return 0;
}

static struct mr_device test_devices[] = {
  { .path = (char *)"/dev/net/tun",
    .type = 'c',
    .major = 10,
    .minor = 200,
    .has_file_mode = true,
    .file_mode = 0620,
    .has_uid = true,
    .uid = 1000,
    .has_gid = true,
    .gid = 1001 },
  { .path = (char *)"/dev/myfifo", .type = 'p', .has_file_mode = true, .file_mode = 0600 },
  { .path = (char *)"/dev/loop-control",
    .type = 'c',
    .major = 10,
    .minor = 237,
    .has_file_mode = true,
    .file_mode = 0660 },
  { .path = (char *)"/dev/full",
    .type = 'c',
    .major = 1,
    .minor = 7,
    .has_file_mode = true,
    .file_mode = 0600 },
};

static int
case_devices (void *arg)
{
  bool userns = *(bool *)arg;
  struct mr_mount mounts[] = { M_PROC, M_DEV };
  struct mr_config c = { .mounts = mounts, .n_mounts = 2, .devices = test_devices, .n_devices = 4 };
  struct mr_rootfs_opts o = { .rootfs = rootfs, .in_userns = userns };
  struct statfs sfs;
  struct stat sb;
  char buf[16];
  int fd;

  if (setup (&c, &o) < 0)
    return 1;
  /* In "userns" mode nodes are the host's, bind mounted: modes are the host's. */
  check_dev ("/dev/null", S_IFCHR, 1, 3, userns ? 0 : 0666);
  check_dev ("/dev/zero", S_IFCHR, 1, 5, userns ? 0 : 0666);
  check_dev ("/dev/full", S_IFCHR, 1, 7, userns ? 0 : 0600); /* linux.devices wins over the default */
  check_dev ("/dev/random", S_IFCHR, 1, 8, userns ? 0 : 0666);
  check_dev ("/dev/urandom", S_IFCHR, 1, 9, userns ? 0 : 0666);
  check_dev ("/dev/tty", S_IFCHR, 5, 0, userns ? 0 : 0666);
  check_dev ("/dev/net/tun", S_IFCHR, 10, 200, userns ? 0 : 0620);
  check_dev ("/dev/loop-control", S_IFCHR, 10, 237, userns ? 0 : 0660);
  check_dev ("/dev/myfifo", S_IFIFO, 0, 0, 0600);
  if (!userns)
    CHECK (stat ("/dev/net/tun", &sb) == 0 && sb.st_uid == 1000 && sb.st_gid == 1001, "tun owner %d:%d",
           sb.st_uid, sb.st_gid);
  CHECK ((tr_mountinfo_line ("/dev/null") != NULL) == userns, "/dev/null bind mounted iff userns");
  CHECK ((tr_mountinfo_line ("/dev/myfifo") == NULL), "fifos are always mknod'ed");

  check_link ("/dev/fd", "/proc/self/fd");
  check_link ("/dev/stdin", "/proc/self/fd/0");
  check_link ("/dev/stdout", "/proc/self/fd/1");
  check_link ("/dev/stderr", "/proc/self/fd/2");
  check_link ("/dev/ptmx", "pts/ptmx");
  CHECK ((lstat ("/dev/core", &sb) == 0) == (access (tr_path ("/proc/%s", "kcore"), F_OK) == 0),
         "/dev/core iff /proc/kcore");

  /* Default /dev/pts and /dev/shm (the config has neither). */
  CHECK (statfs ("/dev/pts", &sfs) == 0 && sfs.f_type == DEVPTS_SUPER_MAGIC, "/dev/pts is devpts");
  CHECK (has_opt (tr_mountinfo_line ("/dev/pts"), "ptmxmode=666")
             && has_opt (tr_mountinfo_line ("/dev/pts"), "mode=620"),
         "devpts options: %s", tr_mountinfo_line ("/dev/pts"));
  CHECK (statfs ("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC, "/dev/shm is tmpfs");
  CHECK (stat ("/dev/shm", &sb) == 0 && (sb.st_mode & 07777) == 01777, "/dev/shm mode %o",
         sb.st_mode & 07777);
  fd = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (fd >= 0 && grantpt (fd) == 0 && unlockpt (fd) == 0 && ptsname (fd) != NULL
             && strncmp (ptsname (fd), "/dev/pts/", 9) == 0 && access (ptsname (fd), F_OK) == 0,
         "a pty from /dev/ptmx: %s", strerror (errno));
  if (fd >= 0)
    close (fd);

  fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  CHECK (fd >= 0 && read (fd, buf, sizeof buf) == sizeof buf && buf[0] == 0 && buf[15] == 0,
         "read /dev/zero");
  if (fd >= 0)
    close (fd);
  fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  CHECK (fd >= 0 && write (fd, "x", 1) == 1, "write /dev/null");
  if (fd >= 0)
    close (fd);
  return 0;
}

/* A read-only /dev tmpfs gets its nodes before it turns read-only; config
 * /dev/pts and /dev/shm mounts replace the defaults. */
static int
case_dev_ro (void *arg)
{
  struct mr_mount mounts[] = {
    M_PROC,
    MNT ("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_RDONLY, "mode=755"),
    MNT ("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0600,mode=0600"),
    MNT ("/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=1m"),
  };
  struct mr_config c = { .mounts = mounts, .n_mounts = 4 };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  struct statvfs sv;

  (void)arg;
  if (setup (&c, &o) < 0)
    return 1;
  check_dev ("/dev/null", S_IFCHR, 1, 3, 0666);
  CHECK (statvfs ("/dev", &sv) == 0 && (sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID), "/dev ro,nosuid");
  CHECK (write_errno ("/dev/newfile") == EROFS, "/dev refuses writes");
  CHECK (has_opt (tr_mountinfo_line ("/dev/pts"), "ptmxmode=600"), "config devpts used: %s",
         tr_mountinfo_line ("/dev/pts"));
  CHECK (has_opt (tr_mountinfo_line ("/dev/shm"), "size=1024k"), "config shm used");
  CHECK (write_errno ("/dev/shm/x") == 0, "/dev/shm writable");
  check_link ("/dev/ptmx", "pts/ptmx");
  return 0;
}

static int
case_bind (void *arg)
{
  struct mr_mount mounts[] = {
    M_PROC,
    BIND ("/data", hostdir, MS_RDONLY),
    { .destination = (char *)"/rdata",
      .source = hostdir,
      .bind = true,
      .recursive = true,
      .rattrs = (struct mr_mount_attr[]){ { .option = 0, .set = MOUNT_ATTR_RDONLY } },
      .n_rattrs = 1 },
    { .destination = (char *)"/rbind",
      .source = hostdir,
      .bind = true,
      .recursive = true,
      .flags = MS_RDONLY },
    BIND ("/locked", tr_path ("%s/sub", hostdir), MS_RDONLY),
    { .destination = (char *)"/cleared",
      .source = strdup (tr_path ("%s/sub", hostdir)),
      .bind = true,
      .flags = MS_RDONLY,
      .clear_flags = MS_NOSUID },
    BIND ("/etc/new/file.conf", tr_path ("%s/data", hostdir), 0),
    { .destination = (char *)"/shared",
      .type = (char *)"tmpfs",
      .source = (char *)"tmpfs",
      .propagation = MR_PROP_SHARED },
    BIND ("/reldata.conf", "data", 0), /* relative to the bundle */
  };
  struct mr_config c = { .mounts = mounts, .n_mounts = 9 };
  struct mr_rootfs_opts o = { .rootfs = rootfs, .bundle = hostdir };
  struct statvfs sv;
  struct stat sb;

  (void)arg;
  mounts[4].source = strdup (mounts[4].source);
  mounts[6].source = strdup (mounts[6].source);
  /* A nosuid submount in the host dir (this mount namespace only). */
  if (mount ("tmpfs", tr_path ("%s/sub", hostdir), "tmpfs", MS_NOSUID, "size=1m") < 0)
    {
      perror ("mount tmpfs");
      return 1;
    }
  tr_write (tr_path ("%s/sub/f", hostdir), "subfile");
  if (setup (&c, &o) < 0)
    {
      free (mounts[4].source);
      free (mounts[5].source);
      free (mounts[6].source);
      return 1;
    }

  CHECK (tr_read ("/data/data") && strcmp (tr_read ("/data/data"), "hostdata") == 0, "read /data/data");
  CHECK (write_errno ("/data/new") == EROFS, "ro bind refuses writes: %s",
         strerror (write_errno ("/data/new")));
  CHECK (has_opt (tr_mountinfo_line ("/data"), "ro"), "/data ro in mountinfo");
  CHECK (stat ("/data/sub/f", &sb) < 0, "non-recursive bind leaves the submount out");

  CHECK (tr_read ("/rdata/sub/f") && strcmp (tr_read ("/rdata/sub/f"), "subfile") == 0,
         "rbind has the submount");
  CHECK (write_errno ("/rdata/new") == EROFS, "rro top");
  CHECK (write_errno ("/rdata/sub/new") == EROFS, "rro submount: %s",
         strerror (write_errno ("/rdata/sub/new")));

  CHECK (write_errno ("/rbind/new") == EROFS, "rbind,ro top read-only");
  CHECK (write_errno ("/rbind/sub/new") == 0, "rbind,ro submount stays writable (use rro)");

  CHECK (statvfs ("/locked", &sv) == 0 && (sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID),
         "ro bind keeps the source's nosuid");
  CHECK (statvfs ("/cleared", &sv) == 0 && (sv.f_flag & ST_RDONLY) && !(sv.f_flag & ST_NOSUID),
         "an explicit suid clears it");

  CHECK (stat ("/etc/new/file.conf", &sb) == 0 && S_ISREG (sb.st_mode), "file bind target created");
  CHECK (tr_read ("/etc/new/file.conf") && strcmp (tr_read ("/etc/new/file.conf"), "hostdata") == 0,
         "file bind content");
  CHECK (tr_mountinfo_line ("/shared") && strstr (tr_mountinfo_line ("/shared"), " shared:"),
         "/shared is shared: %s", tr_mountinfo_line ("/shared"));
  CHECK (tr_read ("/reldata.conf") && strcmp (tr_read ("/reldata.conf"), "hostdata") == 0,
         "relative bind source taken from the bundle");
  free (mounts[4].source);
  free (mounts[5].source);
  free (mounts[6].source);
  return 0;
}

static int
case_paths (void *arg)
{
  static char *masked[] = { (char *)"/etc/secret", (char *)"/etc/secretdir", (char *)"/nonexistent",
                            (char *)"/proc/kcore", (char *)"/proc/keys",     (char *)"/etc/secret/notadir" };
  static char *ro[] = { (char *)"/proc/sys", (char *)"/work/rodir", (char *)"/nonexistent2" };
  struct mr_mount mounts[] = {
    M_PROC,
    M_DEV,
    MNT ("/tmp", "tmpfs", "tmpfs", MS_NOSUID, NULL),
    MNT ("/work", "tmpfs", "tmpfs", MS_NOSUID, NULL),
  };
  struct mr_config c = { .mounts = mounts,
                         .n_mounts = 4,
                         .root_readonly = true,
                         .masked_paths = masked,
                         .n_masked_paths = 6,
                         .readonly_paths = ro,
                         .n_readonly_paths = 3,
                         .has_process = true };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  struct stat sb;
  int entries;

  (void)arg;
  c.process.cwd = (char *)"/work/rodir";
  tr_write (tr_path ("%s/etc/secret", rootfs), "secret");
  tr_mkdir (tr_path ("%s/etc/secretdir", rootfs));
  tr_write (tr_path ("%s/etc/secretdir/a", rootfs), "a");
  if (setup (&c, &o) < 0)
    return 1;
  /* root.readonly */
  CHECK (write_errno ("/newfile") == EROFS, "root.readonly: %s", strerror (write_errno ("/newfile")));
  CHECK (has_opt (tr_mountinfo_line ("/"), "ro"), "/ ro in mountinfo");
  CHECK (write_errno ("/tmp/x") == 0, "/tmp still writable");
  /* masked file: the null device */
  CHECK (tr_read ("/etc/secret") && tr_read ("/etc/secret")[0] == '\0', "masked file reads empty");
  check_dev ("/etc/secret", S_IFCHR, 1, 3, 0);
  check_dev ("/proc/keys", S_IFCHR, 1, 3, 0);
  /* masked dir: empty and read-only */
  entries = tr_dir_entries ("/etc/secretdir");
  CHECK (entries == 0, "masked dir empty (%d entries)", entries);
  CHECK (write_errno ("/etc/secretdir/x") == EROFS, "masked dir read-only");
  CHECK (stat ("/nonexistent", &sb) < 0, "missing masked path skipped");
  /* read-only paths */
  CHECK (write_errno ("/work/rodir/x") == EROFS, "readonly path: %s",
         strerror (write_errno ("/work/rodir/x")));
  CHECK (write_errno ("/work/x") == 0, "its parent stays writable");
  CHECK (open ("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS,
         "/proc/sys read-only");
  CHECK (has_opt (tr_mountinfo_line ("/proc/sys"), "ro")
             && has_opt (tr_mountinfo_line ("/proc/sys"), "nosuid"),
         "/proc/sys ro and keeps nosuid: %s", tr_mountinfo_line ("/proc/sys"));
  return 0;
}

static int
case_no_pivot (void *arg)
{
  struct mr_mount mounts[] = { M_PROC, M_DEV };
  struct mr_config c
      = { .mounts = mounts, .n_mounts = 2, .rootfs_propagation = MR_PROP_RSLAVE, .root_readonly = true };
  struct mr_rootfs_opts o = { .rootfs = rootfs, .no_pivot = true };
  struct stat sb;

  (void)arg;
  if (setup (&c, &o) < 0)
    return 1;
  CHECK (tr_read ("/MARKER") && strcmp (tr_read ("/MARKER"), "rootfs\n") == 0,
         "/MARKER after MS_MOVE + chroot");
  CHECK (stat ("/bin/busybox", &sb) == 0, "busybox visible");
  CHECK (write_errno ("/newfile") == EROFS, "root.readonly under --no-pivot");
  check_dev ("/dev/null", S_IFCHR, 1, 3, 0666);
  return 0;
}

static int
case_rshared (void *arg)
{
  struct mr_mount mounts[] = { M_PROC, M_DEV };
  struct mr_config c = { .mounts = mounts, .n_mounts = 2, .rootfs_propagation = MR_PROP_RSHARED };
  struct mr_rootfs_opts o = { .rootfs = rootfs };

  (void)arg;
  if (setup (&c, &o) < 0)
    return 1;
  CHECK (tr_mountinfo_line ("/") && strstr (tr_mountinfo_line ("/"), " shared:"), "/ shared: %s",
         tr_mountinfo_line ("/"));
  return 0;
}

static int
case_runbindable (void *arg)
{
  struct mr_mount mounts[] = { M_PROC };
  struct mr_config c = { .mounts = mounts, .n_mounts = 1, .rootfs_propagation = MR_PROP_RUNBINDABLE };
  struct mr_rootfs_opts o = { .rootfs = rootfs };

  (void)arg;
  if (setup (&c, &o) < 0)
    return 1;
  CHECK (tr_mountinfo_line ("/") && strstr (tr_mountinfo_line ("/"), " unbindable"), "/ unbindable: %s",
         tr_mountinfo_line ("/"));
  return 0;
}

/* type "cgroup": through mr_cgroup_mount with the container's cgroup, or a
 * clear error without one (this host is not pure cgroup v2). */
static int
case_cgroup (void *arg)
{
  const struct mr_cgroup *cg = arg;
  struct mr_mount mounts[] = {
    M_PROC,
    MNT ("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
    MNT ("/sys/fs/cgroup", "cgroup", "cgroup", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
  };
  struct mr_config c = { .mounts = mounts, .n_mounts = 3 };
  struct mr_rootfs_opts o = { .rootfs = rootfs, .cgroup = cg };
  enum mr_cgroup_layout layout;
  struct statvfs sv;
  mr_error_t err = NULL;

  if (mr_cgroup_layout (&layout, &err) < 0)
    {
      CHECK (false, "layout: %s", err->msg);
      mr_error_free (&err);
      return 1;
    }
  if (cg == NULL)
    {
      CHECK ((mr_rootfs_prepare (&c, &o, &err) < 0) == (layout != MR_CGROUP_UNIFIED),
             "cgroup mount without a cgroup");
      if (err)
        {
          CHECK (strstr (err->msg, "mounts[2] (/sys/fs/cgroup, type cgroup")
                     && strstr (err->msg, "needs the container's cgroup"),
                 "message: %s", err->msg);
          printf ("  expected error: %s\n", err->msg);
        }
      mr_error_free (&err);
      return 0;
    }
  if (setup (&c, &o) < 0)
    return 1;
  CHECK (statvfs ("/sys/fs/cgroup", &sv) == 0 && (sv.f_flag & ST_NOSUID), "/sys/fs/cgroup mounted nosuid");
  if (layout != MR_CGROUP_UNIFIED)
    CHECK (access ("/sys/fs/cgroup/memory", F_OK) == 0 && access ("/sys/fs/cgroup/pids", F_OK) == 0,
           "v1 hierarchies visible: %s", strerror (errno));
  else
    CHECK (access ("/sys/fs/cgroup/cgroup.procs", F_OK) == 0, "cgroup2 visible");
  return 0;
}

/* prepare must fail with a message containing every string in want[]. */
struct err_case
{
  struct mr_mount m;
  const char *want[4];
};

static int
case_error (void *arg)
{
  struct err_case *ec = arg;
  struct mr_mount mounts[] = { M_PROC, ec->m };
  struct mr_config c = { .mounts = mounts, .n_mounts = 2 };
  struct mr_rootfs_opts o = { .rootfs = rootfs };
  mr_error_t err = NULL;

  CHECK (mr_rootfs_prepare (&c, &o, &err) < 0, "prepare should fail");
  for (int i = 0; err && i < 4 && ec->want[i]; i++)
    CHECK (strstr (err->msg, ec->want[i]) != NULL, "message `%s` lacks `%s`", err->msg, ec->want[i]);
  if (err)
    printf ("  expected error: %s\n", err->msg);
  mr_error_free (&err);
  return 0;
}

/* linux.mountLabel: the context= option goes first, only on filesystems that
 * take a mount label, and never over a context the mount names itself. */
static void
check_mount_label (void)
{
  static const struct
  {
    const char *type, *data, *want;
  } cases[] = {
    { "tmpfs", NULL, "context=\"system_u:object_r:container_file_t:s0\"" },
    { "tmpfs", "", "context=\"system_u:object_r:container_file_t:s0\"" },
    { "mqueue", "mode=1777", "context=\"system_u:object_r:container_file_t:s0\",mode=1777" },
    { "devpts", "newinstance,ptmxmode=0666", "context=\"system_u:object_r:container_file_t:s0\",newinstance,ptmxmode=0666" },
    { "proc", NULL, NULL },
    { "sysfs", NULL, NULL },
    { "cgroup", NULL, NULL },
    { "cgroup2", NULL, NULL },
    { "bind", NULL, NULL },
    { "tmpfs", "context=\"x\"", NULL },
    { "tmpfs", "size=1m,context=\"x\"", NULL },
  };

  harness_case = "mount label";
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char *got = mr_mount_data_labeled (cases[i].type, cases[i].data, "system_u:object_r:container_file_t:s0");
      if (cases[i].want == NULL)
        CHECK (got == NULL, "%s %s: got %s, want nothing added", cases[i].type,
               cases[i].data ? cases[i].data : "(no data)", got);
      else
        CHECK_STR (got, cases[i].want);
      free (got);
    }
  CHECK (mr_mount_data_labeled ("tmpfs", "size=1m", NULL) == NULL);
  CHECK (mr_mount_data_labeled ("tmpfs", "size=1m", "") == NULL);
  /* the host has SELinux exactly when selinuxfs is mounted */
  {
    struct statfs sfs;
    bool fs = statfs ("/sys/fs/selinux", &sfs) == 0 && (unsigned long) sfs.f_type == SELINUX_MAGIC;
    CHECK (mr_selinux_enabled () == fs);
  }
}

static void
run (const char *name, int (*fn) (void *), void *arg)
{
  tr_run_case (name, &rootfs, fn, arg, NULL, NULL);
}

int
main (void)
{
  static struct err_case errors[] = {
    { MNT ("/x", "nosuchfs", "none", MS_NOSUID, NULL), { "mounts[1] (/x, type nosuchfs", "No such device" } },
    { MNT ("/p", "proc", "proc", MS_NOSUID, "hidepid=bogus"),
      { "mounts[1] (/p, type proc", "data hidepid=bogus", "Invalid argument" } },
    { BIND ("/b", "/nonexistent/source", 0),
      { "mounts[1] (/b, type bind, source /nonexistent/source", "open bind source" } },
    { MNT ("/n", NULL, "x", 0, NULL), { "mounts[1]", "no type" } },
    { MNT ("relative", "tmpfs", "tmpfs", 0, NULL), { "mounts[1]", "absolute" } },
  };
  bool no = false, yes = true;

  if (!tr_begin ())
    return HARNESS_SKIP;
  hostdir = tr_tempdir ("hostdir");
  tr_write (tr_path ("%s/data", hostdir), "hostdata");
  tr_mkdir (tr_path ("%s/sub", hostdir));

  check_mount_label ();
  run ("basic", case_basic, NULL);
  run ("devices", case_devices, &no);
  run ("devices-userns-bind", case_devices, &yes);
  run ("dev-ro", case_dev_ro, NULL);
  run ("bind", case_bind, NULL);
  run ("masked-readonly", case_paths, NULL);
  run ("no-pivot", case_no_pivot, NULL);
  run ("rshared", case_rshared, NULL);
  run ("runbindable", case_runbindable, NULL);
  for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
    run ("errors", case_error, &errors[i]);
  run ("cgroup-none", case_cgroup, NULL);
  {
    struct mr_cgroup *cg = NULL;
    mr_error_t err = NULL;
    char *path = strdup (tr_path ("/minirun-test-rootfs-%d", (int)getpid ()));

    if (mr_cgroup_create (path, NULL, &cg, &err) < 0)
      {
        harness_case = "cgroup";
        CHECK (false, "mr_cgroup_create: %s", err->msg);
        mr_error_free (&err);
      }
    else
      {
        run ("cgroup", case_cgroup, cg);
        harness_case = "cgroup";
        CHECK (mr_cgroup_destroy (cg, &err) == 0, "destroy: %s", err ? err->msg : "");
        mr_error_free (&err);
        mr_cgroup_free (cg);
      }
    free (path);
  }

  harness_case = "host";
  CHECK (tr_read (tr_path ("%s/data", hostdir))
             && strcmp (tr_read (tr_path ("%s/data", hostdir)), "hostdata") == 0,
         "host dir content unchanged");
  CHECK (tr_dir_entries (hostdir) == 2, "host dir has its 2 entries, got %d", tr_dir_entries (hostdir));
  tr_rmtree (hostdir);
  free (hostdir);
  return tr_end ();
}
