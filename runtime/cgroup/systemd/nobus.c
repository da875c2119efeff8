/* systemd/nobus.c: the systemd driver's bus calls in a build without
 * libsystemd (MINIRUN_HAVE_SYSTEMD unset: the static build, or no
 * libsystemd-dev at build time): each says so, with what to use instead.
 * The real ones are in bus.c. */
#include "cgroup/systemd/systemd.h"

#ifndef MINIRUN_HAVE_SYSTEMD

static int
no_driver (mr_error_t *err)
{
  return mr_error_set (err, 0,
                       "this minirun was built without the systemd cgroup driver (a static build, or "
                       "libsystemd-dev was not installed when it was built); use the cgroupfs driver "
                       "(no --systemd-cgroup, a cgroupsPath that is a path)");
}

int
mr_sd_available (mr_error_t *err)
{
  return no_driver (err);
}

int
mr_sd_bus_open (bool user, struct mr_sd_bus **out, mr_error_t *err)
{
  *out = NULL;
  return no_driver (err);
}

void
mr_sd_bus_close (struct mr_sd_bus *b)
{
}

int
mr_sd_bus_fd (const struct mr_sd_bus *b)
{
  return -1;
}

int
mr_sd_start_scope (struct mr_sd_bus *b, const char *unit, const char *slice, pid_t pid,
                   const struct mr_sd_props *props, mr_error_t *err)
{
  return no_driver (err);
}

int
mr_sd_set_properties (struct mr_sd_bus *b, const char *unit, const struct mr_sd_props *props, mr_error_t *err)
{
  return no_driver (err);
}

int
mr_sd_stop_unit (struct mr_sd_bus *b, const char *unit, mr_error_t *err)
{
  return no_driver (err);
}

int
mr_sd_unit_cgroup (struct mr_sd_bus *b, const char *unit, char **out, mr_error_t *err)
{
  return no_driver (err);
}

#endif /* !MINIRUN_HAVE_SYSTEMD */
