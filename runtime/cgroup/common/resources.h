/* common/resources.h: where each linux.resources group goes
 * (common/resources.c).  The groups (memory, cpu, cpuset, pids, blkio/io,
 * hugetlb, devices, net_cls, net_prio, rdma) with their v1 and v2
 * controller names and the first config path given for each; the check that
 * every given group has a home on this host; and the dispatch that sends a
 * group to the writer of the version holding it, from the writer tables a
 * driver passes (v1, v2, or both on a hybrid host). */
#ifndef MINIRUN_CGROUP_COMMON_RESOURCES_H
#define MINIRUN_CGROUP_COMMON_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "cgroup/common/cg.h"
#include "minirun/config.h"

enum mr_cg_group
{
  MR_CG_G_MEMORY,
  MR_CG_G_CPU,
  MR_CG_G_CPUSET,
  MR_CG_G_PIDS,
  MR_CG_G_BLKIO,
  MR_CG_G_HUGETLB,
  MR_CG_G_DEVICES,
  MR_CG_G_NET_CLS,
  MR_CG_G_NET_PRIO,
  MR_CG_G_RDMA,
  MR_CG_N_GROUPS
};

struct mr_cg_group_info
{
  const char *v1, *v2; /* controller names; NULL: does not exist there */
  /* the first config path of the group that `r` gives, NULL if none */
  const char *(*given) (const struct mr_resources *r);
};
extern const struct mr_cg_group_info mr_cg_groups[MR_CG_N_GROUPS];

/* Writes one group's values into a directory holding its controller. */
typedef int (*mr_cg_writer) (const char *dir, const struct mr_resources *r, bool update, mr_error_t *err);

/* A version's writers (v1/resources.c, v2/resources.c). */
struct mr_cg_writers
{
  mr_cg_writer group[MR_CG_N_GROUPS]; /* NULL: the group does not exist in this version */
  mr_cg_writer kernel_tcp;            /* memory.kernelTCP; NULL: ignored with a warning */
  /* linux.resources.unified, NULL where there is no unified tree */
  int (*unified) (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
};

/* Every given resource has a home (a v1 hierarchy or the unified tree)?
 * Run before anything is created; the error names the config path and the
 * missing controller. */
int mr_cg_check (const struct mr_cgroup *cg, const struct mr_resources *res, mr_error_t *err);
/* Check, then write every given group with `v1` where a v1 hierarchy holds
 * its controller, else with `v2` (either table may be NULL: that version is
 * not the driver's), then the unified keys, then memory.kernelTCP. */
int mr_cg_apply_resources (struct mr_cgroup *cg, const struct mr_resources *res, bool update,
                           const struct mr_cg_writers *v1, const struct mr_cg_writers *v2, mr_error_t *err);

#endif
