/* systemd/bus.c: the D-Bus calls of the systemd cgroup driver through
 * libsystemd's sd-bus (libsystemd-dev's headers; libsystemd.so.0 is loaded
 * with dlopen when the driver first talks to systemd: linked in, it and the
 * libraries it pulls (libgcrypt, liblzma, libzstd, liblz4) cost every
 * command ~1-2 ms and 600 KB more at start, measured here).  Owns the
 * connection (system bus, or the user's; a manager's private socket when no
 * bus daemon answers), StartTransientUnit, SetUnitProperties, StopUnit,
 * ResetFailedUnit, the wait for a job (JobRemoved, bounded), ControlGroup,
 * and the check that systemd runs.  Errors name the call and systemd's
 * error (sd_bus_error). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/systemd/systemd.h"
#include "base/cleanup.h"
#include "base/utils.h"

#ifdef MINIRUN_HAVE_SYSTEMD

#include <dlfcn.h>
#include <systemd/sd-bus.h>

int
mr_sd_available (mr_error_t *err)
{
  struct stat st;
  char comm[64] = "?";
  FILE *f;

  if (lstat ("/run/systemd/system", &st) == 0 && S_ISDIR (st.st_mode))
    return 0;
  f = fopen ("/proc/1/comm", "re");
  if (f)
    {
      if (fgets (comm, sizeof comm, f))
        comm[strcspn (comm, "\n")] = '\0';
      (void) fclose (f); /* read only */
    }
  return mr_error_set (err, 0,
                       "systemd is not running here (PID 1 is `%s`, and /run/systemd/system does not "
                       "exist); use minirun's own cgroupfs driver: no --systemd-cgroup, and a cgroupsPath "
                       "that is a path (/minirun/ID) or none",
                       comm);
}

#define DEST "org.freedesktop.systemd1"
#define PATH "/org/freedesktop/systemd1"
#define MANAGER "org.freedesktop.systemd1.Manager"
#define CALL_USEC (25ULL * 1000 * 1000) /* one method call */
#define JOB_MS 30000                    /* a start or stop job (runc waits as long) */

/* The sd-bus functions used, resolved from libsystemd.so.0. */
#define SD_FUNCS(X) \
  X (sd_bus_open_system) X (sd_bus_open_user) X (sd_bus_new) X (sd_bus_set_address) X (sd_bus_start) \
  X (sd_bus_unref) X (sd_bus_flush_close_unref) X (sd_bus_get_fd) X (sd_bus_message_new_method_call) \
  X (sd_bus_message_append) X (sd_bus_message_append_basic) X (sd_bus_message_append_array) \
  X (sd_bus_message_open_container) X (sd_bus_message_close_container) X (sd_bus_message_read) \
  X (sd_bus_message_unref) X (sd_bus_call) X (sd_bus_error_free) X (sd_bus_error_has_name) \
  X (sd_bus_match_signal) X (sd_bus_slot_unref) X (sd_bus_process) X (sd_bus_wait) \
  X (sd_bus_get_property_string)

static struct
{
  void *handle;
#define X(f) __typeof__ (f) *(f);
  SD_FUNCS (X)
#undef X
} sd;

static int
load (mr_error_t *err)
{
  void *h;
  if (sd.handle)
    return 0;
  h = dlopen ("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return mr_error_set (err, 0,
                         "the systemd cgroup driver needs libsystemd.so.0 (Debian's libsystemd0): dlopen: %s",
                         dlerror ());
#define X(f)                                                                                                       \
  sd.f = (__typeof__ (f) *) dlsym (h, #f);                                                                         \
  if (sd.f == NULL)                                                                                                \
    {                                                                                                              \
      dlclose (h);                                                                                                 \
      return mr_error_set (err, 0, "libsystemd.so.0 has no %s (systemd older than 246?)", #f);                    \
    }
  SD_FUNCS (X)
#undef X
  sd.handle = h;
  return 0;
}

struct mr_sd_bus
{
  sd_bus *bus;
};

static void
msg_unref (sd_bus_message **m)
{
  if (*m)
    sd.sd_bus_message_unref (*m);
}

static void
error_free (sd_bus_error *e)
{
  sd.sd_bus_error_free (e);
}

#define cleanup_msg __attribute__ ((cleanup (msg_unref)))
#define cleanup_bus_error __attribute__ ((cleanup (error_free)))

/* "systemd D-Bus call StartTransientUnit (unit `x.scope`): <message> (<name>)" */
static int
call_error (mr_error_t *err, int r, const sd_bus_error *e, const char *member, const char *unit)
{
  if (e && e->name)
    return mr_error_set_explained (err, -r, "systemd D-Bus call %s (unit `%s`): %s (%s)", member, unit,
                                   e->message ? e->message : "no message", e->name);
  return mr_error_set (err, -r, "systemd D-Bus call %s (unit `%s`)", member, unit);
}

/* A manager's own socket, when no bus daemon answers: systemd's
 * /run/systemd/private (root), the user manager's
 * $XDG_RUNTIME_DIR/systemd/private. */
static int
open_private (const char *path, sd_bus **out)
{
  cleanup_free char *address = xasprintf ("unix:path=%s", path);
  sd_bus *bus = NULL;
  int r = sd.sd_bus_new (&bus);
  if (r >= 0)
    r = sd.sd_bus_set_address (bus, address);
  if (r >= 0)
    r = sd.sd_bus_start (bus);
  if (r < 0)
    {
      if (bus)
        sd.sd_bus_unref (bus);
      return r;
    }
  *out = bus;
  return 0;
}

int
mr_sd_bus_open (bool user, struct mr_sd_bus **out, mr_error_t *err)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  sd_bus *bus = NULL;
  int r;

  *out = NULL;
  if (mr_sd_available (err) < 0 || load (err) < 0)
    return -1;
  r = user ? sd.sd_bus_open_user (&bus) : sd.sd_bus_open_system (&bus);
  if (r < 0 && !user && geteuid () == 0 && open_private ("/run/systemd/private", &bus) == 0)
    r = 0;
  if (r < 0 && user && xdg && *xdg == '/')
    {
      cleanup_free char *path = xasprintf ("%s/systemd/private", xdg);
      if (open_private (path, &bus) == 0)
        r = 0;
    }
  if (r < 0 && user)
    return mr_error_set (err, -r,
                         "connect to the user's systemd (sd_bus_open_user, then $XDG_RUNTIME_DIR/systemd/private: "
                         "rootless, the systemd driver talks to the user's `systemd --user`; is it running, and "
                         "XDG_RUNTIME_DIR set?)");
  if (r < 0)
    return mr_error_set (err, -r,
                         "connect to the system D-Bus (sd_bus_open_system, then systemd's "
                         "/run/systemd/private: is dbus running?)");
  *out = xcalloc (1, sizeof **out);
  (*out)->bus = bus;
  return 0;
}

void
mr_sd_bus_close (struct mr_sd_bus *b)
{
  if (b == NULL)
    return;
  sd.sd_bus_flush_close_unref (b->bus);
  free (b);
}

int
mr_sd_bus_fd (const struct mr_sd_bus *b)
{
  return b ? sd.sd_bus_get_fd (b->bus) : -1;
}

/* ---------- jobs ---------- */

struct job
{
  char *path; /* the job object StartTransientUnit/StopUnit returned */
  char result[32];
  bool done;
};

static int
on_job_removed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  struct job *j = userdata;
  uint32_t id;
  const char *path, *unit, *result;
  if (sd.sd_bus_message_read (m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  if (j->path && strcmp (path, j->path) == 0)
    {
      (void) snprintf (j->result, sizeof j->result, "%s", result); /* results are short words */
      j->done = true;
    }
  return 0;
}

/* Before the call that makes the job, so that its JobRemoved is queued. */
static int
watch_jobs (struct mr_sd_bus *b, struct job *j, sd_bus_slot **slot, const char *unit, mr_error_t *err)
{
  int r = sd.sd_bus_match_signal (b->bus, slot, DEST, PATH, MANAGER, "JobRemoved", on_job_removed, j);
  if (r < 0)
    return mr_error_set (err, -r, "systemd D-Bus: subscribe to JobRemoved (sd_bus_match_signal, unit `%s`)",
                         unit);
  return 0;
}

static int
wait_job (struct mr_sd_bus *b, struct job *j, const char *member, const char *unit, mr_error_t *err)
{
  long long deadline = mr_now_ms () + JOB_MS;
  while (!j->done)
    {
      long long left;
      int r = sd.sd_bus_process (b->bus, NULL);
      if (r < 0)
        return mr_error_set (err, -r, "systemd D-Bus: wait for the %s job of unit `%s` (sd_bus_process)", member,
                             unit);
      if (r > 0)
        continue;
      left = deadline - mr_now_ms ();
      if (left <= 0)
        return mr_error_set (err, ETIMEDOUT, "systemd did not finish the %s job of unit `%s` within %d s", member,
                             unit, JOB_MS / 1000);
      r = sd.sd_bus_wait (b->bus, (uint64_t) left * 1000);
      if (r < 0 && r != -EINTR)
        return mr_error_set (err, -r, "systemd D-Bus: wait for the %s job of unit `%s` (sd_bus_wait)", member,
                             unit);
    }
  if (strcmp (j->result, "done") != 0)
    return mr_error_set (err, 0, "systemd's %s job for unit `%s` ended `%s`, not `done` (journalctl -u %s says why)",
                         member, unit, j->result, unit);
  return 0;
}

/* Send `m` (a Manager call whose reply is a job path) and wait for the job.
 * 0: the job is done.  -1: either the call failed (*call_r < 0, systemd's
 * error in e, *err not set: the caller decides what it means) or something
 * later did (*call_r 0, *err set). */
static int
job_call (struct mr_sd_bus *b, sd_bus_message *m, const char *member, const char *unit, sd_bus_error *e,
          int *call_r, mr_error_t *err)
{
  cleanup_msg sd_bus_message *reply = NULL;
  struct job j = { 0 };
  sd_bus_slot *slot = NULL;
  const char *path;
  int r;

  *call_r = 0;
  if (watch_jobs (b, &j, &slot, unit, err) < 0)
    return -1;
  r = sd.sd_bus_call (b->bus, m, CALL_USEC, e, &reply);
  if (r < 0)
    *call_r = r;
  else if ((r = sd.sd_bus_message_read (reply, "o", &path)) < 0)
    mr_error_set (err, -r, "systemd D-Bus call %s (unit `%s`): read the job path of the reply", member, unit);
  else
    {
      j.path = xstrdup (path);
      r = wait_job (b, &j, member, unit, err);
      free (j.path);
    }
  sd.sd_bus_slot_unref (slot);
  return r < 0 ? -1 : 0;
}

/* ---------- messages ---------- */

static int
new_call (struct mr_sd_bus *b, const char *member, sd_bus_message **m)
{
  return sd.sd_bus_message_new_method_call (b->bus, m, DEST, PATH, MANAGER, member);
}

/* p's value: ay from bytes, as and a(ss) from strv (pairs one after the
 * other), b and t from u, s from s, the other basic types from v. */
static int
append_value (sd_bus_message *m, const struct mr_sd_prop *p)
{
  int r, b = p->u != 0;
  bool pairs = p->sig[1] == '(';
  if (strcmp (p->sig, "ay") == 0)
    return sd.sd_bus_message_append_array (m, 'y', p->bytes, p->n_bytes);
  if (p->sig[0] != 'a')
    return sd.sd_bus_message_append_basic (m, p->sig[0], p->sig[0] == 's'   ? (const void *) p->s
                                                         : p->sig[0] == 'b' ? (const void *) &b
                                                         : p->sig[0] == 't' ? (const void *) &p->u
                                                                            : (const void *) &p->v);
  r = sd.sd_bus_message_open_container (m, 'a', p->sig + 1);
  for (char **s = p->strv; r >= 0 && s && *s; s += pairs ? 2 : 1)
    r = pairs ? sd.sd_bus_message_append (m, "(ss)", s[0], s[1]) : sd.sd_bus_message_append_basic (m, 's', *s);
  return r < 0 ? r : sd.sd_bus_message_close_container (m);
}

static int
append_prop (sd_bus_message *m, const struct mr_sd_prop *p)
{
  int r = sd.sd_bus_message_open_container (m, 'r', "sv");
  if (r >= 0)
    r = sd.sd_bus_message_append_basic (m, 's', p->name);
  if (r >= 0)
    r = sd.sd_bus_message_open_container (m, 'v', p->sig);
  if (r >= 0)
    r = append_value (m, p);
  if (r >= 0)
    r = sd.sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd.sd_bus_message_close_container (m);
  return r;
}

static int
append_props (sd_bus_message *m, const struct mr_sd_props *props)
{
  int r = 0;
  for (size_t i = 0; props && i < props->n && r >= 0; i++)
    r = append_prop (m, &props->p[i]);
  return r;
}

/* ---------- the calls ---------- */

static void
reset_failed (struct mr_sd_bus *b, const char *unit)
{
  cleanup_msg sd_bus_message *m = NULL, *reply = NULL;
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  if (new_call (b, "ResetFailedUnit", &m) >= 0 && sd.sd_bus_message_append (m, "s", unit) >= 0)
    (void) sd.sd_bus_call (b->bus, m, CALL_USEC, &e, &reply); /* not failed, or gone: nothing to reset */
}

static int
start_once (struct mr_sd_bus *b, const char *unit, const char *slice, pid_t pid, const struct mr_sd_props *props,
            sd_bus_error *e, int *call_r, mr_error_t *err)
{
  static const char *const on[] = { "Delegate", "CPUAccounting", "MemoryAccounting", "IOAccounting",
                                    "TasksAccounting" };
  cleanup_msg sd_bus_message *m = NULL;
  cleanup_free char *desc = xasprintf ("minirun container %s", unit);
  int r = new_call (b, "StartTransientUnit", &m);

  if (r >= 0)
    r = sd.sd_bus_message_append (m, "ss", unit, "fail");
  if (r >= 0)
    r = sd.sd_bus_message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = sd.sd_bus_message_append (m, "(sv)(sv)(sv)", "Description", "s", desc, "Slice", "s", slice, "PIDs", "au",
                                  1, (uint32_t) pid);
  for (size_t i = 0; r >= 0 && i < sizeof on / sizeof on[0]; i++)
    r = sd.sd_bus_message_append (m, "(sv)", on[i], "b", 1);
  if (r >= 0)
    r = append_props (m, props);
  if (r >= 0)
    r = sd.sd_bus_message_close_container (m);
  if (r >= 0)
    r = sd.sd_bus_message_append (m, "a(sa(sv))", 0);
  *call_r = 0;
  if (r < 0)
    return mr_error_set (err, -r, "systemd D-Bus call StartTransientUnit (unit `%s`): build the message", unit);
  return job_call (b, m, "StartTransientUnit", unit, e, call_r, err);
}

int
mr_sd_start_scope (struct mr_sd_bus *b, const char *unit, const char *slice, pid_t pid,
                   const struct mr_sd_props *props, mr_error_t *err)
{
  for (int attempt = 0;; attempt++)
    {
      cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
      int r;
      if (start_once (b, unit, slice, pid, props, &e, &r, err) == 0)
        return 0;
      if (r == 0)
        return -1; /* *err is set */
      if (attempt == 0 && sd.sd_bus_error_has_name (&e, "org.freedesktop.systemd1.UnitExists"))
        {
          /* a unit of this name left over in the failed state: reset it, try again */
          reset_failed (b, unit);
          continue;
        }
      if (sd.sd_bus_error_has_name (&e, "org.freedesktop.systemd1.UnitExists"))
        return mr_error_set_explained (err, EEXIST,
                                       "systemd already has a unit `%s` (another container with this cgroupsPath? "
                                       "systemctl status %s): %s",
                                       unit, unit, e.message ? e.message : e.name);
      return call_error (err, r, &e, "StartTransientUnit", unit);
    }
}

int
mr_sd_set_properties (struct mr_sd_bus *b, const char *unit, const struct mr_sd_props *props, mr_error_t *err)
{
  cleanup_msg sd_bus_message *m = NULL, *reply = NULL;
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = new_call (b, "SetUnitProperties", &m);
  if (r >= 0)
    r = sd.sd_bus_message_append (m, "sb", unit, 1);
  if (r >= 0)
    r = sd.sd_bus_message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = append_props (m, props);
  if (r >= 0)
    r = sd.sd_bus_message_close_container (m);
  if (r < 0)
    return mr_error_set (err, -r, "systemd D-Bus call SetUnitProperties (unit `%s`): build the message", unit);
  r = sd.sd_bus_call (b->bus, m, CALL_USEC, &e, &reply);
  if (r < 0)
    return call_error (err, r, &e, "SetUnitProperties", unit);
  return 0;
}

int
mr_sd_stop_unit (struct mr_sd_bus *b, const char *unit, mr_error_t *err)
{
  cleanup_msg sd_bus_message *m = NULL;
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = new_call (b, "StopUnit", &m);
  if (r >= 0)
    r = sd.sd_bus_message_append (m, "ss", unit, "replace");
  if (r < 0)
    return mr_error_set (err, -r, "systemd D-Bus call StopUnit (unit `%s`): build the message", unit);
  if (job_call (b, m, "StopUnit", unit, &e, &r, err) < 0)
    {
      if (r == 0)
        return -1; /* *err is set */
      if (!sd.sd_bus_error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit"))
        return call_error (err, r, &e, "StopUnit", unit);
    }
  reset_failed (b, unit);
  return 0;
}

int
mr_sd_unit_cgroup (struct mr_sd_bus *b, const char *unit, char **out, mr_error_t *err)
{
  cleanup_msg sd_bus_message *m = NULL, *reply = NULL;
  cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL, e2 = SD_BUS_ERROR_NULL;
  const char *path;
  char *cg = NULL;
  int r = new_call (b, "GetUnit", &m);

  *out = NULL;
  if (r >= 0)
    r = sd.sd_bus_message_append (m, "s", unit);
  if (r < 0)
    return mr_error_set (err, -r, "systemd D-Bus call GetUnit (unit `%s`): build the message", unit);
  r = sd.sd_bus_call (b->bus, m, CALL_USEC, &e, &reply);
  if (r < 0 && sd.sd_bus_error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit"))
    return mr_error_set_explained (err, ENOENT, "systemd has no unit `%s`", unit);
  if (r < 0)
    return call_error (err, r, &e, "GetUnit", unit);
  r = sd.sd_bus_message_read (reply, "o", &path);
  if (r >= 0)
    r = sd.sd_bus_get_property_string (b->bus, DEST, path, "org.freedesktop.systemd1.Scope", "ControlGroup", &e2,
                                       &cg);
  if (r < 0)
    return call_error (err, r, &e2, "Get(ControlGroup)", unit);
  if (cg == NULL || *cg == '\0')
    {
      free (cg);
      return mr_error_set_explained (err, ENOENT, "systemd's unit `%s` has no cgroup (it is not running)", unit);
    }
  *out = cg;
  return 0;
}

#endif /* MINIRUN_HAVE_SYSTEMD */
