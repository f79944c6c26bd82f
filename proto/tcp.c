// SPDX-License-Identifier: MIT
/*
 * TCP socket interface and tables: socket pools, the established and
 * listener hash tables, local ports (ip_local_port_range), state changes,
 * and the calls the owner makes (open, bind, listen, accept, connect,
 * push, recved, shutdown, close, options, info) with Linux's semantics
 * (net/ipv4/tcp.c, inet_connection_sock.c, inet_hashtables.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4.h"
#include "route.h"
#include "stack.h"
#include "tcp.h"

#define TCP_LHASH_SIZE 256u

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static bool tcp_sock_in_use(const struct tcp_sock *tp)
{
	return tp->sk.protocol == IPPROTO_TCP_;
}

static void tcp_pool_free_hook(void *ctx, struct pkt *p)
{
	tcp_tsq_release(ctx, p);
}

int tcp_init(struct stack *st)
{
	struct tcp_table *t = &st->tcp;
	uint32_t nb;

	memset(t, 0, sizeof(*t));
	if (!st->cfg.tcp_max_socks || !st->cfg.tcp_max_reqs || !st->cfg.tcp_max_tw_buckets)
		return -EINVAL;
	nb = pow2_at_least(st->cfg.tcp_ehash_buckets ? st->cfg.tcp_ehash_buckets : 1024);
	t->socks = calloc(st->cfg.tcp_max_socks, sizeof(*t->socks));
	t->reqs = calloc(st->cfg.tcp_max_reqs, sizeof(*t->reqs));
	t->tws = calloc(st->cfg.tcp_max_tw_buckets, sizeof(*t->tws));
	t->ehash = calloc(nb, sizeof(*t->ehash));
	t->rhash = calloc(nb, sizeof(*t->rhash));
	t->twhash = calloc(nb, sizeof(*t->twhash));
	t->lhash = calloc(TCP_LHASH_SIZE, sizeof(*t->lhash));
	t->port_refs = calloc(65536, sizeof(*t->port_refs));
	if (!t->socks || !t->reqs || !t->tws || !t->ehash || !t->rhash || !t->twhash || !t->lhash ||
	    !t->port_refs) {
		tcp_fini(st);
		return -ENOMEM;
	}
	t->nsocks = st->cfg.tcp_max_socks;
	t->nreqs = st->cfg.tcp_max_reqs;
	t->ntws = st->cfg.tcp_max_tw_buckets;
	for (uint32_t i = t->nsocks; i-- > 0;) {
		t->socks[i].hash_next = t->free_socks;
		t->free_socks = &t->socks[i];
	}
	for (uint32_t i = t->nreqs; i-- > 0;) {
		t->reqs[i].hash_next = t->free_reqs;
		t->free_reqs = &t->reqs[i];
	}
	for (uint32_t i = t->ntws; i-- > 0;) {
		t->tws[i].hash_next = t->free_tws;
		t->free_tws = &t->tws[i];
	}
	t->nfree_socks = t->nsocks;
	t->nfree_reqs = t->nreqs;
	t->nfree_tws = t->ntws;
	t->ehash_mask = nb - 1;
	t->lhash_mask = TCP_LHASH_SIZE - 1;
	t->hash_key[0] = rng_u64(&st->rng);
	t->hash_key[1] = rng_u64(&st->rng);
	t->secret.isn_key[0] = rng_u64(&st->rng);
	t->secret.isn_key[1] = rng_u64(&st->rng);
	t->secret.ts_key[0] = rng_u64(&st->rng);
	t->secret.ts_key[1] = rng_u64(&st->rng);
	for (int i = 0; i < 2; i++) {
		t->secret.cookie_key[i][0] = rng_u64(&st->rng);
		t->secret.cookie_key[i][1] = rng_u64(&st->rng);
	}
	t->port_hint = rng_u64(&st->rng) & 0xffff;
	if (st->pool) {
		st->pool->free_hook = tcp_pool_free_hook;
		st->pool->free_ctx = st;
	}
	return 0;
}

/*
 * TCP small queues (Linux tcp_small_queue_check, tsq_tasklet): a socket may
 * keep at most about a millisecond of its pacing rate (1 MB at most,
 * tcp_limit_output_bytes) in the queues below TCP: the stack's transmit
 * queue and the link's ring. Without it a bulk sender fills them with its
 * whole window, the RTT it measures includes its own queue, and cwnd grows
 * far past the path's capacity. A throttled socket is not cwnd-limited, so
 * congestion control stops growing cwnd meanwhile. When its frames leave,
 * tcp_tsq_release() lists it and tcp_poll() lets it send again.
 */
void tcp_tsq_release(struct stack *st, struct pkt *p)
{
	uint32_t idx = p->tsq_owner - 1;
	struct tcp_sock *tp;

	p->tsq_owner = 0;
	if (idx >= st->tcp.nsocks)
		return;
	tp = &st->tcp.socks[idx];
	if (tp->gen != p->tsq_gen || !tcp_sock_in_use(tp))
		return;
	tp->tsq_bytes = tp->tsq_bytes > p->tsq_len ? tp->tsq_bytes - p->tsq_len : 0;
	if (tp->tsq_throttled)
		tcp_poll_add(st, tp);
}

void tcp_poll_add(struct stack *st, struct tcp_sock *tp)
{
	if (tp->poll_listed)
		return;
	tp->poll_listed = 1;
	tp->poll_next = st->tcp.poll_head;
	st->tcp.poll_head = tp;
}

void tcp_poll(struct stack *st)
{
	struct tcp_sock *tp;

	while ((tp = st->tcp.poll_head)) {
		st->tcp.poll_head = tp->poll_next;
		tp->poll_next = NULL;
		tp->poll_listed = 0;
		if (tp->tsq_throttled) {
			tp->tsq_throttled = 0;
			tcp_write_xmit(st, tp);
		}
		if (tp->ack_deferred) {
			/* Data sent above carried the ACK already. */
			tp->ack_deferred = 0;
			if (tp->ack.pending & TCP_ACK_SCHED)
				tcp_send_ack(st, tp);
		}
	}
}

/* Linux tcp_update_pacing_rate(): twice cwnd per RTT in slow start, 1.2
 * times after; TCP small queues are sized from it even when nothing
 * paces. */
void tcp_update_pacing_rate(struct tcp_sock *tp)
{
	uint32_t srtt = tp->srtt_us >> 3;
	uint64_t rate;

	if (!srtt) {
		tp->sk_pacing_rate = UINT64_MAX;
		return;
	}
	rate = (uint64_t)tp->mss_cache * tcp_snd_cwnd(tp) * 1000000ull / srtt;
	if (tcp_snd_cwnd(tp) < tp->cc.snd_ssthresh / 2)
		rate *= 2;
	else
		rate = rate * 6 / 5;
	tp->sk_pacing_rate = rate;
}

void tcp_fini(struct stack *st)
{
	struct tcp_table *t = &st->tcp;

	for (uint32_t i = 0; t->socks && i < t->nsocks; i++) {
		struct tcp_sock *tp = &t->socks[i];

		if (!tcp_sock_in_use(tp))
			continue;
		pkt_queue_purge(&tp->write_q);
		pkt_queue_purge(&tp->rtx_q);
		pkt_queue_purge(&tp->ofo_q);
		pkt_queue_purge(&tp->rx_hold);
	}
	free(t->socks);
	free(t->reqs);
	free(t->tws);
	free(t->ehash);
	free(t->rhash);
	free(t->twhash);
	free(t->lhash);
	free(t->port_refs);
	memset(t, 0, sizeof(*t));
}

uint32_t tcp_hash4(const struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
		   uint16_t dport)
{
	uint32_t k[3] = { saddr, daddr, (uint32_t)sport << 16 | dport };

	return (uint32_t)siphash24(st->tcp.hash_key, k, sizeof(k)) & st->tcp.ehash_mask;
}

void tcp_ehash_add(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_sock **head =
		&st->tcp.ehash[tcp_hash4(st, tp->saddr, tp->sport, tp->daddr, tp->dport)];

	tp->hash_next = *head;
	if (*head)
		(*head)->hash_pprev = &tp->hash_next;
	*head = tp;
	tp->hash_pprev = head;
}

void tcp_ehash_del(struct stack *st, struct tcp_sock *tp)
{
	if (!tp->hash_pprev)
		return;
	*tp->hash_pprev = tp->hash_next;
	if (tp->hash_next)
		tp->hash_next->hash_pprev = tp->hash_pprev;
	tp->hash_next = NULL;
	tp->hash_pprev = NULL;
}

struct tcp_sock *tcp_ehash_lookup(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
				  uint16_t dport)
{
	struct tcp_sock *tp = st->tcp.ehash[tcp_hash4(st, saddr, sport, daddr, dport)];

	for (; tp; tp = tp->hash_next)
		if (tp->saddr == saddr && tp->sport == sport && tp->daddr == daddr &&
		    tp->dport == dport)
			return tp;
	return NULL;
}

static struct tcp_sock **tcp_lhash_head(struct stack *st, uint16_t port)
{
	return &st->tcp.lhash[ntohs(port) & st->tcp.lhash_mask];
}

/* A listener bound to the exact address beats one bound to INADDR_ANY
 * (Linux compute_score). */
struct tcp_sock *tcp_listener_lookup(struct stack *st, uint32_t daddr, uint16_t dport)
{
	struct tcp_sock *any = NULL;

	for (struct tcp_sock *tp = *tcp_lhash_head(st, dport); tp; tp = tp->hash_next) {
		if (tp->sport != dport || (tp->sk.opts & SK_OPT_V6ONLY))
			continue;
		if (tp->saddr == daddr)
			return tp;
		if (tp->saddr == 0 && !any)
			any = tp;
	}
	return any;
}

void tcp_port_get(struct stack *st, uint16_t port)
{
	st->tcp.port_refs[ntohs(port)]++;
}

void tcp_port_put(struct stack *st, uint16_t port)
{
	if (st->tcp.port_refs[ntohs(port)])
		st->tcp.port_refs[ntohs(port)]--;
}

struct tcp_sock *tcp_sock_alloc(struct stack *st)
{
	struct tcp_table *t = &st->tcp;
	struct tcp_sock *tp = t->free_socks;
	uint16_t gen;

	if (!tp)
		return NULL;
	t->free_socks = tp->hash_next;
	t->nfree_socks--;
	gen = tp->gen;
	tcp_init_sock_defaults(st, tp);
	/* Frames still queued from the previous user of this slot must not
	 * release quota from the new one. */
	tp->gen = (uint16_t)(gen + 1);
	return tp;
}

static void tcp_sock_free(struct stack *st, struct tcp_sock *tp)
{
	pkt_queue_purge(&tp->write_q);
	pkt_queue_purge(&tp->rtx_q);
	pkt_queue_purge(&tp->ofo_q);
	pkt_queue_purge(&tp->rx_hold);
	sock_evq_remove(st, &tp->sk);
	if (tp->poll_listed) {
		struct tcp_sock **pp = &st->tcp.poll_head;

		while (*pp && *pp != tp)
			pp = &(*pp)->poll_next;
		if (*pp)
			*pp = tp->poll_next;
	}
	{
		uint16_t gen = tp->gen;

		memset(tp, 0, sizeof(*tp));
		tp->gen = gen;
	}
	tp->hash_next = st->tcp.free_socks;
	st->tcp.free_socks = tp;
	st->tcp.nfree_socks++;
}

uint32_t tcp_ts_now(const struct stack *st)
{
	/* RFC 7323 §5.4: a 1 ms clock, as Linux's default */
	return (uint32_t)(st->now / 1000000ull);
}

void tcp_init_sock_defaults(struct stack *st, struct tcp_sock *tp)
{
	const struct stack_tunables *tun = &st->cfg.tun;

	memset(tp, 0, sizeof(*tp));
	tp->sk.protocol = IPPROTO_TCP_;
	tp->sk.sndbuf = tun->tcp_wmem[1];
	tp->sk.rcvbuf = tun->tcp_rmem[1];
	tp->state = TCP_CLOSE;
	tp->mss_cache = TCP_MSS_DEFAULT;
	tp->mss_clamp = TCP_MSS_DEFAULT;
	tp->advmss = TCP_MSS_DEFAULT;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->mdev_us = TCP_TIMEOUT_INIT_US;
	tp->reordering = tun->tcp_reordering;
	tp->tcp_header_len = TCP_HDR_LEN;
	tp->ca_ops = tcp_cc_find(tun->tcp_congestion_control);
	if (!tp->ca_ops)
		tp->ca_ops = &tcp_cubic_ops;
	tp->cc.snd_cwnd = TCP_INIT_CWND;
	tp->cc.snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->cc.snd_cwnd_clamp = ~0u;
	tp->cc.mss = TCP_MSS_DEFAULT;
	tp->rack.reo_wnd_steps = 1;
	tp->sk_pacing_rate = UINT64_MAX;
	tp->ack.ato_us = TCP_ATO_MIN_US;
	tp->ack.rcv_mss = TCP_MSS_DEFAULT;
	pkt_queue_init(&tp->write_q);
	pkt_queue_init(&tp->rtx_q);
	pkt_queue_init(&tp->ofo_q);
	pkt_queue_init(&tp->rx_hold);
	tcp_timers_init(tp);
}

uint16_t tcp_route_mss(struct stack *st, uint32_t daddr)
{
	struct route_res res;
	uint32_t mtu = st->cfg.mtu;

	if (route_lookup(st, daddr, &res) == 0)
		mtu = res.mtu;
	if (mtu < 40 + TCP_MIN_MSS)
		return TCP_MIN_MSS;
	mtu -= 40;	/* IPv4 and TCP headers without options */
	return (uint16_t)(mtu > TCP_MAX_MSS ? TCP_MAX_MSS : mtu);
}

/* Linux tcp_sync_mss(): the payload of a full segment. */
void tcp_sync_mss(struct stack *st, struct tcp_sock *tp)
{
	uint32_t mss = tcp_route_mss(st, tp->daddr);

	if (tp->mss_clamp && mss > tp->mss_clamp)
		mss = tp->mss_clamp;
	if (tp->user_mss && mss > tp->user_mss)
		mss = tp->user_mss;
	mss -= tp->tcp_header_len - TCP_HDR_LEN;
	/* Linux tcp_bound_to_half_wnd(): tiny windows get small segments. */
	if (tp->max_window && tp->max_window > TCP_MSS_DEFAULT && mss > tp->max_window / 2)
		mss = tp->max_window / 2;
	if (mss < TCP_MIN_MSS - (tp->tcp_header_len - TCP_HDR_LEN))
		mss = TCP_MIN_MSS - (tp->tcp_header_len - TCP_HDR_LEN);
	tp->mss_cache = (uint16_t)mss;
	tp->cc.mss = mss;
}

/* Free receive space: what the window may offer. */
uint32_t tcp_rx_space(const struct tcp_sock *tp)
{
	uint64_t used = tp->rx_hold.bytes + tp->ofo_q.bytes;

	if (tp->sk.ops)
		used += tp->sk.ops->rx_queued(tp->sk.ctx);
	return used >= tp->sk.rcvbuf ? 0 : (uint32_t)(tp->sk.rcvbuf - used);
}

/* Data that arrived before the owner attached its streams. */
void tcp_deliver_held(struct stack *st, struct tcp_sock *tp)
{
	struct pkt *p;

	if (!tp->sk.ops)
		return;
	while ((p = tp->rx_hold.head)) {
		size_t n = tp->sk.ops->rx_append(tp->sk.ctx, p->data, pkt_len(p));

		if (n < pkt_len(p)) {
			pkt_pull(p, (uint32_t)n);
			tp->rx_hold.bytes -= (uint32_t)n;
			tp->copied_seq += (uint32_t)n;
			break;
		}
		tp->copied_seq += (uint32_t)n;
		pkt_free(pkt_queue_pop(&tp->rx_hold));
	}
	if (tp->rx_hold.len == 0 && (tp->shutdown & RCV_SHUTDOWN))
		sock_event(st, &tp->sk, SK_EV_READABLE | SK_EV_HUP);
	else if (tp->copied_seq != tp->rcv_nxt || tp->rx_hold.len == 0)
		sock_event(st, &tp->sk, SK_EV_READABLE);
}

void tcp_cc_sync(struct stack *st, struct tcp_sock *tp)
{
	tp->cc.now_ns = st->now;
	tp->cc.packets_in_flight = tcp_packets_in_flight(tp);
	tp->cc.srtt_us = tp->srtt_us >> 3;
	tp->cc.min_rtt_us = tp->min_rtt_us;
	tp->cc.delivered = tp->delivered;
	tp->cc.snd_una = tp->snd_una;
	tp->cc.snd_nxt = tp->snd_nxt;
	tp->cc.mss = tp->mss_cache;
	tp->cc.is_cwnd_limited = tp->is_cwnd_limited;
}

void tcp_cc_init(struct stack *st, struct tcp_sock *tp)
{
	uint64_t cwnd = tp->cc.snd_cwnd;

	tcp_cc_sync(st, tp);
	memset(tp->cc.priv, 0, sizeof(tp->cc.priv));
	tp->cc.pacing_rate = 0;
	if (tp->ca_ops->init)
		tp->ca_ops->init(&tp->cc);
	if (!tp->cc.snd_cwnd)
		tp->cc.snd_cwnd = (uint32_t)cwnd;
}

static const uint8_t tcp_closing_state[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED] = TCP_FIN_WAIT1, [TCP_SYN_SENT] = TCP_CLOSE,
	[TCP_SYN_RECV] = TCP_FIN_WAIT1,	   [TCP_FIN_WAIT1] = TCP_FIN_WAIT1,
	[TCP_FIN_WAIT2] = TCP_FIN_WAIT2,   [TCP_TIME_WAIT] = TCP_CLOSE,
	[TCP_CLOSE] = TCP_CLOSE,	   [TCP_CLOSE_WAIT] = TCP_LAST_ACK,
	[TCP_LAST_ACK] = TCP_LAST_ACK,	   [TCP_LISTEN] = TCP_CLOSE,
	[TCP_CLOSING] = TCP_CLOSING,
};

/* Linux tcp_close_state(): the state after our FIN is queued; true if a
 * FIN must be sent. */
static bool tcp_close_state(struct stack *st, struct tcp_sock *tp)
{
	int old = tp->state, next = tcp_closing_state[old];

	tcp_set_state(st, tp, next);
	return old == TCP_ESTABLISHED || old == TCP_SYN_RECV || old == TCP_CLOSE_WAIT;
}

static bool tcp_state_counts_estab(int state)
{
	/* RFC 4022 tcpCurrEstab: ESTABLISHED or CLOSE-WAIT */
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;
}

void tcp_set_state(struct stack *st, struct tcp_sock *tp, int state)
{
	int old = tp->state;

	if (old == state)
		return;
	if (tcp_state_counts_estab(state) && !tcp_state_counts_estab(old))
		TCP_INC(st, CURR_ESTAB);
	else if (!tcp_state_counts_estab(state) && tcp_state_counts_estab(old))
		TCP_DEC(st, CURR_ESTAB);
	if (state == TCP_CLOSE) {
		/* Linux tcp_set_state(): every end of a synchronized
		 * connection that skips the FIN exchange is an EstabReset:
		 * a RST either way, a timeout, an abort. */
		if (old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT)
			TCP_INC(st, ESTAB_RESETS);
		tcp_ehash_del(st, tp);
		if (tp->bound) {
			if (!(tp->sk.opts & SK_OPT_V6ONLY))
				tcp_port_put(st, tp->sport);
			tp->bound = 0;
		}
	}
	tp->state = (uint8_t)state;
	TRACE(st, TR_TCP, "tcp %u->%u: %d -> %d", ntohs(tp->sport), ntohs(tp->dport), old, state);
}

static void tcp_destroy(struct stack *st, struct tcp_sock *tp)
{
	tcp_clear_timers(st, tp);
	if (tp->state == TCP_LISTEN)
		tcp_listen_stop(st, tp);
	if (tp->listener)
		tcp_acceptq_unlink(st, tp);
	if (tp->state != TCP_CLOSE) {
		tcp_set_state(st, tp, TCP_CLOSE);
	} else if (tp->bound) {
		/* Bound and never used: the port was taken by tcp_bind() and
		 * no state change will give it back (Linux inet_put_port()). */
		tcp_port_put(st, tp->sport);
		tp->bound = 0;
	}
	tcp_sock_free(st, tp);
}

/* Linux tcp_done(): the connection is over. An orphan goes away; an owned
 * socket stays in CLOSE until its owner closes it. */
void tcp_done(struct stack *st, struct tcp_sock *tp)
{
	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV)
		TCP_INC(st, ATTEMPT_FAILS);
	tcp_set_state(st, tp, TCP_CLOSE);
	tcp_clear_timers(st, tp);
	tp->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	pkt_queue_purge(&tp->write_q);
	pkt_queue_purge(&tp->rtx_q);
	pkt_queue_purge(&tp->ofo_q);
	tp->packets_out = tp->sacked_out = tp->lost_out = tp->retrans_out = 0;
	if (tp->sk.orphan) {
		tcp_destroy(st, tp);
		return;
	}
	sock_event(st, &tp->sk, SK_EV_HUP | SK_EV_READABLE | SK_EV_WRITABLE);
}

/* Linux tcp_reset(): a RST ends the connection with an error. */
void tcp_reset_sock(struct stack *st, struct tcp_sock *tp, int err)
{
	if (!err) {
		switch (tp->state) {
		case TCP_SYN_SENT:
			err = ECONNREFUSED;
			break;
		case TCP_CLOSE_WAIT:
			err = EPIPE;
			break;
		default:
			err = ECONNRESET;
			break;
		}
	}
	tp->sk.err = err;
	if (!tp->sk.orphan)
		sock_event(st, &tp->sk, SK_EV_ERROR);
	tcp_done(st, tp);
}

/* --- socket interface ------------------------------------------------------------------- */

struct tcp_sock *tcp_open(struct stack *st)
{
	return tcp_sock_alloc(st);
}

void tcp_attach(struct stack *st, struct tcp_sock *tp, const struct sk_stream_ops *ops, void *ctx)
{
	tp->sk.ops = ops;
	tp->sk.ctx = ctx;
	tcp_deliver_held(st, tp);
	if (tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT)
		sock_event(st, &tp->sk, SK_EV_WRITABLE);
}

static bool tcp_addr_ok(const struct stack *st, uint32_t addr)
{
	return addr == 0 || stack_addr_is_local(st, addr);
}

/* Would binding @port conflict with a listener or another bound socket?
 * Linux inet_csk_bind_conflict(), reduced: SO_REUSEADDR lets sockets share
 * a port as long as none of them listens on an overlapping address. */
static bool tcp_same_family(const struct tcp_sock *a, const struct tcp_sock *b)
{
	return !((a->sk.opts ^ b->sk.opts) & SK_OPT_V6ONLY);
}

static bool tcp_bind_conflict(struct stack *st, const struct tcp_sock *tp, uint32_t addr,
			      uint16_t port)
{
	for (struct tcp_sock *l = *tcp_lhash_head(st, port); l; l = l->hash_next)
		if (l->sport == port && tcp_same_family(l, tp) &&
		    (l->saddr == 0 || addr == 0 || l->saddr == addr))
			return true;
	/* IPv6-only sockets hold no IPv4 port (tcp_bind()). */
	if (!st->tcp.port_refs[ntohs(port)] || (tp->sk.opts & SK_OPT_V6ONLY))
		return false;
	return !(tp->sk.opts & SK_OPT_REUSEADDR);
}

/* Linux inet_csk_find_open_port() / __inet_hash_connect(), simplified: a
 * local port nobody holds, searched from a random point of the range. */
static uint16_t tcp_pick_port(struct stack *st)
{
	uint32_t lo = st->cfg.tun.ip_local_port_range[0], hi = st->cfg.tun.ip_local_port_range[1];
	uint32_t n, start;

	if (lo > hi || hi > 65535 || lo == 0)
		return 0;
	n = hi - lo + 1;
	start = st->tcp.port_hint % n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t port = lo + (start + i) % n;

		if (st->tcp.port_refs[port] == 0 && !tcp_listener_lookup(st, 0, htons((uint16_t)port))) {
			st->tcp.port_hint = start + i + 1;
			return htons((uint16_t)port);
		}
	}
	return 0;
}

int tcp_bind(struct stack *st, struct tcp_sock *tp, uint32_t addr, uint16_t port)
{
	if (tp->state != TCP_CLOSE || tp->bound)
		return -EINVAL;
	if (!tcp_addr_ok(st, addr))
		return -EADDRNOTAVAIL;
	if (!port) {
		port = tcp_pick_port(st);
		if (!port)
			return -EADDRINUSE;
	} else if (tcp_bind_conflict(st, tp, addr, port)) {
		return -EADDRINUSE;
	}
	tp->saddr = addr;
	tp->sport = port;
	tp->bound = 1;
	if (!(tp->sk.opts & SK_OPT_V6ONLY))
		tcp_port_get(st, port);
	return 0;
}

int tcp_listen(struct stack *st, struct tcp_sock *tp, int backlog)
{
	uint32_t somax = st->cfg.tun.somaxconn;
	struct tcp_sock **head;

	if (tp->state == TCP_LISTEN) {
		/* Linux: listen() again only changes the backlog. */
		tp->lq.backlog = backlog < 0 ? 0 : (uint32_t)backlog > somax ? somax : (uint32_t)backlog;
		return 0;
	}
	if (tp->state != TCP_CLOSE || !tp->bound)
		return -EINVAL;
	for (struct tcp_sock *l = *tcp_lhash_head(st, tp->sport); l; l = l->hash_next)
		if (l->sport == tp->sport && tcp_same_family(l, tp) &&
		    (l->saddr == 0 || tp->saddr == 0 || l->saddr == tp->saddr))
			return -EADDRINUSE;
	memset(&tp->lq, 0, sizeof(tp->lq));
	tp->lq.backlog = backlog < 0 ? 0 : (uint32_t)backlog > somax ? somax : (uint32_t)backlog;
	head = tcp_lhash_head(st, tp->sport);
	tp->hash_next = *head;
	if (*head)
		(*head)->hash_pprev = &tp->hash_next;
	*head = tp;
	tp->hash_pprev = head;
	tp->state = TCP_LISTEN;
	return 0;
}

struct tcp_sock *tcp_accept(struct stack *st, struct tcp_sock *lt)
{
	struct tcp_sock *child;

	if (lt->state != TCP_LISTEN || !lt->lq.acceptq_head)
		return NULL;
	child = lt->lq.acceptq_head;
	tcp_acceptq_unlink(st, child);
	return child;
}

int tcp_connect(struct stack *st, struct tcp_sock *tp, uint32_t daddr, uint16_t dport)
{
	struct route_res res;
	struct tcp_tw *tw;
	int rc;

	if (tp->state == TCP_SYN_SENT)
		return -EALREADY;
	if (tp->state != TCP_CLOSE)
		return -EISCONN;
	if (!daddr || !dport || ipv4_is_multicast(daddr) || ipv4_is_lbcast(daddr))
		return -EINVAL;
	if (route_lookup(st, daddr, &res) < 0)
		return -ENETUNREACH;
	if (res.type == RTN_BROADCAST)
		return -ENETUNREACH;
	if (!tp->saddr)
		tp->saddr = res.src;
	if (!tp->bound) {
		rc = tcp_bind(st, tp, tp->saddr, 0);
		if (rc)
			return rc == -EADDRINUSE ? -EADDRNOTAVAIL : rc;
	}
	tp->daddr = daddr;
	tp->dport = dport;
	if (tcp_ehash_lookup(st, tp->saddr, tp->sport, daddr, dport)) {
		tp->daddr = 0;
		tp->dport = 0;
		return -EADDRNOTAVAIL;
	}
	tw = tcp_tw_lookup(st, tp->saddr, tp->sport, daddr, dport);
	if (tw) {
		/* Linux tcp_twsk_unique(): take the tuple over only when PAWS
		 * will reject the old incarnation, and start the new sequence
		 * space beyond anything the old one can still have in flight. */
		if (!tcp_tw_may_reuse(st, tw)) {
			tp->daddr = 0;
			tp->dport = 0;
			return -EADDRNOTAVAIL;
		}
		tp->iss = tw->snd_nxt + 65535 + 2;
		if (!tp->iss)
			tp->iss = 1;
		tp->ts_recent = tw->ts_recent;
		tp->ts_recent_stamp = tw->ts_recent_stamp;
		TCPEXT_INC(st, TW_RECYCLED);
		/* The TIME-WAIT entry's port reference is released, ours was
		 * taken by bind. */
		tcp_tw_kill(st, tw);
	} else {
		tp->iss = tcp_isn(&st->tcp.secret, tp->saddr, daddr, tp->sport, dport, st->now);
	}
	tp->ts_off = tcp_ts_offset(&st->tcp.secret, tp->saddr, daddr);
	tcp_set_state(st, tp, TCP_SYN_SENT);
	tcp_ehash_add(st, tp);
	TCP_INC(st, ACTIVE_OPENS);
	tcp_send_syn(st, tp);
	return 0;
}

void tcp_push(struct stack *st, struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT)
		return;
	tcp_push_pending(st, tp);
}

/* Linux tcp_cleanup_rbuf(): after the owner read, tell the peer if the
 * window opened enough to matter (RFC 9293 §3.8.6.2.2 receiver SWS). */
void tcp_recved(struct stack *st, struct tcp_sock *tp)
{
	uint32_t rcv_window_now, new_window;

	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT)
		return;
	if (tp->sk.ops)
		tp->copied_seq = tp->rcv_nxt - tp->rx_hold.bytes -
				 (uint32_t)tp->sk.ops->rx_queued(tp->sk.ctx);
	tcp_rcv_space_adjust(st, tp);
	if (tp->ack.pending & TCP_ACK_SCHED) {
		bool drained =
			!tp->rx_hold.len && (!tp->sk.ops || !tp->sk.ops->rx_queued(tp->sk.ctx));

		/* An owed ACK goes now if more than a segment waits for it,
		 * or if the peer pushed and the owner took everything: at
		 * once in a bulk transfer, only after a second push in an
		 * interactive one, whose reply will carry the ACK. */
		if (tp->rcv_nxt - tp->rcv_wup > tp->ack.rcv_mss ||
		    (drained && ((tp->ack.pending & TCP_ACK_PUSHED2) ||
				 ((tp->ack.pending & TCP_ACK_PUSHED) && !tp->ack.pingpong)))) {
			tcp_send_ack(st, tp);
			return;
		}
	}
	if (tp->shutdown & RCV_SHUTDOWN)
		return;
	rcv_window_now = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;
	if ((int32_t)rcv_window_now < 0)
		rcv_window_now = 0;
	/* Optimize, __tcp_select_window() is not cheap: only when the window
	 * can have doubled. Then any usable window (receiver SWS avoidance
	 * decides) at least twice the current one is worth an update, as in
	 * Linux; a fixed minimum in bytes would never be met by a buffer
	 * smaller than it, and the peer would wait for its window probe. */
	if (2 * rcv_window_now <= tp->window_clamp) {
		new_window = tcp_raw_window(tp);
		if (new_window && new_window >= 2 * rcv_window_now)
			tcp_send_ack(st, tp);
	}
}

int tcp_shutdown(struct stack *st, struct tcp_sock *tp, int how)
{
	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN)
		return -ENOTCONN;
	tp->shutdown |= (uint8_t)(how & (RCV_SHUTDOWN | SEND_SHUTDOWN));
	if (!(how & SEND_SHUTDOWN) || tp->fin_pending)
		return 0;
	if (tp->state == TCP_SYN_SENT) {
		/* Linux: FIN once the handshake completes. */
		tp->fin_pending = 1;
		return 0;
	}
	if (tp->state == TCP_ESTABLISHED || tp->state == TCP_SYN_RECV ||
	    tp->state == TCP_CLOSE_WAIT) {
		if (tcp_close_state(st, tp)) {
			tp->fin_pending = 1;
			tcp_push_pending(st, tp);
		}
	}
	return 0;
}

/* Take whatever the owner wrote but TCP has not sent, so that it still
 * goes out after the owner's streams are gone (Linux keeps it in the write
 * queue, which the socket owns). */
static int tcp_take_unsent(struct stack *st, struct tcp_sock *tp)
{
	const struct sk_stream_ops *ops = tp->sk.ops;
	size_t left;

	if (!ops)
		return 0;
	left = ops->tx_avail(tp->sk.ctx);
	while (left) {
		uint32_t chunk = left > tp->mss_cache ? tp->mss_cache : (uint32_t)left;
		struct pkt *p = pkt_alloc(st->pool, PKT_HEADROOM);
		size_t got;

		if (!p || pkt_tailroom(p) < chunk) {
			pkt_free(p);
			return -ENOBUFS;
		}
		got = ops->tx_peek(tp->sk.ctx, pkt_put(p, chunk), chunk);
		pkt_trim(p, (uint32_t)got);
		ops->tx_consume(tp->sk.ctx, got);
		tcp_cb(p)->seq = tp->write_seq;
		tcp_cb(p)->end_seq = tp->write_seq + (uint32_t)got;
		tcp_cb(p)->tcp_flags = TH_ACK;
		tp->write_seq += (uint32_t)got;
		pkt_queue_push(&tp->write_q, p);
		left = got < chunk ? 0 : left - got;
	}
	return 0;
}

void tcp_abort(struct stack *st, struct tcp_sock *tp, int err)
{
	if (tp->state != TCP_CLOSE && tp->state != TCP_LISTEN && tp->state != TCP_SYN_SENT)
		tcp_send_active_reset(st, tp);
	tp->sk.err = err;
	tcp_done(st, tp);
}

void tcp_close(struct stack *st, struct tcp_sock *tp)
{
	bool unread;

	sock_evq_remove(st, &tp->sk);
	tp->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	if (tp->state == TCP_LISTEN) {
		tcp_destroy(st, tp);
		return;
	}
	unread = tp->rx_hold.len || (tp->sk.ops && tp->sk.ops->rx_queued(tp->sk.ctx));
	if (tp->state == TCP_CLOSE) {
		tcp_destroy(st, tp);
		return;
	}
	if (unread) {
		/* RFC 2525 §2.17: closing with unread data aborts. */
		TCPEXT_INC(st, TCP_ABORT_ON_CLOSE);
		tcp_send_active_reset(st, tp);
		tcp_destroy(st, tp);
		return;
	}
	if ((tp->sk.opts & SK_OPT_LINGER) && tp->sk.linger_s == 0) {
		TCPEXT_INC(st, TCP_ABORT_ON_LINGER);
		if (tp->state != TCP_SYN_SENT)
			tcp_send_active_reset(st, tp);
		tcp_destroy(st, tp);
		return;
	}
	if (tcp_take_unsent(st, tp) < 0) {
		TCPEXT_INC(st, TCP_ABORT_ON_MEMORY);
		tcp_send_active_reset(st, tp);
		tcp_destroy(st, tp);
		return;
	}
	tp->sk.ops = NULL;
	tp->sk.ctx = NULL;
	tp->sk.orphan = 1;
	if (tp->state == TCP_SYN_SENT) {
		tcp_destroy(st, tp);
		return;
	}
	if (!tp->fin_pending && tcp_close_state(st, tp))
		tp->fin_pending = 1;
	tcp_push_pending(st, tp);
	if (tp->state == TCP_FIN_WAIT2) {
		/* Linux: an orphan in FIN_WAIT2 waits tcp_fin_timeout as a
		 * minisocket. */
		tcp_time_wait(st, tp, TCP_FIN_WAIT2,
			      (uint64_t)st->cfg.tun.tcp_fin_timeout_s * 1000000000ull);
		return;
	}
	if (tp->state == TCP_CLOSE)
		tcp_destroy(st, tp);
}

int tcp_setopt(struct stack *st, struct tcp_sock *tp, enum tcp_opt opt, int value)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		tp->nodelay = value != 0;
		if (tp->nodelay)
			tcp_push_pending(st, tp);
		return 0;
	case TCP_OPT_CORK:
		tp->cork = value != 0;
		if (!tp->cork)
			tcp_push_pending(st, tp);
		return 0;
	case TCP_OPT_MAXSEG:
		/* Linux: 0 or 88..MAX_TCP_WINDOW, checked only before connect */
		if (value != 0 && (value < (int)TCP_MIN_MSS || value > 65535))
			return -EINVAL;
		tp->user_mss = (uint16_t)value;
		return 0;
	case TCP_OPT_KEEPIDLE:
		if (value < 1 || value > 32767)
			return -EINVAL;
		tp->keepalive_time_s = (uint32_t)value;
		if ((tp->sk.opts & SK_OPT_KEEPALIVE) && tp->state == TCP_ESTABLISHED)
			tcp_reset_keepalive_timer(st, tp, (uint64_t)value * 1000000000ull);
		return 0;
	case TCP_OPT_KEEPINTVL:
		if (value < 1 || value > 32767)
			return -EINVAL;
		tp->keepalive_intvl_s = (uint32_t)value;
		return 0;
	case TCP_OPT_KEEPCNT:
		if (value < 1 || value > 127)
			return -EINVAL;
		tp->keepalive_probes = (uint8_t)value;
		return 0;
	case TCP_OPT_USER_TIMEOUT:
		if (value < 0)
			return -EINVAL;
		tp->user_timeout_ms = (uint32_t)value;
		return 0;
	case TCP_OPT_KEEPALIVE:
		if (value)
			tp->sk.opts |= SK_OPT_KEEPALIVE;
		else
			tp->sk.opts &= (uint16_t)~SK_OPT_KEEPALIVE;
		if (tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT) {
			if (value)
				tcp_reset_keepalive_timer(
					st, tp, (uint64_t)tcp_keepalive_time(st, tp) * 1000000000ull);
			else
				wheel_cancel(&st->wheel, &tp->ka_timer);
		}
		return 0;
	case TCP_OPT_SNDBUF:
		/* Linux doubles the value for bookkeeping overhead and applies
		 * a floor (SOCK_MIN_SNDBUF). */
		if (value < 0)
			return -EINVAL;
		tp->sk.sndbuf = (uint32_t)value > 2147483647u / 2 ? 2147483647u : 2u * (uint32_t)value;
		if (tp->sk.sndbuf < 4608)
			tp->sk.sndbuf = 4608;
		return 0;
	case TCP_OPT_RCVBUF:
		if (value < 0)
			return -EINVAL;
		tp->sk.rcvbuf = (uint32_t)value > 2147483647u / 2 ? 2147483647u : 2u * (uint32_t)value;
		if (tp->sk.rcvbuf < 2304)
			tp->sk.rcvbuf = 2304;
		/* An explicit size turns autotuning off (SOCK_RCVBUF_LOCK). */
		tp->rcvbuf_locked = 1;
		tp->window_clamp = tp->sk.rcvbuf;
		return 0;
	case TCP_OPT_LINGER:
		if (value < 0) {
			tp->sk.opts &= (uint16_t)~SK_OPT_LINGER;
		} else {
			tp->sk.opts |= SK_OPT_LINGER;
			tp->sk.linger_s = (uint32_t)value;
		}
		return 0;
	case TCP_OPT_REUSEADDR:
		if (value)
			tp->sk.opts |= SK_OPT_REUSEADDR;
		else
			tp->sk.opts &= (uint16_t)~SK_OPT_REUSEADDR;
		return 0;
	case TCP_OPT_QUICKACK:
		if (value) {
			tp->ack.pingpong = 0;
			if (tp->ack.pending & TCP_ACK_SCHED)
				tcp_send_ack(st, tp);
		} else {
			tp->ack.pingpong = 1;
		}
		return 0;
	}
	return -ENOPROTOOPT;
}

int tcp_getopt(struct stack *st, const struct tcp_sock *tp, enum tcp_opt opt, int *value)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		*value = tp->nodelay;
		return 0;
	case TCP_OPT_CORK:
		*value = tp->cork;
		return 0;
	case TCP_OPT_MAXSEG:
		*value = tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT
				 ? tp->mss_cache
				 : (tp->user_mss ? tp->user_mss : TCP_MSS_DEFAULT);
		return 0;
	case TCP_OPT_KEEPIDLE:
		*value = (int)tcp_keepalive_time(st, tp);
		return 0;
	case TCP_OPT_KEEPINTVL:
		*value = (int)(tp->keepalive_intvl_s ? tp->keepalive_intvl_s
						      : st->cfg.tun.tcp_keepalive_intvl_s);
		return 0;
	case TCP_OPT_KEEPCNT:
		*value = tp->keepalive_probes ? tp->keepalive_probes
					      : (int)st->cfg.tun.tcp_keepalive_probes;
		return 0;
	case TCP_OPT_USER_TIMEOUT:
		*value = (int)tp->user_timeout_ms;
		return 0;
	case TCP_OPT_KEEPALIVE:
		*value = !!(tp->sk.opts & SK_OPT_KEEPALIVE);
		return 0;
	case TCP_OPT_SNDBUF:
		*value = (int)tp->sk.sndbuf;
		return 0;
	case TCP_OPT_RCVBUF:
		*value = (int)tp->sk.rcvbuf;
		return 0;
	case TCP_OPT_LINGER:
		*value = (tp->sk.opts & SK_OPT_LINGER) ? (int)tp->sk.linger_s : -1;
		return 0;
	case TCP_OPT_REUSEADDR:
		*value = !!(tp->sk.opts & SK_OPT_REUSEADDR);
		return 0;
	case TCP_OPT_QUICKACK:
		*value = !tp->ack.pingpong;
		return 0;
	}
	return -ENOPROTOOPT;
}

int tcp_set_congestion(struct stack *st, struct tcp_sock *tp, const char *name)
{
	const struct tcp_cc_ops *ops = tcp_cc_find(name);

	if (!ops)
		return -ENOENT;
	tp->ca_ops = ops;
	if (tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT ||
	    tp->state == TCP_FIN_WAIT1 || tp->state == TCP_FIN_WAIT2)
		tcp_cc_init(st, tp);
	return 0;
}

void tcp_get_info(struct stack *st, const struct tcp_sock *tp, struct tcp_info_lite *info)
{
	memset(info, 0, sizeof(*info));
	info->state = tp->state;
	info->ca_state = tp->cc.ca_state;
	info->retransmits = tp->retransmits;
	info->probes = tp->probes_out;
	info->backoff = tp->backoff;
	if (tp->tstamp_ok)
		info->options |= 1;
	if (tp->sack_ok)
		info->options |= 2;
	if (tp->wscale_ok) {
		info->options |= 4;
		info->snd_wscale = tp->snd_wscale;
		info->rcv_wscale = tp->rcv_wscale;
	}
	info->rto_us = tp->rto_us;
	info->ato_us = tp->ack.ato_us;
	info->snd_mss = tp->mss_cache;
	info->rcv_mss = tp->ack.rcv_mss;
	info->unacked = tp->packets_out;
	info->sacked = tp->sacked_out;
	info->lost = tp->lost_out;
	info->retrans = tp->retrans_out;
	info->rtt_us = tp->srtt_us >> 3;
	info->rttvar_us = tp->mdev_us >> 2;
	info->min_rtt_us = tp->min_rtt_us;
	info->snd_ssthresh = tp->cc.snd_ssthresh;
	info->snd_cwnd = tp->cc.snd_cwnd;
	info->rcv_space = tp->rcvq_space.space;
	info->total_retrans = tp->total_retrans;
	info->reordering = tp->reordering;
	info->snd_wnd = tp->snd_wnd;
	info->rcv_wnd = tp->rcv_wnd;
	info->bytes_acked = tp->bytes_acked;
	info->bytes_received = tp->bytes_received;
	info->segs_out = tp->segs_out;
	info->segs_in = tp->segs_in;
	info->data_segs_out = tp->data_segs_out;
	info->data_segs_in = tp->data_segs_in;
	info->pacing_rate = tp->cc.pacing_rate;
	info->delivered = tp->delivered;
	info->send_q = tp->write_seq - tp->snd_una;
	if (tp->sk.ops)
		info->send_q += (uint32_t)tp->sk.ops->tx_avail(tp->sk.ctx);
	info->recv_q = tp->state == TCP_LISTEN ? tp->lq.acceptq_len
					       : tp->rx_hold.bytes + (tp->sk.ops ? (uint32_t)tp->sk.ops->rx_queued(tp->sk.ctx) : 0);
	if (tp->state == TCP_LISTEN)
		info->send_q = tp->lq.backlog;
	info->last_data_recv_ms =
		tp->ack.lrcv_ns ? (uint32_t)((st->now - tp->ack.lrcv_ns) / 1000000ull) : 0;
	strncpy(info->ca_name, tp->ca_ops->name, sizeof(info->ca_name) - 1);
}

void tcp_foreach(struct stack *st, tcp_foreach_fn fn, void *arg)
{
	struct tcp_table *t = &st->tcp;

	for (uint32_t i = 0; i < t->nsocks; i++) {
		const struct tcp_sock *tp = &t->socks[i];

		if (tcp_sock_in_use(tp))
			fn(arg, tp, tp->state, tp->saddr, tp->sport, tp->daddr, tp->dport);
	}
	for (uint32_t i = 0; i < t->nreqs; i++) {
		const struct tcp_request *r = &t->reqs[i];

		if (r->listener)
			fn(arg, NULL, TCP_SYN_RECV, r->saddr, r->sport, r->daddr, r->dport);
	}
	for (uint32_t i = 0; i < t->ntws; i++) {
		const struct tcp_tw *tw = &t->tws[i];

		if (tw->hash_pprev)
			fn(arg, NULL, tw->state, tw->saddr, tw->sport, tw->daddr, tw->dport);
	}
}
