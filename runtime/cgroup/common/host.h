/* common/host.h: the host's cgroup layout as detected once per process
 * (common/detect.c): the mounted v1 hierarchies and the cgroup2 mount.
 * Every driver reads it; none changes it. */
#ifndef MINIRUN_CGROUP_COMMON_HOST_H
#define MINIRUN_CGROUP_COMMON_HOST_H

#include <stddef.h>

#include "cgroup/cgroup.h"

/* One mounted cgroup v1 hierarchy. */
struct mr_cg_hier
{
  char *name;       /* controller list as in /proc/self/cgroup: "cpu,cpuacct", "name=systemd" */
  char *mount;      /* where it is mounted: "/sys/fs/cgroup/cpu,cpuacct" */
  char *own;        /* this process's cgroup, relative to `mount` ("" for the mount's root) */
  char *mount_opts; /* data to mount it again: "cpu,cpuacct", "none,name=systemd" */
};

struct mr_cg_host
{
  enum mr_cgroup_layout layout;
  char *root;           /* /sys/fs/cgroup (unit tests: mr_cg_host_set_root) */
  char *v2_mount;       /* the cgroup2 mount (root or root/unified); NULL on legacy */
  char *v2_own;         /* this process's v2 cgroup relative to v2_mount ("" = root) */
  char *v2_controllers; /* " hugetlb memory " (space padded) from cgroup.controllers */
  struct mr_cg_hier *v1;
  size_t n_v1;
};

/* The cached layout (detected on the first call). */
int mr_cg_host_get (const struct mr_cg_host **out, mr_error_t *err);
/* Unit tests: forget the cached layout, and detect the next one below
 * `root` instead of /sys/fs/cgroup (NULL: /sys/fs/cgroup again).  Nothing in
 * the environment reaches it: a release binary always reads the host's. */
void mr_cg_host_reset (void);
void mr_cg_host_set_root (const char *root);

#endif
