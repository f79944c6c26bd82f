// SPDX-License-Identifier: MIT
/*
 * daemon/sockdiag.c: the records behind `usnet sockets`, taken from real
 * stacks. Two struct stacks on a wire made of two frame queues (no link,
 * no thread, a manual clock): "usnet" (10.77.0.2) runs the listener, the
 * "peer" (10.77.0.1) connects, and the sockets they end up with are dumped
 * and compared with what each side negotiated. States the integration test
 * cannot reach through the built-in services (usnet in TIME-WAIT, a
 * SYN-RECV request whose final ACK never came) are made here.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "daemon/sockdiag.h"
#include "proto/stack.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

#define POOL_META 4096u
#define POOL_DATA 2048u
#define POOL_DATA_SIZE (PKT_HEADROOM + 14u + 4u + 1500u + 64u)
#define ONE_WAY_NS (50 * US)

/* One side of a connection's payload: plain buffers. */
struct tbuf {
	uint8_t tx[4096];
	size_t txlen;
	uint8_t rx[65536];
	size_t rxlen;
};

static size_t tb_tx_avail(void *ctx)
{
	return ((struct tbuf *)ctx)->txlen;
}

static size_t tb_tx_peek(void *ctx, void *buf, size_t len)
{
	struct tbuf *b = ctx;

	if (len > b->txlen)
		len = b->txlen;
	memcpy(buf, b->tx, len);
	return len;
}

static void tb_tx_consume(void *ctx, size_t len)
{
	struct tbuf *b = ctx;

	memmove(b->tx, b->tx + len, b->txlen - len);
	b->txlen -= len;
}

static size_t tb_rx_append(void *ctx, const void *buf, size_t len)
{
	struct tbuf *b = ctx;

	if (len > sizeof(b->rx) - b->rxlen)
		len = sizeof(b->rx) - b->rxlen;
	memcpy(b->rx + b->rxlen, buf, len);
	b->rxlen += len;
	return len;
}

static size_t tb_rx_queued(void *ctx)
{
	return ((struct tbuf *)ctx)->rxlen;
}

static const struct sk_stream_ops tb_ops = {
	.tx_avail = tb_tx_avail,
	.tx_peek = tb_tx_peek,
	.tx_consume = tb_tx_consume,
	.rx_append = tb_rx_append,
	.rx_queued = tb_rx_queued,
};

struct side {
	struct pkt_pool pool;
	struct stack st;
	uint32_t ip;
};

static struct side usn, peer;
static uint64_t now;
static struct tbuf usn_buf, peer_buf;

static uint32_t ip4(unsigned int d)
{
	return htonl(10u << 24 | 77u << 16 | d);
}

static void side_init(struct side *s, unsigned int host, uint8_t seed0, uint32_t rmem_max)
{
	struct stack_cfg cfg;
	uint8_t seed[16] = { seed0 };
	int rc;

	stack_cfg_defaults(&cfg);
	cfg.mac[0] = 0x02;
	cfg.mac[5] = (uint8_t)host;
	cfg.tun.tcp_rmem[2] = rmem_max;
	rc = pkt_pool_init(&s->pool, POOL_META, POOL_DATA, POOL_DATA_SIZE);
	cr_assert_eq(rc, 0, "pkt_pool_init: %d", rc);
	rc = stack_init(&s->st, &cfg, &s->pool, seed);
	cr_assert_eq(rc, 0, "stack_init: %d", rc);
	s->ip = ip4(host);
	rc = stack_addr_add(&s->st, s->ip, 24, now);
	cr_assert_eq(rc, 0, "stack_addr_add: %d", rc);
}

static void setup(void)
{
	now = 1 * SEC;
	memset(&usn_buf, 0, sizeof(usn_buf));
	memset(&peer_buf, 0, sizeof(peer_buf));
	/* Different buffers, so the two sides announce different window
	 * scales (5 and 7) and a swapped pair shows. */
	side_init(&usn, 2, 1, 1u << 20);
	side_init(&peer, 1, 2, 6u << 20);
}

static void side_fini(struct side *s)
{
	struct pkt *p;

	while ((p = stack_tx_pop(&s->st)))
		pkt_free(p);
	stack_fini(&s->st);
	pkt_pool_fini(&s->pool);
}

static void teardown(void)
{
	side_fini(&usn);
	side_fini(&peer);
}

TestSuite(sockdiag, .init = setup, .fini = teardown, .timeout = 10);

/* Move every frame @from sent to @to (or drop them), after a one-way delay. */
static unsigned int carry(struct side *from, struct side *to, bool deliver)
{
	unsigned int n = 0;
	struct pkt *p;

	while ((p = stack_tx_pop(&from->st))) {
		n++;
		if (deliver)
			stack_input(&to->st, p, now);
		else
			pkt_free(p);
	}
	return n;
}

static void run_timers(struct side *s)
{
	if (stack_next_timer(&s->st) <= now)
		stack_timers(&s->st, now);
}

/* Events are not needed here; the owner just clears them. */
static void drain_events(struct side *s)
{
	struct sock *sk;

	while ((sk = stack_event_pop(&s->st)))
		sk->events = 0;
}

/* Run the wire until it is quiet. */
static void settle(void)
{
	for (int round = 0; round < 200; round++) {
		unsigned int moved;

		now += ONE_WAY_NS;
		run_timers(&usn);
		run_timers(&peer);
		moved = carry(&peer, &usn, true);
		moved += carry(&usn, &peer, true);
		drain_events(&usn);
		drain_events(&peer);
		if (!moved)
			return;
	}
	cr_assert_fail("the wire never went quiet");
}

static struct sockdiag_dump dump(struct side *s, uint32_t states)
{
	struct sockdiag_dump d = { .states = states, .worker = 3 };

	cr_assert_eq(sockdiag_tcp_dump(&s->st, &d), 0);
	cr_assert(d.n == 0 || d.recs, "records promised but none allocated");
	return d;
}

static const struct admin_rec_tcp_sock *find(const struct sockdiag_dump *d, uint8_t state)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->recs[i].state == state)
			return &d->recs[i];
	return NULL;
}

static struct tcp_sock *listen_on(struct side *s, uint16_t port, int backlog)
{
	struct tcp_sock *lt = tcp_open(&s->st);

	cr_assert_not_null(lt);
	cr_assert_eq(tcp_bind(&s->st, lt, 0, htons(port)), 0);
	cr_assert_eq(tcp_listen(&s->st, lt, backlog), 0);
	return lt;
}

static struct tcp_sock *connect_to(struct side *s, uint32_t daddr, uint16_t port)
{
	struct tcp_sock *tp = tcp_open(&s->st);

	cr_assert_not_null(tp);
	tcp_attach(&s->st, tp, &tb_ops, &peer_buf);
	cr_assert_eq(tcp_connect(&s->st, tp, daddr, htons(port)), 0);
	return tp;
}

static uint32_t rec_addr(const uint8_t *a)
{
	uint32_t v;

	memcpy(&v, a, 4);
	return v;
}

Test(sockdiag, established_socket_shows_what_both_sides_negotiated)
{
	struct tcp_sock *lt = listen_on(&usn, 7, 128), *child, *cl;
	const struct admin_rec_tcp_sock *e, *l;
	struct sockdiag_dump d;

	cl = connect_to(&peer, usn.ip, 7);
	settle();
	memcpy(peer_buf.tx, "hello", 5);
	peer_buf.txlen = 5;
	tcp_push(&peer.st, cl);
	settle();

	/* Not yet accepted: the listener's Recv-Q is its accept queue. */
	d = dump(&usn, 0);
	cr_assert_eq(d.n, 2, "records: got %zu, want listener + connection", d.n);
	l = find(&d, TCP_LISTEN);
	cr_assert_not_null(l);
	cr_assert_eq(l->sport, 7);
	cr_assert_eq(l->dport, 0);
	cr_assert_eq(rec_addr(l->saddr), 0, "listener bound to any address");
	cr_assert_eq(l->recv_q, 1, "accept queue: got %u, want 1", l->recv_q);
	cr_assert_eq(l->send_q, 128, "backlog: got %u, want 128", l->send_q);
	cr_assert_eq(l->worker, 3);
	sockdiag_dump_free(&d);

	child = tcp_accept(&usn.st, lt);
	cr_assert_not_null(child);
	tcp_attach(&usn.st, child, &tb_ops, &usn_buf);
	settle();

	d = dump(&usn, 0);
	l = find(&d, TCP_LISTEN);
	e = find(&d, TCP_ESTABLISHED);
	cr_assert_not_null(l);
	cr_assert_not_null(e);
	cr_assert_eq(l->recv_q, 0, "accept queue after accept: got %u", l->recv_q);
	cr_assert(e->flags & ADMIN_TCP_F_INFO);
	cr_assert_eq(e->family, AF_INET);
	cr_assert_eq(rec_addr(e->saddr), usn.ip);
	cr_assert_eq(rec_addr(e->daddr), peer.ip);
	cr_assert_eq(e->sport, 7);
	cr_assert_eq(e->dport, ntohs(cl->sport), "peer port: got %u, want %u", e->dport,
		     ntohs(cl->sport));
	cr_assert_eq(e->options,
		     ADMIN_TCPI_OPT_TIMESTAMPS | ADMIN_TCPI_OPT_SACK | ADMIN_TCPI_OPT_WSCALE,
		     "options: got %#x", e->options);
	/* Each side's send shift is the other's receive shift. */
	cr_assert_eq(e->rcv_wscale, 5, "usnet's own shift for a 1 MB buffer: got %u",
		     e->rcv_wscale);
	cr_assert_eq(e->snd_wscale, 7, "the peer's shift for 6 MB: got %u", e->snd_wscale);
	cr_assert_eq(e->snd_wscale, cl->rcv_wscale, "snd_wscale: got %u, want %u", e->snd_wscale,
		     cl->rcv_wscale);
	cr_assert_eq(e->rcv_wscale, cl->snd_wscale, "rcv_wscale: got %u, want %u", e->rcv_wscale,
		     cl->snd_wscale);
	cr_assert_eq(e->snd_mss, cl->mss_cache, "mss: got %u, want the peer's %u", e->snd_mss,
		     cl->mss_cache);
	cr_assert_eq(e->snd_mss, 1500 - 20 - 20 - 12, "mss: 1500-byte MTU with timestamps");
	cr_assert_eq(e->pmtu, 1500);
	cr_assert_eq(e->bytes_received, 5);
	cr_assert_eq(e->data_segs_in, 1);
	cr_assert_geq(e->segs_in, 2, "segs_in %u: the final ACK and the data at least", e->segs_in);
	cr_assert_eq(e->recv_q, 5, "unread bytes: got %u, want 5", e->recv_q);
	cr_assert_eq(e->send_q, 0);
	cr_assert_str_eq(e->ca_name, "cubic");
	cr_assert_gt(e->rto_us, 0);
	cr_assert_gt(e->snd_cwnd, 0);
	cr_assert_eq(e->last_data_recv_ms, 0, "data arrived a moment ago: got %u ms",
		     e->last_data_recv_ms);
	/* Linux starts lsndtime when the connection is made (tcp_listen.c too). */
	cr_assert_lt(e->last_data_sent_ms, 1000, "last send %u ms ago", e->last_data_sent_ms);
	cr_assert_eq(e->timer, ADMIN_TIMER_OFF, "nothing in flight, no keepalive: got timer %u",
		     e->timer);
	sockdiag_dump_free(&d);

	/* The filter leaves out what it does not name. */
	d = dump(&usn, 1u << TCP_LISTEN);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.recs[0].state, TCP_LISTEN);
	sockdiag_dump_free(&d);
	d = dump(&usn, 1u << TCP_TIME_WAIT);
	cr_assert_eq(d.n, 0);
	cr_assert_null(d.recs);
	sockdiag_dump_free(&d);

	tcp_abort(&usn.st, child, ECONNRESET);
	tcp_close(&usn.st, child);
	tcp_close(&usn.st, lt);
	tcp_close(&peer.st, cl);
	settle();
}

Test(sockdiag, unacknowledged_data_shows_in_send_q_with_the_retransmit_timer)
{
	struct tcp_sock *lt = listen_on(&usn, 7, 128), *child, *cl;
	const struct admin_rec_tcp_sock *e;
	struct sockdiag_dump d;

	cl = connect_to(&peer, usn.ip, 7);
	settle();
	child = tcp_accept(&usn.st, lt);
	cr_assert_not_null(child);
	tcp_attach(&usn.st, child, &tb_ops, &usn_buf);
	memset(usn_buf.tx, 'x', 3000);
	usn_buf.txlen = 3000;
	tcp_push(&usn.st, child);
	now += ONE_WAY_NS;
	carry(&usn, &peer, false); /* lost on the way */

	d = dump(&usn, 1u << TCP_ESTABLISHED);
	cr_assert_eq(d.n, 1);
	e = &d.recs[0];
	cr_assert_eq(e->send_q, 3000, "in flight: got %u, want 3000", e->send_q);
	cr_assert_eq(e->unacked, 3, "segments in flight: got %u, want 3", e->unacked);
	cr_assert_eq(e->timer, ADMIN_TIMER_ON, "retransmit timer: got %u", e->timer);
	cr_assert_gt(e->timer_us, 0);
	cr_assert_leq(e->timer_us, e->rto_us, "timer %u us beyond the RTO %u us", e->timer_us,
		      e->rto_us);
	cr_assert_neq(e->last_data_sent_ms, ADMIN_TIME_NEVER);
	sockdiag_dump_free(&d);

	tcp_abort(&usn.st, child, ECONNRESET);
	tcp_close(&usn.st, child);
	tcp_close(&usn.st, lt);
	tcp_close(&peer.st, cl);
	settle();
}

Test(sockdiag, active_closer_is_listed_in_time_wait_with_its_timer)
{
	struct tcp_sock *lt = listen_on(&peer, 9, 128), *child, *tp;
	const struct admin_rec_tcp_sock *t;
	struct sockdiag_dump d;
	uint16_t sport;

	/* usnet connects and closes first, so usnet holds TIME-WAIT. */
	tp = tcp_open(&usn.st);
	cr_assert_not_null(tp);
	tcp_attach(&usn.st, tp, &tb_ops, &usn_buf);
	cr_assert_eq(tcp_connect(&usn.st, tp, peer.ip, htons(9)), 0);
	settle();
	sport = ntohs(tp->sport);
	child = tcp_accept(&peer.st, lt);
	cr_assert_not_null(child);
	tcp_attach(&peer.st, child, &tb_ops, &peer_buf);
	tcp_close(&usn.st, tp);
	settle();
	tcp_close(&peer.st, child);
	settle();

	d = dump(&usn, 1u << TCP_TIME_WAIT);
	cr_assert_eq(d.n, 1, "TIME-WAIT entries: got %zu, want 1", d.n);
	t = &d.recs[0];
	cr_assert_eq(t->state, TCP_TIME_WAIT);
	cr_assert_eq(t->flags & ADMIN_TCP_F_INFO, 0, "a TIME-WAIT bucket has no tcp_info");
	cr_assert_eq(t->sport, sport);
	cr_assert_eq(t->dport, 9);
	cr_assert_eq(rec_addr(t->saddr), usn.ip);
	cr_assert_eq(rec_addr(t->daddr), peer.ip);
	cr_assert_eq(t->timer, ADMIN_TIMER_TIMEWAIT, "timer: got %u", t->timer);
	cr_assert_gt(t->timer_us, 59ull * 1000000, "TIME-WAIT lasts 60 s: %u us left", t->timer_us);
	cr_assert_leq(t->timer_us, 60ull * 1000000);
	cr_assert_eq(t->recv_q, 0);
	cr_assert_eq(t->send_q, 0);
	sockdiag_dump_free(&d);

	/* The default dump has it too. */
	d = dump(&usn, 0);
	cr_assert_not_null(find(&d, TCP_TIME_WAIT));
	sockdiag_dump_free(&d);

	tcp_close(&peer.st, lt);
}

Test(sockdiag, half_open_connection_is_a_syn_recv_request_with_its_timer)
{
	struct tcp_sock *lt = listen_on(&usn, 7, 128), *cl;
	const struct admin_rec_tcp_sock *r;
	struct sockdiag_dump d;

	cl = connect_to(&peer, usn.ip, 7);
	/* ARP, then the SYN reaches usnet; the SYN-ACK never comes back. */
	for (int i = 0; i < 20; i++) {
		now += ONE_WAY_NS;
		carry(&peer, &usn, true);
		drain_events(&usn);
		if (usn.st.tcp.nfree_reqs < usn.st.tcp.nreqs)
			break;
		carry(&usn, &peer, true);
	}
	carry(&usn, &peer, false);

	d = dump(&usn, (1u << TCP_SYN_RECV) | (1u << TCP_NEW_SYN_RECV));
	cr_assert_eq(d.n, 1, "SYN-RECV entries: got %zu, want 1", d.n);
	r = &d.recs[0];
	cr_assert_eq(r->state, TCP_SYN_RECV);
	cr_assert_eq(r->sport, 7);
	cr_assert_eq(r->dport, ntohs(cl->sport));
	cr_assert_eq(r->timer, ADMIN_TIMER_ON, "SYN-ACK retransmit timer: got %u", r->timer);
	cr_assert_gt(r->timer_us, 0);
	cr_assert_leq(r->timer_us, 1000000, "first SYN-ACK retry within 1 s: %u us", r->timer_us);
	cr_assert_eq(r->retransmits, 0);
	sockdiag_dump_free(&d);

	tcp_close(&usn.st, lt);
	tcp_abort(&peer.st, cl, ECONNRESET);
	tcp_close(&peer.st, cl);
}

Test(sockdiag, dump_holds_every_socket_of_a_large_table)
{
	struct tcp_sock *lt = listen_on(&usn, 7, 1024);
	struct sockdiag_dump d;
	const unsigned int n = 300;

	/* More sockets than fit in one admin message (248 records). The
	 * first resolves ARP: 300 SYNs would overflow one neighbour's
	 * unresolved queue (unres_qlen_bytes counts whole buffers). */
	connect_to(&peer, usn.ip, 7);
	settle();
	for (unsigned int i = 1; i < n; i++)
		connect_to(&peer, usn.ip, 7);
	settle();
	d = dump(&peer, 1u << TCP_ESTABLISHED);
	cr_assert_eq(d.n, n, "peer's established sockets: got %zu, want %u", d.n, n);
	for (size_t i = 0; i < d.n; i++) {
		cr_assert_eq(d.recs[i].dport, 7);
		for (size_t k = 0; k < i; k++)
			cr_assert_neq(d.recs[k].sport, d.recs[i].sport, "port %u listed twice",
				      d.recs[i].sport);
	}
	sockdiag_dump_free(&d);
	d = dump(&usn, 1u << TCP_LISTEN);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.recs[0].recv_q, n, "accept queue: got %u, want %u", d.recs[0].recv_q, n);
	cr_assert_eq(d.recs[0].send_q, 1024, "backlog: got %u", d.recs[0].send_q);
	sockdiag_dump_free(&d);
	tcp_close(&usn.st, lt);
}
