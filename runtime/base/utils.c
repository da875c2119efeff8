/* utils.c: checked allocation, file I/O helpers, atomic writes, number and
 * signal-name parsing shared by the whole runtime. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/utils.h"

static void __attribute__ ((noreturn))
oom (void)
{
  static const char msg[] = "minirun: out of memory\n";
  (void) !write (STDERR_FILENO, msg, sizeof msg - 1);
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t size)
{
  p = realloc (p, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    oom ();
  return r;
}

char *
xasprintf (const char *fmt, ...)
{
  char *r;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&r, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return r;
}

int
mr_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        {
          errno = EIO;
          return -1;
        }
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
mr_write_file_at (int dirfd, const char *path, const char *data, size_t len, mr_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return mr_error_set (err, errno, "open `%s` for writing", path);
  if (mr_write_all (fd, data, len) < 0)
    return mr_error_set (err, errno, "write `%.*s` to `%s`", (int) (len > 64 ? 64 : len), data, path);
  return 0;
}

int
mr_read_file_at (int dirfd, const char *path, size_t max, char **out, size_t *len_out, mr_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;

  if (fd < 0)
    return mr_error_set (err, errno, "open `%s`", path);
  for (;;)
    {
      ssize_t n;
      if (cap - len < 4096)
        {
          cap = cap ? cap * 2 : 8192;
          if (cap > max + 1)
            cap = max + 1;
          if (cap <= len)
            return mr_error_set (err, E2BIG, "read `%s`: larger than %zu bytes", path, max);
          buf = xrealloc (buf, cap + 1);
        }
      n = read (fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return mr_error_set (err, errno, "read `%s`", path);
      if (n == 0)
        break;
      len += (size_t) n;
      if (len > max)
        return mr_error_set (err, E2BIG, "read `%s`: larger than %zu bytes", path, max);
    }
  if (buf == NULL)
    buf = xmalloc (1);
  buf[len] = '\0';
  *out = MR_STEAL (buf);
  if (len_out)
    *len_out = len;
  return 0;
}

int
mr_write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode, mr_error_t *err)
{
  char tmp[PATH_MAX];
  cleanup_close int fd = -1;

  if ((size_t) snprintf (tmp, sizeof tmp, ".%s.tmp.%d", name, (int) getpid ()) >= sizeof tmp)
    return mr_error_set (err, ENAMETOOLONG, "atomic write of `%s`", name);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return mr_error_set (err, errno, "create `%s`", tmp);
  if (mr_write_all (fd, data, len) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return mr_error_set (err, e, "write `%s`", tmp);
    }
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int e = errno;
      unlinkat (dirfd, tmp, 0);
      return mr_error_set (err, e, "rename `%s` to `%s`", tmp, name);
    }
  return 0;
}

int
mr_mkdir_p (const char *path, mode_t mode, mr_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  char *p;

  for (p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return mr_error_set (err, errno, "mkdir `%s`", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return mr_error_set (err, errno, "mkdir `%s`", copy);
  return 0; // NOLINT(clang-analyzer-unix.Malloc): `copy` is cleanup_free, which the analyzer does not model
}

/* One " %d" field of /proc/PID/stat at *p; advances *p past it. */
static bool
stat_int (char **p, int *out)
{
  char *end;
  long v;

  if (**p != ' ')
    return false;
  errno = 0;
  v = strtol (*p + 1, &end, 10);
  if (errno != 0 || end == *p + 1 || v < INT_MIN || v > INT_MAX)
    return false;
  *out = (int) v;
  *p = end;
  return true;
}

bool
mr_proc_stat_read (pid_t pid, struct mr_proc_stat *out)
{
  char path[64], buf[1024];
  cleanup_close int fd = -1;
  char *open_p, *close_p, *p, *end;
  int ppid, pgrp, sid;
  ssize_t n;

  (void) snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  /* comm may contain spaces and parens: it ends at the last ')' */
  open_p = strchr (buf, '(');
  close_p = strrchr (buf, ')');
  if (open_p == NULL || close_p == NULL || close_p < open_p || close_p[1] == '\0')
    return false;
  (void) snprintf (out->comm, sizeof out->comm, "%.*s", (int) (close_p - open_p - 1), open_p + 1);
  /* ") S ppid pgrp session ..." */
  p = close_p + 2;
  out->state = *p++;
  if (out->state == '\0' || !stat_int (&p, &ppid) || !stat_int (&p, &pgrp) || !stat_int (&p, &sid))
    return false;
  out->ppid = ppid;
  out->pgrp = pgrp;
  out->session = sid;
  /* after ") " come fields 3..: state(3) ... starttime(22) */
  p = close_p + 2;
  for (int field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (p == NULL || *p < '0' || *p > '9')
    return false;
  errno = 0;
  out->start_time = strtoull (p, &end, 10);
  return errno == 0 && end != p;
}

bool
mr_read_int_file (const char *path, int64_t min, int64_t max, int64_t *out)
{
  cleanup_free char *data = NULL;
  mr_error_t ignored = NULL;

  if (mr_read_file_at (AT_FDCWD, path, 64, &data, NULL, &ignored) < 0)
    {
      mr_error_free (&ignored);
      return false;
    }
  data[strcspn (data, "\n")] = '\0';
  return mr_parse_i64 (data, min, max, out);
}

bool
mr_parse_i64 (const char *s, int64_t min, int64_t max, int64_t *out)
{
  char *end;
  long long v;

  if (s == NULL || *s == '\0')
    return false;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
  { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
  { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
  { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
mr_signal_parse (const char *name)
{
  int64_t n;

  if (name == NULL || *name == '\0')
    return -1;
  if (mr_parse_i64 (name, 1, SIGRTMAX, &n))
    return (int) n;
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcasecmp (name, signals[i].name) == 0)
      return signals[i].sig;
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      int base = min ? SIGRTMIN : SIGRTMAX;
      const char *rest = name + 5;
      if (*rest == '\0')
        return base;
      if ((*rest == '+' && min) || (*rest == '-' && !min))
        {
          if (mr_parse_i64 (rest + 1, 0, SIGRTMAX - SIGRTMIN, &n))
            return min ? base + (int) n : base - (int) n;
        }
    }
  return -1;
}

const char *
mr_signal_name (int sig)
{
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (signals[i].sig == sig)
      return signals[i].name;
  return NULL;
}

long long
mr_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
