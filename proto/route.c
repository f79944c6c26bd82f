// SPDX-License-Identifier: MIT
/*
 * IPv4 FIB. The table is an array kept sorted by prefix length (longest
 * first), then metric, so the first match is the answer. A host has a
 * handful of routes; when that stops being true this becomes a trie behind
 * the same three functions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4.h"
#include "stack.h"

int route_init(struct stack *st, uint32_t max)
{
	struct fib *f = &st->fib;

	memset(f, 0, sizeof(*f));
	if (!max || max > 65536)
		return -EINVAL;
	f->entries = calloc(max, sizeof(*f->entries));
	if (!f->entries)
		return -ENOMEM;
	f->max = max;
	return 0;
}

void route_fini(struct stack *st)
{
	free(st->fib.entries);
	memset(&st->fib, 0, sizeof(st->fib));
}

static bool route_sorts_before(const struct fib_entry *a, const struct fib_entry *b)
{
	if (a->plen != b->plen)
		return a->plen > b->plen;
	return a->metric < b->metric;
}

/* Is @gw on a connected subnet? (Linux fib_check_nh for a gateway) */
static bool route_gw_onlink(const struct stack *st, uint32_t gw)
{
	for (unsigned int i = 0; i < st->naddrs; i++)
		if ((gw & st->addrs[i].mask) == (st->addrs[i].addr & st->addrs[i].mask) &&
		    gw != st->addrs[i].addr)
			return true;
	return false;
}

int route_add(struct stack *st, uint32_t dst, unsigned int plen, uint32_t gw, uint32_t src,
	      uint32_t metric, enum route_proto proto)
{
	struct fib *f = &st->fib;
	struct fib_entry e = { 0 };
	uint32_t i;

	if (plen > 32 || (dst & ~route_mask(plen)))
		return -EINVAL;
	if (gw && (ipv4_is_multicast(gw) || ipv4_is_lbcast(gw) || ipv4_is_zeronet(gw)))
		return -EINVAL;
	if (gw && !route_gw_onlink(st, gw))
		return -ENETUNREACH;
	for (i = 0; i < f->count; i++)
		if (f->entries[i].dst == dst && f->entries[i].plen == plen &&
		    f->entries[i].metric == metric)
			return -EEXIST;
	if (f->count == f->max)
		return -ENOSPC;

	e.dst = dst;
	e.mask = route_mask(plen);
	e.plen = (uint8_t)plen;
	e.gw = gw;
	e.src = src;
	e.metric = metric;
	e.proto = (uint8_t)proto;
	for (i = 0; i < f->count && !route_sorts_before(&e, &f->entries[i]); i++)
		;
	memmove(&f->entries[i + 1], &f->entries[i], (f->count - i) * sizeof(e));
	f->entries[i] = e;
	f->count++;
	return 0;
}

int route_del(struct stack *st, uint32_t dst, unsigned int plen, uint32_t metric)
{
	struct fib *f = &st->fib;

	for (uint32_t i = 0; i < f->count; i++) {
		struct fib_entry *e = &f->entries[i];

		if (e->dst == dst && e->plen == plen &&
		    (metric == UINT32_MAX || e->metric == metric)) {
			memmove(e, e + 1, (f->count - i - 1) * sizeof(*e));
			f->count--;
			return 0;
		}
	}
	return -ESRCH;
}

static uint32_t route_pick_src(const struct stack *st, uint32_t nexthop)
{
	for (unsigned int i = 0; i < st->naddrs; i++)
		if ((nexthop & st->addrs[i].mask) == (st->addrs[i].addr & st->addrs[i].mask))
			return st->addrs[i].addr;
	return st->naddrs ? st->addrs[0].addr : 0;
}

int route_lookup(struct stack *st, uint32_t daddr, struct route_res *res)
{
	const struct fib *f = &st->fib;

	memset(res, 0, sizeof(*res));
	res->mtu = st->cfg.mtu;
	if (stack_addr_is_local(st, daddr)) {
		res->type = RTN_LOCAL;
		res->nexthop = daddr;
		res->src = daddr;
		return 0;
	}
	if (stack_addr_is_bcast(st, daddr)) {
		res->type = RTN_BROADCAST;
		res->nexthop = daddr;
		res->src = route_pick_src(st, daddr);
		return res->src ? 0 : -ENETUNREACH;
	}
	for (uint32_t i = 0; i < f->count; i++) {
		const struct fib_entry *e = &f->entries[i];

		if ((daddr & e->mask) != e->dst)
			continue;
		res->type = RTN_UNICAST;
		res->nexthop = e->gw ? e->gw : daddr;
		res->src = e->src ? e->src : route_pick_src(st, res->nexthop);
		return 0;
	}
	return -ENETUNREACH;
}
