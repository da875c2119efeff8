/* api.c: create and run of a bundle loaded with mr_bundle_load
 * (minirun/minirun.h), over mr_container_create and mr_container_run: the
 * bundle's directory and config file become the options'.  The launcher
 * reads the config from that file again when it sets the container up. */
#include "minirun/minirun.h"

static struct mr_run_opts
with_bundle (const struct mr_bundle *b, const struct mr_run_opts *opts)
{
  struct mr_run_opts o = *opts;
  o.bundle = b->dir;
  o.config_path = b->config_path;
  return o;
}

int
mr_container_create_bundle (const struct mr_bundle *bundle, const struct mr_run_opts *opts, mr_error_t *err)
{
  struct mr_run_opts o;

  if (bundle == NULL || opts == NULL)
    return mr_error_set (err, 0, "create: no bundle loaded (call mr_bundle_load first)");
  o = with_bundle (bundle, opts);
  return mr_container_create (&o, err);
}

int
mr_container_run_bundle (const struct mr_bundle *bundle, const struct mr_run_opts *opts, int *exit_status,
                         mr_error_t *err)
{
  struct mr_run_opts o;

  if (bundle == NULL || opts == NULL)
    return mr_error_set (err, 0, "run: no bundle loaded (call mr_bundle_load first)");
  o = with_bundle (bundle, opts);
  return mr_container_run (&o, exit_status, err);
}
