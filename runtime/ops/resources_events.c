/* resources_events.c: runc's `events` stream for one container: the stats
 * event JSON ({"type":"stats","id":..,"data":{cpu, memory, pids, hugetlb}},
 * runc's field names) and the loop that emits it every interval plus an
 * {"type":"oom"} event per OOM kill, until the container's init exits.  The
 * loop holds no lock while it waits: it watches the init through a pidfd
 * verified at start and the memory controller through the cgroup's OOM
 * notification (cgroup_stats.c), rechecking the kill count quickly after a
 * notification (v1 signals before the kill is counted) and now and then
 * without one, and once more when the init has exited, so an OOM kill that
 * ends the container is still reported. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "ops/resources_internal.h"
#include "base/utils.h"

#define RECHECK_MS 1000   /* OOM count check without a notification */
#define RECHECK_FAST_MS 2 /* ... right after one, for FAST_WINDOW_MS */
#define FAST_WINDOW_MS 200
#define POLL_NO_WATCH_MS 50 /* no notification available at all */

static json_t *
u64 (uint64_t v)
{
  return json_integer (v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *
mem_entry (const struct mr_stats_memory_entry *e)
{
  return json_pack ("{s:o, s:o, s:o, s:o}", "limit", u64 (e->limit), "usage", u64 (e->usage), "max",
                    u64 (e->max), "failcnt", u64 (e->failcnt));
}

char *
mr_container_stats_json (const char *id, const struct mr_container_stats *s)
{
  json_t *percpu = json_array (), *raw = json_object (), *huge = json_object (), *ev;
  char *out;

  for (size_t i = 0; i < s->cpu.n_percpu; i++)
    json_array_append_new (percpu, u64 (s->cpu.percpu[i]));
  for (size_t i = 0; i < s->memory.n_raw; i++)
    json_object_set_new (raw, s->memory.raw[i].key, u64 (s->memory.raw[i].value));
  for (size_t i = 0; i < s->n_hugetlb; i++)
    json_object_set_new (huge, s->hugetlb[i].page_size,
                         json_pack ("{s:o, s:o, s:o}", "usage", u64 (s->hugetlb[i].usage), "max",
                                    u64 (s->hugetlb[i].max), "failcnt", u64 (s->hugetlb[i].failcnt)));
  ev = json_pack ("{s:s, s:s, s:{s:{s:{s:o, s:o, s:o, s:o}, s:{s:o, s:o, s:o}}, s:{s:o, s:o, s:o, s:o}, "
                  "s:{s:o, s:o}, s:o}}",
                  "type", "stats", "id", id, "data",
                  /* cpu */
                  "cpu", "usage", "total", u64 (s->cpu.total), "percpu", percpu, "kernel",
                  u64 (s->cpu.kernel), "user", u64 (s->cpu.user), "throttling", "periods",
                  u64 (s->cpu.periods), "throttledPeriods", u64 (s->cpu.throttled_periods), "throttledTime",
                  u64 (s->cpu.throttled_time),
                  /* memory */
                  "memory", "cache", u64 (s->memory.cache), "usage", mem_entry (&s->memory.usage), "swap",
                  mem_entry (&s->memory.swap), "raw", raw,
                  /* pids, hugetlb */
                  "pids", "current", u64 (s->pids.current), "limit", u64 (s->pids.limit), "hugetlb", huge);
  if (ev == NULL)
    return NULL;
  out = json_dumps (ev, JSON_COMPACT);
  json_decref (ev);
  return out;
}

struct stream
{
  const char *id;
  struct mr_cgroup *cg;
  mr_event_fn fn;
  void *data;
  uint64_t oom_seen;
};

/* One "oom" event per kill counted since the last look. */
static int
report_ooms (struct stream *s, mr_error_t *err)
{
  uint64_t count;
  if (mr_cgroup_oom_kills (s->cg, &count, err) < 0)
    return -1;
  for (; s->oom_seen < count; s->oom_seen++)
    {
      cleanup_free char *line = NULL;
      json_t *ev = json_pack ("{s:s, s:s}", "type", "oom", "id", s->id);
      int r;
      line = ev ? json_dumps (ev, JSON_COMPACT) : NULL;
      json_decref (ev);
      if (line == NULL)
        return mr_error_set (err, ENOMEM, "encode an oom event");
      r = s->fn (line, s->data);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
report_stats (struct stream *s, mr_error_t *err)
{
  struct mr_container_stats st;
  cleanup_free char *line = NULL;

  if (mr_res_fill_stats (s->cg, &st, err) < 0)
    return -1;
  line = mr_container_stats_json (s->id, &st);
  mr_container_stats_clear (&st);
  if (line == NULL)
    return mr_error_set (err, ENOMEM, "encode a stats event");
  return s->fn (line, s->data);
}

/* The container stopped and its cgroup went with it (a foreground `run`
 * removes it the moment the init exits): the end of the stream, not an
 * error.  Consumes *err when so. */
static bool
cgroup_gone (int pidfd, mr_error_t *err)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  int e = *err ? (*err)->errno_ : 0;
  if ((e != ENOENT && e != ENODEV) || poll (&p, 1, 0) <= 0)
    return false;
  mr_error_free (err);
  return true;
}

static int
stream (struct stream *s, int pidfd, int watch, int interval_ms, mr_error_t *err)
{
  long long next_stats = mr_now_ms () + interval_ms, fast_until = 0;
  char drain[4096];

  for (;;)
    {
      struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = watch, .events = POLLIN | POLLPRI } };
      long long now = mr_now_ms (), timeout = next_stats - now;
      long cap = now < fast_until ? RECHECK_FAST_MS : watch >= 0 ? RECHECK_MS : POLL_NO_WATCH_MS;
      bool exited;
      int r;

      if (timeout > cap)
        timeout = cap;
      if (timeout < 0)
        timeout = 0;
      r = poll (p, watch >= 0 ? 2 : 1, (int)timeout);
      if (r < 0 && errno != EINTR)
        return mr_error_set (err, errno, "events `%s`: poll", s->id);
      exited = r > 0 && p[0].revents != 0;
      if (r > 0 && watch >= 0 && p[1].revents != 0)
        {
          while (read (watch, drain, sizeof drain) > 0)
            ;
          fast_until = mr_now_ms () + FAST_WINDOW_MS;
        }
      r = report_ooms (s, err);
      if (r < 0 && cgroup_gone (pidfd, err))
        return 0;
      if (r < 0 || exited)
        return r;
      if (mr_now_ms () >= next_stats)
        {
          r = report_stats (s, err);
          if (r < 0 && cgroup_gone (pidfd, err))
            return 0;
          if (r < 0)
            return r;
          next_stats += interval_ms;
          if (next_stats <= mr_now_ms ())
            next_stats = mr_now_ms () + interval_ms;
        }
    }
}

int
mr_container_events (const char *root, const char *id, int interval_ms, mr_event_fn fn, void *data,
                     mr_error_t *err)
{
  struct mr_handle t;
  struct stream s = { .id = id, .fn = fn, .data = data };
  cleanup_close int pidfd = -1, watch = -1;
  mr_error_t werr = NULL;
  int ret = -1;

  if (interval_ms <= 0)
    return mr_error_set (err, EINVAL, "events: the interval must be positive (got %d ms)", interval_ms);
  if (mr_handle_open (root, id, false, &t, err) < 0)
    return -1;
  if (t.status == MR_STATUS_STOPPED || t.status == MR_STATUS_CREATING)
    {
      mr_error_set_explained (err, ESRCH, "container `%s` is not running (it is %s)", id,
                              mr_status_name (t.status));
      goto out;
    }
  if (mr_handle_cgroup (&t, "watch the events of", err) < 0)
    goto out;
  pidfd = mr_state_open_pidfd (t.st);
  if (pidfd < 0)
    {
      mr_error_set_explained (err, ESRCH, "container `%s` is not running (its init is gone)", id);
      goto out;
    }
  /* From here on the pidfd and the cgroup say all we need: let others act. */
  mr_handle_unlock (&t);
  s.cg = t.cg;
  if (mr_cgroup_oom_watch (t.cg, &watch, &werr) < 0)
    {
      mr_log_debug ("events `%s`: no OOM notification, polling: %s", id, werr->msg);
      mr_error_free (&werr);
    }
  if (mr_cgroup_oom_kills (t.cg, &s.oom_seen, err) < 0)
    goto out;
  ret = stream (&s, pidfd, watch, interval_ms, err);
out:
  mr_handle_close (&t);
  return ret;
}
