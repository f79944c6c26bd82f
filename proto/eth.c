// SPDX-License-Identifier: MIT
/*
 * Ethernet II (IEEE 802.3 clause 3.2.6 type field) demux and framing. The
 * frame's L2 class decides what IPv4 may accept later (Linux pkt_type).
 */
#include <string.h>

#include "eth.h"
#include "ipv4.h"
#include "stack.h"
#include "wire.h"

const uint8_t eth_broadcast_addr[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void eth_input(struct stack *st, struct pkt *pkt)
{
	const struct eth_hdr *eh;

	if (!pkt_may_pull(pkt, ETH_HLEN)) {
		pkt_drop(st, pkt, DROP_PKT_TOO_SMALL);
		return;
	}
	eh = (const struct eth_hdr *)pkt->data;
	pkt_set_l2(pkt);

	if (!memcmp(eh->dst, st->cfg.mac, ETH_ALEN))
		pkt->l2_type = ETH_PKT_HOST;
	else if (!memcmp(eh->dst, eth_broadcast_addr, ETH_ALEN))
		pkt->l2_type = ETH_PKT_BROADCAST;
	else if (eth_is_multicast(eh->dst))
		pkt->l2_type = ETH_PKT_MULTICAST;
	else
		pkt->l2_type = ETH_PKT_OTHERHOST;

	/* We join no multicast group yet, so multicast frames are as foreign
	 * as unicast frames for someone else. */
	if (pkt->l2_type == ETH_PKT_OTHERHOST || pkt->l2_type == ETH_PKT_MULTICAST) {
		pkt_drop(st, pkt, DROP_OTHERHOST);
		return;
	}

	pkt->protocol = ntohs(eh->type);
	pkt_pull(pkt, ETH_HLEN);
	switch (pkt->protocol) {
	case ETH_P_IP:
		ipv4_input(st, pkt);
		break;
	case ETH_P_ARP:
		arp_input(st, pkt);
		break;
	default:
		pkt_drop(st, pkt, DROP_UNHANDLED_PROTO);
		break;
	}
}

void eth_output(struct stack *st, struct pkt *pkt, const uint8_t dst[6], uint16_t type)
{
	struct eth_hdr *eh = (struct eth_hdr *)pkt_push(pkt, ETH_HLEN);

	if (!eh) {
		pkt_drop(st, pkt, DROP_NOMEM);
		return;
	}
	memcpy(eh->dst, dst, ETH_ALEN);
	memcpy(eh->src, st->cfg.mac, ETH_ALEN);
	eh->type = htons(type);
	pkt_set_l2(pkt);
	stack_xmit(st, pkt);
}
