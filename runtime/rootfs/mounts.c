/* mounts.c: one OCI mount (config `mounts[i]`) inside the rootfs.  The
 * destination is resolved (and created: a directory, or an empty file when a
 * bind source is not a directory) in the root with pathsafe.c, and the mount
 * is made onto "/proc/self/fd/N" of that O_PATH fd, never onto a path string
 * that the kernel would resolve again.  Bind mounts are MS_BIND (|MS_REC for
 * rbind) followed, when the config asks for flags, by MS_BIND|MS_REMOUNT that
 * keeps the source's nosuid/nodev/noexec/ro/atime flags unless the config
 * clears them explicitly (those flags are locked in a user namespace, and
 * silently dropping nosuid from a host mount is never what anyone meant).
 * An idmapped mount arrives made (idmap.c, in the launcher) as a detached
 * mount fd and is attached with move_mount(2), then gets the same flags.
 * Everything else is mount(source, target, type, flags, data); type "cgroup"
 * is delegated to mr_cgroup_mount(); "tmpcopyup" copies what the tmpfs
 * covers into it (copyup.c).  Then the recursive options ("rro", "rnoexec",
 * ...), one mount_setattr(AT_RECURSIVE) each, and the per-mount propagation.
 * Errors name the mount: `mounts[3] (/proc, type proc, source proc): mount:
 * Operation not permitted`, or the option: `mounts[7].options[1] "rnoexec"
 * (the mount on /run): mount_setattr(AT_RECURSIVE, set MOUNT_ATTR_NOEXEC):
 * ...`. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/cleanup.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"
#include "base/utils.h"

#define ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
/* Per-mount flags a bind remount keeps from its source unless cleared. */
#define KEEP_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

const char *
mr_fdpath (struct mr_fdpath *p, const char *prefix, int fd)
{
  (void) snprintf (p->buf, sizeof p->buf, "%s%d", prefix, fd);
  return p->buf;
}

unsigned long
mr_propagation_flags (enum mr_propagation p)
{
  switch (p)
    {
    case MR_PROP_PRIVATE:
      return MS_PRIVATE;
    case MR_PROP_RPRIVATE:
      return MS_PRIVATE | MS_REC;
    case MR_PROP_SHARED:
      return MS_SHARED;
    case MR_PROP_RSHARED:
      return MS_SHARED | MS_REC;
    case MR_PROP_SLAVE:
      return MS_SLAVE;
    case MR_PROP_RSLAVE:
      return MS_SLAVE | MS_REC;
    case MR_PROP_UNBINDABLE:
      return MS_UNBINDABLE;
    case MR_PROP_RUNBINDABLE:
      return MS_UNBINDABLE | MS_REC;
    case MR_PROP_NONE:
    default:
      return 0;
    }
}

const char *
mr_propagation_name (enum mr_propagation p)
{
  static const char *const names[] = {
    [MR_PROP_NONE] = "none",     [MR_PROP_PRIVATE] = "private",       [MR_PROP_RPRIVATE] = "rprivate",
    [MR_PROP_SHARED] = "shared", [MR_PROP_RSHARED] = "rshared",       [MR_PROP_SLAVE] = "slave",
    [MR_PROP_RSLAVE] = "rslave", [MR_PROP_UNBINDABLE] = "unbindable", [MR_PROP_RUNBINDABLE] = "runbindable",
  };
  if ((size_t)p < sizeof names / sizeof names[0] && names[p] != NULL)
    return names[p];
  return "?";
}

const char *
mr_mount_flags_str (unsigned long flags, char *buf, size_t len)
{
  static const struct
  {
    unsigned long flag;
    const char *name;
  } names[] = {
    { MS_RDONLY, "ro" },
    { MS_NOSUID, "nosuid" },
    { MS_NODEV, "nodev" },
    { MS_NOEXEC, "noexec" },
    { MS_SYNCHRONOUS, "sync" },
    { MS_REMOUNT, "remount" },
    { MS_MANDLOCK, "mand" },
    { MS_DIRSYNC, "dirsync" },
    { MS_NOSYMFOLLOW, "nosymfollow" },
    { MS_NOATIME, "noatime" },
    { MS_NODIRATIME, "nodiratime" },
    { MS_BIND, "bind" },
    { MS_MOVE, "move" },
    { MS_REC, "rec" },
    { MS_UNBINDABLE, "unbindable" },
    { MS_PRIVATE, "private" },
    { MS_SLAVE, "slave" },
    { MS_SHARED, "shared" },
    { MS_RELATIME, "relatime" },
    { MS_STRICTATIME, "strictatime" },
    { MS_LAZYTIME, "lazytime" },
  };
  size_t used = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (flags & names[i].flag)
      {
        used += snprintf (buf + used, used < len ? len - used : 0, "%s%s", used ? "," : "", names[i].name);
        flags &= ~names[i].flag;
      }
  if (flags)
    used += snprintf (buf + used, used < len ? len - used : 0, "%s0x%lx", used ? "," : "", flags);
  if (used == 0)
    (void) snprintf (buf, len, "none");
  return buf;
}

int
mr_mount_flags_of (int fd, unsigned long *out)
{
  static const struct
  {
    unsigned long st, ms;
  } map[] = {
    { ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },   { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },     { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME },
  };
  struct statvfs sv;

  if (fstatvfs (fd, &sv) < 0)
    return -1;
  *out = 0;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (sv.f_flag & map[i].st)
      *out |= map[i].ms;
  return 0;
}

/* "mounts[3] (/proc, type proc, source proc, options nosuid,noexec)". Caller frees. */
static char *
describe (const struct mr_mount *m, size_t index)
{
  cleanup_free char *opts = NULL;
  size_t len = 0;

  for (size_t i = 0; i < m->n_options && m->options != NULL; i++)
    len += strlen (m->options[i]) + 1;
  if (len > 0)
    {
      opts = xcalloc (1, len);
      for (size_t i = 0; i < m->n_options; i++)
        {
          if (i > 0)
            strcat (opts, ",");
          strcat (opts, m->options[i]);
        }
    }
  return xasprintf ("mounts[%zu] (%s, type %s%s%s%s%s)", index, m->destination ? m->destination : "(null)",
                    m->type ? m->type : (m->bind ? "bind" : "none"), m->source ? ", source " : "",
                    m->source ? m->source : "", opts ? ", options " : "", opts ? opts : "");
}

/* Re-resolve the destination after mounting: the fd taken before the mount
 * still names the directory underneath, not the new mount's root. */
static int
reopen_target (int rootfd, const char *dest, const char *what, mr_error_t *err)
{
  int fd = mr_open_in_root (rootfd, dest, O_PATH, 0, err);

  if (fd < 0)
    return mr_error_wrap (err, "%s: reopen after mount", what);
  return fd;
}

/* "set MOUNT_ATTR_NOEXEC", "clear MOUNT_ATTR_RDONLY", "atime MOUNT_ATTR_NOATIME"
 * (with MOUNT_ATTR__ATIME cleared): one mount_setattr(2) change, for errors. */
static const char *
attr_change_str (uint64_t set, uint64_t clr, char *buf, size_t len)
{
  static const struct
  {
    uint64_t attr;
    const char *name;
  } names[] = {
    { MOUNT_ATTR_RDONLY, "RDONLY" },         { MOUNT_ATTR_NOSUID, "NOSUID" },
    { MOUNT_ATTR_NODEV, "NODEV" },           { MOUNT_ATTR_NOEXEC, "NOEXEC" },
    { MOUNT_ATTR_NODIRATIME, "NODIRATIME" }, { MOUNT_ATTR_NOSYMFOLLOW, "NOSYMFOLLOW" },
  };
  size_t used = 0;

  buf[0] = '\0';
  if (clr & MOUNT_ATTR__ATIME)
    used += snprintf (buf, len, "atime MOUNT_ATTR_%s",
                      (set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_NOATIME       ? "NOATIME"
                      : (set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_STRICTATIME ? "STRICTATIME"
                                                                            : "RELATIME");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if ((set | clr) & names[i].attr)
      used += snprintf (buf + used, used < len ? len - used : 0, "%s%s MOUNT_ATTR_%s", used ? ", " : "",
                        (set & names[i].attr) ? "set" : "clear", names[i].name);
  return buf;
}

/* The recursive options, one mount_setattr(AT_RECURSIVE) each, in order
 * (later ones win), then the propagation. */
static int
apply_after (int rootfd, const struct mr_mount *m, size_t index, const char *what, mr_error_t *err)
{
  cleanup_close int fd = -1;
  struct mr_fdpath fp;
  char abuf[128];

  if (m->n_rattrs == 0 && m->propagation == MR_PROP_NONE)
    return 0;
  fd = reopen_target (rootfd, m->destination, what, err);
  if (fd < 0)
    return -1;
  for (size_t i = 0; i < m->n_rattrs; i++)
    {
      const struct mr_mount_attr *a = &m->rattrs[i];
      struct mount_attr attr = { .attr_set = a->set, .attr_clr = a->clr };

      if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return mr_error_set (
            err, errno,
            "mounts[%zu].options[%zu] \"%s\" (the mount on %s): mount_setattr(AT_RECURSIVE, %s)%s", index,
            a->option, a->option < m->n_options ? m->options[a->option] : "?", m->destination,
            attr_change_str (a->set, a->clr, abuf, sizeof abuf),
            errno == ENOSYS ? " (needs Linux 5.12 or later)" : "");
    }
  if (m->propagation != MR_PROP_NONE
      && mount (NULL, mr_fdpath (&fp, MR_HOST_FDPREFIX, fd), NULL, mr_propagation_flags (m->propagation),
                NULL)
             < 0)
    return mr_error_set (err, errno, "%s: set propagation %s", what, mr_propagation_name (m->propagation));
  return 0;
}

/* After a bind (or an idmapped mount attached): the config's per-mount
 * flags with MS_BIND|MS_REMOUNT, keeping the source's nosuid/nodev/noexec/ro
 * and atime mode unless the config clears or names them.  src_flags: the
 * source mount's, from mr_mount_flags_of. */
static int
remount_flags (int rootfd, const struct mr_mount *m, unsigned long src_flags, unsigned long flags,
               const char *what, mr_error_t *err)
{
  cleanup_close int newfd = -1;
  unsigned long keep, remount;
  struct mr_fdpath dp;
  char fbuf[128];

  flags &= ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (flags == 0 && (m->clear_flags & src_flags & (KEEP_FLAGS | ATIME_FLAGS)) == 0)
    return 0;
  keep = src_flags & KEEP_FLAGS;
  /* The atime mode is one setting: keep the source's unless the config names one. */
  if (((flags | m->clear_flags) & ATIME_FLAGS) == 0)
    keep |= src_flags & ATIME_FLAGS;
  remount = MS_BIND | MS_REMOUNT | flags | (keep & ~m->clear_flags);
  newfd = reopen_target (rootfd, m->destination, what, err);
  if (newfd < 0)
    return -1;
  if (mount (NULL, mr_fdpath (&dp, MR_HOST_FDPREFIX, newfd), NULL, remount, NULL) < 0)
    return mr_error_set (err, errno, "%s: remount %s", what, mr_mount_flags_str (remount, fbuf, sizeof fbuf));
  return 0;
}

static int
do_bind (int rootfd, const struct mr_mount *m, const char *source, const char *bundle, bool recursive,
         unsigned long flags, const char *what, mr_error_t *err)
{
  cleanup_close int srcfd = -1, dstfd = -1;
  cleanup_free char *joined = NULL;
  struct mr_fdpath sp, dp;
  unsigned long src_flags;
  struct stat sb;

  if (source == NULL)
    return mr_error_set (err, 0, "%s: a bind mount needs a source", what);
  /* OCI: a relative source is relative to the bundle. */
  if (source[0] != '/' && bundle != NULL)
    source = joined = xasprintf ("%s/%s", bundle, source); // NOLINT(clang-analyzer-deadcode.DeadStores): a cleanup variable, freed at scope end
  srcfd = open (source, O_PATH | O_CLOEXEC);
  if (srcfd < 0)
    return mr_error_set (err, errno, "%s: open bind source `%s`", what, source);
  if (fstat (srcfd, &sb) < 0 || mr_mount_flags_of (srcfd, &src_flags) < 0)
    return mr_error_set (err, errno, "%s: stat bind source `%s`", what, source);
  if (S_ISDIR (sb.st_mode))
    dstfd = mr_mkdir_in_root (rootfd, m->destination, 0755, err);
  else
    dstfd = mr_mkfile_in_root (rootfd, m->destination, 0644, err);
  if (dstfd < 0)
    return mr_error_wrap (err, "%s", what);

  if (mount (mr_fdpath (&sp, MR_HOST_FDPREFIX, srcfd), mr_fdpath (&dp, MR_HOST_FDPREFIX, dstfd), NULL,
             MS_BIND | (recursive ? MS_REC : 0), NULL)
      < 0)
    return mr_error_set (err, errno, "%s: mount: %s `%s`", what, recursive ? "rbind" : "bind", source);
  return remount_flags (rootfd, m, src_flags, flags, what, err);
}

/* The detached idmapped mount the launcher made (idmap.c) goes onto the
 * destination: a directory, or a file when its root is not one. */
static int
attach_idmapped (int rootfd, const struct mr_mount *m, int mntfd, int dstfd, unsigned long flags, const char *what,
                 mr_error_t *err)
{
  cleanup_close int filefd = -1;
  unsigned long src_flags;
  struct stat sb;

  if (fstat (mntfd, &sb) < 0 || mr_mount_flags_of (mntfd, &src_flags) < 0)
    return mr_error_set (err, errno, "%s: stat the idmapped mount", what);
  if (dstfd < 0)
    {
      if (S_ISDIR (sb.st_mode))
        dstfd = filefd = mr_mkdir_in_root (rootfd, m->destination, 0755, err); // NOLINT(clang-analyzer-deadcode.DeadStores): cleanup_close
      else
        dstfd = filefd = mr_mkfile_in_root (rootfd, m->destination, 0644, err); // NOLINT(clang-analyzer-deadcode.DeadStores): cleanup_close
      if (dstfd < 0)
        return mr_error_wrap (err, "%s", what);
    }
  if (move_mount (mntfd, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mr_error_set (err, errno, "%s: move_mount of the idmapped mount onto the destination", what);
  return remount_flags (rootfd, m, src_flags, flags, what, err);
}

/* A type "cgroup" mount without a container cgroup (nothing to show but the
 * host's tree): only a cgroup2 host can mount one without help. */
static int
do_cgroup (int dstfd, const struct mr_mount *m, const struct mr_rootfs_opts *opts, unsigned long flags,
           const char *what, mr_error_t *err)
{
  struct mr_fdpath dp;
  struct statfs sfs;

  if (opts->cgroup != NULL)
    {
      if (mr_cgroup_mount (opts->cgroup, dstfd, flags, err) < 0)
        return mr_error_wrap (err, "%s", what);
      return 0;
    }
  if (statfs ("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
    return mr_error_set (err, 0,
                         "%s: a cgroup mount on a cgroup v1 or hybrid host needs the container's cgroup, and "
                         "there is none (the container runs without a cgroup)",
                         what);
  if (mount ("cgroup2", mr_fdpath (&dp, MR_HOST_FDPREFIX, dstfd), "cgroup2", flags, NULL) < 0)
    return mr_error_set (err, errno, "%s: mount cgroup2", what);
  return 0;
}

/* tmpcopyup, after the tmpfs is on: copy what `from` (the directory
 * underneath) holds into it, then make it read-only if the config asked. */
static int
copy_up (int rootfd, const struct mr_mount *m, int from, bool ro, const char *what, mr_error_t *err)
{
  cleanup_close int to = mr_open_in_root (rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0, err);
  struct mr_fdpath dp;
  unsigned long cur = 0;

  if (to < 0)
    return mr_error_wrap (err, "%s: tmpcopyup: reopen after mount", what);
  if (mr_tmpcopyup (from, to, m->data, err) < 0)
    return mr_error_wrap (err, "%s: tmpcopyup", what);
  if (!ro)
    return 0;
  if (mr_mount_flags_of (to, &cur) < 0)
    return mr_error_set (err, errno, "%s: statvfs", what);
  cur &= KEEP_FLAGS | ATIME_FLAGS;
  if (mount (NULL, mr_fdpath (&dp, MR_HOST_FDPREFIX, to), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | cur, NULL) < 0)
    return mr_error_set (err, errno, "%s: remount read-only after tmpcopyup", what);
  return 0;
}

bool
mr_selinux_enabled (void)
{
  struct statfs sfs;
  return statfs ("/sys/fs/selinux", &sfs) == 0 && (unsigned long) sfs.f_type == SELINUX_MAGIC;
}

char *
mr_mount_data_labeled (const char *type, const char *data, const char *label)
{
  static const char *const unlabeled[] = { "proc", "sysfs", "cgroup", "cgroup2", "bind" };

  if (label == NULL || label[0] == '\0' || type == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof unlabeled / sizeof unlabeled[0]; i++)
    if (strcmp (type, unlabeled[i]) == 0)
      return NULL;
  if (data != NULL && (strncmp (data, "context=", 8) == 0 || strstr (data, ",context=") != NULL))
    return NULL; /* the mount names its own */
  return xasprintf ("context=\"%s\"%s%s", label, data && *data ? "," : "", data && *data ? data : "");
}

int
mr_mount_one (int rootfd, const struct mr_config *config, size_t index, const struct mr_rootfs_opts *opts,
              unsigned long drop, mr_error_t *err)
{
  const struct mr_mount *m = &config->mounts[index];
  cleanup_free char *what = describe (m, index);
  cleanup_close int dstfd = -1, from = -1;
  unsigned long flags = m->flags & ~drop;
  bool bind = m->bind || (m->type != NULL && strcmp (m->type, "bind") == 0);
  int idmapped = opts->idmapped != NULL && index < opts->idmapped->n ? opts->idmapped->fds[index] : -1;
  struct mr_fdpath dp;
  char fbuf[128];
  cleanup_free char *labeled = config->mount_label && mr_selinux_enabled ()
                                   ? mr_mount_data_labeled (m->type, m->data, config->mount_label)
                                   : NULL;

  if (m->destination == NULL || m->destination[0] != '/')
    return mr_error_set (err, 0, "%s: the destination must be an absolute path", what);
  if (m->idmap && idmapped < 0)
    return mr_error_set (err, 0, "%s: an idmapped mount, and the launcher made none for it", what);
  if (bind)
    {
      if (idmapped >= 0 ? attach_idmapped (rootfd, m, idmapped, -1, flags, what, err) < 0
                        : do_bind (rootfd, m, m->source, opts->bundle, m->recursive, flags, what, err) < 0)
        return -1;
      return apply_after (rootfd, m, index, what, err);
    }
  if (m->type == NULL)
    return mr_error_set (
        err, 0, "%s: no type given and not a bind mount (add \"type\" or the \"bind\" option)", what);

  dstfd = mr_mkdir_in_root (rootfd, m->destination, 0755, err);
  if (dstfd < 0)
    return mr_error_wrap (err, "%s", what);
  if (m->tmpcopyup)
    {
      /* what the tmpfs will cover, opened before it does */
      from = openat (dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (from < 0)
        return mr_error_set (err, errno, "%s: tmpcopyup: open the directory underneath", what);
      flags &= ~MS_RDONLY;
    }

  if (idmapped >= 0)
    {
      if (attach_idmapped (rootfd, m, idmapped, dstfd, flags, what, err) < 0)
        return -1;
    }
  else if (strcmp (m->type, "cgroup") == 0)
    {
      if (do_cgroup (dstfd, m, opts, flags, what, err) < 0)
        return -1;
    }
  else if (mount (m->source ? m->source : m->type, mr_fdpath (&dp, MR_HOST_FDPREFIX, dstfd), m->type, flags,
                  labeled ? labeled : m->data)
           < 0)
    {
      int saved = errno;

      /* sysfs belongs to the network namespace's owner: a user namespace
         sharing the host's netns cannot mount it, so bind the host's /sys. */
      if (saved == EPERM && strcmp (m->type, "sysfs") == 0 && opts->in_userns)
        {
          if (do_bind (rootfd, m, "/sys", NULL, true, flags, what, err) < 0)
            return -1;
          return apply_after (rootfd, m, index, what, err);
        }
      return mr_error_set (err, saved, "%s: mount (flags %s%s%s)", what,
                           mr_mount_flags_str (flags, fbuf, sizeof fbuf), labeled || m->data ? ", data " : "",
                           labeled ? labeled : m->data ? m->data : "");
    }
  if (from >= 0 && copy_up (rootfd, m, from, (m->flags & ~drop & MS_RDONLY) != 0, what, err) < 0)
    return -1;
  return apply_after (rootfd, m, index, what, err);
}
