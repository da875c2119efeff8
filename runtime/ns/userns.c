/* userns.c: user-namespace id maps, written by the parent into
 * /proc/PID/{setgroups,uid_map,gid_map} of a child that has just entered a
 * new user namespace.  Each map goes in one write(2) (the kernel accepts only
 * one), every range on its own "container host size" line; an unprivileged
 * (rootless) caller must deny setgroups before it may write gid_map. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "ns/ns.h"
#include "base/utils.h"

/* The kernel takes up to 340 ranges per map (Linux 4.15+). */
#define MAX_RANGES 340

static char *
format_map (const struct mr_idmap *m, size_t n)
{
  size_t cap = n * 33 + 1, len = 0;
  char *buf = xmalloc (cap);

  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf (buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  return buf;
}

/* "0 1000 1, 1 100000 65536" for error messages. */
static char *
describe_map (const struct mr_idmap *m, size_t n)
{
  size_t cap = n * 35 + 1, len = 0;
  char *buf = xmalloc (cap);

  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf (buf + len, cap - len, "%s%u %u %u", i ? ", " : "", m[i].container_id,
                              m[i].host_id, m[i].size);
  return buf;
}

int
mr_userns_write_map (pid_t pid, const char *file, const char *what, const struct mr_idmap *m, size_t n,
                     bool rootless, mr_error_t *err)
{
  cleanup_free char *map = NULL, *desc = NULL;
  cleanup_close int fd = -1;
  char path[64];
  ssize_t w;

  if (n == 0)
    return 0;
  if (n > MAX_RANGES)
    return mr_error_set (err, 0, "%s: %zu ranges, the kernel accepts at most %d", what, n, MAX_RANGES);
  for (size_t i = 0; i < n; i++)
    if (m[i].size == 0)
      return mr_error_set (err, 0, "%s[%zu].size: must be at least 1", what, i);
  map = format_map (m, n);
  desc = describe_map (m, n);
  (void) snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return mr_error_set (err, errno, "open `%s` to write %s `%s`", path, what, desc);
  do
    w = write (fd, map, strlen (map));
  while (w < 0 && errno == EINTR);
  if (w < 0)
    {
      int e = errno;
      const char *hint = "";
      if (e == EPERM && rootless)
        hint = " (without privileges only the caller's own id can be mapped, with size 1; use root or "
               "newuidmap)";
      else if (e == EPERM)
        hint
            = " (the map was already written, or the host ids are not mapped in the caller's user namespace)";
      else if (e == EINVAL)
        hint = " (ranges overlap or overflow)";
      return mr_error_set (err, e, "write %s `%s` to `%s`%s", what, desc, path, hint);
    }
  if ((size_t) w != strlen (map))
    return mr_error_set (err, EIO, "short write of %s `%s` to `%s`", what, desc, path);
  return 0;
}

int
mr_userns_write_maps (pid_t pid, const struct mr_config *config, bool rootless, mr_error_t *err)
{
  char path[64];

  if (config->n_uid_mappings == 0 && config->n_gid_mappings == 0)
    return mr_error_set (err, 0,
                         "linux.uidMappings and linux.gidMappings are empty: a new user namespace needs "
                         "at least one mapping");
  if (rootless && config->n_gid_mappings > 0)
    {
      mr_error_t e = NULL;
      (void) snprintf (path, sizeof path, "/proc/%d/setgroups", (int) pid);
      if (mr_write_file_at (AT_FDCWD, path, "deny", 4, &e) < 0)
        {
          /* Kernels before 3.19 have no setgroups file and need no deny. */
          if (e->errno_ != ENOENT)
            {
              *err = e;
              return mr_error_wrap (err, "deny setgroups before writing linux.gidMappings");
            }
          mr_error_free (&e);
        }
    }
  if (mr_userns_write_map (pid, "uid_map", "linux.uidMappings", config->uid_mappings, config->n_uid_mappings,
                           rootless, err)
      < 0)
    return -1;
  return mr_userns_write_map (pid, "gid_map", "linux.gidMappings", config->gid_mappings, config->n_gid_mappings,
                    rootless, err);
}
