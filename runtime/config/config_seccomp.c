/* config_seccomp.c: `linux.seccomp`.  Actions and argument operators are
 * decoded into enums, architectures and filter flags are checked against
 * static lists of the names libseccomp and the kernel know, and syscall
 * names stay strings (the seccomp module resolves them and skips the ones
 * this kernel or libseccomp does not know, with a warning).  errnoRet is
 * accepted only with SCMP_ACT_ERRNO / SCMP_ACT_TRACE, and SCMP_ACT_NOTIFY
 * needs a listenerPath, as in runc. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

static const struct
{
  const char *name;
  enum mr_seccomp_action action;
} actions[] = {
  { "SCMP_ACT_KILL", MR_SECCOMP_KILL },
  { "SCMP_ACT_KILL_PROCESS", MR_SECCOMP_KILL_PROCESS },
  { "SCMP_ACT_KILL_THREAD", MR_SECCOMP_KILL_THREAD },
  { "SCMP_ACT_TRAP", MR_SECCOMP_TRAP },
  { "SCMP_ACT_ERRNO", MR_SECCOMP_ERRNO },
  { "SCMP_ACT_TRACE", MR_SECCOMP_TRACE },
  { "SCMP_ACT_ALLOW", MR_SECCOMP_ALLOW },
  { "SCMP_ACT_LOG", MR_SECCOMP_LOG },
  { "SCMP_ACT_NOTIFY", MR_SECCOMP_NOTIFY },
};

static const char *const ops[] = {
  [MR_SECCOMP_OP_NE] = "SCMP_CMP_NE",
  [MR_SECCOMP_OP_LT] = "SCMP_CMP_LT",
  [MR_SECCOMP_OP_LE] = "SCMP_CMP_LE",
  [MR_SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
  [MR_SECCOMP_OP_GE] = "SCMP_CMP_GE",
  [MR_SECCOMP_OP_GT] = "SCMP_CMP_GT",
  [MR_SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const architectures[] = {
  "SCMP_ARCH_NATIVE",      "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",         "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

static const char *const filter_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

#define N_OF(a) (sizeof (a) / sizeof ((a)[0]))

static int
parse_action (const json_t *obj, const char *path, const char *key, bool required,
              enum mr_seccomp_action *out, mr_error_t *err)
{
  cleanup_free char *name = NULL, *fp = NULL;
  int r = mr_cfg_string (obj, path, key, &name, err);

  if (r < 0)
    return -1;
  if (r == 0)
    return required ? mr_cfg_missing (err, path, key) : 0;
  for (size_t i = 0; i < N_OF (actions); i++)
    if (strcmp (name, actions[i].name) == 0)
      {
        *out = actions[i].action;
        return 1;
      }
  fp = mr_cfg_key (path, key);
  return mr_cfg_error (err, fp,
                       "unknown seccomp action \"%s\" (expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
                       "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, "
                       "SCMP_ACT_LOG, SCMP_ACT_NOTIFY)",
                       name);
}

static int
check_names (char **names, size_t n, const char *const *known, size_t n_known, const char *path,
             const char *what, mr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      size_t k;
      for (k = 0; k < n_known; k++)
        if (strcmp (names[i], known[k]) == 0)
          break;
      if (k == n_known)
        {
          cleanup_free char *ep = mr_cfg_idx (path, i);
          return mr_cfg_error (err, ep, "unknown %s \"%s\"", what, names[i]);
        }
    }
  return 0;
}

/* errnoRet: allowed only with ERRNO and TRACE. */
static int
parse_errno_ret (const json_t *obj, const char *path, const char *key, enum mr_seccomp_action action,
                 bool *has, uint32_t *out, mr_error_t *err)
{
  uint64_t v;
  int r = mr_cfg_u64 (obj, path, key, UINT32_MAX, &v, err);

  if (r <= 0)
    return r;
  if (action != MR_SECCOMP_ERRNO && action != MR_SECCOMP_TRACE)
    {
      cleanup_free char *fp = mr_cfg_key (path, key);
      return mr_cfg_error (err, fp, "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
  *has = true;
  *out = (uint32_t)v;
  return 1;
}

static int
parse_args (const json_t *rule, const char *path, struct mr_seccomp_rule *sr, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL;
  size_t i;
  int r = mr_cfg_array (rule, path, "args", &arr, err);

  if (r <= 0 || json_array_size (arr) == 0)
    return r;
  ap = mr_cfg_key (path, "args");
  sr->args = xcalloc (json_array_size (arr), sizeof *sr->args);
  sr->n_args = json_array_size (arr);
  json_array_foreach (arr, i, e)
  {
    cleanup_free char *ep = mr_cfg_idx (ap, i);
    cleanup_free char *op = NULL;
    struct mr_seccomp_arg *a = &sr->args[i];
    uint64_t index;
    size_t k;

    if (mr_cfg_v_object (e, ep, err) < 0)
      return -1;
    if (!mr_cfg_get (e, "index"))
      return mr_cfg_missing (err, ep, "index");
    if (!mr_cfg_get (e, "value"))
      return mr_cfg_missing (err, ep, "value");
    if (mr_cfg_u64 (e, ep, "index", 5, &index, err) < 0
        || mr_cfg_u64 (e, ep, "value", UINT64_MAX, &a->value, err) < 0
        || mr_cfg_u64 (e, ep, "valueTwo", UINT64_MAX, &a->value_two, err) < 0
        || mr_cfg_string (e, ep, "op", &op, err) < 0)
      return -1;
    a->index = (unsigned int)index;
    if (op == NULL)
      return mr_cfg_missing (err, ep, "op");
    for (k = 0; k < N_OF (ops); k++)
      if (strcmp (op, ops[k]) == 0)
        break;
    if (k == N_OF (ops))
      {
        cleanup_free char *opp = mr_cfg_key (ep, "op");
        return mr_cfg_error (err, opp,
                             "unknown seccomp operator \"%s\" (expected one of SCMP_CMP_NE, SCMP_CMP_LT, "
                             "SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)",
                             op);
      }
    a->op = (enum mr_seccomp_op)k;
  }
  return 1;
}

static int
parse_rule (const json_t *e, const char *ep, struct mr_seccomp_rule *sr, mr_error_t *err)
{
  if (mr_cfg_v_object (e, ep, err) < 0 || mr_cfg_strv (e, ep, "names", &sr->names, &sr->n_names, err) < 0)
    return -1;
  if (sr->n_names == 0)
    {
      cleanup_free char *np = mr_cfg_key (ep, "names");
      return sr->names ? mr_cfg_error (err, np, "is empty (expected at least one syscall name)")
                       : mr_cfg_missing (err, ep, "names");
    }
  for (size_t k = 0; k < sr->n_names; k++)
    if (sr->names[k][0] == '\0')
      {
        cleanup_free char *np = mr_cfg_key (ep, "names");
        cleanup_free char *kp = mr_cfg_idx (np, k);
        return mr_cfg_error (err, kp, "empty syscall name");
      }
  if (parse_action (e, ep, "action", true, &sr->action, err) < 0
      || parse_errno_ret (e, ep, "errnoRet", sr->action, &sr->has_errno_ret, &sr->errno_ret, err) < 0
      || parse_args (e, ep, sr, err) < 0)
    return -1;
  return 0;
}

void
mr_cfg_seccomp_clear (struct mr_seccomp *s)
{
  mr_strv_free (s->architectures);
  mr_strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++)
    {
      mr_strv_free (s->syscalls[i].names);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  memset (s, 0, sizeof *s);
}

int
mr_cfg_parse_seccomp (const json_t *v, const char *path, struct mr_seccomp *s, mr_error_t *err)
{
  json_t *arr = NULL, *e;
  cleanup_free char *ap = NULL, *fp = NULL;
  bool notify;
  size_t i;
  int r;

  if (mr_cfg_v_object (v, path, err) < 0)
    return -1;
  s->present = true;
  if (parse_action (v, path, "defaultAction", true, &s->default_action, err) < 0
      || parse_errno_ret (v, path, "defaultErrnoRet", s->default_action, &s->has_default_errno_ret,
                          &s->default_errno_ret, err)
             < 0)
    return -1;
  if (s->default_action == MR_SECCOMP_NOTIFY)
    {
      fp = mr_cfg_key (path, "defaultAction");
      return mr_cfg_error (err, fp, "SCMP_ACT_NOTIFY cannot be the default action");
    }
  if (mr_cfg_strv (v, path, "architectures", &s->architectures, &s->n_architectures, err) < 0
      || mr_cfg_strv (v, path, "flags", &s->flags, &s->n_flags, err) < 0
      || mr_cfg_abs_path (v, path, "listenerPath", &s->listener_path, err) < 0
      || mr_cfg_string (v, path, "listenerMetadata", &s->listener_metadata, err) < 0)
    return -1;
  ap = mr_cfg_key (path, "architectures");
  free (fp);
  fp = mr_cfg_key (path, "flags");
  if (check_names (s->architectures, s->n_architectures, architectures, N_OF (architectures), ap,
                   "architecture", err)
          < 0
      || check_names (s->flags, s->n_flags, filter_flags, N_OF (filter_flags), fp, "seccomp filter flag", err)
             < 0)
    return -1;

  r = mr_cfg_array (v, path, "syscalls", &arr, err);
  if (r < 0)
    return -1;
  notify = false;
  if (r > 0 && json_array_size (arr) > 0)
    {
      free (ap);
      ap = mr_cfg_key (path, "syscalls");
      s->syscalls = xcalloc (json_array_size (arr), sizeof *s->syscalls);
      s->n_syscalls = json_array_size (arr);
      json_array_foreach (arr, i, e)
      {
        cleanup_free char *ep = mr_cfg_idx (ap, i);
        if (parse_rule (e, ep, &s->syscalls[i], err) < 0)
          return -1;
        if (s->syscalls[i].action == MR_SECCOMP_NOTIFY)
          notify = true;
      }
    }
  if (notify && s->listener_path == NULL)
    return mr_cfg_error (err, path, "SCMP_ACT_NOTIFY is used but listenerPath is not set");
  return 1;
}
