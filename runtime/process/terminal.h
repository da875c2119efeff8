/* terminal.h: process.terminal.  The container's init creates the pty inside
 * the container (its own devpts), makes the slave its controlling terminal
 * and stdio, and hands the master out: to --console-socket by SCM_RIGHTS,
 * or to the launcher, which relays it to its own terminal. */
#ifndef MINIRUN_TERMINAL_H
#define MINIRUN_TERMINAL_H

#include <stdbool.h>

#include "minirun/error.h"

struct mr_process;

/* Connect to the console socket (before clone, so the path resolves on the host). */
int mr_console_socket_connect (const char *path, mr_error_t *err);

/* Container side, after pivot_root: create the pty, become its session
 * leader, dup the slave onto 0, 1, 2 and send the master to `console_fd`
 * (>= 0) or over the setup channel `sync_fd`.  With `console` (the init, not
 * an exec'd process) the slave is also bind mounted over /dev/console,
 * which is created as an empty file when missing (runtime spec: the
 * container's console), resolved inside the root. */
int mr_terminal_setup (const struct mr_process *p, int console_fd, int sync_fd, bool console, mr_error_t *err);

/* Launcher side, foreground run: copy between our stdio and the master until
 * the process behind pidfd exits; our terminal is put in raw mode meanwhile
 * and its window size follows SIGWINCH (delivered through signalfd `sigfd`,
 * which also carries the signals to forward). */
int mr_terminal_relay (int master, int pidfd, int sigfd, mr_error_t *err);

#endif
