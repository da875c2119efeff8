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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stddef.h>
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

/* The host pid of the process that is `pid` in the pid namespace with inode
 * `ns` (its innermost NSpid), 0 when none is. */
static pid_t
holder_in_ns (unsigned long long ns, pid_t pid)
{
  DIR *d = opendir ("/proc");
  struct dirent *de;
  pid_t found = 0;

  if (d == NULL)
    return 0;
  while (found == 0 && (de = readdir (d)) != NULL)
    {
      int64_t host;
      char path[64];
      struct stat st;
      cleanup_free char *status = NULL;
      mr_error_t e = NULL;
      const char *line, *last;
      if (!mr_parse_i64 (de->d_name, 1, INT32_MAX, &host))
        continue;
      (void)snprintf (path, sizeof path, "/proc/%d/ns/pid", (int)host);
      if (stat (path, &st) < 0 || (unsigned long long)st.st_ino != ns)
        continue;
      (void)snprintf (path, sizeof path, "/proc/%d/status", (int)host);
      if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &status, NULL, &e) < 0)
        {
          mr_error_free (&e);
          continue;
        }
      line = strstr (status, "\nNSpid:");
      if (line == NULL)
        continue;
      line += 7;
      status[line - status + (ptrdiff_t)strcspn (line, "\n")] = '\0'; /* the NSpid line only */
      last = strrchr (line, '\t');
      if (last && strtol (last + 1, NULL, 10) == pid)
        found = (pid_t)host;
    }
  closedir (d);
  return found;
}

/* Wait until `pid` is free in the host's pid namespace (ns 0) or in the
 * joined one with inode `ns`, while a zombie holds it. */
static int
wait_free (pid_t pid, unsigned long long ns, const struct mr_criu_proc *ip, mr_error_t *err)
{
  long long deadline = mr_now_ms () + MR_REAP_WAIT_MS;
  const char *where = ns ? "the joined pid namespace" : "pid namespace \"host\"";
  bool said = false;

  for (;;)
    {
      struct mr_proc_stat ps;
      pid_t host = ns ? holder_in_ns (ns, pid) : pid;
      cleanup_free char *holder = NULL;
      bool zombie = host > 0 && mr_proc_stat_read (host, &ps) && ps.state == 'Z';
      struct timespec ts = { 0, 10L * 1000 * 1000 };

      if (ns == 0)
        holder = mr_pidpin_holder (pid);
      else if (host > 0)
        holder = zombie ? xasprintf ("a zombie (host pid %d) not yet reaped", (int)host)
                        : mr_pidpin_holder (host);
      if (holder == NULL)
        {
          if (said)
            mr_log_debug ("restore: pid %d is free in %s", (int)pid, where);
          return 0;
        }
      if (!zombie)
        return mr_error_set_explained (err, EEXIST,
                                       "pid %d, which the image's process %s%s%shad, is in use in %s by %s: "
                                       "CRIU restores every process at its checkpointed pid there (a running "
                                       "or zombie process, a process group or a session keeps a number in "
                                       "use; is the checkpointed container still running, as after "
                                       "--leave-running?)",
                                       (int)pid, ip->name ? "\"" : "", ip->name ? ip->name : "",
                                       ip->name ? "\" " : "", where, holder);
      if (mr_now_ms () > deadline)
        return mr_error_set_explained (
            err, EEXIST,
            "pid %d, which the image's process %s%s%shad, is still held in %s by %s "
            "after %d s: its parent (host pid %d) has not reaped it",
            (int)pid, ip->name ? "\"" : "", ip->name ? ip->name : "", ip->name ? "\" " : "", where, holder,
            MR_REAP_WAIT_MS / 1000, (int)ps.ppid);
      if (!said)
        mr_log_debug ("restore: waiting for pid %d in %s (%s) to be reaped by its parent %d", (int)pid, where,
                      holder, (int)ps.ppid);
      said = true;
      nanosleep (&ts, NULL);
    }
}

int
mr_criu_pins_check (const struct mr_criu_record *rec, const struct mr_pid_plan *plan,
                    enum mr_container_pidns pidns, unsigned long long joined_ns, mr_error_t *err)
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
  if (pidns == MR_PIDNS_NEW)
    return 0; /* a fresh namespace: every number is free */
  /* every pid CRIU restores at must be free: the host ones, or those in the
     joined namespace (the innermost level) */
  for (size_t i = 0; i < rec->n_procs; i++)
    {
      const struct mr_criu_proc *ip = &rec->procs[i];
      pid_t want = pidns == MR_PIDNS_SHARED ? ip->nspid[0] : ip->nspid[ip->n_nspid - 1];
      if (wait_free (want, pidns == MR_PIDNS_SHARED ? 0 : joined_ns, ip, err) < 0)
        return -1;
    }
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
