/* common/util.c: the small helpers every cgroup file uses: reading and
 * writing a controller file with errors that name the config path, the
 * "key value" and single-number file formats, cgroup.procs, polling a file
 * until it reports a state, the host's huge page sizes and word lists. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/utils.h"

/* Is `item` one of the `sep`-separated words of `list`? */
bool
mr_cg_list_has (const char *list, char sep, const char *item)
{
  size_t n = strlen (item);
  const char *p = list;
  if (list == NULL || n == 0)
    return false;
  while (*p)
    {
      const char *e = strchr (p, sep);
      size_t l = e ? (size_t)(e - p) : strlen (p);
      if (l == n && memcmp (p, item, n) == 0)
        return true;
      if (e == NULL)
        break;
      p = e + 1;
    }
  return false;
}

int
mr_cg_write (const char *dir, const char *file, const char *value, const char *cfg, mr_error_t *err)
{
  char path[PATH_MAX];
  cleanup_close int fd = -1;
  if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, file) >= sizeof path)
    return mr_error_set (err, ENAMETOOLONG, "%s%s`%s/%s`", cfg ? cfg : "", cfg ? ": " : "", dir, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && cfg)
    return mr_error_set (err, 0, "%s: `%s` is not available in `%s` (the kernel or controller lacks it)", cfg,
                         file, dir);
  if (fd < 0)
    return mr_error_set (err, errno, "%s%sopen `%s`", cfg ? cfg : "", cfg ? ": " : "", path);
  if (mr_write_all (fd, value, strlen (value)) < 0)
    return mr_error_set (err, errno, "%s%swrite `%s` to `%s`", cfg ? cfg : "", cfg ? ": " : "", value, path);
  return 0;
}

int
mr_cg_writef (const char *dir, const char *file, const char *cfg, mr_error_t *err, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n;
  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start above
  va_end (ap);
  if (n < 0 || (size_t) n >= sizeof buf) /* a value cut short is another value */
    return mr_error_set (err, n < 0 ? errno : E2BIG, "%s%sformat the value for `%s/%s`", cfg ? cfg : "",
                         cfg ? ": " : "", dir, file);
  return mr_cg_write (dir, file, buf, cfg, err);
}

int
mr_cg_read (const char *dir, const char *file, char **out, mr_error_t *err)
{
  char path[PATH_MAX];
  if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, file) >= sizeof path)
    return mr_error_set (err, ENAMETOOLONG, "`%s/%s`", dir, file);
  return mr_read_file_at (AT_FDCWD, path, 1 << 20, out, NULL, err);
}

bool
mr_cg_exists (const char *dir, const char *file)
{
  char path[PATH_MAX];
  if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, file) >= sizeof path)
    return false;
  return access (path, F_OK) == 0;
}

uint64_t
mr_cg_kv (const char *text, const char *key, uint64_t def)
{
  size_t n = strlen (key);
  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, key, n) == 0 && p[n] == ' ')
      return strtoull (p + n + 1, NULL, 10);
  return def;
}

uint64_t
mr_cg_read_u64 (const char *dir, const char *file)
{
  cleanup_free char *s = NULL;
  mr_error_t err = NULL;
  if (mr_cg_read (dir, file, &s, &err) < 0)
    {
      mr_error_free (&err);
      return 0;
    }
  return strncmp (s, "max", 3) == 0 ? 0 : strtoull (s, NULL, 10);
}

int
mr_cg_procs_read (const char *dir, pid_t **pids, size_t *n, mr_error_t *err)
{
  cleanup_free char *s = NULL;
  size_t cnt = 0;
  pid_t *v = NULL;
  *pids = NULL;
  *n = 0;
  if (dir == NULL)
    return 0;
  if (mr_cg_read (dir, "cgroup.procs", &s, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err); /* the cgroup is gone: no processes */
      return 0;
    }
  for (char *p = s, *end; *p; p = end)
    {
      long pid = strtol (p, &end, 10);
      if (end == p)
        break;
      v = xrealloc (v, (cnt + 1) * sizeof *v);
      v[cnt++] = (pid_t)pid;
    }
  *pids = v;
  *n = cnt;
  return 0;
}

int
mr_cg_wait_file (const char *dir, const char *file, const char *key, const char *want, int timeout_ms,
                 mr_error_t *err)
{
  long long deadline = mr_now_ms () + timeout_ms;
  for (;;)
    {
      cleanup_free char *s = NULL;
      bool ok;
      if (mr_cg_read (dir, file, &s, err) < 0)
        return -1;
      if (key)
        ok = mr_cg_kv (s, key, UINT64_MAX) == strtoull (want, NULL, 10);
      else
        ok = strncmp (s, want, strlen (want)) == 0 && (s[strlen (want)] == '\n' || s[strlen (want)] == '\0');
      if (ok)
        return 0;
      if (mr_now_ms () > deadline)
        {
          s[strcspn (s, "\n")] = '\0';
          return mr_error_set (err, ETIMEDOUT, "`%s/%s` did not reach `%s%s%s` within %d ms (last `%.64s`)",
                               dir, file, key ? key : "", key ? " " : "", want, timeout_ms, s);
        }
      usleep (1000);
    }
}

size_t
mr_cg_hugepage_sizes (char (*names)[16], size_t max)
{
  DIR *d = opendir ("/sys/kernel/mm/hugepages");
  struct dirent *e;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir (d)) && n < max)
    {
      unsigned long kb;
      char *end;
      if (strncmp (e->d_name, "hugepages-", 10) != 0 || e->d_name[10] < '0' || e->d_name[10] > '9')
        continue;
      errno = 0;
      kb = strtoul (e->d_name + 10, &end, 10);
      if (errno != 0 || strcmp (end, "kB") != 0 || kb > UINT32_MAX)
        continue;
      if (kb >= 1024UL * 1024 && kb % (1024UL * 1024) == 0)
        (void) snprintf (names[n++], 16, "%luGB", kb / (1024UL * 1024));
      else if (kb >= 1024 && kb % 1024 == 0)
        (void) snprintf (names[n++], 16, "%luMB", kb / 1024);
      else
        (void) snprintf (names[n++], 16, "%luKB", kb);
    }
  closedir (d);
  return n;
}
