/* minirun/util.h: the few small helpers of the library that a program using
 * it (the CLI among them) needs too: number and signal-name parsing, and a
 * write that finishes. */
#ifndef MINIRUN_UTIL_H
#define MINIRUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a decimal integer in [min,max]; returns false on junk or overflow. */
bool mr_parse_i64 (const char *s, int64_t min, int64_t max, int64_t *out);

/* Signal names: "KILL", "SIGKILL", "9" -> 9. Returns -1 if unknown. */
int mr_signal_parse (const char *name);
/* "SIGKILL" for 9; NULL when the number has no name. */
const char *mr_signal_name (int sig);

/* Write all of buf to fd, retrying on EINTR and short writes; -1 with errno
 * set on failure. */
int mr_write_all (int fd, const void *buf, size_t len);

#endif
