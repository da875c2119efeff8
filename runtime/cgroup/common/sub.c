/* common/sub.c: exec --cgroup's sub-cgroups (common/sub.h): the specs in
 * runc's forms, the entry a hierarchy takes, and the open below the
 * container's directory that cannot leave it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/common/sub.h"
#include "cgroup/common/util.h"
#include "base/cleanup.h"
#include "base/syscalls.h"
#include "base/utils.h"

static int
bad (const char *spec, mr_error_t *err, const char *what)
{
  return mr_error_set (err, 0,
                       "exec --cgroup `%s`: %s (give PATH, a sub-cgroup of the container's cgroup, or "
                       "CONTROLLER[,CONTROLLER]:PATH on cgroup v1)",
                       spec, what);
}

static void
add (struct mr_cg_subs *s, const char *spec, const char *ctl, size_t ctl_len, const char *path)
{
  struct mr_cg_sub *e;
  s->s = xrealloc (s->s, (s->n + 1) * sizeof *s->s);
  e = &s->s[s->n++];
  e->spec = spec;
  e->ctl = ctl ? xasprintf ("%.*s", (int) ctl_len, ctl) : NULL;
  while (*path == '/')
    path++;
  e->path = xstrdup (path);
  e->used = false;
}

static bool
has_dotdot (const char *path)
{
  for (const char *p = path; (p = strstr (p, "..")) != NULL; p += 2)
    if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
      return true;
  return false;
}

int
mr_cg_subs_parse (char *const *specs, size_t n, struct mr_cg_subs *out, mr_error_t *err)
{
  memset (out, 0, sizeof *out);
  for (size_t i = 0; i < n; i++)
    {
      const char *spec = specs[i], *colon = strchr (spec, ':'), *path = colon ? colon + 1 : spec;
      if (has_dotdot (path))
        {
          mr_cg_subs_free (out);
          return bad (spec, err, "a `..` would leave the container's cgroup");
        }
      if (colon == NULL)
        {
          if (n != 1)
            {
              mr_cg_subs_free (out);
              return bad (spec, err, "a PATH without CONTROLLER: must be the only --cgroup");
            }
          add (out, spec, NULL, 0, spec);
          continue;
        }
      for (const char *c = spec; c <= colon; c++)
        {
          size_t len = strcspn (c, ",:");
          if (len == 0)
            {
              mr_cg_subs_free (out);
              return bad (spec, err, "an empty controller name");
            }
          for (size_t k = 0; k < out->n; k++)
            if (out->s[k].ctl && strlen (out->s[k].ctl) == len && strncmp (out->s[k].ctl, c, len) == 0)
              {
                mr_error_set (err, 0, "exec --cgroup `%s`: the controller `%s` is given more than once", spec,
                              out->s[k].ctl);
                mr_cg_subs_free (out);
                return -1;
              }
          add (out, spec, c, len, path);
          c += len;
        }
    }
  return 0;
}

void
mr_cg_subs_free (struct mr_cg_subs *s)
{
  for (size_t i = 0; i < s->n; i++)
    {
      free (s->s[i].ctl);
      free (s->s[i].path);
    }
  free (s->s);
  memset (s, 0, sizeof *s);
}

bool
mr_cg_subs_per_controller (const struct mr_cg_subs *s)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->s[i].ctl)
      return true;
  return false;
}

int
mr_cg_subs_for (struct mr_cg_subs *s, const char *ctls, char sep, const struct mr_cg_sub **out, mr_error_t *err)
{
  *out = NULL;
  for (size_t i = 0; i < s->n; i++)
    {
      struct mr_cg_sub *e = &s->s[i];
      if (e->ctl && !(ctls && mr_cg_list_has (ctls, sep, e->ctl)))
        continue;
      if (*out && strcmp ((*out)->path, e->path) != 0)
        return mr_error_set (err, 0,
                             "exec --cgroup: the controllers `%s` and `%s` share one hierarchy (%s) but were "
                             "given different paths (`%s`, `%s`)",
                             (*out)->ctl, e->ctl, ctls, (*out)->path, e->path);
      e->used = true;
      *out = e;
    }
  return 0;
}

int
mr_cg_subs_check_used (const struct mr_cg_subs *s, mr_error_t *err)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->s[i].ctl && !s->s[i].used)
      return mr_error_set (err, 0,
                           "exec --cgroup `%s`: the container has no cgroup for the controller `%s` (not "
                           "mounted on this host, or its directory is missing)",
                           s->s[i].spec, s->s[i].ctl);
  return 0;
}

int
mr_cg_sub_open (const char *dir, const struct mr_cg_sub *sub, const char *file, int flags, int *fd,
                mr_error_t *err)
{
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
                                     | RESOLVE_NO_XDEV };
  cleanup_close int base = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC), d = -1;

  *fd = -1;
  if (base < 0)
    return mr_error_set (err, errno, "exec --cgroup `%s`: open the container's cgroup `%s`", sub->spec, dir);
  d = mr_openat2 (base, *sub->path ? sub->path : ".", &how, sizeof how);
  if (d < 0 && (errno == ENOENT || errno == ENOTDIR))
    return mr_error_set (err, ENOENT,
                         "exec --cgroup `%s`: no sub-cgroup `%s` in the container's cgroup `%s` (make it "
                         "first: mkdir %s/%s)",
                         sub->spec, sub->path, dir, dir, sub->path);
  if (d < 0 && (errno == EXDEV || errno == ELOOP))
    return mr_error_set (err, errno, "exec --cgroup `%s`: `%s` leaves the container's cgroup `%s`", sub->spec,
                         sub->path, dir);
  if (d < 0)
    return mr_error_set (err, errno, "exec --cgroup `%s`: open `%s` below `%s` (openat2)", sub->spec, sub->path,
                         dir);
  if (file == NULL)
    {
      *fd = MR_STEAL (d);
      return 0;
    }
  *fd = openat (d, file, flags | O_CLOEXEC);
  if (*fd < 0)
    return mr_error_set (err, errno, "exec --cgroup `%s`: open `%s/%s/%s`", sub->spec, dir, sub->path, file);
  return 0;
}
