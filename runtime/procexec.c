/* procexec.c: cwd and execve for container processes (see procexec.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "procexec.h"
#include "rootfs.h"

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

int
mr_exec_process (const struct mr_process *p, mr_error_t *err)
{
  const char *file = p->args[0];
  const char *path = NULL;
  int last_errno = ENOENT;

  if (strchr (file, '/'))
    {
      execve (file, p->args, p->env);
      return mr_error_set (err, errno, "exec \"%s\"", file);
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
      int len = snprintf (full, sizeof full, "%.*s%s%s", (int) (end - path), path, end == path ? "" : "/", file);
      if (len > 0 && (size_t) len < sizeof full)
        {
          execve (full, p->args, p->env);
          if (errno != ENOENT && errno != ENOTDIR)
            last_errno = errno;
        }
      path = *end ? end + 1 : end;
    }
  if (last_errno == ENOENT)
    return mr_error_set_explained (err, ENOENT, "exec \"%s\": not found in the container's PATH", file);
  return mr_error_set (err, last_errno, "exec \"%s\"", file);
}
