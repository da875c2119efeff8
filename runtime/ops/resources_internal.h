/* resources_internal.h: what resources_ops.c and resources_events.c share:
 * opening a container for an operation on its cgroup (lock, state, true
 * status, then the cgroup with the "container has no cgroup" error) and
 * turning the cgroup's counters into the public stats struct. */
#ifndef MINIRUN_RESOURCES_INTERNAL_H
#define MINIRUN_RESOURCES_INTERNAL_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "minirun/resources.h"
#include "state/state.h"

struct mr_res_target
{
  int dirfd; /* state directory, locked; -1 once released */
  struct mr_state *st;
  enum mr_status status; /* the true status (mr_state_status) */
  struct mr_cgroup *cg;  /* after mr_res_cgroup() */
};

/* Lock (exclusive or shared) and read the container `id` under root. */
int mr_res_open (const char *root, const char *id, bool exclusive, struct mr_res_target *t, mr_error_t *err);
/* Open its cgroup; `what` ("pause") names the operation in errors. */
int mr_res_cgroup (struct mr_res_target *t, const char *what, mr_error_t *err);
/* Drop the lock (the state and the cgroup stay usable). */
void mr_res_unlock (struct mr_res_target *t);
void mr_res_close (struct mr_res_target *t);

/* Every counter of cg into *out (zeroed first); clear with mr_container_stats_clear. */
int mr_res_fill_stats (const struct mr_cgroup *cg, struct mr_container_stats *out, mr_error_t *err);

#endif
