/* capture_pins.c: the pure half of `ps --format pins`: a table of the
 * container's processes (capture.h; capture.c reads it from /proc) becomes
 * the pin config fragment that replays the tree.  No syscalls: the unit test
 * builds a table by hand and parses the fragment back into a pid plan. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/utils.h"
#include "ops/capture.h"

/* Namespace names: from the recorded pins of the planned processes. */
struct nsname
{
  ino_t ino;
  char *name;
  ino_t parent;
};

static const char *
ns_name_of (struct nsname *names, size_t n, ino_t ino)
{
  for (size_t i = 0; i < n; i++)
    if (names[i].ino == ino)
      return names[i].name;
  return NULL;
}

static size_t
pindex_of (const struct mr_capture_proc *v, size_t n, pid_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].pid == pid)
      return i;
  return SIZE_MAX;
}

char *
mr_capture_fragment (const struct mr_capture_table *t, const char *id, mr_error_t *err)
{
  const struct mr_capture_proc *v = t->procs;
  size_t k = t->n_procs, n_names = 0, init = SIZE_MAX, init_levels;
  struct nsname *names;
  json_t *decls, *procs, *out;
  bool *done;
  char *dump;
  int next_ns = 1;

  init = pindex_of (v, k, t->init_pid);
  if (init == SIZE_MAX)
    {
      mr_error_set (err, ESRCH, "container `%s`: its init (pid %d) is not among its processes", id,
                    (int) t->init_pid);
      return NULL;
    }
  init_levels = v[init].n_nspid;
  names = xcalloc (k + 2, sizeof *names);
  names[n_names++] = (struct nsname){ v[init].ns, xstrdup (init_levels > 1 ? "container" : "host"), v[init].ns_parent };
  /* names the config gave: the innermost name in each planned process's pins */
  for (size_t i = 0; i < t->n_planned; i++)
    {
      size_t pi = pindex_of (v, k, t->planned[i].host_pid);
      const char *pins = t->planned[i].pins;
      if (pi == SIZE_MAX || pins == NULL || *pins == '\0' || ns_name_of (names, n_names, v[pi].ns))
        continue;
      names[n_names++] = (struct nsname){ v[pi].ns, strndup (pins, strcspn (pins, "=")), v[pi].ns_parent };
    }
  for (size_t i = 0; i < k; i++)
    if (!ns_name_of (names, n_names, v[i].ns))
      names[n_names++] = (struct nsname){ v[i].ns, xasprintf ("ns%d", next_ns++), v[i].ns_parent };

  decls = json_object ();
  for (size_t i = 1; i < n_names; i++)
    {
      const char *parent = ns_name_of (names, n_names, names[i].parent);
      json_object_set_new (decls, names[i].name, json_pack ("{s:s}", "parent", parent ? parent : "container"));
    }

  /* processes, parents first: walk from the init down */
  procs = json_array ();
  done = xcalloc (k + 1, sizeof *done);
  done[init] = true;
  for (bool progress = true; progress;)
    {
      progress = false;
      for (size_t i = 0; i < k; i++)
        {
          size_t parent = pindex_of (v, k, v[i].ppid);
          json_t *pins, *args, *env, *p;
          const char *pname;
          char autoname[32];
          if (done[i] || (parent != SIZE_MAX && !done[parent]))
            continue;
          done[i] = true;
          progress = true;
          pins = json_object ();
          /* NSpid is outermost first; our levels are the innermost (n_nspid - init_levels + 1) */
          {
            ino_t ns = v[i].ns;
            for (size_t lv = v[i].n_nspid; lv-- > 0;)
              {
                const char *nm = lv == 0 ? "host" : ns_name_of (names, n_names, ns);
                if (nm == NULL)
                  break;
                json_object_set_new (pins, nm, json_integer (v[i].nspid[lv]));
                if (lv + 1 == init_levels)
                  {
                    /* from the container's level outward: the remaining one is host */
                    if (lv > 0)
                      json_object_set_new (pins, "host", json_integer (v[i].nspid[0]));
                    break;
                  }
                for (size_t q = 0; q < n_names; q++)
                  if (names[q].ino == ns)
                    {
                      ns = names[q].parent;
                      break;
                    }
              }
          }
          args = json_array ();
          for (char **a = v[i].argv; a && *a; a++)
            json_array_append_new (args, json_string (*a));
          env = json_array ();
          for (char **e = v[i].envp; e && *e; e++)
            if (strchr (*e, '='))
              json_array_append_new (env, json_string (*e));
          (void) snprintf (autoname, sizeof autoname, "pid%d", (int) v[i].nspid[v[i].n_nspid - 1]);
          pname = parent == SIZE_MAX || parent == init ? "init" : (v[parent].name ? v[parent].name : NULL);
          {
            char pauto[32];
            if (pname == NULL)
              {
                (void) snprintf (pauto, sizeof pauto, "pid%d", (int) v[parent].nspid[v[parent].n_nspid - 1]);
                pname = pauto;
              }
            p = json_pack ("{s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "name", v[i].name ? v[i].name : autoname, "parent",
                           pname, "pidNamespace", ns_name_of (names, n_names, v[i].ns), "pids", pins, "args", args,
                           "env", env, "cwd", v[i].cwd);
          }
          json_array_append_new (procs, p);
        }
    }
  {
    json_t *init_pins = json_object ();
    json_object_set_new (init_pins, "host", json_integer (v[init].nspid[0]));
    if (init_levels > 1)
      json_object_set_new (init_pins, "container", json_integer (v[init].nspid[init_levels - 1]));
    out = json_pack ("{s:{s:o, s:o, s:o}}", "minirun", "pids", init_pins, "pidNamespaces", decls, "processes", procs);
  }
  dump = out ? json_dumps (out, JSON_INDENT (2)) : NULL;
  json_decref (out);
  free (done);
  for (size_t i = 0; i < n_names; i++)
    free (names[i].name);
  free (names);
  if (dump == NULL)
    mr_error_set (err, ENOMEM, "container `%s`: encode the pin config fragment", id);
  return dump;
}
