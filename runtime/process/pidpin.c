/* pidpin.c: clone3() with set_tid for one planned process, "any" emulation,
 * NSpid verification input, and the attribution of EEXIST/EPERM/EINVAL to a
 * namespace and a number (the kernel's errno alone does not say which level
 * failed: it checks innermost first and reports the first failure). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/pidpin.h"
#include "base/syscalls.h"
#include "base/utils.h"

/* The probe's answer, once per process: -1 not yet asked, else the errno of
 * clone3 { set_tid = NULL, set_tid_size = 1 }.  A kernel that knows set_tid
 * refuses that pair with EINVAL before it creates anything; one that has
 * clone3 without set_tid (5.3, 5.4) sees unknown non-zero fields past its
 * struct and says E2BIG; without clone3 (or under a seccomp filter that
 * hides it, as container engines' default profiles do) it is ENOSYS. */
static int probe_errno = -1;

static int
probe_set_tid (void)
{
  struct clone_args args;
  pid_t pid;

  if (probe_errno >= 0)
    return probe_errno;
  memset (&args, 0, sizeof args);
  args.set_tid_size = 1;
  args.exit_signal = SIGCHLD;
  pid = mr_clone3 (&args, offsetof (struct clone_args, set_tid_size) + sizeof args.set_tid_size);
  if (pid == 0)
    _exit (0); /* no kernel creates a process for this; if one did, it ends here */
  if (pid > 0)
    {
      /* it ignored the fields: set_tid cannot be trusted there */
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      probe_errno = ENOTSUP;
    }
  else
    probe_errno = errno == EINVAL ? 0 : errno;
  return probe_errno;
}

bool
mr_pidpin_kernel_supported (void)
{
  return probe_set_tid () == 0;
}

/* Why pins cannot work here, for the error. */
static const char *
unsupported_reason (void)
{
  switch (probe_set_tid ())
    {
    case ENOSYS:
      return "clone3 is not available (Linux before 5.3, or a seccomp filter around minirun refuses it)";
    case E2BIG:
      return "clone3 has no set_tid (Linux before 5.5)";
    case EPERM:
      return "clone3 is refused (a seccomp filter or LSM around minirun)";
    default:
      return "clone3 does not take set_tid here (it needs Linux 5.5 or later)";
    }
}

int64_t
mr_pidpin_host_pid_max (void)
{
  int64_t v;
  return mr_read_int_file ("/proc/sys/kernel/pid_max", 2, MR_PID_MAX_LIMIT, &v) ? v : MR_PID_MAX_LIMIT;
}

int
mr_pidpin_depth_below_self (int nsfd, const char *path, int *depth, mr_error_t *err)
{
  struct stat self, cur;
  int cur_fd = dup (nsfd);

  if (cur_fd < 0 || stat ("/proc/self/ns/pid", &self) < 0)
    {
      if (cur_fd >= 0)
        close (cur_fd);
      return mr_error_set (err, errno, "inspect pid namespaces");
    }
  for (int d = 0; d <= MR_MAX_PID_LEVELS; d++)
    {
      int parent;
      if (fstat (cur_fd, &cur) < 0)
        break;
      if (cur.st_ino == self.st_ino && cur.st_dev == self.st_dev)
        {
          close (cur_fd);
          *depth = d;
          return 0;
        }
      parent = ioctl (cur_fd, NS_GET_PARENT);
      close (cur_fd);
      if (parent < 0)
        return mr_error_set (err, errno == EPERM ? 0 : errno,
                             "the pid namespace at `%s` is not below minirun's own", path);
      cur_fd = parent;
    }
  close (cur_fd);
  return mr_error_set (err, 0, "the pid namespace at `%s` is too deep", path);
}

/* clone3 arguments common to every container process. */
static void
init_clone_args (struct clone_args *args, uint64_t flags, int cgroup_fd, int *pidfd)
{
  memset (args, 0, sizeof *args);
  args->flags = flags | CLONE_PIDFD;
  args->pidfd = (uint64_t) (uintptr_t) pidfd;
  args->exit_signal = SIGCHLD;
  if (cgroup_fd >= 0)
    {
      args->flags |= CLONE_INTO_CGROUP;
      args->cgroup = (uint64_t) cgroup_fd;
    }
}

bool
mr_pidpin_want_legacy (bool config_opt_in)
{
  const char *force = getenv ("MINIRUN_FORCE_LEGACY_PINS");
  if (!config_opt_in)
    return false;
  return !mr_pidpin_kernel_supported () || (force && strcmp (force, "1") == 0);
}


char *
mr_pidpin_holder (pid_t pid)
{
  struct mr_proc_stat ps;
  DIR *d;
  struct dirent *de;
  char *found = NULL;

  if (mr_proc_stat_read (pid, &ps))
    {
      if (ps.state == 'Z')
        return xasprintf ("an unreaped zombie (%s) of its parent", ps.comm);
      return xasprintf ("process %d (%s)", (int) pid, ps.comm);
    }
  d = opendir ("/proc");
  if (d == NULL)
    return NULL;
  while (found == NULL && (de = readdir (d)) != NULL)
    {
      int64_t other;
      if (!mr_parse_i64 (de->d_name, 1, INT32_MAX, &other) || !mr_proc_stat_read ((pid_t) other, &ps))
        continue;
      if (ps.pgrp == pid)
        found = xasprintf ("the process group of process %d (%s)", (int) other, ps.comm);
      else if (ps.session == pid)
        found = xasprintf ("the session of process %d (%s)", (int) other, ps.comm);
    }
  closedir (d);
  return found;
}

static int
explain_clone_error (const struct mr_pid_plan *plan, const struct mr_plan_proc *p, int e, bool can_see_host,
                     mr_error_t *err)
{
  if (p->set_tid_size == 0)
    {
      if (e == ENOSYS)
        return mr_error_set (err, e, "clone3 (minirun needs Linux >= 5.3)");
      if (e == ENOMEM && !plan->ns[p->ns].is_new)
        return mr_error_set (err, e, "process \"%s\": clone3 into pid namespace \"%s\" (its init has exited?)",
                             p->name, plan->ns[p->ns].name);
      return mr_error_set (err, e, "process \"%s\": clone3", p->name);
    }
  switch (e)
    {
    case ENOSYS:
    case E2BIG:
      return mr_error_set_explained (err, e, "this kernel cannot pin pids (clone3 set_tid needs Linux >= 5.5)");

    case EEXIST:
      /* The kernel checks innermost first: report the level we can prove. */
      for (size_t off = p->set_tid_size; off-- > 0;)
        {
          int ns = p->level_ns[off];
          cleanup_free char *holder = NULL;
          if (ns != 0 || !can_see_host || p->set_tid[off] == 0)
            continue;
          holder = mr_pidpin_holder (p->set_tid[off]);
          if (holder)
            return mr_error_set_explained (err, EEXIST,
                                 "process \"%s\": pid %d is already in use in pid namespace \"host\" (held by "
                                 "%s; a running or zombie process, a process group or a session keeps a "
                                 "number in use)",
                                 p->name, p->set_tid[off], holder);
        }
      for (size_t off = 0; off < p->set_tid_size; off++)
        if (p->set_tid[off] != 0 && !plan->ns[p->level_ns[off]].is_new)
          return mr_error_set_explained (err, EEXIST,
                               "process \"%s\": pid %d is already in use in pid namespace \"%s\" (a running "
                               "or zombie process, a process group or a session keeps a number in use)",
                               p->name, p->set_tid[off], plan->ns[p->level_ns[off]].name);
      return mr_error_set_explained (err, EEXIST, "process \"%s\": one of the pins %s is already in use", p->name,
                           "in its pid namespaces");

    case EPERM:
      {
        size_t off = p->set_tid_size - 1;
        return mr_error_set_explained (err, EPERM,
                             "process \"%s\": pinning pid %d in pid namespace \"%s\" needs CAP_SYS_ADMIN or "
                             "CAP_CHECKPOINT_RESTORE in the user namespace that owns it",
                             p->name, p->set_tid[off], plan->ns[p->level_ns[off]].name);
      }

    case EINVAL:
      return mr_error_set_explained (err, EINVAL,
                           "process \"%s\": the kernel refused the pins (set_tid of %zu levels); a pid is outside "
                           "its namespace's pid_max, or the namespace has no init yet",
                           p->name, p->set_tid_size);

    case ENOMEM:
      return mr_error_set (err, ENOMEM, "process \"%s\": clone3 into pid namespace \"%s\" (its init has exited?)",
                           p->name, plan->ns[p->ns].name);

    default:
      return mr_error_set (err, e, "process \"%s\": clone3 with pinned pids", p->name);
    }
}

/* The legacy way, for kernels without set_tid (opt-in): ask the kernel for
 * pin-1 as the last pid of the forker's own pid namespace, clone, and check.
 * The new process waits on a pipe until the parent has verified its pid; a
 * wrong one (another fork won the race) is killed and the attempt repeated,
 * so a wrong pid is never accepted.  Only the level the forker lives in can be
 * steered this way (plus pid 1 of a namespace the clone creates). */
static pid_t
legacy_clone (const struct mr_pid_plan *plan, size_t proc, uint64_t flags, int cgroup_fd, int *pidfd,
              mr_error_t *err)
{
  const struct mr_plan_proc *p = &plan->procs[proc];
  size_t off = p->new_pidns ? 1 : 0;
  pid_t want;

  if (p->set_tid_size == 0)
    off = SIZE_MAX;
  else if (p->set_tid_size != off + 1 || (p->new_pidns && p->set_tid[0] != 1) || p->set_tid[off] == 0)
    return mr_error_set (err, EINVAL,
                         "process \"%s\": legacy pinning (minirun.legacyNsLastPid) can pin only the pid namespace "
                         "its parent lives in; it pins %zu levels (%s)",
                         p->name, p->set_tid_size, "pin fewer levels, or use a kernel with clone3 set_tid (>= 5.5)");
  want = off == SIZE_MAX ? 0 : p->set_tid[off];

  for (int attempt = 0; attempt < MR_LEGACY_TRIES; attempt++)
    {
      struct clone_args args;
      int gate[2], fd = -1;
      pid_t pid;

      if (want > 0)
        {
          char buf[32];
          int n = snprintf (buf, sizeof buf, "%d", want - 1);
          /* Who holds it, once: the walk over /proc (for process groups and
           * sessions) takes milliseconds on a busy host, and between the
           * write of ns_last_pid and the clone every other fork may steal
           * the number, so retries must be quick. */
          cleanup_free char *holder = attempt == 0 ? mr_pidpin_holder (want) : NULL;
          if (holder)
            return mr_error_set_explained (err, EEXIST,
                                           "process \"%s\": pid %d is already in use in pid namespace \"%s\" (held "
                                           "by %s)",
                                           p->name, want, plan->ns[p->level_ns[off]].name, holder);
          if (mr_write_file_at (AT_FDCWD, "/proc/sys/kernel/ns_last_pid", buf, (size_t) n, err) < 0)
            return mr_error_wrap (err, "process \"%s\": legacy pinning", p->name);
        }
      if (pipe2 (gate, O_CLOEXEC) < 0)
        return mr_error_set (err, errno, "process \"%s\": pipe", p->name);
      init_clone_args (&args, flags, cgroup_fd, &fd);
      pid = mr_clone3 (&args, sizeof args);
      if (pid < 0)
        {
          int e = errno;
          close (gate[0]);
          close (gate[1]);
          return explain_clone_error (plan, p, e, true, err);
        }
      if (pid == 0)
        {
          char c;
          close (gate[1]);
          if (read (gate[0], &c, 1) != 1 || c != 'Y')
            _exit (127);
          close (gate[0]);
          return 0;
        }
      close (gate[0]);
      if (want == 0 || pid == want)
        {
          (void) !write (gate[1], "Y", 1);
          close (gate[1]);
          *pidfd = fd;
          return pid;
        }
      /* someone else's fork took the number: never keep a wrong pid */
      close (gate[1]);
      mr_pidfd_send_signal (fd, SIGKILL, NULL, 0);
      {
        siginfo_t info;
        while (waitid (P_PIDFD, (id_t) fd, &info, WEXITED) < 0 && errno == EINTR)
          ;
      }
      close (fd);
    }
  return mr_error_set_explained (err, EAGAIN,
                                 "process \"%s\": legacy pinning did not get pid %d after %d tries (other "
                                 "processes keep forking); use a kernel with clone3 set_tid",
                                 p->name, want, MR_LEGACY_TRIES);
}

pid_t
mr_pidpin_clone (const struct mr_pid_plan *plan, size_t proc, uint64_t flags, int cgroup_fd, bool can_see_host,
                 int *pidfd, mr_error_t *err)
{
  const struct mr_plan_proc *p = &plan->procs[proc];
  pid_t set_tid[MR_MAX_PID_LEVELS];
  struct clone_args args;
  int fd = -1;
  pid_t pid;
  size_t tries = 0;
  pid_t next_candidate = 2;

  if (plan->use_legacy)
    return legacy_clone (plan, proc, flags, cgroup_fd, pidfd, err);
  if (p->set_tid_size > 0 && !mr_pidpin_kernel_supported ())
    return mr_error_set_explained (err, ENOSYS, "cannot pin pids here: %s", unsupported_reason ());

  memcpy (set_tid, p->set_tid, sizeof set_tid);
  /* With "any" levels to emulate, a pinned host level that is taken would
   * fail every candidate: say so at once. */
  if (p->needs_any_emulation && can_see_host)
    for (size_t off = 0; off < p->set_tid_size; off++)
      if (p->level_ns[off] == 0 && p->set_tid[off] > 0)
        {
          cleanup_free char *holder = mr_pidpin_holder (p->set_tid[off]);
          if (holder)
            return mr_error_set_explained (err, EEXIST,
                                           "process \"%s\": pid %d is already in use in pid namespace \"host\" "
                                           "(held by %s; a running or zombie process, a process group or a session "
                                           "keeps a number in use)",
                                           p->name, p->set_tid[off], holder);
        }
  for (;;)
    {
      bool emulating = false;
      init_clone_args (&args, flags, cgroup_fd, &fd);
      if (p->set_tid_size > 0)
        {
          for (size_t off = 0; off < p->set_tid_size; off++)
            if (p->set_tid[off] == 0)
              {
                /* "any" under a pinned outer level: try the next candidate. */
                set_tid[off] = next_candidate;
                emulating = true;
              }
          args.set_tid = (uint64_t) (uintptr_t) set_tid;
          args.set_tid_size = p->set_tid_size;
        }
      pid = mr_clone3 (&args, sizeof args);
      if (pid >= 0)
        break;
      if (errno == EEXIST && emulating && ++tries < MR_ANY_EMULATION_TRIES)
        {
          next_candidate++;
          continue;
        }
      if (emulating && errno == EEXIST)
        return mr_error_set_explained (err, EEXIST,
                             "process \"%s\": no free pid found for an \"any\" level after %d tries; pin it "
                             "explicitly",
                             p->name, MR_ANY_EMULATION_TRIES);
      return explain_clone_error (plan, p, errno, can_see_host, err);
    }
  if (pid == 0)
    return 0;
  *pidfd = fd;
  return pid;
}

int
mr_pidpin_read_nspid (int pidfd, pid_t *out, size_t max, size_t *n, mr_error_t *err)
{
  char path[64];
  cleanup_free char *data = NULL;
  char *line, *p;

  (void) snprintf (path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &data, NULL, err) < 0)
    return -1;
  line = strstr (data, "\nNSpid:");
  if (line == NULL)
    return mr_error_set (err, ENOTSUP, "%s has no NSpid line: cannot verify pinned pids", path);
  p = line + 7;
  *n = 0;
  while (*p && *p != '\n' && *n < max)
    {
      char *end;
      long v;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\n' || *p == '\0')
        break;
      v = strtol (p, &end, 10);
      if (end == p)
        break;
      out[(*n)++] = (pid_t) v;
      p = end;
    }
  if (*n == 0 || out[0] <= 0)
    return mr_error_set (err, ESRCH, "the process behind the pidfd has exited (NSpid %s)", *n ? "-1" : "empty");
  return 0;
}
