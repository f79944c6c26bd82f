// SPDX-License-Identifier: MIT
/*
 * struct stack lifecycle, the entry points the daemon drives, and the
 * local address list (Linux in_device ifa_list).
 */
#include <errno.h>
#include <string.h>

#include "eth.h"
#include "ipv4.h"
#include "stack.h"

void stack_cfg_defaults(struct stack_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->neigh_max = 1024;
	cfg->route_max = 256;
	cfg->tun.ip_default_ttl = 64;
	cfg->tun.drop_unicast_in_l2_multicast = 0;
	cfg->tun.icmp_echo_ignore_all = 0;
	cfg->tun.icmp_echo_ignore_broadcasts = 1;
	cfg->tun.icmp_ratelimit_ms = 1000;
	cfg->tun.icmp_ratemask = 0x1818;
	cfg->tun.icmp_msgs_per_sec = 1000;
	cfg->tun.icmp_msgs_burst = 50;
	cfg->tun.neigh_base_reachable_time_ms = 30000;
	cfg->tun.neigh_retrans_time_ms = 1000;
	cfg->tun.neigh_delay_first_probe_time_ms = 5000;
	cfg->tun.neigh_gc_stale_time_ms = 60000;
	cfg->tun.neigh_locktime_ms = 1000;
	cfg->tun.neigh_mcast_solicit = 3;
	cfg->tun.neigh_ucast_solicit = 3;
	cfg->tun.neigh_unres_qlen_bytes = 212992;
}

int stack_init(struct stack *st, const struct stack_cfg *cfg, struct pkt_pool *pool,
	       const uint8_t seed[16])
{
	int rc;

	memset(st, 0, sizeof(*st));
	/* 68: RFC 791's minimum; 65535: what a total length can express. */
	if (cfg->mtu < 68 || cfg->mtu > 65535)
		return -EINVAL;
	st->cfg = *cfg;
	st->pool = pool;
	rng_init(&st->rng, seed);
	pkt_queue_init(&st->txq);
	for (unsigned int i = 0; i < IPV4_IDENTS; i++)
		st->ip_idents[i] = (uint16_t)rng_u64(&st->rng);
	rc = neigh_init(st, cfg->neigh_max);
	if (rc)
		return rc;
	rc = route_init(st, cfg->route_max);
	if (rc) {
		neigh_fini(st);
		return rc;
	}
	icmp_init(st);
	return 0;
}

void stack_fini(struct stack *st)
{
	pkt_queue_purge(&st->txq);
	neigh_fini(st);
	route_fini(st);
}

void stack_input(struct stack *st, struct pkt *pkt, uint64_t now_ns)
{
	st->now = now_ns;
	pkt->tstamp = now_ns;
	eth_input(st, pkt);
}

void stack_timers(struct stack *st, uint64_t now_ns)
{
	st->now = now_ns;
	neigh_timers(st);
}

uint64_t stack_next_timer(const struct stack *st)
{
	return neigh_next_timer(st);
}

void stack_xmit(struct stack *st, struct pkt *pkt)
{
	pkt_queue_push(&st->txq, pkt);
}

bool stack_addr_is_local(const struct stack *st, uint32_t addr)
{
	for (unsigned int i = 0; i < st->naddrs; i++)
		if (st->addrs[i].addr == addr)
			return true;
	return false;
}

bool stack_addr_is_bcast(const struct stack *st, uint32_t addr)
{
	if (ipv4_is_lbcast(addr))
		return true;
	for (unsigned int i = 0; i < st->naddrs; i++)
		if (st->addrs[i].bcast && st->addrs[i].bcast == addr)
			return true;
	return false;
}

int stack_addr_add(struct stack *st, uint32_t addr, unsigned int plen, uint64_t now_ns)
{
	struct ifaddr *ifa;
	uint32_t mask;
	int rc;

	st->now = now_ns;
	if (plen > 32 || ipv4_is_zeronet(addr) || ipv4_is_multicast(addr) || ipv4_is_lbcast(addr) ||
	    ipv4_is_loopback(addr))
		return -EINVAL;
	if (stack_addr_is_local(st, addr))
		return -EEXIST;
	if (st->naddrs == STACK_MAX_ADDRS)
		return -ENOSPC;
	mask = route_mask(plen);
	/* The network and broadcast addresses of a subnet are not host
	 * addresses, except on /31 and /32 (RFC 3021). */
	if (plen < 31 && ((addr & ~mask) == 0 || (addr & ~mask) == ~mask))
		return -EINVAL;

	ifa = &st->addrs[st->naddrs++];
	ifa->addr = addr;
	ifa->mask = mask;
	ifa->plen = (uint8_t)plen;
	ifa->bcast = plen < 31 ? (addr | ~mask) : 0;
	rc = route_add(st, addr & mask, plen, 0, addr, 0, RTPROT_KERNEL);
	if (rc && rc != -EEXIST) {
		st->naddrs--;
		return rc;
	}
	arp_announce(st, addr);
	return 0;
}

int stack_addr_del(struct stack *st, uint32_t addr)
{
	for (unsigned int i = 0; i < st->naddrs; i++) {
		struct ifaddr ifa = st->addrs[i];

		if (ifa.addr != addr)
			continue;
		memmove(&st->addrs[i], &st->addrs[i + 1], (st->naddrs - i - 1) * sizeof(ifa));
		st->naddrs--;
		/* Another address on the same subnet keeps the route alive,
		 * and becomes its preferred source (Linux fib_del_ifaddr). */
		for (unsigned int j = 0; j < st->naddrs; j++) {
			if ((st->addrs[j].addr & ifa.mask) != (addr & ifa.mask) ||
			    st->addrs[j].plen != ifa.plen)
				continue;
			for (uint32_t k = 0; k < st->fib.count; k++)
				if (st->fib.entries[k].src == addr &&
				    st->fib.entries[k].dst == (addr & ifa.mask) &&
				    st->fib.entries[k].plen == ifa.plen)
					st->fib.entries[k].src = st->addrs[j].addr;
			return 0;
		}
		route_del(st, addr & ifa.mask, ifa.plen, 0);
		return 0;
	}
	return -EADDRNOTAVAIL;
}
