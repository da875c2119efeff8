/* netdev.c: linux.netDevices on the host side (runtime-spec 1.3).  Each
 * named host interface is moved into the container's network namespace and
 * renamed there in one RTM_NEWLINK (IFLA_NET_NS_FD + IFLA_IFNAME), its
 * permanent global addresses (the kernel drops them on a move) are added
 * again and it is set up, as the spec asks.  The MTU and the other link
 * attributes move with the device.
 *
 * What was moved is recorded (struct mr_netdev_moves), and the container's
 * namespace is held open with it, so that a create failing after the move
 * can give every device back to the runtime's namespace under its host name,
 * with its addresses and its up state (mr_netdev_move_back), even once the
 * init is dead.  A container that was created keeps its devices: the spec
 * forbids moving them out before delete, and when its namespace goes the
 * kernel returns the physical ones to the initial namespace (under their
 * container names) and destroys the virtual ones (dummy, veth, macvlan).
 *
 * Sockets in the container's namespace come from a setns() there and back.
 * Netlink through libmnl; the static build (no libmnl.a) refuses the field. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "ns/ns.h"

/* `linux.netDevices["eth9"]`, the prefix of every message about an entry */
#define DEV_FMT "linux.netDevices[\"%s\"]"

int
mr_netdev_validate (const struct mr_config *config, int net_fd, mr_error_t *err)
{
  struct stat mine, theirs;

  if (config->n_net_devices == 0)
    return 0;
  if (!mr_netdev_built_in)
    return mr_error_set (err, ENOTSUP,
                         "linux.netDevices: this minirun is the static build, which has no libmnl to talk "
                         "rtnetlink: use the default build");
  if (net_fd >= 0)
    {
      if (stat ("/proc/self/ns/net", &mine) < 0 || fstat (net_fd, &theirs) < 0)
        return mr_error_set (err, errno, "linux.netDevices: compare the network namespace at `%s` with the "
                                         "runtime's (/proc/self/ns/net)",
                             config->namespaces[MR_NS_NET].path);
      if (mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino)
        return mr_error_set (err, 0,
                             "linux.netDevices: the network namespace at `%s` (linux.namespaces[%zu].path) is the "
                             "runtime's own: the devices would not leave the host; give the container a new "
                             "network namespace or another one",
                             config->namespaces[MR_NS_NET].path, config->namespaces[MR_NS_NET].index);
    }
  for (size_t i = 0; i < config->n_net_devices; i++)
    if (if_nametoindex (config->net_devices[i].host_name) == 0)
      return mr_error_set (err, errno, DEV_FMT ": there is no interface \"%s\" on the host to move (if_nametoindex; "
                                       "`ip link` lists them)",
                           config->net_devices[i].host_name, config->net_devices[i].host_name);
  return 0;
}

#ifdef MINIRUN_STATIC
const bool mr_netdev_built_in = false;

int
mr_netdev_move_in (const struct mr_config *config, int netns_fd, struct mr_netdev_moves **moves, mr_error_t *err)
{
  (void) config, (void) netns_fd;
  *moves = NULL;
  return mr_error_set (err, ENOTSUP, "linux.netDevices: not supported by the static build");
}

void
mr_netdev_move_back (struct mr_netdev_moves *moves)
{
  (void) moves;
}

void
mr_netdev_moves_free (struct mr_netdev_moves *moves)
{
  (void) moves;
}

#else
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "ns/netlink.h"

const bool mr_netdev_built_in = true;

struct moved_dev
{
  const struct mr_net_device *d;
  int host_index;
  bool was_up, downed;         /* up on the host; set down here (so up again if it stays) */
  struct mr_nl_addr *addrs;    /* its permanent global addresses on the host */
  size_t n_addrs;
  bool moved;                  /* it is in the container's namespace, as ns_index */
  int ns_index;
  char ns_name[IFNAMSIZ];
};

struct mr_netdev_moves
{
  int netns_fd, host_fd;       /* the container's network namespace and the runtime's */
  struct mnl_socket *host_nl, *ns_nl;
  struct moved_dev *devs;
  size_t n;
};

void
mr_netdev_moves_free (struct mr_netdev_moves *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n; i++)
    free (m->devs[i].addrs);
  free (m->devs);
  if (m->host_nl)
    mnl_socket_close (m->host_nl);
  if (m->ns_nl)
    mnl_socket_close (m->ns_nl);
  if (m->netns_fd >= 0)
    close (m->netns_fd);
  if (m->host_fd >= 0)
    close (m->host_fd);
  free (m);
}

/* The device the move put in the container's namespace: the one index
 * there that was not there before (the kernel keeps the index unless it is
 * taken, and a "%d" template leaves the name to the kernel). */
static bool
find_new_link (const struct mr_nl_link *before, size_t n_before, const struct mr_nl_link *after, size_t n_after,
               struct moved_dev *md)
{
  for (size_t i = 0; i < n_after; i++)
    {
      bool old = false;
      for (size_t j = 0; j < n_before && !old; j++)
        old = before[j].index == after[i].index;
      if (!old)
        {
          md->ns_index = after[i].index;
          memcpy (md->ns_name, after[i].name, sizeof md->ns_name);
          return true;
        }
    }
  return false;
}

static int
explain_move_error (const struct mr_netdev_moves *m, const struct moved_dev *md, int e, mr_error_t *err)
{
  const char *want = md->d->name ? md->d->name : md->d->host_name;

  if (e == EEXIST || e == EBUSY)
    return mr_error_set_explained (err, e, DEV_FMT ": an interface named \"%s\" already exists in the container's "
                                           "network namespace (%s): choose another \"name\" (or a template such as "
                                           "\"eth%%d\")",
                         md->d->host_name, want, e == EEXIST ? "EEXIST" : "EBUSY");
  if (e == EINVAL && !md->moved)
    return mr_error_set (err, e, DEV_FMT ": the kernel refused to move it (RTM_NEWLINK with IFLA_NET_NS_FD; a "
                                 "device such as lo, a bridge or a vxlan cannot leave its network namespace)",
                         md->d->host_name);
  (void) m;
  return mr_error_set (err, e, DEV_FMT ": move it into the container's network namespace as \"%s\" (RTM_NEWLINK)",
                       md->d->host_name, want);
}

static int
move_one (struct mr_netdev_moves *m, struct moved_dev *md, mr_error_t *err)
{
  const char *host = md->d->host_name, *want = md->d->name ? md->d->name : md->d->host_name;
  cleanup_free struct mr_nl_link *before = NULL, *after = NULL;
  size_t n_before = 0, n_after = 0;
  struct mr_nl_link link;
  int r, e;

  if (mr_nl_link_get (m->host_nl, 0, host, &link) < 0)
    return mr_error_set (err, errno, DEV_FMT ": look the interface up on the host (RTM_GETLINK)", host);
  md->host_index = link.index;
  md->was_up = (link.flags & IFF_UP) != 0;
  /* the addresses first: setting a device down can drop its IPv6 ones */
  if (mr_nl_addr_dump (m->host_nl, link.index, &md->addrs, &md->n_addrs) < 0)
    return mr_error_set (err, errno, DEV_FMT ": list its addresses on the host (RTM_GETADDR)", host);
  /* down while it moves, as runc does, so nothing on the host uses it half-way */
  if (md->was_up)
    {
      if (mr_nl_link_set_up (m->host_nl, link.index, false) < 0)
        return mr_error_set (err, errno, DEV_FMT ": set it down on the host before the move (RTM_NEWLINK)", host);
      md->downed = true;
    }
  if (mr_nl_link_dump (m->ns_nl, &before, &n_before) < 0)
    return mr_error_set (err, errno, DEV_FMT ": list the interfaces of the container's network namespace", host);
  r = mr_nl_link_move (m->host_nl, link.index, want, m->netns_fd);
  e = errno;
  /* the kernel moves first and renames after: a failed rename leaves the
     device moved under its host name, and then it must come back too */
  if (mr_nl_link_dump (m->ns_nl, &after, &n_after) == 0)
    md->moved = find_new_link (before, n_before, after, n_after, md);
  if (r < 0)
    return explain_move_error (m, md, e, err);
  if (!md->moved)
    return mr_error_set (err, 0, DEV_FMT ": moved, but not found in the container's network namespace", host);
  mr_log_debug ("netDevices: %s moved into the container as %s (index %d)", host, md->ns_name, md->ns_index);
  for (size_t i = 0; i < md->n_addrs; i++)
    if (mr_nl_addr_add (m->ns_nl, md->ns_index, &md->addrs[i]) < 0)
      return mr_error_set (err, errno, DEV_FMT ": add its address %s again in the container (RTM_NEWADDR)", host,
                           mr_nl_addr_str (&md->addrs[i]));
  if (mr_nl_link_set_up (m->ns_nl, md->ns_index, true) < 0)
    return mr_error_set (err, errno, DEV_FMT ": set \"%s\" up in the container (RTM_NEWLINK)", host, md->ns_name);
  return 0;
}

/* a socket in the namespace netns_fd: setns there and back */
static struct mnl_socket *
socket_in (int netns_fd, int host_fd, mr_error_t *err)
{
  struct mnl_socket *nl;
  int e = 0;

  if (setns (netns_fd, CLONE_NEWNET) < 0)
    {
      mr_error_set (err, errno, "linux.netDevices: enter the container's network namespace (setns)");
      return NULL;
    }
  nl = mr_nl_open ();
  if (nl == NULL)
    e = errno;
  if (setns (host_fd, CLONE_NEWNET) < 0)
    {
      e = errno;
      if (nl)
        mnl_socket_close (nl);
      mr_error_set (err, e, "linux.netDevices: return to the runtime's network namespace (setns)");
      return NULL;
    }
  if (nl == NULL)
    mr_error_set (err, e, "linux.netDevices: open an rtnetlink socket in the container's network namespace");
  return nl;
}

int
mr_netdev_move_in (const struct mr_config *config, int netns_fd, struct mr_netdev_moves **moves, mr_error_t *err)
{
  struct mr_netdev_moves *m;

  *moves = NULL;
  if (config->n_net_devices == 0)
    return 0;
  m = xcalloc (1, sizeof *m);
  *moves = m;
  m->host_fd = -1;
  m->netns_fd = fcntl (netns_fd, F_DUPFD_CLOEXEC, 3);
  if (m->netns_fd < 0)
    return mr_error_set (err, errno, "linux.netDevices: hold the container's network namespace (dup)");
  m->host_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (m->host_fd < 0)
    return mr_error_set (err, errno, "linux.netDevices: open the runtime's network namespace (/proc/self/ns/net)");
  m->host_nl = mr_nl_open ();
  if (m->host_nl == NULL)
    return mr_error_set (err, errno, "linux.netDevices: open an rtnetlink socket");
  m->ns_nl = socket_in (m->netns_fd, m->host_fd, err);
  if (m->ns_nl == NULL)
    return -1;
  m->devs = xcalloc (config->n_net_devices, sizeof *m->devs);
  for (size_t i = 0; i < config->n_net_devices; i++)
    {
      struct moved_dev *md = &m->devs[m->n++];
      md->d = &config->net_devices[i];
      if (move_one (m, md, err) < 0)
        return -1;
    }
  return 0;
}

/* One device back, under its host name if it is free (else under the name
 * it has), with its addresses and up state. */
static int
move_back_one (struct mr_netdev_moves *m, struct moved_dev *md, mr_error_t *err)
{
  const char *host = md->d->host_name;
  struct mr_nl_link link;

  if (md->moved)
    {
      if (mr_nl_link_move (m->ns_nl, md->ns_index, host, m->host_fd) < 0)
        {
          int e = errno;
          /* the host has an interface of that name now: keep the one it has */
          if (e != EEXIST || mr_nl_link_move (m->ns_nl, md->ns_index, NULL, m->host_fd) < 0)
            return mr_error_set (err, e, DEV_FMT ": move \"%s\" back to the host (RTM_NEWLINK)", host, md->ns_name);
          mr_log_warning (DEV_FMT ": the host has an interface \"%s\" now: moved back as \"%s\"", host, host,
                          md->ns_name);
          host = md->ns_name;
        }
      md->moved = false;
      if (mr_nl_link_get (m->host_nl, 0, host, &link) < 0)
        return mr_error_set (err, errno, DEV_FMT ": find \"%s\" back on the host (RTM_GETLINK)", md->d->host_name,
                             host);
      md->host_index = link.index;
      for (size_t i = 0; i < md->n_addrs; i++)
        if (mr_nl_addr_add (m->host_nl, link.index, &md->addrs[i]) < 0 && errno != EEXIST)
          return mr_error_set (err, errno, DEV_FMT ": add its address %s again on the host (RTM_NEWADDR)",
                               md->d->host_name, mr_nl_addr_str (&md->addrs[i]));
    }
  if (md->downed && mr_nl_link_set_up (m->host_nl, md->host_index, true) < 0)
    return mr_error_set (err, errno, DEV_FMT ": set it up again on the host (RTM_NEWLINK)", md->d->host_name);
  md->downed = false;
  return 0;
}

void
mr_netdev_move_back (struct mr_netdev_moves *m)
{
  if (m == NULL || m->host_nl == NULL)
    return;
  for (size_t i = m->n; i-- > 0;)
    {
      mr_error_t err = NULL;
      bool was_moved = m->devs[i].moved;
      if (!was_moved && !m->devs[i].downed)
        continue;
      if (move_back_one (m, &m->devs[i], &err) < 0)
        mr_error_warn (&err, "cleanup");
      else if (was_moved)
        mr_log_debug ("netDevices: %s is back on the host", m->devs[i].d->host_name);
    }
}
#endif
