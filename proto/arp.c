// SPDX-License-Identifier: MIT
/*
 * ARP for IPv4 over Ethernet (RFC 826), with Linux's choices from
 * net/ipv4/arp.c: answer requests for local addresses and learn the asker
 * (STALE), refresh but never create entries from replies and gratuitous
 * ARP (arp_accept=0), answer RFC 5227 probes (sender 0.0.0.0), and announce
 * each new address with a gratuitous request.
 */
#include <string.h>

#include "eth.h"
#include "ipv4.h"
#include "stack.h"
#include "wire.h"

#define NS_PER_MS 1000000ull

static void arp_send(struct stack *st, uint16_t op, const uint8_t *eth_dst, uint32_t spa,
		     const uint8_t *tha, uint32_t tpa)
{
	struct pkt *pkt = pkt_alloc(st->pool, PKT_HEADROOM);
	struct arp_hdr *ah;

	if (!pkt) {
		pkt_drop(st, NULL, DROP_NOMEM);
		return;
	}
	ah = (struct arp_hdr *)pkt_put(pkt, sizeof(*ah));
	ah->htype = htons(ARPHRD_ETHER);
	ah->ptype = htons(ETH_P_IP);
	ah->hlen = ETH_ALEN;
	ah->plen = 4;
	ah->op = htons(op);
	memcpy(ah->sha, st->cfg.mac, ETH_ALEN);
	memcpy(ah->spa, &spa, 4);
	if (tha)
		memcpy(ah->tha, tha, ETH_ALEN);
	else
		memset(ah->tha, 0, ETH_ALEN);
	memcpy(ah->tpa, &tpa, 4);
	eth_output(st, pkt, eth_dst, ETH_P_ARP);
}

/* Source for a request about @target: the local address on its subnet,
 * else the first address (Linux inet_select_addr with RT_SCOPE_LINK). */
static uint32_t arp_source_for(const struct stack *st, uint32_t target)
{
	for (unsigned int i = 0; i < st->naddrs; i++)
		if ((st->addrs[i].addr & st->addrs[i].mask) == (target & st->addrs[i].mask))
			return st->addrs[i].addr;
	return st->naddrs ? st->addrs[0].addr : 0;
}

void arp_solicit(struct stack *st, uint32_t target, const uint8_t *mac)
{
	uint32_t src = arp_source_for(st, target);

	if (!src)
		return;
	ARP_INC(st, OUT_REQUESTS);
	arp_send(st, ARPOP_REQUEST, mac ? mac : eth_broadcast_addr, src, NULL, target);
}

void arp_announce(struct stack *st, uint32_t addr)
{
	ARP_INC(st, OUT_GRATUITOUS);
	arp_send(st, ARPOP_REQUEST, eth_broadcast_addr, addr, NULL, addr);
}

void arp_input(struct stack *st, struct pkt *pkt)
{
	const struct arp_hdr *ah;
	uint8_t sha[ETH_ALEN];
	uint32_t sip, tip;
	struct neigh *n;
	uint16_t op;
	bool for_us;

	if (!pkt_may_pull(pkt, sizeof(*ah))) {
		pkt_drop(st, pkt, DROP_PKT_TOO_SMALL);
		return;
	}
	ah = (const struct arp_hdr *)pkt->data;
	op = ntohs(ah->op);
	if (ntohs(ah->htype) != ARPHRD_ETHER || ntohs(ah->ptype) != ETH_P_IP ||
	    ah->hlen != ETH_ALEN || ah->plen != 4 || (op != ARPOP_REQUEST && op != ARPOP_REPLY)) {
		pkt_drop(st, pkt, DROP_ARP_INVALID);
		return;
	}
	memcpy(sha, ah->sha, ETH_ALEN);
	memcpy(&sip, ah->spa, 4);
	memcpy(&tip, ah->tpa, 4);

	/* Linux arp_process(): nobody resolves multicast or loopback targets,
	 * and a multicast or broadcast sender, or one using our own hardware
	 * address, is forged or looped back. */
	if (ipv4_is_multicast(tip) || ipv4_is_loopback(tip)) {
		pkt_drop(st, pkt, DROP_ARP_INVALID);
		return;
	}
	if (ipv4_is_multicast(sip) || ipv4_is_lbcast(sip) || ipv4_is_loopback(sip) ||
	    eth_is_multicast(sha) || eth_is_zero(sha) || !memcmp(sha, st->cfg.mac, ETH_ALEN) ||
	    stack_addr_is_local(st, sip)) {
		pkt_drop(st, pkt, DROP_ARP_INVALID_SENDER);
		return;
	}

	if (op == ARPOP_REQUEST)
		ARP_INC(st, IN_REQUESTS);
	else
		ARP_INC(st, IN_REPLIES);
	for_us = stack_addr_is_local(st, tip);

	if (op == ARPOP_REQUEST && for_us) {
		if (pkt->l2_type == ETH_PKT_HOST)
			ARP_INC(st, RCV_PROBES_UCAST);
		else
			ARP_INC(st, RCV_PROBES_MCAST);
		/* RFC 5227 probe: answer, but learn nothing from 0.0.0.0. */
		if (sip)
			neigh_update(st, sip, sha, NUD_STALE, NEIGH_F_OVERRIDE | NEIGH_F_CREATE);
		ARP_INC(st, OUT_REPLIES);
		arp_send(st, ARPOP_REPLY, sha, tip, sha, sip);
		pkt_consume(st, pkt);
		return;
	}

	n = sip ? neigh_lookup(st, sip) : NULL;
	if (n) {
		bool garp = sip == tip;
		/* Linux: the first answer wins for locktime, so that two
		 * proxies answering the same request do not flap the entry;
		 * gratuitous ARP always overrides. */
		bool override =
			garp ||
			st->now >= n->updated + (uint64_t)st->cfg.tun.neigh_locktime_ms * NS_PER_MS;
		enum neigh_state state = (op == ARPOP_REPLY && pkt->l2_type == ETH_PKT_HOST) ?
						 NUD_REACHABLE :
						 NUD_STALE;

		neigh_update(st, sip, sha, state, override ? NEIGH_F_OVERRIDE : 0);
	}
	if ((op == ARPOP_REPLY && for_us) || (n && sip == tip))
		pkt_consume(st, pkt);
	else
		pkt_drop(st, pkt, DROP_ARP_NOT_FOR_US);
}
