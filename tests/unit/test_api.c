/* test_api.c: the public API as a program linking the library sees it.  It
 * is built with include/ alone on its include path (CMakeLists.txt), so it
 * can use nothing but include/minirun/ (and harness.h, next to it).  Checked:
 * the state root rule (root, rootless with and without XDG_RUNTIME_DIR), the
 * container id rules and the id derived from a bundle path, loading a bundle
 * apart from running it (tests/configs/valid-minimal.json, a relative rootfs
 * through a symlinked bundle, a config path given, a missing bundle, bad
 * JSON, `run BUNDLE`'s test for a bundle directory), the output handler
 * (a parse warning captured with nothing on stderr, escaping, debug only when
 * on, the --log JSON file still written, NULL restoring stderr), the clone3
 * set_tid probe behind `features` (the answers a seccomp filter makes clone3
 * give: EINVAL is set_tid, E2BIG, ENOSYS and EPERM are not; then the real
 * kernel), and, as root with examples/rootfs, a container run from a loaded
 * bundle (its exit status; nothing left under the state root). */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness.h"
#include "minirun/log.h"
#include "minirun/minirun.h"
#include "minirun/util.h"

static char tmpdir[] = "/tmp/minirun-test-api-XXXXXX";

static char *
path_in_tmp (const char *name)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", tmpdir, name) < 0)
    abort ();
  return p;
}

static bool
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && mr_write_all (fd, text, strlen (text)) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

/* ---------- the state root ---------- */

static int
test_state_root_rule (void)
{
  const char *saved = getenv ("XDG_RUNTIME_DIR");
  char *keep = saved ? strdup (saved) : NULL, *r, want[128], user_run[64];
  unsigned uid = (unsigned) geteuid ();
  int ret = 0;

  r = mr_state_root_default (false);
  CHECK_STR (r, "/run/minirun");
  CHECK_STR (r, MR_DEFAULT_STATE_ROOT);
  free (r);

  setenv ("XDG_RUNTIME_DIR", "/run/user/4242", 1);
  r = mr_state_root_default (true);
  CHECK_STR (r, "/run/user/4242/minirun");
  free (r);
  /* as root too: rootless is the caller's decision, XDG_RUNTIME_DIR is not */
  r = mr_state_root_default (false);
  CHECK_STR (r, "/run/minirun");
  free (r);

  /* empty or unset: /run/user/UID when writable, else /tmp/minirun-UID */
  snprintf (user_run, sizeof user_run, "/run/user/%u", uid);
  if (access (user_run, W_OK) == 0)
    snprintf (want, sizeof want, "%s/minirun", user_run);
  else
    snprintf (want, sizeof want, "/tmp/minirun-%u", uid);
  setenv ("XDG_RUNTIME_DIR", "", 1);
  r = mr_state_root_default (true);
  CHECK_STR (r, want);
  free (r);
  unsetenv ("XDG_RUNTIME_DIR");
  r = mr_state_root_default (true);
  CHECK_STR (r, want);
  free (r);

  if (keep)
    setenv ("XDG_RUNTIME_DIR", keep, 1);
  free (keep);
  return ret;
}

/* ---------- container ids ---------- */

static void
check_id (const char *id, bool valid, const char *msg_part)
{
  mr_error_t err = NULL;
  int r = mr_id_validate (id, &err);

  CHECK ((r == 0) == valid, "id `%s`: expected %s, got %s", id, valid ? "valid" : "invalid", ERRMSG (err));
  if (!valid && err)
    CHECK (strstr (err->msg, msg_part) != NULL, "id `%s`: message `%s` lacks `%s`", id, err->msg, msg_part);
  CHECK (valid || err != NULL, "id `%s`: refused without an error value", id);
  mr_error_free (&err);
}

static bool
hex8_suffix (const char *s, const char *prefix)
{
  size_t n = strlen (prefix);
  if (strncmp (s, prefix, n) != 0 || strlen (s) != n + 8)
    return false;
  return strspn (s + n, "0123456789abcdef") == 8;
}

static int
test_id_rules (void)
{
  char longest[MR_ID_MAX + 2];
  char *a, *b;
  int ret = 0;

  check_id ("web", true, NULL);
  check_id ("a1_b.c+d-e", true, NULL);
  check_id ("9", true, NULL);
  check_id ("", false, "container id is empty");
  check_id (NULL, false, "container id is empty");
  check_id ("-web", false, "invalid container id `-web`");
  check_id (".hidden", false, "invalid container id");
  check_id ("a/b", false, "no `/`");
  check_id ("..", false, "invalid container id");
  check_id ("sp ace", false, "invalid container id");
  memset (longest, 'x', MR_ID_MAX);
  longest[MR_ID_MAX] = '\0';
  check_id (longest, true, NULL);
  longest[MR_ID_MAX] = 'x';
  longest[MR_ID_MAX + 1] = '\0';
  check_id (longest, false, "at most 250 are allowed");

  /* run BUNDLE: "<basename>-<8 hex>", unique, always a valid id */
  a = mr_id_from_bundle ("/srv/bundles/my bundle!/");
  b = mr_id_from_bundle ("/srv/bundles/my bundle!/");
  CHECK (hex8_suffix (a, "mybundle-"), "derived id `%s`", a);
  CHECK (strcmp (a, b) != 0, "two derived ids are both `%s`", a);
  check_id (a, true, NULL);
  free (a);
  free (b);
  a = mr_id_from_bundle ("/");
  CHECK (hex8_suffix (a, "bundle-"), "derived id of / is `%s`", a);
  free (a);
  a = mr_id_from_bundle ("-._");
  CHECK (hex8_suffix (a, "bundle-"), "derived id of -._ is `%s`", a);
  free (a);
  a = mr_id_from_bundle ("relative/aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeee");
  CHECK (hex8_suffix (a, "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd-"), "derived id of a long name is `%s`", a);
  free (a);
  return ret;
}

/* ---------- bundles ---------- */

static int
test_bundle_load (void)
{
  char *bundle = path_in_tmp ("bundle"), *link = path_in_tmp ("link"), *cfg = path_in_tmp ("bundle/config.json");
  char *rootfs = path_in_tmp ("bundle/rootfs"), *other = path_in_tmp ("other.json"), *real = NULL;
  char *minimal = NULL;
  struct mr_bundle *b = NULL;
  mr_error_t err = NULL;
  size_t len = 0;
  int ret = 0;

  REQUIRE (mkdir (bundle, 0755) == 0 && mkdir (rootfs, 0755) == 0, "mkdir: %s", strerror (errno));
  REQUIRE (symlink (bundle, link) == 0, "symlink: %s", strerror (errno));
  real = realpath (bundle, NULL);
  REQUIRE (real != NULL);
  CHECK (!mr_bundle_is_dir (bundle), "a directory without config.json is not a bundle");

  /* tests/configs/valid-minimal.json as it is: an absolute root.path, no process */
  REQUIRE ((minimal = strdup (harness_slurp ("tests/configs/valid-minimal.json") ?: "")) != NULL);
  REQUIRE (minimal[0] != '\0', "cannot read tests/configs/valid-minimal.json (run from the source tree)");
  len = strlen (minimal);
  REQUIRE (write_file (cfg, minimal));
  CHECK (mr_bundle_is_dir (bundle) && mr_bundle_is_dir (link), "a directory with config.json is a bundle");
  CHECK (!mr_bundle_is_dir (cfg), "a file is not a bundle");
  REQUIRE (mr_bundle_load (link, NULL, &b, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (b->dir, real);
  {
    char want[4096];
    snprintf (want, sizeof want, "%s/config.json", real);
    CHECK_STR (b->config_path, want);
  }
  CHECK_STR (b->rootfs, "/var/lib/box/rootfs");
  CHECK (b->config_len == len && strcmp (b->config_data, minimal) == 0, "config bytes differ from the file");
  CHECK (b->config != NULL && !b->config->has_process, "the minimal config has no process");
  CHECK_STR (b->config->oci_version, "1.0.2");

  /* a process-less config loads, but there is nothing to run: refused
   * before anything exists (no state root is even created) */
  {
    char *state_root = path_in_tmp ("state-none");
    struct mr_run_opts o = { .state_root = state_root, .id = "api-none" };
    int status = -1;
    CHECK (mr_container_run_bundle (b, &o, &status, &err) < 0, "a config without process ran");
    CHECK (err && strstr (err->msg, "`process` is missing: there is nothing to run"), "%s", ERRMSG (err));
    mr_error_free (&err);
    CHECK (access (state_root, F_OK) < 0 && errno == ENOENT, "the state root was created");
    CHECK (mr_container_create_bundle (NULL, &o, &err) < 0 && err && strstr (err->msg, "mr_bundle_load"),
           "create without a bundle: %s", ERRMSG (err));
    mr_error_free (&err);
    free (state_root);
  }
  mr_bundle_free (b);
  b = NULL;

  /* a relative root.path is joined to the resolved bundle directory; an
   * explicit config path is read instead of <bundle>/config.json */
  REQUIRE (write_file (other, "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"},"
                              " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}}"));
  REQUIRE (mr_bundle_load (link, other, &b, &err) == 0, "%s", ERRMSG (err));
  CHECK_STR (b->config_path, other);
  {
    char want[4096];
    snprintf (want, sizeof want, "%s/rootfs", real);
    CHECK_STR (b->rootfs, want);
  }
  CHECK (b->config->has_process && b->config->process.n_args == 1, "the process of other.json");
  mr_bundle_free (b);
  b = NULL;

  /* errors: which bundle, which file and where, with the errno */
  CHECK (mr_bundle_load ("/nonexistent/minirun-bundle", NULL, &b, &err) < 0 && b == NULL);
  CHECK (err && err->errno_ == ENOENT, "errno %d", err ? err->errno_ : -1);
  CHECK (err && strcmp (err->msg, "bundle `/nonexistent/minirun-bundle`: No such file or directory") == 0, "%s",
         ERRMSG (err));
  mr_error_free (&err);
  REQUIRE (write_file (cfg, "{\"ociVersion\": \"1.1.0\",\n \"root\": {\"path\": 5}}"));
  CHECK (mr_bundle_load (bundle, NULL, &b, &err) < 0 && b == NULL);
  CHECK (err && strstr (err->msg, "config.json: root.path: expected a string"), "%s", ERRMSG (err));
  mr_error_free (&err);
  REQUIRE (write_file (cfg, "{\"ociVersion\": "));
  CHECK (mr_bundle_load (bundle, NULL, &b, &err) < 0 && b == NULL);
  CHECK (err && strstr (err->msg, "config.json:1:") && strstr (err->msg, "invalid JSON"), "%s", ERRMSG (err));
  mr_error_free (&err);

out:
  mr_bundle_free (b);
  mr_error_free (&err);
  unlink (cfg);
  unlink (other);
  unlink (link);
  rmdir (rootfs);
  rmdir (bundle);
  free (minimal);
  free (real);
  free (bundle);
  free (link);
  free (cfg);
  free (rootfs);
  free (other);
  return ret;
}

/* ---------- the output handler ---------- */

struct captured
{
  int calls;
  enum mr_log_level level;
  char msg[1024];
};

static void
capture (enum mr_log_level level, const char *msg, void *userdata)
{
  struct captured *c = userdata;
  c->calls++;
  c->level = level;
  snprintf (c->msg, sizeof c->msg, "%s", msg);
}

/* stderr goes to a memfd between begin and end; end returns what was written */
static int saved_stderr = -1, stderr_mem = -1;

static void
stderr_begin (void)
{
  fflush (stderr);
  stderr_mem = memfd_create ("stderr", MFD_CLOEXEC);
  saved_stderr = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (stderr_mem < 0 || saved_stderr < 0 || dup2 (stderr_mem, STDERR_FILENO) < 0)
    abort ();
}

static const char *
stderr_end (void)
{
  static char buf[4096];
  ssize_t n;

  fflush (stderr);
  dup2 (saved_stderr, STDERR_FILENO);
  close (saved_stderr);
  n = pread (stderr_mem, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  close (stderr_mem);
  return buf;
}

static const char cap_config[] = "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"},"
                                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\","
                                 " \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_BOGUS\"]}}}";

static int
test_output_handler (void)
{
  char *bundle = path_in_tmp ("hbundle"), *cfg = path_in_tmp ("hbundle/config.json");
  char *logfile = path_in_tmp ("log.json");
  struct captured c = { 0 };
  struct mr_bundle *b = NULL;
  mr_error_t err = NULL;
  const char *out;
  int ret = 0;

  REQUIRE (mkdir (bundle, 0755) == 0 && write_file (cfg, cap_config), "%s", strerror (errno));
  REQUIRE (mr_log_init (logfile, MR_LOG_JSON, false) == 0);

  /* a real warning of the library (an unknown capability is ignored, as the
   * spec says) reaches the handler and the log file, not stderr */
  mr_set_output_handler (capture, &c);
  stderr_begin ();
  ret = mr_bundle_load (bundle, NULL, &b, &err);
  out = stderr_end ();
  REQUIRE (ret == 0, "%s", ERRMSG (err));
  CHECK (c.calls == 1 && c.level == MR_LOG_LEVEL_WARNING, "calls %d level %d", c.calls, (int) c.level);
  CHECK (strstr (c.msg, "process.capabilities.bounding[1]: unknown capability \"CAP_BOGUS\" is ignored") == c.msg,
         "handler got `%s`", c.msg);
  CHECK (out[0] == '\0', "stderr got `%s`", out);

  /* messages are one escaped line without the "minirun: " prefix; errors
   * reported through mr_error_report come the same way */
  memset (&c, 0, sizeof c);
  stderr_begin ();
  mr_log_error ("two\nlines \x1b[31m");
  mr_error_set (&err, ENOENT, "open `%s`", "/x");
  mr_error_report (&err);
  out = stderr_end ();
  CHECK (c.calls == 2 && c.level == MR_LOG_LEVEL_ERROR, "calls %d", c.calls);
  CHECK_STR (c.msg, "open `/x`: No such file or directory");
  CHECK (out[0] == '\0', "stderr got `%s`", out);
  CHECK (err == NULL, "mr_error_report did not free the error");

  /* debug lines only when debug is on */
  memset (&c, 0, sizeof c);
  mr_log_debug ("not shown");
  CHECK (c.calls == (mr_log_debug_enabled () ? 1 : 0), "debug reached the handler %d times", c.calls);

  /* NULL: the default again, "minirun: warning: MSG" on stderr */
  mr_set_output_handler (NULL, NULL);
  memset (&c, 0, sizeof c);
  stderr_begin ();
  mr_error_set (&err, 0, "%s", "cleanup failed");
  mr_error_warn (&err, "delete");
  mr_output_stderr (MR_LOG_LEVEL_ERROR, "direct", NULL);
  out = stderr_end ();
  CHECK (c.calls == 0, "the old handler still called");
  CHECK_STR (out, "minirun: warning: delete: cleanup failed\nminirun: direct\n");
  CHECK_STR (mr_log_level_name (MR_LOG_LEVEL_WARNING), "warning");

  /* the --log JSON file got every message the handler did, and the last one */
  mr_log_close ();
  {
    const char *log = harness_slurp (logfile);
    CHECK (log && strstr (log, "\"level\":\"warning\"") && strstr (log, "unknown capability \\\"CAP_BOGUS\\\""),
           "log file: %s", log ? log : "(unreadable)");
    CHECK (log && strstr (log, "\"msg\":\"two\\\\nlines \\\\e[31m\""), "log file: %s", log ? log : "(unreadable)");
    CHECK (log && strstr (log, "\"msg\":\"delete: cleanup failed\""), "log file: %s", log ? log : "(unreadable)");
  }

out:
  mr_set_output_handler (NULL, NULL);
  mr_log_close ();
  mr_bundle_free (b);
  mr_error_free (&err);
  unlink (cfg);
  unlink (logfile);
  rmdir (bundle);
  free (bundle);
  free (cfg);
  free (logfile);
  return ret;
}

/* ---------- the clone3 set_tid probe, through `features` ---------- */

/* Does this process have clone3 at all?  A size below the first version is
 * EINVAL from the kernel; valgrind (3.19) does not know the call: ENOSYS. */
static bool
clone3_here (void)
{
  return syscall (SYS_clone3, NULL, (size_t) 0) < 0 && errno != ENOSYS;
}

static int
features_pin (void)
{
  char *j = mr_features_json ();
  int r = -1;

  if (j && strstr (j, "\"pidPinning\": true"))
    r = 1;
  else if (j && strstr (j, "\"pidPinning\": false"))
    r = 0;
  free (j);
  return r;
}

/* In a child: clone3 answers errno `e` (seccomp), then ask features. */
static int
probe_under_filter (void *arg)
{
  int e = *(int *) arg;
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);

  EXPECT (ctx != NULL, "seccomp_init\n");
  EXPECT (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (e), SCMP_SYS (clone3), 0) == 0, "seccomp_rule_add\n");
  EXPECT (seccomp_load (ctx) == 0, "seccomp_load\n");
  seccomp_release (ctx);
  return 10 + features_pin ();
}

static int
test_set_tid_probe (void)
{
  static const struct
  {
    int errno_;
    int pinning;
  } cases[] = { { EINVAL, 1 }, { E2BIG, 0 }, { ENOSYS, 0 }, { EPERM, 0 } };
  struct utsname u;
  int major = 0, minor = 0, ret = 0;

  if (!clone3_here ())
    {
      printf ("SKIP set_tid_probe: clone3 is ENOSYS in this process before any filter (valgrind?)\n");
      return 0;
    }
  /* first in children, each asking for the first time (the answer is kept
   * for the life of the process, and a child inherits it) */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct harness_child child;
      char msg[512];
      int st;

      harness_child_start (&child, probe_under_filter, (void *) &cases[i].errno_);
      st = harness_child_wait (&child, false, msg, sizeof msg);
      CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 10 + cases[i].pinning,
             "clone3 -> %s: pidPinning expected %d, child status %#x %s", strerror (cases[i].errno_),
             cases[i].pinning, st, msg);
    }
  /* the real kernel: set_tid came in 5.5 (the oracle only; minirun asks clone3) */
  if (uname (&u) == 0 && sscanf (u.release, "%d.%d", &major, &minor) == 2)
    CHECK (features_pin () == (major > 5 || (major == 5 && minor >= 5)), "features says pidPinning %d on %s",
           features_pin (), u.release);
  return ret;
}

/* ---------- a container from a loaded bundle (root) ---------- */

static int
test_run_loaded_bundle (void)
{
  char *bundle = path_in_tmp ("rbundle"), *cfg = path_in_tmp ("rbundle/config.json");
  char *state_root = path_in_tmp ("state"), *rootfs = realpath ("examples/rootfs", NULL), *json = NULL;
  struct mr_container_info *list = NULL;
  struct mr_bundle *b = NULL;
  mr_error_t err = NULL;
  size_t n = 99;
  int ret = 0, status = -1;

  if (geteuid () != 0 || rootfs == NULL || access ("examples/rootfs/bin/sh", X_OK) != 0)
    {
      printf ("SKIP run_loaded_bundle: running a container needs root and examples/rootfs (examples/mkrootfs.sh)\n");
      goto out;
    }
  if (!clone3_here ())
    {
      printf ("SKIP run_loaded_bundle: clone3 is ENOSYS in this process (valgrind?)\n");
      goto out;
    }
  if (asprintf (&json,
                "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"%s\", \"readonly\": true},"
                " \"process\": {\"args\": [\"sh\", \"-c\", \"test $$ = 1 && exit 3\"], \"cwd\": \"/\","
                "  \"env\": [\"PATH=/bin:/sbin\"]},"
                " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}],"
                " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"ipc\"},"
                "  {\"type\": \"uts\"}]}}",
                rootfs)
      < 0)
    abort ();
  REQUIRE (mkdir (bundle, 0755) == 0 && write_file (cfg, json), "%s", strerror (errno));
  REQUIRE (mr_bundle_load (bundle, NULL, &b, &err) == 0, "%s", ERRMSG (err));
  {
    struct mr_run_opts o = { .state_root = state_root, .id = "api-run", .bundle = "/nonexistent" };
    /* the bundle's directory wins over opts->bundle */
    REQUIRE (mr_container_run_bundle (b, &o, &status, &err) == 0, "%s", ERRMSG (err));
  }
  CHECK (status == 3, "the container's exit status is %d, expected 3 (sh as pid 1)", status);
  REQUIRE (mr_container_list (state_root, &list, &n, &err) == 0, "%s", ERRMSG (err));
  CHECK (n == 0, "%zu containers left under the state root", n);

out:
  if (list)
    mr_container_list_free (list, n);
  mr_bundle_free (b);
  mr_error_free (&err);
  unlink (cfg);
  rmdir (bundle);
  rmdir (state_root);
  free (json);
  free (rootfs);
  free (bundle);
  free (cfg);
  free (state_root);
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "state_root_rule", test_state_root_rule },   { "id_rules", test_id_rules },
    { "bundle_load", test_bundle_load },           { "output_handler", test_output_handler },
    { "set_tid_probe", test_set_tid_probe },       { "run_loaded_bundle", test_run_loaded_bundle },
  };
  int r;

  if (mkdtemp (tmpdir) == NULL)
    {
      perror ("mkdtemp");
      return 2;
    }
  r = HARNESS_RUN (tests);
  if (rmdir (tmpdir) < 0)
    {
      printf ("FAIL: %s is not empty after the tests: %s\n", tmpdir, strerror (errno));
      r = 1;
    }
  return r;
}
