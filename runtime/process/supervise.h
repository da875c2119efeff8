/* supervise.h: a foreground launcher (run, exec) watching its process:
 * signals forwarded through the pidfd, the exit status, the pid file. */
#ifndef MINIRUN_SUPERVISE_H
#define MINIRUN_SUPERVISE_H

#include <signal.h>
#include <sys/types.h>

#include "minirun/error.h"

/* Block SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH
 * (from before the clone on, so none is lost) and return a signalfd for
 * them; *old receives the previous mask. */
int mr_forward_signals_begin (sigset_t *old, mr_error_t *err);
void mr_forward_signals_end (const sigset_t *old);

/* Forward signals to the process behind pidfd (relaying the terminal
 * `master` when >= 0) until it exits; reap it and set *status to its exit
 * status, or 128+N when it was killed by signal N. */
int mr_supervise (int pidfd, int sigfd, int master, int *status, mr_error_t *err);
/* Reap the process behind pidfd: exit status as above. */
int mr_reap_status (int pidfd, int *status, mr_error_t *err);

/* --pid-file: written atomically (temp + rename) in the file's directory. */
int mr_write_pid_file (const char *path, pid_t pid, mr_error_t *err);

#endif
