/* common/marks.c: ownership marks.
 *
 * minirun removes only the cgroup directories it made itself (an admin's
 * parent such as /admin-slice, with its limits, survives every delete).  The
 * record is on the directory, where every later command (delete, delete
 * --force after a crashed create, the last of several containers sharing a
 * parent) finds it: the extended attribute "trusted.minirun" (root; cgroupfs
 * keeps xattrs in memory for the directory's lifetime) or "user.minirun"
 * (rootless: the owner of a delegated cgroup may set it).
 *   "created"  set right after minirun's mkdir of a leaf or a parent;
 *   "foreign"  set on a container leaf that already existed at create.
 * An ancestor is removed only when marked "created"; the leaf is removed
 * unless marked "foreign" (a foreign leaf keeps itself, only the container's
 * sub-cgroups go), so leaves of containers made before marks existed, or on
 * a host whose cgroupfs takes no xattrs, are removed as they always were. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup/common/marks.h"
#include "base/log.h"

static const char *const mark_names[] = { "trusted.minirun", "user.minirun" };

/* trusted.* needs CAP_SYS_ADMIN: an unprivileged caller uses user.* only. */
static size_t
mark_first (void)
{
  return geteuid () == 0 ? 0 : 1;
}

int
mr_cg_mark_set (const char *dir, const char *value, mr_error_t *err)
{
  int e = 0;
  for (size_t i = mark_first (); i < 2; i++)
    {
      if (setxattr (dir, mark_names[i], value, strlen (value), 0) == 0)
        return 0;
      if (e == 0 || errno != EOPNOTSUPP)
        e = errno;
    }
  return mr_error_set (err, e, "setxattr `%s` %s=%s (the record that minirun %s this cgroup)", dir,
                       mark_names[mark_first ()], value,
                       strcmp (value, MR_CG_MARK_VALUE_CREATED) == 0 ? "created" : "did not create");
}

enum mr_cg_mark
mr_cg_mark_get (const char *dir)
{
  bool unsupported = false;
  for (size_t i = mark_first (); i < 2; i++)
    {
      char buf[16];
      ssize_t n = getxattr (dir, mark_names[i], buf, sizeof buf - 1);
      if (n >= 0)
        {
          buf[n] = '\0';
          if (strcmp (buf, MR_CG_MARK_VALUE_CREATED) == 0)
            return MR_CG_MARK_CREATED;
          if (strcmp (buf, MR_CG_MARK_VALUE_FOREIGN) == 0)
            return MR_CG_MARK_FOREIGN;
          continue;
        }
      if (errno == ENOENT)
        return MR_CG_MARK_NONE;
      if (errno == EOPNOTSUPP)
        unsupported = true;
    }
  return unsupported ? MR_CG_MARK_UNKNOWN : MR_CG_MARK_NONE;
}

void
mr_cg_mark_clear (const char *dir)
{
  for (size_t i = mark_first (); i < 2; i++)
    if (removexattr (dir, mark_names[i]) < 0 && errno != ENODATA && errno != ENOENT && errno != EOPNOTSUPP)
      mr_log_warning ("cannot remove %s from cgroup `%s`: %s", mark_names[i], dir, strerror (errno));
}
