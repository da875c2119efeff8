/* idmap.c: idmapped mounts (mounts[].uidMappings/gidMappings, options
 * "idmap"/"ridmap"), made by the launcher on the host before the init is
 * cloned, because MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN in the user namespace
 * that owns the filesystem (the host's) and a mount that is not attached
 * yet.  For each such mount: a user namespace with the mount's mappings (a
 * helper process clone(CLONE_NEWUSER)s, we write its maps, open
 * /proc/PID/ns/user, and it exits and is reaped at once; a mount that takes
 * the container's joined user namespace uses that one), a detached mount
 * (open_tree(OPEN_TREE_CLONE) of the bind source, or a new filesystem from
 * fsopen/fsconfig/fsmount), and mount_setattr(MOUNT_ATTR_IDMAP) on it.  The
 * init inherits the fds and attaches each with move_mount (mounts.c).
 *
 * A mapping "containerID hostID size" is written as is into the helper's
 * uid_map: a file owned by containerID on the source shows as hostID on the
 * mount (a container in a user namespace then sees hostID through its own
 * mapping), as crun does. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "ns/ns.h"
#include "rootfs/rootfs.h"

/* "mounts[2].options[1] \"ridmap\"" or "mounts[2].uidMappings": what asked. */
static char *
asker (const struct mr_mount *m, size_t index)
{
  if (m->idmap_option < m->n_options)
    return xasprintf ("mounts[%zu].options[%zu] \"%s\"", index, m->idmap_option, m->options[m->idmap_option]);
  return xasprintf ("mounts[%zu].uidMappings", index);
}

/* A user namespace with the mount's mappings: *nsfd. */
static int
helper_userns (const struct mr_mount *m, size_t index, int *nsfd, mr_error_t *err)
{
  cleanup_free char *uwhat = NULL, *gwhat = NULL; /* the parent's: the helper allocates nothing */
  bool rootless = geteuid () != 0;
  char path[64];
  int p[2], ret = 0;
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return mr_error_set (err, errno, "mounts[%zu]: pipe for the idmapped mount's user namespace", index);
  /* like fork, in a new user namespace from the start */
  pid = (pid_t)syscall (SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);
  if (pid < 0)
    {
      int saved = errno;
      close (p[0]);
      close (p[1]);
      return mr_error_set (
          err, saved, "mounts[%zu]: clone(CLONE_NEWUSER) for the idmapped mount's user namespace", index);
    }
  if (pid == 0)
    {
      char c;

      /* hold the namespace until the launcher closes its end (or dies) */
      close (p[1]);
      while (read (p[0], &c, 1) < 0 && errno == EINTR)
        ;
      _exit (0);
    }
  close (p[0]);
  uwhat = xasprintf ("mounts[%zu] uid mappings", index);
  gwhat = xasprintf ("mounts[%zu] gid mappings", index);
  if (mr_userns_write_map (pid, "uid_map", uwhat, m->uid_mappings, m->n_uid_mappings, rootless, err) < 0
      || mr_userns_write_map (pid, "gid_map", gwhat, m->gid_mappings, m->n_gid_mappings, rootless, err) < 0)
    ret = mr_error_wrap (err, "mounts[%zu]: the idmapped mount's user namespace", index);
  else
    {
      (void) snprintf (path, sizeof path, "/proc/%d/ns/user", (int)pid);
      *nsfd = open (path, O_RDONLY | O_CLOEXEC);
      if (*nsfd < 0)
        ret = mr_error_set (err, errno, "mounts[%zu]: open `%s`", index, path);
    }
  close (p[1]);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return ret;
}

/* fsconfig failed: the kernel's own words are readable from the fs context. */
static int
fs_error (int fsfd, int saved, const char *what, const char *step, mr_error_t *err)
{
  char msg[256];
  ssize_t n = read (fsfd, msg, sizeof msg - 1);

  if (n > 2)
    {
      msg[n] = '\0';
      msg[strcspn (msg, "\n")] = '\0';
      return mr_error_set (err, saved, "%s: %s (the kernel says: %s)", what, step, msg + 2);
    }
  return mr_error_set (err, saved, "%s: %s", what, step);
}

/* A new filesystem of m->type, detached: its source, data and superblock flags. */
static int
new_fs (const struct mr_mount *m, const char *what, mr_error_t *err)
{
  static const struct
  {
    unsigned long flag;
    const char *name;
  } sb_flags[] = {
    { MS_SYNCHRONOUS, "sync" },
    { MS_DIRSYNC, "dirsync" },
    { MS_LAZYTIME, "lazytime" },
    { MS_MANDLOCK, "mand" },
  };
  cleanup_close int fsfd = fsopen (m->type, FSOPEN_CLOEXEC);
  cleanup_free char *data = m->data ? xstrdup (m->data) : NULL;
  char *save = NULL;
  int mfd;

  if (fsfd < 0)
    return mr_error_set (err, errno, "%s: fsopen(\"%s\")%s", what, m->type,
                         errno == ENODEV ? " (no such filesystem type)" : "");
  if (m->source != NULL && fsconfig (fsfd, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
    return fs_error (fsfd, errno, what, "fsconfig source", err);
  for (char *opt = data ? strtok_r (data, ",", &save) : NULL; opt; opt = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (opt, '=');
      int r;

      if (eq != NULL)
        {
          *eq = '\0';
          r = fsconfig (fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
        }
      else
        r = fsconfig (fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
      if (r < 0)
        {
          cleanup_free char *step = xasprintf ("fsconfig \"%s%s%s\"", opt, eq ? "=" : "", eq ? eq + 1 : "");
          return fs_error (fsfd, errno, what, step, err);
        }
    }
  for (size_t i = 0; i < sizeof sb_flags / sizeof sb_flags[0]; i++)
    if ((m->flags & sb_flags[i].flag) && fsconfig (fsfd, FSCONFIG_SET_FLAG, sb_flags[i].name, NULL, 0) < 0)
      {
        cleanup_free char *step = xasprintf ("fsconfig \"%s\"", sb_flags[i].name);
        return fs_error (fsfd, errno, what, step, err);
      }
  if (m->flags & (MS_SILENT | MS_I_VERSION))
    mr_log_debug ("%s: silent/iversion are not passed to a new idmapped filesystem", what);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return fs_error (fsfd, errno, what, "fsconfig(FSCONFIG_CMD_CREATE)", err);
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return fs_error (fsfd, errno, what, "fsmount", err);
  return mfd;
}

static int
open_mount (const struct mr_mount *m, const char *bundle, const char *what, mr_error_t *err)
{
  cleanup_free char *joined = NULL;
  const char *source = m->source;
  int fd;

  if (!(m->bind || (m->type != NULL && strcmp (m->type, "bind") == 0)))
    {
      if (m->type == NULL)
        return mr_error_set (err, 0, "%s: no type given and not a bind mount", what);
      return new_fs (m, what, err);
    }
  if (source == NULL)
    return mr_error_set (err, 0, "%s: a bind mount needs a source", what);
  if (source[0] != '/' && bundle != NULL)
    source = joined = xasprintf ("%s/%s", bundle, source); // NOLINT(clang-analyzer-deadcode.DeadStores): a cleanup variable, freed at scope end
  fd = open_tree (AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
  if (fd < 0)
    return mr_error_set (err, errno, "%s: open_tree(OPEN_TREE_CLONE%s) of the bind source `%s`%s", what,
                         m->recursive ? " | AT_RECURSIVE" : "", source,
                         errno == ENOSYS ? " (needs Linux 5.2 or later)" : "");
  return fd;
}

static int
idmap_one (const struct mr_config *config, size_t index, const char *bundle, int userns_fd, int *out,
           mr_error_t *err)
{
  const struct mr_mount *m = &config->mounts[index];
  cleanup_free char *what = asker (m, index);
  cleanup_close int nsfd = -1, mfd = -1;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };

  if (m->n_uid_mappings == 0 && m->n_gid_mappings == 0)
    {
      /* the container's user namespace, joined by path */
      if (userns_fd < 0)
        return mr_error_set (err, 0, "%s: takes the container's user namespace, and it has none", what);
      nsfd = fcntl (userns_fd, F_DUPFD_CLOEXEC, 3);
      if (nsfd < 0)
        return mr_error_set (err, errno, "%s: dup the user namespace fd", what);
    }
  else if (helper_userns (m, index, &nsfd, err) < 0)
    return -1;
  mfd = open_mount (m, bundle, what, err);
  if (mfd < 0)
    return -1;
  attr.userns_fd = (uint64_t)nsfd;
  if (mount_setattr (mfd, "", AT_EMPTY_PATH | (m->idmap_recursive ? AT_RECURSIVE : 0), &attr, sizeof attr)
      < 0)
    {
      int saved = errno;
      const char *hint = "";

      if (saved == EINVAL)
        hint = " (the filesystem cannot be idmapped on this kernel: ext4, xfs, btrfs, tmpfs, overlayfs and a "
               "few "
               "more can; or a mapping is invalid)";
      else if (saved == EPERM)
        hint = " (needs CAP_SYS_ADMIN in the user namespace that owns the filesystem: root on the host)";
      else if (saved == ENOSYS)
        hint = " (needs Linux 5.12 or later)";
      return mr_error_set (err, saved, "%s (%s): mount_setattr(%sMOUNT_ATTR_IDMAP)%s", what, m->destination,
                           m->idmap_recursive ? "AT_RECURSIVE, " : "", hint);
    }
  *out = mfd;
  mfd = -1; // NOLINT(clang-analyzer-deadcode.DeadStores): taken from its cleanup_close
  return 0;
}

int
mr_rootfs_idmap_open (const struct mr_config *config, const char *bundle, int userns_fd,
                      struct mr_idmapped_mounts **out, mr_error_t *err)
{
  struct mr_idmapped_mounts *im = NULL;
  size_t i;

  *out = NULL;
  for (i = 0; i < config->n_mounts && !config->mounts[i].idmap; i++)
    ;
  if (i == config->n_mounts)
    return 0;
  im = xcalloc (1, sizeof *im + config->n_mounts * sizeof im->fds[0]);
  im->n = config->n_mounts;
  for (i = 0; i < im->n; i++)
    im->fds[i] = -1;
  for (i = 0; i < im->n; i++)
    if (config->mounts[i].idmap && idmap_one (config, i, bundle, userns_fd, &im->fds[i], err) < 0)
      {
        mr_rootfs_idmap_free (&im);
        return -1;
      }
  *out = im;
  return 0;
}

void
mr_rootfs_idmap_free (struct mr_idmapped_mounts **p)
{
  if (*p == NULL)
    return;
  for (size_t i = 0; i < (*p)->n; i++)
    if ((*p)->fds[i] >= 0)
      close ((*p)->fds[i]);
  free (*p);
  *p = NULL;
}
