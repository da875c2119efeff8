/* v2/ebpf.c: the cgroup v2 device controller.  cgroup v2 has no
 * devices.allow/deny files; access is decided by a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup.  This file turns linux.resources.devices
 * into such a program (a few hand-written instructions per rule, no libbpf),
 * loads it with the raw bpf(2) syscall and attaches it to the container's v2
 * directory, replacing the program a previous create/update attached.
 *
 * Semantics (same result as replaying the rules into a v1 devices cgroup
 * that starts with "deny a"): for each requested access bit (r, w, m) the
 * LAST rule whose type/major/minor match and whose access contains that bit
 * decides; bits no rule decides are denied. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/v2/v2.h"
#include "base/cleanup.h"
#include "base/utils.h"

#define INSN(c, d, s, o, i)                                                                                  \
  ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN (BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0) /* d = *(u32 *)(s + o) */
#define MOV_REG(d, s) INSN (BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN (BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define RSH_IMM(d, i) INSN (BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i) INSN (BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN (BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)   /* if d != i: pc += o */
#define JEQ_IMM(d, i, o) INSN (BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)   /* if d == i: pc += o */
#define JSET_IMM(d, i, o) INSN (BPF_JMP | BPF_JSET | BPF_K, d, 0, o, i) /* if d & i: pc += o */
#define EXIT() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r1 = struct bpf_cgroup_dev_ctx *, r2 = device type,
 * r4 = major, r5 = minor, r6 = requested access bits not yet allowed. */
enum
{
  R0 = 0,
  R1 = 1,
  R2 = 2,
  R4 = 4,
  R5 = 5,
  R6 = 6
};

static int
access_bits (const char *a)
{
  int bits = 0;
  if (a[0] == '\0')
    a = "rwm";
  for (; *a; a++)
    bits |= *a == 'r'   ? BPF_DEVCG_ACC_READ
            : *a == 'w' ? BPF_DEVCG_ACC_WRITE
            : *a == 'm' ? BPF_DEVCG_ACC_MKNOD
                        : 0;
  return bits;
}

void
mr_cg_ebpf_build (const struct mr_device_rule *rules, size_t n, struct bpf_insn **insns, size_t *n_insns)
{
  struct bpf_insn *p = xcalloc (6 + n * 5 + 4, sizeof *p);
  size_t *fix = xcalloc (n + 1, sizeof *fix), n_fix = 0, k = 0, deny, allow;
  bool *to_allow = xcalloc (n + 1, sizeof *to_allow);

  p[k++] = LDX_W (R2, R1, offsetof (struct bpf_cgroup_dev_ctx, access_type));
  p[k++] = MOV_REG (R6, R2);
  p[k++] = RSH_IMM (R6, 16);     /* r6 = access bits (BPF_DEVCG_ACC_*) */
  p[k++] = AND_IMM (R2, 0xffff); /* r2 = BPF_DEVCG_DEV_BLOCK or _CHAR */
  p[k++] = LDX_W (R4, R1, offsetof (struct bpf_cgroup_dev_ctx, major));
  p[k++] = LDX_W (R5, R1, offsetof (struct bpf_cgroup_dev_ctx, minor));

  /* Last rule first: the first decisive match in this order wins. */
  for (size_t i = n; i-- > 0;)
    {
      const struct mr_device_rule *r = &rules[i];
      int acc = access_bits (r->access), left;
      bool any = r->type == 'a';
      if (acc == 0 || (!any && r->type != 'c' && r->type != 'b'))
        continue;
      /* instructions in this block, so that "no match" jumps past it */
      left = (any ? 0 : 1 + (r->major >= 0) + (r->minor >= 0)) + (r->allow ? 2 : 1);
      if (!any)
        {
          p[k++] = JNE_IMM (R2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, --left);
          if (r->major >= 0)
            p[k++] = JNE_IMM (R4, (int32_t) r->major, --left);
          if (r->minor >= 0)
            p[k++] = JNE_IMM (R5, (int32_t) r->minor, --left);
        }
      if (r->allow)
        {
          p[k++] = AND_IMM (R6, ~acc); /* these bits are allowed */
          to_allow[n_fix] = true;
          fix[n_fix++] = k;
          p[k++] = JEQ_IMM (R6, 0, 0); /* nothing left to decide: allow */
        }
      else
        {
          to_allow[n_fix] = false;
          fix[n_fix++] = k;
          p[k++] = JSET_IMM (R6, acc, 0); /* a requested bit is denied */
        }
    }
  deny = k;
  p[k++] = MOV_IMM (R0, 0);
  p[k++] = EXIT ();
  allow = k;
  p[k++] = MOV_IMM (R0, 1);
  p[k++] = EXIT ();
  for (size_t i = 0; i < n_fix; i++)
    p[fix[i]].off = (int16_t) ((to_allow[i] ? allow : deny) - (fix[i] + 1));
  free (fix);
  free (to_allow);
  *insns = p;
  *n_insns = k;
}

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static int
load (const struct bpf_insn *insns, size_t n, mr_error_t *err)
{
  union bpf_attr a;
  int fd;
  memset (&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t) (uintptr_t) insns;
  a.insn_cnt = (uint32_t) n;
  a.license = (uint64_t) (uintptr_t) "GPL";
  fd = sys_bpf (BPF_PROG_LOAD, &a);
  if (fd < 0 && errno == EINVAL)
    {
      /* Load again with the verifier log to say why. */
      cleanup_free char *log = xcalloc (1, 65536);
      a.log_buf = (uint64_t) (uintptr_t) log;
      a.log_size = 65536;
      a.log_level = 1;
      fd = sys_bpf (BPF_PROG_LOAD, &a);
      if (fd < 0)
        return mr_error_set (err, EINVAL, "load the device filter (%zu instructions); verifier: %.300s", n,
                             log);
    }
  if (fd < 0)
    return mr_error_set (err, errno, "load the device filter (bpf BPF_PROG_LOAD, %zu instructions)", n);
  return fd;
}

int
mr_cg_ebpf_apply (const char *dir, const struct mr_device_rule *rules, size_t n, mr_error_t *err)
{
  cleanup_free struct bpf_insn *insns = NULL;
  cleanup_close int dfd = -1, prog = -1;
  uint32_t old_ids[64];
  size_t n_insns;
  union bpf_attr a;
  uint32_t flags;

  mr_cg_ebpf_build (rules, n, &insns, &n_insns);
  prog = load (insns, n_insns, err);
  if (prog < 0)
    return -1;
  /* BPF_PROG_ATTACH does not take O_PATH fds: open the directory for real. */
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return mr_error_set (err, errno, "open `%s`", dir);

  memset (&a, 0, sizeof a);
  a.query.target_fd = (uint32_t) dfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t) (uintptr_t) old_ids;
  a.query.prog_cnt = 64;
  if (sys_bpf (BPF_PROG_QUERY, &a) < 0)
    return mr_error_set (err, errno, "query the device filters of `%s`", dir);
  /* Keep the attach mode already in use (a single program is replaced by
   * attaching again); with none or multi, add ours and detach the old. */
  flags = a.query.prog_cnt > 0 && !(a.query.attach_flags & BPF_F_ALLOW_MULTI) ? a.query.attach_flags
                                                                              : (uint32_t) BPF_F_ALLOW_MULTI;
  uint32_t n_old = flags & BPF_F_ALLOW_MULTI ? a.query.prog_cnt : 0;

  memset (&a, 0, sizeof a);
  a.target_fd = (uint32_t) dfd;
  a.attach_bpf_fd = (uint32_t) prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = flags;
  if (sys_bpf (BPF_PROG_ATTACH, &a) < 0)
    return mr_error_set (err, errno, "attach the device filter to `%s`", dir);

  for (uint32_t i = 0; i < n_old && i < 64; i++)
    {
      cleanup_close int old = -1;
      memset (&a, 0, sizeof a);
      a.prog_id = old_ids[i];
      old = sys_bpf (BPF_PROG_GET_FD_BY_ID, &a);
      if (old < 0)
        continue; /* already gone */
      memset (&a, 0, sizeof a);
      a.target_fd = (uint32_t) dfd;
      a.attach_bpf_fd = (uint32_t) old;
      a.attach_type = BPF_CGROUP_DEVICE;
      if (sys_bpf (BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
        return mr_error_set (err, errno, "detach the previous device filter (id %u) from `%s`", old_ids[i],
                             dir);
    }
  return 0;
}
