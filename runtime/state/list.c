/* list.c: every container under a state root, for `list`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "minirun/minirun.h"
#include "state/state.h"
#include "base/utils.h"

int
mr_container_list (const char *root, struct mr_container_info **out, size_t *n_out, mr_error_t *err)
{
  cleanup_strv char **ids = NULL;
  struct mr_container_info *list;
  size_t n = 0, n_out_count = 0;

  if (mr_state_list (root, &ids, &n, err) < 0)
    return -1;
  list = xcalloc (n + 1, sizeof *list);
  for (size_t i = 0; i < n; i++)
    {
      struct mr_container_info *ci;
      mr_error_t e = NULL;
      struct mr_state *st = NULL;
      int fd = mr_state_dir_peek (root, ids[i], &e);

      if (fd < 0 && e && e->errno_ == ENOENT)
        {
          /* deleted while we listed */
          mr_error_free (&e);
          continue;
        }
      ci = &list[n_out_count++];
      ci->id = xstrdup (ids[i]);
      ci->status = "unknown";
      if (fd >= 0 && mr_state_read (fd, ids[i], &st, &e) == 0)
        {
          enum mr_status s = mr_state_status (st);
          ci->status = mr_status_name (s);
          ci->pid = s == MR_STATUS_STOPPED ? 0 : st->pid;
          ci->bundle = MR_STEAL (st->bundle);
          ci->rootfs = MR_STEAL (st->rootfs);
          ci->created = MR_STEAL (st->created);
          ci->owner = MR_STEAL (st->owner);
        }
      else if (e && e->errno_ == ENOENT)
        ci->status = "creating";
      mr_error_free (&e);
      mr_state_free (st);
      if (fd >= 0)
        close (fd);
    }
  *out = list;
  *n_out = n_out_count;
  return 0;
}

void
mr_container_list_free (struct mr_container_info *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (list[i].id);
      free (list[i].bundle);
      free (list[i].rootfs);
      free (list[i].created);
      free (list[i].owner);
    }
  free (list);
}

char *
mr_container_list_json (const struct mr_container_info *list, size_t n)
{
  json_t *arr = json_array ();
  char *dump;

  for (size_t i = 0; i < n; i++)
    json_array_append_new (arr, json_pack ("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "ociVersion", MR_OCI_VERSION, "id",
                                           list[i].id, "pid", (json_int_t) list[i].pid, "status", list[i].status,
                                           "bundle", list[i].bundle ?: "", "rootfs", list[i].rootfs ?: "",
                                           "created", list[i].created ?: "", "owner", list[i].owner ?: ""));
  dump = json_dumps (arr, JSON_COMPACT);
  json_decref (arr);
  return dump;
}
