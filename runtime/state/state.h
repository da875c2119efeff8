/* state.h: a container's state on disk.
 *
 * <root>/<id>/ holds state.json (written atomically: temp + rename) and, while
 * the init waits for `start`, the start socket.  Every command that changes a
 * container holds an exclusive flock on the directory; readers take a shared
 * one.  The status is derived from the facts, never trusted blindly: a pid
 * whose process is gone (or whose start time differs: the pid was reused)
 * means "stopped".
 *
 * dir.c     the directory: ids, create, lock, peek, remove, list the ids
 * state.c   the record: state.json, status names, owner, OCI state JSON
 * status.c  the truth: true status, start time, a verified pidfd on the init
 * handle.h  one existing container opened for an operation (lock + state) */
#ifndef MINIRUN_STATE_H
#define MINIRUN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

#define MR_DEFAULT_STATE_ROOT "/run/minirun"
#define MR_OCI_VERSION "1.1.0"       /* the runtime spec version minirun implements */
#define MR_ID_MAX 250

enum mr_status
{
  MR_STATUS_CREATING,
  MR_STATUS_CREATED,
  MR_STATUS_RUNNING,
  MR_STATUS_PAUSED,
  MR_STATUS_STOPPED,
};

struct mr_state_proc
{
  char *name;                  /* "init" or the process's config name */
  pid_t host_pid;
  char *pins;                  /* "container=1,host=42000" as planned */
  pid_t nspid[33];             /* outermost first, as read after clone */
  size_t n_nspid;
};

struct mr_state
{
  char *id;
  char *bundle;                /* absolute */
  char *rootfs;                /* absolute */
  char *cgroup_path;
  char *created;               /* RFC 3339 */
  enum mr_status status;       /* as recorded (see mr_state_status for the truth) */
  pid_t pid;                   /* host pid of the init, 0 before it exists */
  unsigned long long start_time; /* /proc/<pid>/stat field 22, to detect pid reuse */
  bool detached;               /* no launcher waits for the init */
  uint64_t init_exe_dev, init_exe_ino; /* the binary a created init still is until it execs */
  bool has_poststop_hooks;
  char *owner;
  struct mr_kv *annotations;
  size_t n_annotations;
  struct mr_state_proc *procs;
  size_t n_procs;
};

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most MR_ID_MAX bytes. */
int mr_id_validate (const char *id, mr_error_t *err);
/* A unique id derived from a bundle path: "<basename>-<8 hex>". */
char *mr_id_from_bundle (const char *bundle);

/* Create <root>/<id> exclusively (EEXIST: "container ... already exists") and
 * lock it; returns the directory fd (O_DIRECTORY|O_CLOEXEC, flock held). */
int mr_state_dir_create (const char *root, const char *id, mr_error_t *err);
/* Open and lock an existing container's directory (exclusive or shared). */
int mr_state_dir_open (const char *root, const char *id, bool exclusive, mr_error_t *err);
/* Open a container's directory without locking it, for readers that only
 * read state.json (always replaced atomically): `list`. */
int mr_state_dir_peek (const char *root, const char *id, mr_error_t *err);
/* Remove the directory (held open as dirfd, locked) and everything in it;
 * nothing when root/id is no longer that directory. */
int mr_state_dir_remove (const char *root, const char *id, int dirfd, mr_error_t *err);

int mr_state_write (int dirfd, const struct mr_state *st, mr_error_t *err);
/* ENOENT with a clear message when the state file does not exist yet. */
int mr_state_read (int dirfd, const char *id, struct mr_state **out, mr_error_t *err);
void mr_state_free (struct mr_state *st);

/* The true status: recorded status checked against the init process and the
 * freezer (a paused container stays paused only while frozen). */
enum mr_status mr_state_status (const struct mr_state *st);
const char *mr_status_name (enum mr_status s);

/* The owner recorded in the state: the user name of the euid (its number when
 * it has no name).  Caller frees. */
char *mr_state_owner (void);

/* Read field 22 (starttime) of /proc/<pid>/stat; 0 if the process is gone. */
unsigned long long mr_proc_start_time (pid_t pid);
/* Open a pidfd for the init only if it is still the same process. -1 if gone. */
int mr_state_open_pidfd (const struct mr_state *st);

/* The OCI state JSON (ociVersion, id, status, pid, bundle, annotations) plus
 * minirun's "rootfs", "created", "owner" and "minirun": {"processes": ...}. */
char *mr_state_to_oci_json (const struct mr_state *st, enum mr_status status, bool pretty);

/* The ids under root, sorted. */
int mr_state_list (const char *root, char ***ids, size_t *n, mr_error_t *err);

#endif
