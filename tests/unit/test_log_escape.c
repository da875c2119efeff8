/* test_log_escape.c: mr_log_escape (every control character escaped, UTF-8
 * kept, the UTF-8 C1 controls escaped, measuring with a NULL buffer, and
 * truncation that never cuts an escape in two), and the lines that really
 * reach stderr and the --log file (text and JSON) for an error whose value
 * holds ESC sequences, a forged "minirun:" line and invalid UTF-8. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "base/log.h"

/* The escape of in, in a fresh buffer of the exact size it measures. */
static char *
escaped (const char *in)
{
  size_t n = mr_log_escape (NULL, 0, in);
  char *out = malloc (n + 1);

  if (out == NULL)
    exit (2);
  CHECK (mr_log_escape (out, n + 1, in) == n, "measured and written lengths differ for \"%s\"", in);
  CHECK (strlen (out) == n, "escape of \"%s\" is %zu bytes, measured %zu", in, strlen (out), n);
  return out;
}

#define CHECK_ESCAPE(in, want)                                                                               \
  do                                                                                                         \
    {                                                                                                        \
      char *got_ = escaped (in);                                                                             \
      CHECK_STR (got_, want);                                                                                \
      free (got_);                                                                                           \
    }                                                                                                        \
  while (0)

static int
test_escapes (void)
{
  char all[32], *got;
  int ret = 0;

  CHECK_ESCAPE ("", "");
  CHECK_ESCAPE ("plain `text` \"quoted\" 'x' \\ / 100%", "plain `text` \"quoted\" 'x' \\ / 100%");
  CHECK_ESCAPE ("a\nb", "a\\nb");
  CHECK_ESCAPE ("a\tb\rc", "a\\tb\\rc");
  CHECK_ESCAPE ("\x1b[31mred\x1b[0m", "\\e[31mred\\e[0m");
  CHECK_ESCAPE ("bell\a nul-ish\x01 del\x7f us\x1f", "bell\\x07 nul-ish\\x01 del\\x7f us\\x1f");
  CHECK_ESCAPE ("name\nminirun: forged", "name\\nminirun: forged");
  /* UTF-8 text stays as it is; its C1 controls (U+009B, CSI) do not. */
  CHECK_ESCAPE ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
  CHECK_ESCAPE ("\xc2\x9b" "31m \xc2\x85 \xc2\xa0", "\\u009b31m \\u0085 \xc2\xa0");
  /* Invalid UTF-8 is copied (a lone 0x9b is no terminal's CSI in UTF-8). */
  CHECK_ESCAPE ("\xff\xfe \x9b \xc2", "\xff\xfe \x9b \xc2");

  /* Every byte 1..31 comes out as printable text. */
  for (int i = 1; i < 32; i++)
    all[i - 1] = (char) i;
  all[31] = '\0';
  got = escaped (all);
  for (const char *p = got; *p; p++)
    CHECK ((unsigned char) *p >= 0x20 && *p != 0x7f, "control byte 0x%02x left in \"%s\"", *p, got);
  free (got);
  return ret;
}

static int
test_truncation (void)
{
  char buf[16];
  size_t n;
  int ret = 0;

  /* "ab\e" needs 4 bytes + NUL: with 4 the escape does not fit, so the
   * result ends before it, never with a lone backslash. */
  n = mr_log_escape (buf, 4, "ab\x1b" "cd");
  CHECK (n == 6, "measured %zu, want 6", n);
  CHECK_STR (buf, "ab");
  n = mr_log_escape (buf, 5, "ab\x1b" "cd");
  CHECK_STR (buf, "ab\\e");
  n = mr_log_escape (buf, 5, "a\x01" "b");
  CHECK_STR (buf, "a");
  CHECK (n == 6, "measured %zu, want 6", n);
  n = mr_log_escape (buf, 6, "a\x01" "b");
  CHECK_STR (buf, "a\\x01");
  n = mr_log_escape (buf, 1, "\n");
  CHECK_STR (buf, "");
  memset (buf, 'z', sizeof buf);
  n = mr_log_escape (buf, 0, "abc");
  CHECK (n == 3 && buf[0] == 'z', "outlen 0 wrote into the buffer");
  return ret;
}

static const char hostile[] = "pid namespace \"x\x1b[31mRED\x1b[0m\nminirun: forged\" \xff";
static const char hostile_escaped[] = "pid namespace \"x\\e[31mRED\\e[0m\\nminirun: forged\" \xff";

/* Report an error whose value is hostile with stderr and the log file in
 * files; return what each got. */
static int
report_hostile (enum mr_log_format format, char **err_out, char **log_out)
{
  char errpath[] = "/tmp/mr-escape-err-XXXXXX", logpath[] = "/tmp/mr-escape-log-XXXXXX";
  int efd = mkstemp (errpath), lfd = mkstemp (logpath), saved = dup (STDERR_FILENO);
  mr_error_t err = NULL;
  int ret = -1;

  if (efd < 0 || lfd < 0 || saved < 0)
    goto out;
  if (mr_log_init (logpath, format, false) < 0)
    goto out;
  fflush (stderr);
  if (dup2 (efd, STDERR_FILENO) < 0)
    goto out;
  mr_error_set (&err, 0, "config.json: minirun.processes[0]: %s", hostile);
  mr_error_report (&err);
  mr_error_set (&err, 0, "%s", hostile);
  mr_error_warn (&err, "hooks");
  dup2 (saved, STDERR_FILENO);
  mr_log_close ();
  /* harness_slurp: a static buffer, the final newline dropped */
  *err_out = harness_slurp (errpath) ? strdup (harness_slurp (errpath)) : NULL;
  *log_out = harness_slurp (logpath) ? strdup (harness_slurp (logpath)) : NULL;
  ret = *err_out && *log_out ? 0 : -1;
out:
  if (saved >= 0)
    {
      dup2 (saved, STDERR_FILENO);
      close (saved);
    }
  if (efd >= 0)
    close (efd);
  if (lfd >= 0)
    close (lfd);
  unlink (errpath);
  unlink (logpath);
  return ret;
}

static int
test_stderr_and_text_log (void)
{
  char *err_text = NULL, *log_text = NULL;
  char want[512];
  int ret = 0;

  REQUIRE (report_hostile (MR_LOG_TEXT, &err_text, &log_text) == 0, "could not capture the output");
  snprintf (want, sizeof want, "minirun: config.json: minirun.processes[0]: %s\nminirun: warning: hooks: %s",
            hostile_escaped, hostile_escaped);
  CHECK_STR (err_text, want);
  snprintf (want, sizeof want, "error: config.json: minirun.processes[0]: %s\nwarning: hooks: %s",
            hostile_escaped, hostile_escaped);
  CHECK_STR (log_text, want);
  CHECK (strchr (err_text, 0x1b) == NULL && strchr (log_text, 0x1b) == NULL, "raw ESC printed");
out:
  free (err_text);
  free (log_text);
  return ret;
}

static int
test_json_log (void)
{
  char *err_text = NULL, *log_text = NULL, *line, *save = NULL;
  const char *levels[] = { "error", "warning" };
  char want[512];
  int lines = 0, ret = 0;

  REQUIRE (report_hostile (MR_LOG_JSON, &err_text, &log_text) == 0, "could not capture the output");
  CHECK (strchr (log_text, 0x1b) == NULL, "raw ESC in the JSON log");
  for (line = strtok_r (log_text, "\n", &save); line; line = strtok_r (NULL, "\n", &save), lines++)
    {
      json_error_t jerr;
      json_t *obj = json_loads (line, 0, &jerr);
      const char *msg;

      CHECK (obj != NULL, "JSON log line %d does not parse: %s: %s", lines, jerr.text, line);
      if (obj == NULL || lines >= 2)
        {
          json_decref (obj);
          continue;
        }
      CHECK_STR (json_string_value (json_object_get (obj, "level")), levels[lines]);
      msg = json_string_value (json_object_get (obj, "msg"));
      /* What conmon shows after decoding: the escaped text, with the
       * invalid byte as \xff so that the line is valid JSON at all. */
      snprintf (want, sizeof want, "%s%s", lines == 0 ? "config.json: minirun.processes[0]: " : "hooks: ",
                "pid namespace \"x\\e[31mRED\\e[0m\\nminirun: forged\" \\xff");
      CHECK_STR (msg, want);
      json_decref (obj);
    }
  CHECK (lines == 2, "%d JSON log lines, want 2", lines);
out:
  free (err_text);
  free (log_text);
  return ret;
}

int
main (void)
{
  static const struct harness_test tests[] = {
    { "escapes", test_escapes },
    { "truncation", test_truncation },
    { "stderr and text log", test_stderr_and_text_log },
    { "json log", test_json_log },
  };
  return HARNESS_RUN (tests);
}
