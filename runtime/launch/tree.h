/* tree.h: the pinned process tree inside the container (minirun.processes).
 *
 * The init, once the rootfs is final, creates its planned children; each
 * child creates its own before anything execs, so every pinned process
 * exists (with its ppid being its planned parent) before the first exec.
 * All of them then wait at one gate that the init opens on start. */
#ifndef MINIRUN_TREE_H
#define MINIRUN_TREE_H

#include <stddef.h>

#include "launch/plan.h"
#include "minirun/error.h"

struct mr_tree_gate
{
  int read_fd, write_fd;       /* both O_CLOEXEC */
  size_t waiting;              /* processes blocked on read_fd: the whole tree below the init */
};

/* In the init: create every planned process below it (recursively), return
 * when all of them report ready.  Each reports its pids to the launcher
 * (MR_SYNC_PIDS over the plan's setup channel) and runs its own table of
 * steps (tree.c).  No-op when the plan has only the init. */
int mr_tree_spawn (const struct mr_init_plan *plan, struct mr_tree_gate *gate, mr_error_t *err);

/* In the init, after start: let every waiting process exec. */
int mr_tree_release (struct mr_tree_gate *gate, mr_error_t *err);

#endif
