/* procexec.c: cwd and execve for container processes (see procexec.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "process/procexec.h"
#include "base/pathsafe.h"
#include "base/utils.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int
mr_enter_cwd (const char *cwd, mr_error_t *err)
{
  char buf[PATH_MAX];
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = -1;

  if (root < 0)
    return mr_error_set (err, errno, "open /");
  fd = mr_open_in_root (root, cwd, O_PATH | O_DIRECTORY, 0, err);
  if (fd < 0)
    return mr_error_wrap (err, "process.cwd \"%s\"", cwd);
  if (fchdir (fd) < 0)
    return mr_error_set (err, errno, "process.cwd: chdir to \"%s\"", cwd);
  if (getcwd (buf, sizeof buf) == NULL || buf[0] != '/')
    return mr_error_set (err, errno ? errno : EXDEV, "process.cwd \"%s\" is outside the container", cwd);
  return 0;
}

/* The text Go's syscall package gives an errno (strerror, lower case): the
 * words runc prints, which docker and podman match to choose exit codes 126
 * and 127 ("no such file or directory", "permission denied"). */
static const char *
errno_words (int e, char *buf, size_t size)
{
  (void) snprintf (buf, size, "%s", strerror (e));
  if (buf[0] >= 'A' && buf[0] <= 'Z')
    buf[0] = (char) (buf[0] - 'A' + 'a');
  return buf;
}

/* 0 if `path` is a file execve may run (a non-directory with an execute
 * bit, as Go's exec.LookPath checks), else -1 with errno. */
static int
executable (const char *path)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return -1;
  if (S_ISDIR (st.st_mode) || (st.st_mode & 0111) == 0)
    {
      errno = EACCES;
      return -1;
    }
  return 0;
}

int
mr_find_executable (const struct mr_process *p, char **found, mr_error_t *err)
{
  const char *file = p->args[0];
  const char *path = NULL;
  char words[128];

  *found = NULL;
  if (strchr (file, '/'))
    {
      if (executable (file) < 0)
        {
          int e = errno;
          if (e == EACCES)
            return mr_error_set_explained (err, e, "exec: \"%s\": permission denied", file);
          return mr_error_set_explained (err, e, "exec: \"%s\": stat %s: %s", file, file,
                                         errno_words (e, words, sizeof words));
        }
      *found = xstrdup (file);
      return 0;
    }
  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp (p->env[i], "PATH=", 5) == 0)
      path = p->env[i] + 5;
  if (path == NULL)
    path = DEFAULT_PATH;
  while (*path)
    {
      const char *end = strchrnul (path, ':');
      char full[PATH_MAX];
      /* an empty entry is the working directory */
      int len = end == path ? snprintf (full, sizeof full, "./%s", file)
                            : snprintf (full, sizeof full, "%.*s/%s", (int) (end - path), path, file);
      if (len > 0 && (size_t) len < sizeof full && executable (full) == 0)
        {
          *found = xstrdup (full);
          return 0;
        }
      path = *end ? end + 1 : end;
    }
  return mr_error_set_explained (err, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

int
mr_exec_found (const char *found, const struct mr_process *p, mr_error_t *err)
{
  char words[128];
  int e;

  execve (found, p->args, p->env);
  e = errno;
  if (strcmp (found, p->args[0]) == 0)
    return mr_error_set_explained (err, e, "exec: \"%s\": %s", p->args[0], errno_words (e, words, sizeof words));
  return mr_error_set_explained (err, e, "exec: \"%s\" (%s): %s", p->args[0], found,
                                 errno_words (e, words, sizeof words));
}

int
mr_exec_process (const struct mr_process *p, mr_error_t *err)
{
  cleanup_free char *found = NULL;

  if (mr_find_executable (p, &found, err) < 0)
    return -1;
  return mr_exec_found (found, p, err);
}
