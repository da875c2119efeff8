/* systemd/unit.c: the systemd form of a cgroupsPath, `slice:prefix:name`,
 * read as runc reads it: the slice the container's scope goes in (a
 * dash-nested name, a-b.slice, is /a.slice/a-b.slice in the tree; `-` is
 * the root slice; empty is the default), the scope's unit name
 * (<prefix>-<name>.scope), and the directory name systemd gives its cgroup.
 * Pure string work: no bus, no file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/systemd/systemd.h"
#include "base/utils.h"

#define UNIT_NAME_MAX 255 /* systemd's limit on a unit name */

static bool
unit_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
         || c == '-' || c == '\\';
}

bool
mr_sd_is_path (const char *path)
{
  int colons = 0;
  if (path == NULL)
    return false;
  for (const char *p = path; *p; p++)
    {
      if (*p == '/')
        return false;
      colons += *p == ':';
    }
  return colons == 2;
}

static int
bad (const char *path, mr_error_t *err, const char *what)
{
  return mr_error_set (err, 0,
                       "cgroupsPath `%s`: %s (the systemd form is slice:prefix:name, e.g. "
                       "system.slice:minirun:ID; see docs/cli.md)",
                       path, what);
}

/* a-b.slice -> /a.slice/a-b.slice; -.slice -> "" (systemd's root). */
static int
expand_slice (const char *path, const char *slice, char **out, mr_error_t *err)
{
  size_t len = strlen (slice), stem;
  char *r, *w;

  if (len <= 6 || strcmp (slice + len - 6, ".slice") != 0)
    return bad (path, err, "the slice must be a name ending in .slice (or empty for the default, - for the root)");
  stem = len - 6;
  for (size_t i = 0; i < stem; i++)
    if (!unit_char (slice[i]) || slice[i] == '\\')
      return bad (path, err, "the slice holds a character a unit name cannot have");
  if (stem == 1 && slice[0] == '-')
    {
      *out = xstrdup ("");
      return 0;
    }
  if (slice[0] == '-' || slice[0] == '.' || slice[stem - 1] == '-' || strstr (slice, "--"))
    return bad (path, err, "a slice name's dash-separated parts must not be empty (a-b.slice is a.slice/a-b.slice)");
  /* one level per dash: at most stem levels of at most len + 2 bytes each */
  r = w = xcalloc (stem + 1, len + 2);
  for (size_t i = 0; i <= stem; i++)
    if (i == stem || slice[i] == '-')
      {
        w += sprintf (w, "/%.*s.slice", (int) i, slice);
      }
  *out = r;
  return 0;
}

/* systemd's unit_name_escape for the name part: a byte a unit name cannot
 * hold (and a leading dot) as \xNN. */
static char *
escape_name (const char *s, bool leading)
{
  char *r = xcalloc (strlen (s) * 4 + 1, 1), *w = r;
  for (const char *p = s; *p; p++)
    {
      if ((unit_char (*p) && *p != '\\') && !(leading && p == s && *p == '.'))
        *w++ = *p;
      else
        w += sprintf (w, "\\x%02x", (unsigned char) *p);
    }
  return r;
}

int
mr_sd_name_parse (const char *path, bool rootless, struct mr_sd_name *out, mr_error_t *err)
{
  const char *c1, *c2, *prefix, *name;
  size_t slice_len, prefix_len;
  char *slice, *esc;

  memset (out, 0, sizeof *out);
  if (!mr_sd_is_path (path))
    return bad (path, err, "not of the systemd form (three parts separated by `:`, no `/`)");
  c1 = strchr (path, ':');
  c2 = strchr (c1 + 1, ':');
  slice_len = (size_t) (c1 - path);
  prefix = c1 + 1;
  prefix_len = (size_t) (c2 - prefix);
  name = c2 + 1;
  if (*name == '\0')
    return bad (path, err, "the name part is empty");
  if (strlen (name) > 6 && strcmp (name + strlen (name) - 6, ".slice") == 0)
    return bad (path, err, "a name ending in .slice (the container as a slice) is not supported; name a scope");
  for (size_t i = 0; i < prefix_len; i++)
    if (!unit_char (prefix[i]) || prefix[i] == '\\')
      return bad (path, err, "the prefix holds a character a unit name cannot have ([A-Za-z0-9_.-])");
  if (prefix_len && prefix[0] == '.')
    return bad (path, err, "the prefix must not start with a dot");

  if (slice_len == 0)
    slice = xstrdup (rootless ? "user.slice" : "system.slice");
  else if (slice_len == 1 && path[0] == '-')
    slice = xstrdup ("-.slice");
  else
    slice = xasprintf ("%.*s", (int) slice_len, path);
  if (expand_slice (path, slice, &out->slice_path, err) < 0)
    {
      free (slice);
      return -1;
    }
  out->slice = slice;
  esc = escape_name (name, prefix_len == 0);
  if (prefix_len)
    out->unit = xasprintf ("%.*s-%s.scope", (int) prefix_len, prefix, esc);
  else
    out->unit = xasprintf ("%s.scope", esc);
  free (esc);
  if (strlen (out->unit) > UNIT_NAME_MAX)
    {
      mr_sd_name_free (out);
      return bad (path, err, "the unit name prefix-name.scope would be longer than systemd's 255 characters");
    }
  return 0;
}

void
mr_sd_name_free (struct mr_sd_name *n)
{
  free (n->slice);
  free (n->unit);
  free (n->slice_path);
  memset (n, 0, sizeof *n);
}

char *
mr_sd_cgroup_name (const char *unit)
{
  /* the controller names systemd 252 knows: "cpu.x" would look like a file */
  static const char *const ctl[] = { "cpu", "cpuacct", "cpuset", "io", "blkio", "memory", "devices", "pids",
                                     "bpf-firewall", "bpf-devices", "bpf-foreign", "bpf-socket-bind",
                                     "bpf-restrict-network-interfaces" };
  bool esc = unit[0] == '_' || unit[0] == '.' || strncmp (unit, "cgroup.", 7) == 0 || strcmp (unit, "tasks") == 0
             || strcmp (unit, "release_agent") == 0 || strcmp (unit, "notify_on_release") == 0;
  for (size_t i = 0; !esc && i < sizeof ctl / sizeof ctl[0]; i++)
    {
      size_t l = strlen (ctl[i]);
      esc = strncmp (unit, ctl[i], l) == 0 && unit[l] == '.';
    }
  return esc ? xasprintf ("_%s", unit) : xstrdup (unit);
}
