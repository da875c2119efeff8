/* pidplan_internal.h: what the planner's files (pidplan.c, privileges.c)
 * share.  Not an interface outside runtime/plan/. */
#ifndef MINIRUN_PIDPLAN_INTERNAL_H
#define MINIRUN_PIDPLAN_INTERNAL_H

#include <stddef.h>

#include "minirun/config.h"
#include "minirun/error.h"
#include "plan/pidplan.h"

/* A pin's namespace by name, as plan->ns index; in a shared container
 * "container" is host. -1 if unknown. */
int mr_pidplan_ns_lookup (const struct mr_pid_plan *plan, const struct mr_pidplan_env *env, const char *name);
/* The pins the config gives process p. */
void mr_pidplan_get_pins (const struct mr_config *config, const struct mr_plan_proc *p, const struct mr_pin **pins,
                          size_t *n);
/* privileges.c: refuse every pin the creator of its process has no right to
 * make (a new user namespace, a rootless caller). */
int mr_pidplan_check_privileges (const struct mr_pid_plan *plan, const struct mr_config *config,
                                 const struct mr_pidplan_env *env, mr_error_t *err);

#endif
