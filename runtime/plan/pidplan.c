/* pidplan.c: named pid namespaces + pinned process tree -> creation order and
 * set_tid arrays (see pidplan.h).  Pure data: no syscalls, unit-testable.
 *
 * Rules implemented here (stated once, in the README too):
 *  - "host" is minirun's own pid namespace, "container" the container's; with
 *    no pid namespace in the config they are the same namespace.
 *  - a process may pin only its own namespace and its ancestors;
 *  - the first process of a namespace the container creates is 1 there;
 *  - a number may be pinned once per namespace;
 *  - "any" (or an omitted level) inside a namespace the container creates is
 *    given the lowest number no one pinned, so a config always yields the same
 *    pids; "any" in the host namespace is left to the kernel when it is the
 *    outermost level; "any" in a joined namespace under a pinned outer level is
 *    emulated at clone time (bounded retries on EEXIST).
 *  - with a new user namespace, a process other than the init (it is created
 *    inside that namespace) pins only in pid namespaces the container creates.
 *  - when no process pins anything, set_tid is not used at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "plan/pidplan.h"
#include "plan/pidplan_internal.h"
#include "base/utils.h"



static int
build_namespaces (struct mr_pid_plan *plan, const struct mr_config *config, const struct mr_pidplan_env *env,
                  mr_error_t *err)
{
  const struct mr_pin_config *pc = &config->pins;
  size_t placed = 0;
  bool *done;

  plan->ns[0] = (struct mr_plan_ns){ .name = MR_PIDNS_HOST, .parent = -1, .depth = 0,
                                     .pid_max = env->host_pid_max, .creator = -1 };
  plan->n_ns = 1;
  if (env->container != MR_PIDNS_SHARED)
    {
      bool is_new = env->container == MR_PIDNS_NEW;
      plan->ns[1] = (struct mr_plan_ns){ .name = MR_PIDNS_CONTAINER, .parent = 0,
                                         .depth = is_new ? 1 : env->joined_depth,
                                         .pid_max = is_new ? MR_PID_MAX_LIMIT : env->joined_pid_max,
                                         .is_new = is_new, .creator = is_new ? 0 : -1 };
      plan->n_ns = 2;
    }

  for (size_t i = 0; i < pc->n_pid_namespaces; i++)
    {
      const char *name = pc->pid_namespaces[i].name;
      if (strcmp (name, MR_PIDNS_HOST) == 0 || strcmp (name, MR_PIDNS_CONTAINER) == 0)
        return mr_error_set (err, 0, "minirun.pidNamespaces.%s: \"%s\" is implicit and cannot be declared",
                             name, name);
      for (size_t j = 0; j < i; j++)
        if (strcmp (pc->pid_namespaces[j].name, name) == 0)
          return mr_error_set (err, 0, "minirun.pidNamespaces: \"%s\" is declared twice", name);
    }

  /* Place declarations whose parent is placed, until none is left. */
  done = xcalloc (pc->n_pid_namespaces, sizeof *done);
  while (placed < pc->n_pid_namespaces)
    {
      bool progress = false;
      for (size_t i = 0; i < pc->n_pid_namespaces; i++)
        {
          const struct mr_pidns_decl *d = &pc->pid_namespaces[i];
          int parent;
          if (done[i])
            continue;
          parent = mr_pidplan_ns_lookup (plan, env, d->parent ? d->parent : MR_PIDNS_CONTAINER);
          if (parent < 0)
            continue;
          if (parent == 0 && env->container != MR_PIDNS_SHARED)
            {
              free (done);
              return mr_error_set (err, 0,
                                   "minirun.pidNamespaces.%s.parent: \"host\" is not allowed; a declared pid "
                                   "namespace lives under \"container\" or another declared one",
                                   d->name);
            }
          if (plan->ns[parent].depth + 1 > MR_MAX_PID_LEVELS)
            {
              free (done);
              return mr_error_set (err, 0,
                                   "minirun.pidNamespaces.%s: nesting depth %d exceeds the kernel's limit of "
                                   "%d pid namespace levels below \"host\"",
                                   d->name, plan->ns[parent].depth + 1, MR_MAX_PID_LEVELS);
            }
          plan->ns[plan->n_ns++] = (struct mr_plan_ns){ .name = d->name, .parent = parent,
                                                        .depth = plan->ns[parent].depth + 1,
                                                        .pid_max = MR_PID_MAX_LIMIT, .is_new = true,
                                                        .creator = -1 };
          done[i] = true;
          placed++;
          progress = true;
        }
      if (!progress)
        {
          /* Stuck: an unknown parent somewhere in the rest, else a cycle. */
          for (size_t i = 0; i < pc->n_pid_namespaces; i++)
            if (!done[i])
              {
                const struct mr_pidns_decl *d = &pc->pid_namespaces[i];
                bool known = false;
                for (size_t j = 0; j < pc->n_pid_namespaces; j++)
                  if (d->parent && strcmp (pc->pid_namespaces[j].name, d->parent) == 0)
                    known = true;
                if (known)
                  continue;
                free (done);
                return mr_error_set (err, 0,
                                     "minirun.pidNamespaces.%s.parent: unknown pid namespace \"%s\" "
                                     "(expected \"container\" or a declared name)",
                                     d->name, d->parent);
              }
          for (size_t i = 0; i < pc->n_pid_namespaces; i++)
            if (!done[i])
              {
                const char *name = pc->pid_namespaces[i].name;
                free (done);
                return mr_error_set (err, 0, "minirun.pidNamespaces.%s.parent: the parents form a cycle", name);
              }
        }
    }
  free (done);
  return 0;
}

static int
find_proc (const struct mr_pid_plan *plan, const char *name)
{
  for (size_t i = 0; i < plan->n_procs; i++)
    if (strcmp (plan->procs[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* Order processes parents-first and give each its namespace. */
static int
build_processes (struct mr_pid_plan *plan, const struct mr_config *config, const struct mr_pidplan_env *env,
                 mr_error_t *err)
{
  const struct mr_pin_config *pc = &config->pins;
  cleanup_free bool *done = xcalloc (pc->n_processes + 1, sizeof *done);
  size_t placed = 0;

  plan->procs = xcalloc (pc->n_processes + 1, sizeof *plan->procs);
  plan->procs[0] = (struct mr_plan_proc){ .name = "init", .spec = -1, .parent = -1,
                                          .ns = env->container == MR_PIDNS_SHARED ? 0 : 1,
                                          .new_pidns = env->container == MR_PIDNS_NEW };
  plan->n_procs = 1;

  while (placed < pc->n_processes)
    {
      bool progress = false;
      for (size_t i = 0; i < pc->n_processes; i++)
        {
          const struct mr_proc_spec *s = &pc->processes[i];
          const char *parent_name = s->parent ? s->parent : "init";
          const char *ns_name = s->pid_ns ? s->pid_ns : MR_PIDNS_CONTAINER;
          struct mr_plan_proc *p;
          int parent, ns, pns;

          if (done[i])
            continue;
          parent = find_proc (plan, parent_name);
          if (parent < 0)
            continue;
          ns = mr_pidplan_ns_lookup (plan, env, ns_name);
          if (ns < 0)
            return mr_error_set (err, 0,
                                 "process \"%s\": minirun.processes[%zu].pidNamespace: unknown pid namespace "
                                 "\"%s\" (declare it in minirun.pidNamespaces)",
                                 s->name, i, ns_name);
          if (ns == 0 && env->container != MR_PIDNS_SHARED)
            return mr_error_set (err, 0,
                                 "process \"%s\": minirun.processes[%zu].pidNamespace: a container process "
                                 "cannot live in the \"host\" pid namespace",
                                 s->name, i);
          pns = plan->procs[parent].ns;
          p = &plan->procs[plan->n_procs];
          *p = (struct mr_plan_proc){ .name = s->name, .spec = (int) i, .parent = parent, .ns = ns };
          if (ns != pns)
            {
              if (plan->ns[ns].parent != pns || !plan->ns[ns].is_new)
                return mr_error_set (err, 0,
                                     "process \"%s\": its pid namespace \"%s\" is neither its parent's (\"%s\" "
                                     "lives in \"%s\") nor a new namespace directly below that one",
                                     s->name, ns_name, plan->procs[parent].name, plan->ns[pns].name);
              if (plan->ns[ns].creator >= 0)
                return mr_error_set (err, 0,
                                     "process \"%s\": pid namespace \"%s\" already has its first process "
                                     "(\"%s\"); a later process enters it only as a descendant of that one",
                                     s->name, ns_name, plan->procs[plan->ns[ns].creator].name);
              plan->ns[ns].creator = (int) plan->n_procs;
              p->new_pidns = true;
            }
          plan->n_procs++;
          done[i] = true;
          placed++;
          progress = true;
        }
      if (!progress)
        {
          /* Stuck: an unknown parent somewhere in the rest, else a cycle. */
          for (size_t i = 0; i < pc->n_processes; i++)
            if (!done[i])
              {
                const struct mr_proc_spec *s = &pc->processes[i];
                bool known = false;
                for (size_t j = 0; j < pc->n_processes; j++)
                  if (s->parent && strcmp (pc->processes[j].name, s->parent) == 0)
                    known = true;
                if (!known)
                  return mr_error_set (err, 0,
                                       "process \"%s\": minirun.processes[%zu].parent: unknown process \"%s\"",
                                       s->name, i, s->parent);
              }
          for (size_t i = 0; i < pc->n_processes; i++)
            if (!done[i])
              return mr_error_set (err, 0, "process \"%s\": minirun.processes[%zu].parent: the parents form a cycle",
                                   pc->processes[i].name, i);
        }
    }
  for (size_t i = 2; i < plan->n_ns; i++)
    if (plan->ns[i].creator < 0)
      return mr_error_set (err, 0, "minirun.pidNamespaces.%s: declared, but no process lives in it",
                           plan->ns[i].name);
  return 0;
}


/* Is `pid` explicitly pinned in namespace `ns` by any process? */
static bool
pinned_by_anyone (const struct mr_pid_plan *plan, int ns, pid_t pid)
{
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      const struct mr_plan_proc *p = &plan->procs[i];
      for (size_t k = 0; k < p->set_tid_size; k++)
        if (p->level_ns[k] == ns && p->set_tid[k] == pid && p->explicit_pin[k])
          return true;
    }
  return false;
}

static bool
assigned_already (const struct mr_pid_plan *plan, size_t upto, int ns, pid_t pid)
{
  for (size_t i = 0; i < upto; i++)
    for (size_t k = 0; k < plan->procs[i].set_tid_size; k++)
      if (plan->procs[i].level_ns[k] == ns && plan->procs[i].set_tid[k] == pid)
        return true;
  return false;
}

static int
apply_pins (struct mr_pid_plan *plan, const struct mr_config *config, const struct mr_pidplan_env *env,
            mr_error_t *err)
{
  /* Pass 1: explicit pins, checked, and each process's minimal set_tid_size. */
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      struct mr_plan_proc *p = &plan->procs[i];
      int own_depth = plan->ns[p->ns].depth;
      const struct mr_pin *pins;
      size_t n_pins;

      mr_pidplan_get_pins (config, p, &pins, &n_pins);
      for (size_t k = 0; k < n_pins; k++)
        {
          int ns = mr_pidplan_ns_lookup (plan, env, pins[k].ns);
          size_t off;
          int anc;

          if (ns < 0)
            return mr_error_set (err, 0, "process \"%s\": unknown pid namespace \"%s\" in its pins", p->name,
                                 pins[k].ns);
          for (anc = p->ns; anc >= 0 && anc != ns; anc = plan->ns[anc].parent)
            ;
          if (anc < 0)
            return mr_error_set (err, 0, "process \"%s\": pid namespace \"%s\" is not \"%s\" or one of its ancestors",
                                 p->name, pins[k].ns, plan->ns[p->ns].name);
          off = (size_t) (own_depth - plan->ns[ns].depth);
          if (pins[k].pid == MR_PID_ANY)
            continue;
          if (pins[k].pid < 1 || pins[k].pid > plan->ns[ns].pid_max - 1)
            return mr_error_set (err, 0, "process \"%s\": pid %d in pid namespace \"%s\" is outside 1..%lld",
                                 p->name, pins[k].pid, pins[k].ns, (long long) plan->ns[ns].pid_max - 1);
          if (pins[k].pid == 1 && !(plan->ns[ns].is_new && plan->ns[ns].creator == (int) i))
            {
              if (plan->ns[ns].is_new)
                return mr_error_set (err, 0,
                                     "process \"%s\": pid 1 in pid namespace \"%s\" belongs to its first process "
                                     "(\"%s\")",
                                     p->name, plan->ns[ns].name, plan->procs[plan->ns[ns].creator].name);
              return mr_error_set (err, 0,
                                   "process \"%s\": pid 1 in pid namespace \"%s\" is that namespace's own init; "
                                   "it cannot be pinned",
                                   p->name, plan->ns[ns].name);
            }
          if (plan->ns[ns].is_new && plan->ns[ns].creator == (int) i && pins[k].pid != 1)
            return mr_error_set (err, 0,
                                 "process \"%s\": it is the first process in pid namespace \"%s\", so its pid "
                                 "there must be 1 (config says %d)",
                                 p->name, plan->ns[ns].name, pins[k].pid);
          if (p->explicit_pin[off] && p->set_tid[off] != pins[k].pid)
            return mr_error_set (err, 0,
                                 "process \"%s\": pins %d and %d name the same pid namespace (with no pid "
                                 "namespace of its own, \"container\" is \"host\")",
                                 p->name, p->set_tid[off], pins[k].pid);
          if (pinned_by_anyone (plan, ns, pins[k].pid) && !(p->explicit_pin[off] && p->set_tid[off] == pins[k].pid))
            return mr_error_set (err, 0, "process \"%s\": pid %d in pid namespace \"%s\" is pinned by another process too",
                                 p->name, pins[k].pid, plan->ns[ns].name);
          if (plan->ns[ns].depth < own_depth && ns == 0 && env->container == MR_PIDNS_JOINED
              && env->joined_depth > 1)
            return mr_error_set (err, 0,
                                 "process \"%s\": pinning pid %d in \"host\" through a joined pid namespace %d "
                                 "levels deep would need pins in the unnamed levels between them",
                                 p->name, pins[k].pid, env->joined_depth);
          p->set_tid[off] = pins[k].pid;
          p->level_ns[off] = ns;
          p->explicit_pin[off] = true;
          if (off + 1 > p->set_tid_size)
            p->set_tid_size = off + 1;
          plan->any_pins = true;
          if (ns == 0)
            plan->pins_host = true;
        }
    }
  if (!plan->any_pins)
    return 0;

  /* Pass 2: fill the levels between, innermost first.  In namespaces the
   * container creates every level is made explicit, so kernel-chosen numbers
   * can never take a number another process pins later. */
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      struct mr_plan_proc *p = &plan->procs[i];
      int own_depth = plan->ns[p->ns].depth;
      size_t size = p->set_tid_size;
      int ns = p->ns;

      /* cover every new level from the innermost up */
      for (int l = p->ns; l >= 0 && plan->ns[l].is_new; l = plan->ns[l].parent)
        if ((size_t) (own_depth - plan->ns[l].depth) + 1 > size)
          size = (size_t) (own_depth - plan->ns[l].depth) + 1;
      if (size > MR_MAX_PID_LEVELS)
        return mr_error_set (err, 0, "process \"%s\": %zu pinned levels exceed the kernel's limit of %d", p->name,
                             size, MR_MAX_PID_LEVELS);
      for (size_t off = 0; off < size; off++)
        {
          while (ns >= 0 && (size_t) (own_depth - plan->ns[ns].depth) < off)
            ns = plan->ns[ns].parent;
          if (ns < 0 || (size_t) (own_depth - plan->ns[ns].depth) != off)
            {
              /* an unnamed level between a joined namespace and host */
              p->set_tid[off] = 0;
              p->needs_any_emulation = true;
              continue;
            }
          p->level_ns[off] = ns;
          if (p->explicit_pin[off])
            continue;
          if (plan->ns[ns].is_new)
            {
              pid_t cand = 1;
              if (plan->ns[ns].creator != (int) i)
                for (cand = 2; pinned_by_anyone (plan, ns, cand) || assigned_already (plan, i, ns, cand); cand++)
                  ;
              p->set_tid[off] = cand;
            }
          else
            {
              p->set_tid[off] = 0;
              p->needs_any_emulation = true;
            }
        }
      p->set_tid_size = size;
    }
  return 0;
}

int
mr_pidplan_build (const struct mr_config *config, const struct mr_pidplan_env *env, struct mr_pid_plan **out,
                  mr_error_t *err)
{
  struct mr_pid_plan *plan = xcalloc (1, sizeof *plan);

  plan->ns = xcalloc (config->pins.n_pid_namespaces + 2, sizeof *plan->ns);

  if (build_namespaces (plan, config, env, err) < 0 || build_processes (plan, config, env, err) < 0
      || apply_pins (plan, config, env, err) < 0 || mr_pidplan_check_privileges (plan, config, env, err) < 0)
    {
      mr_pidplan_free (plan);
      return -1;
    }
  *out = plan;
  return 0;
}

void
mr_pidplan_free (struct mr_pid_plan *plan)
{
  if (plan == NULL)
    return;
  free (plan->procs);
  free (plan->ns);
  free (plan);
}

int
mr_pidplan_verify (const struct mr_pid_plan *plan, size_t proc, const pid_t *nspid, size_t n, mr_error_t *err)
{
  const struct mr_plan_proc *p = &plan->procs[proc];

  for (size_t off = 0; off < p->set_tid_size && off < n; off++)
    {
      pid_t got = nspid[n - 1 - off];
      if (p->set_tid[off] != 0 && got != p->set_tid[off])
        return mr_error_set (err, 0, "process \"%s\": the kernel gave pid %d in pid namespace \"%s\", not the "
                             "pinned %d",
                             p->name, got, plan->ns[p->level_ns[off]].name, p->set_tid[off]);
    }
  return 0;
}

char *
mr_pidplan_describe (const struct mr_pid_plan *plan, size_t proc)
{
  const struct mr_plan_proc *p = &plan->procs[proc];
  char *out = xstrdup ("");

  for (size_t off = 0; off < p->set_tid_size; off++)
    {
      char *next;
      if (p->set_tid[off] == 0)
        continue;
      next = xasprintf ("%s%s%s=%d", out, *out ? "," : "", plan->ns[p->level_ns[off]].name, p->set_tid[off]);
      free (out);
      out = next;
    }
  return out;
}
