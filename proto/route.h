/* SPDX-License-Identifier: MIT */
/*
 * IPv4 forwarding information base: connected routes derived from local
 * addresses, static routes (a default gateway among them), longest-prefix
 * match with the lowest metric breaking ties.
 */
#ifndef USNET_PROTO_ROUTE_H
#define USNET_PROTO_ROUTE_H

#include <arpa/inet.h>
#include <stdint.h>

struct stack;

enum route_type {
	RTN_UNICAST = 1, /* via a gateway or on-link */
	RTN_LOCAL, /* one of our addresses */
	RTN_BROADCAST, /* limited or directed broadcast */
};

enum route_proto {
	RTPROT_KERNEL = 2, /* connected route made from an address */
	RTPROT_STATIC = 4, /* configured */
};

struct fib_entry {
	uint32_t dst; /* network order, already masked */
	uint32_t mask; /* network order */
	uint32_t gw; /* network order, 0 = on-link */
	uint32_t src; /* preferred source, 0 = choose */
	uint32_t metric;
	uint8_t plen;
	uint8_t proto; /* enum route_proto */
};

struct fib {
	struct fib_entry *entries; /* sorted: longest prefix, then lowest metric */
	uint32_t count;
	uint32_t max;
};

struct route_res {
	uint32_t nexthop; /* gateway, or the destination itself */
	uint32_t src; /* source address to use */
	uint32_t mtu;
	uint8_t type; /* enum route_type */
};

/** route_init() - allocate room for @max routes. Return: 0, -EINVAL, -ENOMEM. */
int route_init(struct stack *st, uint32_t max);
void route_fini(struct stack *st);

/**
 * route_add() - add a route to @dst/@plen via @gw (0 = on-link)
 * Return: 0, -EINVAL if @dst has host bits set or @plen > 32, -EEXIST for
 * the same prefix and metric, -ENETUNREACH if @gw is not on a connected
 * subnet (Linux: "Nexthop has invalid gateway"), -ENOSPC if the table is full.
 */
int route_add(struct stack *st, uint32_t dst, unsigned int plen, uint32_t gw, uint32_t src,
	      uint32_t metric, enum route_proto proto);

/**
 * route_del() - delete the route to @dst/@plen with @metric
 * (UINT32_MAX = any metric). Return: 0, -ESRCH if there is none.
 */
int route_del(struct stack *st, uint32_t dst, unsigned int plen, uint32_t metric);

/**
 * route_lookup() - where a datagram to @daddr goes
 * Return: 0 with @res filled, -ENETUNREACH if no route matches.
 */
int route_lookup(struct stack *st, uint32_t daddr, struct route_res *res);

/** route_mask() - network-order mask of @plen bits */
static inline uint32_t route_mask(unsigned int plen)
{
	return plen ? htonl(~0u << (32 - plen)) : 0;
}

#endif
