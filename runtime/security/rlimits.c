/* rlimits.c: the process's resource limits: process.rlimits (setrlimit) and
 * process.oomScoreAdj (/proc/self/oom_score_adj).  Checks in the launcher
 * what the kernel would refuse (soft above hard, raising a hard limit without
 * CAP_SYS_RESOURCE, RLIMIT_NOFILE above fs.nr_open) so the error names the
 * limit, the values and the reason before anything is created; the child-side
 * steps give the same explanation if the kernel still says no. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "security/security.h"
#include "security/security_internal.h"
#include "base/utils.h"

static const char *const rlimit_names[] = {
  [RLIMIT_CPU] = "RLIMIT_CPU",           [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
  [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_STACK] = "RLIMIT_STACK",
  [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_RSS] = "RLIMIT_RSS",
  [RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
  [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
  [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
  [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
  [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

static const char *
rl_name (const struct mr_rlimit *rl)
{
  if (rl->type != NULL)
    return rl->type;
  if (rl->resource >= 0 && (size_t) rl->resource < sizeof rlimit_names / sizeof *rlimit_names
      && rlimit_names[rl->resource] != NULL)
    return rlimit_names[rl->resource];
  return "RLIMIT_?";
}

/* "1024" or "unlimited". */
static const char *
rl_value (uint64_t v, char buf[24])
{
  if (v == (uint64_t) RLIM_INFINITY)
    return "unlimited";
  (void) snprintf (buf, 24, "%" PRIu64, v);
  return buf;
}

/* fs.nr_open, or 0 if it cannot be read. */
static uint64_t
read_nr_open (void)
{
  int64_t v;
  return mr_read_int_file ("/proc/sys/fs/nr_open", 0, INT64_MAX, &v) ? (uint64_t) v : 0;
}

static int
raise_error (size_t i, const struct mr_rlimit *rl, uint64_t cur_hard, mr_error_t *err)
{
  char a[24], b[24], c[24];
  return mr_error_set (err, EPERM,
                       "process.rlimits[%zu]: %s soft=%s hard=%s exceeds the current hard limit %s "
                       "and raising it needs CAP_SYS_RESOURCE",
                       i, rl_name (rl), rl_value (rl->soft, a), rl_value (rl->hard, b),
                       rl_value (cur_hard, c));
}

static int
nr_open_error (size_t i, const struct mr_rlimit *rl, uint64_t nr_open, mr_error_t *err)
{
  char a[24];
  return mr_error_set (err, EPERM,
                       "process.rlimits[%zu]: %s hard=%s exceeds fs.nr_open (%" PRIu64
                       ", /proc/sys/fs/nr_open), the most open files the kernel allows",
                       i, rl_name (rl), rl_value (rl->hard, a), nr_open);
}

int
mr_rlimits_check (const struct mr_process *process, mr_error_t *err)
{
  bool cap_checked = false, cap = false;

  if (process->has_oom_score_adj && (process->oom_score_adj < -1000 || process->oom_score_adj > 1000))
    return mr_error_set (err, 0, "process.oomScoreAdj: %d is out of range [-1000, 1000]",
                         process->oom_score_adj);
  for (size_t i = 0; i < process->n_rlimits; i++)
    {
      const struct mr_rlimit *rl = &process->rlimits[i];
      struct rlimit cur;
      char a[24], b[24];

      if (rl->resource < 0 || rl->resource >= RLIM_NLIMITS)
        return mr_error_set (err, 0, "process.rlimits[%zu]: unknown resource `%s` (%d)", i, rl_name (rl),
                             rl->resource);
      for (size_t j = 0; j < i; j++)
        if (process->rlimits[j].resource == rl->resource)
          return mr_error_set (err, 0, "process.rlimits[%zu]: %s is already set by process.rlimits[%zu]", i,
                               rl_name (rl), j);
      if (rl->soft > rl->hard)
        return mr_error_set (err, 0, "process.rlimits[%zu]: %s soft=%s is above hard=%s", i, rl_name (rl),
                             rl_value (rl->soft, a), rl_value (rl->hard, b));
      if (getrlimit (rl->resource, &cur) < 0)
        return mr_error_set (err, errno, "process.rlimits[%zu]: getrlimit %s", i, rl_name (rl));
      if (rl->hard > (uint64_t) cur.rlim_max)
        {
          if (!cap_checked)
            {
              cap = mr_cap_effective (CAP_SYS_RESOURCE);
              cap_checked = true;
            }
          if (!cap)
            return raise_error (i, rl, cur.rlim_max, err);
        }
      if (rl->resource == RLIMIT_NOFILE)
        {
          uint64_t nr_open = read_nr_open ();
          if (nr_open > 0 && rl->hard > nr_open)
            return nr_open_error (i, rl, nr_open, err);
        }
    }
  return 0;
}

int
mr_rlimits_apply (const struct mr_process *process, mr_error_t *err)
{
  for (size_t i = 0; i < process->n_rlimits; i++)
    {
      const struct mr_rlimit *rl = &process->rlimits[i];
      struct rlimit r = { .rlim_cur = (rlim_t) rl->soft, .rlim_max = (rlim_t) rl->hard };
      struct rlimit cur;
      char a[24], b[24];
      int e;

      if (setrlimit (rl->resource, &r) == 0)
        continue;
      e = errno;
      if (e == EPERM && getrlimit (rl->resource, &cur) == 0 && rl->hard > (uint64_t) cur.rlim_max)
        return raise_error (i, rl, cur.rlim_max, err);
      if (e == EPERM && rl->resource == RLIMIT_NOFILE)
        {
          uint64_t nr_open = read_nr_open ();
          if (nr_open > 0 && rl->hard > nr_open)
            return nr_open_error (i, rl, nr_open, err);
        }
      return mr_error_set (err, e, "process.rlimits[%zu]: setrlimit %s soft=%s hard=%s", i, rl_name (rl),
                           rl_value (rl->soft, a), rl_value (rl->hard, b));
    }
  return 0;
}

static int
read_oom_score_adj (int dirfd, const char *path)
{
  cleanup_free char *s = NULL;
  mr_error_t err = NULL;
  int64_t v;

  if (mr_read_file_at (dirfd, path, 64, &s, NULL, &err) < 0)
    {
      mr_error_free (&err);
      return INT32_MIN;
    }
  s[strcspn (s, "\n")] = '\0';
  if (!mr_parse_i64 (s, -1000, 1000, &v))
    return INT32_MIN;
  return (int) v;
}

int
mr_oom_score_adj_apply (const struct mr_process *process, int proc_dirfd, mr_error_t *err)
{
  int dirfd = proc_dirfd >= 0 ? proc_dirfd : AT_FDCWD;
  const char *path = proc_dirfd >= 0 ? "self/oom_score_adj" : "/proc/self/oom_score_adj";
  cleanup_close int fd = -1;
  char buf[16];
  int len, cur;

  if (!process->has_oom_score_adj)
    return 0;
  fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return mr_error_set (err, errno, "process.oomScoreAdj: open `%s`%s", path,
                         errno == ENOENT ? " (no /proc in this mount namespace: set it before pivot_root "
                                           "with mr_security_apply_procfs)"
                                         : "");
  len = snprintf (buf, sizeof buf, "%d", process->oom_score_adj);
  if (mr_write_all (fd, buf, (size_t) len) == 0)
    return 0;
  if (errno != EACCES && errno != EPERM)
    return mr_error_set (err, errno, "process.oomScoreAdj: write %d to `%s`", process->oom_score_adj, path);
  cur = read_oom_score_adj (dirfd, path);
  if (cur == INT32_MIN)
    return mr_error_set (err, EACCES,
                         "process.oomScoreAdj: setting `%s` to %d needs CAP_SYS_RESOURCE (it is below the "
                         "lowest value this process may set)",
                         path, process->oom_score_adj);
  return mr_error_set (err, EACCES, "process.oomScoreAdj: lowering `%s` from %d to %d needs CAP_SYS_RESOURCE",
                       path, cur, process->oom_score_adj);
}
