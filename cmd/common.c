/* common.c: helpers shared by the commands: usage and argument checks,
 * error reporting, checked allocation. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "minirun/error.h"

int
cmd_usage (const char *usage, bool error)
{
  fputs (usage, error ? stderr : stdout);
  return error ? MR_EXIT_FAILURE : 0;
}

const char *
cmd_one_arg (int argc, char **argv, const char *usage)
{
  extern int optind;
  if (argc - optind != 1)
    {
      fprintf (stderr, "minirun %s: expected exactly one container id, got %d arguments\n", argv[0], argc - optind);
      fputs (usage, stderr);
      return NULL;
    }
  return argv[optind];
}

int
cmd_fail (void *err)
{
  mr_error_report ((mr_error_t *) err);
  return MR_EXIT_FAILURE;
}

const char *
cmd_id_only (int argc, char **argv, const char *usage, int *exit_code)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  const char *id;
  int c;

  while ((c = getopt_long_only (argc, argv, "+h", opts, NULL)) != -1)
    {
      *exit_code = cmd_usage (usage, c != 'h');
      return NULL;
    }
  id = cmd_one_arg (argc, argv, usage);
  if (id == NULL)
    *exit_code = MR_EXIT_FAILURE;
  return id;
}

static void __attribute__ ((noreturn))
cmd_oom (void)
{
  static const char msg[] = "minirun: out of memory\n";
  (void) !write (STDERR_FILENO, msg, sizeof msg - 1);
  abort ();
}

void *
cmd_xrealloc (void *p, size_t size)
{
  p = realloc (p, size ? size : 1);
  if (p == NULL)
    cmd_oom ();
  return p;
}

char *
cmd_xstrdup (const char *s)
{
  char *r = strdup (s);
  if (r == NULL)
    cmd_oom ();
  return r;
}

char *
cmd_xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n < 0)
    cmd_oom ();
  return s;
}
