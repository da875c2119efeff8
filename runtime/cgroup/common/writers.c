/* common/writers.c: the writers cgroup v1 and v2 share because their files
 * are the same: cpuset.cpus/mems, pids.max, rdma.max, hugetlb.<size>.*
 * (suffix per version), the per-device rate lines of the block I/O
 * throttles (v1 one file per kind, v2 io.max with a key), and reading
 * memory.stat. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/common/writers.h"
#include "cgroup/common/util.h"

int
mr_cg_write_cpuset (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (res->cpu.cpus && *res->cpu.cpus
      && mr_cg_write (dir, "cpuset.cpus", res->cpu.cpus, "linux.resources.cpu.cpus", err) < 0)
    return -1;
  if (res->cpu.mems && *res->cpu.mems
      && mr_cg_write (dir, "cpuset.mems", res->cpu.mems, "linux.resources.cpu.mems", err) < 0)
    return -1;
  return 0;
}

int
mr_cg_write_pids (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  if (res->pids.limit.v > 0)
    return mr_cg_writef (dir, "pids.max", "linux.resources.pids.limit", err, "%lld",
                         (long long)res->pids.limit.v);
  return mr_cg_write (dir, "pids.max", "max", "linux.resources.pids.limit", err);
}

int
mr_cg_write_rdma (const char *dir, const struct mr_resources *res, bool update, mr_error_t *err)
{
  for (size_t i = 0; i < res->n_rdma; i++)
    {
      const struct mr_rdma_limit *r = &res->rdma[i];
      char what[48], line[256];
      int n = snprintf (line, sizeof line, "%s", r->device);
      (void) snprintf (what, sizeof what, "linux.resources.rdma[\"%s\"]", r->device);
      if (r->hca_handles.set)
        n += snprintf (line + n, sizeof line - (size_t)n, " hca_handle=%llu",
                       (unsigned long long)r->hca_handles.v);
      if (r->hca_objects.set)
        (void) snprintf (line + n, sizeof line - (size_t)n, " hca_object=%llu",
                  (unsigned long long)r->hca_objects.v);
      if ((r->hca_handles.set || r->hca_objects.set) && mr_cg_write (dir, "rdma.max", line, what, err) < 0)
        return -1;
    }
  return 0;
}

int
mr_cg_write_hugetlb (const char *dir, const struct mr_resources *res, const char *suffix, mr_error_t *err)
{
  char sizes[8][16];
  size_t n_sizes = mr_cg_hugepage_sizes (sizes, 8);
  for (size_t i = 0; i < res->n_hugepage_limits; i++)
    {
      const struct mr_hugepage_limit *l = &res->hugepage_limits[i];
      char what[64], file[64];
      bool ok = false;
      (void) snprintf (what, sizeof what, "linux.resources.hugepageLimits[%zu]", i);
      for (size_t k = 0; k < n_sizes; k++)
        ok |= strcmp (sizes[k], l->page_size) == 0;
      if (!ok)
        return mr_error_set (
            err, 0, "%s.pageSize: `%s` is not a huge page size of this host (see /sys/kernel/mm/hugepages)",
            what, l->page_size);
      if ((size_t) snprintf (file, sizeof file, "hugetlb.%s.%s", l->page_size, suffix) >= sizeof file)
        return mr_error_set (err, ENAMETOOLONG, "%s: hugetlb.%s.%s", what, l->page_size, suffix);
      if (mr_cg_writef (dir, file, what, err, "%llu", (unsigned long long)l->limit) < 0)
        return -1;
    }
  return 0;
}

int
mr_cg_write_device_rates (const char *dir, const char *file, const char *key, const char *cfg,
                          const struct mr_throttle_device *t, size_t n, mr_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      char what[96];
      (void) snprintf (what, sizeof what, "%s[%zu]", cfg, i);
      if (mr_cg_writef (dir, file, what, err, "%lld:%lld %s%s%llu", (long long)t[i].major,
                        (long long)t[i].minor, key ? key : "", key ? "=" : "", (unsigned long long)t[i].rate)
          < 0)
        return -1;
    }
  return 0;
}

int
mr_cg_read_memory_stat (const char *dir, char **out, mr_error_t *err)
{
  *out = NULL;
  if (dir == NULL)
    return 0;
  if (mr_cg_read (dir, "memory.stat", out, err) < 0)
    {
      if ((*err)->errno_ != ENOENT)
        return -1;
      mr_error_free (err); /* removed with the container */
    }
  return 0;
}
