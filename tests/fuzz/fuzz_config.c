/* fuzz_config.c: libFuzzer target for the config parser and the pid planner.
 * Each input is parsed with mr_config_parse_data(); a rejected input must
 * come with a message.  An accepted one is planned with mr_pidplan_build()
 * for a new, a shared and a joined (2 and 1 levels deep) container pid
 * namespace, and every plan is checked against the planner's promises:
 * parents before children, every explicit pin kept at its level, set_tid
 * arrays the kernel can take (size within the process's depth, numbers in
 * range, 1 for the first process of a new namespace and for no other), no
 * number given twice in a namespace, mr_pidplan_describe() output that
 * parses back as a pin list, and mr_pidplan_verify() accepting exactly what
 * the plan says.  A broken promise aborts (a crash for libFuzzer); each has
 * an id that MINIRUN_FUZZ_IGNORE=id,... skips, to explore past a bug already
 * reported.  Everything is freed, so LeakSanitizer sees leaks too.  Build:
 * -DMINIRUN_FUZZ=ON (clang); run: scripts/fuzz.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minirun/config.h"
#include "plan/pidplan.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Is invariant `id` listed in $MINIRUN_FUZZ_IGNORE (comma-separated)?  Only
 * for exploring past a bug that is already reported: scripts/fuzz.sh and the
 * regression replay never set it. */
static bool
ignored (const char *id)
{
  const char *list = getenv ("MINIRUN_FUZZ_IGNORE");
  size_t n = strlen (id);

  for (const char *p = list; p && *p; p = strchr (p, ',') ? strchr (p, ',') + 1 : NULL)
    if (strncmp (p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
      return true;
  return false;
}

/* Report invariant `id` broken for process `proc` of `plan` and abort, unless it is ignored. */
static void
broken_at (const char *id, const char *what, const struct mr_pid_plan *plan, size_t proc)
{
  if (ignored (id))
    return;
  fprintf (stderr, "fuzz_config: invariant %s broken: %s (process %zu \"%s\")\n", id, what, proc,
           plan && proc < plan->n_procs ? plan->procs[proc].name : "?");
  abort ();
}

/* The plan's index of a pin's namespace name ("container" is "host" when shared). */
static int
pin_ns (const struct mr_pid_plan *plan, const struct mr_pidplan_env *env, const char *name)
{
  if (env->container == MR_PIDNS_SHARED && strcmp (name, MR_PIDNS_CONTAINER) == 0)
    return 0;
  return mr_pidplan_ns_index (plan, name);
}

static void
check_pins_kept (const struct mr_config *c, const struct mr_pid_plan *plan, const struct mr_pidplan_env *env,
                 size_t i)
{
  const struct mr_plan_proc *p = &plan->procs[i];
  const struct mr_pin *pins = p->spec < 0 ? c->pins.init_pins : c->pins.processes[p->spec].pins;
  size_t n = p->spec < 0 ? c->pins.n_init_pins : c->pins.processes[p->spec].n_pins;
  int own = plan->ns[p->ns].depth;

  for (size_t k = 0; k < n; k++)
    {
      int ns = pin_ns (plan, env, pins[k].ns);
      size_t off;
      if (ns < 0)
        {
          broken_at ("pin-ns-missing", "a pin names a namespace the plan does not have", plan, i);
          continue;
        }
      if (plan->ns[ns].depth > own)
        {
          broken_at ("pin-ns-deeper", "a pin names a namespace deeper than the process", plan, i);
          continue;
        }
      off = (size_t)(own - plan->ns[ns].depth);
      if (pins[k].pid == MR_PID_ANY)
        continue;
      if (off >= p->set_tid_size || p->set_tid[off] != pins[k].pid || !p->explicit_pin[off]
          || p->level_ns[off] != ns)
        broken_at ("pin-lost", "an explicit pin is not in set_tid at its level", plan, i);
    }
}

static void
check_verify (const struct mr_pid_plan *plan, size_t i)
{
  const struct mr_plan_proc *p = &plan->procs[i];
  size_t n = (size_t)plan->ns[p->ns].depth + 1;
  pid_t nspid[MR_MAX_PID_LEVELS + 2];
  mr_error_t err = NULL;

  if (n > MR_MAX_PID_LEVELS + 1)
    {
      broken_at ("too-deep", "a process deeper than the kernel allows", plan, i);
      return;
    }
  for (size_t off = 0; off < n; off++)
    nspid[n - 1 - off] = off < p->set_tid_size && p->set_tid[off] ? p->set_tid[off] : 4242;
  if (mr_pidplan_verify (plan, i, nspid, n, &err) < 0)
    {
      broken_at ("verify-rejects", "mr_pidplan_verify rejects the planned pids", plan, i);
      mr_error_free (&err);
    }
  for (size_t off = 0; off < p->set_tid_size; off++)
    if (p->set_tid[off] != 0)
      {
        nspid[n - 1 - off] = p->set_tid[off] + 1;
        if (mr_pidplan_verify (plan, i, nspid, n, &err) == 0 || err == NULL || err->msg == NULL)
          broken_at ("verify-accepts", "mr_pidplan_verify accepts a wrong pid", plan, i);
        mr_error_free (&err);
        nspid[n - 1 - off] = p->set_tid[off];
      }
}

static void
check_describe (const struct mr_pid_plan *plan, size_t i)
{
  const struct mr_plan_proc *p = &plan->procs[i];
  char *desc = mr_pidplan_describe (plan, i);
  struct mr_pin *pins = NULL;
  size_t n = 0, nonzero = 0;
  mr_error_t err = NULL;

  for (size_t off = 0; off < p->set_tid_size; off++)
    nonzero += p->set_tid[off] != 0;
  if (desc == NULL)
    {
      broken_at ("describe-null", "mr_pidplan_describe returned NULL", plan, i);
      return;
    }
  if (nonzero == 0)
    {
      if (*desc != '\0')
        broken_at ("describe-nonempty", "describe of an unpinned process is not empty", plan, i);
    }
  else
    {
      if (mr_pins_parse_string (desc, "describe", &pins, &n, &err) < 0)
        {
          broken_at ("describe-unparsable", "describe output does not parse as a pin list", plan, i);
          mr_error_free (&err);
        }
      else if (n != nonzero)
        broken_at ("describe-count", "describe output lists the wrong number of pins", plan, i);
      mr_pins_free (pins, n);
    }
  free (desc);
}

static void
check_plan (const struct mr_config *c, const struct mr_pid_plan *plan, const struct mr_pidplan_env *env)
{
  bool any = false;

  if (plan->n_procs != c->pins.n_processes + 1 || strcmp (plan->procs[0].name, "init") != 0
      || plan->procs[0].parent != -1)
    {
      broken_at ("procs", "procs[0] is not the init or a process is missing", plan, 0);
      return;
    }
  if (plan->n_ns < 1 || plan->n_ns > MR_MAX_PID_LEVELS + 8)
    {
      broken_at ("ns-count", "namespace count out of bounds", plan, 0);
      return;
    }
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      const struct mr_plan_proc *p = &plan->procs[i];
      int own;

      if (i > 0 && (p->parent < 0 || (size_t)p->parent >= i))
        broken_at ("order", "a process is created before its parent", plan, i);
      if (p->ns < 0 || (size_t)p->ns >= plan->n_ns)
        {
          broken_at ("proc-ns", "a process has no namespace", plan, i);
          return;
        }
      own = plan->ns[p->ns].depth;
      if (p->set_tid_size > MR_MAX_PID_LEVELS || p->set_tid_size > (size_t)own + 1)
        {
          broken_at ("set-tid-size", "set_tid_size larger than the process's depth allows", plan, i);
          return;
        }
      if (p->set_tid_size > 0)
        any = true;
      for (size_t off = 0; off < p->set_tid_size; off++)
        {
          int ns = p->level_ns[off];
          if (p->set_tid[off] == 0)
            continue;
          if (ns < 0 || (size_t)ns >= plan->n_ns || plan->ns[ns].depth != own - (int)off)
            {
              broken_at ("level-ns", "level_ns does not match the level", plan, i);
              continue;
            }
          if (p->set_tid[off] < 1 || p->set_tid[off] > plan->ns[ns].pid_max - 1)
            broken_at ("range", "a planned pid is out of its namespace's range", plan, i);
          if (plan->ns[ns].is_new && plan->ns[ns].creator == (int)i && p->set_tid[off] != 1)
            broken_at ("first-not-1", "the first process of a new namespace is not 1 there", plan, i);
          if (plan->ns[ns].is_new && plan->ns[ns].creator != (int)i && p->set_tid[off] == 1)
            broken_at ("pid1-not-creator",
                       "pid 1 of a new namespace planned for a process that does not create it", plan, i);
          /* pid 1 of a new namespace twice is the pid1-not-creator case */
          for (size_t j = 0; j < i && !(plan->ns[ns].is_new && p->set_tid[off] == 1); j++)
            for (size_t o2 = 0; o2 < plan->procs[j].set_tid_size; o2++)
              if (plan->procs[j].set_tid[o2] == p->set_tid[off] && plan->procs[j].level_ns[o2] == ns)
                broken_at ("duplicate", "the same pid is planned twice in one namespace", plan, i);
        }
      check_pins_kept (c, plan, env, i);
      check_verify (plan, i);
      check_describe (plan, i);
    }
  if (any != plan->any_pins)
    broken_at ("any-pins", "any_pins does not match the processes", plan, 0);
}

static void
plan_with (const struct mr_config *c, const struct mr_pidplan_env *env)
{
  struct mr_pid_plan *plan = NULL;
  mr_error_t err = NULL;

  if (mr_pidplan_build (c, env, &plan, &err) < 0)
    {
      if (err == NULL || err->msg == NULL || plan != NULL)
        broken_at ("plan-no-message", "mr_pidplan_build failed without a message", NULL, 0);
      mr_error_free (&err);
      mr_pidplan_free (plan);
      return;
    }
  check_plan (c, plan, env);
  mr_pidplan_free (plan);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const struct mr_pidplan_env envs[] = {
    { .container = MR_PIDNS_NEW, .host_pid_max = 32768, .joined_pid_max = MR_PID_MAX_LIMIT },
    { .container = MR_PIDNS_SHARED, .host_pid_max = 32768, .joined_pid_max = MR_PID_MAX_LIMIT },
    { .container = MR_PIDNS_JOINED,
      .joined_depth = 2,
      .host_pid_max = 32768,
      .joined_pid_max = MR_PID_MAX_LIMIT },
    /* one level deep: host can be pinned, the container level is "any" to emulate */
    { .container = MR_PIDNS_JOINED,
      .joined_depth = 1,
      .host_pid_max = 32768,
      .joined_pid_max = MR_PID_MAX_LIMIT },
  };
  struct mr_config *c = NULL;
  mr_error_t err = NULL;

  if (mr_config_parse_data ((const char *)data, size, &c, &err) < 0)
    {
      if (err == NULL || err->msg == NULL || c != NULL)
        broken_at ("parse-no-message", "mr_config_parse_data failed without a message", NULL, 0);
      mr_error_free (&err);
      mr_config_free (c);
      return 0;
    }
  for (size_t e = 0; e < sizeof envs / sizeof envs[0]; e++)
    plan_with (c, &envs[e]);
  mr_config_free (c);
  return 0;
}
