/* devrules.c: the device cgroup rules a container really gets.
 *
 * The config's linux.resources.devices come first, in order; then, as runc
 * does, the devices every container needs are allowed (mknod of any node,
 * /dev/null, zero, full, random, urandom, tty, console, ptmx, pts/N and
 * net/tun), and every linux.devices entry is allowed too, since a device the
 * config creates must be usable.  Pure data. */
#include <string.h>

#include "config/devrules.h"
#include "base/utils.h"

static const struct mr_device_rule defaults[] = {
  { true, 'c', -1, -1, "m" },  { true, 'b', -1, -1, "m" },  { true, 'c', 1, 3, "rwm" },
  { true, 'c', 1, 8, "rwm" },  { true, 'c', 1, 7, "rwm" },  { true, 'c', 5, 0, "rwm" },
  { true, 'c', 1, 5, "rwm" },  { true, 'c', 1, 9, "rwm" },  { true, 'c', 5, 1, "rwm" },
  { true, 'c', 136, -1, "rwm" }, { true, 'c', 5, 2, "rwm" }, { true, 'c', 10, 200, "rwm" },
};

struct mr_device_rule *
mr_devrules_effective (const struct mr_config *config, size_t *n_out)
{
  const struct mr_resources *r = &config->resources;
  size_t n_defaults = sizeof defaults / sizeof defaults[0];
  size_t n = r->n_devices + n_defaults + config->n_devices;
  struct mr_device_rule *rules = xcalloc (n + 1, sizeof *rules);
  size_t k = 0;

  for (size_t i = 0; i < r->n_devices; i++)
    rules[k++] = r->devices[i];
  for (size_t i = 0; i < n_defaults; i++)
    rules[k++] = defaults[i];
  for (size_t i = 0; i < config->n_devices; i++)
    {
      const struct mr_device *d = &config->devices[i];
      if (d->type == 'p')
        continue; /* fifos are not device-controlled */
      rules[k] = (struct mr_device_rule){ .allow = true, .type = d->type == 'b' ? 'b' : 'c', .major = d->major,
                                          .minor = d->minor };
      strcpy (rules[k].access, "rwm");
      k++;
    }
  *n_out = k;
  return rules;
}
