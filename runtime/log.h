/* log.h: where minirun's messages go.  By default stderr; with --log FILE they
 * go to FILE as well, in text or in runc's JSON line format
 * ({"level":"error","msg":"...","time":"..."}) that conmon and containerd
 * parse. */
#ifndef MINIRUN_LOG_H
#define MINIRUN_LOG_H

#include <stdbool.h>

enum mr_log_format { MR_LOG_TEXT, MR_LOG_JSON };

/* Open the log file (O_APPEND|O_CLOEXEC). path NULL: stderr only. */
int mr_log_init (const char *path, enum mr_log_format format, bool debug);
void mr_log_close (void);
bool mr_log_debug_enabled (void);

void mr_log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mr_log_warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mr_log_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
