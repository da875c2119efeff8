/* common/sub.h: exec --cgroup, a sub-cgroup of the container's cgroup for
 * an exec'd process (common/sub.c): the specs parsed and checked (runc's
 * forms PATH and CONTROLLER[,CONTROLLER]:PATH), which one a hierarchy
 * takes, and the sub-cgroup opened below the container's directory without
 * leaving it.  The drivers' `sub` operation (driver.h) uses these to point
 * their join fds (v1 tasks fds, the v2 directory fd) at the sub-cgroups. */
#ifndef MINIRUN_CGROUP_COMMON_SUB_H
#define MINIRUN_CGROUP_COMMON_SUB_H

#include <stdbool.h>
#include <stddef.h>

#include "minirun/error.h"

/* One controller's (or, ctl NULL, every hierarchy's) sub-cgroup. */
struct mr_cg_sub
{
  const char *spec; /* the --cgroup value as given (errors) */
  char *ctl;        /* "memory"; NULL: the plain form PATH */
  char *path;       /* relative to the container's cgroup, no leading `/`; "" is the container's own */
  bool used;        /* a hierarchy of the container took it */
};
struct mr_cg_subs
{
  struct mr_cg_sub *s;
  size_t n;
};

/* Parse the --cgroup values: PATH (alone: one value) or
 * CONTROLLER[,CONTROLLER]:PATH (repeatable, each controller once).  A
 * `..` component is refused; a leading `/` is the container's cgroup. */
int mr_cg_subs_parse (char *const *specs, size_t n, struct mr_cg_subs *out, mr_error_t *err);
void mr_cg_subs_free (struct mr_cg_subs *s);
/* Any CONTROLLER:PATH form?  (cgroup v2 has one tree: the plain form only.) */
bool mr_cg_subs_per_controller (const struct mr_cg_subs *s);
/* The sub-cgroup for a hierarchy whose controllers are the `sep`-separated
 * words of `ctls` (*out NULL: none given, it stays at the container's own),
 * marking the entries it takes.  Two different paths for controllers of
 * one hierarchy (cpu:a and cpuacct:b on cpu,cpuacct) are an error. */
int mr_cg_subs_for (struct mr_cg_subs *s, const char *ctls, char sep, const struct mr_cg_sub **out,
                    mr_error_t *err);
/* A controller named that no hierarchy of the container has. */
int mr_cg_subs_check_used (const struct mr_cg_subs *s, mr_error_t *err);
/* Open sub->path below the directory `dir` (openat2 RESOLVE_BENEATH, no
 * symlinks, same mount), then `file` in it with `flags` (file NULL: the
 * directory itself, O_PATH); O_CLOEXEC.  A missing sub-cgroup is ENOENT
 * with the spec, the path and the container's directory. */
int mr_cg_sub_open (const char *dir, const struct mr_cg_sub *sub, const char *file, int flags, int *fd,
                    mr_error_t *err);

#endif
