/* resources_internal.h: what resources_ops.c and resources_events.c share
 * besides the container handle (state/handle.h: lock, state, true status,
 * then the cgroup with the "container has no cgroup" error): turning the
 * cgroup's counters into the public stats struct. */
#ifndef MINIRUN_RESOURCES_INTERNAL_H
#define MINIRUN_RESOURCES_INTERNAL_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "minirun/resources.h"
#include "state/handle.h"

/* Every counter of cg into *out (zeroed first); clear with mr_container_stats_clear. */
int mr_res_fill_stats (const struct mr_cgroup *cg, struct mr_container_stats *out, mr_error_t *err);

#endif
