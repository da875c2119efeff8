/* common/writers.h: the controller writers that are the same on cgroup v1
 * and v2 (common/writers.c): cpuset.cpus/mems, pids.max, rdma.max, the
 * huge page limits (only the file suffix differs), one per-device rate
 * writer for the block I/O throttles (v1 blkio.throttle.* and v2 io.max),
 * and the memory.stat text.  Each takes the directory to write. */
#ifndef MINIRUN_CGROUP_COMMON_WRITERS_H
#define MINIRUN_CGROUP_COMMON_WRITERS_H

#include <stdbool.h>
#include <stddef.h>

#include "minirun/config.h"
#include "minirun/error.h"

int mr_cg_write_cpuset (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
/* pids.limit > 0: the number, else "max" (-1 and 0 given alike). */
int mr_cg_write_pids (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
int mr_cg_write_rdma (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err);
/* hugetlb.<size>.<suffix> for every hugepageLimits entry (v1 "limit_in_bytes",
 * v2 "max"); a size the host lacks is refused; an explicit 0 is written. */
int mr_cg_write_hugetlb (const char *dir, const struct mr_resources *res, const char *suffix,
                         mr_error_t *err);
/* One line "<major>:<minor> <key>=<rate>" (key NULL: "<major>:<minor> <rate>")
 * per device into dir/file; errors name `cfg`[i]. */
int mr_cg_write_device_rates (const char *dir, const char *file, const char *key, const char *cfg,
                              const struct mr_throttle_device *t, size_t n, mr_error_t *err);
/* dir/memory.stat into *out (NULL when dir is NULL or the cgroup is gone). */
int mr_cg_read_memory_stat (const char *dir, char **out, mr_error_t *err);

#endif
