/* hooks.h: OCI hooks.  Each hook runs with the container state JSON on its
 * stdin, its own args and env, and its timeout (none: wait for it). */
#ifndef MINIRUN_HOOKS_H
#define MINIRUN_HOOKS_H

#include <stddef.h>

#include "minirun/config.h"
#include "minirun/error.h"

/* Run hooks in order; the first failure (non-zero exit, signal, timeout,
 * exec failure) stops the run and is returned, naming `kind`, the index and
 * the path.  For prestart, createRuntime, createContainer and
 * startContainer, whose failure aborts the lifecycle (runtime spec). */
int mr_hooks_run (const struct mr_hook *hooks, size_t n, const char *kind, const char *state_json,
                  mr_error_t *err);

/* Run every hook in order whatever the others do: each failure is logged as
 * a warning and the next hook still runs.  For poststart and poststop, whose
 * failure the runtime spec says must not stop the remaining hooks or the
 * lifecycle.  Returns the number of hooks that failed. */
size_t mr_hooks_run_all (const struct mr_hook *hooks, size_t n, const char *kind, const char *state_json);

#endif
