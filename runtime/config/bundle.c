/* bundle.c: loading an OCI bundle apart from running it (minirun/minirun.h):
 * the absolute bundle directory, the bytes of its config.json and their
 * parse, and the rootfs path the config names.  Nothing is created; the
 * launcher checks the rest (the rootfs, namespaces by path, the pid plan). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/utils.h"
#include "minirun/minirun.h"

#define BUNDLE_CONFIG_MAX (4u << 20) /* as the launcher reads it */

void
mr_bundle_free (struct mr_bundle *b)
{
  if (b == NULL)
    return;
  mr_config_free (b->config);
  free (b->dir);
  free (b->config_path);
  free (b->config_data);
  free (b->rootfs);
  free (b);
}

int
mr_bundle_load (const char *dir, const char *config_path, struct mr_bundle **out, mr_error_t *err)
{
  struct mr_bundle *b = xcalloc (1, sizeof *b);
  const char *root;

  *out = NULL;
  if (dir == NULL)
    dir = ".";
  b->dir = realpath (dir, NULL);
  if (b->dir == NULL)
    {
      mr_error_set (err, errno, "bundle `%s`", dir);
      goto fail;
    }
  b->config_path = config_path ? xstrdup (config_path) : xasprintf ("%s/config.json", b->dir);
  if (mr_read_file_at (AT_FDCWD, b->config_path, BUNDLE_CONFIG_MAX, &b->config_data, &b->config_len, err) < 0
      || mr_config_parse_named (b->config_data, b->config_len, b->config_path, &b->config, err) < 0)
    goto fail;
  root = b->config->root_path;
  b->rootfs = root[0] == '/' ? xstrdup (root) : xasprintf ("%s/%s", b->dir, root);
  *out = b;
  return 0;

fail:
  mr_bundle_free (b);
  return -1;
}

bool
mr_bundle_is_dir (const char *path)
{
  struct stat st;
  cleanup_free char *cfg = xasprintf ("%s/config.json", path);
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode) && stat (cfg, &st) == 0;
}
