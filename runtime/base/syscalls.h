/* syscalls.h: tiny wrappers for the syscalls glibc 2.36 does not wrap.
 * Header-only so the child side can use them without pulling anything in. */
#ifndef MINIRUN_SYSCALLS_H
#define MINIRUN_SYSCALLS_H

#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static inline pid_t
mr_clone3 (struct clone_args *args, size_t size)
{
  return (pid_t) syscall (SYS_clone3, args, size);
}

static inline int
mr_openat2 (int dirfd, const char *path, struct open_how *how, size_t size)
{
  return (int) syscall (SYS_openat2, dirfd, path, how, size);
}

static inline int
mr_pidfd_open (pid_t pid, unsigned int flags)
{
  return (int) syscall (SYS_pidfd_open, pid, flags);
}

static inline int
mr_pidfd_send_signal (int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int
mr_close_range (unsigned int first, unsigned int last, unsigned int flags)
{
  return (int) syscall (SYS_close_range, first, last, flags);
}

static inline int
mr_pivot_root (const char *new_root, const char *put_old)
{
  return (int) syscall (SYS_pivot_root, new_root, put_old);
}

/* sched_setattr(2): glibc 2.36 has neither the call nor the struct (the
 * layout is the kernel's SCHED_ATTR_SIZE_VER1, 56 bytes). */
struct mr_sched_attr
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

static inline int
mr_sched_setattr (pid_t pid, struct mr_sched_attr *attr, unsigned int flags)
{
  return (int) syscall (SYS_sched_setattr, pid, attr, flags);
}

static inline int
mr_ioprio_set (int which, int who, int ioprio)
{
  return (int) syscall (SYS_ioprio_set, which, who, ioprio);
}

static inline int
mr_set_mempolicy (int mode, const unsigned long *nodemask, unsigned long maxnode)
{
  return (int) syscall (SYS_set_mempolicy, mode, nodemask, maxnode);
}

#endif
