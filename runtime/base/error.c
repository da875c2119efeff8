/* error.c: the mr_error value (see include/minirun/error.h). Allocation
 * failure while building an error falls back to a static message so that an
 * out-of-memory condition never loses the errno. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minirun/error.h"
#include "base/log.h"

static struct mr_error oom_error = { ENOMEM, (char *) "out of memory while reporting an error" };

int
(mr_error_setv) (mr_error_t *err, int errno_, const char *fmt, va_list ap)
{
  char *msg = NULL, *full = NULL;
  struct mr_error *e;

  if (err == NULL)
    return -1;
  if (*err != NULL)
    mr_error_free (err);
  if (vasprintf (&msg, fmt, ap) < 0)
    {
      *err = &oom_error;
      return -1;
    }
  if (errno_ != 0)
    {
      if (asprintf (&full, "%s: %s", msg, strerror (errno_)) < 0)
        full = NULL;
      free (msg);
      msg = full;
      if (msg == NULL)
        {
          *err = &oom_error;
          return -1;
        }
    }
  e = malloc (sizeof *e);
  if (e == NULL)
    {
      free (msg);
      *err = &oom_error;
      return -1;
    }
  e->errno_ = errno_;
  e->msg = msg;
  *err = e;
  return -1;
}

int
(mr_error_set) (mr_error_t *err, int errno_, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = mr_error_setv (err, errno_, fmt, ap);
  va_end (ap);
  return ret;
}

int
(mr_error_set_explained) (mr_error_t *err, int errno_, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  mr_error_setv (err, 0, fmt, ap);
  va_end (ap);
  if (*err != &oom_error)
    (*err)->errno_ = errno_;
  return -1;
}

int
(mr_error_wrap) (mr_error_t *err, const char *fmt, ...)
{
  char *ctx = NULL, *full = NULL;
  va_list ap;

  if (err == NULL || *err == NULL || *err == &oom_error)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    ctx = NULL;
  va_end (ap);
  if (ctx == NULL)
    return -1;
  if (asprintf (&full, "%s: %s", ctx, (*err)->msg) >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = full;
    }
  free (ctx);
  return -1;
}

void
mr_error_free (mr_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  if (*err != &oom_error)
    {
      free ((*err)->msg);
      free (*err);
    }
  *err = NULL;
}

void
mr_error_report (mr_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  mr_log_error ("%s", (*err)->msg);
  mr_error_free (err);
}

void
mr_error_warn (mr_error_t *err, const char *prefix)
{
  if (err == NULL || *err == NULL)
    return;
  if (prefix)
    mr_log_warning ("%s: %s", prefix, (*err)->msg);
  else
    mr_log_warning ("%s", (*err)->msg);
  mr_error_free (err);
}
