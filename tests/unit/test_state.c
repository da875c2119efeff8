/* test_state.c: a container's state on disk (runtime/state/state.h) in a
 * temporary state root, no root needed: container ids (valid, invalid, made
 * from a bundle path), the state directory (created locked and only under
 * its id, a duplicate refused, opened with a shared or exclusive lock, one
 * deleted while a reader waited for its lock, peeked without a lock, a
 * symlink refused, removed only when it is still the directory held), the
 * state file (every field written and read back, a missing or corrupt one
 * named clearly), the status derived from the facts (no pid, a live
 * process, a reused pid, a zombie, a created init that has exec'd), the
 * pidfd of the init, the OCI state JSON, the sorted id list, the owner, and
 * no fd left open at the end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "base/syscalls.h"
#include "base/utils.h"
#include "harness.h"
#include "state/state.h"

static char base[] = "/tmp/mr-test-state-XXXXXX";
static char root[PATH_MAX]; /* base/root/state: created by mr_state_dir_create */

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove (path);
}

static void
remove_base (void)
{
  nftw (base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* root/name, in a static buffer (overwritten by the next call). */
static char *
in_root (const char *name)
{
  static char buf[2 * PATH_MAX];
  if ((size_t)snprintf (buf, sizeof buf, "%s/%s", root, name) >= sizeof buf)
    abort ();
  return buf;
}

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  if (d == NULL)
    return -1;
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

/* Can another open file description take the lock now? */
static bool
lockable (const char *path, int how)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool ok;
  if (fd < 0)
    return false;
  ok = flock (fd, how | LOCK_NB) == 0;
  close (fd);
  return ok;
}

static int
test_ids (void)
{
  static const char *good[] = { "a", "Z", "0", "a-b_c.d+e", "container.1", "x--" };
  static const char *bad[] = { "-a", ".a", "_a", "+a", "a/b", "../x", "a b", "a:b", "é" };
  char max[MR_ID_MAX + 2];
  mr_error_t err = NULL;

  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    {
      CHECK (mr_id_validate (good[i], &err) == 0, "`%s`: %s", good[i], ERRMSG (err));
      mr_error_free (&err);
    }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char want[128];
      CHECK (mr_id_validate (bad[i], &err) < 0, "`%s` accepted", bad[i]);
      snprintf (want, sizeof want,
                "invalid container id `%s`: use letters, digits and _ . + - (not first), no `/`", bad[i]);
      CHECK_STR (err ? err->msg : NULL, want);
      mr_error_free (&err);
    }
  CHECK (mr_id_validate ("", &err) < 0);
  CHECK_STR (err ? err->msg : NULL, "container id is empty");
  mr_error_free (&err);
  CHECK (mr_id_validate (NULL, &err) < 0);
  mr_error_free (&err);
  memset (max, 'a', sizeof max);
  max[MR_ID_MAX] = '\0';
  CHECK (mr_id_validate (max, &err) == 0, "%d bytes: %s", MR_ID_MAX, ERRMSG (err));
  mr_error_free (&err);
  max[MR_ID_MAX] = 'a';
  max[MR_ID_MAX + 1] = '\0';
  CHECK (mr_id_validate (max, &err) < 0);
  CHECK_STR (err ? err->msg : NULL, "container id is 251 bytes long, at most 250 are allowed");
  mr_error_free (&err);
  return 0;
}

/* "<base>-<8 hex>" from the last component, kept to valid id characters. */
static void
check_id_from_bundle (const char *bundle, const char *prefix)
{
  char *id = mr_id_from_bundle (bundle);
  mr_error_t err = NULL;
  size_t pl = strlen (prefix);

  harness_case = bundle;
  CHECK (id != NULL && strncmp (id, prefix, pl) == 0 && strlen (id) == pl + 8, "got `%s`, want %s<8 hex>",
         id ? id : "(null)", prefix);
  CHECK (id != NULL && strspn (id + pl, "0123456789abcdef") == 8, "`%s`", id ? id : "(null)");
  CHECK (id != NULL && mr_id_validate (id, &err) == 0, "`%s`: %s", id ? id : "(null)", ERRMSG (err));
  mr_error_free (&err);
  harness_case = NULL;
  free (id);
}

static int
test_id_from_bundle (void)
{
  check_id_from_bundle ("/srv/bundles/web", "web-");
  check_id_from_bundle ("/srv/bundles/web///", "web-");
  check_id_from_bundle ("relative/my bundle:1", "mybundle1-");
  check_id_from_bundle ("/srv/-lead", "lead-");
  check_id_from_bundle ("/", "bundle-");
  check_id_from_bundle ("/srv/été", "t-");
  check_id_from_bundle ("/srv/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-"); /* 40 kept */
  return 0;
}

static int
test_dir_create (void)
{
  mr_error_t err = NULL;
  int ret = 0, fd = -1, fd2 = -1;
  struct stat st;
  DIR *d = NULL;
  struct dirent *de;

  fd = mr_state_dir_create (root, "c1", &err);
  REQUIRE (fd >= 0, "%s", ERRMSG (err));
  CHECK (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  CHECK (stat (in_root ("c1"), &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0700, "mode %o",
         st.st_mode & 07777);
  CHECK (!lockable (in_root ("c1"), LOCK_SH), "the new directory is not locked");
  /* only the directory under its id is left (no hidden .new.* one) */
  d = opendir (root);
  REQUIRE (d != NULL);
  while ((de = readdir (d)))
    CHECK (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0 || strcmp (de->d_name, "c1") == 0,
           "`%s` in the state root", de->d_name);

  fd2 = mr_state_dir_create (root, "c1", &err);
  CHECK (fd2 < 0);
  REQUIRE (err != NULL);
  CHECK (err->errno_ == EEXIST);
  {
    char want[PATH_MAX + 64];
    snprintf (want, sizeof want, "container `c1` already exists (state in %s/c1): File exists", root);
    CHECK_STR (err->msg, want);
  }
  mr_error_free (&err);

  fd2 = mr_state_dir_create (root, "../escape", &err);
  CHECK (fd2 < 0 && err != NULL && strstr (err->msg, "invalid container id `../escape`"), "%s", ERRMSG (err));
  CHECK (access (in_root ("../escape"), F_OK) < 0, "an invalid id made a directory");
  mr_error_free (&err);

  close (fd);
  fd = -1;
  CHECK (lockable (in_root ("c1"), LOCK_EX), "the lock outlived the fd");
out:
  if (d)
    closedir (d);
  if (fd >= 0)
    close (fd);
  if (fd2 >= 0)
    close (fd2);
  mr_error_free (&err);
  return ret;
}

static int
test_dir_open (void)
{
  mr_error_t err = NULL;
  int ret = 0, a = -1, b = -1, x = -1;
  char target[PATH_MAX];

  a = mr_state_dir_open (root, "c1", false, &err);
  REQUIRE (a >= 0, "%s", ERRMSG (err));
  b = mr_state_dir_open (root, "c1", false, &err);
  REQUIRE (b >= 0, "a second shared lock: %s", ERRMSG (err));
  CHECK (!lockable (in_root ("c1"), LOCK_EX), "readers do not keep a writer out");
  close (a);
  close (b);
  a = b = -1;
  x = mr_state_dir_open (root, "c1", true, &err);
  REQUIRE (x >= 0, "%s", ERRMSG (err));
  CHECK (!lockable (in_root ("c1"), LOCK_SH), "a writer does not keep readers out");
  /* peek takes no lock: it works while the writer holds its lock */
  a = mr_state_dir_peek (root, "c1", &err);
  CHECK (a >= 0, "%s", ERRMSG (err));
  mr_error_free (&err);
  close (x);
  x = -1;

  CHECK (mr_state_dir_open (root, "nope", false, &err) < 0);
  CHECK_STR (err ? err->msg : NULL, "container `nope` does not exist: No such file or directory");
  mr_error_free (&err);
  CHECK (mr_state_dir_peek (root, "nope", &err) < 0);
  CHECK_STR (err ? err->msg : NULL, "container `nope` does not exist: No such file or directory");
  mr_error_free (&err);
  CHECK (mr_state_dir_open (root, "a/../c1", false, &err) < 0 && err
         && strstr (err->msg, "invalid container id"));
  mr_error_free (&err);

  /* root/id as a symlink to another directory is not followed */
  snprintf (target, sizeof target, "%s/elsewhere", base);
  REQUIRE (mkdir (target, 0700) == 0);
  REQUIRE (symlink (target, in_root ("link")) == 0);
  CHECK (mr_state_dir_open (root, "link", true, &err) < 0);
  CHECK (err && (err->errno_ == ELOOP || err->errno_ == ENOTDIR)
             && strstr (err->msg, "open the state directory"),
         "%s", ERRMSG (err));
  mr_error_free (&err);
  unlink (in_root ("link"));
  rmdir (target);
out:
  if (a >= 0)
    close (a);
  if (b >= 0)
    close (b);
  if (x >= 0)
    close (x);
  mr_error_free (&err);
  return ret;
}

/* Is a lock waiting (a "->" line of /proc/locks) on the inode `ino`? */
static bool
lock_waiter_on (ino_t ino)
{
  FILE *f = fopen ("/proc/locks", "re");
  char line[256], want[64];
  bool found = false;
  if (f == NULL)
    return false;
  snprintf (want, sizeof want, ":%llu ", (unsigned long long)ino);
  while (!found && fgets (line, sizeof line, f))
    found = strstr (line, "->") && strstr (line, want);
  fclose (f);
  return found;
}

struct opener
{
  const char *id;
  int held; /* the parent's locked fd: closed first, or this child would hold the lock too */
};

static int
child_opens (void *arg)
{
  const struct opener *o = arg;
  mr_error_t err = NULL;
  int fd;

  close (o->held);
  fd = mr_state_dir_open (root, o->id, true, &err);
  if (fd >= 0)
    {
      harness_say ("opened");
      return 1;
    }
  harness_say ("%d %s", err->errno_, err->msg);
  mr_error_free (&err);
  return 0;
}

/* A command that waited for the lock of a container deleted meanwhile is
 * told the container does not exist (not handed the dead directory). */
static int
test_deleted_while_waiting (void)
{
  struct harness_child c = { 0 };
  mr_error_t err = NULL;
  int ret = 0, fd = -1, st;
  struct stat sb;
  char said[512];

  fd = mr_state_dir_create (root, "c-del", &err);
  REQUIRE (fd >= 0, "%s", ERRMSG (err));
  REQUIRE (fstat (fd, &sb) == 0);
  harness_child_start (&c, child_opens, &(struct opener){ "c-del", fd });
  /* wait (no deadline but the test's) until the child is blocked on the lock */
  while (!lock_waiter_on (sb.st_ino))
    usleep (1000);
  REQUIRE (mr_state_dir_remove (root, "c-del", fd, &err) == 0, "%s", ERRMSG (err));
  close (fd);
  fd = -1;
  st = harness_child_wait (&c, false, said, sizeof said);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0, "the child: %s", said);
  CHECK (strcmp (said, "2 container `c-del` does not exist: No such file or directory") == 0, "the child: %s",
         said);
out:
  harness_child_finish (&c);
  if (fd >= 0)
    close (fd);
  mr_error_free (&err);
  return ret;
}

static int
test_dir_remove (void)
{
  mr_error_t err = NULL;
  int ret = 0, fd = -1, other = -1;
  char moved[PATH_MAX];

  fd = mr_state_dir_create (root, "c-rm", &err);
  REQUIRE (fd >= 0, "%s", ERRMSG (err));
  REQUIRE (mr_state_write (fd, &(struct mr_state){ .id = "c-rm" }, &err) == 0, "%s", ERRMSG (err));
  other = openat (fd, "start.sock", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  REQUIRE (other >= 0, "%s", strerror (errno));
  close (other);
  other = -1;
  REQUIRE (mr_state_dir_remove (root, "c-rm", fd, &err) == 0, "%s", ERRMSG (err));
  CHECK (access (in_root ("c-rm"), F_OK) < 0 && errno == ENOENT, "the directory is still there");
  /* gone already: nothing to do, no error */
  CHECK (mr_state_dir_remove (root, "c-rm", fd, &err) == 0, "%s", ERRMSG (err));
  mr_error_free (&err);
  close (fd);

  /* the id names another directory now (the held one was renamed away): left alone */
  fd = mr_state_dir_create (root, "c-rm", &err);
  REQUIRE (fd >= 0, "%s", ERRMSG (err));
  snprintf (moved, sizeof moved, "%s/moved", base);
  REQUIRE (rename (in_root ("c-rm"), moved) == 0);
  other = mr_state_dir_create (root, "c-rm", &err);
  REQUIRE (other >= 0, "%s", ERRMSG (err));
  CHECK (mr_state_dir_remove (root, "c-rm", fd, &err) == 0, "%s", ERRMSG (err));
  CHECK (access (in_root ("c-rm"), F_OK) == 0, "removed a directory it did not hold");
  CHECK (mr_state_dir_remove (root, "c-rm", other, &err) == 0, "%s", ERRMSG (err));
  rmdir (moved);
out:
  if (fd >= 0)
    close (fd);
  if (other >= 0)
    close (other);
  mr_error_free (&err);
  return ret;
}

static int
test_write_read (void)
{
  struct mr_kv ann[] = { { "org.example.key", "value" }, { "org.example.empty", "" } };
  struct mr_state_proc procs[] = {
    { .name = "init",
      .host_pid = 42000,
      .pins = "container=1,host=42000",
      .nspid = { 42000, 1 },
      .n_nspid = 2 },
    { .name = "svc", .host_pid = 42001, .pins = NULL, .nspid = { 42001, 7, 3 }, .n_nspid = 3 },
  };
  struct mr_state in = {
    .id = "c-rw",
    .bundle = "/srv/b",
    .rootfs = "/srv/b/rootfs",
    .cgroup_path = "/minirun/c-rw",
    .created = "2024-05-01T10:00:00.123456789Z",
    .status = MR_STATUS_RUNNING,
    .pid = 42000,
    .start_time = 123456789ULL,
    .detached = true,
    .init_exe_dev = 2049,
    .init_exe_ino = 77,
    .has_poststop_hooks = true,
    .owner = "root",
    .annotations = ann,
    .n_annotations = 2,
    .procs = procs,
    .n_procs = 2,
  };
  struct mr_state *out = NULL;
  mr_error_t err = NULL;
  int ret = 0, fd = -1;
  struct stat st;
  DIR *d = NULL;
  struct dirent *de;

  fd = mr_state_dir_create (root, "c-rw", &err);
  REQUIRE (fd >= 0, "%s", ERRMSG (err));
  CHECK (mr_state_read (fd, "c-rw", &out, &err) < 0);
  CHECK (err && err->errno_ == ENOENT, "%s", ERRMSG (err));
  CHECK_STR (err ? err->msg : NULL,
             "container `c-rw` is still being created (no state yet): No such file or directory");
  mr_error_free (&err);

  REQUIRE (mr_state_write (fd, &in, &err) == 0, "%s", ERRMSG (err));
  CHECK (fstatat (fd, "state.json", &st, 0) == 0 && (st.st_mode & 0777) == 0600, "mode %o",
         st.st_mode & 0777);
  d = opendir (in_root ("c-rw"));
  REQUIRE (d != NULL);
  while ((de = readdir (d)))
    CHECK (de->d_name[0] == '.' ? strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0
                                : strcmp (de->d_name, "state.json") == 0,
           "`%s` left next to state.json", de->d_name);
  REQUIRE (mr_state_read (fd, "c-rw", &out, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (out->id, "c-rw");
  CHECK_STR (out->bundle, "/srv/b");
  CHECK_STR (out->rootfs, "/srv/b/rootfs");
  CHECK_STR (out->cgroup_path, "/minirun/c-rw");
  CHECK_STR (out->created, "2024-05-01T10:00:00.123456789Z");
  CHECK_STR (out->owner, "root");
  CHECK (out->status == MR_STATUS_RUNNING && out->pid == 42000 && out->start_time == 123456789ULL);
  CHECK (out->detached && out->has_poststop_hooks && out->init_exe_dev == 2049 && out->init_exe_ino == 77);
  REQUIRE (out->n_annotations == 2, "%zu annotations", out->n_annotations);
  CHECK_STR (out->annotations[0].key, "org.example.key");
  CHECK_STR (out->annotations[0].value, "value");
  CHECK_STR (out->annotations[1].key, "org.example.empty");
  CHECK_STR (out->annotations[1].value, "");
  REQUIRE (out->n_procs == 2, "%zu processes", out->n_procs);
  CHECK_STR (out->procs[0].name, "init");
  CHECK_STR (out->procs[0].pins, "container=1,host=42000");
  CHECK (out->procs[0].host_pid == 42000 && out->procs[0].n_nspid == 2 && out->procs[0].nspid[1] == 1);
  CHECK_STR (out->procs[1].name, "svc");
  CHECK (out->procs[1].pins == NULL, "no pins read back as `%s`", out->procs[1].pins);
  CHECK (out->procs[1].n_nspid == 3 && out->procs[1].nspid[0] == 42001 && out->procs[1].nspid[2] == 3);
  mr_state_free (out);
  out = NULL;

  /* a state without an id, with an unknown status: the id asked for, stopped */
  REQUIRE (mr_write_file_atomic (fd, "state.json", "{\"status\": \"dancing\"}", 21, 0600, &err) == 0, "%s",
           ERRMSG (err));
  REQUIRE (mr_state_read (fd, "c-rw", &out, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (out->id, "c-rw");
  CHECK (out->status == MR_STATUS_STOPPED && out->pid == 0 && out->n_procs == 0 && out->bundle == NULL);
  mr_state_free (out);
  out = NULL;

  /* corrupt: the message says how to get rid of it */
  REQUIRE (mr_write_file_atomic (fd, "state.json", "{\"id\": ", 7, 0600, &err) == 0, "%s", ERRMSG (err));
  CHECK (mr_state_read (fd, "c-rw", &out, &err) < 0);
  CHECK (err && err->errno_ == EINVAL && strstr (err->msg, "the state file of container `c-rw` is corrupt (")
             && strstr (err->msg, "`minirun delete --force c-rw` removes it"),
         "%s", ERRMSG (err));
  mr_error_free (&err);
  REQUIRE (mr_state_dir_remove (root, "c-rw", fd, &err) == 0, "%s", ERRMSG (err));
out:
  if (d)
    closedir (d);
  mr_state_free (out);
  if (fd >= 0)
    close (fd);
  mr_error_free (&err);
  return ret;
}

static int
child_waits (void *arg)
{
  (void)arg;
  pause ();
  return 0;
}

static int
test_status (void)
{
  struct harness_child c = { 0 };
  struct mr_state st = { .id = "c-st" };
  struct stat exe;
  pid_t zombie;
  int ret = 0;

  /* no init yet */
  st.status = MR_STATUS_CREATING;
  CHECK (mr_state_status (&st) == MR_STATUS_CREATING);
  st.status = MR_STATUS_RUNNING;
  CHECK (mr_state_status (&st) == MR_STATUS_STOPPED);

  /* a live init with its start time */
  harness_child_start (&c, child_waits, NULL);
  st.pid = c.pid;
  st.start_time = mr_proc_start_time (c.pid);
  REQUIRE (st.start_time > 0);
  CHECK (mr_state_status (&st) == MR_STATUS_RUNNING);
  st.status = MR_STATUS_PAUSED;
  CHECK (mr_state_status (&st) == MR_STATUS_PAUSED);
  /* the pid is someone else's now (another start time), or the time was never recorded */
  st.status = MR_STATUS_RUNNING;
  st.start_time++;
  CHECK (mr_state_status (&st) == MR_STATUS_STOPPED);
  st.start_time = 0;
  CHECK (mr_state_status (&st) == MR_STATUS_STOPPED);
  st.start_time = mr_proc_start_time (c.pid);

  /* created: the init is still this binary until it execs */
  REQUIRE (stat ("/proc/self/exe", &exe) == 0);
  st.status = MR_STATUS_CREATED;
  st.init_exe_dev = exe.st_dev;
  st.init_exe_ino = exe.st_ino;
  CHECK (mr_state_status (&st) == MR_STATUS_CREATED);
  st.init_exe_ino = exe.st_ino + 1; /* it is another binary: it exec'd, a `start` died before saying so */
  CHECK (mr_state_status (&st) == MR_STATUS_RUNNING);
  st.init_exe_ino = 0; /* not recorded: the recorded status stands */
  CHECK (mr_state_status (&st) == MR_STATUS_CREATED);

  /* pidfd: only for the same process */
  {
    int fd = mr_state_open_pidfd (&st);
    if (fd < 0 && mr_pidfd_open (getpid (), 0) < 0 && errno == ENOSYS)
      printf ("  skipped the pidfd checks: pidfd_open: %s (a kernel before 5.3, or valgrind)\n",
              strerror (errno));
    else
      {
        CHECK (fd >= 0, "no pidfd for the live init");
        st.start_time++;
        CHECK (mr_state_open_pidfd (&st) < 0, "a pidfd for a reused pid");
        st.start_time--;
      }
    if (fd >= 0)
      close (fd);
  }

  /* a zombie is stopped */
  zombie = c.pid;
  kill (zombie, SIGKILL);
  {
    siginfo_t si;
    REQUIRE (waitid (P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT) == 0);
  }
  st.status = MR_STATUS_RUNNING;
  CHECK (mr_state_status (&st) == MR_STATUS_STOPPED, "a zombie init is %s",
         mr_status_name (mr_state_status (&st)));
out:
  harness_child_finish (&c);
  return ret;
}

static int
test_names_and_start_time (void)
{
  static const char *names[] = { "creating", "created", "running", "paused", "stopped" };
  char pid_max[32];
  FILE *f;
  long max = 0;

  for (int i = 0; i <= MR_STATUS_STOPPED; i++)
    CHECK_STR (mr_status_name ((enum mr_status)i), names[i]);
  CHECK_STR (mr_status_name ((enum mr_status)17), "unknown");
  CHECK (mr_proc_start_time (getpid ()) > 0);
  /* pid_max itself is never a pid */
  f = fopen ("/proc/sys/kernel/pid_max", "re");
  if (f && fgets (pid_max, sizeof pid_max, f))
    max = strtol (pid_max, NULL, 10);
  if (f)
    fclose (f);
  CHECK (max > 0 && mr_proc_start_time ((pid_t)max) == 0);
  return 0;
}

static int
test_oci_json (void)
{
  struct mr_kv ann[] = { { "k", "v" } };
  struct mr_state_proc procs[]
      = { { .name = "init", .host_pid = 500, .pins = "host=500", .nspid = { 500 }, .n_nspid = 1 } };
  struct mr_state st = { .id = "c-oci",
                         .bundle = "/b",
                         .rootfs = "/b/rootfs",
                         .created = "2024-05-01T10:00:00Z",
                         .owner = "root",
                         .pid = 500,
                         .status = MR_STATUS_RUNNING };
  json_t *j = NULL;
  char *s = NULL;
  int ret = 0;

  s = mr_state_to_oci_json (&st, MR_STATUS_RUNNING, false);
  REQUIRE (s != NULL);
  CHECK (strchr (s, '\n') == NULL, "compact: %s", s);
  j = json_loads (s, 0, NULL);
  REQUIRE (j != NULL, "%s", s);
  CHECK_STR (json_string_value (json_object_get (j, "ociVersion")), MR_OCI_VERSION);
  CHECK_STR (json_string_value (json_object_get (j, "id")), "c-oci");
  CHECK_STR (json_string_value (json_object_get (j, "status")), "running");
  CHECK (json_integer_value (json_object_get (j, "pid")) == 500);
  CHECK_STR (json_string_value (json_object_get (j, "bundle")), "/b");
  CHECK_STR (json_string_value (json_object_get (j, "rootfs")), "/b/rootfs");
  CHECK_STR (json_string_value (json_object_get (j, "created")), "2024-05-01T10:00:00Z");
  CHECK_STR (json_string_value (json_object_get (j, "owner")), "root");
  CHECK (json_is_object (json_object_get (j, "annotations"))
             && json_object_size (json_object_get (j, "annotations")) == 0,
         "annotations must be an object even when empty: %s", s);
  CHECK (json_object_get (j, "minirun") == NULL, "no processes, no minirun: %s", s);
  json_decref (j);
  free (s);

  /* stopped: pid 0, whatever was recorded; processes and annotations reported */
  st.annotations = ann;
  st.n_annotations = 1;
  st.procs = procs;
  st.n_procs = 1;
  s = mr_state_to_oci_json (&st, MR_STATUS_STOPPED, true);
  REQUIRE (s != NULL);
  CHECK (strchr (s, '\n') != NULL, "pretty: %s", s);
  j = json_loads (s, 0, NULL);
  REQUIRE (j != NULL, "%s", s);
  CHECK_STR (json_string_value (json_object_get (j, "status")), "stopped");
  CHECK (json_integer_value (json_object_get (j, "pid")) == 0
         && json_is_integer (json_object_get (j, "pid")));
  CHECK_STR (json_string_value (json_object_get (json_object_get (j, "annotations"), "k")), "v");
  {
    json_t *p = json_array_get (json_object_get (json_object_get (j, "minirun"), "processes"), 0);
    CHECK_STR (json_string_value (json_object_get (p, "name")), "init");
    CHECK (json_integer_value (json_object_get (p, "pid")) == 500);
    CHECK_STR (json_string_value (json_object_get (p, "pins")), "host=500");
    CHECK (json_array_size (json_object_get (p, "nspid")) == 1);
  }
out:
  json_decref (j);
  free (s);
  return ret;
}

static int
test_list (void)
{
  char missing[PATH_MAX];
  char **ids = NULL;
  size_t n = 7;
  mr_error_t err = NULL;
  int ret = 0;
  static const char *want[] = { "B", "a", "a.1", "b", "c1", "z" };

  snprintf (missing, sizeof missing, "%s/no-such-root", base);
  CHECK (mr_state_list (missing, &ids, &n, &err) == 0 && n == 0 && ids == NULL, "%s", ERRMSG (err));
  mr_error_free (&err);

  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strcmp (want[i], "c1") != 0) /* made by test_dir_create */
      REQUIRE (mkdir (in_root (want[i]), 0700) == 0, "%s", want[i]);
  REQUIRE (mkdir (in_root (".seccomp-cache"), 0700) == 0);
  REQUIRE (mkdir (in_root (".new.1.abcd"), 0700) == 0);
  REQUIRE (mkdir (in_root ("-bad"), 0700) == 0);
  REQUIRE (mr_state_list (root, &ids, &n, &err) == 0, "%s", ERRMSG (err));
  CHECK (n == sizeof want / sizeof want[0], "%zu ids", n);
  for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++)
    CHECK_STR (ids[i], want[i]);
  CHECK (ids[n] == NULL, "not NULL-terminated");
out:
  for (size_t i = 0; ids && i < n; i++)
    free (ids[i]);
  free (ids);
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strcmp (want[i], "c1") != 0)
      rmdir (in_root (want[i]));
  rmdir (in_root (".seccomp-cache"));
  rmdir (in_root (".new.1.abcd"));
  rmdir (in_root ("-bad"));
  mr_error_free (&err);
  return ret;
}

static int
test_owner (void)
{
  char *o = mr_state_owner ();
  struct passwd *pw = getpwuid (geteuid ());
  char num[32];

  snprintf (num, sizeof num, "%u", (unsigned)geteuid ());
  if (geteuid () == 0)
    CHECK_STR (o, "root");
  else
    CHECK_STR (o, pw ? pw->pw_name : num);
  free (o);
  return 0;
}

static int fds_before;

static int
test_no_fd_left (void)
{
  CHECK (count_fds () == fds_before, "%d fds open at the end, %d at the start", count_fds (), fds_before);
  return 0;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "ids", test_ids },
    { "ids from bundle paths", test_id_from_bundle },
    { "state directory: create", test_dir_create },
    { "state directory: open, lock, peek", test_dir_open },
    { "state directory: deleted while waiting for its lock", test_deleted_while_waiting },
    { "state directory: remove", test_dir_remove },
    { "state file: write and read", test_write_read },
    { "status from the facts, pidfd", test_status },
    { "status names, start time", test_names_and_start_time },
    { "OCI state JSON", test_oci_json },
    { "list", test_list },
    { "owner", test_owner },
    { "no fd left open", test_no_fd_left },
  };
  int r;

  fds_before = count_fds ();
  if (mkdtemp (base) == NULL)
    {
      perror ("mkdtemp");
      return 2;
    }
  snprintf (root, sizeof root, "%s/root/state", base); /* made by the first create (mkdir -p) */
  harness_timeout (60, remove_base);
  r = HARNESS_RUN (tests);
  remove_base ();
  return r;
}
