/* seccomp_cache.c: the compiled seccomp program, kept between runs.
 *
 * libseccomp spends ~1 ms adding the rules of a typical profile and ~1.5 ms
 * generating its BPF, for every run and exec, although the program is the
 * same each time.  The generated program is stored in
 * <state root>/.seccomp-cache/<hash>.bpf next to the exact text it was
 * generated from (the whole linux.seccomp, the libseccomp version and API
 * level, the machine), and used only when that text matches byte for byte:
 * a hash collision can never load another filter.  The directory belongs to
 * the state root's owner (0700). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <seccomp.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "security/security_internal.h"
#include "base/utils.h"

static char *cache_dir;

void
mr_seccomp_cache_set_dir (const char *state_root)
{
  free (cache_dir);
  cache_dir = state_root ? xasprintf ("%s/.seccomp-cache", state_root) : NULL;
}

char *
mr_seccomp_cache_key (const struct mr_seccomp *s, size_t *len)
{
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;
  char *out = NULL;
  size_t n = 0;
  FILE *f;

  if (cache_dir == NULL)
    return NULL; /* no cache: nothing to key */
  f = open_memstream (&out, &n);
  if (f == NULL)
    return NULL;
  if (uname (&u) < 0)
    strcpy (u.machine, "?");
  fprintf (f, "minirun-seccomp 2\nlibseccomp %u.%u.%u api %u\nmachine %s\n", v->major, v->minor, v->micro,
           seccomp_api_get (), u.machine);
  fprintf (f, "default %d %d %u\n", (int) s->default_action, (int) s->has_default_errno_ret, s->default_errno_ret);
  for (size_t i = 0; i < s->n_architectures; i++)
    fprintf (f, "arch %s\n", s->architectures[i]);
  for (size_t i = 0; i < s->n_flags; i++)
    fprintf (f, "flag %s\n", s->flags[i]);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const struct mr_seccomp_rule *r = &s->syscalls[i];
      fprintf (f, "rule %d %d %u", (int) r->action, (int) r->has_errno_ret, r->errno_ret);
      for (size_t k = 0; k < r->n_names; k++)
        fprintf (f, " %s", r->names[k]);
      for (size_t k = 0; k < r->n_args; k++)
        fprintf (f, " arg%u:%d:%llu:%llu", r->args[k].index, (int) r->args[k].op,
                 (unsigned long long) r->args[k].value, (unsigned long long) r->args[k].value_two);
      fputc ('\n', f);
    }
  if (fclose (f) != 0)
    {
      free (out);
      return NULL;
    }
  *len = n;
  return out;
}

/* FNV-1a: only names the file; the key inside it is what is compared. */
static char *
cache_path (const char *key, size_t len)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) key[i]) * 1099511628211ULL;
  return xasprintf ("%s/%016llx.bpf", cache_dir, (unsigned long long) h);
}

bool
mr_seccomp_cache_get (const char *key, size_t len, struct sock_filter **prog, unsigned short *n_out)
{
  cleanup_free char *path = NULL, *data = NULL;
  mr_error_t err = NULL;
  size_t size = 0;
  uint32_t keylen;
  uint16_t n;

  if (cache_dir == NULL)
    return false;
  path = cache_path (key, len);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 22, &data, &size, &err) < 0)
    {
      mr_error_free (&err);
      return false;
    }
  if (size < sizeof keylen)
    return false;
  memcpy (&keylen, data, sizeof keylen);
  if (keylen != len || size < sizeof keylen + len + sizeof n || memcmp (data + sizeof keylen, key, len) != 0)
    return false;
  memcpy (&n, data + sizeof keylen + len, sizeof n);
  if (n == 0 || size != sizeof keylen + len + sizeof n + (size_t) n * sizeof **prog)
    return false;
  *prog = xmalloc ((size_t) n * sizeof **prog);
  memcpy (*prog, data + sizeof keylen + len + sizeof n, (size_t) n * sizeof **prog);
  *n_out = n;
  return true;
}

void
mr_seccomp_cache_put (const char *key, size_t len, const struct sock_filter *prog, unsigned short n)
{
  cleanup_free char *path = NULL, *buf = NULL, *base = NULL;
  cleanup_close int dirfd = -1;
  mr_error_t err = NULL;
  uint32_t keylen = (uint32_t) len;
  uint16_t n16 = n;
  size_t size = sizeof keylen + len + sizeof n16 + (size_t) n * sizeof *prog;

  if (cache_dir == NULL)
    return;
  /* The first container of a new state root gets here before the root
   * exists: make both, 0700 as the state code does. */
  if (mkdir (cache_dir, 0700) < 0 && errno != EEXIST && mr_mkdir_p (cache_dir, 0700, &err) < 0)
    {
      /* no cache (e.g. a read-only state root): the filter still loads */
      mr_log_debug ("seccomp cache: %s", err->msg);
      mr_error_free (&err);
      return;
    }
  dirfd = open (cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return;
  buf = xmalloc (size);
  memcpy (buf, &keylen, sizeof keylen);
  memcpy (buf + sizeof keylen, key, len);
  memcpy (buf + sizeof keylen + len, &n16, sizeof n16);
  memcpy (buf + sizeof keylen + len + sizeof n16, prog, (size_t) n * sizeof *prog);
  path = cache_path (key, len);
  base = xstrdup (strrchr (path, '/') + 1);
  if (mr_write_file_atomic (dirfd, base, buf, size, 0600, &err) < 0)
    {
      mr_log_debug ("seccomp cache: %s", err->msg);
      mr_error_free (&err);
    }
}
