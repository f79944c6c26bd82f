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
#include "tcp.h"

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
	cfg->tcp_max_socks = 16384;
	cfg->tcp_max_reqs = 16384;
	cfg->tcp_max_tw_buckets = 32768;
	cfg->tcp_ehash_buckets = 16384;
	cfg->tun.tcp_syncookies = 1;
	cfg->tun.tcp_sack = 1;
	cfg->tun.tcp_timestamps = 1;
	cfg->tun.tcp_window_scaling = 1;
	cfg->tun.tcp_rmem[0] = 4096;
	cfg->tun.tcp_rmem[1] = 131072;
	cfg->tun.tcp_rmem[2] = 6291456;
	cfg->tun.tcp_wmem[0] = 4096;
	cfg->tun.tcp_wmem[1] = 16384;
	cfg->tun.tcp_wmem[2] = 4194304;
	strcpy(cfg->tun.tcp_congestion_control, "cubic");
	cfg->tun.tcp_ack_coalesce = 1;
	cfg->tun.tcp_fin_timeout_s = TCP_FIN_TIMEOUT_S;
	cfg->tun.tcp_keepalive_time_s = TCP_KEEPALIVE_TIME_S;
	cfg->tun.tcp_keepalive_intvl_s = TCP_KEEPALIVE_INTVL_S;
	cfg->tun.tcp_keepalive_probes = TCP_KEEPALIVE_PROBES;
	cfg->tun.tcp_syn_retries = TCP_SYN_RETRIES;
	cfg->tun.tcp_synack_retries = TCP_SYNACK_RETRIES;
	cfg->tun.tcp_retries2 = TCP_RETRIES2;
	cfg->tun.tcp_orphan_retries = 0;
	cfg->tun.tcp_max_syn_backlog = 4096;
	cfg->tun.tcp_abort_on_overflow = 0;
	cfg->tun.tcp_slow_start_after_idle = 1;
	cfg->tun.tcp_moderate_rcvbuf = 1;
	cfg->tun.tcp_recovery = 1;
	cfg->tun.tcp_early_retrans = 3;
	cfg->tun.tcp_reordering = TCP_REORDERING;
	cfg->tun.tcp_max_reordering = TCP_MAX_REORDERING;
	cfg->tun.tcp_min_rtt_wlen_s = 300;
	cfg->tun.tcp_invalid_ratelimit_ms = 500;
	/* Linux 6.0+: INT_MAX, the stack-wide limit is off (per-socket
	 * tcp_invalid_ratelimit still applies). */
	cfg->tun.tcp_challenge_ack_limit = 0x7fffffff;
	cfg->tun.tcp_rto_min_us = TCP_RTO_MIN_US;
	cfg->tun.tcp_limit_output_bytes = 1048576;
	cfg->tun.somaxconn = 4096;
	cfg->tun.ip_local_port_range[0] = 32768;
	cfg->tun.ip_local_port_range[1] = 60999;
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
	pkt_queue_init(&st->loq);
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
	wheel_init(&st->wheel, 0);
	st->evq_head = NULL;
	st->evq_tail = &st->evq_head;
	rc = tcp_init(st);
	if (rc) {
		route_fini(st);
		neigh_fini(st);
		return rc;
	}
	return 0;
}

void stack_fini(struct stack *st)
{
	tcp_fini(st);
	pkt_queue_purge(&st->txq);
	pkt_queue_purge(&st->loq);
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
	wheel_advance(&st->wheel, now_ns, st, STACK_TIMER_BUDGET);
}

void stack_rx_begin(struct stack *st)
{
	st->rx_batch = true;
}

void stack_rx_end(struct stack *st, uint64_t now_ns)
{
	st->now = now_ns;
	st->rx_batch = false;
	tcp_poll(st);
}

void stack_loopback(struct stack *st, uint64_t now_ns)
{
	unsigned int n = st->loq.len < STACK_LOOPBACK_BUDGET ? st->loq.len : STACK_LOOPBACK_BUDGET;

	st->now = now_ns;
	while (n--) {
		struct pkt *pkt = pkt_queue_pop(&st->loq);

		ipv4_input(st, pkt);
	}
}

void stack_poll(struct stack *st, uint64_t now_ns)
{
	st->now = now_ns;
	tcp_poll(st);
}

uint64_t stack_next_timer(const struct stack *st)
{
	uint64_t n = neigh_next_timer(st), w = wheel_next(&st->wheel);

	return n < w ? n : w;
}

void sock_event(struct stack *st, struct sock *sk, uint32_t ev)
{
	sk->events |= ev;
	if (sk->orphan || sk->ev_pprev)
		return;
	sk->ev_next = NULL;
	sk->ev_pprev = st->evq_tail;
	*st->evq_tail = sk;
	st->evq_tail = &sk->ev_next;
}

void sock_evq_remove(struct stack *st, struct sock *sk)
{
	if (!sk->ev_pprev)
		return;
	*sk->ev_pprev = sk->ev_next;
	if (sk->ev_next)
		sk->ev_next->ev_pprev = sk->ev_pprev;
	else
		st->evq_tail = sk->ev_pprev;
	sk->ev_next = NULL;
	sk->ev_pprev = NULL;
}

struct sock *stack_event_pop(struct stack *st)
{
	struct sock *sk = st->evq_head;

	if (sk)
		sock_evq_remove(st, sk);
	return sk;
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
