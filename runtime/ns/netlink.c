/* netlink.c: the network setup minirun does itself.  A new network
 * namespace has only `lo`, always ifindex 1 and down; the container expects
 * it up.  The default build asks with an RTM_NEWLINK request through libmnl;
 * the static build (MINIRUN_STATIC: Debian ships no libmnl.a) sets the flag
 * with the SIOCSIFFLAGS ioctl, the interface ifconfig uses.  The default
 * build's rtnetlink requests (netlink.h) also serve linux.netDevices
 * (netdev.c): links looked up, listed, set up or down and moved to another
 * namespace, addresses listed and added. */
#include <errno.h>
#include <net/if.h>
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
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/utils.h"
#include "ns/netlink.h"

struct mnl_socket *
mr_nl_open (void)
{
  struct mnl_socket *nl = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  int e;

  if (nl == NULL)
    return NULL;
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      e = errno;
      mnl_socket_close (nl);
      errno = e;
      return NULL;
    }
  return nl;
}

/* Send one request and read the answers up to its ACK (or a dump's DONE),
 * handing each message to cb. */
static int
talk (struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  static unsigned int seq;
  char buf[32768]; /* MNL_SOCKET_DUMP_SIZE of newer libmnl */
  unsigned int portid = mnl_socket_get_portid (nl);

  if (seq == 0)
    seq = (unsigned int) time (NULL);
  nlh->nlmsg_seq = ++seq;
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (nl, buf, sizeof buf);
      int r;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      r = mnl_cb_run (buf, (size_t) n, nlh->nlmsg_seq, portid, cb, data);
      if (r == MNL_CB_ERROR)
        return -1;
      if (r == MNL_CB_STOP)
        return 0;
    }
}

static struct nlmsghdr *
request (char *buf, int type, int flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = (unsigned short) type;
  nlh->nlmsg_flags = (unsigned short) (NLM_F_REQUEST | flags);
  return nlh;
}

static struct ifinfomsg *
put_ifinfo (struct nlmsghdr *nlh, int index)
{
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  return ifm;
}

struct attr_table
{
  const struct nlattr **tb;
  int max;
};

static int
table_cb (const struct nlattr *a, void *data)
{
  struct attr_table *t = data;
  int type = mnl_attr_get_type (a);
  if (type <= t->max)
    t->tb[type] = a;
  return MNL_CB_OK;
}

struct links
{
  struct mr_nl_link *v;
  size_t n;
};

static int
link_cb (const struct nlmsghdr *nlh, void *data)
{
  struct links *l = data;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
  struct mr_nl_link *out;

  if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len (nlh) < sizeof *ifm)
    return MNL_CB_OK;
  if (mnl_attr_parse (nlh, sizeof *ifm, table_cb, &(struct attr_table){ tb, IFLA_MAX }) < 0)
    return MNL_CB_ERROR;
  l->v = xrealloc (l->v, (l->n + 1) * sizeof *l->v);
  out = &l->v[l->n++];
  memset (out, 0, sizeof *out);
  out->index = ifm->ifi_index;
  out->flags = ifm->ifi_flags;
  if (tb[IFLA_IFNAME] && mnl_attr_validate (tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) == 0)
    (void) snprintf (out->name, sizeof out->name, "%s", mnl_attr_get_str (tb[IFLA_IFNAME]));
  return MNL_CB_OK;
}

int
mr_nl_link_get (struct mnl_socket *nl, int index, const char *name, struct mr_nl_link *out)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = request (buf, RTM_GETLINK, NLM_F_ACK);
  struct links l = { NULL, 0 };
  int r;

  put_ifinfo (nlh, index > 0 ? index : 0);
  if (index <= 0)
    mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  r = talk (nl, nlh, link_cb, &l);
  if (r == 0 && l.n == 0)
    {
      errno = ENODEV;
      r = -1;
    }
  if (r == 0)
    *out = l.v[0];
  free (l.v);
  return r;
}

int
mr_nl_link_dump (struct mnl_socket *nl, struct mr_nl_link **out, size_t *n)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = request (buf, RTM_GETLINK, NLM_F_DUMP);
  struct links l = { NULL, 0 };

  put_ifinfo (nlh, 0);
  if (talk (nl, nlh, link_cb, &l) < 0)
    {
      free (l.v);
      return -1;
    }
  *out = l.v;
  *n = l.n;
  return 0;
}

int
mr_nl_link_set_up (struct mnl_socket *nl, int index, bool up)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = request (buf, RTM_NEWLINK, NLM_F_ACK);
  struct ifinfomsg *ifm = put_ifinfo (nlh, index);

  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = up ? IFF_UP : 0;
  return talk (nl, nlh, NULL, NULL);
}

int
mr_nl_link_move (struct mnl_socket *nl, int index, const char *name, int netns_fd)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = request (buf, RTM_NEWLINK, NLM_F_ACK);

  put_ifinfo (nlh, index);
  mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
  if (name)
    mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  return talk (nl, nlh, NULL, NULL);
}

struct addrs
{
  int index;
  struct mr_nl_addr *v;
  size_t n;
};

static bool
copy_addr (const struct nlattr *a, unsigned char len, unsigned char *out)
{
  if (a == NULL || mnl_attr_get_payload_len (a) != len)
    return false;
  memcpy (out, mnl_attr_get_payload (a), len);
  return true;
}

static int
addr_cb (const struct nlmsghdr *nlh, void *data)
{
  struct addrs *l = data;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[IFA_MAX + 1] = { 0 };
  struct mr_nl_addr a;
  uint32_t flags;
  char ip[INET6_ADDRSTRLEN];

  if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len (nlh) < sizeof *ifa
      || (int) ifa->ifa_index != l->index)
    return MNL_CB_OK;
  if (mnl_attr_parse (nlh, sizeof *ifa, table_cb, &(struct attr_table){ tb, IFA_MAX }) < 0)
    return MNL_CB_ERROR;
  flags = ifa->ifa_flags;
  if (tb[IFA_FLAGS] && mnl_attr_validate (tb[IFA_FLAGS], MNL_TYPE_U32) == 0)
    flags = mnl_attr_get_u32 (tb[IFA_FLAGS]);
  /* runtime-spec: only the permanent addresses of global scope move */
  if (!(flags & IFA_F_PERMANENT) || ifa->ifa_scope != RT_SCOPE_UNIVERSE
      || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
    return MNL_CB_OK;
  memset (&a, 0, sizeof a);
  a.family = ifa->ifa_family;
  a.prefixlen = ifa->ifa_prefixlen;
  a.scope = ifa->ifa_scope;
  a.len = a.family == AF_INET ? 4 : 16;
  a.has_local = copy_addr (tb[IFA_LOCAL], a.len, a.local);
  a.has_address = copy_addr (tb[IFA_ADDRESS], a.len, a.address);
  a.has_broadcast = copy_addr (tb[IFA_BROADCAST], a.len, a.broadcast);
  if (!a.has_local && !a.has_address)
    return MNL_CB_OK;
  if (inet_ntop (a.family, a.has_local ? a.local : a.address, ip, sizeof ip) == NULL)
    ip[0] = '\0';
  (void) snprintf (a.text, sizeof a.text, "%s/%u", ip, a.prefixlen);
  l->v = xrealloc (l->v, (l->n + 1) * sizeof *l->v);
  l->v[l->n++] = a;
  return MNL_CB_OK;
}

int
mr_nl_addr_dump (struct mnl_socket *nl, int index, struct mr_nl_addr **out, size_t *n)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = request (buf, RTM_GETADDR, NLM_F_DUMP);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  struct addrs l = { index, NULL, 0 };

  ifa->ifa_family = AF_UNSPEC;
  if (talk (nl, nlh, addr_cb, &l) < 0)
    {
      free (l.v);
      return -1;
    }
  *out = l.v;
  *n = l.n;
  return 0;
}

int
mr_nl_addr_add (struct mnl_socket *nl, int index, const struct mr_nl_addr *a)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = request (buf, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);

  ifa->ifa_family = a->family;
  ifa->ifa_prefixlen = a->prefixlen;
  ifa->ifa_scope = a->scope;
  ifa->ifa_index = (unsigned int) index;
  if (a->has_local)
    mnl_attr_put (nlh, IFA_LOCAL, a->len, a->local);
  if (a->has_address)
    mnl_attr_put (nlh, IFA_ADDRESS, a->len, a->address);
  if (a->has_broadcast)
    mnl_attr_put (nlh, IFA_BROADCAST, a->len, a->broadcast);
  return talk (nl, nlh, NULL, NULL);
}

int
mr_netlink_loopback_up (mr_error_t *err)
{
  struct mnl_socket *nl = mr_nl_open ();
  int r, e;

  if (nl == NULL)
    return mr_error_set (err, errno, "open rtnetlink socket");
  r = mr_nl_link_set_up (nl, 1 /* lo */, true);
  e = errno;
  mnl_socket_close (nl);
  if (r < 0)
    return mr_error_set (err, e, "bring the loopback interface up (RTM_NEWLINK)");
  return 0;
}
#endif
