/* test_capture.c: the pin fragment of `ps --format pins` without root and
 * without a container.  A process table is written by hand (the table
 * capture.c reads from /proc), mr_capture_fragment() turns it into the pin
 * fragment, and the fragment goes back through the config parser
 * (runtime/config/config_pins.c) and the pid planner (plan/pidplan.c): the
 * plan must hold every process of the table with its pid at every level,
 * its parent, its namespace and its args, env and cwd.  The plan then gives
 * a second table (the replayed container) whose fragment must equal the
 * first one.  Also: a container that shares the host's pid namespace, and
 * an init missing from the table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "minirun/config.h"
#include "ops/capture.h"
#include "plan/pidplan.h"

#define INO_HOST 4026531836
#define INO_CONTAINER 4026532001
#define INO_INNER 4026532002
#define INO_OWN 4026532003 /* a pid namespace the container made itself */

static const struct mr_pidplan_env ENV_NEW
    = { .container = MR_PIDNS_NEW, .host_pid_max = MR_PID_MAX_LIMIT, .joined_pid_max = MR_PID_MAX_LIMIT };
static const struct mr_pidplan_env ENV_SHARED
    = { .container = MR_PIDNS_SHARED, .host_pid_max = MR_PID_MAX_LIMIT, .joined_pid_max = MR_PID_MAX_LIMIT };

static char *ARGV_SLEEP[] = { "sleep", "1000", NULL };
static char *ARGV_SH[] = { "sh", "-c", "sleep 1000 & wait", NULL };
static char *ENV_PLAIN[] = { "PATH=/bin", "HOME=/root", NULL };
static char *ENV_ODD[] = { "A=1", "no-equals-sign", "B=", NULL }; /* a word without '=' is not replayed */
static char *ENV_ODD_KEPT[] = { "A=1", "B=", NULL };

static struct mr_capture_proc
proc (pid_t pid, pid_t ppid, const pid_t *nspid, size_t n, ino_t ns, ino_t ns_parent, char **argv,
      char **envp, const char *cwd, const char *name)
{
  struct mr_capture_proc p;
  memset (&p, 0, sizeof p);
  p.pid = pid;
  p.ppid = ppid;
  memcpy (p.nspid, nspid, n * sizeof *nspid);
  p.n_nspid = n;
  p.ns = ns;
  p.ns_parent = ns_parent;
  p.argv = argv;
  p.envp = envp;
  snprintf (p.cwd, sizeof p.cwd, "%s", cwd);
  p.name = name;
  return p;
}

/* The running container, children listed before their parents (the
 * fragment must still put parents first):
 *   init    30001 / container 1
 *   svc     30002 / container 40          (planned, named)
 *   nested  30003 / container 41 / inner 1 (planned, namespace "inner")
 *   -       30004 / container 42          (forked by svc: "pid42")
 *   -       30005 / container 43 / 1      (forked by pid42 into a namespace of its own: "ns1", "pid1")
 *   -       30006 / container 44 / inner 2 (forked by nested: "pid2") */
static size_t
live_table (struct mr_capture_proc *v, struct mr_capture_planned *planned, size_t *n_planned)
{
  size_t n = 0;
  v[n++] = proc (30006, 30003, (pid_t[]){ 30006, 44, 2 }, 3, INO_INNER, INO_CONTAINER, ARGV_SLEEP, ENV_PLAIN,
                 "/", NULL);
  v[n++] = proc (30005, 30004, (pid_t[]){ 30005, 43, 1 }, 3, INO_OWN, INO_CONTAINER, ARGV_SLEEP, ENV_PLAIN,
                 "/tmp", NULL);
  v[n++] = proc (30004, 30002, (pid_t[]){ 30004, 42 }, 2, INO_CONTAINER, INO_HOST, ARGV_SH, ENV_ODD, "/srv",
                 NULL);
  v[n++] = proc (30003, 30001, (pid_t[]){ 30003, 41, 1 }, 3, INO_INNER, INO_CONTAINER, ARGV_SLEEP, ENV_PLAIN,
                 "/", "nested");
  v[n++] = proc (30002, 30001, (pid_t[]){ 30002, 40 }, 2, INO_CONTAINER, INO_HOST, ARGV_SLEEP, ENV_ODD,
                 "/srv", "svc");
  v[n++] = proc (30001, 999, (pid_t[]){ 30001, 1 }, 2, INO_CONTAINER, INO_HOST, ARGV_SLEEP, ENV_PLAIN, "/",
                 "init");
  planned[0] = (struct mr_capture_planned){ 30001, "container=1,host=30001" };
  planned[1] = (struct mr_capture_planned){ 30002, "container=40,host=30002" };
  planned[2] = (struct mr_capture_planned){ 30003, "inner=1,container=41,host=30003" };
  *n_planned = 3;
  return n;
}

/* What the fragment must say about each process of the live table. */
struct want
{
  pid_t host;
  const char *name, *parent, *ns;
  char **env;
};

static const struct want WANT[] = {
  { 30003, "nested", "init", "inner", ENV_PLAIN }, { 30002, "svc", "init", "container", ENV_ODD_KEPT },
  { 30006, "pid2", "nested", "inner", ENV_PLAIN }, { 30004, "pid42", "svc", "container", ENV_ODD_KEPT },
  { 30005, "pid1", "pid42", "ns1", ENV_PLAIN },
};

static const struct mr_capture_proc *
by_host_pid (const struct mr_capture_proc *v, size_t n, pid_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].pid == pid)
      return &v[i];
  return NULL;
}

static size_t
strv_len (char *const *v)
{
  size_t n = 0;
  while (v[n])
    n++;
  return n;
}

static bool
strv_equal (char *const *a, size_t n, char *const *b)
{
  size_t i = 0;
  for (; b[i]; i++)
    if (i >= n || a == NULL || strcmp (a[i], b[i]) != 0)
      return false;
  return i == n;
}

/* A whole config around the fragment's "minirun" object, parsed. */
static struct mr_config *
config_of (const char *fragment, bool pidns)
{
  json_error_t jerr;
  json_t *frag = json_loads (fragment, 0, &jerr), *cfg;
  struct mr_config *c = NULL;
  mr_error_t err = NULL;
  char *data;

  if (frag == NULL)
    {
      harness_fail ("FAIL the fragment is not JSON: %s\n%s\n", jerr.text, fragment);
      return NULL;
    }
  cfg = json_pack ("{s:s, s:{s:s}, s:{s:s, s:[s], s:[s]}, s:{s:[]}, s:O}", "ociVersion", "1.1.0", "root",
                   "path", "rootfs", "process", "cwd", "/", "args", "sleep", "env", "PATH=/bin", "linux",
                   "namespaces", "minirun", json_object_get (frag, "minirun"));
  if (cfg == NULL)
    abort ();
  if (pidns)
    json_array_append_new (json_object_get (json_object_get (cfg, "linux"), "namespaces"),
                           json_pack ("{s:s}", "type", "pid"));
  data = json_dumps (cfg, JSON_COMPACT);
  if (data == NULL)
    abort ();
  if (mr_config_parse_data (data, strlen (data), &c, &err) < 0)
    {
      harness_fail ("FAIL the fragment does not parse back: %s\n%s\n", ERRMSG (err), data);
      mr_error_free (&err);
      c = NULL;
    }
  free (data);
  json_decref (cfg);
  json_decref (frag);
  return c;
}

static int
plan_proc_named (const struct mr_pid_plan *plan, const char *name)
{
  for (size_t i = 0; i < plan->n_procs; i++)
    if (strcmp (plan->procs[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* Every level of the table's NSpid (outermost first) is the plan's set_tid
 * (innermost first), pinned explicitly, in the namespace at that depth. */
static void
check_levels (const struct mr_pid_plan *plan, int pi, const struct mr_capture_proc *p)
{
  const struct mr_plan_proc *pp = &plan->procs[pi];
  harness_case = pp->name;
  CHECK (pp->set_tid_size == p->n_nspid, "%zu pinned levels, the table has %zu", pp->set_tid_size,
         p->n_nspid);
  for (size_t l = 0; l < pp->set_tid_size && l < p->n_nspid; l++)
    {
      CHECK (pp->set_tid[l] == p->nspid[p->n_nspid - 1 - l], "level %zu: plan %d, table %d", l,
             (int)pp->set_tid[l], (int)p->nspid[p->n_nspid - 1 - l]);
      CHECK (pp->explicit_pin[l], "level %zu is not an explicit pin", l);
      CHECK (plan->ns[pp->level_ns[l]].depth == (int)(p->n_nspid - 1 - l), "level %zu is in %s at depth %d",
             l, plan->ns[pp->level_ns[l]].name, plan->ns[pp->level_ns[l]].depth);
    }
  harness_case = NULL;
}

/* The table a replay of `plan` would give: the same pids, parents and
 * namespaces (inodes made up from the namespace index), each process named
 * and recorded with the pins mr_pidplan_describe gives the state. */
static size_t
replayed_table (const struct mr_pid_plan *plan, const struct mr_config *c, struct mr_capture_proc *v,
                struct mr_capture_planned *planned, char **pins)
{
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      const struct mr_plan_proc *pp = &plan->procs[i];
      const struct mr_proc_spec *spec = pp->spec >= 0 ? &c->pins.processes[pp->spec] : NULL;
      const struct mr_plan_ns *ns = &plan->ns[pp->ns];
      pid_t nspid[MR_CAPTURE_MAX_LEVELS];
      for (size_t l = 0; l < pp->set_tid_size; l++)
        nspid[pp->set_tid_size - 1 - l] = pp->set_tid[l];
      v[i] = proc (
          pp->set_tid[pp->set_tid_size - 1],
          pp->parent < 0 ? 999 : plan->procs[pp->parent].set_tid[plan->procs[pp->parent].set_tid_size - 1],
          nspid, pp->set_tid_size, 5000 + (ino_t)pp->ns, ns->parent < 0 ? 0 : 5000 + (ino_t)ns->parent,
          spec ? spec->args : c->process.args, spec && spec->env ? spec->env : c->process.env,
          spec && spec->cwd ? spec->cwd : c->process.cwd, pp->name);
      pins[i] = mr_pidplan_describe (plan, i);
      planned[i] = (struct mr_capture_planned){ v[i].pid, pins[i] };
    }
  return plan->n_procs;
}

static int
test_round_trip (void)
{
  struct mr_capture_proc v[8], again[8];
  struct mr_capture_planned planned[8], planned_again[8];
  char *pins[8] = { NULL };
  size_t n, n_planned, n_again = 0;
  char *frag = NULL, *frag_again = NULL;
  struct mr_config *c = NULL;
  struct mr_pid_plan *plan = NULL;
  mr_error_t err = NULL;
  json_t *j = NULL, *j_again = NULL, *mr;
  int ret = 0;

  n = live_table (v, planned, &n_planned);
  frag = mr_capture_fragment (&(struct mr_capture_table){ v, n, 30001, planned, n_planned }, "c1", &err);
  REQUIRE (frag != NULL, "%s", ERRMSG (err));

  /* the fragment itself */
  j = json_loads (frag, 0, NULL);
  REQUIRE (j != NULL, "not JSON: %s", frag);
  mr = json_object_get (j, "minirun");
  CHECK (json_integer_value (json_object_get (json_object_get (mr, "pids"), "host")) == 30001, "%s", frag);
  CHECK (json_integer_value (json_object_get (json_object_get (mr, "pids"), "container")) == 1, "%s", frag);
  CHECK (json_object_size (json_object_get (mr, "pidNamespaces")) == 2, "%s", frag);
  CHECK_STR (json_string_value (json_object_get (
                 json_object_get (json_object_get (mr, "pidNamespaces"), "inner"), "parent")),
             "container");
  CHECK_STR (json_string_value (
                 json_object_get (json_object_get (json_object_get (mr, "pidNamespaces"), "ns1"), "parent")),
             "container");
  REQUIRE (json_array_size (json_object_get (mr, "processes")) == 5, "%s", frag);
  for (size_t i = 0; i < 5; i++)
    {
      json_t *p = json_array_get (json_object_get (mr, "processes"), i);
      harness_case = WANT[i].name;
      CHECK_STR (json_string_value (json_object_get (p, "name")), WANT[i].name);
      CHECK_STR (json_string_value (json_object_get (p, "parent")), WANT[i].parent);
      CHECK_STR (json_string_value (json_object_get (p, "pidNamespace")), WANT[i].ns);
      CHECK (json_integer_value (json_object_get (json_object_get (p, "pids"), "host")) == WANT[i].host, "%s",
             frag);
      CHECK (json_array_size (json_object_get (p, "env")) == strv_len (WANT[i].env), "%s", frag);
      harness_case = NULL;
    }

  /* parsed back: the plan is the table */
  c = config_of (frag, true);
  REQUIRE (c != NULL);
  REQUIRE (mr_pidplan_build (c, &ENV_NEW, &plan, &err) == 0, "%s", ERRMSG (err));
  CHECK (plan->n_procs == n, "%zu processes in the plan, %zu in the table", plan->n_procs, n);
  CHECK (c->pins.n_processes == 5 && c->pins.n_pid_namespaces == 2);
  {
    int init = plan_proc_named (plan, "init");
    REQUIRE (init == 0);
    check_levels (plan, init, by_host_pid (v, n, 30001));
  }
  for (size_t i = 0; i < 5; i++)
    {
      const struct mr_capture_proc *p = by_host_pid (v, n, WANT[i].host);
      int pi = plan_proc_named (plan, WANT[i].name);
      const struct mr_plan_proc *pp;
      const struct mr_proc_spec *spec;
      harness_case = WANT[i].name;
      CHECK (pi > 0, "not in the plan");
      if (pi <= 0)
        continue;
      pp = &plan->procs[pi];
      spec = &c->pins.processes[pp->spec];
      CHECK_STR (plan->procs[pp->parent].name, WANT[i].parent);
      CHECK_STR (plan->ns[pp->ns].name, WANT[i].ns);
      CHECK (pp->parent < pi, "the parent comes after the child");
      CHECK (strv_equal (spec->args, spec->n_args, p->argv), "args differ");
      CHECK (strv_equal (spec->env, spec->n_env, WANT[i].env), "env differs");
      CHECK_STR (spec->cwd, p->cwd);
      check_levels (plan, pi, p);
    }
  CHECK (plan->ns[mr_pidplan_ns_index (plan, "inner")].depth == 2);
  CHECK_STR (plan->ns[plan->ns[mr_pidplan_ns_index (plan, "ns1")].parent].name, "container");
  {
    char *d = mr_pidplan_describe (plan, (size_t)plan_proc_named (plan, "nested"));
    CHECK_STR (d, "inner=1,container=41,host=30003"); /* what the state records: the planned pins above */
    free (d);
  }

  /* the replayed container captures the same fragment */
  n_again = replayed_table (plan, c, again, planned_again, pins);
  frag_again = mr_capture_fragment (
      &(struct mr_capture_table){ again, n_again, again[0].pid, planned_again, n_again }, "c2", &err);
  REQUIRE (frag_again != NULL, "%s", ERRMSG (err));
  j_again = json_loads (frag_again, 0, NULL);
  CHECK (json_equal (j, j_again), "the replay's fragment differs:\n%s\nfirst:\n%s", frag_again, frag);
out:
  for (size_t i = 0; i < n_again; i++)
    free (pins[i]);
  json_decref (j);
  json_decref (j_again);
  mr_pidplan_free (plan);
  mr_config_free (c);
  free (frag);
  free (frag_again);
  mr_error_free (&err);
  harness_case = NULL;
  return ret;
}

/* No pid namespace of its own: the init's namespace is "host", every pin is a host pin. */
static int
test_shared_host_namespace (void)
{
  struct mr_capture_proc v[2];
  struct mr_capture_planned planned[1] = { { 30101, "host=30101" } };
  char *frag = NULL;
  struct mr_config *c = NULL;
  struct mr_pid_plan *plan = NULL;
  mr_error_t err = NULL;
  json_t *j = NULL, *mr, *p;
  int ret = 0;

  v[0] = proc (30101, 1, (pid_t[]){ 30101 }, 1, INO_HOST, 0, ARGV_SH, ENV_PLAIN, "/", "init");
  v[1] = proc (30102, 30101, (pid_t[]){ 30102 }, 1, INO_HOST, 0, ARGV_SLEEP, ENV_PLAIN, "/", NULL);
  frag = mr_capture_fragment (&(struct mr_capture_table){ v, 2, 30101, planned, 1 }, "shared", &err);
  REQUIRE (frag != NULL, "%s", ERRMSG (err));
  j = json_loads (frag, 0, NULL);
  REQUIRE (j != NULL);
  mr = json_object_get (j, "minirun");
  CHECK (json_object_size (json_object_get (mr, "pids")) == 1, "only a host pin: %s", frag);
  CHECK (json_integer_value (json_object_get (json_object_get (mr, "pids"), "host")) == 30101, "%s", frag);
  CHECK (json_object_size (json_object_get (mr, "pidNamespaces")) == 0, "%s", frag);
  p = json_array_get (json_object_get (mr, "processes"), 0);
  CHECK_STR (json_string_value (json_object_get (p, "name")), "pid30102");
  CHECK_STR (json_string_value (json_object_get (p, "pidNamespace")), "host");
  CHECK (json_object_size (json_object_get (p, "pids")) == 1
             && json_integer_value (json_object_get (json_object_get (p, "pids"), "host")) == 30102,
         "%s", frag);

  c = config_of (frag, false);
  REQUIRE (c != NULL);
  REQUIRE (mr_pidplan_build (c, &ENV_SHARED, &plan, &err) == 0, "%s", ERRMSG (err));
  REQUIRE (plan->n_procs == 2, "%zu processes", plan->n_procs);
  check_levels (plan, 0, &v[0]);
  check_levels (plan, 1, &v[1]);
out:
  json_decref (j);
  mr_pidplan_free (plan);
  mr_config_free (c);
  free (frag);
  mr_error_free (&err);
  return ret;
}

static int
test_init_missing (void)
{
  struct mr_capture_proc v[1];
  mr_error_t err = NULL;
  char *frag;
  int ret = 0;

  v[0] = proc (30201, 30200, (pid_t[]){ 30201, 2 }, 2, INO_CONTAINER, INO_HOST, ARGV_SLEEP, ENV_PLAIN, "/",
               NULL);
  frag = mr_capture_fragment (&(struct mr_capture_table){ v, 1, 30200, NULL, 0 }, "gone", &err);
  CHECK (frag == NULL);
  REQUIRE (err != NULL);
  CHECK (err->errno_ == ESRCH, "errno %d", err->errno_);
  CHECK_STR (err->msg, "container `gone`: its init (pid 30200) is not among its processes: No such process");
out:
  free (frag);
  mr_error_free (&err);
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "round trip: table -> fragment -> config -> plan -> table", test_round_trip },
    { "shared host pid namespace", test_shared_host_namespace },
    { "init missing from the table", test_init_missing },
  };
  return HARNESS_RUN (tests);
}
