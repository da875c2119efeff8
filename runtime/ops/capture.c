/* capture.c: a running container's processes: `ps` and the pin config
 * fragment that replays the tree ("capture").
 *
 * The processes are the container's cgroup members, or, for a container
 * without a cgroup (rootless), every process whose pid namespace is the
 * init's or below it.  For each: host pid, ppid, NSpid (its pid at every
 * level), pid namespace inode, args, env and cwd: the table of capture.h.
 * Turning that table into the pin fragment is capture_pins.c's (pure, no
 * /proc). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "base/cleanup.h"
#include "minirun/minirun.h"
#include "state/handle.h"
#include "base/utils.h"
#include "ops/capture.h"

#define MAX_LEVELS MR_CAPTURE_MAX_LEVELS

static char **
split_nul (const char *data, size_t len)
{
  size_t n = 0, k = 0;
  char **v;
  for (size_t i = 0; i < len; i++)
    if (data[i] == '\0')
      n++;
  if (len > 0 && data[len - 1] != '\0')
    n++;
  v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < len && k < n;)
    {
      size_t l = strnlen (data + i, len - i);
      v[k++] = strndup (data + i, l);
      i += l + 1;
    }
  return v;
}

static bool
read_proc (pid_t pid, struct mr_capture_proc *p)
{
  char path[64];
  cleanup_free char *status = NULL, *cmdline = NULL, *environ_ = NULL;
  mr_error_t e = NULL;
  size_t len = 0;
  struct stat st;
  char *line;
  int fd, parent;
  ssize_t n;

  memset (p, 0, sizeof *p);
  p->pid = pid;
  (void) snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 16, &status, NULL, &e) < 0)
    {
      mr_error_free (&e);
      return false;
    }
  if ((line = strstr (status, "\nPPid:")))
    p->ppid = (pid_t) strtol (line + 6, NULL, 10);
  if ((line = strstr (status, "\nNSpid:")))
    {
      char *q = line + 7, *end;
      while (p->n_nspid < MAX_LEVELS)
        {
          long v = strtol (q, &end, 10);
          if (end == q)
            break;
          p->nspid[p->n_nspid++] = (pid_t) v;
          q = end;
        }
    }
  (void) snprintf (path, sizeof path, "/proc/%d/ns/pid", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      if (fd >= 0)
        close (fd);
      return false;
    }
  p->ns = st.st_ino;
  parent = ioctl (fd, NS_GET_PARENT);
  if (parent >= 0 && fstat (parent, &st) == 0)
    p->ns_parent = st.st_ino;
  if (parent >= 0)
    close (parent);
  close (fd);
  (void) snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 20, &cmdline, &len, &e) == 0)
    p->argv = split_nul (cmdline, len);
  mr_error_free (&e);
  (void) snprintf (path, sizeof path, "/proc/%d/environ", (int) pid);
  if (mr_read_file_at (AT_FDCWD, path, 1 << 20, &environ_, &len, &e) == 0)
    p->envp = split_nul (environ_, len);
  mr_error_free (&e);
  (void) snprintf (path, sizeof path, "/proc/%d/cwd", (int) pid);
  n = readlink (path, p->cwd, sizeof p->cwd - 1);
  if (n <= 0 || p->cwd[0] != '/')
    strcpy (p->cwd, "/");
  else
    p->cwd[n] = '\0';
  if (p->argv == NULL || p->argv[0] == NULL)
    {
      /* a kernel thread or a zombie (an empty cmdline): nothing to replay,
       * and its slot is reused for the next process */
      mr_strv_free (p->argv);
      mr_strv_free (p->envp);
      p->argv = p->envp = NULL;
      return false;
    }
  return true;
}

static void
free_procs (struct mr_capture_proc *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      mr_strv_free (v[i].argv);
      mr_strv_free (v[i].envp);
    }
  free (v);
}

/* Is namespace `ns` (of process pid) the container's or below it? */
static bool
pidns_below (pid_t pid, ino_t container)
{
  char path[64];
  struct stat st;
  int fd;
  bool found = false;

  (void) snprintf (path, sizeof path, "/proc/%d/ns/pid", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  for (int d = 0; fd >= 0 && d <= MAX_LEVELS; d++)
    {
      int parent;
      if (fstat (fd, &st) < 0)
        break;
      if (st.st_ino == container)
        {
          found = true;
          break;
        }
      parent = ioctl (fd, NS_GET_PARENT);
      close (fd);
      fd = parent;
    }
  if (fd >= 0)
    close (fd);
  return found;
}

static int
collect (const char *root, const char *id, struct mr_state **st_out, struct mr_capture_proc **out,
         size_t *n_out, mr_error_t *err)
{
  cleanup_handle struct mr_handle h = MR_HANDLE_INIT;
  struct mr_state *st = NULL;
  pid_t *pids = NULL;
  size_t n = 0;
  struct mr_capture_proc *v;
  size_t k = 0;

  if (mr_handle_open (root, id, false, &h, err) < 0)
    return -1;
  if (h.status == MR_STATUS_STOPPED)
    return mr_error_set (err, ESRCH, "container `%s` is not running", id);
  st = MR_STEAL (h.st); /* the caller's; the lock is held until we return */
  if (st->cgroup_path)
    {
      struct mr_cgroup *cg = NULL;
      int r = mr_cgroup_open (st->cgroup_path, &cg, err);
      if (r == 0)
        r = mr_cgroup_pids (cg, &pids, &n, err);
      mr_cgroup_free (cg);
      if (r < 0)
        {
          mr_state_free (st);
          return -1;
        }
    }
  else
    {
      char path[64];
      struct stat sst;
      DIR *d = opendir ("/proc");
      size_t cap = 0;
      (void) snprintf (path, sizeof path, "/proc/%d/ns/pid", (int) st->pid);
      if (d == NULL || stat (path, &sst) < 0)
        {
          if (d)
            closedir (d);
          mr_state_free (st);
          return mr_error_set (err, errno, "list the processes of `%s`", id);
        }
      for (struct dirent *de; (de = readdir (d));)
        {
          int64_t pid;
          if (!mr_parse_i64 (de->d_name, 1, INT32_MAX, &pid) || !pidns_below ((pid_t) pid, sst.st_ino))
            continue;
          if (n == cap)
            pids = xrealloc (pids, (cap = cap ? cap * 2 : 16) * sizeof *pids);
          pids[n++] = (pid_t) pid;
        }
      closedir (d);
    }
  v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    if (read_proc (pids[i], &v[k]))
      {
        for (size_t j = 0; j < st->n_procs; j++)
          if (st->procs[j].host_pid == v[k].pid)
            v[k].name = st->procs[j].name;
        k++;
      }
  free (pids);
  *st_out = st;
  *out = v;
  *n_out = k;
  return 0;
}

int
mr_container_pids (const char *root, const char *id, pid_t **pids, size_t *n, mr_error_t *err)
{
  struct mr_state *st;
  struct mr_capture_proc *v;
  size_t k;

  if (collect (root, id, &st, &v, &k, err) < 0)
    return -1;
  *pids = xcalloc (k + 1, sizeof **pids);
  for (size_t i = 0; i < k; i++)
    (*pids)[i] = v[i].pid;
  *n = k;
  free_procs (v, k);
  mr_state_free (st);
  return 0;
}

char *
mr_container_ps_table (const char *root, const char *id, mr_error_t *err)
{
  struct mr_state *st;
  struct mr_capture_proc *v;
  size_t k;
  char *out = NULL;
  size_t len = 0;
  FILE *f;

  if (collect (root, id, &st, &v, &k, err) < 0)
    return NULL;
  f = open_memstream (&out, &len);
  if (f == NULL)
    {
      free_procs (v, k);
      mr_state_free (st);
      mr_error_set (err, errno, "open_memstream");
      return NULL;
    }
  fprintf (f, "%-8s %-8s %-20s %-12s %s\n", "PID", "PPID", "NSPID", "NAME", "CMD");
  for (size_t i = 0; i < k; i++)
    {
      char nspid[128] = "";
      size_t o = 0;
      for (size_t j = 0; j < v[i].n_nspid && o < sizeof nspid - 12; j++)
        o += (size_t) snprintf (nspid + o, sizeof nspid - o, "%s%d", j ? "," : "", (int) v[i].nspid[j]);
      fprintf (f, "%-8d %-8d %-20s %-12s", (int) v[i].pid, (int) v[i].ppid, nspid, v[i].name ? v[i].name : "-");
      for (char **a = v[i].argv; a && *a; a++)
        fprintf (f, " %s", *a);
      fputc ('\n', f);
    }
  (void) fclose (f);
  free_procs (v, k);
  mr_state_free (st);
  return out;
}

char *
mr_container_capture (const char *root, const char *id, mr_error_t *err)
{
  struct mr_state *st;
  struct mr_capture_proc *v;
  struct mr_capture_planned *planned;
  size_t k;
  char *dump;

  if (collect (root, id, &st, &v, &k, err) < 0)
    return NULL;
  planned = xcalloc (st->n_procs + 1, sizeof *planned);
  for (size_t i = 0; i < st->n_procs; i++)
    planned[i] = (struct mr_capture_planned){ st->procs[i].host_pid, st->procs[i].pins };
  dump = mr_capture_fragment (
      &(struct mr_capture_table){ .procs = v, .n_procs = k, .init_pid = st->pid, .planned = planned,
                                  .n_planned = st->n_procs },
      id, err);
  free (planned);
  free_procs (v, k);
  mr_state_free (st);
  return dump;
}
