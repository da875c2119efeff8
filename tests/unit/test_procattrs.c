/* test_procattrs.c: the parsers of process.scheduler, process.ioPriority,
 * process.execCPUAffinity, linux.memoryPolicy and the cpu/node list syntax
 * they share (runtime/config/config_procattrs.c): what a good config gives
 * (policy, nice, flags, class, cpu bits, mode, node bits) and that every
 * bad value is refused with the JSON path and what was expected.  Configs
 * are written with single quotes and turned into JSON before parsing.
 * Prints "N passed, M failed", exits 1 on failure. */
#include <linux/ioprio.h>
#include <linux/mempolicy.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "minirun/config.h"

#define CFG(proc, lx)                                                                                              \
  "{'ociVersion': '1.2.0', 'root': {'path': 'rootfs'}, 'process': {'cwd': '/', 'args': ['sh'] " proc "}, "        \
  "'linux': {" lx "}}"

static struct mr_config *
parse_at (int line, const char *json, const char *needle, char **msg)
{
  char *data = strdup (json);
  struct mr_config *c = NULL;
  mr_error_t err = NULL;
  int r;

  if (data == NULL)
    abort ();
  for (char *p = data; *p; p++)
    if (*p == '\'')
      *p = '"';
  r = mr_config_parse_data (data, strlen (data), &c, &err);
  if (needle == NULL && r < 0)
    harness_fail ("%s:%d: expected success, got %s\n", __FILE__, line, ERRMSG (err));
  else if (needle != NULL && (r == 0 || strstr (ERRMSG (err), needle) == NULL))
    harness_fail ("%s:%d: expected an error containing\n    %s\n  got %s\n", __FILE__, line, needle,
                  r == 0 ? "success" : ERRMSG (err));
  else
    harness_pass ();
  if (msg)
    *msg = err ? strdup (err->msg) : NULL;
  mr_error_free (&err);
  free (data);
  if (r < 0 || needle != NULL)
    {
      mr_config_free (r == 0 ? c : NULL);
      return NULL;
    }
  return c;
}
#define PARSE_OK(json) parse_at (__LINE__, json, NULL, NULL)
#define EXPECT_ERROR(json, needle) parse_at (__LINE__, json, needle, NULL)

static bool
has_bit (const struct mr_id_list *l, int i)
{
  return (l->bits[i / 64] >> (i % 64)) & 1;
}

static int
count_bits (const struct mr_id_list *l)
{
  int n = 0;
  for (int i = 0; i < MR_ID_LIST_MAX; i++)
    n += has_bit (l, i);
  return n;
}

static void
test_id_lists (void)
{
  struct mr_id_list l;
  mr_error_t err = NULL;
  bool any;

  CHECK (mr_id_list_parse ("0-3,7,1023", "f", "cpu", &l, &any, &err) == 0, "%s", ERRMSG (err));
  CHECK (any && count_bits (&l) == 6 && has_bit (&l, 0) && has_bit (&l, 3) && has_bit (&l, 7) && has_bit (&l, 1023)
             && !has_bit (&l, 4),
         "bits of 0-3,7,1023");
  CHECK (mr_id_list_parse ("", "f", "cpu", &l, &any, &err) == 0 && !any && count_bits (&l) == 0, "empty list");
  CHECK (mr_id_list_parse ("5", "f", "node", &l, &any, &err) == 0 && any && count_bits (&l) == 1 && has_bit (&l, 5),
         "one node");
  static const struct
  {
    const char *text, *needle;
  } bad[] = {
    { "0-", "f: \"0-\": a range needs its last cpu (like \"0-3\")" },
    { "x", "f: \"x\": expected a list of cpu numbers and ranges like \"0-3,7\"" },
    { "1024", "cpu 1024 is beyond the largest this runtime handles (1023)" },
    { "99999999999", "expected a list of cpu numbers" },
    { "3-1", "range 3-1 goes backwards" },
    { "1,", "expected a list of cpu numbers" },
    { ",1", "expected a list of cpu numbers" },
    { "1 2", "unexpected ' '" },
    { "-1", "expected a list of cpu numbers" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      int r = mr_id_list_parse (bad[i].text, "f", "cpu", &l, &any, &err);
      CHECK (r < 0 && err && strstr (err->msg, bad[i].needle), "\"%s\": got %s", bad[i].text, ERRMSG (err));
      mr_error_free (&err);
    }
}

static void
test_scheduler (void)
{
  struct mr_config *c;

  c = PARSE_OK (CFG (", 'scheduler': {'policy': 'SCHED_BATCH', 'nice': -3, 'flags': ['SCHED_FLAG_RESET_ON_FORK', "
                     "'SCHED_FLAG_KEEP_PARAMS']}",
                     ""));
  if (c)
    {
      const struct mr_scheduler *s = &c->process.scheduler;
      CHECK (s->present && s->policy == SCHED_BATCH && s->nice == -3 && s->priority == 0, "batch, nice -3");
      CHECK (s->flags == (SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_KEEP_PARAMS), "flags 0x%llx",
             (unsigned long long) s->flags);
      CHECK_STR (mr_sched_policy_name (s->policy), "SCHED_BATCH");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG (", 'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 10000, 'deadline': 100000, "
                     "'period': 1000000}",
                     ""));
  if (c)
    {
      const struct mr_scheduler *s = &c->process.scheduler;
      CHECK (s->policy == SCHED_DEADLINE && s->runtime == 10000 && s->deadline == 100000 && s->period == 1000000,
             "deadline values");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG (", 'scheduler': {'policy': 'SCHED_RR', 'priority': 99}", ""));
  if (c)
    {
      CHECK (c->process.scheduler.policy == SCHED_RR && c->process.scheduler.priority == 99, "rr 99");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG ("", ""));
  if (c)
    {
      CHECK (!c->process.scheduler.present && !c->process.io_priority.present
                 && c->process.exec_cpu_affinity.final == NULL && !c->memory_policy.present,
             "absent fields stay unset");
      mr_config_free (c);
    }

  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_FOO'}", ""),
                "process.scheduler.policy: \"SCHED_FOO\" is not one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, "
                "SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE");
  EXPECT_ERROR (CFG (", 'scheduler': {}", ""), "process.scheduler.policy: required field is missing");
  EXPECT_ERROR (CFG (", 'scheduler': 'SCHED_FIFO'", ""), "process.scheduler: expected an object");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_ISO'}", ""), "SCHED_ISO is not implemented by the Linux kernel");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_OTHER', 'nice': -21}", ""), "process.scheduler.nice");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_FIFO', 'priority': 100}", ""),
                "process.scheduler: priority 100: SCHED_FIFO needs a priority from 1 to 99");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_IDLE', 'priority': 1}", ""),
                "only SCHED_FIFO and SCHED_RR take a priority");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_OTHER', 'flags': ['SCHED_FLAG_RECLAIM', 'SCHED_FLAG_RECLAIM']}",
                     ""),
                "process.scheduler.flags[1]: \"SCHED_FLAG_RECLAIM\" is listed twice");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_OTHER', 'flags': ['RESET_ON_FORK']}", ""),
                "process.scheduler.flags[0]: \"RESET_ON_FORK\" is not one of SCHED_FLAG_RESET_ON_FORK");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 100, 'deadline': 100000}", ""),
                "SCHED_DEADLINE needs runtime and deadline (and period, when set) from 1024 ns");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 10000}", ""),
                "got runtime 10000, deadline 0");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_DEADLINE', 'runtime': 10000, 'deadline': 100000, "
                     "'period': 50000}",
                     ""),
                "SCHED_DEADLINE needs runtime <= deadline <= period");
  EXPECT_ERROR (CFG (", 'scheduler': {'policy': 'SCHED_BATCH', 'period': 1000000}", ""),
                "runtime, deadline and period are for SCHED_DEADLINE only (policy is SCHED_BATCH)");
}

static void
test_io_priority (void)
{
  struct mr_config *c = PARSE_OK (CFG (", 'ioPriority': {'class': 'IOPRIO_CLASS_IDLE', 'priority': 7}", ""));

  if (c)
    {
      CHECK (c->process.io_priority.present && c->process.io_priority.class_ == IOPRIO_CLASS_IDLE
                 && c->process.io_priority.priority == 7,
             "idle 7");
      mr_config_free (c);
    }
  EXPECT_ERROR (CFG (", 'ioPriority': {'class': 'BE', 'priority': 1}", ""),
                "process.ioPriority.class: \"BE\" is not one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE");
  EXPECT_ERROR (CFG (", 'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': -1}", ""),
                "process.ioPriority.priority");
  EXPECT_ERROR (CFG (", 'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 8}", ""),
                "process.ioPriority.priority");
  EXPECT_ERROR (CFG (", 'ioPriority': {'priority': 1}", ""), "process.ioPriority.class: required field is missing");
  EXPECT_ERROR (CFG (", 'ioPriority': {'class': 'IOPRIO_CLASS_RT'}", ""),
                "process.ioPriority.priority: required field is missing");
}

static void
test_exec_cpu_affinity (void)
{
  struct mr_config *c = PARSE_OK (CFG (", 'execCPUAffinity': {'initial': '0-1', 'final': '3'}", ""));

  if (c)
    {
      const struct mr_cpu_affinity *a = &c->process.exec_cpu_affinity;
      CHECK (a->initial && strcmp (a->initial, "0-1") == 0 && count_bits (&a->initial_cpus) == 2, "initial 0-1");
      CHECK (a->final && strcmp (a->final, "3") == 0 && has_bit (&a->final_cpus, 3) && count_bits (&a->final_cpus) == 1,
             "final 3");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG (", 'execCPUAffinity': {'final': ''}", ""));
  if (c)
    {
      CHECK (c->process.exec_cpu_affinity.final == NULL, "an empty final is not set (the spec)");
      mr_config_free (c);
    }
  EXPECT_ERROR (CFG (", 'execCPUAffinity': {'initial': '0-'}", ""),
                "process.execCPUAffinity.initial: \"0-\": a range needs its last cpu");
  EXPECT_ERROR (CFG (", 'execCPUAffinity': {'final': 'x'}", ""),
                "process.execCPUAffinity.final: \"x\": expected a list of cpu numbers");
  EXPECT_ERROR (CFG (", 'execCPUAffinity': {'final': '4096'}", ""), "cpu 4096 is beyond the largest");
  EXPECT_ERROR (CFG (", 'execCPUAffinity': {'final': 1}", ""), "process.execCPUAffinity.final: expected a string");
}

static void
test_memory_policy (void)
{
  struct mr_config *c
      = PARSE_OK (CFG ("", "'memoryPolicy': {'mode': 'MPOL_INTERLEAVE', 'nodes': '2-3', 'flags': ['MPOL_F_STATIC_NODES']}"));

  if (c)
    {
      const struct mr_memory_policy *mp = &c->memory_policy;
      CHECK (mp->present && mp->mode == MPOL_INTERLEAVE && mp->flags == MPOL_F_STATIC_NODES && mp->has_nodes
                 && count_bits (&mp->node_set) == 2 && has_bit (&mp->node_set, 2) && has_bit (&mp->node_set, 3),
             "interleave 2-3 static");
      CHECK_STR (mr_mempolicy_mode_name (mp->mode), "MPOL_INTERLEAVE");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG ("", "'memoryPolicy': {'mode': 'MPOL_WEIGHTED_INTERLEAVE', 'nodes': '0'}"));
  if (c)
    {
      CHECK (c->memory_policy.mode == 6, "weighted interleave is 6");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG ("", "'memoryPolicy': {'mode': 'MPOL_PREFERRED'}"));
  if (c)
    {
      CHECK (c->memory_policy.mode == MPOL_PREFERRED && !c->memory_policy.has_nodes, "preferred without nodes");
      mr_config_free (c);
    }
  c = PARSE_OK (CFG ("", "'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0', 'flags': ['MPOL_F_NUMA_BALANCING']}"));
  if (c)
    {
      CHECK (c->memory_policy.flags == MPOL_F_NUMA_BALANCING, "bind with numa balancing");
      mr_config_free (c);
    }
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'BIND'}"),
                "linux.memoryPolicy.mode: \"BIND\" is not one of MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, "
                "MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {}"), "linux.memoryPolicy.mode: required field is missing");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_PREFERRED_MANY'}"),
                "linux.memoryPolicy: MPOL_PREFERRED_MANY needs at least one node");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_LOCAL', 'nodes': '1'}"),
                "linux.memoryPolicy.nodes: \"1\": MPOL_LOCAL takes no nodes");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '1-0'}"),
                "linux.memoryPolicy.nodes: \"1-0\": range 1-0 goes backwards");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_PREFERRED', 'flags': ['MPOL_F_RELATIVE_NODES']}"),
                "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES need nodes");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0', 'flags': ['MPOL_F_STATIC_NODES', "
                         "'MPOL_F_RELATIVE_NODES']}"),
                "exclude each other");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_LOCAL', 'flags': ['MPOL_F_NUMA_BALANCING']}"),
                "MPOL_F_NUMA_BALANCING works with MPOL_BIND and MPOL_PREFERRED_MANY only (mode is MPOL_LOCAL)");
  EXPECT_ERROR (CFG ("", "'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0', 'flags': 'MPOL_F_STATIC_NODES'}"),
                "linux.memoryPolicy.flags: expected an array");
}

int
main (void)
{
  test_id_lists ();
  test_scheduler ();
  test_io_priority ();
  test_exec_cpu_affinity ();
  test_memory_policy ();
  return harness_summary ();
}
