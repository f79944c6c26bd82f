/* SPDX-License-Identifier: MIT */
/*
 * --host-netns and --host-address: entering the namespace that holds the
 * TAP's kernel side, and configuring that side over rtnetlink (libmnl).
 */
#ifndef USNET_DAEMON_NETNS_H
#define USNET_DAEMON_NETNS_H

#include <stdbool.h>
#include <stdint.h>

/**
 * netns_enter() - switch the calling thread into namespace @ns (a name in
 * /run/netns or a path); *@saved gets a handle to return with netns_leave().
 * Prints the reason on failure.
 * Return: 0, -errno.
 */
int netns_enter(const char *ns, int *saved);

/** netns_leave() - return to the namespace saved by netns_enter() */
int netns_leave(int saved);

/**
 * netns_link_config() - in the current namespace, set interface @ifindex's
 * MTU and, if @up, bring it up; with @addr non-zero, add @addr/@plen.
 * Return: 0, -errno (message printed).
 */
int netns_link_config(const char *name, int ifindex, uint32_t mtu, bool up, uint32_t addr,
		      unsigned int plen);

#endif
