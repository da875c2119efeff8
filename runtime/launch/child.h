/* child.h: the container's init, from clone to exec (child.c). */
#ifndef MINIRUN_CHILD_H
#define MINIRUN_CHILD_H

#include "launch/plan.h"

/* Container side, in the clone of the launcher: run the init's steps on
 * `plan`, then exec process.args.  Never returns (execve or _exit). */
void mr_init_main (const struct mr_init_plan *plan) __attribute__ ((noreturn));

#endif
