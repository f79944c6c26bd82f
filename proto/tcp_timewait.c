// SPDX-License-Identifier: MIT
/*
 * TIME-WAIT (RFC 9293 §3.6.1; Linux net/ipv4/tcp_minisocks.c
 * tcp_timewait_state_process, tcp_time_wait): when a connection has closed
 * on our side first, a small entry keeps its 4-tuple for 2*MSL (60 s, as
 * Linux), answers retransmitted FINs, and lets a new SYN reopen the tuple
 * when it is provably new (a higher sequence number, or a newer timestamp:
 * RFC 6191). An orphan waiting in FIN_WAIT2 uses the same entry for
 * tcp_fin_timeout.
 */
#include <stddef.h>
#include <string.h>

#include "ipv4.h"
#include "stack.h"
#include "tcp.h"

static struct tcp_tw **tcp_twhash_head(struct stack *st, uint32_t saddr, uint16_t sport,
				       uint32_t daddr, uint16_t dport)
{
	return &st->tcp.twhash[tcp_hash4(st, saddr, sport, daddr, dport)];
}

struct tcp_tw *tcp_tw_lookup(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
			     uint16_t dport)
{
	for (struct tcp_tw *tw = *tcp_twhash_head(st, saddr, sport, daddr, dport); tw;
	     tw = tw->hash_next)
		if (tw->saddr == saddr && tw->sport == sport && tw->daddr == daddr &&
		    tw->dport == dport)
			return tw;
	return NULL;
}

void tcp_tw_kill(struct stack *st, struct tcp_tw *tw)
{
	if (tw->hash_pprev) {
		*tw->hash_pprev = tw->hash_next;
		if (tw->hash_next)
			tw->hash_next->hash_pprev = tw->hash_pprev;
	}
	wheel_cancel(&st->wheel, &tw->timer);
	tcp_port_put(st, tw->sport);
	memset(tw, 0, sizeof(*tw));
	tw->hash_next = st->tcp.free_tws;
	st->tcp.free_tws = tw;
	st->tcp.nfree_tws++;
}

static void tcp_tw_timer_fn(void *ctx, struct wheel_timer *t)
{
	struct stack *st = ctx;
	struct tcp_tw *tw = (struct tcp_tw *)((char *)t - offsetof(struct tcp_tw, timer));

	tcp_tw_kill(st, tw);
}

static void tcp_tw_reschedule(struct stack *st, struct tcp_tw *tw, uint64_t timeo_ns)
{
	wheel_arm(&st->wheel, &tw->timer, st->now + timeo_ns);
}

void tcp_time_wait(struct stack *st, struct tcp_sock *tp, int state, uint64_t timeo_ns)
{
	struct tcp_tw *tw = st->tcp.free_tws;
	/* Linux: at least 3.5 RTO, so that our last ACK can be repeated. */
	uint64_t rto_ns = ((uint64_t)tp->rto_us * 1000 << 2) - ((uint64_t)tp->rto_us * 1000 >> 1);

	if (!tw) {
		TCPEXT_INC(st, TCP_TIMEWAIT_OVERFLOW);
		tcp_done(st, tp);
		return;
	}
	st->tcp.free_tws = tw->hash_next;
	st->tcp.nfree_tws--;
	memset(tw, 0, sizeof(*tw));
	tw->saddr = tp->saddr;
	tw->daddr = tp->daddr;
	tw->sport = tp->sport;
	tw->dport = tp->dport;
	tw->state = (uint8_t)state;
	tw->tstamp_ok = tp->tstamp_ok;
	tw->rcv_wscale = tp->rcv_wscale;
	tw->snd_nxt = tp->snd_nxt;
	tw->rcv_nxt = tp->rcv_nxt;
	tw->rcv_wnd = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;
	if ((int32_t)tw->rcv_wnd < 0)
		tw->rcv_wnd = 0;
	tw->ts_recent = tp->ts_recent;
	tw->ts_recent_stamp = tp->ts_recent_stamp;
	tw->ts_off = tp->ts_off;
	tw->uid = tp->sk.uid;
	wheel_timer_init(&tw->timer, tcp_tw_timer_fn);
	if (timeo_ns < rto_ns)
		timeo_ns = rto_ns;
	if (state == TCP_TIME_WAIT)
		timeo_ns = TCP_TIMEWAIT_NS;
	/* Linux __inet_twsk_schedule() counts an entry (TIME-WAIT or an
	 * orphan's FIN-WAIT-2) when it is made, if it is to last more than
	 * 4 s; shorter ones are TWKilled, which we do not keep. */
	if (timeo_ns > 4ull * 1000000000ull)
		TCPEXT_INC(st, TW);
	{
		struct tcp_tw **head =
			tcp_twhash_head(st, tw->saddr, tw->sport, tw->daddr, tw->dport);

		tw->hash_next = *head;
		if (*head)
			(*head)->hash_pprev = &tw->hash_next;
		*head = tw;
		tw->hash_pprev = head;
	}
	/* The entry holds the local port, so that it is not handed out
	 * again while the tuple may still carry old segments. */
	tcp_port_get(st, tw->sport);
	tcp_tw_reschedule(st, tw, timeo_ns);
	tcp_done(st, tp);
}

static void tcp_tw_send_ack(struct stack *st, struct tcp_tw *tw)
{
	struct tcp_opts_tx o;

	memset(&o, 0, sizeof(o));
	o.wscale = -1;
	if (tw->tstamp_ok) {
		o.tstamp = true;
		o.tsval = tcp_ts_now(st) + tw->ts_off;
		o.tsecr = tw->ts_recent;
	}
	tcp_send_ack_raw(st, tw->saddr, tw->sport, tw->daddr, tw->dport, tw->snd_nxt, tw->rcv_nxt,
			 tw->rcv_wnd >> tw->rcv_wscale, TH_ACK, &o);
}

static void tcp_tw_send_reset(struct stack *st, const struct pkt *pkt)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	const struct tcp_skb_cb *cb = tcp_cb((struct pkt *)pkt);

	tcp_send_reset(st, pkt, th,
		       cb->end_seq - cb->seq - !!(th->flags & TH_SYN) - !!(th->flags & TH_FIN));
}

/* Linux tcp_timewait_check_oow_rate_limit(): at most one ACK per
 * tcp_invalid_ratelimit to segments that carry no data (or a SYN), so that
 * two endpoints cannot loop ACKs at each other; data and FINs are always
 * answered. */
static bool tcp_tw_oow_rate_limited(struct stack *st, struct tcp_tw *tw, const struct tcp_hdr *th,
				    const struct tcp_skb_cb *cb)
{
	uint64_t gap = (uint64_t)st->cfg.tun.tcp_invalid_ratelimit_ms * 1000000ull;

	if (cb->seq != cb->end_seq && !(th->flags & TH_SYN))
		return false;
	if (tw->last_oow_ack_ns && st->now - tw->last_oow_ack_ns < gap) {
		TCPEXT_INC(st, TCP_ACK_SKIPPED_TIME_WAIT);
		return true;
	}
	tw->last_oow_ack_ns = st->now;
	return false;
}

static bool tcp_tw_paws_reject(const struct stack *st, const struct tcp_tw *tw,
			       const struct tcp_opts *opts)
{
	if (!opts->saw_tstamp || !tw->ts_recent_stamp)
		return false;
	if ((int32_t)(tw->ts_recent - opts->tsval) <= (int32_t)TCP_PAWS_WINDOW)
		return false;
	if ((uint32_t)(st->now / 1000000000ull) >= tw->ts_recent_stamp + TCP_PAWS_24DAYS)
		return false;
	return tw->ts_recent != 0;
}

bool tcp_tw_rcv(struct stack *st, struct tcp_tw *tw, struct pkt *pkt, const struct tcp_opts *opts,
		uint32_t *isn)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);
	bool paws_reject = tcp_tw_paws_reject(st, tw, opts);

	if (tw->state == TCP_FIN_WAIT2) {
		/* An orphan waiting for the peer's FIN. */
		if (paws_reject || tcp_before(cb->end_seq, tw->rcv_nxt) ||
		    tcp_after(cb->seq, tw->rcv_nxt + tw->rcv_wnd)) {
			tcp_tw_send_ack(st, tw);
			pkt_drop(st, pkt, DROP_TCP_TIMEWAIT);
			return true;
		}
		if (th->flags & TH_RST) {
			tcp_tw_kill(st, tw);
			pkt_drop(st, pkt, DROP_TCP_RESET);
			return true;
		}
		if ((th->flags & TH_SYN) && !tcp_before(cb->seq, tw->rcv_nxt)) {
			tcp_tw_send_reset(st, pkt);
			pkt_drop(st, pkt, DROP_TCP_INVALID_SYN);
			return true;
		}
		if (!(th->flags & TH_ACK) || !tcp_after(cb->end_seq, tw->rcv_nxt) ||
		    cb->end_seq == cb->seq) {
			pkt_consume(st, pkt);
			return true;
		}
		if (!(th->flags & TH_FIN) || cb->end_seq != tw->rcv_nxt + 1) {
			/* Data after the owner closed: reset. */
			TCPEXT_INC(st, TCP_ABORT_ON_DATA);
			tcp_tw_send_reset(st, pkt);
			tcp_tw_kill(st, tw);
			pkt_drop(st, pkt, DROP_TCP_ABORT_ON_DATA);
			return true;
		}
		tw->state = TCP_TIME_WAIT;
		tw->rcv_nxt = cb->end_seq;
		if (opts->saw_tstamp) {
			tw->ts_recent = opts->tsval;
			tw->ts_recent_stamp = (uint32_t)(st->now / 1000000000ull);
		}
		tcp_tw_reschedule(st, tw, TCP_TIMEWAIT_NS);
		tcp_tw_send_ack(st, tw);
		pkt_consume(st, pkt);
		return true;
	}

	if (!paws_reject && cb->seq == tw->rcv_nxt &&
	    (cb->seq == cb->end_seq || (th->flags & TH_RST))) {
		if (th->flags & TH_RST) {
			/* TIME-WAIT assassination (RFC 1337): Linux accepts
			 * it by default (tcp_rfc1337 = 0). */
			tcp_tw_kill(st, tw);
			pkt_drop(st, pkt, DROP_TCP_RESET);
			return true;
		}
		tcp_tw_reschedule(st, tw, TCP_TIMEWAIT_NS);
		if (opts->saw_tstamp) {
			tw->ts_recent = opts->tsval;
			tw->ts_recent_stamp = (uint32_t)(st->now / 1000000000ull);
		}
		pkt_consume(st, pkt);
		return true;
	}
	/* A new SYN may reopen the tuple if it cannot be an old duplicate
	 * (RFC 1122 §4.2.2.13, RFC 6191). */
	if ((th->flags & (TH_SYN | TH_RST | TH_ACK)) == TH_SYN && !paws_reject &&
	    (tcp_after(cb->seq, tw->rcv_nxt) ||
	     (opts->saw_tstamp && (int32_t)(tw->ts_recent - opts->tsval) < 0))) {
		uint32_t new_isn = tw->snd_nxt + 65535 + 2;

		if (!tcp_listener_lookup(st, tw->saddr, tw->sport)) {
			/* Nobody to take it (an active open's port): the
			 * entry stays and repeats its ACK (Linux tcp_v4_rcv,
			 * TCP_TW_SYN without a listener). */
			tcp_tw_send_ack(st, tw);
			pkt_drop(st, pkt, DROP_TCP_TIMEWAIT);
			return true;
		}
		/* Linux counts TWRecycled only for connect()
		 * (__inet_check_established), not here. */
		*isn = new_isn ? new_isn : 1;
		tcp_tw_kill(st, tw);
		return false;
	}
	if (!(th->flags & TH_RST)) {
		if (paws_reject || (th->flags & TH_ACK))
			tcp_tw_reschedule(st, tw, TCP_TIMEWAIT_NS);
		if (paws_reject)
			TCPEXT_INC(st, PAWS_ESTAB);
		if (!tcp_tw_oow_rate_limited(st, tw, th, cb))
			tcp_tw_send_ack(st, tw);
	}
	pkt_drop(st, pkt, DROP_TCP_TIMEWAIT);
	return true;
}

/* Linux tcp_twsk_unique() for a socket bound to its port before connect()
 * (the only way to meet a TIME-WAIT tuple here: automatic binds take
 * ports nothing holds): the tuple may be taken over if the old connection
 * used timestamps, since PAWS then rejects its segments. Linux's
 * tcp_tw_reuse and its one-second rule apply to automatic binds only. */
bool tcp_tw_may_reuse(struct stack *st, struct tcp_tw *tw)
{
	(void)st;
	return tw->state == TCP_TIME_WAIT && tw->ts_recent_stamp;
}
