/* minirun/resources.h: a live container's cgroup from the outside: pause and
 * resume (the freezer), update (new linux.resources on the running
 * container), statistics and the event stream of `minirun events` (runc's
 * JSON lines), and the parser for `update --resources FILE`.  Every call
 * follows the error convention of minirun/error.h; a container created
 * without a cgroup (rootless without delegation) gives "container has no
 * cgroup". */
#ifndef MINIRUN_RESOURCES_H
#define MINIRUN_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minirun/config.h"
#include "minirun/error.h"

/* Freeze every process of a running container and record it as paused
 * (`state` and `list` say "paused").  Only a running container. */
int mr_container_pause (const char *root, const char *id, mr_error_t *err);
/* Thaw a paused container and record it as running again.  Only a paused one. */
int mr_container_resume (const char *root, const char *id, mr_error_t *err);
/* Apply `res` to the container's cgroup (created, running or paused).  Only
 * the values given change (an unset or 0 value leaves the current one);
 * -1 means unlimited for memory, swap and pids.  linux.resources.devices is
 * not changed by an update (as with runc): it is ignored with a warning. */
int mr_container_update (const char *root, const char *id, const struct mr_resources *res, mr_error_t *err);
/* update --l3-cache-schema / --mem-bw-schema: schemata lines (NULL: not
 * given) for the container's resctrl group (its config's linux.intelRdt). */
int mr_container_update_rdt (const char *root, const char *id, const char *l3, const char *mb, mr_error_t *err);

/* ---------- statistics ---------- */

struct mr_stats_memory_entry
{
  uint64_t usage, max, failcnt, limit; /* bytes; limit as the kernel reports "unlimited" */
};

struct mr_stats_value
{
  char *key;
  uint64_t value;
};

/* A container's resource usage, 0 where the host has no such counter. */
struct mr_container_stats
{
  struct
  {
    uint64_t total, kernel, user; /* ns */
    uint64_t *percpu;             /* ns per CPU (cgroup v1 cpuacct only) */
    size_t n_percpu;
    uint64_t periods, throttled_periods, throttled_time; /* throttled_time in ns */
  } cpu;
  struct
  {
    struct mr_stats_memory_entry usage;
    struct mr_stats_memory_entry swap; /* memory+swap, cgroup v1 meaning (also on v2) */
    uint64_t cache;
    uint64_t oom_kill;          /* processes killed by the OOM killer so far */
    struct mr_stats_value *raw; /* memory.stat as read */
    size_t n_raw;
  } memory;
  struct
  {
    uint64_t current, limit; /* limit 0: unlimited */
  } pids;
  struct
  {
    char page_size[16]; /* "2MB" */
    uint64_t usage, max, failcnt;
  } hugetlb[4];
  size_t n_hugetlb;
};

/* The stats of a created, running or paused container (ESRCH: "not running"
 * when it is stopped).  Release with mr_container_stats_clear(). */
int mr_container_stats (const char *root, const char *id, struct mr_container_stats *out, mr_error_t *err);
void mr_container_stats_clear (struct mr_container_stats *s);
/* runc's stats event, one line without the newline: {"type":"stats","id":ID,
 * "data":{"cpu":...,"memory":...,"pids":...,"hugetlb":...}} (caller frees). */
char *mr_container_stats_json (const char *id, const struct mr_container_stats *s);

/* ---------- events ---------- */

/* Called with each event line (no newline); return < 0 to stop the stream. */
typedef int (*mr_event_fn) (const char *json_line, void *data);

/* runc's `events`: a stats event every interval_ms (the first after one
 * interval) and an {"type":"oom","id":ID} event each time the OOM killer
 * kills a process of the container, until the container stops (returns 0,
 * after reporting the OOM kills that stopped it) or fn returns < 0 (returns
 * that value, *err untouched).  The container is not locked while waiting. */
int mr_container_events (const char *root, const char *id, int interval_ms, mr_event_fn fn, void *data,
                         mr_error_t *err);

/* ---------- update --resources FILE ---------- */

/* Parse an OCI LinuxResources JSON object (what linux.resources holds) from
 * `path`, "-" for stdin, into *out (zeroed first).  Errors name the file and
 * the JSON path ("res.json: memory.limit: expected an integer, ...").
 * Release with mr_resources_free(). */
int mr_resources_parse_file (const char *path, struct mr_resources *out, mr_error_t *err);
/* Release what *res holds (not res itself) and zero it. */
void mr_resources_free (struct mr_resources *res);

#endif
