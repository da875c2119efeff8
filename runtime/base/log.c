/* log.c: error, warning and debug messages to the output handler (stderr by
 * default, see minirun/log.h) and the --log file.  The JSON format is runc's,
 * one object per line, because conmon reads the last "error" line of the log
 * to tell the user why a container failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/log.h"

static int log_fd = -1;
static enum mr_log_format log_format = MR_LOG_TEXT;
static bool log_debug;
static mr_output_handler output_fn; /* NULL: mr_output_stderr, written inline */
static void *output_data;

void
mr_set_output_handler (mr_output_handler fn, void *userdata)
{
  output_fn = fn;
  output_data = fn ? userdata : NULL;
}

static const char *const level_names[] = { "error", "warning", "debug" };
static const char *const level_prefixes[] = { "minirun: ", "minirun: warning: ", "minirun: debug: " };

const char *
mr_log_level_name (enum mr_log_level level)
{
  return (unsigned) level < sizeof level_names / sizeof level_names[0] ? level_names[level] : "error";
}

static const char *
level_prefix (enum mr_log_level level)
{
  return (unsigned) level < sizeof level_prefixes / sizeof level_prefixes[0] ? level_prefixes[level]
                                                                             : level_prefixes[0];
}

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
      mr_log_error ("open log file `%s`: %s", path, strerror (errno));
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

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), 0 if there is none. */
static size_t
utf8_len (const unsigned char *p)
{
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n;

  if (*p < 0x80)
    return 1;
  if (*p >= 0xc2 && *p <= 0xdf)
    n = 2;
  else if (*p >= 0xe0 && *p <= 0xef)
    {
      n = 3;
      lo = *p == 0xe0 ? 0xa0 : 0x80;
      hi = *p == 0xed ? 0x9f : 0xbf;
    }
  else if (*p >= 0xf0 && *p <= 0xf4)
    {
      n = 4;
      lo = *p == 0xf0 ? 0x90 : 0x80;
      hi = *p == 0xf4 ? 0x8f : 0xbf;
    }
  else
    return 0;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xbf)
      return 0;
  return n;
}

/* msg with each byte that is not part of valid UTF-8 written as \xNN: a JSON
 * string must be UTF-8, and a message must not vanish from the log because a
 * path in it is not.  NULL when out of memory. */
static char *
utf8_escape (const char *msg)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *) msg;
  char *out = malloc (strlen (msg) * 4 + 1), *o = out;

  if (out == NULL)
    return NULL;
  while (*p)
    {
      size_t n = utf8_len (p);
      if (n == 0)
        {
          *o++ = '\\';
          *o++ = 'x';
          *o++ = hex[*p >> 4];
          *o++ = hex[*p & 0xf];
          p++;
          continue;
        }
      memcpy (o, p, n);
      o += n;
      p += n;
    }
  *o = '\0';
  return out;
}

static void
log_to_file (const char *level, const char *msg)
{
  char *line = NULL;

  if (log_format == MR_LOG_JSON)
    {
      char stamp[64];
      struct timespec ts;
      struct tm tm;
      json_t *obj;
      char *dump;

      clock_gettime (CLOCK_REALTIME, &ts);
      gmtime_r (&ts.tv_sec, &tm);
      if (strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        stamp[0] = '\0'; /* cannot happen with this format and size; an empty time is still valid JSON */
      obj = json_pack ("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", stamp);
      if (obj == NULL)
        {
          /* Not UTF-8: log it with the stray bytes escaped. */
          cleanup_free char *safe = utf8_escape (msg);
          if (safe == NULL)
            return;
          /* the analyzer does not model cleanup_free: `safe` is freed at the brace */
          obj = json_pack ("{s:s, s:s, s:s}", "level", level, "msg", safe, "time", stamp); // NOLINT(clang-analyzer-unix.Malloc)
          if (obj == NULL)
            return;
        }
      dump = json_dumps (obj, JSON_COMPACT);
      json_decref (obj);
      if (dump == NULL)
        return;
      write_all (log_fd, dump, strlen (dump));
      write_all (log_fd, "\n", 1);
      free (dump);
      return;
    }
  /* One write per line, however long the escaped message is. */
  if (asprintf (&line, "%s: %s\n", level, msg) < 0)
    return;
  write_all (log_fd, line, strlen (line));
  free (line);
}

size_t
mr_log_escape (char *out, size_t outlen, const char *in)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *) in;
  size_t pos = 0, written = 0;
  bool cut = false;

  for (; *p; p++)
    {
      char esc[8];
      size_t n;

      switch (*p)
        {
        case '\n':
          memcpy (esc, "\\n", n = 2);
          break;
        case '\t':
          memcpy (esc, "\\t", n = 2);
          break;
        case '\r':
          memcpy (esc, "\\r", n = 2);
          break;
        case 0x1b:
          memcpy (esc, "\\e", n = 2);
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            {
              esc[0] = '\\';
              esc[1] = 'x';
              esc[2] = hex[*p >> 4];
              esc[3] = hex[*p & 0xf];
              n = 4;
            }
          else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            {
              /* U+0080..U+009F, the C1 controls (U+009B is CSI for many
               * terminals), encoded in UTF-8. */
              memcpy (esc, "\\u00", 4); // NOLINT(bugprone-not-null-terminated-result): an escape, n bytes long
              esc[4] = hex[p[1] >> 4];
              esc[5] = hex[p[1] & 0xf];
              n = 6;
              p++;
            }
          else
            {
              esc[0] = (char) *p;
              n = 1;
            }
        }
      /* Never cut an escape sequence in two: a truncated result ends
       * before the first one that does not fit whole. */
      if (!cut && pos + n < outlen)
        {
          memcpy (out + pos, esc, n);
          written = pos + n;
        }
      else
        cut = true;
      pos += n;
    }
  if (outlen > 0)
    out[written] = '\0';
  return pos;
}

void
mr_output_stderr (enum mr_log_level level, const char *msg, void *userdata)
{
  const char *prefix = level_prefix (level);
  size_t plen = strlen (prefix), mlen = strlen (msg);
  char small[1024], *line = plen + mlen + 1 <= sizeof small ? small : malloc (plen + mlen + 1);

  if (line == NULL)
    {
      /* no memory for one buffer: the same bytes in three writes */
      write_all (STDERR_FILENO, prefix, plen);
      write_all (STDERR_FILENO, msg, mlen);
      write_all (STDERR_FILENO, "\n", 1);
      return;
    }
  /* one write of plen + mlen + 1 bytes, not a string */
  memcpy (line, prefix, plen);       // NOLINT(bugprone-not-null-terminated-result)
  memcpy (line + plen, msg, mlen);   // NOLINT(bugprone-not-null-terminated-result)
  line[plen + mlen] = '\n';
  write_all (STDERR_FILENO, line, plen + mlen + 1);
  if (line != small)
    free (line);
}

static void vlog (enum mr_log_level level, const char *fmt, va_list ap) __attribute__ ((format (printf, 2, 0)));

/* Every message goes through here, escaped as a whole: the values a message
 * echoes (config names, paths, env, hook output) can hold ESC sequences that
 * would paint the operator's terminal and newlines that would forge a second
 * "minirun:" line in a log, and no call site has to remember to escape them.
 * A message is therefore always one line; something that needs several lines
 * logs each of them with its own call.  The JSON log gets the escaped text
 * too: conmon and containerd print its "msg" to a terminal after decoding. */
static void
vlog (enum mr_log_level level, const char *fmt, va_list ap)
{
  const char *prefix = level_prefix (level);
  char raw[4096], fallback[1024];
  size_t plen = strlen (prefix), cap, len;
  char *heap, *line;

  (void) vsnprintf (raw, sizeof raw, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): the callers va_start it
  /* "<prefix><escaped msg>\n" in one buffer, written with one write(2) so
   * that lines of concurrent minirun processes do not interleave. */
  cap = plen + mr_log_escape (NULL, 0, raw) + 2;
  heap = malloc (cap);
  line = heap ? heap : fallback;
  if (heap == NULL)
    cap = sizeof fallback;
  memcpy (line, prefix, plen);
  mr_log_escape (line + plen, cap - plen - 1, raw);
  len = plen + strlen (line + plen);
  if (log_fd >= 0)
    log_to_file (mr_log_level_name (level), line + plen);
  if (output_fn)
    output_fn (level, line + plen, output_data);
  else
    {
      line[len] = '\n';
      write_all (STDERR_FILENO, line, len + 1);
    }
  free (heap);
}

void
mr_log_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog (MR_LOG_LEVEL_ERROR, fmt, ap);
  va_end (ap);
}

void
mr_log_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog (MR_LOG_LEVEL_WARNING, fmt, ap);
  va_end (ap);
}

void
mr_log_debug (const char *fmt, ...)
{
  va_list ap;
  if (!log_debug)
    return;
  va_start (ap, fmt);
  vlog (MR_LOG_LEVEL_DEBUG, fmt, ap);
  va_end (ap);
}
