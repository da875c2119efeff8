/* v1/levels.c: what a v1 container cgroup needs from the levels above it.
 * cpuset: a new level starts with empty cpus/mems and refuses processes, so
 * it gets its parent's (and no load balancing of its own under a balancing
 * ancestor). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/v1/v1.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/utils.h"

/* ---------- cpuset ---------- */

/* Whether `dir` or one of its ancestors (up to the hierarchy's root, where
 * the file ends) balances load: then the scheduler builds one domain over
 * that ancestor's cpus and every descendant's sched_load_balance is moot. */
static bool
ancestor_balances (const char *dir)
{
  cleanup_free char *p = xstrdup (dir);

  for (;;)
    {
      cleanup_free char *flag = NULL;
      mr_error_t ignored = NULL;
      char *slash;
      if (mr_cg_read (p, "cpuset.sched_load_balance", &flag, &ignored) < 0)
        {
          mr_error_free (&ignored);
          return false; /* above the hierarchy's root */
        }
      if (flag[0] == '1')
        return true;
      slash = strrchr (p, '/');
      if (slash == NULL || slash == p)
        return false;
      *slash = '\0';
    }
}

/* A new v1 cpuset cgroup starts with empty cpus/mems and refuses processes
 * until they are set: copy them from the parent (levels already set are
 * left alone).
 *
 * A cgroup that has cpus and sched_load_balance=1 makes the kernel rebuild
 * the scheduling domains, walking every cpuset, when it is removed (and when
 * the flag changes): with 1000 containers that walk, run by a kworker that
 * holds cpuset_mutex, stalls the next create's cpuset writes.  Under a
 * balancing ancestor the flag changes nothing, so the fresh cgroup clears it
 * while it has no cpus yet, which costs no rebuild. */
int
mr_cg_v1_cpuset_init (const char *parent, const char *dir, mr_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *cur = NULL, *from = NULL;
      if (mr_cg_read (dir, files[i], &cur, err) < 0)
        return -1;
      if (cur[strspn (cur, " \n")] != '\0')
        continue;
      if (mr_cg_read (parent, files[i], &from, err) < 0)
        return -1;
      from[strcspn (from, "\n")] = '\0';
      if (i == 0 && ancestor_balances (parent))
        {
          mr_error_t ignored = NULL;
          if (mr_cg_write (dir, "cpuset.sched_load_balance", "0", NULL, &ignored) < 0)
            mr_error_free (&ignored);
        }
      if (mr_cg_write (dir, files[i], from, NULL, err) < 0)
        return mr_error_wrap (err, "initialise cpuset of `%s` from its parent", dir);
    }
  return 0;
}
