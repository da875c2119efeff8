/* handle.c: opening an existing container for an operation (see handle.h):
 * the one place that locks a state directory, reads its state and derives
 * the true status for the commands that act on a container. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "state/handle.h"
#include "base/utils.h"

/* The config kept beside the state is at most this big (as create reads it). */
#define CONFIG_MAX (4 << 20)

int
mr_handle_lock (const char *root, const char *id, bool exclusive, struct mr_handle *h, mr_error_t *err)
{
  memset (h, 0, sizeof *h);
  h->dirfd = mr_state_dir_open (root, id, exclusive, err);
  return h->dirfd < 0 ? -1 : 0;
}

int
mr_handle_read (struct mr_handle *h, const char *id, mr_error_t *err)
{
  if (mr_state_read (h->dirfd, id, &h->st, err) < 0)
    return -1;
  h->status = mr_state_status (h->st);
  return 0;
}

int
mr_handle_open (const char *root, const char *id, bool exclusive, struct mr_handle *h, mr_error_t *err)
{
  if (mr_handle_lock (root, id, exclusive, h, err) < 0)
    return -1;
  if (mr_handle_read (h, id, err) < 0)
    {
      mr_handle_close (h);
      return -1;
    }
  return 0;
}

int
mr_handle_cgroup (struct mr_handle *h, const char *what, mr_error_t *err)
{
  if (h->st->cgroup_path == NULL || h->st->cgroup_path[0] == '\0')
    return mr_error_set_explained (
        err, ENOTSUP,
        "cannot %s container `%s`: container has no cgroup (it was created without one, "
        "as a rootless container without a delegated cgroup is)",
        what, h->st->id);
  if (mr_cgroup_open (h->st->cgroup_path, &h->cg, err) < 0)
    return mr_error_wrap (err, "cannot %s container `%s`", what, h->st->id);
  return 0;
}

int
mr_handle_config (const struct mr_handle *h, struct mr_config **out, mr_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len;

  *out = NULL;
  if (mr_read_file_at (h->dirfd, "config.json", CONFIG_MAX, &data, &len, err) < 0)
    return -1;
  return mr_config_parse_data (data, len, out, err);
}

void
mr_handle_unlock (struct mr_handle *h)
{
  if (h->dirfd >= 0)
    close (h->dirfd);
  h->dirfd = -1;
}

void
mr_handle_close (struct mr_handle *h)
{
  mr_handle_unlock (h);
  mr_cgroup_free (h->cg);
  mr_state_free (h->st);
  h->cg = NULL;
  h->st = NULL;
}
