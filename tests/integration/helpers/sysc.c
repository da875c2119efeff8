/* sysc.c: make one raw system call and say how it went, for the seccomp
 * tests (rules with argument conditions).
 *
 *   sysc personality VALUE     personality(VALUE)
 *   sysc kill SIG              kill(getpid(), SIG) with SIG ignored
 *
 * Prints "ok RET" (exit 0) or "err ERRNO MESSAGE" (exit 1). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
report (long ret)
{
  if (ret < 0)
    {
      int e = errno;
      printf ("err %d %s\n", e, strerror (e));
      return 1;
    }
  printf ("ok %ld\n", ret);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "personality") == 0)
    return report (syscall (SYS_personality, strtoul (argv[2], NULL, 0)));
  if (argc == 3 && strcmp (argv[1], "kill") == 0)
    {
      int sig = atoi (argv[2]);
      signal (sig, SIG_IGN);
      return report (syscall (SYS_kill, getpid (), sig));
    }
  fprintf (stderr, "usage: sysc personality VALUE | sysc kill SIG\n");
  return 2;
}
