/* minirun error values.
 *
 * One convention everywhere: a fallible function takes `mr_error_t *err` as its
 * last parameter, returns a negative value (or NULL) on failure and fills *err
 * with the errno that caused it (0 when none) and a message.  Callers add
 * context on the way up with mr_error_wrap(); the error is printed once, at the
 * top (cmd/), and freed there. */
#ifndef MINIRUN_ERROR_H
#define MINIRUN_ERROR_H

#include <stdarg.h>

struct mr_error
{
  int errno_;   /* errno of the failing syscall, 0 for a logic/config error */
  char *msg;    /* full message, already including strerror(errno_) if any */
};
typedef struct mr_error *mr_error_t;

/* Set *err (must be NULL) to a new error; returns -1 so callers can
 * `return mr_error_set (err, errno, "open `%s`", path);`.
 * If errno_ != 0 the message gets ": <strerror>" appended. */
int mr_error_set (mr_error_t *err, int errno_, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int mr_error_setv (mr_error_t *err, int errno_, const char *fmt, va_list ap) __attribute__ ((format (printf, 3, 0)));

/* Like mr_error_set, but the message already explains the errno: it is
 * recorded in errno_ without ": <strerror>" appended. */
int mr_error_set_explained (mr_error_t *err, int errno_, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* Prefix the existing error with context: "<context>: <old msg>". Returns -1. */
int mr_error_wrap (mr_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void mr_error_free (mr_error_t *err);

/* The setters above always return -1.  The macros say so where they are
 * called, so that a compiler or static analyzer, which cannot see into
 * error.c, knows that `return mr_error_set (...)` returns -1 (the analyzer
 * otherwise follows impossible paths where it returned 0).  The functions
 * themselves stay callable as (mr_error_set) (...). */
#define mr_error_set(...) ({ (mr_error_set) (__VA_ARGS__); -1; })
#define mr_error_setv(...) ({ (mr_error_setv) (__VA_ARGS__); -1; })
#define mr_error_set_explained(...) ({ (mr_error_set_explained) (__VA_ARGS__); -1; })
#define mr_error_wrap(...) ({ (mr_error_wrap) (__VA_ARGS__); -1; })

/* Report a non-fatal error as a warning ("<prefix>: <msg>", prefix may be
 * NULL) and free it. */
void mr_error_warn (mr_error_t *err, const char *prefix);

/* Print "minirun: <msg>" to stderr (and to the --log file, if any); frees it. */
void mr_error_report (mr_error_t *err);

#endif
