/* procexec.h: the last two steps of every container process (init, pinned
 * children, exec): enter process.cwd, find process.args[0] with the PATH of
 * process.env, and execve it. */
#ifndef MINIRUN_PROCEXEC_H
#define MINIRUN_PROCEXEC_H

#include "minirun/config.h"
#include "minirun/error.h"

/* chdir to cwd inside the container's root ("/" is the container's root by
 * now), resolved without leaving it, and checked with getcwd. */
int mr_enter_cwd (const char *cwd, mr_error_t *err);

/* What execve will run for args[0]: args[0] itself when it has a '/', else
 * the first PATH entry (the PATH of env, or the default) holding an
 * executable file of that name, as runc resolves it at create.  A missing or
 * non-executable file fails with runc's words, which docker and podman map to
 * exit codes 127 ("executable file not found in $PATH", "no such file or
 * directory") and 126 ("permission denied").  *found is malloc'd. */
int mr_find_executable (const struct mr_process *p, char **found, mr_error_t *err);

/* execve `found` (from mr_find_executable) with args and env; returns only
 * on failure, worded as above. */
int mr_exec_found (const char *found, const struct mr_process *p, mr_error_t *err);

/* Both of the above.  Returns only on failure. */
int mr_exec_process (const struct mr_process *p, mr_error_t *err);

#endif
