/* SPDX-License-Identifier: MIT */
/*
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo reply, error generation with
 * Linux's two rate limits (icmp_msgs_per_sec/icmp_msgs_burst globally,
 * icmp_ratelimit per destination host, both for the types in icmp_ratemask).
 */
#ifndef USNET_PROTO_ICMP_H
#define USNET_PROTO_ICMP_H

#include <stdint.h>

struct stack;
struct pkt;

#define ICMP_PEERS 256 /* per-host limiter slots (Linux: inet_peer) */

struct icmp_peer {
	uint32_t addr; /* network order, 0 = free */
	uint64_t tokens_ns; /* accumulated allowance */
	uint64_t last_ns;
};

struct icmp_state {
	uint32_t global_credit;
	uint64_t global_stamp_ns;
	uint64_t peer_key;
	struct icmp_peer peers[ICMP_PEERS];
};

/** icmp_init() - reset limiter state */
void icmp_init(struct stack *st);

/** icmp_input() - process an ICMP message (data at the ICMP header). Consumes @pkt. */
void icmp_input(struct stack *st, struct pkt *pkt);

/**
 * icmp_send() - send an ICMP error about @orig (borrowed; its l3 offset
 * points at the offending IP header), unless RFC 1122 §3.2.2 forbids it or a
 * rate limit says no.
 */
void icmp_send(struct stack *st, const struct pkt *orig, uint8_t type, uint8_t code, uint32_t info);

#endif
