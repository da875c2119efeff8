/* criu_pins.c: pinned pids across a checkpoint and a restore.
 *
 * What CRIU gives: it recreates every process with clone3 set_tid at the
 * pid it had in the innermost pid namespace it lives in, so inside the
 * container every pid (and ppid) is the checkpointed one.  The host level:
 * a container without a pid namespace of its own lives in the host's, so
 * its host pids are restored exactly (and must be free); a container with
 * one is restored with the kernel choosing the host pids (CRIU pins one
 * level only), so a host pin there cannot be honoured and is refused.  A
 * bundle whose pins differ from the image's pids is refused too: CRIU
 * restores the image's pids, never the bundle's.  Nested pid namespaces
 * (minirun.pidNamespaces) are refused at checkpoint (criu_dump.c): CRIU 4.1
 * cannot dump them.
 *
 * A restore right after a checkpoint: the checkpointed processes were
 * killed by CRIU and keep their pids as zombies until their parent reaps
 * them (the host's init does so every few seconds here); a pid held by such
 * a zombie is waited for, at most MR_REAP_WAIT_MS. */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "cgroup/cgroup.h"
#include "ops/criu.h"
#include "process/pidpin.h"
#include "plan/pidplan.h"

#define MR_REAP_WAIT_MS 10000

static const struct mr_criu_proc *
image_proc (const struct mr_criu_record *rec, const char *name)
{
  for (size_t i = 0; i < rec->n_procs; i++)
    if (rec->procs[i].name && strcmp (rec->procs[i].name, name) == 0)
      return &rec->procs[i];
  return NULL;
}

static char *
image_names (const struct mr_criu_record *rec)
{
  char *out = xstrdup ("");
  for (size_t i = 0; i < rec->n_procs; i++)
    if (rec->procs[i].name)
      {
        char *next = xasprintf ("%s%s\"%s\"", out, *out ? ", " : "", rec->procs[i].name);
        free (out);
        out = next;
      }
  return out;
}

/* Wait until host pid `pid` is free, while a zombie holds it. */
static int
wait_free (pid_t pid, const struct mr_criu_proc *ip, mr_error_t *err)
{
  long long deadline = mr_now_ms () + MR_REAP_WAIT_MS;
  bool said = false;

  for (;;)
    {
      struct mr_proc_stat ps;
      cleanup_free char *holder = mr_pidpin_holder (pid);
      bool zombie = mr_proc_stat_read (pid, &ps) && ps.state == 'Z';
      struct timespec ts = { 0, 10L * 1000 * 1000 };

      if (holder == NULL)
        {
          if (said)
            mr_log_debug ("restore: pid %d is free", (int)pid);
          return 0;
        }
      if (!zombie)
        return mr_error_set_explained (err, EEXIST,
                                       "pid %d, which the image's process %s%s%shad, is in use in pid "
                                       "namespace \"host\" by %s: CRIU restores "
                                       "a container without a pid namespace of its own at its checkpointed "
                                       "host pids (a running or zombie "
                                       "process, a process group or a session keeps a number in use; is the "
                                       "checkpointed container still "
                                       "running, as after --leave-running?)",
                                       (int)pid, ip->name ? "\"" : "", ip->name ? ip->name : "",
                                       ip->name ? "\" " : "", holder);
      if (mr_now_ms () > deadline)
        return mr_error_set_explained (
            err, EEXIST,
            "pid %d, which the image's process %s%s%shad, is still held by %s after "
            "%d s: its parent (pid %d) has not reaped it",
            (int)pid, ip->name ? "\"" : "", ip->name ? ip->name : "", ip->name ? "\" " : "", holder,
            MR_REAP_WAIT_MS / 1000, (int)ps.ppid);
      if (!said)
        mr_log_debug ("restore: waiting for pid %d (%s) to be reaped by its parent %d", (int)pid, holder,
                      (int)ps.ppid);
      said = true;
      nanosleep (&ts, NULL);
    }
}

int
mr_criu_pins_check (const struct mr_criu_record *rec, const struct mr_pid_plan *plan,
                    enum mr_container_pidns pidns, mr_error_t *err)
{
  for (size_t i = 0; i < plan->n_procs; i++)
    {
      const struct mr_plan_proc *p = &plan->procs[i];
      const struct mr_criu_proc *ip = image_proc (rec, p->name);
      if (ip == NULL)
        {
          cleanup_free char *names = image_names (rec);
          return mr_error_set (
              err, 0,
              "process \"%s\" of the bundle's minirun.processes is not in the image (it has %s): "
              "restore with the bundle the container was checkpointed from",
              p->name, names);
        }
      for (size_t off = 0; off < p->set_tid_size; off++)
        {
          const struct mr_plan_ns *ns = &plan->ns[p->level_ns[off]];
          size_t d = (size_t)ns->depth;
          if (!p->explicit_pin[off])
            continue;
          if (d == 0 && pidns != MR_PIDNS_SHARED)
            return mr_error_set (
                err, ENOTSUP,
                "process \"%s\": the bundle pins host pid %d, which a restore cannot honour: CRIU recreates "
                "a "
                "container that has a pid namespace of its own with clone3 set_tid for its pids inside the "
                "container only, so the kernel chooses the host pids (the image's process had host pid %d); "
                "restore with a bundle that leaves the host level to the kernel (\"host\": \"any\", or no "
                "host "
                "pin, in minirun.pids / minirun.processes[].pids)",
                p->name, p->set_tid[off], (int)ip->nspid[0]);
          if (d >= ip->n_nspid || ip->nspid[d] != p->set_tid[off])
            return mr_error_set (
                err, 0,
                "process \"%s\": the bundle pins pid %d in pid namespace \"%s\", but the image "
                "has it at %d there: CRIU restores the checkpointed pids, so restore with the "
                "bundle (and pins) the container was checkpointed from",
                p->name, p->set_tid[off], ns->name, d < ip->n_nspid ? (int)ip->nspid[d] : -1);
        }
    }
  if (pidns != MR_PIDNS_SHARED)
    return 0;
  /* every host pid of the image must be free */
  for (size_t i = 0; i < rec->n_procs; i++)
    if (wait_free (rec->procs[i].nspid[0], &rec->procs[i], err) < 0)
      return -1;
  return 0;
}

struct live
{
  pid_t pid;
  pid_t nspid[MR_CRIU_MAX_LEVELS];
  size_t n;
};

static bool
read_nspid (pid_t pid, struct live *l)
{
  char path[64];
  cleanup_free char *status = NULL;
  mr_error_t e = NULL;
  char *line, *q, *end;

  memset (l, 0, sizeof *l);
  l->pid = pid;
  (void)snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &status, NULL, &e) < 0)
    {
      mr_error_free (&e);
      return false;
    }
  line = strstr (status, "\nNSpid:");
  if (line == NULL)
    return false;
  for (q = line + 7; l->n < MR_CRIU_MAX_LEVELS; q = end)
    {
      long v = strtol (q, &end, 10);
      if (end == q)
        break;
      l->nspid[l->n++] = (pid_t)v;
    }
  return l->n > 0;
}

int
mr_criu_pins_record (const struct mr_criu_record *rec, const struct mr_pid_plan *plan, pid_t init,
                     const char *cg_path, struct mr_state_proc **procs_out, size_t *n_out, mr_error_t *err)
{
  struct mr_cgroup *cg = NULL;
  pid_t *pids = NULL;
  size_t n = 0, k = 0;
  struct live *v;
  struct mr_state_proc *sp;
  int cont = mr_pidplan_ns_index (plan, MR_PIDNS_CONTAINER);
  size_t first = cont < 0 ? 0 : (size_t)plan->ns[cont].depth; /* levels CRIU restored exactly */
  int ret = 0;

  if (cg_path && (mr_cgroup_open (cg_path, &cg, err) < 0 || mr_cgroup_pids (cg, &pids, &n, err) < 0))
    {
      mr_cgroup_free (cg);
      return mr_error_wrap (err, "list the restored processes");
    }
  mr_cgroup_free (cg);
  v = xcalloc (n + 1, sizeof *v);
  if (!read_nspid (init, &v[k]))
    {
      free (pids);
      free (v);
      return mr_error_set (err, ESRCH, "the restored init (pid %d) is gone", (int)init);
    }
  k++;
  for (size_t i = 0; i < n; i++)
    if (pids[i] != init && read_nspid (pids[i], &v[k]))
      k++;
  free (pids);

  sp = xcalloc (plan->n_procs, sizeof *sp);
  for (size_t i = 0; i < plan->n_procs && ret == 0; i++)
    {
      const struct mr_criu_proc *ip = image_proc (rec, plan->procs[i].name);
      const struct live *got = NULL;
      for (size_t j = 0; j < k && ip && got == NULL; j++)
        {
          bool same = v[j].n == ip->n_nspid && first < v[j].n;
          for (size_t d = first; same && d < v[j].n; d++)
            same = v[j].nspid[d] == ip->nspid[d];
          if (same && (i != 0 || v[j].pid == init))
            got = &v[j];
        }
      if (got == NULL)
        {
          ret = mr_error_set (err, ESRCH, "process \"%s\" is not among the restored processes",
                              plan->procs[i].name);
          break;
        }
      sp[i].name = (char *)plan->procs[i].name;
      sp[i].host_pid = got->pid;
      sp[i].pins = plan->any_pins ? mr_pidplan_describe (plan, i) : NULL;
      memcpy (sp[i].nspid, got->nspid, got->n * sizeof *got->nspid);
      sp[i].n_nspid = got->n;
      /* the explicit pins, level by level (derived "any" numbers are the image's) */
      for (size_t off = 0; off < plan->procs[i].set_tid_size && off < got->n; off++)
        if (plan->procs[i].explicit_pin[off] && got->nspid[got->n - 1 - off] != plan->procs[i].set_tid[off])
          ret = mr_error_set (err, 0,
                              "process \"%s\": restored at pid %d in pid namespace \"%s\", not the pinned %d",
                              plan->procs[i].name, (int)got->nspid[got->n - 1 - off],
                              plan->ns[plan->procs[i].level_ns[off]].name, plan->procs[i].set_tid[off]);
    }
  free (v);
  if (ret < 0)
    {
      for (size_t i = 0; i < plan->n_procs; i++)
        free (sp[i].pins);
      free (sp);
      return -1;
    }
  *procs_out = sp;
  *n_out = plan->n_procs;
  return 0;
}
#endif
