/* crash.h: a test hook to prove that minirun leaves nothing behind when it
 * dies at any step.  Built only with -DMINIRUN_CRASH_HOOKS=ON (never in a
 * release build): MINIRUN_CRASH_AT=<point> makes minirun SIGKILL itself when it
 * reaches that point.  The points are listed in docs and in
 * tests/integration/test_crash.py. */
#ifndef MINIRUN_CRASH_H
#define MINIRUN_CRASH_H

#ifdef MINIRUN_CRASH_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void
mr_crash_point (const char *name)
{
  const char *at = getenv ("MINIRUN_CRASH_AT");
  if (at && strcmp (at, name) == 0)
    raise (SIGKILL);
}
#else
static inline void
mr_crash_point (const char *name)
{
  (void) name;
}
#endif

#endif
