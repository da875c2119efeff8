/* netlink.h: the network setup minirun does itself, over rtnetlink (libmnl). */
#ifndef MINIRUN_NETLINK_H
#define MINIRUN_NETLINK_H

#include "minirun/error.h"

/* Bring the loopback interface of the caller's network namespace up. */
int mr_netlink_loopback_up (mr_error_t *err);

#endif
