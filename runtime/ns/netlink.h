/* netlink.h: the rtnetlink requests of the ns room (netlink.c, through
 * libmnl; not in the static build), for the loopback interface and
 * linux.netDevices (netdev.c).  Each returns -1 with errno set on failure
 * (the kernel's error for a refused request). */
#ifndef MINIRUN_NS_NETLINK_H
#define MINIRUN_NS_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include <libmnl/libmnl.h>

struct mr_nl_link
{
  int index;
  unsigned int flags; /* IFF_* */
  char name[IFNAMSIZ];
};

/* An address as RTM_NEWADDR takes it again; text is "10.1.2.3/24" for messages. */
struct mr_nl_addr
{
  unsigned char family, prefixlen, scope, len;
  bool has_local, has_address, has_broadcast;
  unsigned char local[16], address[16], broadcast[16];
  char text[64];
};

/* A NETLINK_ROUTE socket (close-on-exec, bound) in the caller's network
 * namespace; NULL with errno. */
struct mnl_socket *mr_nl_open (void);
/* The link of `index` (> 0) or else of `name`. */
int mr_nl_link_get (struct mnl_socket *nl, int index, const char *name, struct mr_nl_link *out);
/* Every link of the socket's namespace; *out freed by the caller. */
int mr_nl_link_dump (struct mnl_socket *nl, struct mr_nl_link **out, size_t *n);
int mr_nl_link_set_up (struct mnl_socket *nl, int index, bool up);
/* Move link `index` into the namespace netns_fd, renamed to `name` there (NULL: keep its name). */
int mr_nl_link_move (struct mnl_socket *nl, int index, const char *name, int netns_fd);
/* The permanent (IFA_F_PERMANENT) global-scope addresses of link `index`, of any family. */
int mr_nl_addr_dump (struct mnl_socket *nl, int index, struct mr_nl_addr **out, size_t *n);
int mr_nl_addr_add (struct mnl_socket *nl, int index, const struct mr_nl_addr *a);
static inline const char *
mr_nl_addr_str (const struct mr_nl_addr *a)
{
  return a->text;
}

#endif
