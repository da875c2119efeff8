/* sysctl.c: linux.sysctl.  Only namespaced keys are accepted, and only when
 * the container has the namespace they belong to (net.* needs a network
 * namespace, the IPC keys an IPC namespace, hostname/domainname a UTS one):
 * anything else would change the host.  Values are written through the
 * launcher's view of /proc/sys, which resolves namespaced entries against the
 * writing process's namespaces, before pivot_root, so the container does not
 * need /proc mounted. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cleanup.h"
#include "launcher.h"
#include "utils.h"

static const char *const ipc_keys[] = {
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
  "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL,
};

int
mr_sysctl_validate (const struct mr_config *config, const bool new_ns[MR_NS_COUNT], mr_error_t *err)
{
  for (size_t i = 0; i < config->n_sysctl; i++)
    {
      const char *k = config->sysctl[i].key;
      bool ipc = strncmp (k, "fs.mqueue.", 10) == 0;
      for (size_t j = 0; !ipc && ipc_keys[j]; j++)
        ipc = strcmp (k, ipc_keys[j]) == 0;
      if (strstr (k, "..") || strchr (k, '/') != NULL)
        return mr_error_set (err, 0, "linux.sysctl: invalid key \"%s\"", k);
      if (ipc)
        {
          if (!new_ns[MR_NS_IPC])
            return mr_error_set (err, 0, "linux.sysctl: \"%s\" needs a new ipc namespace in linux.namespaces", k);
          continue;
        }
      if (strncmp (k, "net.", 4) == 0)
        {
          if (!new_ns[MR_NS_NET])
            return mr_error_set (err, 0, "linux.sysctl: \"%s\" needs a new network namespace in linux.namespaces",
                                 k);
          continue;
        }
      if (strcmp (k, "kernel.hostname") == 0 || strcmp (k, "kernel.domainname") == 0)
        {
          if (!new_ns[MR_NS_UTS])
            return mr_error_set (err, 0, "linux.sysctl: \"%s\" needs a new uts namespace in linux.namespaces", k);
          continue;
        }
      return mr_error_set (err, 0,
                           "linux.sysctl: \"%s\" is not namespaced; setting it would change the host (only "
                           "net.*, fs.mqueue.*, kernel IPC keys and kernel.hostname/domainname are allowed)",
                           k);
    }
  return 0;
}

int
mr_sysctl_apply (const struct mr_config *config, mr_error_t *err)
{
  for (size_t i = 0; i < config->n_sysctl; i++)
    {
      cleanup_free char *path = xasprintf ("/proc/sys/%s", config->sysctl[i].key);
      const char *v = config->sysctl[i].value;
      for (char *p = path + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (mr_write_file_at (AT_FDCWD, path, v, strlen (v), err) < 0)
        return mr_error_wrap (err, "linux.sysctl \"%s\"", config->sysctl[i].key);
    }
  return 0;
}
