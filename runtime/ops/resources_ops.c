/* resources_ops.c: pause, resume, update and stats of an existing container.
 * Each takes the container's lock (exclusive to change it, shared to read),
 * derives the true status from the facts (state.c), refuses what does not
 * fit that status with a message saying what it is, and acts on the cgroup
 * recorded in the state (a container without one gives "container has no
 * cgroup").  Pause and resume record the new status, so `state` and `list`
 * show it; a failure to record it undoes the freeze or thaw. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "ops/resources_internal.h"
#include "resctrl/resctrl.h"
#include "base/utils.h"

/* Freeze or thaw, then record `to`; on a failure to record, undo. */
static int
set_frozen (const char *root, const char *id, bool frozen, mr_error_t *err)
{
  const char *what = frozen ? "pause" : "resume";
  enum mr_status want = frozen ? MR_STATUS_RUNNING : MR_STATUS_PAUSED;
  struct mr_handle t;
  int ret = -1;

  if (mr_handle_open (root, id, true, &t, err) < 0)
    return -1;
  if (t.status != want)
    {
      if (frozen && t.status == MR_STATUS_PAUSED)
        mr_error_set (err, 0, "cannot %s container `%s`: it is already %s", what, id,
                      mr_status_name (t.status));
      else
        mr_error_set (err, 0, "cannot %s container `%s`: it is %s, not %s", what, id,
                      mr_status_name (t.status), mr_status_name (want));
      goto out;
    }
  if (mr_handle_cgroup (&t, what, err) < 0)
    goto out;
  if (mr_cgroup_freeze (t.cg, frozen, err) < 0)
    {
      mr_error_wrap (err, "cannot %s container `%s`", what, id);
      goto out;
    }
  t.st->status = frozen ? MR_STATUS_PAUSED : MR_STATUS_RUNNING;
  if (mr_state_write (t.dirfd, t.st, err) < 0)
    {
      mr_error_t undo = NULL;
      if (mr_cgroup_freeze (t.cg, !frozen, &undo) < 0)
        {
          mr_log_warning ("%s `%s`: undo after a failed state write: %s", what, id, undo->msg);
          mr_error_free (&undo);
        }
      mr_error_wrap (err, "cannot %s container `%s`", what, id);
      goto out;
    }
  ret = 0;
out:
  mr_handle_close (&t);
  return ret;
}

int
mr_container_pause (const char *root, const char *id, mr_error_t *err)
{
  return set_frozen (root, id, true, err);
}

int
mr_container_resume (const char *root, const char *id, mr_error_t *err)
{
  return set_frozen (root, id, false, err);
}

int
mr_container_update_rdt (const char *root, const char *id, const char *l3, const char *mb, mr_error_t *err)
{
  struct mr_handle t;
  struct mr_rdt g = { 0 };
  int ret = -1;

  if (mr_handle_open (root, id, true, &t, err) < 0)
    return -1;
  if (t.status != MR_STATUS_CREATED && t.status != MR_STATUS_RUNNING && t.status != MR_STATUS_PAUSED)
    mr_error_set (err, 0, "cannot update container `%s`: it is %s", id, mr_status_name (t.status));
  else if (mr_rdt_load (t.dirfd, &g, err) == 0)
    {
      if (g.dir == NULL)
        mr_error_set (err, 0, "update `%s`: --l3-cache-schema/--mem-bw-schema: the container has no resctrl "
                      "group (its config has no linux.intelRdt)", id);
      else if (mr_rdt_update (&g, l3, mb, err) == 0)
        ret = 0;
      else
        mr_error_wrap (err, "update `%s`", id);
    }
  mr_rdt_clear (&g);
  mr_handle_close (&t);
  return ret;
}

int
mr_container_update (const char *root, const char *id, const struct mr_resources *res, mr_error_t *err)
{
  struct mr_handle t;
  struct mr_resources r = *res; /* shallow: only the device list is dropped */
  int ret = -1;

  if (mr_handle_open (root, id, true, &t, err) < 0)
    return -1;
  if (t.status != MR_STATUS_CREATED && t.status != MR_STATUS_RUNNING && t.status != MR_STATUS_PAUSED)
    {
      mr_error_set (err, 0, "cannot update container `%s`: it is %s", id, mr_status_name (t.status));
      goto out;
    }
  if (mr_handle_cgroup (&t, "update", err) < 0)
    goto out;
  if (r.n_devices > 0)
    {
      mr_log_warning ("update `%s`: linux.resources.devices ignored: the device rules of a container are "
                      "set when it is created",
                      id);
      r.devices = NULL;
      r.n_devices = 0;
    }
  r.present = true;
  if (mr_cgroup_update (t.cg, &r, err) < 0)
    {
      mr_error_wrap (err, "update container `%s`", id);
      goto out;
    }
  ret = 0;
out:
  mr_handle_close (&t);
  return ret;
}

/* ---------- stats ---------- */

static void
parse_raw (const char *text, struct mr_container_stats *out)
{
  for (const char *p = text; p && *p;)
    {
      const char *nl = strchr (p, '\n'), *sp = strchr (p, ' ');
      size_t len = nl ? (size_t)(nl - p) : strlen (p);
      if (sp && (size_t)(sp - p) < len && sp > p)
        {
          struct mr_stats_value *v;
          out->memory.raw = xrealloc (out->memory.raw, (out->memory.n_raw + 1) * sizeof *out->memory.raw);
          v = &out->memory.raw[out->memory.n_raw++];
          v->key = strndup (p, (size_t)(sp - p));
          if (v->key == NULL)
            abort ();
          v->value = strtoull (sp + 1, NULL, 10);
        }
      p = nl ? nl + 1 : NULL;
    }
}

int
mr_res_fill_stats (const struct mr_cgroup *cg, struct mr_container_stats *out, mr_error_t *err)
{
  struct mr_cgroup_stats s;
  cleanup_free char *memstat = NULL;

  memset (out, 0, sizeof *out);
  if (mr_cgroup_stats (cg, &s, err) < 0
      || mr_cgroup_stats_detail (cg, &out->cpu.percpu, &out->cpu.n_percpu, &memstat, err) < 0)
    return -1;
  out->cpu.total = s.cpu.usage_total;
  out->cpu.kernel = s.cpu.usage_kernel;
  out->cpu.user = s.cpu.usage_user;
  out->cpu.periods = s.cpu.periods;
  out->cpu.throttled_periods = s.cpu.throttled_periods;
  out->cpu.throttled_time = s.cpu.throttled_time;
  out->memory.usage = (struct mr_stats_memory_entry){
    .usage = s.memory.usage, .max = s.memory.max_usage, .failcnt = s.memory.failcnt, .limit = s.memory.limit
  };
  out->memory.swap
      = (struct mr_stats_memory_entry){ .usage = s.memory.swap_usage, .limit = s.memory.swap_limit };
  out->memory.cache = s.memory.cache;
  out->memory.oom_kill = s.memory.oom_kill;
  parse_raw (memstat, out);
  out->pids.current = s.pids.current;
  out->pids.limit = s.pids.limit;
  out->n_hugetlb = s.n_hugetlb < 4 ? s.n_hugetlb : 4;
  for (size_t i = 0; i < out->n_hugetlb; i++)
    {
      memcpy (out->hugetlb[i].page_size, s.hugetlb[i].page_size, sizeof out->hugetlb[i].page_size);
      out->hugetlb[i].usage = s.hugetlb[i].usage;
      out->hugetlb[i].max = s.hugetlb[i].max_usage;
      out->hugetlb[i].failcnt = s.hugetlb[i].failcnt;
    }
  return 0;
}

int
mr_container_stats (const char *root, const char *id, struct mr_container_stats *out, mr_error_t *err)
{
  struct mr_handle t;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (mr_handle_open (root, id, false, &t, err) < 0)
    return -1;
  if (t.status == MR_STATUS_STOPPED || t.status == MR_STATUS_CREATING)
    mr_error_set_explained (err, ESRCH, "container `%s` is not running (it is %s)", id,
                            mr_status_name (t.status));
  else if (mr_handle_cgroup (&t, "read the stats of", err) == 0)
    ret = mr_res_fill_stats (t.cg, out, err);
  mr_handle_close (&t);
  return ret;
}

void
mr_container_stats_clear (struct mr_container_stats *s)
{
  free (s->cpu.percpu);
  for (size_t i = 0; i < s->memory.n_raw; i++)
    free (s->memory.raw[i].key);
  free (s->memory.raw);
  memset (s, 0, sizeof *s);
}
