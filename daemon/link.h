/* SPDX-License-Identifier: MIT */
/*
 * A link: where usnetd's frames go in and out. Only the TAP kind exists
 * now; AF_PACKET joins it behind the same struct.
 */
#ifndef USNET_DAEMON_LINK_H
#define USNET_DAEMON_LINK_H

#include <stdint.h>

#include "config.h"

struct link {
	char name[16];
	char kind[8];
	char netns[64]; /* namespace of the kernel side, "" = usnetd's */
	int fd;
	int ifindex; /* in the kernel side's namespace */
	uint8_t mac[6]; /* usnet's own address on this link */
	uint32_t mtu;
	uint32_t vnet_hdr_len; /* bytes of virtio-net header before each frame */
};

/**
 * link_tap_open() - create TAP @cfg->tap with a virtio-net header, in
 * @cfg->host_netns if set, configure its kernel side (MTU, and with
 * --host-address the address and IFF_UP), and derive usnet's MAC.
 * Prints one line naming the problem on failure.
 * Return: 0, -errno.
 */
int link_tap_open(struct link *l, const struct usnetd_config *cfg);

/** link_close() - close the device; a TAP disappears with its last fd */
void link_close(struct link *l);

#endif
