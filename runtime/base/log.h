/* log.h: where minirun's messages go.  By default stderr; with --log FILE they
 * go to FILE as well, in text or in runc's JSON line format
 * ({"level":"error","msg":"...","time":"..."}) that conmon and containerd
 * parse. */
#ifndef MINIRUN_LOG_H
#define MINIRUN_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum mr_log_format { MR_LOG_TEXT, MR_LOG_JSON };

/* Open the log file (O_APPEND|O_CLOEXEC). path NULL: stderr only. */
int mr_log_init (const char *path, enum mr_log_format format, bool debug);
void mr_log_close (void);
bool mr_log_debug_enabled (void);

/* Every message is printed escaped (see mr_log_escape) and is therefore one
 * line: print a multi-line text as several messages. */
void mr_log_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mr_log_warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void mr_log_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Write `in` to out (outlen bytes, NUL-terminated, truncated before an
 * escape that does not fit whole) with every control character escaped:
 * \n \t \r \e, the other bytes < 0x20 and 0x7f as \xNN, and the UTF-8
 * encoded C1 controls U+0080..U+009F as \u00NN.  Everything else, invalid
 * UTF-8 included, is copied.  Returns the length of the whole escaped text
 * (as snprintf does: out may be NULL with outlen 0 to measure). */
size_t mr_log_escape (char *out, size_t outlen, const char *in);

#endif
