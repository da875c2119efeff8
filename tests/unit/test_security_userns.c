/* test_security_userns.c: mr_userns_write_maps against the real kernel (run
 * as root): a child enters a new user namespace and waits on a pipe while
 * this process writes its uid/gid maps (several ranges) and reads them back
 * from /proc/PID/{uid_map,gid_map,setgroups}; error messages for rejected
 * maps; and the clear error of mr_security_apply when additionalGids are set
 * in a user namespace whose setgroups is denied.  Children are killed and
 * reaped.  Prints "N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "security/security.h"
#include "ns/ns.h"
#include "base/utils.h"

struct userns_child
{
  struct harness_child h; /* h.msg_fd: what the child says, EOF when it exits */
  int go_fd;              /* write a byte: the child continues */
};

/* Runs in the child after its maps are written; harness_say() reports. */
typedef int (*after_maps_fn) (void *arg);

struct userns_job
{
  int ready[2], go[2];
  after_maps_fn fn;
  void *arg;
};

static int
userns_child (void *arg)
{
  struct userns_job *j = arg;
  char b;

  close (j->ready[0]);
  close (j->go[1]);
  if (unshare (CLONE_NEWUSER) < 0)
    {
      harness_say ("unshare: %s", strerror (errno));
      return 2;
    }
  if (write (j->ready[1], "r", 1) != 1 || read (j->go[0], &b, 1) != 1)
    return 3;
  if (j->fn == NULL)
    pause ();
  return j->fn (j->arg) == 0 ? 0 : 4;
}

/* Fork a child that unshares its user namespace, tells us, waits for a byte
 * on the go pipe and then runs `fn` (NULL: waits to be killed). */
static int
start_child (struct userns_child *c, after_maps_fn fn, void *arg)
{
  struct userns_job j = { .fn = fn, .arg = arg };
  char b;

  if (pipe2 (j.ready, O_CLOEXEC) < 0 || pipe2 (j.go, O_CLOEXEC) < 0)
    abort ();
  harness_child_start (&c->h, userns_child, &j);
  close (j.ready[1]);
  close (j.go[0]);
  c->go_fd = j.go[1];
  if (read (j.ready[0], &b, 1) != 1)
    {
      close (j.ready[0]);
      return -1;
    }
  close (j.ready[0]);
  return 0;
}

/* Let the child go (or kill it), wait for it; its messages into msg (if
 * not NULL). Returns the wait status. */
static int
finish_child (struct userns_child *c, bool kill_it, char *msg, size_t len)
{
  int st;

  if (c->h.pid <= 0)
    return -1;
  if (kill_it)
    kill (c->h.pid, SIGKILL);
  else if (write (c->go_fd, "g", 1) != 1)
    kill (c->h.pid, SIGKILL);
  st = harness_child_wait (&c->h, false, msg, msg ? len : 0);
  close (c->go_fd);
  return st;
}

static char *
read_proc (pid_t pid, const char *file)
{
  char path[64], *s = NULL;
  mr_error_t err = NULL;

  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  if (mr_read_file_at (AT_FDCWD, path, 65536, &s, NULL, &err) < 0)
    {
      mr_error_free (&err);
      return xstrdup ("");
    }
  return s;
}

/* "         0     100000       1000\n..." -> "0 100000 1000;..." */
static void
normalize_map (const char *in, char *out, size_t len)
{
  unsigned a, b, c;
  int used;
  size_t n = 0;

  out[0] = '\0';
  while (sscanf (in, "%u %u %u%n", &a, &b, &c, &used) == 3 && n < len)
    {
      n += (size_t)snprintf (out + n, len - n, "%s%u %u %u", n ? ";" : "", a, b, c);
      in += used;
    }
}

static int
test_userns_maps (void)
{
  struct mr_idmap uids[] = { { 0, 100000, 1000 }, { 1000, 200000, 10 } };
  struct mr_idmap gids[] = { { 0, 300000, 5 }, { 5, 400000, 100 } };
  struct mr_config config = { 0 };
  struct userns_child c = { 0 };
  mr_error_t err = NULL;
  char *s = NULL, norm[256];
  int ret = 0;

  config.uid_mappings = uids;
  config.n_uid_mappings = 2;
  config.gid_mappings = gids;
  config.n_gid_mappings = 2;
  REQUIRE (start_child (&c, NULL, NULL) == 0, "child did not start");
  REQUIRE (mr_userns_write_maps (c.h.pid, &config, false, &err) == 0, "%s", err->msg);
  s = read_proc (c.h.pid, "uid_map");
  normalize_map (s, norm, sizeof norm);
  REQUIRE (strcmp (norm, "0 100000 1000;1000 200000 10") == 0, "uid_map `%s`", s);
  free (s);
  s = read_proc (c.h.pid, "gid_map");
  normalize_map (s, norm, sizeof norm);
  REQUIRE (strcmp (norm, "0 300000 5;5 400000 100") == 0, "gid_map `%s`", s);
  free (s);
  s = read_proc (c.h.pid, "setgroups");
  REQUIRE (strcmp (s, "allow\n") == 0, "setgroups `%s` (privileged: must stay allow)", s);

  /* Maps can be written only once: the second write names file and ranges. */
  REQUIRE (mr_userns_write_maps (c.h.pid, &config, false, &err) < 0, "second write succeeded");
  snprintf (norm, sizeof norm,
            "write linux.uidMappings `0 100000 1000, 1000 200000 10` to `/proc/%d/uid_map`", (int)c.h.pid);
  REQUIRE (strstr (err->msg, norm) != NULL && strstr (err->msg, "already written") != NULL, "error `%s`",
           err->msg);
out:
  free (s);
  mr_error_free (&err);
  finish_child (&c, true, NULL, 0);
  return ret;
}

static int
test_userns_maps_errors (void)
{
  struct mr_idmap overlap[] = { { 0, 100000, 1000 }, { 500, 200000, 10 } };
  struct mr_config config = { 0 };
  struct userns_child c = { 0 };
  mr_error_t err = NULL;
  char expect[128];
  int ret = 0;

  REQUIRE (mr_userns_write_maps (getpid (), &config, false, &err) < 0, "empty maps accepted");
  REQUIRE (strstr (err->msg, "linux.uidMappings and linux.gidMappings are empty") != NULL, "error `%s`",
           err->msg);
  mr_error_free (&err);

  config.uid_mappings = overlap;
  config.n_uid_mappings = 2;
  REQUIRE (start_child (&c, NULL, NULL) == 0, "child did not start");
  REQUIRE (mr_userns_write_maps (c.h.pid, &config, false, &err) < 0, "overlapping ranges accepted");
  snprintf (expect, sizeof expect,
            "write linux.uidMappings `0 100000 1000, 500 200000 10` to `/proc/%d/uid_map`", (int)c.h.pid);
  REQUIRE (strstr (err->msg, expect) != NULL, "error `%s`", err->msg);
  mr_error_free (&err);

  overlap[1].size = 0;
  REQUIRE (mr_userns_write_maps (c.h.pid, &config, false, &err) < 0, "size 0 accepted");
  REQUIRE (strstr (err->msg, "linux.uidMappings[1].size: must be at least 1") != NULL, "error `%s`",
           err->msg);
out:
  mr_error_free (&err);
  finish_child (&c, true, NULL, 0);
  return ret;
}

struct two_processes
{
  struct mr_security *sec;
  struct mr_process *with_groups, *without;
};

static int
apply_twice (void *arg)
{
  struct two_processes *t = arg;
  mr_error_t err = NULL;

  if (mr_security_apply (t->sec, t->with_groups, NULL, &err) == 0)
    {
      harness_say ("additionalGids applied although setgroups is denied");
      return -1;
    }
  harness_say ("%s\n", err->msg);
  mr_error_free (&err);
  if (mr_security_apply (t->sec, t->without, NULL, &err) < 0)
    {
      harness_say ("empty additionalGids: %s", err->msg);
      return -1;
    }
  if (getuid () != 0 || getgid () != 0)
    {
      harness_say ("uid %d gid %d", (int)getuid (), (int)getgid ());
      return -1;
    }
  return 0;
}

/* Rootless-style maps (setgroups denied): additionalGids is a clear error,
 * an empty list is fine. */
static int
test_setgroups_denied (void)
{
  struct mr_idmap uids[] = { { 0, 100000, 1000 } };
  struct mr_idmap gids[] = { { 0, 100000, 1000 } };
  struct mr_config config = { 0 };
  struct userns_child c = { 0 };
  struct mr_process with_groups = { 0 }, without = { 0 };
  gid_t groups[] = { 1 };
  struct two_processes t = { NULL, &with_groups, &without };
  mr_error_t err = NULL;
  char msg[2048] = "", *s = NULL;
  int ret = 0, st;

  with_groups.user.additional_gids = groups;
  with_groups.user.n_additional_gids = 1;
  REQUIRE (mr_security_prepare (&without, NULL, &t.sec, &err) == 0, "%s", err->msg);
  config.uid_mappings = uids;
  config.n_uid_mappings = 1;
  config.gid_mappings = gids;
  config.n_gid_mappings = 1;
  REQUIRE (start_child (&c, apply_twice, &t) == 0, "child did not start");
  REQUIRE (mr_userns_write_maps (c.h.pid, &config, true, &err) == 0, "%s", err->msg);
  s = read_proc (c.h.pid, "setgroups");
  REQUIRE (strcmp (s, "deny\n") == 0, "setgroups `%s`", s);
  st = finish_child (&c, false, msg, sizeof msg);
  REQUIRE (WIFEXITED (st) && WEXITSTATUS (st) == 0, "status %#x: %s", st, msg);
  REQUIRE (strstr (msg, "process.user.additionalGids [1]: setgroups is denied in this user namespace")
               != NULL,
           "error `%s`", msg);
out:
  free (s);
  mr_error_free (&err);
  finish_child (&c, true, NULL, 0);
  mr_security_free (t.sec);
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "userns_maps", test_userns_maps },
    { "userns_maps_errors", test_userns_maps_errors },
    { "setgroups_denied", test_setgroups_denied },
  };

  if (geteuid () != 0)
    return harness_skip ("test_security_userns needs root");
  return HARNESS_RUN (tests);
}
