/* v1/mount.c: the container's view of the v1 hierarchies: a tmpfs holding
 * one mount per hierarchy (named after the host's mount point, with
 * co-mount symlinks such as cpu -> cpu,cpuacct).  Each hierarchy is a bind
 * mount of the container's own directory, with or without a cgroup
 * namespace: inside a new cgroup namespace (unshared after joining) a fresh
 * cgroup mount would show exactly that directory as its root, and mountinfo
 * shows both as "/", but a fresh v1 mount costs the kernel a walk of every
 * cgroup of the default hierarchy (cgroup_lock_and_drain_offline) and of
 * every cgroup superblock (sget), and leaves one more superblock per
 * hierarchy per container that every memory cgroup removal walks again:
 * with 1000 containers, ~1.6 ms per create. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cgroup/v1/v1.h"
#include "cgroup/common/mount.h"
#include "base/cleanup.h"
#include "base/utils.h"

int
mr_cg_v1_mount_view (const struct mr_cgroup *cg, int dest_fd, unsigned int attr, int *tmpfs, mr_error_t *err)
{
  cleanup_close int mnt
      = mr_cg_mnt_fresh ("tmpfs", "mode=755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
  int again;

  *tmpfs = -1;
  if (mnt < 0)
    return -1;
  /* keep an fd on the mount root after move_mount hands it over */
  again = dup (mnt);
  if (again < 0)
    return mr_error_set (err, errno, "dup");
  if (mr_cg_mnt_attach (again, dest_fd, "the cgroup tmpfs", err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n_v1; i++)
    {
      const struct mr_cg_hier *h = cg->v1[i].h;
      const char *name = strrchr (h->mount, '/') + 1;
      cleanup_close int sub = mr_cg_mnt_subdir (mnt, name, err);
      cleanup_free char *ctrls = xstrdup (h->name);
      char *save = NULL;
      int m;
      if (sub < 0)
        return -1;
      m = mr_cg_mnt_bind (cg->v1[i].dir, attr, err);
      if (m < 0 || mr_cg_mnt_attach (m, sub, name, err) < 0)
        return -1;
      /* co-mounted controllers: cpu -> cpu,cpuacct */
      for (char *t = strtok_r (ctrls, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (strncmp (t, "name=", 5) != 0 && strcmp (t, name) != 0 && symlinkat (name, mnt, t) < 0
            && errno != EEXIST)
          return mr_error_set (err, errno, "symlink `%s` -> `%s` in the cgroup tmpfs", t, name);
    }
  *tmpfs = MR_STEAL_FD (mnt);
  return 0;
}
