/* common/marks.h: the record of which cgroup directories minirun made
 * (common/marks.c): an xattr on the directory, read by every later command. */
#ifndef MINIRUN_CGROUP_COMMON_MARKS_H
#define MINIRUN_CGROUP_COMMON_MARKS_H

#include "minirun/error.h"

enum mr_cg_mark
{
  MR_CG_MARK_NONE,    /* not made by minirun (or missing) */
  MR_CG_MARK_CREATED, /* made by minirun: removed when empty */
  MR_CG_MARK_FOREIGN, /* a container leaf that existed before the container: kept */
  MR_CG_MARK_UNKNOWN, /* this cgroupfs takes no xattrs */
};

#define MR_CG_MARK_VALUE_CREATED "created"
#define MR_CG_MARK_VALUE_FOREIGN "foreign"

enum mr_cg_mark mr_cg_mark_get (const char *dir);
/* value: MR_CG_MARK_VALUE_CREATED or MR_CG_MARK_VALUE_FOREIGN. */
int mr_cg_mark_set (const char *dir, const char *value, mr_error_t *err);
/* Undo a "foreign" mark (the rollback of a failed create, or the end of the
 * container that reused the leaf); a failure is a warning. */
void mr_cg_mark_clear (const char *dir);

#endif
