/* seccomp.c: linux.seccomp through libseccomp.  Compiles the filter in the
 * launcher (default action, architectures, flags, rules with argument
 * conditions), loads it in the container process, and for SCMP_ACT_NOTIFY
 * hands the listener fd to the seccomp agent at linux.seccomp.listenerPath
 * together with the OCI containerProcessState JSON.  Rules follow runc:
 * unknown syscall names are skipped with a warning, a rule whose action is
 * the default action is dropped, and conditions that test the same argument
 * more than once become separate rules (OR) instead of one ANDed rule. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "security/security_internal.h"
#include "base/utils.h"

#define MAX_ARGS 6

static const char *const action_names[] = {
  [MR_SECCOMP_KILL] = "SCMP_ACT_KILL",
  [MR_SECCOMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [MR_SECCOMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
  [MR_SECCOMP_TRAP] = "SCMP_ACT_TRAP",
  [MR_SECCOMP_ERRNO] = "SCMP_ACT_ERRNO",
  [MR_SECCOMP_TRACE] = "SCMP_ACT_TRACE",
  [MR_SECCOMP_ALLOW] = "SCMP_ACT_ALLOW",
  [MR_SECCOMP_LOG] = "SCMP_ACT_LOG",
  [MR_SECCOMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

/* Syscalls minirun itself makes after loading a notify filter (to hand over
 * the listener fd, or to sync with the launcher): notifying on them would
 * block the container process forever, as runc refuses for `write`. */
static const char *const notify_forbidden[] = { "write", "close", "socket", "connect", "sendmsg", NULL };

static int
map_action (const char *path, enum mr_seccomp_action a, bool has_errno, uint32_t errno_ret, uint32_t *out,
            mr_error_t *err)
{
  uint32_t e = has_errno ? errno_ret : EPERM;

  if (has_errno && errno_ret > 0xffff)
    return mr_error_set (err, 0, "%s: errnoRet %u does not fit the 16-bit seccomp return value", path,
                         errno_ret);
  switch (a)
    {
    case MR_SECCOMP_KILL:
      *out = SCMP_ACT_KILL;
      return 0;
    case MR_SECCOMP_KILL_PROCESS:
      *out = SCMP_ACT_KILL_PROCESS;
      return 0;
    case MR_SECCOMP_KILL_THREAD:
      *out = SCMP_ACT_KILL_THREAD;
      return 0;
    case MR_SECCOMP_TRAP:
      *out = SCMP_ACT_TRAP;
      return 0;
    case MR_SECCOMP_ERRNO:
      *out = SCMP_ACT_ERRNO (e);
      return 0;
    case MR_SECCOMP_TRACE:
      *out = SCMP_ACT_TRACE (e);
      return 0;
    case MR_SECCOMP_ALLOW:
      *out = SCMP_ACT_ALLOW;
      return 0;
    case MR_SECCOMP_LOG:
      *out = SCMP_ACT_LOG;
      return 0;
    case MR_SECCOMP_NOTIFY:
      *out = SCMP_ACT_NOTIFY;
      return 0;
    }
  return mr_error_set (err, 0, "%s: unknown seccomp action %d", path, (int) a);
}

static int
add_arch (scmp_filter_ctx ctx, size_t i, const char *name, mr_error_t *err)
{
  char lower[64];
  uint32_t arch;
  size_t n;
  int r;

  if (strncmp (name, "SCMP_ARCH_", 10) != 0 || (n = strlen (name + 10)) == 0 || n >= sizeof lower)
    return mr_error_set (err, 0, "linux.seccomp.architectures[%zu]: `%s` is not an SCMP_ARCH_* name", i,
                         name);
  for (size_t k = 0; k <= n; k++)
    {
      char c = name[10 + k];
      lower[k] = (char) ((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
  arch = seccomp_arch_resolve_name (lower);
  if (arch == 0)
    return mr_error_set (err, 0, "linux.seccomp.architectures[%zu]: unknown architecture `%s`", i, name);
  r = seccomp_arch_add (ctx, arch);
  if (r < 0 && r != -EEXIST)
    return mr_error_set (err, -r, "linux.seccomp.architectures[%zu]: add architecture `%s`", i, name);
  return 0;
}

static int
set_flag (scmp_filter_ctx ctx, size_t i, const char *flag, unsigned int api, mr_error_t *err)
{
  enum scmp_filter_attr attr;
  unsigned int need;
  int r;

  if (strcmp (flag, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
    return 0; /* the container process is single-threaded when it loads the filter */
  if (strcmp (flag, "SECCOMP_FILTER_FLAG_LOG") == 0)
    attr = SCMP_FLTATR_CTL_LOG, need = 3;
  else if (strcmp (flag, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
    attr = SCMP_FLTATR_CTL_SSB, need = 4;
  else if (strcmp (flag, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
    return 0; /* a flag of the load, not of the program: mr_seccomp_load passes it (sec->bpf_flags) */
  else
    return mr_error_set (err, 0, "linux.seccomp.flags[%zu]: unknown flag `%s`", i, flag);
  if (api < need)
    return mr_error_set (err, 0,
                         "linux.seccomp.flags[%zu]: %s needs seccomp API level %u; this kernel and "
                         "libseccomp provide level %u",
                         i, flag, need, api);
  r = seccomp_attr_set (ctx, attr, 1);
  if (r < 0)
    return mr_error_set (err, -r, "linux.seccomp.flags[%zu]: set %s", i, flag);
  return 0;
}

static const enum scmp_compare op_map[] = {
  [MR_SECCOMP_OP_NE] = SCMP_CMP_NE,
  [MR_SECCOMP_OP_LT] = SCMP_CMP_LT,
  [MR_SECCOMP_OP_LE] = SCMP_CMP_LE,
  [MR_SECCOMP_OP_EQ] = SCMP_CMP_EQ,
  [MR_SECCOMP_OP_GE] = SCMP_CMP_GE,
  [MR_SECCOMP_OP_GT] = SCMP_CMP_GT,
  [MR_SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static int
add_rule (scmp_filter_ctx ctx, size_t i, const struct mr_seccomp_rule *rule, uint32_t act, mr_error_t *err)
{
  struct scmp_arg_cmp conds[MAX_ARGS];
  unsigned int count[MAX_ARGS] = { 0 };
  bool separate = false;

  if (rule->n_args > MAX_ARGS)
    return mr_error_set (err, 0, "linux.seccomp.syscalls[%zu].args: %zu conditions, at most %d are supported",
                         i, rule->n_args, MAX_ARGS);
  for (size_t k = 0; k < rule->n_args; k++)
    {
      const struct mr_seccomp_arg *a = &rule->args[k];
      if (a->index >= MAX_ARGS)
        return mr_error_set (err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: %u is not in [0, 5]", i, k,
                             a->index);
      if ((unsigned) a->op >= sizeof op_map / sizeof *op_map)
        return mr_error_set (err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator %d", i, k,
                             (int) a->op);
      conds[k] = (struct scmp_arg_cmp){
        .arg = a->index, .op = op_map[a->op], .datum_a = a->value, .datum_b = a->value_two
      };
      if (++count[a->index] > 1)
        separate = true;
    }

  for (size_t j = 0; j < rule->n_names; j++)
    {
      const char *name = rule->names[j];
      int nr = seccomp_syscall_resolve_name (name);
      int r = 0;

      if (nr == __NR_SCMP_ERROR)
        {
          mr_log_warning ("linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall `%s`, rule skipped", i, j,
                          name);
          continue;
        }
      if (act == SCMP_ACT_NOTIFY)
        for (const char *const *f = notify_forbidden; *f; f++)
          if (strcmp (*f, name) == 0)
            return mr_error_set (err, 0,
                                 "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY on `%s` is not supported: "
                                 "minirun calls it after loading the filter and would wait forever",
                                 i, name);
      if (separate)
        for (size_t k = 0; k < rule->n_args && r == 0; k++)
          r = seccomp_rule_add_array (ctx, act, nr, 1, &conds[k]);
      else
        r = seccomp_rule_add_array (ctx, act, nr, (unsigned int) rule->n_args, conds);
      if (r < 0)
        return mr_error_set (err, -r, "linux.seccomp.syscalls[%zu]: add %s rule for `%s`", i,
                             action_names[rule->action], name);
    }
  return 0;
}

/* libseccomp's BPF for ctx, into sec->bpf (through a memfd: libseccomp 2.5
 * exports to an fd only). */
static int
export_bpf (scmp_filter_ctx ctx, struct mr_security *sec, mr_error_t *err)
{
  cleanup_close int fd = memfd_create ("minirun-seccomp", MFD_CLOEXEC);
  struct stat st;
  int r;

  if (fd < 0)
    return mr_error_set (err, errno, "linux.seccomp: memfd_create");
  r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return mr_error_set (err, -r, "linux.seccomp: generate the filter program");
  if (fstat (fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t) sizeof (struct sock_filter) != 0
      || st.st_size / (off_t) sizeof (struct sock_filter) > BPF_MAXINSNS)
    return mr_error_set (err, EINVAL, "linux.seccomp: the generated filter program has a bad size");
  sec->bpf_len = (unsigned short) (st.st_size / (off_t) sizeof (struct sock_filter));
  sec->bpf = xmalloc ((size_t) st.st_size);
  if (pread (fd, sec->bpf, (size_t) st.st_size, 0) != st.st_size)
    return mr_error_set (err, errno ? errno : EIO, "linux.seccomp: read the generated filter program");
  return 0;
}

int
mr_seccomp_compile (const struct mr_seccomp *s, struct mr_security *sec, mr_error_t *err)
{
  cleanup_free char *key = NULL;
  size_t key_len = 0;
  unsigned int api;
  uint32_t def;
  scmp_filter_ctx ctx;
  int r;

  if (s == NULL || !s->present)
    return 0;
  if (map_action ("linux.seccomp.defaultErrnoRet", s->default_action, s->has_default_errno_ret,
                  s->default_errno_ret, &def, err)
      < 0)
    return -1;
  if (def == SCMP_ACT_NOTIFY)
    return mr_error_set (err, 0,
                         "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action "
                         "(the container process would wait on the listener for every syscall)");
  api = seccomp_api_get ();
  for (size_t i = 0; i < s->n_flags; i++)
    if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
      sec->bpf_flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
      sec->bpf_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    else if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
      sec->bpf_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  if (s->listener_path != NULL)
    sec->listener_path = xstrdup (s->listener_path);
  if (s->listener_metadata != NULL)
    sec->listener_metadata = xstrdup (s->listener_metadata);

  /* The same profile compiled before (validated then): load its program. */
  key = mr_seccomp_cache_key (s, &key_len);
  if (key && mr_seccomp_cache_get (key, key_len, &sec->bpf, &sec->bpf_len))
    {
      for (size_t i = 0; i < s->n_syscalls; i++)
        if (s->syscalls[i].action == MR_SECCOMP_NOTIFY)
          sec->seccomp_notify = true;
      return 0;
    }

  ctx = seccomp_init (def);
  if (ctx == NULL)
    return mr_error_set (err, EINVAL, "linux.seccomp.defaultAction: seccomp_init with %s",
                         action_names[s->default_action]);
  sec->seccomp = ctx;
  /* process.noNewPrivileges decides about no_new_privs, not libseccomp. */
  r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r == 0)
    r = seccomp_attr_set (ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
  /* A binary tree of syscall numbers, not a linear list: the kernel builds
     its per-syscall allow cache at load time by emulating the filter for
     every syscall of every arch, so a 140-rule, 3-arch profile loads in
     ~0.15 ms instead of ~0.6 ms (bench/PROFILE.md). */
  if (r == 0)
    r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (r < 0)
    return mr_error_set (err, -r, "linux.seccomp: set filter attributes");

  for (size_t i = 0; i < s->n_architectures; i++)
    if (add_arch (ctx, i, s->architectures[i], err) < 0)
      return -1;
  for (size_t i = 0; i < s->n_flags; i++)
    if (set_flag (ctx, i, s->flags[i], api, err) < 0)
      return -1;

  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const struct mr_seccomp_rule *rule = &s->syscalls[i];
      char path[64];
      uint32_t act;

      (void) snprintf (path, sizeof path, "linux.seccomp.syscalls[%zu]", i);
      if (map_action (path, rule->action, rule->has_errno_ret, rule->errno_ret, &act, err) < 0)
        return -1;
      if (act == SCMP_ACT_NOTIFY)
        {
          if (s->listener_path == NULL || s->listener_path[0] == '\0')
            return mr_error_set (err, 0, "%s: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath", path);
          if (api < 5)
            return mr_error_set (err, 0,
                                 "%s: SCMP_ACT_NOTIFY needs seccomp API level 5 (Linux 5.0 and libseccomp "
                                 "2.5); this host provides level %u",
                                 path, api);
          sec->seccomp_notify = true;
        }
      if (act == def)
        {
          mr_log_debug ("%s: same action as linux.seccomp.defaultAction, rule ignored", path);
          continue;
        }
      if (add_rule (ctx, i, rule, act, err) < 0)
        return -1;
    }

  /* Generate the program now, keep it for the next run, and load it raw. */
  if (export_bpf (ctx, sec, err) < 0)
    return -1;
  if (key)
    mr_seccomp_cache_put (key, key_len, sec->bpf, sec->bpf_len);
  seccomp_release (ctx);
  sec->seccomp = NULL;
  return 0;
}

void
mr_seccomp_release (struct mr_security *sec)
{
  if (sec->seccomp != NULL)
    seccomp_release (sec->seccomp);
  sec->seccomp = NULL;
  free (sec->bpf);
  sec->bpf = NULL;
  free (sec->listener_path);
  free (sec->listener_metadata);
  sec->listener_path = sec->listener_metadata = NULL;
}

int
mr_seccomp_load (const struct mr_security *sec, const char *state_json, mr_error_t *err)
{
  int r, fd, ret;
  unsigned long flags;
  struct sock_fprog prog;

  if (sec->bpf == NULL)
    return 0;
  prog.len = sec->bpf_len;
  prog.filter = sec->bpf;
  /* WAIT_KILLABLE_RECV changes how a notified syscall waits for the
   * listener's answer: the kernel takes it only with NEW_LISTENER, and
   * without SCMP_ACT_NOTIFY rules there is nothing for it to change. */
  flags = sec->bpf_flags;
  if (sec->seccomp_notify)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  else
    flags &= ~(unsigned long) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  r = (int) syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0)
    return mr_error_set (err, errno, "load the seccomp filter (linux.seccomp)%s",
                         errno == EACCES ? ": without process.noNewPrivileges this needs CAP_SYS_ADMIN"
                         : errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                           ? ": SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs Linux 5.19 or later"
                           : "");
  if (!sec->seccomp_notify)
    return 0;
  fd = r; /* SECCOMP_FILTER_FLAG_NEW_LISTENER: the listener fd */
  ret = mr_seccomp_send_listener (sec, fd, state_json, err);
  close (fd);
  return ret;
}
