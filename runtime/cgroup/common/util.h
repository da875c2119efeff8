/* common/util.h: the small helpers every cgroup file uses (common/util.c):
 * reading and writing a controller file with errors that name the config
 * path, the "key value" and single-number formats, cgroup.procs, polling a
 * file until it reports a state, the host's huge page sizes, word lists. */
#ifndef MINIRUN_CGROUP_COMMON_UTIL_H
#define MINIRUN_CGROUP_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/error.h"

/* Is `item` one of the `sep`-separated words of `list`? */
bool mr_cg_list_has (const char *list, char sep, const char *item);
/* File helpers: `dir` is an absolute directory, `file` a name in it.  `cfg`
 * (may be NULL) is the config path named in errors; a missing file is
 * reported as "not available". */
int mr_cg_write (const char *dir, const char *file, const char *value, const char *cfg, mr_error_t *err);
int mr_cg_writef (const char *dir, const char *file, const char *cfg, mr_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
int mr_cg_read (const char *dir, const char *file, char **out, mr_error_t *err);
bool mr_cg_exists (const char *dir, const char *file);
/* "key value" lines (memory.stat, cpu.stat, cgroup.events): value of key or `def`. */
uint64_t mr_cg_kv (const char *text, const char *key, uint64_t def);
/* A single number file; "max" gives 0; missing or junk gives 0. */
uint64_t mr_cg_read_u64 (const char *dir, const char *file);
/* The pids in dir/cgroup.procs; a missing directory has none (dir NULL too). */
int mr_cg_procs_read (const char *dir, pid_t **pids, size_t *n, mr_error_t *err);
/* Poll dir/file (1 ms steps) until its `key` line (or, key NULL, its content) is `want`. */
int mr_cg_wait_file (const char *dir, const char *file, const char *key, const char *want, int timeout_ms,
                     mr_error_t *err);
/* The host's huge page sizes as cgroup file names ("2MB", "1GB"). */
size_t mr_cg_hugepage_sizes (char (*names)[16], size_t max);

/* An optional value given and not zero: "given with a zero value is not written". */
#define MR_CG_SET(o) ((o).set && (o).v != 0)

#endif
