// SPDX-License-Identifier: MIT
/*
 * TCP socket dumps for `usnet sockets`: what Linux's tcp_diag gives ss,
 * taken on the worker thread that owns the stack (nothing in a struct stack
 * is read from another thread). Two passes over tcp_foreach(): one counts,
 * one fills an array allocated in between, so the dump is exactly as large
 * as the socket table is at that moment and needs no cap (10,000 sockets
 * are 2.5 MB of records). This is the admin path, not the data path: the
 * allocation and the walk happen once per `usnet sockets`.
 *
 * Fields follow Linux's tcp_get_info() and inet_diag: tcp_get_info() gives
 * most of them; the rest (advmss, rcv_ssthresh, the last-event times, the
 * delivery rate, the timer) are read from struct tcp_sock the way Linux
 * reads them from its tcp_sock.
 *
 * Who sees what: ss shows every socket to every user (and process details
 * only to their owner); usnet shows a caller other than root only its own
 * user's sockets and usnetd's own (the built-in services), so that one
 * user cannot list the endpoints another user's programs talk to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "owner.h"
#include "proto/stack.h"
#include "sockdiag.h"

_Static_assert(OWNER_UID_USNETD == ADMIN_UID_USNETD, "usnetd's own sockets, one name");

/* tcp_foreach() callback state */
struct sockdiag_walk {
	struct stack *st;
	struct sockdiag_dump *d;
	size_t cap; /* 0 in the counting pass */
};

static bool sockdiag_wanted(uint32_t states, uint8_t state)
{
	return !states || (state < 32 && (states & (1u << state)));
}

static uint32_t ago_ms(uint64_t now, uint64_t then)
{
	uint64_t ms;

	if (!then)
		return ADMIN_TIME_NEVER;
	ms = now > then ? (now - then) / 1000000ull : 0;
	return ms < ADMIN_TIME_NEVER ? (uint32_t)ms : ADMIN_TIME_NEVER - 1;
}

static uint32_t until_us(uint64_t now, const struct wheel_timer *t)
{
	uint64_t us;

	if (t->expires_ns <= now)
		return 0;
	us = (t->expires_ns - now) / 1000ull;
	return us < UINT32_MAX ? (uint32_t)us : UINT32_MAX;
}

/* Linux inet_diag's idiag_timer: 1 "on" for the retransmit timer (RTO,
 * TLP, RACK reordering; SYN and SYN-ACK retries), 4 "persist" for a
 * zero-window probe, 2 "keepalive" for the keepalive timer, which also
 * times out an orphan in FIN-WAIT-2. */
static void sockdiag_timer(const struct stack *st, const struct tcp_sock *tp,
			   struct admin_rec_tcp_sock *r)
{
	if (wheel_timer_armed(&tp->rtx_timer)) {
		bool persist = tp->rtx_timer_kind == TCP_TIMER_PROBE0;

		r->timer = persist ? ADMIN_TIMER_PERSIST : ADMIN_TIMER_ON;
		r->timer_us = until_us(st->now, &tp->rtx_timer);
	} else if (wheel_timer_armed(&tp->ka_timer)) {
		r->timer = ADMIN_TIMER_KEEPALIVE;
		r->timer_us = until_us(st->now, &tp->ka_timer);
	}
}

/* Linux tcp_compute_delivery_rate(): the last sample, in bytes/s. */
static uint64_t sockdiag_delivery_rate(const struct tcp_sock *tp)
{
	if (!tp->rate_interval_us)
		return 0;
	return (uint64_t)tp->rate_delivered * tp->mss_cache * 1000000ull / tp->rate_interval_us;
}

static void sockdiag_fill_full(struct stack *st, const struct tcp_sock *tp,
			       struct admin_rec_tcp_sock *r)
{
	struct tcp_info_lite info;

	tcp_get_info(st, tp, &info);
	r->flags |= ADMIN_TCP_F_INFO;
	r->ca_state = info.ca_state;
	r->options = info.options;
	r->snd_wscale = info.snd_wscale;
	r->rcv_wscale = info.rcv_wscale;
	r->backoff = info.backoff;
	r->retransmits = info.retransmits;
	r->probes = info.probes;
	r->recv_q = info.recv_q;
	r->send_q = info.send_q;
	r->rto_us = info.rto_us;
	r->ato_us = info.ato_us;
	r->snd_mss = info.snd_mss;
	r->rcv_mss = info.rcv_mss;
	r->rtt_us = info.rtt_us;
	r->rttvar_us = info.rttvar_us;
	r->min_rtt_us = info.min_rtt_us;
	r->snd_cwnd = info.snd_cwnd;
	r->snd_ssthresh = info.snd_ssthresh;
	r->rcv_space = info.rcv_space;
	r->snd_wnd = info.snd_wnd;
	r->rcv_wnd = info.rcv_wnd;
	r->unacked = info.unacked;
	r->sacked = info.sacked;
	r->lost = info.lost;
	r->retrans = info.retrans;
	r->total_retrans = info.total_retrans;
	r->reordering = info.reordering;
	r->segs_out = info.segs_out;
	r->segs_in = info.segs_in;
	r->data_segs_out = info.data_segs_out;
	r->data_segs_in = info.data_segs_in;
	r->delivered = info.delivered;
	r->bytes_acked = info.bytes_acked;
	r->bytes_received = info.bytes_received;
	memcpy(r->ca_name, info.ca_name,
	       sizeof(r->ca_name) < sizeof(info.ca_name) ? sizeof(r->ca_name) :
							   sizeof(info.ca_name));
	r->ca_name[sizeof(r->ca_name) - 1] = '\0';

	/* What tcp_info_lite does not carry yet. */
	r->advmss = tp->advmss;
	r->pmtu = st->cfg.mtu; /* no per-route PMTU yet: the link's */
	r->rcv_ssthresh = tp->rcv_ssthresh;
	r->rcv_rtt_us = tp->rcv_rtt_us;
	r->reord_seen = tp->reord_seen_count;
	r->dsack_dups = tp->dsack_dups;
	r->total_rto = tp->total_rto;
	r->total_rto_recoveries = tp->total_rto_recoveries;
	/* Linux's notsent_bytes is write_seq - snd_nxt; the owner's unread
	 * transmit stream is usnet's socket buffer, so it counts too. */
	r->notsent_bytes = tp->write_seq - tp->snd_nxt;
	if (tp->sk.ops && tp->state != TCP_LISTEN)
		r->notsent_bytes += (uint32_t)tp->sk.ops->tx_avail(tp->sk.ctx);
	r->last_data_sent_ms = ago_ms(st->now, tp->lsndtime_ns);
	r->last_data_recv_ms = ago_ms(st->now, tp->ack.lrcv_ns);
	r->last_ack_recv_ms = ago_ms(st->now, tp->rcv_tstamp_ns);
	/* Linux's tcpi_pacing_rate is sk_pacing_rate, which TCP keeps even
	 * when nothing paces (tcp_info_lite's is the CC module's). */
	r->pacing_rate = tp->sk_pacing_rate;
	r->delivery_rate = sockdiag_delivery_rate(tp);
	if (tp->rate_app_limited)
		r->flags |= ADMIN_TCP_F_APP_LIMITED;
	sockdiag_timer(st, tp, r);
}

/* A TIME-WAIT bucket or a SYN-RECV request sock: only its timer beyond
 * what tcp_foreach() passes. */
static void sockdiag_fill_mini(struct stack *st, struct admin_rec_tcp_sock *r, uint32_t saddr,
			       uint16_t sport, uint32_t daddr, uint16_t dport)
{
	if (r->state == TCP_SYN_RECV) {
		const struct tcp_request *req = tcp_request_lookup(st, saddr, sport, daddr, dport);

		if (req && wheel_timer_armed(&req->timer)) {
			r->timer = ADMIN_TIMER_ON;
			r->timer_us = until_us(st->now, &req->timer);
			r->retransmits = req->retrans;
		}
		return;
	}
	{
		const struct tcp_tw *tw = tcp_tw_lookup(st, saddr, sport, daddr, dport);

		if (tw && wheel_timer_armed(&tw->timer)) {
			r->timer = ADMIN_TIMER_TIMEWAIT;
			r->timer_us = until_us(st->now, &tw->timer);
		}
	}
}

/*
 * Whose an entry is (sock.uid, owner.h). A SYN-RECV request sock is its
 * listener's owner's; a TIME-WAIT entry keeps its socket's. Linux's
 * inet_diag reports uid 0 for both; here they must be attributed, or they
 * would show another user's connections after all. Unknown: root's.
 */
static uint32_t sockdiag_owner(struct stack *st, const struct tcp_sock *tp, uint8_t state,
			       uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport)
{
	const struct tcp_request *req;
	const struct tcp_tw *tw;

	if (tp)
		return tp->sk.uid;
	if (state == TCP_SYN_RECV) {
		req = tcp_request_lookup(st, saddr, sport, daddr, dport);
		return req && req->listener ? req->listener->sk.uid : 0;
	}
	tw = tcp_tw_lookup(st, saddr, sport, daddr, dport);
	return tw ? tw->uid : 0;
}

static void sockdiag_one(void *arg, const struct tcp_sock *tp, uint8_t state, uint32_t saddr,
			 uint16_t sport, uint32_t daddr, uint16_t dport)
{
	struct sockdiag_walk *w = arg;
	struct admin_rec_tcp_sock *r;
	uint32_t uid;

	if (!sockdiag_wanted(w->d->states, state))
		return;
	/* A socket() that was never bound nor connected is in no table of
	 * Linux's, and ss does not show it; neither do we (libusnet keeps
	 * a few such sockets in stock). */
	if (tp && state == TCP_CLOSE && !tp->bound)
		return;
	uid = sockdiag_owner(w->st, tp, state, saddr, sport, daddr, dport);
	if (!w->d->all && uid != w->d->uid && uid != OWNER_UID_USNETD)
		return;
	if (!w->cap) {
		w->d->n++;
		return;
	}
	if (w->d->n == w->cap)
		return; /* cannot happen: nothing changes between the passes */
	r = &w->d->recs[w->d->n++];
	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	r->state = state;
	r->uid = uid;
	r->worker = w->d->worker;
	r->sport = ntohs(sport);
	r->dport = ntohs(dport);
	memcpy(r->saddr, &saddr, 4);
	memcpy(r->daddr, &daddr, 4);
	if (tp)
		sockdiag_fill_full(w->st, tp, r);
	else
		sockdiag_fill_mini(w->st, r, saddr, sport, daddr, dport);
}

int sockdiag_tcp_dump(struct stack *st, struct sockdiag_dump *d)
{
	struct sockdiag_walk w = { .st = st, .d = d };
	size_t n;

	d->recs = NULL;
	d->n = 0;
	tcp_foreach(st, sockdiag_one, &w);
	n = d->n;
	d->n = 0;
	if (!n)
		return 0;
	d->recs = malloc(n * sizeof(*d->recs));
	if (!d->recs)
		return -ENOMEM;
	w.cap = n;
	tcp_foreach(st, sockdiag_one, &w);
	return 0;
}

void sockdiag_dump_free(struct sockdiag_dump *d)
{
	if (!d)
		return;
	free(d->recs);
	d->recs = NULL;
	d->n = 0;
}
