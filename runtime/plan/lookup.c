/* lookup.c: finding things in a plan by the names the config uses: a pid
 * namespace by name, and the pins the config gives a planned process.
 * Shared by the planner (pidplan.c) and its privilege rules (privileges.c). */
#include <string.h>

#include "plan/pidplan.h"
#include "plan/pidplan_internal.h"

int
mr_pidplan_ns_index (const struct mr_pid_plan *plan, const char *name)
{
  for (size_t i = 0; i < plan->n_ns; i++)
    if (strcmp (plan->ns[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* Resolve a pin's namespace name; in a shared container "container" is host. */
int
mr_pidplan_ns_lookup (const struct mr_pid_plan *plan, const struct mr_pidplan_env *env, const char *name)
{
  if (env->container == MR_PIDNS_SHARED && strcmp (name, MR_PIDNS_CONTAINER) == 0)
    return 0;
  return mr_pidplan_ns_index (plan, name);
}

void
mr_pidplan_get_pins (const struct mr_config *config, const struct mr_plan_proc *p, const struct mr_pin **pins, size_t *n)
{
  if (p->spec < 0)
    {
      *pins = config->pins.init_pins;
      *n = config->pins.n_init_pins;
    }
  else
    {
      *pins = config->pins.processes[p->spec].pins;
      *n = config->pins.processes[p->spec].n_pins;
    }
}
