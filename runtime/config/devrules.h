/* devrules.h: the effective device cgroup rules of a container (see devrules.c). */
#ifndef MINIRUN_DEVRULES_H
#define MINIRUN_DEVRULES_H

#include <stddef.h>

#include "minirun/config.h"

/* Config rules, then the defaults every container needs, then linux.devices.
 * Caller frees the array. */
struct mr_device_rule *mr_devrules_effective (const struct mr_config *config, size_t *n);

#endif
