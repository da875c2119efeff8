/* criu_mountinfo.c: reading a mountinfo file, for the CRIU files that
 * need to know a container's or the host's mounts (criu_mounts.c,
 * criu_cgroup.c). */
#ifdef MINIRUN_HAVE_CRIU
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utils.h"
#include "ops/criu.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void
unescape (char *s)
{
  char *o = s;
  for (; *s; s++)
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
        && s[3] <= '7')
      {
        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
        s += 3;
      }
    else
      *o++ = *s;
  *o = '\0';
}

int
mr_criu_mounts_read (pid_t pid, struct mr_criu_mnts *m, mr_error_t *err)
{
  char path[64];
  size_t cap = 0;
  char *save = NULL;

  memset (m, 0, sizeof *m);
  if (pid > 0)
    (void)snprintf (path, sizeof path, "/proc/%d/mountinfo", (int)pid);
  else
    (void)snprintf (path, sizeof path, "/proc/self/mountinfo");
  if (mr_read_file_at (AT_FDCWD, path, 16 << 20, &m->data, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r (m->data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[6], *sep = strstr (line, " - "), *s2 = NULL, *p;
      int k = 0;
      if (sep == NULL)
        continue;
      *sep = '\0';
      for (p = strtok_r (line, " ", &s2); p && k < 6; p = strtok_r (NULL, " ", &s2))
        f[k++] = p;
      if (k < 5)
        continue;
      if (m->n == cap)
        m->v = xrealloc (m->v, (cap = cap ? cap * 2 : 64) * sizeof *m->v);
      m->v[m->n].id = (int)strtol (f[0], NULL, 10);
      m->v[m->n].root = f[3];
      m->v[m->n].point = f[4];
      unescape (f[3]);
      unescape (f[4]);
      s2 = NULL;
      m->v[m->n].fstype = strtok_r (sep + 3, " ", &s2);
      strtok_r (NULL, " ", &s2); /* source */
      m->v[m->n].super = strtok_r (NULL, " ", &s2);
      if (m->v[m->n].fstype == NULL)
        continue;
      if (m->v[m->n].super == NULL)
        m->v[m->n].super = (char *)"";
      m->n++;
    }
  return 0;
}

void
mr_criu_mounts_free (struct mr_criu_mnts *m)
{
  free (m->v);
  free (m->data);
}

bool
mr_criu_below (const char *path, const char *dir, const char **rest)
{
  size_t n = strlen (dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  if (n == 1 && dir[0] == '/')
    n = 0;
  if (strncmp (path, dir, n) != 0 || (path[n] != '/' && path[n] != '\0'))
    return false;
  if (rest)
    *rest = path + n;
  return true;
}
#endif
