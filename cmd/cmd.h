/* cmd.h: the CLI's shared pieces.  cmd/ parses arguments and prints; all
 * real work is in the runtime library, which the CLI sees only through its
 * public headers (include/minirun/): the CLI builds without runtime/ on its
 * include path. */
#ifndef MINIRUN_CMD_H
#define MINIRUN_CMD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "minirun/log.h"

struct mr_global
{
  const char *root;            /* --root */
  const char *log;             /* --log */
  enum mr_log_format log_format;
  bool debug;
  bool systemd_cgroup;
  const char *criu;            /* --criu: the criu binary for checkpoint/restore */
};

typedef int (*mr_cmd_fn) (struct mr_global *g, int argc, char **argv);

struct mr_command
{
  const char *name;
  mr_cmd_fn fn;
  const char *summary;
};

/* Exit codes: 0 ok, 1 failure (as runc); `run` returns the container's status. */
#define MR_EXIT_FAILURE 1

int cmd_run (struct mr_global *g, int argc, char **argv);
int cmd_create (struct mr_global *g, int argc, char **argv);
int cmd_start (struct mr_global *g, int argc, char **argv);
int cmd_state (struct mr_global *g, int argc, char **argv);
int cmd_kill (struct mr_global *g, int argc, char **argv);
int cmd_delete (struct mr_global *g, int argc, char **argv);
int cmd_list (struct mr_global *g, int argc, char **argv);
int cmd_spec (struct mr_global *g, int argc, char **argv);
int cmd_features (struct mr_global *g, int argc, char **argv);
int cmd_exec (struct mr_global *g, int argc, char **argv);
int cmd_ps (struct mr_global *g, int argc, char **argv);
int cmd_pause (struct mr_global *g, int argc, char **argv);
int cmd_resume (struct mr_global *g, int argc, char **argv);
int cmd_update (struct mr_global *g, int argc, char **argv);
int cmd_events (struct mr_global *g, int argc, char **argv);
int cmd_checkpoint (struct mr_global *g, int argc, char **argv);
int cmd_restore (struct mr_global *g, int argc, char **argv);

/* checkpoint.c, shared with restore.c: the options both take (0 taken, 1
 * not one of them, -1 refused with a message), and the "built in" note
 * their --help ends with. */
struct mr_criu_common_opts;
int cmd_criu_common_opt (const char *cmd, int c, const char *arg, struct mr_criu_common_opts *o);
void cmd_criu_built_in (FILE *f);

struct mr_run_opts;
/* Options shared by run and create: 0 parsed, 1 help printed, -1 misuse. */
int cmd_parse_run_opts (int argc, char **argv, struct mr_run_opts *o, bool is_run, const char *use);

/* Print `usage` to stdout (help) or stderr (misuse) and return the exit code. */
int cmd_usage (const char *usage, bool error);
/* The one positional argument a command takes (the container id). */
const char *cmd_one_arg (int argc, char **argv, const char *usage);
/* For commands whose only option is --help and whose only argument is the
 * container id: returns the id, or NULL with *exit_code set (0 after help). */
const char *cmd_id_only (int argc, char **argv, const char *usage, int *exit_code);

/* Report an error value and return MR_EXIT_FAILURE. */
int cmd_fail (void *err);

/* Allocation for the CLI: out of memory is fatal (a message, then abort). */
void *cmd_xrealloc (void *p, size_t size);
char *cmd_xstrdup (const char *s);
char *cmd_xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Scope-bound release, as the library's runtime/base/cleanup.h. */
static inline void
cmd_freep (void *p)
{
  free (*(void **) p);
}

static inline void
cmd_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
  *fd = -1;
}

#define cmd_cleanup_free __attribute__ ((cleanup (cmd_freep)))
#define cmd_cleanup_close __attribute__ ((cleanup (cmd_closep)))

#endif
