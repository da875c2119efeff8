/* test_cgroup_convert.c: the pure parts of the cgroup code: v1 -> v2 value
 * conversions (cpu.shares -> cpu.weight, blkio weight -> io.weight,
 * memory+swap -> memory.swap.max, cpu.max), device rule strings, path rules,
 * "key value" parsing, and the eBPF device filter: its shape, and that the
 * kernel's verifier accepts it for several rule sets (needs root/CAP_BPF). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/common/util.h"
#include "cgroup/v1/v1.h"
#include "cgroup/v2/v2.h"
#include "harness.h"

static void
test_weights (void)
{
  CHECK (mr_cgroup_shares_to_weight (0) == 0, "0 stays unset");
  CHECK (mr_cgroup_shares_to_weight (2) == 1, "min");
  CHECK (mr_cgroup_shares_to_weight (1) == 1, "below min clamps");
  CHECK (mr_cgroup_shares_to_weight (1024) == 39, "default shares: %llu",
         (unsigned long long)mr_cgroup_shares_to_weight (1024));
  CHECK (mr_cgroup_shares_to_weight (262144) == 10000, "max");
  CHECK (mr_cgroup_shares_to_weight (1000000) == 10000, "above max clamps");
  CHECK (mr_cgroup_shares_to_weight (512) == 1 + (510 * 9999) / 262142, "512");

  CHECK (mr_cgroup_blkio_weight_to_io (0) == 0, "unset");
  CHECK (mr_cgroup_blkio_weight_to_io (10) == 1, "min");
  CHECK (mr_cgroup_blkio_weight_to_io (1000) == 10000, "max");
  CHECK (mr_cgroup_blkio_weight_to_io (500) == 4950, "500 -> %llu",
         (unsigned long long)mr_cgroup_blkio_weight_to_io (500));
  CHECK (mr_cgroup_blkio_weight_to_io (5) == 1, "clamp low");
  CHECK (mr_cgroup_blkio_weight_to_io (5000) == 10000, "clamp high");
}

static void
test_swap (void)
{
  mr_error_t err = NULL;
  int64_t v = 12345;
  CHECK (mr_cgroup_swap_to_v2 (0, 100, &v, &err) == 0, "unset swap writes nothing");
  CHECK (mr_cgroup_swap_to_v2 (-1, 100, &v, &err) == 1 && v == -1, "-1 is max");
  CHECK (mr_cgroup_swap_to_v2 (0, -1, &v, &err) == 1 && v == -1, "unlimited memory, swap unset: max");
  CHECK (mr_cgroup_swap_to_v2 (300, 100, &v, &err) == 1 && v == 200, "memory+swap minus memory: %lld",
         (long long)v);
  CHECK (mr_cgroup_swap_to_v2 (100, 100, &v, &err) == 1 && v == 0, "equal: no swap");
  CHECK (mr_cgroup_swap_to_v2 (50, 100, &v, &err) < 0 && err && strstr (err->msg, "must be >= memory.limit"),
         "swap below memory: %s", err ? err->msg : "no error");
  mr_error_free (&err);
  CHECK (mr_cgroup_swap_to_v2 (200, 0, &v, &err) < 0 && err
             && strstr (err->msg, "linux.resources.memory.swap"),
         "swap without memory: %s", err ? err->msg : "no error");
  mr_error_free (&err);
  CHECK (mr_cgroup_swap_to_v2 (200, -1, &v, &err) < 0, "swap with unlimited memory");
  mr_error_free (&err);
}

static void
test_cpu_max (void)
{
  struct mr_opt_i64 q = { 0 };
  struct mr_opt_u64 p = { 0 };
  char buf[64];
  CHECK (!mr_cg_cpu_max (&q, &p, buf, sizeof buf), "nothing given");
  q = (struct mr_opt_i64){ true, 50000 };
  p = (struct mr_opt_u64){ true, 100000 };
  CHECK (mr_cg_cpu_max (&q, &p, buf, sizeof buf) && strcmp (buf, "50000 100000") == 0, "got `%s`", buf);
  q.v = -1;
  CHECK (mr_cg_cpu_max (&q, &p, buf, sizeof buf) && strcmp (buf, "max 100000") == 0, "got `%s`", buf);
  q = (struct mr_opt_i64){ true, 20000 };
  p.set = false;
  CHECK (mr_cg_cpu_max (&q, &p, buf, sizeof buf) && strcmp (buf, "20000") == 0, "got `%s`", buf);
  q.set = false;
  p = (struct mr_opt_u64){ true, 250000 };
  CHECK (mr_cg_cpu_max (&q, &p, buf, sizeof buf) && strcmp (buf, "max 250000") == 0, "got `%s`", buf);
}

static void
test_device_rules (void)
{
  char buf[80];
  struct mr_device_rule r = { true, 'c', 1, 3, "rwm" };
  mr_cg_device_rule_v1 (&r, buf, sizeof buf);
  CHECK (strcmp (buf, "c 1:3 rwm") == 0, "got `%s`", buf);
  r = (struct mr_device_rule){ false, 'b', 8, -1, "r" };
  mr_cg_device_rule_v1 (&r, buf, sizeof buf);
  CHECK (strcmp (buf, "b 8:* r") == 0, "got `%s`", buf);
  r = (struct mr_device_rule){ true, 'c', -1, -1, "m" };
  mr_cg_device_rule_v1 (&r, buf, sizeof buf);
  CHECK (strcmp (buf, "c *:* m") == 0, "got `%s`", buf);
  r = (struct mr_device_rule){ false, 'a', -1, -1, "" };
  mr_cg_device_rule_v1 (&r, buf, sizeof buf);
  CHECK (strcmp (buf, "a *:* rwm") == 0, "got `%s`", buf);
}

static void
test_paths_and_text (void)
{
  char *p = mr_cgroup_path_for (NULL, "abc");
  CHECK (strcmp (p, "/minirun/abc") == 0, "default path `%s`", p);
  free (p);
  p = mr_cgroup_path_for ("", "abc");
  CHECK (strcmp (p, "/minirun/abc") == 0, "empty path `%s`", p);
  free (p);
  p = mr_cgroup_path_for ("pods/x", "abc");
  CHECK (strcmp (p, "pods/x") == 0, "relative kept `%s`", p);
  free (p);

  CHECK (mr_cg_list_has ("cpu,cpuacct", ',', "cpuacct"), "list");
  CHECK (!mr_cg_list_has ("cpu,cpuacct", ',', "cpua"), "prefix is not a match");
  CHECK (mr_cg_list_has (" hugetlb memory ", ' ', "memory"), "space list");
  CHECK (!mr_cg_list_has (" hugetlb ", ' ', "memory"), "absent");

  const char *stat = "cache 10\nrss 20\ntotal_rss 30\n";
  CHECK (mr_cg_kv (stat, "rss", 0) == 20, "kv rss");
  CHECK (mr_cg_kv (stat, "total_rss", 0) == 30, "kv total_rss");
  CHECK (mr_cg_kv (stat, "swap", 7) == 7, "kv default");
  CHECK (mr_cg_kv ("populated 1\nfrozen 0\n", "frozen", 9) == 0, "kv last line");
}

static int
bpf_load (const struct bpf_insn *insns, size_t n, char *log, size_t log_size)
{
  union bpf_attr a;
  memset (&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = (uint32_t)n;
  a.license = (uint64_t)(uintptr_t) "GPL";
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = (uint32_t)log_size;
  a.log_level = 1;
  return (int)syscall (SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
}

static void
test_ebpf (void)
{
  static const struct mr_device_rule sets[][4] = {
    { { false, 'a', -1, -1, "rwm" },
      { true, 'c', 1, 3, "rwm" },
      { true, 'c', 1, 5, "r" },
      { false, 'c', 1, 5, "w" } },
    { { true, 'a', -1, -1, "rwm" },
      { false, 'b', 8, -1, "rw" },
      { true, 'c', -1, -1, "m" },
      { true, 'b', 8, 0, "r" } },
  };
  struct bpf_insn *insns;
  size_t n;
  char log[16384];

  /* deny all, allow c 1:3 rwm, allow c 1:5 r, deny c 1:5 w:
   * prologue 6 + deny-w block (3 checks + JSET = 4) + allow-r block (3 + 2) +
   * allow-null block (3 + 2) + deny-all block (JSET = 1) + 4 exit insns */
  mr_cg_ebpf_build (sets[0], 4, &insns, &n);
  CHECK (n == 6 + 4 + 5 + 5 + 1 + 4, "instruction count %zu", n);
  CHECK (insns[n - 1].code == (BPF_JMP | BPF_EXIT) && insns[n - 2].imm == 1, "ends with allow exit");
  CHECK (insns[n - 3].code == (BPF_JMP | BPF_EXIT) && insns[n - 4].imm == 0, "then deny exit");
  for (size_t s = 0; s < 2; s++)
    {
      int fd;
      if (s)
        {
          free (insns);
          mr_cg_ebpf_build (sets[s], 4, &insns, &n);
        }
      log[0] = '\0';
      fd = bpf_load (insns, n, log, sizeof log);
      CHECK (fd >= 0, "verifier rejected set %zu: %s: %.400s", s, strerror (errno), log);
      if (fd >= 0)
        close (fd);
    }
  free (insns);
  mr_cg_ebpf_build (NULL, 0, &insns, &n);
  CHECK (n == 10, "empty rule set: prologue + exits, got %zu", n);
  free (insns);
}

int
main (void)
{
  harness_out = stdout;
  test_weights ();
  test_swap ();
  test_cpu_max ();
  test_device_rules ();
  test_paths_and_text ();
  if (geteuid () == 0)
    test_ebpf ();
  else
    printf ("SKIP eBPF verifier test: not root\n");
  return harness_summary ();
}
