/* config_netdev.c: linux.netDevices (runtime-spec 1.3), the host interfaces
 * moved into the container's network namespace: a map of host interface name
 * -> {"name": its name inside}.  What the config alone can tell is checked
 * here: both names are valid interface names (the kernel's rules: 1 to 15
 * bytes, not "." or "..", no '/', ':' or white space; a new name may be a
 * template with one "%d"), no two entries end up with the same name, and the
 * container has a network namespace of its own.  That the interface exists
 * and the namespace is not the runtime's is checked on the host (ns/netdev.c). */
#include <ctype.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

/* NULL when valid, else what is wrong with it */
static const char *
ifname_problem (const char *name, bool template_ok)
{
  const char *pct;

  if (name[0] == '\0')
    return "it is empty";
  if (strlen (name) >= IFNAMSIZ)
    return "it is longer than 15 bytes (IFNAMSIZ - 1)";
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return "\".\" and \"..\" are not interface names";
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || isspace ((unsigned char) *p))
      return "it contains '/', ':' or white space";
  pct = strchr (name, '%');
  if (pct == NULL)
    return NULL;
  if (!template_ok)
    return "a host interface name cannot contain '%'";
  if (pct[1] != 'd' || strchr (pct + 1, '%') != NULL)
    return "'%' is only allowed once, as the template \"%d\" (the kernel picks the number)";
  return NULL;
}

void
mr_cfg_net_devices_clear (struct mr_config *c)
{
  for (size_t i = 0; c->net_devices && i < c->n_net_devices; i++)
    {
      free (c->net_devices[i].host_name);
      free (c->net_devices[i].name);
    }
  free (c->net_devices);
  c->net_devices = NULL;
  c->n_net_devices = 0;
}

static const char *
final_name (const struct mr_net_device *d)
{
  return d->name ? d->name : d->host_name;
}

int
mr_cfg_parse_net_devices (const json_t *lx, struct mr_config *c, mr_error_t *err)
{
  json_t *map = NULL, *val;
  const char *k;
  const char *problem;
  int r = mr_cfg_object (lx, "linux", "netDevices", &map, err);

  if (r <= 0)
    return r;
  c->net_devices = xcalloc (json_object_size (map) + 1, sizeof *c->net_devices);
  json_object_foreach (map, k, val)
  {
    cleanup_free char *ep = xasprintf ("linux.netDevices[\"%s\"]", k);
    struct mr_net_device *d = &c->net_devices[c->n_net_devices++];

    d->host_name = xstrdup (k);
    if (mr_cfg_v_object (val, ep, err) < 0)
      return -1;
    if ((problem = ifname_problem (k, false)) != NULL)
      return mr_cfg_error (err, ep, "\"%s\" is not a valid interface name: %s", k, problem);
    if (mr_cfg_string (val, ep, "name", &d->name, err) < 0)
      return -1;
    if (d->name && (problem = ifname_problem (d->name, true)) != NULL)
      return mr_cfg_error (err, ep, "name \"%s\" is not a valid interface name: %s", d->name, problem);
  }
  for (size_t i = 0; i < c->n_net_devices; i++)
    for (size_t j = 0; j < i; j++)
      if (strchr (final_name (&c->net_devices[i]), '%') == NULL
          && strcmp (final_name (&c->net_devices[i]), final_name (&c->net_devices[j])) == 0)
        {
          cleanup_free char *ep = xasprintf ("linux.netDevices[\"%s\"]", c->net_devices[i].host_name);
          return mr_cfg_error (err, ep,
                               "would be named \"%s\" in the container, as linux.netDevices[\"%s\"] would: give "
                               "each a different \"name\"",
                               final_name (&c->net_devices[i]), c->net_devices[j].host_name);
        }
  if (c->n_net_devices > 0 && !c->namespaces[MR_NS_NET].present)
    return mr_cfg_error (err, "linux.netDevices",
                         "the container has no network namespace of its own, and moving the devices would take "
                         "them from the host into the host: add {\"type\": \"network\"} to linux.namespaces");
  return 1;
}
