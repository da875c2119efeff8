/* config_procattrs.c: the process attributes the kernel applies to one
 * process (spec 1.2/1.3): process.scheduler (sched_setattr), process.ioPriority
 * (ioprio_set), process.execCPUAffinity (cpu lists for `exec`), and
 * linux.memoryPolicy (set_mempolicy), with the cpu/node list syntax
 * ("0-3,7") they share.  Everything the kernel would refuse for the values
 * alone is refused here, naming the field; what depends on the host (online
 * cpus and nodes, RT runtime, CAP_SYS_NICE) is for process/schedattr.c. */
#include <linux/ioprio.h>
#include <linux/mempolicy.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/utils.h"
#include "config/config_internal.h"

#define MR_MPOL_WEIGHTED_INTERLEAVE 6 /* linux 6.9; not in Debian 12's headers */

struct name_value
{
  const char *name;
  uint64_t value;
};

static const struct name_value sched_policies[] = {
  { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO },       { "SCHED_RR", SCHED_RR },
  { "SCHED_BATCH", SCHED_BATCH }, { "SCHED_ISO", 4 },                 { "SCHED_IDLE", SCHED_IDLE },
  { "SCHED_DEADLINE", SCHED_DEADLINE }, { NULL, 0 },
};

static const struct name_value sched_flags[] = {
  { "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },   { "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
  { "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },         { "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
  { "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },       { "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX }, { NULL, 0 },
};

static const struct name_value io_classes[] = {
  { "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
  { "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
  { "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
  { NULL, 0 },
};

static const struct name_value mpol_modes[] = {
  { "MPOL_DEFAULT", MPOL_DEFAULT },
  { "MPOL_BIND", MPOL_BIND },
  { "MPOL_INTERLEAVE", MPOL_INTERLEAVE },
  { "MPOL_WEIGHTED_INTERLEAVE", MR_MPOL_WEIGHTED_INTERLEAVE },
  { "MPOL_PREFERRED", MPOL_PREFERRED },
  { "MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY },
  { "MPOL_LOCAL", MPOL_LOCAL },
  { NULL, 0 },
};

static const struct name_value mpol_flags[] = {
  { "MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING },
  { "MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES },
  { "MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES },
  { NULL, 0 },
};

static const char *
name_of (const struct name_value *t, uint64_t value)
{
  for (; t->name; t++)
    if (t->value == value)
      return t->name;
  return "?";
}

const char *
mr_sched_policy_name (int policy)
{
  return name_of (sched_policies, (uint64_t) policy);
}

const char *
mr_mempolicy_mode_name (int mode)
{
  return name_of (mpol_modes, (uint64_t) mode);
}

/* The name `s` in t, or an error "<path>: "s" is not one of A, B, C". */
static int
lookup (const struct name_value *t, const char *s, const char *path, uint64_t *out, mr_error_t *err)
{
  cleanup_free char *all = NULL;

  for (const struct name_value *e = t; e->name; e++)
    if (strcmp (e->name, s) == 0)
      {
        *out = e->value;
        return 0;
      }
  for (const struct name_value *e = t; e->name; e++)
    {
      char *next = all ? xasprintf ("%s, %s", all, e->name) : xstrdup (e->name);
      free (all);
      all = next;
    }
  return mr_cfg_error (err, path, "\"%s\" is not one of %s", s, all);
}

/* The required member `key` of obj: a string that is a name of t (*s the
 * string, the caller's to free; *v its value). */
static int
required_name (const json_t *obj, const char *path, const char *key, const struct name_value *t, char **s,
               uint64_t *v, mr_error_t *err)
{
  cleanup_free char *kp = NULL;

  if (mr_cfg_string (obj, path, key, s, err) < 0)
    return -1;
  if (*s == NULL)
    return mr_cfg_missing (err, path, key);
  kp = mr_cfg_key (path, key);
  return lookup (t, *s, kp, v, err);
}

/* A string array of names from t, OR-ed into *bits; duplicates are refused. */
static int
lookup_flags (const json_t *obj, const char *path, const char *key, const struct name_value *t, uint64_t *bits,
              mr_error_t *err)
{
  cleanup_strv char **names = NULL;
  cleanup_free char *fp = NULL;
  size_t n = 0;
  int r = mr_cfg_strv (obj, path, key, &names, &n, err);

  if (r <= 0)
    return r;
  fp = mr_cfg_key (path, key);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *ep = mr_cfg_idx (fp, i);
      uint64_t v;
      if (lookup (t, names[i], ep, &v, err) < 0)
        return -1;
      if (*bits & v)
        return mr_cfg_error (err, ep, "\"%s\" is listed twice", names[i]);
      *bits |= v;
    }
  return 1;
}

static bool
parse_id (const char **s, uint64_t *out)
{
  uint64_t v = 0;
  const char *p = *s;

  if (*p < '0' || *p > '9')
    return false;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      v = v * 10 + (uint64_t) (*p - '0');
      if (v > UINT32_MAX)
        return false;
    }
  *s = p;
  *out = v;
  return true;
}

int
mr_id_list_parse (const char *text, const char *path, const char *what, struct mr_id_list *out, bool *any,
                      mr_error_t *err)
{
  const char *s = text;

  memset (out, 0, sizeof *out);
  *any = false;
  if (*s == '\0')
    return 0;
  for (;;)
    {
      uint64_t lo, hi;
      if (!parse_id (&s, &lo))
        return mr_cfg_error (err, path, "\"%s\": expected a list of %s numbers and ranges like \"0-3,7\"", text,
                             what);
      hi = lo;
      if (*s == '-')
        {
          s++;
          if (!parse_id (&s, &hi))
            return mr_cfg_error (err, path, "\"%s\": a range needs its last %s (like \"0-3\")", text, what);
          if (hi < lo)
            return mr_cfg_error (err, path, "\"%s\": range %llu-%llu goes backwards", text, (unsigned long long) lo,
                                 (unsigned long long) hi);
        }
      if (hi >= MR_ID_LIST_MAX)
        return mr_cfg_error (err, path, "\"%s\": %s %llu is beyond the largest this runtime handles (%d)", text, what,
                             (unsigned long long) hi, MR_ID_LIST_MAX - 1);
      for (uint64_t i = lo; i <= hi; i++)
        out->bits[i / 64] |= UINT64_C (1) << (i % 64);
      *any = true;
      if (*s == '\0')
        return 0;
      if (*s != ',')
        return mr_cfg_error (err, path, "\"%s\": unexpected '%c' (expected a list of %s numbers and ranges like "
                             "\"0-3,7\")",
                             text, *s, what);
      s++;
    }
}

static int
parse_scheduler (const json_t *proc, const char *path, struct mr_scheduler *sc, mr_error_t *err)
{
  cleanup_free char *sp = NULL, *policy = NULL;
  json_t *obj = NULL;
  uint64_t v;
  int64_t i64;
  int r = mr_cfg_object (proc, path, "scheduler", &obj, err);

  if (r <= 0)
    return r;
  sp = mr_cfg_key (path, "scheduler");
  if (required_name (obj, sp, "policy", sched_policies, &policy, &v, err) < 0)
    return -1;
  if (v == 4)
    {
      cleanup_free char *pp = mr_cfg_key (sp, "policy");
      return mr_cfg_error (err, pp, "SCHED_ISO is not implemented by the Linux kernel (use SCHED_OTHER, SCHED_BATCH, "
                         "SCHED_IDLE, SCHED_FIFO, SCHED_RR or SCHED_DEADLINE)");
    }
  sc->present = true;
  sc->policy = (int) v;
  if (mr_cfg_i64 (obj, sp, "nice", -20, 19, &i64, err) < 0)
    return -1;
  sc->nice = mr_cfg_get (obj, "nice") ? (int) i64 : 0;
  if (mr_cfg_i64 (obj, sp, "priority", INT32_MIN, INT32_MAX, &i64, err) < 0)
    return -1;
  sc->priority = mr_cfg_get (obj, "priority") ? (int) i64 : 0;
  if (lookup_flags (obj, sp, "flags", sched_flags, &sc->flags, err) < 0)
    return -1;
  if (mr_cfg_u64 (obj, sp, "runtime", UINT64_MAX, &sc->runtime, err) < 0
      || mr_cfg_u64 (obj, sp, "deadline", UINT64_MAX, &sc->deadline, err) < 0
      || mr_cfg_u64 (obj, sp, "period", UINT64_MAX, &sc->period, err) < 0)
    return -1;
  if (!mr_cfg_get (obj, "runtime"))
    sc->runtime = 0;
  if (!mr_cfg_get (obj, "deadline"))
    sc->deadline = 0;
  if (!mr_cfg_get (obj, "period"))
    sc->period = 0;

  if (sc->policy == SCHED_FIFO || sc->policy == SCHED_RR)
    {
      if (sc->priority < 1 || sc->priority > 99)
        return mr_cfg_error (err, sp, "priority %d: %s needs a priority from 1 to 99", sc->priority, policy);
    }
  else if (sc->priority != 0)
    return mr_cfg_error (err, sp, "priority %d: only SCHED_FIFO and SCHED_RR take a priority (%s needs 0 or none)",
                         sc->priority, policy);
  if (sc->policy == SCHED_DEADLINE)
    {
      const uint64_t min = 1024, max = UINT64_C (1) << 63;
      if (sc->runtime < min || sc->runtime >= max || sc->deadline < min || sc->deadline >= max
          || (sc->period != 0 && (sc->period < min || sc->period >= max)))
        return mr_cfg_error (err, sp, "SCHED_DEADLINE needs runtime and deadline (and period, when set) from 1024 ns "
                             "to below 2^63 ns (got runtime %llu, deadline %llu, period %llu)",
                             (unsigned long long) sc->runtime, (unsigned long long) sc->deadline,
                             (unsigned long long) sc->period);
      if (sc->runtime > sc->deadline || (sc->period != 0 && sc->deadline > sc->period))
        return mr_cfg_error (err, sp, "SCHED_DEADLINE needs runtime <= deadline <= period (got runtime %llu, "
                             "deadline %llu, period %llu; period 0 means the deadline)",
                             (unsigned long long) sc->runtime, (unsigned long long) sc->deadline,
                             (unsigned long long) sc->period);
    }
  else if (sc->runtime || sc->deadline || sc->period)
    return mr_cfg_error (err, sp, "runtime, deadline and period are for SCHED_DEADLINE only (policy is %s)", policy);
  return 1;
}

static int
parse_io_priority (const json_t *proc, const char *path, struct mr_io_priority *io, mr_error_t *err)
{
  cleanup_free char *ip = NULL, *cls = NULL;
  json_t *obj = NULL;
  uint64_t v;
  int64_t prio;
  int r = mr_cfg_object (proc, path, "ioPriority", &obj, err);

  if (r <= 0)
    return r;
  ip = mr_cfg_key (path, "ioPriority");
  if (required_name (obj, ip, "class", io_classes, &cls, &v, err) < 0)
    return -1;
  if (!mr_cfg_get (obj, "priority"))
    return mr_cfg_missing (err, ip, "priority");
  if (mr_cfg_i64 (obj, ip, "priority", 0, 7, &prio, err) < 0)
    return -1;
  io->present = true;
  io->class_ = (int) v;
  io->priority = (int) prio;
  return 1;
}

static int
parse_cpu_list (const json_t *obj, const char *path, const char *key, char **text, struct mr_id_list *cpus,
                mr_error_t *err)
{
  cleanup_free char *kp = NULL;
  bool any;

  if (mr_cfg_string (obj, path, key, text, err) < 0)
    return -1;
  if (*text == NULL)
    return 0;
  kp = mr_cfg_key (path, key);
  if (mr_id_list_parse (*text, kp, "cpu", cpus, &any, err) < 0)
    return -1;
  if (!any) /* "" is "not set", as the spec says for final */
    {
      free (*text);
      *text = NULL;
    }
  return 0;
}

static int
parse_exec_cpu_affinity (const json_t *proc, const char *path, struct mr_cpu_affinity *a, mr_error_t *err)
{
  cleanup_free char *ap = NULL;
  json_t *obj = NULL;
  int r = mr_cfg_object (proc, path, "execCPUAffinity", &obj, err);

  if (r <= 0)
    return r;
  ap = mr_cfg_key (path, "execCPUAffinity");
  if (parse_cpu_list (obj, ap, "initial", &a->initial, &a->initial_cpus, err) < 0
      || parse_cpu_list (obj, ap, "final", &a->final, &a->final_cpus, err) < 0)
    return -1;
  return 1;
}

int
mr_cfg_parse_proc_attrs (const json_t *proc, const char *path, struct mr_process *p, mr_error_t *err)
{
  if (parse_scheduler (proc, path, &p->scheduler, err) < 0 || parse_io_priority (proc, path, &p->io_priority, err) < 0
      || parse_exec_cpu_affinity (proc, path, &p->exec_cpu_affinity, err) < 0)
    return -1;
  return 0;
}

void
mr_cfg_proc_attrs_clear (struct mr_process *p)
{
  free (p->exec_cpu_affinity.initial);
  free (p->exec_cpu_affinity.final);
}

int
mr_cfg_parse_memory_policy (const json_t *lx, struct mr_memory_policy *mp, mr_error_t *err)
{
  const char *path = "linux.memoryPolicy";
  cleanup_free char *mode = NULL;
  json_t *obj = NULL;
  uint64_t v, flags = 0;
  int r = mr_cfg_object (lx, "linux", "memoryPolicy", &obj, err);

  if (r <= 0)
    return r;
  if (required_name (obj, path, "mode", mpol_modes, &mode, &v, err) < 0)
    return -1;
  mp->present = true;
  mp->mode = (int) v;
  if (mr_cfg_string (obj, path, "nodes", &mp->nodes, err) < 0)
    return -1;
  if (mp->nodes
      && mr_id_list_parse (mp->nodes, "linux.memoryPolicy.nodes", "node", &mp->node_set, &mp->has_nodes, err) < 0)
    return -1;
  if (lookup_flags (obj, path, "flags", mpol_flags, &flags, err) < 0)
    return -1;
  mp->flags = (unsigned int) flags;

  /* what set_mempolicy(2) says of each mode */
  switch (mp->mode)
    {
    case MPOL_DEFAULT:
    case MPOL_LOCAL:
      if (mp->has_nodes)
        return mr_cfg_error (err, "linux.memoryPolicy.nodes", "\"%s\": %s takes no nodes (drop nodes)", mp->nodes,
                             mode);
      break;
    case MPOL_PREFERRED:
      break; /* no nodes: allocate on the local node */
    default:
      if (!mp->has_nodes)
        return mr_cfg_error (err, path, "%s needs at least one node in nodes (like \"0\")", mode);
      break;
    }
  if ((flags & MPOL_F_STATIC_NODES) && (flags & MPOL_F_RELATIVE_NODES))
    return mr_cfg_error (err, "linux.memoryPolicy.flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude "
                         "each other (keep one)");
  if ((flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) && !mp->has_nodes)
    return mr_cfg_error (err, "linux.memoryPolicy.flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES need nodes "
                         "(%s has none)", mode);
  if ((flags & MPOL_F_NUMA_BALANCING) && mp->mode != MPOL_BIND && mp->mode != MPOL_PREFERRED_MANY)
    return mr_cfg_error (err, "linux.memoryPolicy.flags", "MPOL_F_NUMA_BALANCING works with MPOL_BIND and "
                         "MPOL_PREFERRED_MANY only (mode is %s)", mode);
  return 1;
}
