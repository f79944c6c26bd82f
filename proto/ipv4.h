/* SPDX-License-Identifier: MIT */
/*
 * IPv4 input validation and local delivery (RFC 791, RFC 1122 §3.2.1) and
 * output through the routing table and the neighbour cache.
 */
#ifndef USNET_PROTO_IPV4_H
#define USNET_PROTO_IPV4_H

#include <stdbool.h>
#include <arpa/inet.h>
#include <stdint.h>

struct stack;
struct pkt;

/* Address classes, on network-order addresses. */
static inline bool ipv4_is_multicast(uint32_t a)
{
	return (ntohl(a) & 0xf0000000u) == 0xe0000000u;
}
static inline bool ipv4_is_lbcast(uint32_t a)
{
	return a == 0xffffffffu;
}
static inline bool ipv4_is_loopback(uint32_t a)
{
	return (ntohl(a) & 0xff000000u) == 0x7f000000u;
}
static inline bool ipv4_is_zeronet(uint32_t a)
{
	return (ntohl(a) & 0xff000000u) == 0;
}

struct ipv4_tx {
	uint32_t saddr; /* 0 = chosen by the route */
	uint32_t daddr;
	uint8_t protocol;
	uint8_t tos;
	uint8_t ttl; /* 0 = ip_default_ttl */
	uint8_t df; /* set Don't Fragment */
};

/** ipv4_input() - validate and deliver one datagram (data at the IP header). Consumes @pkt. */
void ipv4_input(struct stack *st, struct pkt *pkt);

/**
 * ipv4_output() - prepend an IPv4 header to the payload in @pkt and send it
 * to @tx->daddr. Consumes @pkt.
 * Return: 0, -ENETUNREACH if no route, -EMSGSIZE if larger than the MTU
 * (fragmentation is not implemented yet), -ENOBUFS from the neighbour
 * layer. Every failure is counted as a drop.
 */
int ipv4_output(struct stack *st, struct pkt *pkt, const struct ipv4_tx *tx);

#endif
