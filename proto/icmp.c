// SPDX-License-Identifier: MIT
/*
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3.2.8 for the limiter) after
 * Linux net/ipv4/icmp.c: echo replies built in place over the request,
 * errors quoting as much of the offending datagram as fits in 576 bytes,
 * and the two rate limits, global (icmp_msgs_per_sec, icmp_msgs_burst) and
 * per destination host (icmp_ratelimit, burst of 6), for the types in
 * icmp_ratemask.
 */
#include <string.h>

#include "csum.h"
#include "eth.h"
#include "icmp.h"
#include "ipv4.h"
#include "stack.h"
#include "wire.h"

#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull
#define ICMP_XRLIM_BURST_FACTOR 6 /* Linux XRLIM_BURST_FACTOR */
#define ICMP_ERR_MAX_LEN 576 /* RFC 1812 §4.3.2.3: errors fit in 576 bytes */

void icmp_init(struct stack *st)
{
	memset(&st->icmp, 0, sizeof(st->icmp));
	st->icmp.peer_key = rng_u64(&st->rng);
	/* Linux starts with a full allowance (its stamp is boot time). */
	st->icmp.global_credit = st->cfg.tun.icmp_msgs_burst;
}

/* Linux icmp_global_allow(): a token bucket refilled at most every 20 ms,
 * spending a random 0..2 tokens so that a prober cannot count exactly. */
static bool icmp_global_allow(struct stack *st)
{
	struct icmp_state *s = &st->icmp;
	uint64_t delta = st->now - s->global_stamp_ns;
	uint32_t incr = 0;
	uint64_t credit;

	if (delta > NS_PER_SEC)
		delta = NS_PER_SEC;
	if (!s->global_credit && delta < NS_PER_SEC / 50)
		return false;
	if (delta >= NS_PER_SEC / 50) {
		incr = (uint32_t)(st->cfg.tun.icmp_msgs_per_sec * delta / NS_PER_SEC);
		if (incr)
			s->global_stamp_ns = st->now;
	}
	credit = (uint64_t)s->global_credit + incr;
	if (credit > st->cfg.tun.icmp_msgs_burst)
		credit = st->cfg.tun.icmp_msgs_burst;
	if (!credit) {
		s->global_credit = 0;
		return false;
	}
	{
		uint32_t spend = rng_below(&st->rng, 3);

		s->global_credit = credit > spend ? (uint32_t)(credit - spend) : 0;
	}
	return true;
}

/* Linux inet_peer_xrlim_allow(): per-host tokens in time units, capped at
 * six intervals; a host we have not seen starts with a full bucket. */
static bool icmp_peer_allow(struct stack *st, uint32_t addr)
{
	uint64_t timeout = (uint64_t)st->cfg.tun.icmp_ratelimit_ms * NS_PER_MS;
	uint64_t cap = ICMP_XRLIM_BURST_FACTOR * timeout;
	uint64_t h = ((uint64_t)addr + st->icmp.peer_key) * 0x9e3779b97f4a7c15ull;
	struct icmp_peer *p = &st->icmp.peers[(h >> 32) % ICMP_PEERS];
	uint64_t tokens;

	if (!timeout)
		return true;
	if (p->addr != addr) {
		p->addr = addr;
		p->tokens_ns = cap;
		p->last_ns = st->now;
	}
	tokens = p->tokens_ns + (st->now - p->last_ns);
	p->last_ns = st->now;
	if (tokens > cap)
		tokens = cap;
	if (tokens >= timeout) {
		p->tokens_ns = tokens - timeout;
		return true;
	}
	p->tokens_ns = tokens;
	return false;
}

static bool icmp_is_error_type(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return true;
	default:
		return type > ICMP_NR_TYPES;
	}
}

static void icmp_count_out(struct stack *st, uint8_t type)
{
	ICMP_INC(st, OUT_MSGS);
	if (type == ICMP_ECHOREPLY)
		ICMP_INC(st, OUT_ECHO_REPS);
	else if (type == ICMP_DEST_UNREACH)
		ICMP_INC(st, OUT_DEST_UNREACHS);
}

void icmp_send(struct stack *st, const struct pkt *orig, uint8_t type, uint8_t code, uint32_t info)
{
	const struct ipv4_hdr *oip = (const struct ipv4_hdr *)pkt_l3(orig);
	unsigned int ihl = ipv4_hdr_len(oip);
	uint32_t olen = (uint32_t)(orig->tail - (const uint8_t *)oip);
	struct ipv4_tx tx = { 0 };
	struct icmp_hdr *ih;
	uint32_t quote;
	struct pkt *pkt;

	/* RFC 1122 §3.2.2: no error about an error, about a non-initial
	 * fragment, about a datagram to a broadcast or multicast address or
	 * from a source that does not name a single host. */
	if (orig->l2_type != ETH_PKT_HOST || !stack_addr_is_local(st, oip->daddr))
		return;
	if (oip->saddr == 0 || ipv4_is_multicast(oip->saddr) || ipv4_is_lbcast(oip->saddr) ||
	    ipv4_is_loopback(oip->saddr) || stack_addr_is_bcast(st, oip->saddr))
		return;
	if (ntohs(oip->frag_off) & IP_OFFMASK)
		return;
	if (oip->protocol == IPPROTO_ICMP_) {
		const uint8_t *inner = (const uint8_t *)oip + ihl;

		if (olen < ihl + 1 || icmp_is_error_type(inner[0]))
			return;
	}

	/* Linux icmpv4_xrlim_allow(): fragmentation-needed is never limited,
	 * since PMTU discovery depends on it. */
	if ((st->cfg.tun.icmp_ratemask >> type & 1) &&
	    !(type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)) {
		if (!icmp_global_allow(st)) {
			ICMP_INC(st, OUT_RATE_LIMIT_GLOBAL);
			return;
		}
		if (!icmp_peer_allow(st, oip->saddr)) {
			ICMP_INC(st, OUT_RATE_LIMIT_HOST);
			return;
		}
	}

	quote = ICMP_ERR_MAX_LEN - (uint32_t)sizeof(struct ipv4_hdr) - (uint32_t)sizeof(*ih);
	if (quote > olen)
		quote = olen;
	pkt = pkt_alloc(st->pool, PKT_HEADROOM);
	if (!pkt) {
		ICMP_INC(st, OUT_ERRORS);
		pkt_drop(st, NULL, DROP_NOMEM);
		return;
	}
	ih = (struct icmp_hdr *)pkt_put(pkt, (uint32_t)sizeof(*ih) + quote);
	if (!ih) {
		ICMP_INC(st, OUT_ERRORS);
		pkt_drop(st, pkt, DROP_NOMEM);
		return;
	}
	ih->type = type;
	ih->code = code;
	ih->check = 0;
	ih->un.raw = htonl(info);
	memcpy(ih + 1, oip, quote);
	ih->check = csum_ip(ih, sizeof(*ih) + quote);

	tx.saddr = oip->daddr;
	tx.daddr = oip->saddr;
	tx.protocol = IPPROTO_ICMP_;
	tx.tos = (uint8_t)((oip->tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL);
	icmp_count_out(st, type);
	if (ipv4_output(st, pkt, &tx) < 0)
		ICMP_INC(st, OUT_ERRORS);
}

/* RFC 792 echo: the reply is the request with addresses swapped and type
 * 0, built over the request's own buffer unless someone else shares it. */
static void icmp_echo(struct stack *st, struct pkt *pkt)
{
	const struct ipv4_hdr *ip = (const struct ipv4_hdr *)pkt_l3(pkt);
	struct ipv4_tx tx = { 0 };
	struct icmp_hdr *ih;
	uint16_t old_word;

	if (st->cfg.tun.icmp_echo_ignore_all) {
		pkt_drop(st, pkt, DROP_ICMP_ECHO_IGNORED);
		return;
	}
	if (!stack_addr_is_local(st, ip->daddr) && st->cfg.tun.icmp_echo_ignore_broadcasts) {
		pkt_drop(st, pkt, DROP_ICMP_BROADCAST);
		return;
	}
	/* A broadcast echo is answered from the address on the asker's
	 * subnet, as Linux does (icmp_reply with the route's source). */
	tx.saddr = stack_addr_is_local(st, ip->daddr) ? ip->daddr : 0;
	tx.daddr = ip->saddr;
	tx.tos = ip->tos;
	tx.protocol = IPPROTO_ICMP_;

	if (pkt_is_shared(pkt)) {
		struct pkt *copy = pkt_copy(pkt, PKT_HEADROOM);

		pkt_free(pkt);
		if (!copy) {
			ICMP_INC(st, OUT_ERRORS);
			pkt_drop(st, NULL, DROP_NOMEM);
			return;
		}
		pkt = copy;
	}
	ih = (struct icmp_hdr *)pkt->data;
	memcpy(&old_word, ih, 2);
	ih->type = ICMP_ECHOREPLY;
	ih->code = 0;
	ih->check = csum_replace2(ih->check, old_word, htons(ICMP_ECHOREPLY << 8));
	pkt->l2_off = pkt->l3_off = pkt->l4_off = 0xffff;
	pkt->csum = PKT_CSUM_NONE;

	icmp_count_out(st, ICMP_ECHOREPLY);
	if (ipv4_output(st, pkt, &tx) < 0)
		ICMP_INC(st, OUT_ERRORS);
}

/* Errors carry the offending IP header and at least 8 bytes of its
 * payload (RFC 792); without them no socket could be found for it. */
static bool icmp_error_valid(const struct pkt *pkt)
{
	const struct ipv4_hdr *inner;

	if (!pkt_may_pull(pkt, sizeof(struct icmp_hdr) + sizeof(*inner)))
		return false;
	inner = (const struct ipv4_hdr *)(pkt->data + sizeof(struct icmp_hdr));
	return ipv4_hdr_version(inner) == 4 && ipv4_hdr_len(inner) >= sizeof(*inner);
}

void icmp_input(struct stack *st, struct pkt *pkt)
{
	const struct icmp_hdr *ih;

	ICMP_INC(st, IN_MSGS);
	if (!pkt_may_pull(pkt, sizeof(*ih))) {
		ICMP_INC(st, IN_ERRORS);
		pkt_drop(st, pkt, DROP_ICMP_INVALID);
		return;
	}
	if (pkt->csum != PKT_CSUM_UNNECESSARY && csum_ip(pkt->data, pkt_len(pkt)) != 0) {
		ICMP_INC(st, IN_CSUM_ERRORS);
		ICMP_INC(st, IN_ERRORS);
		pkt_drop(st, pkt, DROP_ICMP_CSUM);
		return;
	}
	ih = (const struct icmp_hdr *)pkt->data;
	if (ih->type > ICMP_NR_TYPES) {
		ICMP_INC(st, IN_ERRORS);
		pkt_drop(st, pkt, DROP_ICMP_INVALID);
		return;
	}

	switch (ih->type) {
	case ICMP_ECHO:
		ICMP_INC(st, IN_ECHOS);
		icmp_echo(st, pkt);
		return;
	case ICMP_ECHOREPLY:
		ICMP_INC(st, IN_ECHO_REPS);
		pkt_drop(st, pkt, DROP_NO_SOCKET); /* ping sockets arrive later */
		return;
	case ICMP_DEST_UNREACH:
		ICMP_INC(st, IN_DEST_UNREACHS);
		break;
	case ICMP_SOURCE_QUENCH:
		ICMP_INC(st, IN_SRC_QUENCHS);
		break;
	case ICMP_REDIRECT:
		ICMP_INC(st, IN_REDIRECTS);
		break;
	case ICMP_TIME_EXCEEDED:
		ICMP_INC(st, IN_TIME_EXCDS);
		break;
	case ICMP_PARAMETERPROB:
		ICMP_INC(st, IN_PARM_PROBS);
		break;
	case ICMP_TIMESTAMP:
		ICMP_INC(st, IN_TIMESTAMPS);
		pkt_consume(st, pkt);
		return;
	case ICMP_ADDRESS:
		ICMP_INC(st, IN_ADDR_MASKS);
		pkt_consume(st, pkt);
		return;
	default:
		pkt_consume(st, pkt);
		return;
	}

	/* An error message: validated and counted. No transport protocol
	 * registers an error handler yet, so it ends here. */
	if (!icmp_error_valid(pkt)) {
		ICMP_INC(st, IN_ERRORS);
		pkt_drop(st, pkt, DROP_ICMP_INVALID);
		return;
	}
	pkt_consume(st, pkt);
}
