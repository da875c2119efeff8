/* root.c: the default state root (minirun/minirun.h): /run/minirun as root,
 * a directory of the user's own when rootless.  Including state.h next to
 * the public header keeps the two copies of MR_DEFAULT_STATE_ROOT and
 * MR_ID_MAX the same (a different redefinition does not compile). */
#include <stdlib.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/utils.h"
#include "minirun/minirun.h"
#include "state/state.h"

char *
mr_state_root_default (bool rootless)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  unsigned uid = (unsigned) geteuid ();
  cleanup_free char *user_run = NULL;

  if (!rootless)
    return xstrdup (MR_DEFAULT_STATE_ROOT);
  if (xdg && *xdg)
    return xasprintf ("%s/minirun", xdg);
  user_run = xasprintf ("/run/user/%u", uid);
  if (access (user_run, W_OK) == 0)
    return xasprintf ("%s/minirun", user_run);
  return xasprintf ("/tmp/minirun-%u", uid);
}
