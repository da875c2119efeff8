/* minirun/minirun.h: the public lifecycle API.  The CLI in cmd/ is a thin
 * layer over these calls and builds from include/minirun/ alone; another
 * program can link libminirun_core and skip it.  Every call follows the error
 * convention of minirun/error.h; messages go to the output handler of
 * minirun/log.h.  A program calls, in order: the state root (mr_state_root_default
 * or its own), mr_id_validate, mr_bundle_load, then mr_container_create_bundle
 * or mr_container_run_bundle, and the calls on an existing container by id. */
#ifndef MINIRUN_H
#define MINIRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"
#include "minirun/log.h"

/* ---------- the state root and container ids ---------- */

#define MR_DEFAULT_STATE_ROOT "/run/minirun" /* as root */
#define MR_ID_MAX 250

/* Where containers' state lives unless the caller says otherwise (the CLI's
 * --root): /run/minirun as root; rootless, $XDG_RUNTIME_DIR/minirun, else
 * /run/user/<euid>/minirun when that directory is writable, else
 * /tmp/minirun-<euid>.  Created (0700) on first use, not here.  Caller frees. */
char *mr_state_root_default (bool rootless);

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most MR_ID_MAX bytes, so
 * that an id is one path component under the state root. */
int mr_id_validate (const char *id, mr_error_t *err);
/* A unique id derived from a bundle path: "<basename>-<8 random hex>" (the
 * basename's characters an id cannot hold dropped, at most 40 kept;
 * "bundle-<hex>" when none is left): what `run BUNDLE` uses.  Caller frees. */
char *mr_id_from_bundle (const char *bundle);

/* ---------- the cgroup driver ---------- */

/* --systemd-cgroup: the containers this process creates from now on get
 * their cgroup from systemd, as a transient scope <prefix>-<name>.scope
 * started through its D-Bus API (default cgroupsPath
 * "system.slice:minirun:<id>", rootless "user.slice:minirun:<id>"; a config's
 * cgroupsPath must then be of that slice:prefix:name form).  A cgroupsPath
 * of that form selects the systemd driver without this call too; later
 * commands find the driver from the path kept in the state.  Fails, saying
 * why, when this build has no systemd driver (static, or built without
 * libsystemd-dev) or systemd is not running (PID 1). */
int mr_cgroup_use_systemd (mr_error_t *err);

/* ---------- a bundle, loaded apart from running it ---------- */

struct mr_bundle
{
  char *dir;                   /* absolute, symlinks resolved */
  char *config_path;           /* the file that was parsed: <dir>/config.json unless given */
  char *config_data;           /* its bytes (NUL-terminated) */
  size_t config_len;
  struct mr_config *config;    /* parsed */
  char *rootfs;                /* root.path joined to dir (not resolved: create/run check it) */
};

/* Load a bundle: make dir absolute, read config_path (NULL: <dir>/config.json,
 * at most 4 MiB) and parse it; every config error surfaces here, with its
 * JSON path, before anything exists on the system.  The warnings of the
 * parse (an unknown capability, a relative mount destination) go to the
 * output handler.  A config without `process` loads (create/run refuse it). */
int mr_bundle_load (const char *dir, const char *config_path, struct mr_bundle **out, mr_error_t *err);
void mr_bundle_free (struct mr_bundle *bundle);

/* Is path a directory holding a config.json? (`run BUNDLE` vs `run ID`) */
bool mr_bundle_is_dir (const char *path);

/* ---------- create and run ---------- */

struct mr_run_opts
{
  const char *state_root;      /* --root, default /run/minirun */
  const char *id;              /* container id (validated) */
  const char *bundle;          /* bundle directory (made absolute) */
  const char *config_path;     /* NULL: <bundle>/config.json */
  const char *pid_file;        /* --pid-file */
  const char *console_socket;  /* --console-socket */
  const char *pidfd_socket;    /* --pidfd-socket: a pidfd of the init goes there (SCM_RIGHTS, "standard") */
  int preserve_fds;            /* --preserve-fds: fds 3 .. 3+N-1 pass to the container */
  bool detach;                 /* run -d */
  bool keep;                   /* run --keep: keep the stopped container's state */
  bool no_pivot;               /* --no-pivot */
  bool no_new_keyring;         /* --no-new-keyring */
};

/* create: set the container up; its init waits before exec until start. */
int mr_container_create (const struct mr_run_opts *opts, mr_error_t *err);
/* run: create + start; in the foreground waits and sets *exit_status
 * (the init's status, 128+N when killed by signal N). */
int mr_container_run (const struct mr_run_opts *opts, int *exit_status, mr_error_t *err);
/* create and run of a loaded bundle: opts->bundle and opts->config_path are
 * taken from it (the others as above).  The config is read again from
 * bundle->config_path when the container is set up. */
int mr_container_create_bundle (const struct mr_bundle *bundle, const struct mr_run_opts *opts, mr_error_t *err);
int mr_container_run_bundle (const struct mr_bundle *bundle, const struct mr_run_opts *opts, int *exit_status,
                             mr_error_t *err);
int mr_container_start (const char *root, const char *id, mr_error_t *err);
/* OCI state JSON of one container (caller frees). */
int mr_container_state (const char *root, const char *id, char **json, mr_error_t *err);
int mr_container_kill (const char *root, const char *id, int sig, bool all, mr_error_t *err);
int mr_container_delete (const char *root, const char *id, bool force, mr_error_t *err);

struct mr_exec_opts
{
  const char *state_root;
  const char *id;
  const char *process_file;    /* --process FILE (OCI process JSON); else the fields below */
  char **args;                 /* the command (NULL-terminated) */
  char **env;                  /* --env KEY=VALUE, added to / overriding the container's */
  const char *cwd;             /* --cwd */
  const char *user;            /* --user UID[:GID] */
  char **caps;                 /* --cap CAP_X: added to every capability set */
  bool tty;                    /* --tty */
  bool detach;                 /* --detach */
  bool no_new_privs;           /* --no-new-privs */
  const char *pid_file;
  const char *console_socket;
  const char *pidfd_socket;    /* --pidfd-socket: a pidfd of the process goes there (SCM_RIGHTS, "setns") */
  int preserve_fds;
  bool ignore_paused;          /* --ignore-paused: exec in a paused container (runs once it is resumed) */
  const char *pins;            /* --pid "container=42,host=4300" */
  char **additional_gids;      /* --additional-gids GID (NULL-terminated): added to user.additionalGids */
};

/* exec: a new process in a running container's namespaces and cgroup, with
 * the container's seccomp profile and (unless overridden) its process
 * settings; optionally at pinned pids.  Foreground: *exit_status as run. */
int mr_container_exec (const struct mr_exec_opts *opts, int *exit_status, mr_error_t *err);

struct mr_container_info
{
  char *id;
  pid_t pid;                   /* 0 when stopped */
  const char *status;          /* "created", "running", ... (static) */
  char *bundle;
  char *rootfs;
  char *created;
  char *owner;
};

/* Every container under root, sorted by id; unreadable entries are listed
 * with status "unknown" rather than hidden. */
int mr_container_list (const char *root, struct mr_container_info **out, size_t *n, mr_error_t *err);
void mr_container_list_free (struct mr_container_info *list, size_t n);
/* runc's `list --format json` array (caller frees). */
char *mr_container_list_json (const struct mr_container_info *list, size_t n);

/* The host pids of every process in a container (runc's `ps --format json`). */
int mr_container_pids (const char *root, const char *id, pid_t **pids, size_t *n, mr_error_t *err);

/* `ps` table: one line per process with its pid at every pid-namespace
 * level, its parent and its command line (caller frees). */
char *mr_container_ps_table (const char *root, const char *id, mr_error_t *err);

/* Capture: the running process tree as a pin config fragment
 * ({"minirun": {"pids", "pidNamespaces", "processes"}}) that, merged into the
 * container's config, recreates every process at the same pids at every
 * level, with the same parents, args, env and cwd (caller frees). */
char *mr_container_capture (const char *root, const char *id, mr_error_t *err);

/* `features`: the OCI features document, with minirun's pid pinning (caller frees). */
char *mr_features_json (void);

#endif
