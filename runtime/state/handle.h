/* handle.h: one existing container, opened for an operation on it (start,
 * state, kill, delete, pause, resume, update, stats, events, ps, exec).
 *
 * Opening takes the lock on its state directory (shared to read, exclusive
 * to change), reads its state and derives its true status; the operation
 * then asks for what else it needs: the cgroup recorded in the state, or the
 * config the container was created with (kept beside the state).  Unlocking
 * early keeps the state and the cgroup; closing releases everything. */
#ifndef MINIRUN_HANDLE_H
#define MINIRUN_HANDLE_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "minirun/config.h"
#include "minirun/error.h"
#include "state/state.h"

struct mr_handle
{
  int dirfd;             /* the state directory, locked; -1 once unlocked */
  struct mr_state *st;   /* NULL until read */
  enum mr_status status; /* the true status (mr_state_status) */
  struct mr_cgroup *cg;  /* after mr_handle_cgroup, else NULL */
};

#define MR_HANDLE_INIT { .dirfd = -1 }

/* Lock the directory of container `id` under root and read its state. */
int mr_handle_open (const char *root, const char *id, bool exclusive, struct mr_handle *h, mr_error_t *err);
/* The two halves, for `delete --force`, which goes on without a state. */
int mr_handle_lock (const char *root, const char *id, bool exclusive, struct mr_handle *h, mr_error_t *err);
int mr_handle_read (struct mr_handle *h, const char *id, mr_error_t *err);

/* Open the cgroup the state records; `what` ("pause") names the operation
 * in the errors ("container has no cgroup" when it was made without one). */
int mr_handle_cgroup (struct mr_handle *h, const char *what, mr_error_t *err);

/* Parse the copy of the config kept in the state directory (needs the
 * directory still open: before mr_handle_unlock).  ENOENT when there is none. */
int mr_handle_config (const struct mr_handle *h, struct mr_config **out, mr_error_t *err);

/* Drop the lock; the state and the cgroup stay usable. */
void mr_handle_unlock (struct mr_handle *h);
void mr_handle_close (struct mr_handle *h);

static inline void
mr_handle_closep (struct mr_handle *h)
{
  mr_handle_close (h);
}
#define cleanup_handle __attribute__ ((cleanup (mr_handle_closep)))

#endif
