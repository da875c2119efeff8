/* log.h: where minirun's messages go (the public part, the output handler and
 * mr_log_*, is minirun/log.h); the escaping every message goes through. */
#ifndef MINIRUN_BASE_LOG_H
#define MINIRUN_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "minirun/log.h"

/* Write `in` to out (outlen bytes, NUL-terminated, truncated before an
 * escape that does not fit whole) with every control character escaped:
 * \n \t \r \e, the other bytes < 0x20 and 0x7f as \xNN, and the UTF-8
 * encoded C1 controls U+0080..U+009F as \u00NN.  Everything else, invalid
 * UTF-8 included, is copied.  Returns the length of the whole escaped text
 * (as snprintf does: out may be NULL with outlen 0 to measure). */
size_t mr_log_escape (char *out, size_t outlen, const char *in);

#endif
