/* log.c: error, warning and debug messages to stderr and the --log file.
 * The JSON format is runc's, one object per line, because conmon reads the
 * last "error" line of the log to tell the user why a container failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"

static int log_fd = -1;
static enum mr_log_format log_format = MR_LOG_TEXT;
static bool log_debug;

int
mr_log_init (const char *path, enum mr_log_format format, bool debug)
{
  log_format = format;
  log_debug = debug || getenv ("MINIRUN_DEBUG") != NULL;
  if (path == NULL || *path == '\0')
    return 0;
  log_fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      fprintf (stderr, "minirun: open log file `%s`: %s\n", path, strerror (errno));
      return -1;
    }
  return 0;
}

void
mr_log_close (void)
{
  if (log_fd >= 0)
    close (log_fd);
  log_fd = -1;
}

bool
mr_log_debug_enabled (void)
{
  return log_debug;
}

static void
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      buf += n;
      len -= (size_t) n;
    }
}

static void
log_to_file (const char *level, const char *msg)
{
  char line[8192];
  int n;

  if (log_format == MR_LOG_JSON)
    {
      char stamp[64];
      struct timespec ts;
      struct tm tm;
      json_t *obj;
      char *dump;

      clock_gettime (CLOCK_REALTIME, &ts);
      gmtime_r (&ts.tv_sec, &tm);
      strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
      obj = json_pack ("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", stamp);
      if (obj == NULL)
        return;
      dump = json_dumps (obj, JSON_COMPACT);
      json_decref (obj);
      if (dump == NULL)
        return;
      write_all (log_fd, dump, strlen (dump));
      write_all (log_fd, "\n", 1);
      free (dump);
      return;
    }
  n = snprintf (line, sizeof line, "%s: %s\n", level, msg);
  if (n > 0)
    write_all (log_fd, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

static void vlog (const char *level, bool to_stderr, const char *fmt, va_list ap) __attribute__ ((format (printf, 3, 0)));

static void
vlog (const char *level, bool to_stderr, const char *fmt, va_list ap)
{
  char msg[4096];

  vsnprintf (msg, sizeof msg, fmt, ap);
  if (log_fd >= 0)
    log_to_file (level, msg);
  if (to_stderr)
    {
      char line[4200];
      int n = snprintf (line, sizeof line, "minirun: %s%s\n",
                        strcmp (level, "error") == 0 ? "" : strcmp (level, "warning") == 0 ? "warning: " : "debug: ",
                        msg);
      if (n > 0)
        write_all (STDERR_FILENO, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
    }
}

void
mr_log_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog ("error", true, fmt, ap);
  va_end (ap);
}

void
mr_log_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog ("warning", true, fmt, ap);
  va_end (ap);
}

void
mr_log_debug (const char *fmt, ...)
{
  va_list ap;
  if (!log_debug)
    return;
  va_start (ap, fmt);
  vlog ("debug", true, fmt, ap);
  va_end (ap);
}
