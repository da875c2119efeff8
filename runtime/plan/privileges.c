/* privileges.c: the pins the creator of each process has the right to make.
 * Pinning a pid in a pid namespace needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE in the user namespace that owns it; every pin a
 * process cannot be given is refused here, before anything exists, with the
 * process and the pin, instead of failing with EPERM at its clone.  Pure
 * data, like the rest of the planner: the launcher says what the caller may
 * do (struct mr_pidplan_env). */
#include <errno.h>
#include <stddef.h>

#include "plan/pidplan.h"
#include "plan/pidplan_internal.h"

/* With a new user namespace (linux.namespaces type "user" without a path),
 * the init is cloned by minirun but every other process by a parent inside
 * that namespace.  Pinning a pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE
 * in the user namespace that owns the pid namespace, and a user namespace
 * that did not exist before the container cannot own a pid namespace the
 * container did not create: such a pin would be refused with EPERM at the
 * clone, after the init and its cgroup and state exist.  Refuse it here. */
static int
check_user_namespace (const struct mr_pid_plan *plan, const struct mr_config *config,
                      const struct mr_pidplan_env *env, mr_error_t *err)
{
  const struct mr_namespace *user = &config->namespaces[MR_NS_USER];

  if (!user->present || user->path != NULL)
    return 0;
  for (size_t i = 1; i < plan->n_procs; i++)
    {
      const struct mr_plan_proc *p = &plan->procs[i];
      const struct mr_pin *pins;
      size_t n_pins, off;
      int ns;

      if (p->set_tid_size == 0)
        continue;
      /* The outermost level is a pin the config names (a derived level is
       * never outside all of them); if it is in a namespace the container
       * creates, so are the levels inside it. */
      off = p->set_tid_size - 1;
      ns = p->level_ns[off];
      if (plan->ns[ns].is_new)
        continue;
      mr_pidplan_get_pins (config, p, &pins, &n_pins);
      for (size_t k = 0; k < n_pins; k++)
        if (pins[k].pid == p->set_tid[off] && mr_pidplan_ns_lookup (plan, env, pins[k].ns) == ns)
          return mr_error_set (err, 0,
                               "process \"%s\": minirun.processes[%d].pids.%s: pinning pid %d in pid "
                               "namespace \"%s\" needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the user "
                               "namespace that owns it, which a process inside the container's new user "
                               "namespace (linux.namespaces[%zu]) never has (\"%s\" is created by \"%s\", "
                               "inside it); pin it only in pid namespaces the container creates, or drop the "
                               "new user namespace",
                               p->name, p->spec, pins[k].ns, p->set_tid[off], plan->ns[ns].name, user->index,
                               p->name, plan->procs[p->parent].name);
      return mr_error_set (err, 0,
                           "process \"%s\": pinning a pid in pid namespace \"%s\" needs CAP_SYS_ADMIN or "
                           "CAP_CHECKPOINT_RESTORE in the user namespace that owns it, which a process inside "
                           "the container's new user namespace (linux.namespaces[%zu]) never has",
                           p->name, plan->ns[ns].name, user->index);
    }
  return 0;
}

/* A caller without the capabilities (rootless) cannot pin in its own pid
 * namespace: the init's and every outer-level "host" pin. */
static int
check_caller (const struct mr_pid_plan *plan, const struct mr_pidplan_env *env, mr_error_t *err)
{
  if (!env->host_pins_denied)
    return 0;
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      const struct mr_plan_proc *p = &plan->procs[i];
      size_t off;
      int ns;

      if (p->set_tid_size == 0)
        continue;
      off = p->set_tid_size - 1;
      ns = p->level_ns[off];
      if (plan->ns[ns].parent != -1 || p->set_tid[off] == 0 || plan->ns[ns].is_new)
        continue;
      return mr_error_set (err, 0,
                           "process \"%s\": pinning pid %d in pid namespace \"%s\" needs CAP_SYS_ADMIN or "
                           "CAP_CHECKPOINT_RESTORE in the user namespace that owns it (minirun's own), and "
                           "minirun runs without them (rootless); run it as root, or pin only in pid "
                           "namespaces the container creates",
                           p->name, p->set_tid[off], plan->ns[ns].name);
    }
  return 0;
}

int
mr_pidplan_check_privileges (const struct mr_pid_plan *plan, const struct mr_config *config,
                             const struct mr_pidplan_env *env, mr_error_t *err)
{
  if (check_caller (plan, env, err) < 0 || check_user_namespace (plan, config, env, err) < 0)
    return -1;
  return 0;
}
