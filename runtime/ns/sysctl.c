/* sysctl.c: linux.sysctl.  Only namespaced keys are accepted, and only when
 * the container has the namespace they belong to (net.* needs a network
 * namespace, the IPC keys an IPC namespace, hostname/domainname a UTS one):
 * anything else would change the host.  Values are written through the
 * launcher's view of /proc/sys, which resolves namespaced entries against the
 * writing process's namespaces, before pivot_root, so the container does not
 * need /proc mounted.  Keys come in the dot or the slash form. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "base/cleanup.h"
#include "ns/ns.h"
#include "base/utils.h"

static const char *const ipc_keys[] = {
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
  "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL,
};

/* The /proc/sys path of a key: the dot form ("net.ipv4.ip_forward") or the
 * slash form ("net/ipv4/ip_forward", "net/ipv4/conf/eth0.100/rp_filter", as
 * runc and crun take it), or NULL when a name in it is empty, "." or "..". */
static char *
sysctl_path (const char *key)
{
  char *path = xasprintf ("/proc/sys/%s", key);
  char *name = path + 10;

  if (strchr (name, '/') == NULL)
    for (char *p = name; *p; p++)
      if (*p == '.')
        *p = '/';
  for (const char *c = name;; c++)
    {
      size_t n = strcspn (c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        {
          free (path);
          return NULL;
        }
      c += n;
      if (*c == '\0')
        return path;
    }
}

/* The dot form of a key, for telling which namespace it belongs to. */
static char *
sysctl_dot_form (const char *key)
{
  char *k = xstrdup (key);

  if (strchr (k, '/'))
    {
      for (char *p = k; *p; p++)
        {
          if (*p == '/')
            *p = '.';
          else if (*p == '.')
            *p = '/';
        }
    }
  return k;
}

int
mr_sysctl_validate (const struct mr_config *config, const bool new_ns[MR_NS_COUNT], mr_error_t *err)
{
  for (size_t i = 0; i < config->n_sysctl; i++)
    {
      const char *key = config->sysctl[i].key;
      cleanup_free char *k = sysctl_dot_form (key);
      bool ipc = strncmp (k, "fs.mqueue.", 10) == 0;
      for (size_t j = 0; !ipc && ipc_keys[j]; j++)
        ipc = strcmp (k, ipc_keys[j]) == 0;
      cleanup_free char *path = sysctl_path (key);
      if (path == NULL)
        return mr_error_set (err, 0, "linux.sysctl: invalid key \"%s\" (a name in it is empty, \".\" or \"..\")",
                             key);
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
      cleanup_free char *path = sysctl_path (config->sysctl[i].key);
      const char *v = config->sysctl[i].value;
      if (path == NULL)
        return mr_error_set (err, EINVAL, "linux.sysctl: invalid key \"%s\"", config->sysctl[i].key);
      if (mr_write_file_at (AT_FDCWD, path, v, strlen (v), err) < 0)
        return mr_error_wrap (err, "linux.sysctl \"%s\"", config->sysctl[i].key);
    }
  return 0;
}
