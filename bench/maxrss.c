/* maxrss.c: run one command and write its peak resident set size.
 *   bench-maxrss OUTFILE PROGRAM [ARGS...]
 * writes "MAXRSS_KIB WAIT_STATUS FLOOR_KIB\n" to OUTFILE.  bench.py cannot
 * measure this itself: the kernel records the pre-exec address space's
 * high-water mark into the new program's ru_maxrss at execve, so a program
 * started from Python (fork or vfork) reports Python's RSS.  This helper is a
 * small static binary; its vfork child execs PROGRAM, so the floor is the
 * high-water mark of this helper's own address space (FLOOR_KIB, VmHWM
 * from /proc/self/status; not its ru_maxrss, which holds its spawner's).  The
 * figure is the maximum over PROGRAM and the children it reaped (wait4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* VmHWM of this process in KiB, or -1 (not inlined: main calls vfork). */
__attribute__ ((noinline)) static long
own_hwm (void)
{
  char line[256];
  long kib = -1;
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "VmHWM:", 6) == 0)
      kib = strtol (line + 6, NULL, 10);
  fclose (f);
  return kib;
}

int
main (int argc, char **argv)
{
  struct rusage ru;
  long floor_kib;
  int status;
  pid_t pid;
  FILE *f;

  if (argc < 3)
    {
      fputs ("usage: bench-maxrss OUTFILE PROGRAM [ARGS...]\n", stderr);
      return 125;
    }
  floor_kib = own_hwm ();
  pid = vfork ();
  if (pid == 0)
    {
      execv (argv[2], argv + 2);
      _exit (127);
    }
  if (pid < 0 || wait4 (pid, &status, 0, &ru) < 0)
    {
      perror ("bench-maxrss");
      return 125;
    }
  f = fopen (argv[1], "we");
  if (f == NULL)
    {
      perror (argv[1]);
      return 125;
    }
  fprintf (f, "%ld %d %ld\n", ru.ru_maxrss, status, floor_kib);
  return fclose (f) == 0 ? 0 : 125;
}
