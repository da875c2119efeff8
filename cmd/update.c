/* update.c: `minirun update [OPTIONS] ID`: runc's flags (sizes with k, m, g,
 * t, p suffixes, -1 for unlimited) and/or --resources FILE (OCI
 * LinuxResources JSON, "-" for stdin); flags override the file's values. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "minirun/resources.h"
#include "minirun/util.h"

static const char usage[]
    = "Usage: minirun update [OPTIONS] ID\n"
      "\n"
      "Change the resource limits of a created, running or paused container.  Only\n"
      "what is given changes.  Sizes are bytes with an optional k, m, g, t or p suffix\n"
      "(powers of 1024, e.g. 512m; \"kb\", \"MiB\" also work); -1 means unlimited.\n"
      "\n"
      "Options:\n"
      "  -r, --resources FILE        OCI LinuxResources JSON (as linux.resources in\n"
      "                              config.json); \"-\" reads standard input; the flags\n"
      "                              below override its values\n"
      "  --blkio-weight N            block IO weight (10..1000)\n"
      "  --cpu-period US             CPU CFS period in microseconds\n"
      "  --cpu-quota US              CPU CFS quota in microseconds per period (-1: none)\n"
      "  --cpu-burst US              CPU CFS burst in microseconds (quota a period may\n"
      "                              borrow from earlier idle periods)\n"
      "  --cpu-share N               CPU shares (relative weight)\n"
      "  --cpu-idle 0|1              1: the cgroup gets SCHED_IDLE-like (lowest) priority\n"
      "  --cpu-rt-period US          realtime period in microseconds\n"
      "  --cpu-rt-runtime US         realtime runtime in microseconds per period\n"
      "  --cpuset-cpus LIST          CPUs the container may use (0-3, 0,1)\n"
      "  --cpuset-mems LIST          memory nodes the container may use\n"
      "  --memory SIZE               memory limit\n"
      "  --memory-reservation SIZE   memory soft limit\n"
      "  --memory-swap SIZE          memory+swap limit\n"
      "  --kernel-memory SIZE        ignored with a warning (removed in Linux 5.16)\n"
      "  --kernel-memory-tcp SIZE    TCP buffer limit (cgroup v1 only; a warning where\n"
      "                              the kernel has none)\n"
      "  --pids-limit N              maximum number of processes (-1: unlimited)\n"
      "  --l3-cache-schema LINE      Intel RDT L3 cache schemata line (\"L3:0=ff\"), written\n"
      "                              to the container's resctrl group (linux.intelRdt)\n"
      "  --mem-bw-schema LINE        Intel RDT memory bandwidth schemata line (\"MB:0=70\")\n"
      "  -h, --help                  this help\n";

enum
{
  OPT_BLKIO_WEIGHT = 256,
  OPT_CPU_PERIOD,
  OPT_CPU_QUOTA,
  OPT_CPU_SHARE,
  OPT_CPU_BURST,
  OPT_CPU_IDLE,
  OPT_CPU_RT_PERIOD,
  OPT_CPU_RT_RUNTIME,
  OPT_CPUSET_CPUS,
  OPT_CPUSET_MEMS,
  OPT_MEMORY,
  OPT_MEMORY_RESERVATION,
  OPT_MEMORY_SWAP,
  OPT_KERNEL_MEMORY,
  OPT_KERNEL_MEMORY_TCP,
  OPT_PIDS_LIMIT,
  OPT_L3_CACHE_SCHEMA,
  OPT_MEM_BW_SCHEMA,
};

/* docker/go-units RAMInBytes: "512m", "1.5g", "100 MiB", "4096"; -1 unlimited. */
static bool
parse_size (const char *s, int64_t *out)
{
  static const char units[] = "kmgtp";
  const char *p = s, *u;
  uint64_t whole = 0, mult = 1, frac = 0, denom = 1; /* the fraction: frac / denom */

  if (strcmp (s, "-1") == 0)
    {
      *out = -1;
      return true;
    }
  if (!isdigit ((unsigned char)*p))
    return false;
  for (; isdigit ((unsigned char)*p); p++)
    {
      if (whole > (UINT64_MAX - 9) / 10)
        return false;
      whole = whole * 10 + (uint64_t)(*p - '0');
    }
  if (*p == '.')
    {
      if (!isdigit ((unsigned char)*++p))
        return false;
      for (; isdigit ((unsigned char)*p); p++)
        if (denom < 1000000) /* six digits: a millionth of the unit (more do not count) */
          frac = frac * 10 + (uint64_t)(*p - '0'), denom *= 10;
    }
  if (*p == ' ')
    p++;
  if (*p && (u = strchr (units, tolower ((unsigned char)*p))) != NULL)
    {
      for (const char *k = units; k <= u; k++)
        mult *= 1024;
      p++;
      if (*p == 'i' || *p == 'I')
        p++;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0' || whole > (uint64_t)INT64_MAX / mult)
    return false;
  whole *= mult;
  /* frac/denom of mult bytes, without overflow: frac < denom <= 10^6 */
  whole += mult / denom * frac + (mult % denom) * frac / denom;
  if (whole > (uint64_t)INT64_MAX)
    return false;
  *out = (int64_t)whole;
  return true;
}

static bool
parse_u64 (const char *s, uint64_t max, uint64_t *out)
{
  char *end;
  unsigned long long v;
  if (s == NULL || !isdigit ((unsigned char)*s))
    return false;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return false;
  *out = v;
  return true;
}

static int
bad_value (const char *flag, const char *value, const char *expected)
{
  fprintf (stderr, "minirun update: --%s: invalid value `%s` (expected %s)\n", flag, value, expected);
  return MR_EXIT_FAILURE;
}

static void
set_string (char **dst, const char *v)
{
  free (*dst);
  *dst = cmd_xstrdup (v);
}

/* Apply one flag to r; MR_EXIT_FAILURE on a bad value. */
static int
apply_flag (struct mr_resources *r, int opt, const char *name, const char *v)
{
  static const char size_help[] = "a size in bytes with an optional k, m, g, t or p suffix, e.g. 512m, "
                                  "or -1 for unlimited";
  struct mr_opt_i64 *i64 = NULL;
  struct mr_opt_u64 *u64 = NULL;
  uint64_t umax = UINT64_MAX;

  switch (opt)
    {
    case OPT_BLKIO_WEIGHT:
      u64 = &r->block_io.weight, umax = UINT16_MAX;
      break;
    case OPT_CPU_PERIOD:
      u64 = &r->cpu.period;
      break;
    case OPT_CPU_SHARE:
      u64 = &r->cpu.shares;
      break;
    case OPT_CPU_BURST:
      u64 = &r->cpu.burst;
      break;
    case OPT_CPU_IDLE:
      if (!mr_parse_i64 (v, 0, 1, &r->cpu.idle.v))
        return bad_value (name, v, "0 or 1");
      r->cpu.idle.set = true;
      return 0;
    case OPT_CPU_RT_PERIOD:
      u64 = &r->cpu.realtime_period;
      break;
    case OPT_CPU_QUOTA:
      i64 = &r->cpu.quota;
      break;
    case OPT_CPU_RT_RUNTIME:
      i64 = &r->cpu.realtime_runtime;
      break;
    case OPT_PIDS_LIMIT:
      i64 = &r->pids.limit;
      break;
    case OPT_CPUSET_CPUS:
      set_string (&r->cpu.cpus, v);
      return 0;
    case OPT_CPUSET_MEMS:
      set_string (&r->cpu.mems, v);
      return 0;
    default:
      {
        struct mr_opt_i64 *m = opt == OPT_MEMORY               ? &r->memory.limit
                               : opt == OPT_MEMORY_RESERVATION ? &r->memory.reservation
                               : opt == OPT_MEMORY_SWAP        ? &r->memory.swap
                               : opt == OPT_KERNEL_MEMORY      ? &r->memory.kernel
                                                               : &r->memory.kernel_tcp;
        if (!parse_size (v, &m->v))
          return bad_value (name, v, size_help);
        m->set = true;
        return 0;
      }
    }
  if (u64 && !parse_u64 (v, umax, &u64->v))
    return bad_value (name, v, umax == UINT16_MAX ? "an integer from 0 to 65535" : "a non-negative integer");
  if (i64 && !mr_parse_i64 (v, INT64_MIN, INT64_MAX, &i64->v))
    return bad_value (name, v, "an integer (-1: unlimited)");
  if (u64)
    u64->set = true;
  else
    i64->set = true;
  return 0;
}

int
cmd_update (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "resources", required_argument, NULL, 'r' },
    { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
    { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
    { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
    { "cpu-share", required_argument, NULL, OPT_CPU_SHARE },
    { "cpu-burst", required_argument, NULL, OPT_CPU_BURST },
    { "cpu-idle", required_argument, NULL, OPT_CPU_IDLE },
    { "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
    { "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
    { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
    { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
    { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
    { "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
    { "kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP },
    { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
    { "l3-cache-schema", required_argument, NULL, OPT_L3_CACHE_SCHEMA },
    { "mem-bw-schema", required_argument, NULL, OPT_MEM_BW_SCHEMA },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct
  {
    int opt, index;
    const char *value;
  } flags[sizeof opts / sizeof opts[0]];
  struct mr_resources res = { 0 };
  mr_error_t err = NULL;
  const char *file = NULL, *id, *l3 = NULL, *mb = NULL;
  size_t n_flags = 0;
  int c, index, ret = 0;

  while ((c = getopt_long_only (argc, argv, "+r:h", opts, &index)) != -1)
    switch (c)
      {
      case 'r':
        file = optarg;
        break;
      case OPT_L3_CACHE_SCHEMA:
        l3 = optarg;
        break;
      case OPT_MEM_BW_SCHEMA:
        mb = optarg;
        break;
      case 'h':
      case '?':
      case ':':
        return cmd_usage (usage, c != 'h');
      default:
        /* a flag given twice: the last one wins, as with runc */
        if (n_flags < sizeof flags / sizeof flags[0])
          flags[n_flags++] = (typeof (flags[0])){ c, index, optarg };
        break;
      }
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    return MR_EXIT_FAILURE;
  if (file == NULL && n_flags == 0 && l3 == NULL && mb == NULL)
    {
      fprintf (stderr, "minirun update: nothing to update: give --resources FILE or a limit flag\n%s", usage);
      return MR_EXIT_FAILURE;
    }
  if (file && mr_resources_parse_file (file, &res, &err) < 0)
    return cmd_fail (&err);
  for (size_t i = 0; i < n_flags && ret == 0; i++)
    ret = apply_flag (&res, flags[i].opt, opts[flags[i].index].name, flags[i].value);
  if (ret == 0 && (file || n_flags > 0) && mr_container_update (g->root, id, &res, &err) < 0)
    ret = cmd_fail (&err);
  if (ret == 0 && (l3 || mb) && mr_container_update_rdt (g->root, id, l3, mb, &err) < 0)
    ret = cmd_fail (&err);
  mr_resources_free (&res);
  return ret;
}
