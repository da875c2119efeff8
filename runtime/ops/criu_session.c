/* criu_session.c: one libcriu request from start to end: the criu binary
 * (checked to answer), the image and work directories, the log, the options
 * both commands share, and the call itself under a watchdog, with CRIU's
 * own error lines quoted when it fails.  Without libcriu (MINIRUN_HAVE_CRIU
 * unset) this file is where `checkpoint` and `restore` say so.
 *
 * Hardware breakpoints: CRIU stops a task leaving its parasite code on a
 * debug-register breakpoint.  Under some hypervisors (this project's CI VM)
 * the breakpoint never fires and the dump hangs for good after "Daemon ...
 * exited trapping"; CRIU's breakpoint-free mode (stepping syscalls, the path
 * it takes on architectures without breakpoints) works everywhere, so minirun
 * asks for it (CRIU_FAULT=130, CRIU's switch for that mode) unless
 * MINIRUN_CRIU_BREAKPOINTS=1. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "minirun/checkpoint.h"
#include "ops/criu.h"

#ifdef MINIRUN_HAVE_CRIU
#include <criu/criu.h>
#endif

#ifndef MINIRUN_CRIU_BINARY
#define MINIRUN_CRIU_BINARY "criu"
#endif
#ifndef MINIRUN_CRIU_VERSION
#define MINIRUN_CRIU_VERSION ""
#endif

bool
mr_checkpoint_built_in (void)
{
#ifdef MINIRUN_HAVE_CRIU
  return true;
#else
  return false;
#endif
}

const char *
mr_criu_default_binary (void)
{
  const char *env = getenv ("MINIRUN_CRIU");
  return env && *env ? env : MINIRUN_CRIU_BINARY;
}

const char *
mr_criu_built_version (void)
{
  return MINIRUN_CRIU_VERSION;
}

#ifndef MINIRUN_HAVE_CRIU

static int
not_built (const char *what, mr_error_t *err)
{
  return mr_error_set (
      err, ENOTSUP,
      "%s: this minirun was built without libcriu (CRIU's library), so it cannot checkpoint or "
      "restore; build CRIU with `scripts/setup.sh --criu` and rebuild minirun",
      what);
}

int
mr_container_checkpoint (const struct mr_checkpoint_opts *opts, mr_error_t *err)
{
  return not_built ("checkpoint", err);
}

int
mr_container_restore (const struct mr_restore_opts *opts, int *exit_status, mr_error_t *err)
{
  return not_built ("restore", err);
}

#else

/* The binary named by path or found on PATH, as execlp would. */
static char *
find_binary (const char *name)
{
  const char *path = getenv ("PATH");
  cleanup_free char *copy = NULL;
  char *save = NULL;

  if (strchr (name, '/'))
    return access (name, X_OK) == 0 ? realpath (name, NULL) : NULL;
  copy = xstrdup (path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *cand = xasprintf ("%s/%s", *d ? d : ".", name);
      if (access (cand, X_OK) == 0)
        return realpath (cand, NULL);
    }
  return NULL;
}

static bool fault_set; /* we set CRIU_FAULT (and unset it at the end) */

static int
open_dir (const char *path, bool create, const char *flag, char **abs, mr_error_t *err)
{
  int fd;

  if (create && mkdir (path, 0700) < 0 && errno != EEXIST && mr_mkdir_p (path, 0700, err) < 0)
    return mr_error_wrap (err, "%s: create `%s`", flag, path);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT && !create)
        return mr_error_set (err, ENOENT, "%s `%s`: no such directory (no checkpoint there?)", flag, path);
      return mr_error_set (err, errno, "%s: open the directory `%s`", flag, path);
    }
  *abs = realpath (path, NULL);
  if (*abs == NULL)
    *abs = xstrdup (path);
  return fd;
}

int
mr_criu_begin (const struct mr_criu_common_opts *o, bool checkpoint, const char *log_name,
               struct mr_criu_session *s, mr_error_t *err)
{
  const char *name = o->criu && *o->criu ? o->criu : mr_criu_default_binary ();
  cleanup_free char *work_abs = NULL;

  memset (s, 0, sizeof *s);
  s->image_fd = s->work_fd = -1;
  if (geteuid () != 0)
    return mr_error_set (err, EPERM, "%s needs root: CRIU cannot %s an unprivileged container",
                         checkpoint ? "checkpoint" : "restore", checkpoint ? "dump" : "restore");
  s->binary = find_binary (name);
  if (s->binary == NULL)
    return mr_error_set (
        err, ENOENT,
        "the criu binary `%s` is not there or not executable: build it with `scripts/setup.sh "
        "--criu` or name one with `minirun --criu PATH` (or $MINIRUN_CRIU)",
        name);
  if (criu_init_opts () < 0)
    return mr_error_set (err, ENOMEM, "libcriu: criu_init_opts");
  if (criu_set_service_binary (s->binary) < 0)
    return mr_error_set (err, ENOMEM, "libcriu: criu_set_service_binary");
  const char *breakpoints = getenv ("MINIRUN_CRIU_BREAKPOINTS");
  if (!fault_set && getenv ("CRIU_FAULT") == NULL && !(breakpoints && strcmp (breakpoints, "1") == 0))
    {
      /* see the head comment: no hardware breakpoints */
      setenv ("CRIU_FAULT", "130", 1);
      fault_set = true;
    }
  /* no version request up front: it costs a whole `criu swrk` (~40 ms);
     a failing request asks for the version to explain itself */

  s->image_fd = open_dir (o->image_path, checkpoint, "--image-path", &s->image_path, err);
  if (s->image_fd < 0)
    return -1;
  criu_set_images_dir_fd (s->image_fd);
  if (o->work_path && *o->work_path)
    {
      s->work_fd = open_dir (o->work_path, true, "--work-path", &work_abs, err);
      if (s->work_fd < 0)
        return -1;
      criu_set_work_dir_fd (s->work_fd);
    }
  s->log_path = xasprintf ("%s/%s", work_abs ? work_abs : s->image_path, log_name);
  criu_set_log_level (CRIU_LOG_DEBUG);
  if (criu_set_log_file (log_name) < 0)
    return mr_error_set (err, ENOMEM, "libcriu: criu_set_log_file");
  return 0;
}

void
mr_criu_end (struct mr_criu_session *s)
{
  if (s->image_fd >= 0)
    close (s->image_fd);
  if (s->work_fd >= 0)
    close (s->work_fd);
  s->image_fd = s->work_fd = -1;
  free (s->image_path);
  free (s->log_path);
  free (s->binary);
  s->image_path = s->log_path = s->binary = NULL;
  if (fault_set)
    {
      unsetenv ("CRIU_FAULT");
      fault_set = false;
    }
  criu_free_opts ();
}

void
mr_criu_set_common (const struct mr_criu_common_opts *o)
{
  static const enum criu_cg_mode modes[] = {
    [MR_CG_MODE_DEFAULT] = CRIU_CG_MODE_SOFT,  [MR_CG_MODE_SOFT] = CRIU_CG_MODE_SOFT,
    [MR_CG_MODE_FULL] = CRIU_CG_MODE_FULL,     [MR_CG_MODE_STRICT] = CRIU_CG_MODE_STRICT,
    [MR_CG_MODE_IGNORE] = CRIU_CG_MODE_IGNORE,
  };
  criu_set_tcp_established (o->tcp_established);
  criu_set_ext_unix_sk (o->ext_unix_sk);
  criu_set_shell_job (o->shell_job);
  criu_set_file_locks (o->file_locks);
  criu_set_auto_dedup (o->auto_dedup);
  criu_set_orphan_pts_master (true);
  criu_set_manage_cgroups (true);
  criu_set_manage_cgroups_mode (modes[o->cg_mode]);
  if (o->empty_netns)
    criu_set_empty_ns (CLONE_NEWNET);
}

/* ---------- the call, under a watchdog ---------- */

static char watched_exe[PATH_MAX];
static volatile sig_atomic_t timed_out;

static size_t
fmt_int (char *out, long v)
{
  char tmp[24];
  size_t n = 0, k = 0;
  do
    tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10) > 0 && n < sizeof tmp);
  while (n > 0)
    out[k++] = tmp[--n];
  out[k] = '\0';
  return k;
}

/* Async-signal-safe: SIGKILL our children whose executable is the criu
 * binary (the restored processes are our children too: left alone). */
static void
on_alarm (int sig)
{
  char path[64], buf[4096], exe[PATH_MAX];
  int fd;
  ssize_t n;
  long pid = 0;
  bool in = false;

  (void)sig;
  timed_out = 1;
  strcpy (path, "/proc/self/task/");
  fmt_int (path + strlen (path), (long)getpid ());
  strcat (path, "/children");
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  for (ssize_t i = 0; i <= n; i++)
    {
      int c = i < n ? (unsigned char)buf[i] : ' ';
      if (c >= '0' && c <= '9')
        {
          pid = pid * 10 + (c - '0');
          in = true;
          continue;
        }
      if (in)
        {
          ssize_t l;
          strcpy (path, "/proc/");
          strcpy (path + 6 + fmt_int (path + 6, pid), "/exe");
          l = readlink (path, exe, sizeof exe - 1);
          if (l > 0)
            {
              exe[l] = '\0';
              if (strcmp (exe, watched_exe) == 0)
                kill ((pid_t)pid, SIGKILL);
            }
        }
      pid = 0;
      in = false;
    }
}

/* The "Error" lines of CRIU's log, the last few, without their timestamps. */
static char *
log_errors (const char *log_path)
{
  cleanup_file FILE *f = fopen (log_path, "re");
  char line[1024], *keep[3] = { NULL, NULL, NULL };
  size_t n = 0, len = 0;
  char *out = NULL;
  FILE *m;

  if (f == NULL)
    return NULL;
  while (fgets (line, sizeof line, f))
    {
      char *e = strstr (line, "Error (");
      if (e == NULL)
        continue;
      e[strcspn (e, "\n")] = '\0';
      free (keep[n % 3]);
      keep[n % 3] = xstrdup (e);
      n++;
    }
  if (n == 0)
    return NULL;
  m = open_memstream (&out, &len);
  if (m == NULL)
    {
      for (int i = 0; i < 3; i++)
        free (keep[i]);
      return NULL;
    }
  for (size_t i = n > 3 ? n - 3 : 0, first = 1; i < n; i++, first = 0)
    {
      fprintf (m, "%s%s", first ? "" : "; ", keep[i % 3]);
    }
  (void)fclose (m);
  for (int i = 0; i < 3; i++)
    free (keep[i]);
  return out;
}

/* A few causes worth saying in words. */
static const char *
hint_for (const char *errors)
{
  if (errors == NULL)
    return "";
  if (strstr (errors, "Can't lookup mount"))
    return " (a process of the container has a file open that lives outside the container: close it, or "
           "pass it to the container through a bind mount)";
  if (strstr (errors, "Dirty tracking") || strstr (errors, "track_mem"))
    return " (the kernel does not track dirty memory)";
  if (strstr (errors, "Connected TCP socket") || strstr (errors, "tcp-established"))
    return " (the container has established TCP connections: add --tcp-established)";
  if (strstr (errors, "unix socket") || strstr (errors, "ext-unix-sk"))
    return " (the container has a unix socket connected outside it: add --ext-unix-sk)";
  if (strstr (errors, "shell-job") || strstr (errors, "session leader"))
    return " (the container's processes belong to a session or terminal outside it: add --shell-job)";
  if (strstr (errors, "File fd/"))
    return " (the checkpointed init's stdio was a host file that has changed since: CRIU restores a regular "
           "file "
           "only if it is the same, by size)";
  if (strstr (errors, "has bad size") || strstr (errors, "has bad mode") || strstr (errors, "bad build-ID"))
    return " (a file the checkpointed processes use differs in the bundle's rootfs: restore with the rootfs "
           "they were checkpointed with)";
  return "";
}

int
mr_criu_call (struct mr_criu_session *s, int (*fn) (void), const char *what, mr_error_t *err)
{
  struct sigaction sa = { .sa_handler = on_alarm }, old;
  int64_t timeout = 300;
  cleanup_free char *errors = NULL;
  int ret, saved;

  {
    const char *t = getenv ("MINIRUN_CRIU_TIMEOUT");
    if (t && *t && !mr_parse_i64 (t, 1, 86400, &timeout))
      return mr_error_set (err, EINVAL,
                           "MINIRUN_CRIU_TIMEOUT: expected a number of seconds (1..86400), got `%s`", t);
  }
  (void)snprintf (watched_exe, sizeof watched_exe, "%s", s->binary);
  timed_out = 0;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGALRM, &sa, &old);
  alarm ((unsigned)timeout);
  ret = fn ();
  saved = errno;
  alarm (0);
  sigaction (SIGALRM, &old, NULL);
  if (timed_out)
    return mr_error_set (err, ETIMEDOUT,
                         "CRIU did not finish the %s within %lld s and was killed (CRIU's log: %s; "
                         "MINIRUN_CRIU_TIMEOUT=SECONDS waits longer)",
                         what, (long long)timeout, s->log_path);
  if (ret >= 0)
    return ret;
  {
    /* an old criu, or not a criu at all, says so here */
    int version = criu_check_version (MR_CRIU_MIN_VERSION);
    if (version < 0)
      return mr_error_set (
          err, -version == EBADE ? 0 : -version,
          "CRIU %s: the criu binary `%s` does not answer a version request (is it CRIU >= 3.16?)", what,
          s->binary);
    if (version == 0)
      return mr_error_set (err, 0,
                           "CRIU %s: the criu binary `%s` is older than 3.16: minirun needs CRIU >= 3.16",
                           what, s->binary);
  }
  errors = log_errors (s->log_path);
  if (ret == -EBADE || errors)
    return mr_error_set (err, 0, "CRIU %s failed: %s%s (CRIU's log: %s)", what,
                         errors ? errors : "no error in its log", hint_for (errors), s->log_path);
  return mr_error_set (err, -ret > 0 ? -ret : saved, "CRIU %s: talk to `%s swrk`", what, s->binary);
}

int
mr_criu_check_mem_track (const char *flag, mr_error_t *err)
{
  struct criu_feature_check f = { .mem_track = true };
  int ret = criu_feature_check (&f, sizeof f);

  if (ret < 0)
    return mr_error_set (err, -ret == EBADE ? 0 : -ret,
                         "%s: ask CRIU whether the kernel tracks memory changes", flag);
  if (!f.mem_track)
    return mr_error_set (err, ENOTSUP,
                         "%s needs the kernel to track which memory pages change between dumps (soft-dirty "
                         "bits), and this kernel does not (`criu check --feature mem_dirty_track` fails): "
                         "checkpoint in one go, without --pre-dump or --parent-path",
                         flag);
  return 0;
}

#endif
