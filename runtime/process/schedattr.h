/* schedattr.h: the kernel's per-process attributes of the OCI config, applied
 * to the calling process: process.scheduler (sched_setattr), process.ioPriority
 * (ioprio_set), process.execCPUAffinity (sched_setaffinity) and
 * linux.memoryPolicy (set_mempolicy).  Each error names the config field, the
 * syscall, its errno and what to change. */
#ifndef MINIRUN_SCHEDATTR_H
#define MINIRUN_SCHEDATTR_H

#include <sched.h>
#include <stdbool.h>

#include "minirun/config.h"
#include "minirun/error.h"

/* sched_setattr(0, ...) when s->present. */
int mr_sched_apply (const struct mr_scheduler *s, mr_error_t *err);

/* ioprio_set(IOPRIO_WHO_PROCESS, 0, ...) when io->present. */
int mr_ioprio_apply (const struct mr_io_priority *io, mr_error_t *err);

/* sched_setaffinity(0) to process.execCPUAffinity.final, when set. */
int mr_affinity_apply_final (const struct mr_cpu_affinity *a, mr_error_t *err);

/* process.execCPUAffinity.initial, for the runtime's own process while it
 * sets the exec up (its child inherits it): when set, *saved gets the
 * current affinity, *pushed becomes true and the affinity is set. */
int mr_affinity_push_initial (const struct mr_cpu_affinity *a, cpu_set_t *saved, bool *pushed, mr_error_t *err);
/* Back to *saved after a push (a failure is a warning: only we are affected). */
void mr_affinity_pop (const cpu_set_t *saved, bool pushed);

/* linux.memoryPolicy against the host, before anything is created: every
 * node listed must be online (/sys/devices/system/node/online), unless
 * MPOL_F_RELATIVE_NODES or MPOL_F_STATIC_NODES let the kernel map them. */
int mr_mempolicy_check_host (const struct mr_memory_policy *mp, mr_error_t *err);

/* set_mempolicy(2) when mp->present. */
int mr_mempolicy_apply (const struct mr_memory_policy *mp, mr_error_t *err);

#endif
