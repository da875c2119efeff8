/* procexec.h: the last two steps of every container process (init, pinned
 * children, exec): enter process.cwd and execve process.args with the PATH of
 * process.env. */
#ifndef MINIRUN_PROCEXEC_H
#define MINIRUN_PROCEXEC_H

#include "minirun/config.h"
#include "minirun/error.h"

/* chdir to cwd inside the container's root ("/" is the container's root by
 * now), resolved without leaving it, and checked with getcwd. */
int mr_enter_cwd (const char *cwd, mr_error_t *err);

/* execve args[0] (searched in the PATH of env when it has no '/').  Returns
 * only on failure. */
int mr_exec_process (const struct mr_process *p, mr_error_t *err);

#endif
