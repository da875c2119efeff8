/* common/signal.h: signalling every process of a container's cgroup with
 * the freezer closing the races (common/signal.c), for drivers whose
 * kernel interface has no kill-all of its own. */
#ifndef MINIRUN_CGROUP_COMMON_SIGNAL_H
#define MINIRUN_CGROUP_COMMON_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/common/cg.h"

/* A driver's freeze and pids operations (struct mr_cgroup_driver). */
typedef int (*mr_cg_freeze_fn) (struct mr_cgroup *cg, bool frozen, mr_error_t *err);
typedef int (*mr_cg_pids_fn) (const struct mr_cgroup *cg, pid_t **pids, size_t *n, mr_error_t *err);

/* Send `sig` to every pid `pids` lists; for SIGKILL freeze first and thaw
 * after (a freeze that fails is logged and the kill goes on). */
int mr_cg_signal_all (struct mr_cgroup *cg, int sig, mr_cg_freeze_fn freeze, mr_cg_pids_fn pids,
                      mr_error_t *err);

#endif
