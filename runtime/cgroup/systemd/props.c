/* systemd/props.c: linux.resources as the unit properties systemd knows,
 * so that systemd's record of the scope says what its cgroup files say (it
 * writes them again on a daemon-reload or a property change).  The same
 * conversions as the v2 writers (v2/resources.c), which write the files
 * afterwards: the numbers are the same.  What systemd has no property for
 * (devices, hugetlb, rdma, io throttles, cpu burst and idle, swappiness)
 * only the writers apply.  A plain list; bus.c sends it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/systemd/systemd.h"
#include "cgroup/cgroup.h"
#include "base/utils.h"

#define SET(o) ((o).set && (o).v != 0)
#define CPU_MAX 65536 /* bits of a cpu or node mask: far above any machine */

struct mr_sd_prop *
mr_sd_props_add (struct mr_sd_props *p, const char *name, const char *sig)
{
  struct mr_sd_prop *e;
  p->p = xrealloc (p->p, (p->n + 1) * sizeof *p->p);
  e = &p->p[p->n++];
  memset (e, 0, sizeof *e);
  e->name = name;
  e->sig = sig;
  return e;
}

void
mr_sd_props_free (struct mr_sd_props *p)
{
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->p[i].bytes);
      for (char **s = p->p[i].strv; s && *s; s++)
        free (*s);
      free (p->p[i].strv);
      free (p->p[i].own_name);
      free (p->p[i].own_s);
    }
  free (p->p);
  p->p = NULL;
  p->n = 0;
}

static void
add_u64 (struct mr_sd_props *p, const char *name, uint64_t v, const char *cfg)
{
  struct mr_sd_prop *e = mr_sd_props_add (p, name, "t");
  e->u = v;
  e->cfg = cfg;
}

/* -1 (or any negative) is "unlimited" */
static uint64_t
limit (int64_t v)
{
  return v < 0 ? MR_SD_INFINITY : (uint64_t) v;
}

static int
parse_u (const char **s, unsigned long *out)
{
  char *end;
  if (**s < '0' || **s > '9')
    return -1;
  errno = 0;
  *out = strtoul (*s, &end, 10);
  if (errno || *out >= CPU_MAX)
    return -1;
  *s = end;
  return 0;
}

int
mr_sd_cpulist_bits (const char *list, const char *cfg, uint8_t **bytes, size_t *n, mr_error_t *err)
{
  uint8_t *b = NULL;
  size_t nb = 0;
  const char *s = list;

  while (*s)
    {
      unsigned long lo, hi;
      if (parse_u (&s, &lo) < 0)
        goto bad;
      hi = lo;
      if (*s == '-')
        {
          s++;
          if (parse_u (&s, &hi) < 0 || hi < lo)
            goto bad;
        }
      if (*s == ',')
        {
          s++;
          if (*s == '\0')
            goto bad;
        }
      else if (*s)
        goto bad;
      if (b == NULL || hi / 8 + 1 > nb)
        {
          b = xrealloc (b, hi / 8 + 1);
          memset (b + nb, 0, hi / 8 + 1 - nb);
          nb = hi / 8 + 1;
        }
      for (unsigned long i = lo; i <= hi; i++)
        b[i / 8] |= (uint8_t) (1u << (i % 8));
    }
  if (nb == 0)
    goto bad;
  *bytes = b;
  *n = nb;
  return 0;
bad:
  free (b);
  return mr_error_set (err, 0, "%s: `%s` is not a list of numbers and ranges below %d (e.g. 0-3,7)", cfg, list,
                       CPU_MAX);
}

static int
add_bits (struct mr_sd_props *p, const char *name, const char *list, const char *cfg, mr_error_t *err)
{
  uint8_t *bytes;
  size_t n;
  struct mr_sd_prop *e;
  if (mr_sd_cpulist_bits (list, cfg, &bytes, &n, err) < 0)
    return -1;
  e = mr_sd_props_add (p, name, "ay");
  e->bytes = bytes;
  e->n_bytes = n;
  e->cfg = cfg;
  return 0;
}

/* CPUQuotaPerSecUSec is the quota per second of time; rounded up, so that
 * systemd's own cpu.max (quota_per_sec * period / 1e6) is never below the
 * config's. */
static void
add_cpu_quota (const struct mr_resources *r, struct mr_sd_props *p)
{
  uint64_t period = SET (r->cpu.period) ? r->cpu.period.v : 100000;
  if (!SET (r->cpu.quota) && !SET (r->cpu.period))
    return;
  if (SET (r->cpu.period))
    add_u64 (p, "CPUQuotaPeriodUSec", period, "linux.resources.cpu.period");
  if (r->cpu.quota.set && r->cpu.quota.v > 0 && (uint64_t) r->cpu.quota.v <= UINT64_MAX / 2000000)
    add_u64 (p, "CPUQuotaPerSecUSec", ((uint64_t) r->cpu.quota.v * 1000000 + period - 1) / period,
             "linux.resources.cpu.quota");
  else
    add_u64 (p, "CPUQuotaPerSecUSec", MR_SD_INFINITY, "linux.resources.cpu.quota");
}

/* linux.resources.unified keys systemd has a property for; a value that is
 * neither a number nor "max" is left to the writer (which reports it). */
static void
add_unified (const struct mr_resources *r, bool pids, struct mr_sd_props *p)
{
  static const struct
  {
    const char *key, *prop;
  } map[] = {
    { "memory.min", "MemoryMin" }, { "memory.low", "MemoryLow" },         { "memory.high", "MemoryHigh" },
    { "memory.max", "MemoryMax" }, { "memory.swap.max", "MemorySwapMax" }, { "pids.max", "TasksMax" },
    { "cpu.weight", "CPUWeight" },
  };
  for (size_t k = 0; k < r->n_unified; k++)
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (strcmp (r->unified[k].key, map[i].key) == 0 && (pids || strcmp (map[i].key, "pids.max") != 0))
        {
          const char *v = r->unified[k].value;
          char *end;
          unsigned long long n;
          if (strcmp (v, "max") == 0)
            {
              add_u64 (p, map[i].prop, MR_SD_INFINITY, "linux.resources.unified");
              continue;
            }
          errno = 0;
          n = strtoull (v, &end, 10);
          if (v[0] >= '0' && v[0] <= '9' && errno == 0 && (*end == '\0' || (*end == '\n' && end[1] == '\0')))
            add_u64 (p, map[i].prop, n, "linux.resources.unified");
        }
}

int
mr_sd_props_from_resources (const struct mr_resources *r, bool pids, struct mr_sd_props *p, mr_error_t *err)
{
  int64_t swap = 0;
  int has_swap;

  if (r == NULL)
    return 0;
  if (SET (r->memory.limit))
    add_u64 (p, "MemoryMax", limit (r->memory.limit.v), "linux.resources.memory.limit");
  if (SET (r->memory.reservation))
    add_u64 (p, "MemoryLow", limit (r->memory.reservation.v), "linux.resources.memory.reservation");
  has_swap = mr_cgroup_swap_to_v2 (SET (r->memory.swap) ? r->memory.swap.v : 0,
                                   SET (r->memory.limit) ? r->memory.limit.v : 0, &swap, err);
  if (has_swap < 0)
    return -1;
  if (has_swap)
    add_u64 (p, "MemorySwapMax", limit (swap), "linux.resources.memory.swap");
  if (pids && SET (r->pids.limit))
    add_u64 (p, "TasksMax", r->pids.limit.v > 0 ? (uint64_t) r->pids.limit.v : MR_SD_INFINITY,
             "linux.resources.pids.limit");
  if (SET (r->cpu.shares))
    add_u64 (p, "CPUWeight", mr_cgroup_shares_to_weight (r->cpu.shares.v), "linux.resources.cpu.shares");
  add_cpu_quota (r, p);
  if (r->cpu.cpus && *r->cpu.cpus && add_bits (p, "AllowedCPUs", r->cpu.cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (r->cpu.mems && *r->cpu.mems
      && add_bits (p, "AllowedMemoryNodes", r->cpu.mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  if (SET (r->block_io.weight))
    add_u64 (p, "IOWeight", mr_cgroup_blkio_weight_to_io (r->block_io.weight.v), "linux.resources.blockIO.weight");
  add_unified (r, pids, p);
  return 0;
}
