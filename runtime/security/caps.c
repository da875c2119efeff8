/* caps.c: process.capabilities through libcap.  Owns the capability name
 * table (mr_cap_from_name), the prepare-time checks of the five sets against
 * each other and against what this kernel knows (cap_max_bits() at run time),
 * and the two child-side steps: dropping the bounding set while CAP_SETPCAP is
 * still effective, and setting effective/permitted/inheritable plus ambient
 * after the uid change. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "base/log.h"
#include "security/security.h"
#include "security/security_internal.h"

#define CAP_BIT(c) (UINT64_C (1) << (c))

int
mr_cap_from_name (const char *name)
{
  cap_value_t v;

  /* Only the OCI spelling ("CAP_SYS_ADMIN"); libcap alone would also take
   * "sys_admin" or a bare number. */
  if (name == NULL || strncasecmp (name, "CAP_", 4) != 0 || name[4] == '\0')
    return -1;
  for (const char *p = name + 4; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
      return -1;
  if (cap_from_name (name, &v) < 0)
    return -1;
  return (int) v;
}

const char *
mr_cap_name (int cap, char buf[32])
{
  char *n = cap_to_name ((cap_value_t) cap);
  size_t i;

  if (n == NULL || strncasecmp (n, "cap_", 4) != 0)
    (void) snprintf (buf, 32, "capability %d", cap);
  else
    {
      for (i = 0; i < 31 && n[i]; i++)
        buf[i] = (char) ((n[i] >= 'a' && n[i] <= 'z') ? n[i] - 'a' + 'A' : n[i]);
      buf[i] = '\0';
    }
  if (n != NULL)
    cap_free (n);
  return buf;
}

/* Number of capabilities this kernel supports (e.g. 41 on 5.9+). */
static int
kernel_cap_count (void)
{
  int n = (int) cap_max_bits ();
  if (n <= 0 || n > 64)
    n = 64;
  return n;
}

static uint64_t
known_mask (void)
{
  int n = kernel_cap_count ();
  return n >= 64 ? ~UINT64_C (0) : CAP_BIT (n) - 1;
}

static int
lowest_bit (uint64_t m)
{
  return __builtin_ctzll (m);
}

static uint64_t
mask_one (const char *set, uint64_t v, uint64_t known)
{
  uint64_t unknown = v & ~known;
  if (unknown != 0)
    {
      char name[32];
      mr_log_warning ("process.capabilities.%s: ignoring %s and any other capability above %d: "
                      "this kernel supports capabilities 0-%d only",
                      set, mr_cap_name (lowest_bit (unknown), name), kernel_cap_count () - 1,
                      kernel_cap_count () - 1);
    }
  return v & known;
}

/* The inheritable set of the calling process (what a clone()d child starts with). */
static uint64_t
current_inheritable (void)
{
  cap_t c = cap_get_proc ();
  uint64_t m = 0;
  int n = kernel_cap_count ();

  if (c == NULL)
    return 0;
  for (int i = 0; i < n; i++)
    {
      cap_flag_value_t v = CAP_CLEAR;
      if (cap_get_flag (c, (cap_value_t) i, CAP_INHERITABLE, &v) == 0 && v == CAP_SET)
        m |= CAP_BIT (i);
    }
  cap_free (c);
  return m;
}

int
mr_caps_prepare (const struct mr_capabilities *in, struct mr_capabilities *out, mr_error_t *err)
{
  uint64_t known = known_mask (), bad;
  char name[32];

  out->bounding = mask_one ("bounding", in->bounding, known);
  out->effective = mask_one ("effective", in->effective, known);
  out->inheritable = mask_one ("inheritable", in->inheritable, known);
  out->permitted = mask_one ("permitted", in->permitted, known);
  out->ambient = mask_one ("ambient", in->ambient, known);

  bad = out->effective & ~out->permitted;
  if (bad)
    return mr_error_set (err, 0,
                         "process.capabilities.effective: %s is not in process.capabilities.permitted "
                         "(a capability can be effective only if it is permitted)",
                         mr_cap_name (lowest_bit (bad), name));
  bad = out->ambient & ~(out->permitted & out->inheritable);
  if (bad)
    return mr_error_set (err, 0,
                         "process.capabilities.ambient: %s must also be in process.capabilities.permitted "
                         "and process.capabilities.inheritable (the kernel raises an ambient capability "
                         "only if it is in both)",
                         mr_cap_name (lowest_bit (bad), name));
  /* capset(2) refuses an inheritable capability that is neither in the
   * bounding set nor already inheritable. */
  bad = out->inheritable & ~out->bounding & ~current_inheritable ();
  if (bad)
    return mr_error_set (err, 0,
                         "process.capabilities.inheritable: %s is not in process.capabilities.bounding "
                         "(the kernel refuses inheritable capabilities outside the bounding set)",
                         mr_cap_name (lowest_bit (bad), name));
  return 0;
}

int
mr_caps_apply_bounding (const struct mr_capabilities *caps, mr_error_t *err)
{
  int n = kernel_cap_count ();
  char name[32];

  /* Drop first, read only when the drop fails: dropping a capability that
   * is already gone succeeds with CAP_SETPCAP, and without it a drop of an
   * absent capability is no error. One prctl per capability, not two. */
  for (int i = 0; i < n; i++)
    {
      int drop_errno;
      if (caps->bounding & CAP_BIT (i))
        continue;
      if (cap_drop_bound ((cap_value_t) i) == 0)
        continue;
      drop_errno = errno;
      if (cap_get_bound ((cap_value_t) i) == 0)
        continue; /* already dropped */
      return mr_error_set (err, drop_errno,
                           "drop %s from the bounding set (process.capabilities.bounding); "
                           "this needs CAP_SETPCAP",
                           mr_cap_name (i, name));
    }
  return 0;
}

static int
set_flag (cap_t c, cap_flag_t flag, uint64_t mask, mr_error_t *err)
{
  cap_value_t list[64];
  int n = 0;

  for (int i = 0; i < 64; i++)
    if (mask & CAP_BIT (i))
      list[n++] = (cap_value_t) i;
  if (n > 0 && cap_set_flag (c, flag, n, list, CAP_SET) < 0)
    return mr_error_set (err, errno, "cap_set_flag");
  return 0;
}

int
mr_caps_apply_sets (const struct mr_capabilities *caps, mr_error_t *err)
{
  cap_t c = cap_init ();
  char name[32];
  int ret = 0;

  if (c == NULL)
    return mr_error_set (err, errno, "cap_init");
  if (set_flag (c, CAP_EFFECTIVE, caps->effective, err) < 0
      || set_flag (c, CAP_PERMITTED, caps->permitted, err) < 0
      || set_flag (c, CAP_INHERITABLE, caps->inheritable, err) < 0)
    ret = -1;
  else if (cap_set_proc (c) < 0)
    ret = mr_error_set (err, errno,
                        "set capabilities (effective %#llx, permitted %#llx, inheritable %#llx); "
                        "the permitted set cannot grow beyond the runtime's own",
                        (unsigned long long) caps->effective, (unsigned long long) caps->permitted,
                        (unsigned long long) caps->inheritable);
  cap_free (c);
  if (ret < 0)
    return ret;

  /* One PR_CAP_AMBIENT_CLEAR_ALL: libcap's cap_reset_ambient() first asks
   * PR_CAP_AMBIENT_IS_SET for every capability (41 prctls). */
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    {
      /* EINVAL: a kernel without ambient capabilities (< 4.3). */
      if (errno == EINVAL && caps->ambient == 0)
        return 0;
      return mr_error_set (err, errno, "clear the ambient capability set");
    }
  for (int i = 0; i < 64; i++)
    if ((caps->ambient & CAP_BIT (i)) && cap_set_ambient ((cap_value_t) i, CAP_SET) < 0)
      return mr_error_set (err, errno, "raise ambient capability %s (process.capabilities.ambient)",
                           mr_cap_name (i, name));
  return 0;
}

bool
mr_cap_effective (int cap)
{
  cap_t c = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;

  if (c == NULL)
    return false;
  if (cap_get_flag (c, (cap_value_t) cap, CAP_EFFECTIVE, &v) < 0)
    v = CAP_CLEAR;
  cap_free (c);
  return v == CAP_SET;
}
