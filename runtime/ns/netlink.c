/* netlink.c: the network setup minirun does itself.  A new network
 * namespace has only `lo`, always ifindex 1 and down; the container expects
 * it up.  The default build asks with an RTM_NEWLINK request through libmnl;
 * the static build (MINIRUN_STATIC: Debian ships no libmnl.a) sets the flag
 * with the SIOCSIFFLAGS ioctl, the interface ifconfig uses. */
#include <errno.h>
#include <linux/if.h>
#include <string.h>

#include "ns/ns.h"

#ifdef MINIRUN_STATIC
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
mr_netlink_loopback_up (mr_error_t *err)
{
  struct ifreq ifr;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), saved;

  if (fd < 0)
    return mr_error_set (err, errno, "open a socket to bring the loopback interface up");
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) == 0)
    {
      ifr.ifr_flags |= IFF_UP;
      if (ioctl (fd, SIOCSIFFLAGS, &ifr) == 0)
        {
          close (fd);
          return 0;
        }
    }
  saved = errno;
  close (fd);
  return mr_error_set (err, saved, "bring the loopback interface up (SIOCSIFFLAGS on `lo`)");
}

#else
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <time.h>

#include <libmnl/libmnl.h>

int
mr_netlink_loopback_up (mr_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct mnl_socket *nl;
  struct nlmsghdr *nlh;
  struct ifinfomsg *ifm;
  unsigned int seq = (unsigned int) time (NULL), portid;
  ssize_t n;
  int ret = -1;

  nl = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == NULL)
    return mr_error_set (err, errno, "open rtnetlink socket");
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      mr_error_set (err, errno, "bind rtnetlink socket");
      goto out;
    }
  portid = mnl_socket_get_portid (nl);

  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = 1; /* lo */
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;

  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    {
      mr_error_set (err, errno, "send RTM_NEWLINK (lo up)");
      goto out;
    }
  n = mnl_socket_recvfrom (nl, buf, sizeof buf);
  if (n < 0)
    {
      mr_error_set (err, errno, "receive the answer to RTM_NEWLINK (lo up)");
      goto out;
    }
  if (mnl_cb_run (buf, (size_t) n, seq, portid, NULL, NULL) < 0)
    {
      mr_error_set (err, errno, "bring the loopback interface up");
      goto out;
    }
  ret = 0;
out:
  mnl_socket_close (nl);
  return ret;
}
#endif
