/* criu.h: what the checkpoint/restore files of the ops room share
 * (criu_session.c, criu_image.c, criu_mounts.c, criu_pins.c,
 * criu_dump.c, criu_restore.c).  Only compiled with libcriu
 * (MINIRUN_HAVE_CRIU); criu_session.c also holds the answers minirun gives
 * without it.
 *
 * Files in an image directory besides CRIU's *.img:
 *   minirun.json       minirun's record of the checkpointed container (below)
 *   descriptors.json   where the init's fds 0-2 pointed (runc's file)
 *   dump.log, restore.log  CRIU's logs (in --work-path when given) */
#ifndef MINIRUN_OPS_CRIU_H
#define MINIRUN_OPS_CRIU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "minirun/checkpoint.h"
#include "minirun/config.h"
#include "minirun/error.h"
#include "plan/pidplan.h"
#include "state/state.h"

#define MR_CRIU_MIN_VERSION 31600 /* criu_join_ns_add, external pid namespaces */
#define MR_CRIU_RECORD "minirun.json"
#define MR_CRIU_DESCRIPTORS "descriptors.json"
#define MR_CRIU_EXT_NETNS "extRootNetNS"
#define MR_CRIU_EXT_PIDNS "extRootPidNS"
#define MR_CRIU_MAX_LEVELS 33

/* ---------- criu_session.c: one libcriu request ---------- */

struct mr_criu_session
{
  int image_fd;     /* O_DIRECTORY|O_CLOEXEC (CRIU opens /proc/<us>/fd/N) */
  int work_fd;      /* -1: logs go to the image directory */
  char *image_path; /* absolute */
  char *log_path;   /* absolute path of CRIU's log for this request */
  char *binary;     /* the criu binary */
};

/* criu_init_opts, the binary (--criu, $MINIRUN_CRIU or the built-in one; it
 * must answer a version request), the image directory (created for a
 * checkpoint), the work directory and the log.  `log_name`: dump.log or
 * restore.log. */
int mr_criu_begin (const struct mr_criu_common_opts *o, bool checkpoint, const char *log_name,
                   struct mr_criu_session *s, mr_error_t *err);
void mr_criu_end (struct mr_criu_session *s);
/* The options both requests take from the command line. */
void mr_criu_set_common (const struct mr_criu_common_opts *o);
/* Run a dump, pre-dump or restore_child request (fn) with a watchdog:
 * $MINIRUN_CRIU_TIMEOUT seconds (default 300), after which the criu process
 * is killed.  Returns fn's result; on failure *err says what CRIU logged. */
int mr_criu_call (struct mr_criu_session *s, int (*fn) (void), const char *what, mr_error_t *err);
/* Does CRIU report memory change tracking (pre-dump, --parent-path)? */
int mr_criu_check_mem_track (const char *flag, mr_error_t *err);

/* ---------- criu_image.c: minirun.json ---------- */

struct mr_criu_proc
{
  char *name; /* the planned process's name, NULL for others */
  char *pins; /* its pins as planned ("container=1,host=any"), or NULL */
  pid_t pid;  /* host pid at checkpoint */
  pid_t ppid;
  pid_t nspid[MR_CRIU_MAX_LEVELS]; /* outermost (host) first */
  size_t n_nspid;
  unsigned long long pidns; /* inode of its pid namespace */
};

struct mr_criu_record
{
  char *id, *bundle, *rootfs, *cgroup_path, *created;
  char *pidns;            /* "new", "shared" or "joined" */
  char **fingerprint;     /* "field\tvalue" lines, see mr_criu_fingerprint */
  char *stdio[3];         /* CRIU key of the init's fd N ("pipe:[123]", "file[1a:2b]") or NULL */
  char *stdio_path[3];    /* for a "file[...]" key: the host path it was */
  unsigned stdio_type[3]; /* ... its S_IFMT type */
  int stdio_flags[3];     /* ... and its open flags */
  bool terminal;
  bool paused;                /* the container was paused when checkpointed */
  struct mr_criu_proc *procs; /* every process of the container; procs[0] is the init */
  size_t n_procs;
};

/* What must match between the container checkpointed and the bundle
 * restored: process args/cwd/user/terminal, root.readonly, the namespaces
 * (new or joined, not their paths), mount destinations and types (not
 * sources, which a new bundle may move), masked and read-only paths, and
 * the names, parents and pid namespaces of minirun.processes.  Caller frees
 * (mr_strv_free). */
char **mr_criu_fingerprint (const struct mr_config *c);
/* First difference as an error naming the field, both values and the bundle. */
int mr_criu_fingerprint_compare (char **image, char **bundle, const char *image_bundle,
                                 const char *bundle_path, mr_error_t *err);

int mr_criu_record_write (int image_fd, const struct mr_criu_record *r, mr_error_t *err);
int mr_criu_record_read (int image_fd, const char *image_path, struct mr_criu_record **out, mr_error_t *err);
void mr_criu_record_free (struct mr_criu_record *r);
/* Every process of a live container (cgroup members, or the init's pid
 * namespace and below without a cgroup), the init first, named from its
 * state; *out freed by the caller. */
int mr_criu_procs_collect (const struct mr_state *st, struct mr_criu_proc **out, size_t *n, mr_error_t *err);
void mr_criu_procs_free (struct mr_criu_proc *v, size_t n);

/* ---------- criu_mounts.c ---------- */

/* One line of a mountinfo file (strings point into the read buffer). */
struct mr_criu_mnt
{
  int id;
  char *root, *point, *fstype, *super;
};

struct mr_criu_mnts
{
  struct mr_criu_mnt *v;
  size_t n;
  char *data;
};

/* /proc/<pid>/mountinfo (pid 0: ours), unescaped. */
int mr_criu_mounts_read (pid_t pid, struct mr_criu_mnts *m, mr_error_t *err);
void mr_criu_mounts_free (struct mr_criu_mnts *m);
/* Is `path` `dir` or below it?  *rest (may be NULL): what follows ("" or "/x"). */
bool mr_criu_below (const char *path, const char *dir, const char **rest);

/* Checkpoint: tell CRIU which of the container's mounts are external: the
 * config's bind mounts and the cgroup hierarchies minirun binds into
 * /sys/fs/cgroup (keys are their mount points inside the container, from
 * the init's mountinfo); the init's fds 0-2 that live outside the container
 * become external files or inherited pipes (rec->stdio). */
int mr_criu_dump_externals (pid_t init, const struct mr_config *c, const char *rootfs,
                            struct mr_criu_record *rec, mr_error_t *err);
/* Restore: the external mounts again (bind sources from the bundle, the new
 * container's cgroup directories under cg_path), and the mount points the
 * bundle's mounts need in `root` (the bind of the rootfs CRIU restores into),
 * each resolved inside it. */
int mr_criu_restore_mounts (const struct mr_config *c, int image_fd, const char *root, const char *cg_path,
                            mr_error_t *err);

/* ---------- criu_cgroup.c ---------- */

/* The freezer CRIU should use: the init's v1 freezer cgroup, else its v2 one. */
char *mr_criu_freezer_dir (pid_t init, mr_error_t *err);
/* Restore: the external mounts of a cgroup mount at `key` (its mount point
 * in the container): each host hierarchy's directory of `cg_path`. */
int mr_criu_cgroup_binds (const struct mr_criu_mnts *host, const char *key, const char *cg_path,
                          mr_error_t *err);
/* CRIU's cgroup roots at restore: the image's cgroups go below `cg_path`
 * (mr_cgroup_path_for's form) in every hierarchy. */
int mr_criu_cg_roots (const char *cg_path, mr_error_t *err);
/* --manage-cgroups-mode ignore: move minirun into the container's cgroup
 * before the restore (*saved: its own cgroups, to free), back after. */
struct mr_cgroup;
int mr_criu_cgroup_enter_self (const struct mr_cgroup *cg, char **saved, mr_error_t *err);
int mr_criu_cgroup_leave_self (char *saved, mr_error_t *err);

/* ---------- criu_inherit.c ---------- */

/* Restore: the inherit-fd keys and join-ns entries CRIU needs for the
 * init's stdio and the namespaces joined by path; extra[] (9 slots, -1 to
 * begin with) receives the fds opened for it, for the caller to close. */
int mr_criu_inherit_fds (const struct mr_config *c, const struct mr_criu_record *rec, int extra[9],
                         mr_error_t *err);

/* ---------- criu_pins.c ---------- */

/* Before anything is made: can CRIU give the bundle's pins, and are the
 * pids it will restore at free?  With a pid namespace of its own (new or
 * joined) CRIU restores the pids inside it and the kernel picks the host
 * ones; shared with the host, the host pids are the image's.  The pids CRIU
 * restores at in a namespace that exists (the host's, or the one joined by
 * path, inode `joined_ns`) must be free there; zombies of the checkpointed
 * processes holding them are waited for (bounded). */
int mr_criu_pins_check (const struct mr_criu_record *rec, const struct mr_pid_plan *plan,
                        enum mr_container_pidns pidns, unsigned long long joined_ns, mr_error_t *err);
/* After restore: the state entries of the planned processes (name, pins as
 * the bundle plans them, the host pids they got, NSpid), checked against the
 * plan. */
int mr_criu_pins_record (const struct mr_criu_record *rec, const struct mr_pid_plan *plan, pid_t init,
                         const char *cg_path, struct mr_state_proc **procs, size_t *n, mr_error_t *err);

#endif
