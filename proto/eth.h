/* SPDX-License-Identifier: MIT */
/* Ethernet II receive demux and transmit framing. */
#ifndef USNET_PROTO_ETH_H
#define USNET_PROTO_ETH_H

#include <stdbool.h>
#include <stdint.h>

struct stack;
struct pkt;

/* Linux's PACKET_* classification of a received frame. */
enum eth_pkt_type {
	ETH_PKT_HOST = 0,
	ETH_PKT_BROADCAST,
	ETH_PKT_MULTICAST,
	ETH_PKT_OTHERHOST,
};

extern const uint8_t eth_broadcast_addr[6];

static inline bool eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

static inline bool eth_is_zero(const uint8_t *mac)
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/** eth_input() - classify and demultiplex a frame. Consumes @pkt. */
void eth_input(struct stack *st, struct pkt *pkt);

/**
 * eth_output() - prepend an Ethernet header to @dst with @type and queue the
 * frame for the link. Consumes @pkt.
 */
void eth_output(struct stack *st, struct pkt *pkt, const uint8_t dst[6], uint16_t type);

#endif
