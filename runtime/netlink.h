/* netlink.h: the network setup minirun does itself (rtnetlink through libmnl;
 * SIOCSIFFLAGS in the static build). */
#ifndef MINIRUN_NETLINK_H
#define MINIRUN_NETLINK_H

#include "minirun/error.h"

/* Bring the loopback interface of the caller's network namespace up. */
int mr_netlink_loopback_up (mr_error_t *err);

#endif
