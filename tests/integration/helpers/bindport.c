/* bindport.c: bind a TCP socket to a port on all addresses, for the
 * capability tests (ports below 1024 need CAP_NET_BIND_SERVICE).
 *
 *   bindport PORT
 *
 * Prints "bound PORT" (exit 0) or "bind PORT: MESSAGE" (exit 1). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct sockaddr_in sa;
  int fd, port;

  if (argc != 2)
    {
      fprintf (stderr, "usage: bindport PORT\n");
      return 2;
    }
  port = atoi (argv[1]);
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      printf ("socket: %s\n", strerror (errno));
      return 1;
    }
  memset (&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons ((unsigned short)port);
  sa.sin_addr.s_addr = htonl (INADDR_ANY);
  if (bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    {
      printf ("bind %d: %s\n", port, strerror (errno));
      return 1;
    }
  printf ("bound %d\n", port);
  close (fd);
  return 0;
}
