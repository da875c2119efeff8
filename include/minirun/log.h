/* minirun/log.h: where the library's messages go.
 *
 * Every error, warning and debug line the library prints goes through one
 * output handler.  The default one writes "minirun: MSG", "minirun: warning:
 * MSG" or "minirun: debug: MSG" to stderr, one write(2) per line.  A program
 * that links the library can send them elsewhere with mr_set_output_handler.
 * Independently of the handler, mr_log_init can add a log file (the CLI's
 * --log FILE) that gets every line too, in text or in runc's JSON line format
 * ({"level":"error","msg":"...","time":"..."}) that conmon and containerd
 * parse. */
#ifndef MINIRUN_LOG_H
#define MINIRUN_LOG_H

#include <stdbool.h>

enum mr_log_format { MR_LOG_TEXT, MR_LOG_JSON };

enum mr_log_level { MR_LOG_LEVEL_ERROR, MR_LOG_LEVEL_WARNING, MR_LOG_LEVEL_DEBUG };

/* msg is one line: every control character is escaped (no newline, no ESC)
 * and there is no "minirun: " prefix; it is valid only during the call. */
typedef void (*mr_output_handler) (enum mr_log_level level, const char *msg, void *userdata);

/* Send every message to fn (called with userdata); NULL restores the default
 * (mr_output_stderr).  Debug messages reach it only when debug is on
 * (mr_log_init's `debug`, or MINIRUN_DEBUG in the environment).  The handler
 * may also be called in a container process the library has cloned but not
 * yet exec'd (its setup runs in a copy of the caller's memory). */
void mr_set_output_handler (mr_output_handler fn, void *userdata);

/* The default handler: "minirun: [warning: |debug: ]MSG\n" to stderr. */
void mr_output_stderr (enum mr_log_level level, const char *msg, void *userdata);

/* The level's name as the log file writes it: "error", "warning", "debug". */
const char *mr_log_level_name (enum mr_log_level level);

/* Open the log file (O_APPEND|O_CLOEXEC, created 0600) that gets every
 * message besides the handler; path NULL or "": none.  debug turns debug
 * messages on (so does MINIRUN_DEBUG in the environment). */
int mr_log_init (const char *path, enum mr_log_format format, bool debug);
void mr_log_close (void);
bool mr_log_debug_enabled (void);

/* Every message is escaped as a whole and is therefore one line: print a
 * multi-line text as several messages. */
void mr_log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mr_log_warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mr_log_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
