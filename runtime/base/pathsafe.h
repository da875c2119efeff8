/* pathsafe.h: resolving a path inside a root directory without leaving it:
 * openat2(RESOLVE_IN_ROOT) where the kernel has it, else a component walk
 * with O_NOFOLLOW that expands symlinks by hand inside the root.  Every
 * path minirun opens in a container's rootfs goes through here. */
#ifndef MINIRUN_PATHSAFE_H
#define MINIRUN_PATHSAFE_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/error.h"

/* In-root path resolution . Flags as openat(2); O_CLOEXEC added.
 * With O_CREAT the last component is created as a regular file.  openat2
 * rules apply to O_PATH: only O_DIRECTORY/O_NOFOLLOW may go with it.  ".."
 * stops at the root, absolute symlinks restart at it, /proc magic links fail
 * with ELOOP.  rootfd may be O_PATH. */
int mr_open_in_root (int rootfd, const char *path, int flags, mode_t mode, mr_error_t *err);
/* mkdir -p inside the root; returns an O_PATH|O_DIRECTORY fd of the last one.
 * Missing components (also the targets of dangling symlinks) are created
 * with `mode` (umask applies). */
int mr_mkdir_in_root (int rootfd, const char *path, mode_t mode, mr_error_t *err);

/* Symlinks followed in one resolution before ELOOP (as the kernel's MAXSYMLINKS). */
#define MR_MAX_SYMLINKS 40

/* `how` bits for mr_walk_in_root(). */
#define MR_WALK_MKDIR_PARENTS 1 /* create missing intermediate directories (0755) */
#define MR_WALK_MKDIR 2         /* create the last component as a directory (`mode`) */
#define MR_WALK_MKFILE 4        /* create the last component as an empty regular file (`mode`) */

/* The openat2-free resolution: one component at a time with O_NOFOLLOW,
 * symlinks expanded by hand inside the root (at most MR_MAX_SYMLINKS, ".."
 * never above the root), /proc magic links refused with ELOOP.  `flags` as
 * openat(2) for the last component (O_CLOEXEC added). */
int mr_walk_in_root (int rootfd, const char *path, int flags, mode_t mode, int how, mr_error_t *err);

/* O_PATH fd of `path` in the root; when missing, create it as an empty
 * regular file (mode) and its parents as directories (0755).  An existing
 * object of any type is returned as is. */
int mr_mkfile_in_root (int rootfd, const char *path, mode_t mode, mr_error_t *err);

/* Testing hook: pretend openat2 is missing (ENOSYS) so that every
 * resolution takes the mr_walk_in_root() path. */
extern bool mr_pathsafe_force_walk;

/* "/a//b/" == "/a/b": compare two absolute paths ignoring repeated and
 * trailing slashes (and "." components). */
bool mr_path_equal (const char *a, const char *b);

#endif
