/* utils.h: small helpers shared by the runtime: checked allocation, whole-file
 * reads and writes, atomic writes, string vectors, number parsing (the ones
 * programs using the library need too are public: minirun/util.h). */
#ifndef MINIRUN_UTILS_H
#define MINIRUN_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/error.h"
#include "minirun/util.h"

/* Allocation failure is fatal (abort with a message): a runtime cannot do
 * anything sensible without a few hundred bytes. */
void *xmalloc (size_t size);
void *xcalloc (size_t n, size_t size);
void *xrealloc (void *p, size_t size);
char *xstrdup (const char *s);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Write a string to dirfd/path (O_WRONLY, no O_CREAT, O_CLOEXEC). dirfd may be AT_FDCWD. */
int mr_write_file_at (int dirfd, const char *path, const char *data, size_t len, mr_error_t *err);
/* Read a whole file (up to max bytes; more is an error E2BIG) into a NUL-terminated buffer. */
int mr_read_file_at (int dirfd, const char *path, size_t max, char **out, size_t *len, mr_error_t *err);
/* Write to dir/name atomically: temp file in the same dir, fsync-free, rename. */
int mr_write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode, mr_error_t *err);

/* CLOCK_MONOTONIC in milliseconds: deadlines and intervals. */
long long mr_now_ms (void);

/* mkdir -p; existing directories are fine. */
int mr_mkdir_p (const char *path, mode_t mode, mr_error_t *err);

/* Read a file holding one integer (a /proc/sys value) in [min,max];
 * returns false when it cannot be read or parsed. */
bool mr_read_int_file (const char *path, int64_t min, int64_t max, int64_t *out);

/* The fields of /proc/<pid>/stat minirun needs, read in one go. */
struct mr_proc_stat
{
  char comm[64];
  char state;                  /* 'R', 'S', 'Z', ... */
  pid_t ppid, pgrp, session;
  unsigned long long start_time; /* field 22, clock ticks since boot */
};
bool mr_proc_stat_read (pid_t pid, struct mr_proc_stat *out);

#endif
