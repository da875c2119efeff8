/* criu_inherit.c: the fds a restore hands to CRIU in place of what the
 * checkpointed container had outside it: the init's stdio (a pipe becomes
 * restore's own fd, a host file is opened again, a device or FIFO is
 * restore's own fd when of the same kind) and the namespaces joined by path
 * (network, pid: CRIU's external namespaces; ipc, uts, time, user: joined
 * again).  They are opened without O_CLOEXEC: `criu swrk` inherits them. */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/criu.h>

#include "ops/criu.h"

/* The fd CRIU is to use for the init's fd `fd`: a pipe is replaced by our
 * own fd `fd` (as runc: podman's conmon gives restore new pipes); a host
 * file is opened again by its path (CRIU checks that a regular file is the
 * same one); a device or FIFO is our fd when that is one of the same kind,
 * else it is opened again.  -1 when our fd is used as it is. */
static int
stdio_fd (const struct mr_criu_record *rec, int fd, mr_error_t *err)
{
  struct stat st;
  int flags, nfd;

  if (strncmp (rec->stdio[fd], "pipe:", 5) == 0 || rec->stdio_path[fd] == NULL)
    return -1;
  if (rec->stdio_type[fd] != S_IFREG && fstat (fd, &st) == 0 && (st.st_mode & S_IFMT) == rec->stdio_type[fd])
    return -1;
  flags = (rec->stdio_flags[fd] & (O_ACCMODE | O_APPEND)) | O_NOCTTY;
  if (rec->stdio_type[fd] == S_IFIFO)
    flags = (flags & ~O_ACCMODE) | O_RDWR; /* never blocks for want of a peer */
  /* no O_CLOEXEC: `criu swrk` inherits it */
  nfd = open (rec->stdio_path[fd], flags);
  if (nfd < 0)
    return mr_error_set (err, errno,
                         "the checkpointed init's fd %d was `%s` on the host; open it again for the restored "
                         "one (a file must still be there, unchanged: CRIU checks its size)",
                         fd, rec->stdio_path[fd]);
  return nfd;
}

/* The fds CRIU connects in place of the checkpointed ones: the init's stdio
 * (stdio_fd; a closed fd of ours becomes /dev/null), the namespaces joined
 * by path.  These are opened without O_CLOEXEC: `criu swrk` inherits them;
 * extra[] collects them for the caller to close. */
int
mr_criu_inherit_fds (const struct mr_config *c, const struct mr_criu_record *rec, int extra[9],
                     mr_error_t *err)
{
  static const struct
  {
    enum mr_ns_type t;
    const char *key, *join;
  } ns[] = { { MR_NS_NET, MR_CRIU_EXT_NETNS, NULL },
             { MR_NS_PID, MR_CRIU_EXT_PIDNS, NULL },
             { MR_NS_IPC, NULL, "ipc" },
             { MR_NS_UTS, NULL, "uts" },
             { MR_NS_TIME, NULL, "time" },
             { MR_NS_USER, NULL, "user" } };

  for (int fd = 0; fd < 3; fd++)
    {
      int use = fd;
      if (rec->stdio[fd] == NULL)
        continue;
      if (fcntl (fd, F_GETFD) < 0)
        {
          int null = open ("/dev/null", O_RDWR);
          if (null < 0)
            return mr_error_set (err, errno, "open /dev/null for the closed fd %d", fd);
          if (null != fd)
            {
              dup2 (null, fd);
              close (null);
            }
        }
      extra[6 + fd] = stdio_fd (rec, fd, err);
      if (extra[6 + fd] < 0 && *err)
        return -1;
      if (extra[6 + fd] >= 0)
        use = extra[6 + fd];
      if (criu_add_inherit_fd (use, rec->stdio[fd]) < 0)
        return mr_error_set (err, ENOMEM, "libcriu: criu_add_inherit_fd");
    }
  if (c->namespaces[MR_NS_CGROUP].present && c->namespaces[MR_NS_CGROUP].path)
    return mr_error_set (err, ENOTSUP,
                         "linux.namespaces[%zu]: CRIU cannot restore into the existing cgroup "
                         "namespace `%s`",
                         c->namespaces[MR_NS_CGROUP].index, c->namespaces[MR_NS_CGROUP].path);
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    {
      const struct mr_namespace *n = &c->namespaces[ns[i].t];
      if (!n->present || n->path == NULL)
        continue;
      if (ns[i].join)
        {
          if (criu_join_ns_add (ns[i].join, n->path, NULL) < 0)
            return mr_error_set (err, ENOMEM, "libcriu: criu_join_ns_add");
          continue;
        }
      extra[i] = open (n->path, O_RDONLY);
      if (extra[i] < 0)
        return mr_error_set (err, errno, "linux.namespaces[%zu].path: open `%s`", n->index, n->path);
      if (criu_add_inherit_fd (extra[i], ns[i].key) < 0)
        return mr_error_set (err, ENOMEM, "libcriu: criu_add_inherit_fd");
    }
  return 0;
}
#endif
