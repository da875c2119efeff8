/* common/dirs.h: making and removing a container's directory in one
 * hierarchy, the same for every driver (common/dirs.c): mkdir -p with a
 * per-level hook for what a version must do on the way down (v1: cpuset
 * cpus/mems from the parent; v2: controllers enabled in the parent), the
 * ownership marks, the record of one create for its rollback, and the
 * teardown of a destroy (sub-cgroups, EBUSY retries, then the empty
 * ancestors minirun made). */
#ifndef MINIRUN_CGROUP_COMMON_DIRS_H
#define MINIRUN_CGROUP_COMMON_DIRS_H

#include <stdbool.h>
#include <stddef.h>

#include "cgroup/common/cg.h"

/* What one create made: the directories (in mkdir order) and the
 * pre-existing leaves it marked "foreign".  Starts zeroed. */
struct mr_cg_created
{
  char **dirs;
  size_t n;
  char **foreign;
  size_t n_foreign;
};

/* What a version does at each level on the way down to a leaf; either may
 * be NULL.  before: the parent exists, `dir` is about to be made; after:
 * `dir` was made or already existed. */
struct mr_cg_level_hooks
{
  int (*before) (const char *parent, void *ctx, mr_error_t *err);
  int (*after) (const char *parent, const char *dir, void *ctx, mr_error_t *err);
  void *ctx;
};

/* Make the container's directory `dir` of `cg` in one hierarchy (parents as
 * needed, each new one marked "created", recorded in c).  A leaf that
 * already exists is reused when it has no processes (EBUSY "already in use"
 * otherwise) and marked "foreign" unless an earlier minirun made it.
 * Concurrent deletes of a shared parent (ENOENT/ENODEV) are retried. */
int mr_cg_make_leaf (const struct mr_cgroup *cg, const char *dir, const struct mr_cg_level_hooks *hooks,
                     struct mr_cg_created *c, mr_error_t *err);
/* The create succeeded: forget the record. */
void mr_cg_created_done (struct mr_cg_created *c);
/* The create failed: remove exactly what it made, deepest first, and clear
 * the marks it set on existing leaves. */
void mr_cg_rollback (struct mr_cg_created *c);

/* One destroy across the hierarchies of a container: the ~1 s deadline for
 * lingering processes, whether shared parents are still worth trying, the
 * first error. */
struct mr_cg_teardown
{
  long long deadline;
  bool parents_free;
  int ret;
  mr_error_t first;
};
void mr_cg_teardown_begin (struct mr_cg_teardown *td);
/* Remove the container's directory `dir` in the hierarchy mounted at `mount`
 * (this process's cgroup there: `own`, relative): its sub-cgroups, itself
 * unless it is a foreign leaf, then the empty ancestors minirun made. */
void mr_cg_teardown_dir (const struct mr_cgroup *cg, struct mr_cg_teardown *td, const char *dir,
                         const char *mount, const char *own);
/* 0, or -1 with the first error. */
int mr_cg_teardown_end (struct mr_cg_teardown *td, mr_error_t *err);

#endif
