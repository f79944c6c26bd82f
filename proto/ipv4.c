// SPDX-License-Identifier: MIT
/*
 * IPv4 input and output (RFC 791, RFC 1122 §3.2.1 and §3.3.6).
 *
 * Input checks run in the order of Linux ip_rcv_core(), so that a frame
 * with several faults is counted under the same reason as on Linux:
 * header length, version and IHL, checksum, total length against the
 * frame, then addresses (ip_route_input), then TTL and fragments, then the
 * protocol handler.
 *
 * Deliberate difference from Linux: a datagram with TTL 0 is dropped
 * (DROP_IP_TTL_ZERO). No conforming host sends one (RFC 1122 §3.2.1.7), so
 * it can only be a forgery or a broken router.
 */
#include <errno.h>
#include <string.h>

#include "csum.h"
#include "eth.h"
#include "icmp.h"
#include "ipv4.h"
#include "stack.h"
#include "tcp.h"
#include "wire.h"

#define IPOPT_END 0
#define IPOPT_NOOP 1

/* RFC 791 §3.1 option format: single-byte END and NOOP, the rest type,
 * length (counting both), data. We act on no option; we only refuse
 * headers whose options overrun them (Linux ip_options_compile). */
static bool ipv4_options_valid(const uint8_t *opt, unsigned int len)
{
	while (len) {
		if (opt[0] == IPOPT_END)
			return true;
		if (opt[0] == IPOPT_NOOP) {
			opt++;
			len--;
			continue;
		}
		if (len < 2 || opt[1] < 2 || opt[1] > len)
			return false;
		len -= opt[1];
		opt += opt[1];
	}
	return true;
}

static bool ipv4_source_valid(const struct stack *st, uint32_t saddr, uint32_t daddr)
{
	if (ipv4_is_multicast(saddr) || ipv4_is_lbcast(saddr) || ipv4_is_loopback(saddr))
		return false;
	/* 0.0.0.0 is a legal source only before a host has an address, and
	 * then only towards the limited broadcast (RFC 1122 §3.2.1.3). */
	if (ipv4_is_zeronet(saddr))
		return saddr == 0 && ipv4_is_lbcast(daddr);
	return !stack_addr_is_bcast(st, saddr);
}

void ipv4_input(struct stack *st, struct pkt *pkt)
{
	const struct ipv4_hdr *ip;
	unsigned int ihl, tot;
	bool local, bcast;

	IP_INC(st, IN_RECEIVES);
	if (!pkt_may_pull(pkt, sizeof(*ip))) {
		IP_INC(st, IN_HDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_INHDR);
		return;
	}
	ip = (const struct ipv4_hdr *)pkt->data;
	if (ipv4_hdr_version(ip) != 4) {
		IP_INC(st, IN_HDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_VERSION);
		return;
	}
	ihl = ipv4_hdr_len(ip);
	if (ihl < sizeof(*ip) || !pkt_may_pull(pkt, ihl)) {
		IP_INC(st, IN_HDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_INHDR);
		return;
	}
	if (csum_ip(ip, ihl) != 0) {
		IP_INC(st, IN_CSUM_ERRORS);
		IP_INC(st, IN_HDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_CSUM);
		return;
	}
	tot = ntohs(ip->tot_len);
	if (tot > pkt_len(pkt)) {
		IP_INC(st, IN_TRUNCATED_PKTS);
		pkt_drop(st, pkt, DROP_IP_TRUNCATED);
		return;
	}
	if (tot < ihl || (ihl > sizeof(*ip) &&
			  !ipv4_options_valid(pkt->data + sizeof(*ip), ihl - sizeof(*ip)))) {
		IP_INC(st, IN_HDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_INHDR);
		return;
	}
	/* Ethernet pads short frames; the padding is not ours to deliver. */
	pkt_trim(pkt, tot);
	IP_ADD(st, IN_OCTETS, tot);
	pkt_set_l3(pkt);

	if (!ipv4_source_valid(st, ip->saddr, ip->daddr)) {
		pkt_drop(st, pkt, DROP_IP_INVALID_SOURCE);
		return;
	}
	local = stack_addr_is_local(st, ip->daddr);
	bcast = !local && stack_addr_is_bcast(st, ip->daddr);
	if (!local && !bcast) {
		/* A host does not forward (RFC 1122 §3.3.1.5 default). */
		IP_INC(st, IN_ADDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_INADDRERRORS);
		return;
	}
	/* RFC 1122 §3.3.6 SHOULD; Linux only with drop_unicast_in_l2_multicast. */
	if (local && pkt->l2_type != ETH_PKT_HOST && st->cfg.tun.drop_unicast_in_l2_multicast) {
		IP_INC(st, IN_ADDR_ERRORS);
		pkt_drop(st, pkt, DROP_UNICAST_IN_L2_MULTICAST);
		return;
	}
	if (ip->ttl == 0) {
		IP_INC(st, IN_HDR_ERRORS);
		pkt_drop(st, pkt, DROP_IP_TTL_ZERO);
		return;
	}
	if (ntohs(ip->frag_off) & (IP_MF | IP_OFFMASK)) {
		IP_INC(st, REASM_REQDS);
		IP_INC(st, REASM_FAILS);
		pkt_drop(st, pkt, DROP_IP_FRAG_UNSUPPORTED);
		return;
	}
	if (bcast)
		IP_INC(st, IN_BCAST_PKTS);

	pkt_pull(pkt, ihl);
	pkt_set_l4(pkt);
	switch (ip->protocol) {
	case IPPROTO_ICMP_:
		IP_INC(st, IN_DELIVERS);
		icmp_input(st, pkt);
		break;
	case IPPROTO_TCP_:
		IP_INC(st, IN_DELIVERS);
		if (!local) {
			/* TCP is unicast only (RFC 9293 §3.9.1 SEND to broadcast
			 * is an error; Linux drops in tcp_v4_rcv). */
			pkt_drop(st, pkt, DROP_TCP_NOT_UNICAST);
			break;
		}
		tcp_v4_rcv(st, pkt);
		break;
	default:
		IP_INC(st, IN_UNKNOWN_PROTOS);
		if (local)
			icmp_send(st, pkt, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		pkt_drop(st, pkt, DROP_IP_NOPROTO);
		break;
	}
}

/*
 * IP ID for datagrams that may be fragmented (RFC 6864 §4.2: unique per
 * source, destination and protocol within the MSL). A counter per hash
 * bucket of the flow, as Linux ip_select_ident() does, so that one global
 * counter does not tell an observer how much we send elsewhere.
 */
static uint16_t ipv4_select_id(struct stack *st, uint32_t saddr, uint32_t daddr, uint8_t proto)
{
	uint32_t key[3] = { saddr, daddr, proto };
	uint64_t h = siphash24(st->rng.key, key, sizeof(key));

	return (uint16_t)((h >> 16) + st->ip_idents[h & (IPV4_IDENTS - 1)]++);
}

int ipv4_output(struct stack *st, struct pkt *pkt, const struct ipv4_tx *tx)
{
	struct route_res res;
	struct ipv4_hdr *ip;
	uint32_t len;

	if (route_lookup(st, tx->daddr, &res) < 0) {
		IP_INC(st, OUT_NO_ROUTES);
		pkt_drop(st, pkt, DROP_IP_OUTNOROUTES);
		return -ENETUNREACH;
	}
	len = pkt_len(pkt) + (uint32_t)sizeof(*ip);
	if (len > res.mtu) {
		IP_INC(st, OUT_DISCARDS);
		pkt_drop(st, pkt, DROP_PKT_TOO_BIG);
		return -EMSGSIZE;
	}
	ip = (struct ipv4_hdr *)pkt_push(pkt, sizeof(*ip));
	if (!ip) {
		IP_INC(st, OUT_DISCARDS);
		pkt_drop(st, pkt, DROP_NOMEM);
		return -ENOBUFS;
	}
	ip->ver_ihl = 0x45;
	ip->tos = tx->tos;
	ip->tot_len = htons((uint16_t)len);
	ip->saddr = tx->saddr ? tx->saddr : res.src;
	ip->daddr = tx->daddr;
	ip->frag_off = tx->df ? htons(IP_DF) : 0;
	/* Linux sets ID 0 on atomic (DF) datagrams only for connected
	 * sockets; an ID costs nothing, so every datagram gets one. */
	ip->id = htons(ipv4_select_id(st, ip->saddr, ip->daddr, tx->protocol));
	ip->ttl = tx->ttl ? tx->ttl : (uint8_t)st->cfg.tun.ip_default_ttl;
	ip->protocol = tx->protocol;
	ip->check = 0;
	ip->check = csum_ip(ip, sizeof(*ip));
	pkt_set_l3(pkt);
	pkt->protocol = ETH_P_IP;

	IP_INC(st, OUT_REQUESTS);
	IP_ADD(st, OUT_OCTETS, len);
	if (res.type == RTN_LOCAL) {
		/* To ourselves: back in through stack_loopback(). */
		pkt->l2_type = ETH_PKT_HOST;
		pkt_queue_push(&st->loq, pkt);
		return 0;
	}
	if (res.type == RTN_BROADCAST) {
		IP_INC(st, OUT_BCAST_PKTS);
		eth_output(st, pkt, eth_broadcast_addr, ETH_P_IP);
		return 0;
	}
	return neigh_output(st, pkt, res.nexthop);
}
