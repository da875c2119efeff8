/* schedattr.c: applies process.scheduler, process.ioPriority,
 * process.execCPUAffinity and linux.memoryPolicy to the calling process (see
 * schedattr.h).  The values were validated by config/config_procattrs.c;
 * what fails here is what the host refuses: the errors say which syscall,
 * its errno, and what to change (capability, RT runtime, online cpus/nodes). */
#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <linux/mempolicy.h>
#include <linux/sched.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/syscalls.h"
#include "base/utils.h"
#include "minirun/log.h"
#include "process/schedattr.h"

#define NODE_ONLINE "/sys/devices/system/node/online"
#define CPU_ONLINE "/sys/devices/system/cpu/online"

/* The first line of a small sysfs file (without its newline), or `fallback`. */
static char *
read_line (const char *path, const char *fallback)
{
  char *data = NULL;
  size_t len = 0;
  mr_error_t e = NULL;

  if (mr_read_file_at (AT_FDCWD, path, 4096, &data, &len, &e) < 0)
    {
      mr_error_free (&e);
      return xstrdup (fallback);
    }
  data[strcspn (data, "\n")] = '\0';
  return data;
}

int
mr_sched_apply (const struct mr_scheduler *s, mr_error_t *err)
{
  struct mr_sched_attr attr;
  const char *name = mr_sched_policy_name (s->policy), *hint = "";
  bool rt = s->policy == SCHED_FIFO || s->policy == SCHED_RR;
  int e;

  if (!s->present)
    return 0;
  memset (&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.sched_policy = (uint32_t) s->policy;
  attr.sched_flags = s->flags;
  attr.sched_nice = s->nice;
  attr.sched_priority = (uint32_t) s->priority;
  attr.sched_runtime = s->runtime;
  attr.sched_deadline = s->deadline;
  attr.sched_period = s->period;
  if (mr_sched_setattr (0, &attr, 0) == 0)
    return 0;
  e = errno;
  if (e == EPERM && (rt || s->policy == SCHED_DEADLINE))
    hint = rt ? ": a real-time policy needs CAP_SYS_NICE in the host's user namespace and real-time runtime "
                "in the container's cpu cgroup (a new v1 cgroup has cpu.rt_runtime_us 0: set "
                "linux.resources.cpu.realtimeRuntime, and realtimePeriod, to give it some)"
              : ": SCHED_DEADLINE needs CAP_SYS_NICE in the host's user namespace, a cpu affinity covering every "
                "cpu of its root domain, and, with real-time group scheduling (cpu.rt_runtime_us), a "
                "container in the root cpu cgroup";
  else if (e == EPERM)
    hint = s->nice < 0 ? ": a negative nice needs CAP_SYS_NICE (or RLIMIT_NICE)"
                       : ": leaving a real-time or SCHED_IDLE policy, or a lower nice, needs CAP_SYS_NICE";
  else if (e == EBUSY)
    hint = ": the deadline admission test failed: runtime/period is more than the cpus have left";
  return mr_error_set_explained (err, e, "process.scheduler: sched_setattr(%s, nice %d, priority %d): %s (%s)%s",
                                 name, s->nice, s->priority, strerror (e), strerrorname_np (e), hint);
}

int
mr_ioprio_apply (const struct mr_io_priority *io, mr_error_t *err)
{
  static const char *const classes[] = { "IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                         "IOPRIO_CLASS_IDLE" };
  const char *name = io->class_ >= 0 && io->class_ <= 3 ? classes[io->class_] : "?";
  int e;

  if (!io->present)
    return 0;
  if (mr_ioprio_set (IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE (io->class_, io->priority)) == 0)
    return 0;
  e = errno;
  return mr_error_set_explained (err, e, "process.ioPriority: ioprio_set(%s, priority %d): %s (%s)%s", name,
                                 io->priority, strerror (e), strerrorname_np (e),
                                 e == EPERM ? ": IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE" : "");
}

static void
to_cpu_set (const struct mr_id_list *l, cpu_set_t *set)
{
  CPU_ZERO (set);
  for (int i = 0; i < MR_ID_LIST_MAX && i < CPU_SETSIZE; i++)
    if (l->bits[i / 64] & (UINT64_C (1) << (i % 64)))
      CPU_SET (i, set);
}

static int
set_affinity (const struct mr_id_list *cpus, const char *field, const char *text, mr_error_t *err)
{
  cpu_set_t set;
  int e;
  cleanup_free char *online = NULL;

  to_cpu_set (cpus, &set);
  if (sched_setaffinity (0, sizeof set, &set) == 0)
    return 0;
  e = errno;
  online = read_line (CPU_ONLINE, "unknown");
  return mr_error_set_explained (err, e, "process.execCPUAffinity.%s \"%s\": sched_setaffinity: %s (%s)%s%s%s", field,
                                 text, strerror (e), strerrorname_np (e),
                                 e == EINVAL ? ": none of these cpus is online and allowed (online: " : "",
                                 e == EINVAL ? online : "", e == EINVAL ? "; a cgroup cpuset may allow fewer)" : "");
}

int
mr_affinity_apply_final (const struct mr_cpu_affinity *a, mr_error_t *err)
{
  return a->final ? set_affinity (&a->final_cpus, "final", a->final, err) : 0;
}

int
mr_affinity_push_initial (const struct mr_cpu_affinity *a, cpu_set_t *saved, bool *pushed, mr_error_t *err)
{
  *pushed = false;
  if (a->initial == NULL)
    return 0;
  if (sched_getaffinity (0, sizeof *saved, saved) < 0)
    return mr_error_set (err, errno, "process.execCPUAffinity.initial: sched_getaffinity (to restore it after)");
  if (set_affinity (&a->initial_cpus, "initial", a->initial, err) < 0)
    return -1;
  *pushed = true;
  return 0;
}

void
mr_affinity_pop (const cpu_set_t *saved, bool pushed)
{
  if (pushed && sched_setaffinity (0, sizeof *saved, saved) < 0)
    mr_log_warning ("restore minirun's own cpu affinity after process.execCPUAffinity.initial: %s", strerror (errno));
}

int
mr_mempolicy_check_host (const struct mr_memory_policy *mp, mr_error_t *err)
{
  cleanup_free char *text = NULL;
  struct mr_id_list online;
  bool any;
  mr_error_t e = NULL;

  if (!mp->present || !mp->has_nodes || (mp->flags & (MPOL_F_RELATIVE_NODES | MPOL_F_STATIC_NODES)))
    return 0;
  /* a kernel without NUMA has no node directory: node 0 is all there is */
  text = read_line (NODE_ONLINE, "0");
  if (mr_id_list_parse (text, NODE_ONLINE, "node", &online, &any, &e) < 0)
    {
      mr_log_warning ("linux.memoryPolicy.nodes is not checked against the host: %s", e->msg);
      mr_error_free (&e);
      return 0;
    }
  for (int i = 0; i < MR_ID_LIST_MAX; i++)
    {
      uint64_t bit = UINT64_C (1) << (i % 64);
      if ((mp->node_set.bits[i / 64] & bit) && !(online.bits[i / 64] & bit))
        return mr_error_set (err, 0,
                             "linux.memoryPolicy.nodes \"%s\": node %d is not online on this host (online: %s, "
                             "from " NODE_ONLINE "; MPOL_F_RELATIVE_NODES maps nodes onto the allowed ones)",
                             mp->nodes, i, text);
    }
  return 0;
}

int
mr_mempolicy_apply (const struct mr_memory_policy *mp, mr_error_t *err)
{
  unsigned long mask[MR_ID_LIST_MAX / (8 * sizeof (unsigned long))];
  const size_t word = 8 * sizeof (unsigned long);
  int e;

  if (!mp->present)
    return 0;
  memset (mask, 0, sizeof mask);
  for (size_t i = 0; i < MR_ID_LIST_MAX; i++)
    if (mp->node_set.bits[i / 64] & (UINT64_C (1) << (i % 64)))
      mask[i / word] |= 1UL << (i % word);
  /* maxnode counts one more than the bits the kernel reads (set_mempolicy(2)) */
  if (mr_set_mempolicy (mp->mode | (int) mp->flags, mp->has_nodes ? mask : NULL,
                        mp->has_nodes ? MR_ID_LIST_MAX + 1 : 0)
      == 0)
    return 0;
  e = errno;
  return mr_error_set_explained (err, e, "linux.memoryPolicy: set_mempolicy(%s, nodes \"%s\", flags 0x%x): %s (%s)%s",
                                 mr_mempolicy_mode_name (mp->mode), mp->nodes ? mp->nodes : "", mp->flags,
                                 strerror (e), strerrorname_np (e),
                                 e == EINVAL ? ": a node is not online or not allowed by the cgroup's "
                                                   "cpuset.mems, or the kernel lacks this mode (MPOL_WEIGHTED_INTERLEAVE "
                                                   "is linux 6.9+)"
                                                 : "");
}
