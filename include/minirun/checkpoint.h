/* minirun/checkpoint.h: checkpoint and restore of a running container
 * through CRIU (libcriu), with runc's options.  A checkpoint writes CRIU's
 * images plus minirun's own record of the container (minirun.json: the
 * process tree with its pins, the config it came from, its stdio) into the
 * image directory; a restore recreates the container from them under a new
 * state entry, its processes at their checkpointed pids in every pid
 * namespace inside the container.  What CRIU cannot give (the host pids of
 * a container with a pid namespace of its own, nested pid namespaces) is
 * refused before anything is changed; see docs/cli.md.  Every call follows
 * the error convention of minirun/error.h. */
#ifndef MINIRUN_CHECKPOINT_H
#define MINIRUN_CHECKPOINT_H

#include <stdbool.h>

#include "minirun/error.h"

/* --manage-cgroups-mode */
enum mr_cg_mode
{
  MR_CG_MODE_DEFAULT, /* not given: soft, as runc */
  MR_CG_MODE_SOFT,
  MR_CG_MODE_FULL,
  MR_CG_MODE_STRICT,
  MR_CG_MODE_IGNORE,
};

/* Options both commands share. */
struct mr_criu_common_opts
{
  const char *state_root; /* --root */
  const char *id;
  const char *criu;       /* the criu binary (global --criu / $MINIRUN_CRIU), NULL: built-in default */
  const char *image_path; /* --image-path (default ./checkpoint) */
  const char *work_path;  /* --work-path: CRIU's logs (default: the image directory) */
  bool tcp_established;
  bool ext_unix_sk;
  bool shell_job;
  bool file_locks;
  bool auto_dedup;
  bool empty_netns; /* --empty-ns network */
  enum mr_cg_mode cg_mode;
};

struct mr_checkpoint_opts
{
  struct mr_criu_common_opts c;
  const char *parent_path; /* --parent-path, relative to the image directory */
  bool leave_running;
  bool pre_dump;
  bool tcp_skip_in_flight;
  bool link_remap;
};

struct mr_restore_opts
{
  struct mr_criu_common_opts c;
  const char *bundle; /* -b (default .) */
  const char *pid_file;
  const char *console_socket;
  bool detach;
  bool no_subreaper;
  bool tcp_close;
};

/* Checkpoint a running or paused container into opts->c.image_path.  Unless
 * --leave-running or --pre-dump, the container is gone afterwards (as with
 * runc: its processes were killed by CRIU, its cgroup and state removed). */
int mr_container_checkpoint (const struct mr_checkpoint_opts *opts, mr_error_t *err);

/* Restore a container from opts->c.image_path with the bundle's config.  With
 * --detach it returns once the container runs; else it waits like `run` and
 * sets *exit_status. */
int mr_container_restore (const struct mr_restore_opts *opts, int *exit_status, mr_error_t *err);

/* Was minirun built with libcriu?  The criu binary it uses by default, and
 * the libcriu version it was built with ("" when not built in). */
bool mr_checkpoint_built_in (void);
const char *mr_criu_default_binary (void);
const char *mr_criu_built_version (void);

#endif
