// SPDX-License-Identifier: MIT
/*
 * TCP input (RFC 9293 §3.10.7; Linux net/ipv4/tcp_input.c, tcp_ipv4.c).
 *
 * Theory of operation. tcp_v4_rcv() validates the header (length, data
 * offset, checksum), parses options once, and finds the owner in this
 * order: a connection in the established table, a request sock (SYN
 * received, no full socket yet), a TIME_WAIT entry, a listener; otherwise
 * it answers with RST (RFC 9293 §3.10.7.1).
 *
 * For a synchronized connection the segment is processed in the RFC's
 * order, as Linux does in tcp_validate_incoming():
 *   PAWS (RFC 7323 §5.3, before anything else, as Linux);
 *   1. sequence number acceptable? (else a duplicate ACK, rate limited);
 *   2. RST: reset only if SEG.SEQ == RCV.NXT, else a challenge ACK
 *      (RFC 5961 §3.2);
 *   4. SYN in a synchronized state: challenge ACK (RFC 5961 §4.2);
 *   5. ACK: reject ACKs of unsent data, challenge ACKs below the send
 *      window (RFC 5961 §5.2), update the window, clean the retransmit
 *      queue, take RTT samples, run loss recovery and congestion control;
 *   7. segment text: in order to the owner, out of order to ofo_q (with
 *      SACK blocks, RFC 2018), duplicates answered with D-SACK (RFC 2883);
 *   8. FIN.
 * The fast path (header prediction, Van Jacobson) leaves this order for
 * the two common cases on an established connection: the next in-order
 * data segment and a pure ACK that advances SND.UNA, when the flags are
 * just ACK (and PSH), the window is unchanged, no out-of-order data is
 * queued and the timestamp is not older than TS.Recent.
 */
#include <errno.h>
#include <string.h>

#include "ipv4.h"
#include "stack.h"
#include "tcp.h"

/* ------------------------------------------------------------------------ */
/* RTT, RTO and timestamps                                                    */

/* Linux tcp_rtt_estimator(): RFC 6298 §2 with srtt<<3 and mdev<<2, and
 * Linux's refinement that a falling RTT moves mdev with a smaller gain. */
void tcp_rtt_estimator(struct tcp_sock *tp, int64_t mrtt_us)
{
	int64_t m = mrtt_us;
	uint32_t srtt = tp->srtt_us;
	uint32_t rto_min = TCP_RTO_MIN_US;

	if (srtt) {
		m -= srtt >> 3;
		srtt = (uint32_t)((int64_t)srtt + m);
		if (m < 0) {
			m = -m;
			m -= tp->mdev_us >> 2;
			if (m > 0)
				m >>= 3;
		} else {
			m -= tp->mdev_us >> 2;
		}
		tp->mdev_us = (uint32_t)((int64_t)tp->mdev_us + m);
		if (tp->mdev_us > tp->mdev_max_us) {
			tp->mdev_max_us = tp->mdev_us;
			if (tp->mdev_max_us > tp->rttvar_us)
				tp->rttvar_us = tp->mdev_max_us;
		}
		if (tcp_after(tp->snd_una, tp->rtt_seq)) {
			if (tp->mdev_max_us < tp->rttvar_us)
				tp->rttvar_us -= (tp->rttvar_us - tp->mdev_max_us) >> 2;
			tp->rtt_seq = tp->snd_nxt;
			tp->mdev_max_us = rto_min;
		}
	} else {
		srtt = (uint32_t)(m << 3);
		tp->mdev_us = (uint32_t)(m << 1);
		tp->rttvar_us = tp->mdev_us > rto_min ? tp->mdev_us : rto_min;
		tp->mdev_max_us = tp->rttvar_us;
		tp->rtt_seq = tp->snd_nxt;
	}
	tp->srtt_us = srtt ? srtt : 1;
}

/* RFC 6298 §2.3 (RTO = SRTT + max(G, 4 * RTTVAR)) as Linux computes it:
 * rttvar already holds 4 * RTTVAR and is kept above the RTO minimum. */
void tcp_set_rto(struct tcp_sock *tp)
{
	uint32_t rto = (tp->srtt_us >> 3) + tp->rttvar_us;

	tp->rto_us = rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : rto;
}

/* RFC 6298 §5.7 (Linux tcp_init_metrics): when data transmission begins
 * without an RTT sample from the handshake (SYN or SYN-ACK resent, no
 * timestamps), the RTO restarts at 3 s rather than at the 1 s initial
 * value or wherever the handshake's backoff left it. */
void tcp_init_rto(struct tcp_sock *tp)
{
	if (tp->srtt_us)
		return;
	tp->rttvar_us = TCP_TIMEOUT_FALLBACK_US;
	tp->mdev_us = TCP_TIMEOUT_FALLBACK_US;
	tp->mdev_max_us = TCP_TIMEOUT_FALLBACK_US;
	tp->rto_us = TCP_TIMEOUT_FALLBACK_US;
}

/* A windowed minimum RTT (Linux keeps a three-sample minmax; one sample
 * that expires after tcp_min_rtt_wlen is enough for RACK's reo_wnd). */
void tcp_update_rtt_min(struct stack *st, struct tcp_sock *tp, int64_t rtt_us)
{
	uint64_t wlen = (uint64_t)st->cfg.tun.tcp_min_rtt_wlen_s * 1000000000ull;

	if (rtt_us <= 0)
		rtt_us = 1;
	if (!tp->min_rtt_us || (uint64_t)rtt_us <= tp->min_rtt_us ||
	    st->now - tp->min_rtt_ns > wlen) {
		tp->min_rtt_us = (uint32_t)rtt_us;
		tp->min_rtt_ns = st->now;
	}
}

/* Linux tcp_ack_update_rtt(): Karn's rule (RFC 6298 §3) through
 * seq_rtt < 0 for retransmitted data; RFC 7323 §4 RTTM from TSecr when
 * no unambiguous sample exists. */
static bool tcp_ack_update_rtt(struct stack *st, struct tcp_sock *tp, int flag, int64_t seq_rtt_us,
			       int64_t sack_rtt_us, int64_t ca_rtt_us, const struct tcp_opts *opts,
			       struct tcp_rate_sample *rs)
{
	if (seq_rtt_us < 0)
		seq_rtt_us = sack_rtt_us;
	if (seq_rtt_us < 0 && opts->saw_tstamp && tp->rcv_tsecr && (flag & FLAG_ACKED)) {
		uint32_t delta = tcp_ts_now(st) - tp->rcv_tsecr;

		if (delta < 0x7fffffffu / 1000) {
			if (!delta)
				delta = 1;
			seq_rtt_us = (int64_t)delta * 1000;
			ca_rtt_us = seq_rtt_us;
		}
	}
	rs->rtt_us = ca_rtt_us;
	if (seq_rtt_us < 0)
		return false;
	tcp_update_rtt_min(st, tp, ca_rtt_us);
	tcp_rtt_estimator(tp, seq_rtt_us);
	tcp_set_rto(tp);
	tp->backoff = 0;	/* RFC 6298 §5.7 */
	return true;
}

static bool tcp_paws_check(const struct stack *st, const struct tcp_sock *tp, uint32_t tsval,
			   int paws_win)
{
	if ((int32_t)(tp->ts_recent - tsval) <= paws_win)
		return true;
	/* RFC 7323 §5.5: TS.Recent older than 24 days is invalid. */
	if ((uint32_t)(st->now / 1000000000ull) >= tp->ts_recent_stamp + TCP_PAWS_24DAYS)
		return true;
	/* Linux: some stacks send tsval 0 on SYNs; do not let it block. */
	return !tp->ts_recent;
}

static void tcp_store_ts_recent(struct stack *st, struct tcp_sock *tp, uint32_t tsval)
{
	tp->ts_recent = tsval;
	tp->ts_recent_stamp = (uint32_t)(st->now / 1000000000ull);
}

/* RFC 7323 §4.3: TS.Recent follows the segment at the left window edge. */
static void tcp_replace_ts_recent(struct stack *st, struct tcp_sock *tp, const struct tcp_opts *opts,
				  uint32_t seq)
{
	if (opts->saw_tstamp && !tcp_after(seq, tp->rcv_wup) &&
	    tcp_paws_check(st, tp, opts->tsval, 0))
		tcp_store_ts_recent(st, tp, opts->tsval);
}

static bool tcp_may_update_window(const struct tcp_sock *tp, uint32_t ack, uint32_t ack_seq,
				  uint32_t nwin)
{
	return tcp_after(ack, tp->snd_una) || tcp_after(ack_seq, tp->snd_wl1) ||
	       (ack_seq == tp->snd_wl1 && (nwin > tp->snd_wnd || !nwin));
}

/* Linux tcp_disordered_ack(): an old timestamp on a pure duplicate ACK is
 * reordering, not a replay, within an RTO. */
static bool tcp_disordered_ack(const struct tcp_sock *tp, const struct tcp_hdr *th,
			       const struct tcp_skb_cb *cb, const struct tcp_opts *opts)
{
	uint32_t ack = ntohl(th->ack_seq);
	uint32_t nwin = (uint32_t)ntohs(th->window) << tp->snd_wscale;

	return (th->flags & TH_ACK) && cb->seq == cb->end_seq && cb->seq == tp->rcv_nxt &&
	       ack == tp->snd_una && !tcp_may_update_window(tp, ack, cb->seq, nwin) &&
	       (int32_t)(tp->ts_recent - opts->tsval) <= (int32_t)(tp->rto_us / 1000);
}

static bool tcp_paws_discard(const struct stack *st, const struct tcp_sock *tp,
			     const struct tcp_hdr *th, const struct tcp_skb_cb *cb,
			     const struct tcp_opts *opts)
{
	return !tcp_paws_check(st, tp, opts->tsval, TCP_PAWS_WINDOW) &&
	       !tcp_disordered_ack(tp, th, cb, opts);
}

/* ------------------------------------------------------------------------ */
/* ACK generation                                                             */

/* Linux tcp_incr_quickack(): allow up to @max_quickacks immediate ACKs,
 * without leaving interactive (pingpong) mode. */
static void tcp_incr_quickack(struct tcp_sock *tp, unsigned int max_quickacks)
{
	uint32_t quickacks = tp->ack.rcv_mss ? tp->rcv_wnd / (2 * tp->ack.rcv_mss) : 2;

	if (quickacks == 0)
		quickacks = 2;
	if (quickacks > max_quickacks)
		quickacks = max_quickacks;
	if (quickacks > tp->ack.quick)
		tp->ack.quick = (uint8_t)quickacks;
}

void tcp_enter_quickack_mode(struct tcp_sock *tp, unsigned int max_quickacks)
{
	tcp_incr_quickack(tp, max_quickacks);
	tp->ack.pingpong = 0;
	tp->ack.ato_us = TCP_ATO_MIN_US;
}

static bool tcp_in_quickack_mode(const struct tcp_sock *tp)
{
	return tp->ack.quick && !tp->ack.pingpong;
}

static void tcp_schedule_ack(struct tcp_sock *tp)
{
	tp->ack.pending |= TCP_ACK_SCHED;
}

/* Linux tcp_oow_rate_limited(): at most one reply to out-of-window
 * segments per tcp_invalid_ratelimit, so that a flood cannot turn us
 * into an amplifier. */
static bool tcp_oow_rate_limited(struct stack *st, struct tcp_sock *tp, int mib)
{
	uint64_t gap = (uint64_t)st->cfg.tun.tcp_invalid_ratelimit_ms * 1000000ull;

	if (tp->last_oow_ack_ns && st->now - tp->last_oow_ack_ns < gap) {
		st->mib.tcpext[mib]++;
		return true;
	}
	tp->last_oow_ack_ns = st->now;
	return false;
}

/* Linux tcp_oow_rate_limited(): duplicate ACKs to out-of-window or PAWS-
 * failed segments are limited only for segments without data (or with a
 * SYN): those are what two confused endpoints would loop; a data segment
 * gets its ACK every time, as the sender needs it to recover. */
static bool tcp_oow_dupack_limited(struct stack *st, struct tcp_sock *tp,
				   const struct tcp_skb_cb *cb, int mib)
{
	if (cb->seq != cb->end_seq && !(cb->tcp_flags & TH_SYN))
		return false;
	return tcp_oow_rate_limited(st, tp, mib);
}

/* RFC 5961 §7: challenge ACKs, limited per socket and stack-wide. */
static void tcp_send_challenge_ack(struct stack *st, struct tcp_sock *tp)
{
	uint64_t sec = st->now / 1000000000ull;
	uint32_t limit = st->cfg.tun.tcp_challenge_ack_limit;

	if (tcp_oow_rate_limited(st, tp, TCPEXT_TCP_ACK_SKIPPED_CHALLENGE))
		return;
	/* Linux: INT_MAX turns the stack-wide limit off (the default). */
	if (limit >= 0x7fffffffu)
		goto send;
	if (sec != st->challenge_stamp_s) {
		uint32_t half = (limit + 1) >> 1;

		st->challenge_stamp_s = sec;
		/* Linux randomizes the budget, between limit/2 and 3*limit/2,
		 * so that its use cannot be counted from outside
		 * (CVE-2016-5696). */
		st->challenge_count = half + rng_below(&st->rng, limit ? limit : 1);
	}
	if (st->challenge_count == 0)
		return;
	st->challenge_count--;
send:
	TCPEXT_INC(st, TCP_CHALLENGE_ACK);
	tcp_send_ack(st, tp);
}

/* Linux tcp_send_dupack(). */
static void tcp_send_dupack(struct stack *st, struct tcp_sock *tp, const struct tcp_skb_cb *cb)
{
	if (cb->end_seq != cb->seq && tcp_before(cb->seq, tp->rcv_nxt)) {
		uint32_t end = tcp_after(cb->end_seq, tp->rcv_nxt) ? tp->rcv_nxt : cb->end_seq;

		TCPEXT_INC(st, DELAYED_ACK_LOST);
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		if (tp->sack_ok)
			tcp_dsack_set(st, tp, cb->seq, end);
	}
	tcp_send_ack(st, tp);
}

/* Linux __tcp_ack_snd_check(). */
static void tcp_ack_snd_check(struct stack *st, struct tcp_sock *tp)
{
	if (!(tp->ack.pending & TCP_ACK_SCHED))
		return;
	if (tcp_in_quickack_mode(tp) || (tp->ack.pending & TCP_ACK_NOW) || tp->ofo_q.len) {
		tcp_send_ack(st, tp);
		return;
	}
	if (tp->rcv_nxt - tp->rcv_wup > tp->ack.rcv_mss && tcp_rx_space(tp) >= tp->rcv_wnd) {
		/* More than one full segment unacknowledged (RFC 9293
		 * §3.8.6.3). Within a receive batch, one ACK at its end
		 * covers them all, up to 64 KB: what Linux sends for a GRO
		 * packet, and half the ACKs it would cost the peer to
		 * process them one by one. Out-of-order data, quick-ACK
		 * mode and pushed ACKs above never wait. */
		if (st->rx_batch && st->cfg.tun.tcp_ack_coalesce &&
		    tp->rcv_nxt - tp->rcv_wup < TCP_ACK_COALESCE_MAX) {
			tp->ack_deferred = 1;
			tcp_poll_add(st, tp);
			return;
		}
		tcp_send_ack(st, tp);
		return;
	}
	tcp_send_delayed_ack(st, tp);
}

/* Linux tcp_measure_rcv_mss(): learn the peer's segment size. */
static void tcp_measure_rcv_mss(struct tcp_sock *tp, uint32_t len)
{
	if (len >= tp->ack.rcv_mss) {
		tp->ack.rcv_mss = (uint32_t)(len < tp->advmss ? len : tp->advmss);
	} else {
		if (tp->ack.pending & TCP_ACK_PUSHED)
			tp->ack.pending |= TCP_ACK_PUSHED2;
		tp->ack.pending |= TCP_ACK_PUSHED;
	}
}

/* Receiver RTT from timestamps (Linux tcp_rcv_rtt_measure_ts), for buffer
 * autotuning. */
static void tcp_rcv_rtt_measure_ts(struct stack *st, struct tcp_sock *tp, const struct tcp_opts *opts,
				   uint32_t len)
{
	uint32_t ticks, delta_us;

	if (!opts->saw_tstamp || !tp->rcv_tsecr || len < tp->ack.rcv_mss)
		return;
	/* Millisecond ticks: an echo within the same tick counts as one
	 * (Linux tcp_rtt_tsopt_us). */
	ticks = tcp_ts_now(st) + tp->ts_off - opts->tsecr;
	if (ticks > 1000000u)
		return;
	delta_us = (ticks ? ticks : 1) * 1000u;
	if (!tp->rcv_rtt_us || delta_us < tp->rcv_rtt_us)
		tp->rcv_rtt_us = delta_us;
	else
		tp->rcv_rtt_us = tp->rcv_rtt_us - (tp->rcv_rtt_us >> 3) + (delta_us >> 3);
}

/* Linux tcp_event_data_recv(): delayed-ACK timeout estimation. */
static void tcp_event_data_recv(struct stack *st, struct tcp_sock *tp, uint32_t len)
{
	tcp_schedule_ack(tp);
	tcp_measure_rcv_mss(tp, len);
	if (!tp->ack.lrcv_ns) {
		/* The first data: quick ACKs, unless the owner asked for
		 * interactive mode (TCP_QUICKACK 0), which stays. */
		tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
		tp->ack.ato_us = TCP_ATO_MIN_US;
	} else {
		uint64_t m = (st->now - tp->ack.lrcv_ns) / 1000;

		if (m <= TCP_ATO_MIN_US / 2) {
			tp->ack.ato_us = (tp->ack.ato_us >> 1) + TCP_ATO_MIN_US / 2;
		} else if (m < tp->ack.ato_us) {
			tp->ack.ato_us = (tp->ack.ato_us >> 1) + (uint32_t)m;
			if (tp->ack.ato_us > tp->rto_us)
				tp->ack.ato_us = tp->rto_us;
		} else if (m > tp->rto_us) {
			/* The sender stalled: answer quickly for a while. */
			tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
		}
	}
	tp->ack.lrcv_ns = st->now;
}

/* Linux tcp_rcv_space_adjust(): dynamic right-sizing. The window has to
 * carry twice what the owner consumed in one RTT. */
void tcp_rcv_space_adjust(struct stack *st, struct tcp_sock *tp)
{
	uint32_t rtt = tp->rcv_rtt_us ? tp->rcv_rtt_us : tp->srtt_us >> 3;
	uint32_t copied;

	if (!tp->rcvq_space.time_ns) {
		tp->rcvq_space.time_ns = st->now;
		tp->rcvq_space.seq = tp->copied_seq;
		tp->rcvq_space.space = 10u * tp->advmss;
		return;
	}
	if (!rtt || (st->now - tp->rcvq_space.time_ns) / 1000 < rtt)
		return;
	copied = tp->copied_seq - tp->rcvq_space.seq;
	if (copied > tp->rcvq_space.space) {
		if (st->cfg.tun.tcp_moderate_rcvbuf && !tp->rcvbuf_locked) {
			uint64_t rcvwin = ((uint64_t)copied << 1) + 16u * tp->advmss;
			uint64_t grow = rcvwin * (copied - tp->rcvq_space.space) / tp->rcvq_space.space;

			rcvwin += grow << 1;
			if (rcvwin > st->cfg.tun.tcp_rmem[2])
				rcvwin = st->cfg.tun.tcp_rmem[2];
			if (rcvwin > tp->sk.rcvbuf) {
				tp->sk.rcvbuf = (uint32_t)rcvwin;
				tp->window_clamp = (uint32_t)rcvwin;
			}
		}
		tp->rcvq_space.space = copied;
	}
	tp->rcvq_space.seq = tp->copied_seq;
	tp->rcvq_space.time_ns = st->now;
}

/* ------------------------------------------------------------------------ */
/* Segment text                                                               */

/* Hand in-order bytes [seq, end) of @p (data at seq) to the owner, or hold
 * them until the owner attaches. Return: bytes taken. */
static uint32_t tcp_queue_rcv(struct stack *st, struct tcp_sock *tp, struct pkt *p, uint32_t seq)
{
	uint32_t off = tp->rcv_nxt - seq;
	uint32_t len = pkt_len(p) - off;
	uint32_t took;

	if (!len)
		return 0;
	if (!tp->sk.ops) {
		struct pkt *c = pkt_clone(p);

		if (!c) {
			TCPEXT_INC(st, TCP_RCV_Q_DROP);
			return 0;
		}
		pkt_pull(c, off);
		pkt_queue_push(&tp->rx_hold, c);
		took = len;
	} else {
		took = (uint32_t)tp->sk.ops->rx_append(tp->sk.ctx, p->data + off, len);
		if (took < len)
			TCPEXT_INC(st, TCP_RCV_Q_DROP);
		tp->copied_seq = tp->rcv_nxt + took - (uint32_t)tp->sk.ops->rx_queued(tp->sk.ctx);
	}
	tp->rcv_nxt += took;
	tp->bytes_received += took;
	if (took)
		sock_event(st, &tp->sk, SK_EV_READABLE);
	return took;
}

/* Linux tcp_fin(): RFC 9293 §3.10.7.4 eighth step. */
static void tcp_fin(struct stack *st, struct tcp_sock *tp)
{
	tcp_schedule_ack(tp);
	tp->shutdown |= RCV_SHUTDOWN;
	switch (tp->state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(st, tp, TCP_CLOSE_WAIT);
		tp->ack.pingpong = 1;
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	case TCP_FIN_WAIT1:
		/* Simultaneous close (RFC 9293 Figure 13). */
		tcp_send_ack(st, tp);
		tcp_set_state(st, tp, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		tcp_send_ack(st, tp);
		tcp_time_wait(st, tp, TCP_TIME_WAIT, 0);
		return;
	default:
		break;
	}
	/* Out-of-order data beyond a FIN cannot be delivered (Linux drops it). */
	pkt_queue_purge(&tp->ofo_q);
	tp->num_sacks = 0;
	sock_event(st, &tp->sk, SK_EV_READABLE | SK_EV_HUP);
}

/* Linux tcp_ofo_queue(): move what the hole's filling made in-order. */
static void tcp_ofo_queue(struct stack *st, struct tcp_sock *tp)
{
	struct pkt *p;

	while ((p = tp->ofo_q.head) && !tcp_after(tcp_cb(p)->seq, tp->rcv_nxt)) {
		struct tcp_skb_cb *cb = tcp_cb(p);
		bool fin = cb->tcp_flags & TH_FIN;

		pkt_queue_pop(&tp->ofo_q);
		if (!tcp_after(cb->end_seq - fin, tp->rcv_nxt) && !(fin && cb->end_seq - 1 == tp->rcv_nxt)) {
			/* All of it arrived again meanwhile. */
			tcp_dsack_extend(st, tp, cb->seq, cb->end_seq);
			pkt_free(p);
			continue;
		}
		tcp_queue_rcv(st, tp, p, cb->seq);
		if (fin && tp->rcv_nxt == cb->end_seq - 1) {
			tp->rcv_nxt++;
			pkt_free(p);
			tcp_fin(st, tp);
			return;
		}
		pkt_free(p);
	}
}

/* Linux tcp_data_queue_ofo(): keep a segment that arrived ahead of a hole,
 * sorted, without overlaps, within the receive buffer. */
static void tcp_data_queue_ofo(struct stack *st, struct tcp_sock *tp, struct pkt *p)
{
	struct tcp_skb_cb *cb = tcp_cb(p);
	struct pkt *prev = NULL, *cur;
	uint32_t seq = cb->seq, end_seq = cb->end_seq;

	if (tp->ofo_q.bytes + pkt_len(p) > tp->sk.rcvbuf) {
		TCPEXT_INC(st, TCP_OFO_DROP);
		pkt_drop(st, p, DROP_TCP_OFO_DROP);
		return;
	}
	TCPEXT_INC(st, TCP_OFO_QUEUE);
	/* RFC 5681 §4.2: an out-of-order segment is ACKed at once (Linux
	 * inet_csk_schedule_ack() here; ACK_NOW alone is not an ACK owed). */
	tcp_schedule_ack(tp);
	tp->ack.pending |= TCP_ACK_NOW;

	for (cur = tp->ofo_q.head; cur; prev = cur, cur = cur->next) {
		struct tcp_skb_cb *c = tcp_cb(cur);

		if (!tcp_after(c->seq, seq)) {
			if (!tcp_before(c->end_seq, end_seq)) {
				/* Entirely covered by what we have. */
				TCPEXT_INC(st, TCP_OFO_MERGE);
				tcp_dsack_set(st, tp, seq, end_seq);
				pkt_drop(st, p, DROP_TCP_OLD_DATA);
				return;
			}
			continue;
		}
		break;
	}
	/* Trim our head against the previous segment's tail. */
	if (prev && tcp_after(tcp_cb(prev)->end_seq, seq)) {
		uint32_t overlap = tcp_cb(prev)->end_seq - seq;

		tcp_dsack_set(st, tp, seq, tcp_cb(prev)->end_seq);
		pkt_pull(p, overlap);
		cb->seq = seq = tcp_cb(prev)->end_seq;
	}
	/* Drop later segments we cover entirely; trim our tail against the
	 * first one we overlap. */
	while ((cur = prev ? prev->next : tp->ofo_q.head) && tcp_before(tcp_cb(cur)->seq, end_seq)) {
		struct tcp_skb_cb *c = tcp_cb(cur);

		if (!tcp_after(c->end_seq, end_seq)) {
			tcp_dsack_extend(st, tp, c->seq, c->end_seq);
			if (prev)
				prev->next = cur->next;
			else
				tp->ofo_q.head = cur->next;
			if (tp->ofo_q.tail == cur)
				tp->ofo_q.tail = prev;
			tp->ofo_q.len--;
			tp->ofo_q.bytes -= pkt_len(cur);
			TCPEXT_INC(st, TCP_OFO_MERGE);
			pkt_free(cur);
			continue;
		}
		tcp_dsack_extend(st, tp, c->seq, end_seq);
		pkt_trim(p, pkt_len(p) - (end_seq - c->seq));
		cb->end_seq = end_seq = c->seq;
		cb->tcp_flags &= (uint8_t)~TH_FIN;
		break;
	}
	pkt_queue_insert_after(&tp->ofo_q, prev, p);
	if (tp->sack_ok)
		tcp_update_sack_list(tp, seq, end_seq);
}

static uint32_t tcp_receive_window_now(const struct tcp_sock *tp)
{
	int32_t win = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

	return win < 0 ? 0 : (uint32_t)win;
}

/* Linux tcp_data_queue(): RFC 9293 §3.10.7.4 seventh step. Consumes @p. */
static void tcp_data_queue(struct stack *st, struct tcp_sock *tp, struct pkt *p)
{
	struct tcp_skb_cb *cb = tcp_cb(p);
	bool fin = cb->tcp_flags & TH_FIN;
	uint32_t len = pkt_len(p);

	if (cb->seq == cb->end_seq) {
		pkt_consume(st, p);
		return;
	}
	tp->data_segs_in++;

	if (cb->seq == tp->rcv_nxt) {
		if (!tcp_receive_window_now(tp) && len) {
			TCPEXT_INC(st, TCP_ZERO_WINDOW_DROP);
			tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
			tcp_schedule_ack(tp);
			pkt_drop(st, p, DROP_TCP_ZEROWINDOW);
			return;
		}
queue_and_out:
		if (len) {
			uint32_t before = tp->rcv_nxt;

			tcp_queue_rcv(st, tp, p, cb->seq);
			tcp_event_data_recv(st, tp, len);
			if (tp->rcv_nxt != cb->end_seq - fin) {
				/* The owner took less (its buffer is full): the
				 * rest comes again, and the FIN with it. */
				tcp_schedule_ack(tp);
				tp->ack.pending |= TCP_ACK_NOW;
				(void)before;
				fin = false;
			}
		}
		if (fin) {
			tp->rcv_nxt++;
			tcp_fin(st, tp);
		}
		if (tp->ofo_q.len) {
			tcp_ofo_queue(st, tp);
			/* RFC 5681 §4.2: ACK at once when a hole is filled. */
			if (!tp->ofo_q.len)
				tp->ack.pending |= TCP_ACK_NOW;
		}
		if (tp->num_sacks)
			tcp_sack_remove(tp);
		pkt_consume(st, p);
		return;
	}
	if (!tcp_after(cb->end_seq, tp->rcv_nxt)) {
		/* A retransmission of what we have: D-SACK it at once. */
		TCPEXT_INC(st, DELAYED_ACK_LOST);
		if (tp->sack_ok)
			tcp_dsack_set(st, tp, cb->seq, cb->end_seq);
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		tcp_schedule_ack(tp);
		pkt_drop(st, p, DROP_TCP_OLD_DATA);
		return;
	}
	if (!tcp_before(cb->seq, tp->rcv_nxt + tcp_receive_window_now(tp))) {
		/* Beyond the window, e.g. a zero-window probe. */
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		tcp_schedule_ack(tp);
		pkt_drop(st, p, DROP_TCP_OVERWINDOW);
		return;
	}
	if (tcp_before(cb->seq, tp->rcv_nxt)) {
		/* Partly old: D-SACK the old part, take the rest. */
		if (tp->sack_ok)
			tcp_dsack_set(st, tp, cb->seq, tp->rcv_nxt);
		if (!tcp_receive_window_now(tp)) {
			TCPEXT_INC(st, TCP_ZERO_WINDOW_DROP);
			tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
			tcp_schedule_ack(tp);
			pkt_drop(st, p, DROP_TCP_ZEROWINDOW);
			return;
		}
		goto queue_and_out;
	}
	tcp_data_queue_ofo(st, tp, p);
}

/* ------------------------------------------------------------------------ */
/* ACK processing                                                             */

static void tcp_snd_una_update(struct tcp_sock *tp, uint32_t ack)
{
	uint32_t delta = ack - tp->snd_una;

	tp->bytes_acked += delta;
	tp->snd_una = ack;
}

/* Linux tcp_ack_update_window(): RFC 9293 §3.10.7.4 fifth step, window. */
static int tcp_ack_update_window(struct stack *st, struct tcp_sock *tp, const struct tcp_hdr *th,
				 uint32_t ack, uint32_t ack_seq)
{
	uint32_t nwin = ntohs(th->window);
	int flag = 0;

	if (!(th->flags & TH_SYN))
		nwin <<= tp->snd_wscale;
	if (tcp_may_update_window(tp, ack, ack_seq, nwin)) {
		flag |= FLAG_WIN_UPDATE;
		tp->snd_wl1 = ack_seq;
		if (tp->snd_wnd != nwin) {
			tp->snd_wnd = nwin;
			if (nwin > tp->max_window) {
				tp->max_window = nwin;
				tcp_sync_mss(st, tp);
			}
		}
	}
	tcp_snd_una_update(tp, ack);
	return flag;
}

/* Linux tcp_clean_rtx_queue(): free what the cumulative ACK covers and take
 * the RTT samples Karn's rule allows. */
static int tcp_clean_rtx_queue(struct stack *st, struct tcp_sock *tp, uint32_t prior_fack,
			       uint32_t prior_snd_una, const struct tcp_opts *opts,
			       struct tcp_rate_sample *rs, int64_t sack_rtt_us)
{
	uint32_t reord = tp->snd_nxt;
	uint64_t first_ackt = 0, last_ackt = 0;
	int64_t seq_rtt_us = -1, ca_rtt_us = -1;
	uint32_t pkts_acked = 0, prior_sacked = tp->sacked_out;
	int flag = 0;
	struct pkt *p;

	while ((p = tp->rtx_q.head)) {
		struct tcp_skb_cb *cb = tcp_cb(p);
		uint8_t sacked = cb->sacked;

		if (tcp_after(cb->end_seq, tp->snd_una))
			break;
		if (sacked & TCPCB_SACKED_RETRANS) {
			tp->retrans_out--;
			flag |= FLAG_RETRANS_DATA_ACKED;
		} else if (!(sacked & TCPCB_EVER_RETRANS)) {
			last_ackt = cb->tx_ns;
			if (!first_ackt)
				first_ackt = cb->tx_ns;
		}
		if (!(sacked & (TCPCB_EVER_RETRANS | TCPCB_SACKED_ACKED)) &&
		    tcp_before(cb->seq, reord))
			reord = cb->seq;
		if (sacked & TCPCB_SACKED_ACKED) {
			tp->sacked_out--;
		} else if (tp->sack_ok) {
			tp->delivered++;
			tcp_rack_advance(tp, sacked, cb->tx_order, cb->tx_ns, st->now);
		}
		if (sacked & TCPCB_LOST)
			tp->lost_out--;
		tp->packets_out--;
		pkts_acked++;
		tcp_rate_pkt_delivered(tp, p, rs);
		if (cb->tcp_flags & TH_SYN) {
			flag |= FLAG_SYN_ACKED;
			tp->retrans_stamp_ns = 0;
		} else {
			flag |= FLAG_DATA_ACKED;
		}
		if (tp->sack_hint == p)
			tp->sack_hint = NULL;
		tcp_tsorted_del(tp, p);
		pkt_free(pkt_queue_pop(&tp->rtx_q));
	}
	/* A hole filled by its original transmission below SACKed data:
	 * reordering (Linux tcp_clean_rtx_queue). */
	if (tp->sack_ok && tcp_before(reord, prior_fack))
		tcp_check_sack_reordering(st, tp, reord);
	if (!tp->sack_ok && pkts_acked) {
		/* Linux tcp_remove_reno_sacks(): without SACK, sacked_out
		 * counts duplicate ACKs, each a segment that left the network
		 * (and was counted delivered then). The cumulative ACK covers
		 * those segments now, plus the one that filled the hole;
		 * left in sacked_out they would make the pipe look empty
		 * during NewReno recovery. */
		tp->delivered += pkts_acked > tp->sacked_out ? pkts_acked - tp->sacked_out : 1;
		tp->sacked_out =
			pkts_acked - 1 >= tp->sacked_out ? 0 : tp->sacked_out - (pkts_acked - 1);
	}
	if (tcp_after(tp->snd_una, prior_snd_una) && tp->rtx_q.head &&
	    !(tcp_cb(tp->rtx_q.head)->sacked & TCPCB_SACKED_ACKED))
		flag |= FLAG_SND_UNA_ADVANCED;

	if (first_ackt && !(flag & FLAG_RETRANS_DATA_ACKED)) {
		seq_rtt_us = (int64_t)((st->now - first_ackt) / 1000);
		ca_rtt_us = (int64_t)((st->now - last_ackt) / 1000);
	}
	if (sack_rtt_us >= 0 && ca_rtt_us < 0)
		ca_rtt_us = sack_rtt_us;
	tcp_ack_update_rtt(st, tp, flag, seq_rtt_us, sack_rtt_us, ca_rtt_us, opts, rs);

	if (flag & FLAG_ACKED) {
		/* TLP or RTO, once loss detection has had its say (Linux). */
		flag |= FLAG_SET_XMIT_TIMER;
		if (tp->ca_ops->pkts_acked) {
			tcp_cc_sync(st, tp);
			tp->ca_ops->pkts_acked(&tp->cc, pkts_acked, ca_rtt_us);
		}
	} else if (pkts_acked == 0 && tp->sacked_out < prior_sacked) {
		(void)0;
	}
	/* Outside recovery nothing needs the time of the first
	 * retransmission any more; in Loss or Recovery the undo checks
	 * (tcp_packet_delayed) still do, and tcp_fastretrans_alert() clears
	 * it after them, as Linux does. */
	if (!tp->packets_out && tp->cc.ca_state == TCP_CA_Open)
		tp->retrans_stamp_ns = 0;
	TCPEXT_ADD(st, TCP_DELIVERED, pkts_acked);
	return flag;
}

/* Linux tcp_cong_control() */
static void tcp_cong_control(struct stack *st, struct tcp_sock *tp, uint32_t ack,
			     uint32_t acked_sacked, int flag, const struct tcp_rate_sample *rs)
{
	tcp_cc_sync(st, tp);
	if (tp->ca_ops->cong_control) {
		tp->ca_ops->cong_control(&tp->cc, rs);
		tcp_update_pacing_rate(tp);
		return;
	}
	if (tp->cc.ca_state == TCP_CA_CWR || tp->cc.ca_state == TCP_CA_Recovery) {
		tcp_cwnd_reduction(tp, (int)acked_sacked, (int)rs->losses, flag);
	} else {
		bool may_raise = tp->reordering > st->cfg.tun.tcp_reordering
					 ? (flag & FLAG_FORWARD_PROGRESS)
					 : (flag & FLAG_DATA_ACKED);

		if (may_raise && tp->ca_ops->cong_avoid) {
			tp->ca_ops->cong_avoid(&tp->cc, ack, acked_sacked);
			if (tp->cc.snd_cwnd > tp->cc.snd_cwnd_clamp)
				tp->cc.snd_cwnd = tp->cc.snd_cwnd_clamp;
		}
	}
	tp->snd_cwnd_stamp_ns = st->now;
	tcp_update_pacing_rate(tp);
}

/* Linux tcp_ack_probe(): a zero-window probe answered with an open window. */
static void tcp_ack_probe(struct stack *st, struct tcp_sock *tp)
{
	if (tp->rtx_timer_kind != TCP_TIMER_PROBE0)
		return;
	if (tcp_after(tp->snd_una + tp->snd_wnd, tp->snd_nxt) ||
	    (tp->snd_wnd && !tcp_has_unsent(tp))) {
		tp->backoff = 0;
		tp->probes_out = 0;
		tcp_clear_rtx_timer(st, tp);
	} else {
		tcp_reset_rtx_timer(st, tp, TCP_TIMER_PROBE0, tcp_probe0_when(tp));
	}
}

/* Linux tcp_ack(). Return: 1 acceptable, 0 old (ignored), < 0 a drop
 * reason, negated. */
static int tcp_ack(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
		   const struct tcp_opts *opts, int flag)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);
	struct tcp_rate_sample rs;
	uint32_t prior_snd_una = tp->snd_una;
	uint32_t ack = ntohl(th->ack_seq), ack_seq = cb->seq;
	uint32_t prior_packets = tp->packets_out;
	uint32_t prior_fack = tp->sack_ok ? tcp_highest_sack_seq(tp) : tp->snd_una;
	uint32_t delivered = tp->delivered, lost = tp->lost;
	int num_dupack = 0;
	int sack_flag;

	memset(&rs, 0, sizeof(rs));
	rs.rtt_us = -1;
	rs.interval_us = -1;

	if (tcp_before(ack, prior_snd_una)) {
		uint32_t max_window = tp->max_window < tp->bytes_acked ? tp->max_window
								      : (uint32_t)tp->bytes_acked;

		/* RFC 5961 §5.2: an ACK below the window is blind injection
		 * unless it is merely old. */
		if (tcp_before(ack, prior_snd_una - max_window)) {
			if (!(flag & FLAG_NO_CHALLENGE_ACK))
				tcp_send_challenge_ack(st, tp);
			return -DROP_TCP_TOO_OLD_ACK;
		}
		goto old_ack;
	}
	/* RFC 9293 §3.10.7.4: an ACK of something not yet sent is dropped
	 * and answered, with a challenge ACK so that the answer is rate
	 * limited (RFC 5961 §5.2; Linux tcp_ack() since 6.10). */
	if (tcp_after(ack, tp->snd_nxt)) {
		if (!(flag & FLAG_NO_CHALLENGE_ACK))
			tcp_send_challenge_ack(st, tp);
		return -DROP_TCP_ACK_UNSENT_DATA;
	}

	if (tcp_after(ack, prior_snd_una)) {
		flag |= FLAG_SND_UNA_ADVANCED;
		tp->retransmits = 0;
	}
	rs.prior_in_flight = tcp_packets_in_flight(tp);
	if (flag & FLAG_UPDATE_TS_RECENT)
		tcp_replace_ts_recent(st, tp, opts, cb->seq);
	if (opts->saw_tstamp)
		tp->rcv_tsecr = opts->tsecr ? opts->tsecr - tp->ts_off : 0;

	if ((flag & (FLAG_SLOWPATH | FLAG_SND_UNA_ADVANCED)) == FLAG_SND_UNA_ADVANCED) {
		/* Fast path: the window is the same, just advance. */
		tp->snd_wl1 = ack_seq;
		tcp_snd_una_update(tp, ack);
		flag |= FLAG_WIN_UPDATE;
		TCPEXT_INC(st, TCP_HP_ACKS);
	} else {
		if (ack_seq != cb->end_seq)
			flag |= FLAG_DATA;
		else
			TCPEXT_INC(st, TCP_PURE_ACKS);
		flag |= tcp_ack_update_window(st, tp, th, ack, ack_seq);
		if (opts->num_sacks) {
			sack_flag = tcp_sacktag(st, tp, opts, prior_snd_una, &rs);
			flag |= sack_flag;
		}
	}
	tp->probes_out = 0;
	tp->rcv_tstamp_ns = st->now;
	if (!prior_packets)
		goto no_queue;

	flag |= tcp_clean_rtx_queue(st, tp, prior_fack, prior_snd_una, opts, &rs, rs.rtt_us);
	tcp_rack_update_reo_wnd(tp, &rs);
	if (tp->tlp_high_seq)
		tcp_process_tlp_ack(st, tp, ack, flag);
	if (!(flag & FLAG_NOT_DUP) || (flag & (FLAG_DATA_SACKED | FLAG_DSACKING_ACK)) ||
	    tp->cc.ca_state != TCP_CA_Open) {
		if (!(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DSACKING_ACK)))
			num_dupack = 1;
		tcp_fastretrans_alert(st, tp, prior_snd_una, &flag, num_dupack, &rs);
	}
	if (flag & FLAG_SET_XMIT_TIMER)
		tcp_set_xmit_timer(st, tp);
	tcp_rate_gen(tp, tp->delivered - delivered, tp->lost - lost, tp->is_sack_reneg, &rs, st->now);
	tcp_cong_control(st, tp, ack, tp->delivered - delivered, flag, &rs);
	if (tp->cc.ca_state != TCP_CA_Open)
		tcp_xmit_retransmit_queue(st, tp);
	return 1;

no_queue:
	if (flag & FLAG_DSACKING_ACK)
		tcp_fastretrans_alert(st, tp, prior_snd_una, &flag, num_dupack, &rs);
	tcp_ack_probe(st, tp);
	if (tp->tlp_high_seq)
		tcp_process_tlp_ack(st, tp, ack, flag);
	return 1;

old_ack:
	if (opts->num_sacks) {
		flag |= tcp_sacktag(st, tp, opts, prior_snd_una, &rs);
		tcp_fastretrans_alert(st, tp, prior_snd_una, &flag, num_dupack, &rs);
		if (tp->cc.ca_state != TCP_CA_Open)
			tcp_xmit_retransmit_queue(st, tp);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Synchronized states                                                        */

/* Linux tcp_sequence() (RFC 9293 §3.10.7.4 first step, without the
 * zero-window special cases Linux also does not make). */
bool tcp_sequence_ok(const struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	return !tcp_before(end_seq, tp->rcv_wup) &&
	       !tcp_after(seq, tp->rcv_nxt + tcp_receive_window_now(tp));
}

static bool tcp_reset_check(const struct tcp_sock *tp, uint32_t seq)
{
	return seq == tp->rcv_nxt - 1 &&
	       (TCPF(tp->state) & (TCPF(TCP_CLOSE_WAIT) | TCPF(TCP_LAST_ACK) | TCPF(TCP_CLOSING)));
}

/* Linux tcp_validate_incoming(). @syn_inerr: a SYN counts as InErrs
 * (ESTABLISHED only, as Linux). Return: true to go on with the segment;
 * false if it was consumed or dropped. */
static bool tcp_validate_incoming(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
				  const struct tcp_opts *opts, bool syn_inerr)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);

	if (opts->saw_tstamp && tp->tstamp_ok && tcp_paws_discard(st, tp, th, cb, opts)) {
		if (!(th->flags & TH_RST)) {
			if (th->flags & TH_SYN)
				goto syn_challenge;
			TCPEXT_INC(st, PAWS_ESTAB);
			if (!tcp_oow_dupack_limited(st, tp, cb, TCPEXT_TCP_ACK_SKIPPED_PAWS))
				tcp_send_dupack(st, tp, cb);
			pkt_drop(st, pkt, DROP_TCP_RFC7323_PAWS);
			return false;
		}
		/* RFC 7323 §5.2: a RST is accepted even if it fails PAWS. */
	}
	if (!tcp_sequence_ok(tp, cb->seq, cb->end_seq)) {
		if (!(th->flags & TH_RST)) {
			if (th->flags & TH_SYN)
				goto syn_challenge;
			if (!tcp_oow_dupack_limited(st, tp, cb, TCPEXT_TCP_ACK_SKIPPED_SEQ))
				tcp_send_dupack(st, tp, cb);
		} else if (tcp_reset_check(tp, cb->seq)) {
			goto reset;
		}
		pkt_drop(st, pkt, tcp_before(cb->end_seq, tp->rcv_wup) ? DROP_TCP_OLD_SEQUENCE
									 : DROP_TCP_INVALID_SEQUENCE);
		return false;
	}
	if (th->flags & TH_RST) {
		/* RFC 5961 §3.2: only an RST at exactly RCV.NXT resets
		 * (Linux also accepts RCV.NXT-1 after a FIN, and the right
		 * edge of the highest SACK block we sent). */
		uint32_t max_sack = 0;
		bool have_sack = false;

		if (cb->seq == tp->rcv_nxt || tcp_reset_check(tp, cb->seq))
			goto reset;
		for (unsigned int i = 0; i < tp->num_sacks; i++) {
			if (!have_sack || tcp_after(tp->selective_acks[i].end_seq, max_sack))
				max_sack = tp->selective_acks[i].end_seq;
			have_sack = true;
		}
		if (have_sack && cb->seq == max_sack)
			goto reset;
		tcp_send_challenge_ack(st, tp);
		pkt_drop(st, pkt, DROP_TCP_RESET);
		return false;
	}
	if (th->flags & TH_SYN) {
		/* Simultaneous open (RFC 9293 Figure 8): in SYN-RECEIVED the
		 * peer's SYN,ACK that acknowledges our SYN completes the
		 * handshake; it is not a new SYN (Linux since 6.10). */
		if (tp->state == TCP_SYN_RECV && (th->flags & TH_ACK) &&
		    cb->seq + 1 == cb->end_seq && cb->seq + 1 == tp->rcv_nxt &&
		    ntohl(th->ack_seq) == tp->snd_nxt)
			return true;
syn_challenge:
		if (syn_inerr)
			TCP_INC(st, IN_ERRS);
		TCPEXT_INC(st, TCP_SYN_CHALLENGE);
		tcp_send_challenge_ack(st, tp);
		pkt_drop(st, pkt, DROP_TCP_INVALID_SYN);
		return false;
	}
	return true;
reset:
	tcp_reset_sock(st, tp, 0);
	pkt_drop(st, pkt, DROP_TCP_RESET);
	return false;
}

/* Linux tcp_data_snd_check(). */
static void tcp_data_snd_check(struct stack *st, struct tcp_sock *tp)
{
	tcp_push_pending(st, tp);
}

static bool tcp_fast_path_ok(const struct tcp_sock *tp, const struct tcp_hdr *th,
			     const struct tcp_skb_cb *cb, const struct tcp_opts *opts)
{
	uint32_t ack = ntohl(th->ack_seq);

	if ((th->flags & ~TH_PSH) != TH_ACK || tcp_hdr_len(th) != tp->tcp_header_len)
		return false;
	if (cb->seq != tp->rcv_nxt || tcp_after(ack, tp->snd_nxt) || tcp_before(ack, tp->snd_una))
		return false;
	if (((uint32_t)ntohs(th->window) << tp->snd_wscale) != tp->snd_wnd)
		return false;
	if (tp->ofo_q.len || !tp->rcv_wnd || tp->cc.ca_state != TCP_CA_Open || opts->num_sacks)
		return false;
	if (tp->tstamp_ok && (!opts->saw_tstamp || (int32_t)(opts->tsval - tp->ts_recent) < 0))
		return false;
	return true;
}

void tcp_rcv_established(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
			 const struct tcp_opts *opts)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);
	int rc;

	tp->segs_in++;
	if (tcp_fast_path_ok(tp, th, cb, opts)) {
		uint32_t ack = ntohl(th->ack_seq);

		if (tp->tstamp_ok && tp->rcv_nxt == tp->rcv_wup)
			tcp_store_ts_recent(st, tp, opts->tsval);
		if (pkt_len(pkt) == 0) {
			/* Bulk sender: a pure ACK. */
			tcp_ack(st, tp, pkt, opts, 0);
			pkt_consume(st, pkt);
			tcp_data_snd_check(st, tp);
			return;
		}
		if (tcp_rx_space(tp) >= pkt_len(pkt) && tp->sk.ops) {
			/* Bulk receiver: in-order data. */
			TCPEXT_INC(st, TCP_HP_HITS);
			tcp_rcv_rtt_measure_ts(st, tp, opts, pkt_len(pkt));
			tp->data_segs_in++;
			tcp_queue_rcv(st, tp, pkt, cb->seq);
			tcp_event_data_recv(st, tp, pkt_len(pkt));
			if (ack != tp->snd_una) {
				tcp_ack(st, tp, pkt, opts, FLAG_DATA);
				tcp_data_snd_check(st, tp);
			} else {
				tp->snd_wl1 = cb->seq;
			}
			pkt_consume(st, pkt);
			tcp_ack_snd_check(st, tp);
			return;
		}
	}
	/* Slow path. */
	if (!(th->flags & (TH_ACK | TH_RST | TH_SYN))) {
		pkt_drop(st, pkt, DROP_TCP_FLAGS);
		return;
	}
	if (!tcp_validate_incoming(st, tp, pkt, opts, true))
		return;
	rc = tcp_ack(st, tp, pkt, opts, FLAG_SLOWPATH | FLAG_UPDATE_TS_RECENT);
	if (rc < 0) {
		pkt_drop(st, pkt, (enum drop_reason)-rc);
		return;
	}
	tcp_rcv_rtt_measure_ts(st, tp, opts, pkt_len(pkt));
	tcp_data_queue(st, tp, pkt);
	if (tp->state != TCP_CLOSE) {
		tcp_data_snd_check(st, tp);
		tcp_ack_snd_check(st, tp);
	}
}

/* The connection is established (Linux tcp_finish_connect and
 * tcp_init_transfer). */
static void tcp_finish_connect(struct stack *st, struct tcp_sock *tp)
{
	tcp_set_state(st, tp, TCP_ESTABLISHED);
	tp->ack.lrcv_ns = 0;
	tp->lsndtime_ns = st->now;
	tcp_init_rto(tp);
	/* RFC 6298 §5.7: a lost SYN means starting from one segment. */
	if (tp->total_retrans > 1 && tp->syn_retries)
		tp->cc.snd_cwnd = 1;
	else
		tp->cc.snd_cwnd = TCP_INIT_CWND;
	tp->cc.snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tcp_cc_init(st, tp);
	tp->rcvq_space.time_ns = 0;
	if (tp->sk.opts & SK_OPT_KEEPALIVE)
		tcp_reset_keepalive_timer(st, tp,
					  (uint64_t)tcp_keepalive_time(st, tp) * 1000000000ull);
}

/* Negotiated options from a SYN-ACK (or a crossed SYN). */
static void tcp_apply_syn_options(struct stack *st, struct tcp_sock *tp, const struct tcp_opts *opts)
{
	if (opts->saw_mss && opts->mss) {
		tp->mss_clamp = opts->mss < tp->mss_clamp ? opts->mss : tp->mss_clamp;
		if (tp->mss_clamp < TCP_MIN_MSS)
			tp->mss_clamp = TCP_MIN_MSS;
	} else {
		tp->mss_clamp = TCP_MSS_DEFAULT;	/* RFC 9293 §3.7.1 */
	}
	if (tp->wscale_ok && opts->saw_wscale) {
		tp->snd_wscale = opts->wscale;
	} else {
		tp->wscale_ok = 0;
		tp->snd_wscale = 0;
		tp->rcv_wscale = 0;
		if (tp->window_clamp > 65535)
			tp->window_clamp = 65535;
	}
	tp->sack_ok = tp->sack_ok && opts->sack_ok;
	if (tp->tstamp_ok && opts->saw_tstamp) {
		tp->tcp_header_len = TCP_HDR_LEN + 12;
		tcp_store_ts_recent(st, tp, opts->tsval);
	} else {
		tp->tstamp_ok = 0;
		tp->tcp_header_len = TCP_HDR_LEN;
	}
	tcp_sync_mss(st, tp);
	tp->ack.rcv_mss = tp->mss_cache < TCP_MSS_DEFAULT ? tp->mss_cache : TCP_MSS_DEFAULT;
}

/* Linux tcp_rcv_synsent_state_process(). Return: 0 when @pkt was
 * handled (consumed or dropped), else the drop reason of a segment that
 * must be answered with a RST (the caller sends it and drops @pkt). */
static int tcp_rcv_synsent(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
			   const struct tcp_opts *opts)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);

	if (th->flags & TH_ACK) {
		uint32_t ack = ntohl(th->ack_seq);

		/* RFC 9293 §3.10.7.3: SEG.ACK =< ISS or > SND.NXT: RST. */
		if (!tcp_after(ack, tp->snd_una) || tcp_after(ack, tp->snd_nxt))
			return DROP_TCP_INVALID_ACK_SEQUENCE;
		if (opts->saw_tstamp && opts->tsecr && tp->tstamp_ok) {
			uint32_t ecr = opts->tsecr - tp->ts_off;
			uint32_t sent = (uint32_t)(tp->retrans_stamp_ns / 1000000ull);

			/* Linux: TSecr must echo a TSval we sent for this SYN. */
			if (tp->retrans_stamp_ns && !tcp_between(ecr, sent, tcp_ts_now(st))) {
				TCPEXT_INC(st, PAWS_ACTIVE);
				return DROP_TCP_RFC7323_PAWS;
			}
		}
		if (th->flags & TH_RST) {
			tcp_reset_sock(st, tp, ECONNREFUSED);
			pkt_drop(st, pkt, DROP_TCP_RESET);
			return 0;
		}
		if (!(th->flags & TH_SYN)) {
			pkt_drop(st, pkt, DROP_TCP_FLAGS);
			return 0;
		}
		/* Our SYN is acknowledged: established (RFC 9293 §3.10.7.3). */
		tp->irs = cb->seq;
		tp->snd_wl1 = cb->seq;
		tcp_apply_syn_options(st, tp, opts);
		tp->rcv_nxt = cb->seq + 1;
		tp->rcv_wup = cb->seq + 1;
		tp->copied_seq = tp->rcv_nxt;
		tcp_ack(st, tp, pkt, opts, FLAG_SLOWPATH);
		/* RFC 7323 §2.2: the window in a SYN-ACK is not scaled. */
		tp->snd_wnd = ntohs(th->window);
		tp->max_window = tp->snd_wnd;
		tcp_sync_mss(st, tp);
		tcp_finish_connect(st, tp);
		sock_event(st, &tp->sk, SK_EV_CONNECTED | SK_EV_WRITABLE);
		tcp_send_ack(st, tp);
		pkt_consume(st, pkt);
		if (tp->fin_pending) {
			tp->fin_pending = 0;
			tcp_shutdown(st, tp, SEND_SHUTDOWN);
		}
		tcp_push_pending(st, tp);
		return 0;
	}
	if (th->flags & TH_RST) {
		/* RFC 9293 §3.10.7.3: a RST without ACK is dropped. */
		pkt_drop(st, pkt, DROP_TCP_RESET);
		return 0;
	}
	if (th->flags & TH_SYN) {
		/* Simultaneous open (RFC 9293 Figure 8): SYN-RECEIVED, and
		 * our SYN goes out again with an ACK. */
		struct pkt *syn = tp->rtx_q.head;

		tcp_set_state(st, tp, TCP_SYN_RECV);
		tp->irs = cb->seq;
		tcp_apply_syn_options(st, tp, opts);
		tp->rcv_nxt = cb->seq + 1;
		tp->rcv_wup = cb->seq + 1;
		tp->copied_seq = tp->rcv_nxt;
		tp->snd_wnd = ntohs(th->window);
		tp->snd_wl1 = cb->seq;
		tp->max_window = tp->snd_wnd;
		if (syn) {
			tcp_cb(syn)->tcp_flags |= TH_ACK;
			tcp_transmit_pkt(st, tp, syn, true);
		}
		pkt_consume(st, pkt);
		return 0;
	}
	pkt_drop(st, pkt, DROP_TCP_FLAGS);
	return 0;
}

static void tcp_send_reset_for(struct stack *st, const struct pkt *pkt)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	const struct tcp_skb_cb *cb = tcp_cb((struct pkt *)pkt);

	tcp_send_reset(st, pkt, th, cb->end_seq - cb->seq - !!(th->flags & TH_SYN) -
					      !!(th->flags & TH_FIN));
}

/* Linux tcp_rcv_state_process() for states other than ESTABLISHED and
 * LISTEN. */
void tcp_rcv_state_process(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
			   const struct tcp_opts *opts)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);
	int rc;

	tp->segs_in++;
	switch (tp->state) {
	case TCP_CLOSE:
		pkt_drop(st, pkt, DROP_TCP_CLOSE);
		return;
	case TCP_SYN_SENT:
		rc = tcp_rcv_synsent(st, tp, pkt, opts);
		if (rc) {
			tcp_send_reset_for(st, pkt);
			pkt_drop(st, pkt, (enum drop_reason)rc);
		}
		return;
	default:
		break;
	}
	if (!(th->flags & (TH_ACK | TH_RST | TH_SYN))) {
		pkt_drop(st, pkt, DROP_TCP_FLAGS);
		return;
	}
	if (!tcp_validate_incoming(st, tp, pkt, opts, false))
		return;
	if (!(th->flags & TH_ACK)) {
		/* RFC 9293 §3.10.7.4: no ACK, drop. */
		pkt_drop(st, pkt, DROP_TCP_FLAGS);
		return;
	}
	rc = tcp_ack(st, tp, pkt, opts, FLAG_SLOWPATH | FLAG_UPDATE_TS_RECENT | FLAG_NO_CHALLENGE_ACK);
	if (rc <= 0) {
		if (tp->state == TCP_SYN_RECV) {
			/* RFC 9293 §3.10.7.4: an unacceptable ACK in
			 * SYN-RECEIVED gets a RST. */
			tcp_send_reset_for(st, pkt);
			pkt_drop(st, pkt, DROP_TCP_INVALID_ACK_SEQUENCE);
			return;
		}
		if (rc < 0) {
			tcp_send_challenge_ack(st, tp);
			pkt_drop(st, pkt, (enum drop_reason)-rc);
			return;
		}
	}
	switch (tp->state) {
	case TCP_SYN_RECV:
		/* Simultaneous open completes. */
		tp->snd_una = ntohl(th->ack_seq);
		tp->snd_wnd = (uint32_t)ntohs(th->window) << tp->snd_wscale;
		tp->snd_wl1 = cb->seq;
		tcp_finish_connect(st, tp);
		sock_event(st, &tp->sk, SK_EV_CONNECTED | SK_EV_WRITABLE);
		if (th->flags & TH_SYN) {
			/* The crossed SYN,ACK carries nothing more, and RFC
			 * 9293 Figure 8 answers it with nothing. */
			pkt_consume(st, pkt);
			goto out;
		}
		break;
	case TCP_FIN_WAIT1:
		if (!tcp_fin_acked(tp))
			break;
		tcp_set_state(st, tp, TCP_FIN_WAIT2);
		tp->shutdown |= SEND_SHUTDOWN;
		if (!tp->sk.orphan) {
			sock_event(st, &tp->sk, SK_EV_WRITABLE);
			break;
		}
		if (cb->end_seq != cb->seq && tcp_after(cb->end_seq - !!(th->flags & TH_FIN), tp->rcv_nxt)) {
			/* Data after close: RFC 1122 §4.2.2.13 says reset. */
			TCPEXT_INC(st, TCP_ABORT_ON_DATA);
			tcp_send_active_reset(st, tp);
			tcp_done(st, tp);
			pkt_drop(st, pkt, DROP_TCP_ABORT_ON_DATA);
			return;
		}
		if (!(th->flags & TH_FIN)) {
			tcp_time_wait(st, tp, TCP_FIN_WAIT2,
				      (uint64_t)st->cfg.tun.tcp_fin_timeout_s * 1000000000ull);
			pkt_consume(st, pkt);
			return;
		}
		break;
	case TCP_CLOSING:
		if (tcp_fin_acked(tp)) {
			tcp_time_wait(st, tp, TCP_TIME_WAIT, 0);
			pkt_consume(st, pkt);
			return;
		}
		break;
	case TCP_LAST_ACK:
		if (tcp_fin_acked(tp)) {
			tcp_done(st, tp);
			pkt_consume(st, pkt);
			return;
		}
		break;
	default:
		break;
	}
	/* Seventh step: the segment text. */
	switch (tp->state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (!tcp_before(cb->seq, tp->rcv_nxt)) {
			/* After the peer's FIN: nothing more to take. */
			pkt_consume(st, pkt);
			goto out;
		}
		/* fall through */
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		if (tp->sk.orphan && cb->end_seq != cb->seq &&
		    tcp_after(cb->end_seq - !!(th->flags & TH_FIN), tp->rcv_nxt)) {
			TCPEXT_INC(st, TCP_ABORT_ON_DATA);
			tcp_send_active_reset(st, tp);
			tcp_done(st, tp);
			pkt_drop(st, pkt, DROP_TCP_ABORT_ON_DATA);
			return;
		}
		/* fall through */
	case TCP_ESTABLISHED:
		tcp_data_queue(st, tp, pkt);
		break;
	default:
		pkt_consume(st, pkt);
		break;
	}
out:
	if (tp->state != TCP_CLOSE && tp->state != TCP_TIME_WAIT) {
		tcp_data_snd_check(st, tp);
		tcp_ack_snd_check(st, tp);
	}
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                      */

void tcp_v4_rcv(struct stack *st, struct pkt *pkt)
{
	const struct ipv4_hdr *ip = (const struct ipv4_hdr *)pkt_l3(pkt);
	const struct tcp_hdr *th;
	struct tcp_skb_cb *cb;
	struct tcp_opts opts;
	struct tcp_request *req;
	struct tcp_sock *tp;
	struct tcp_tw *tw;
	uint32_t len = pkt_len(pkt), doff, isn = 0;

	TCP_INC(st, IN_SEGS);
	/* Linux tcp_v4_rcv(): a data offset below 5 words is a bad packet
	 * (InErrs); a segment too short for its header, or for the offset
	 * it claims, is only discarded. */
	if (len < TCP_HDR_LEN) {
		pkt_drop(st, pkt, DROP_TCP_HDR);
		return;
	}
	th = (const struct tcp_hdr *)pkt->data;
	doff = tcp_hdr_len(th);
	if (doff < TCP_HDR_LEN) {
		TCP_INC(st, IN_ERRS);
		pkt_drop(st, pkt, DROP_TCP_HDR);
		return;
	}
	if (doff > len) {
		pkt_drop(st, pkt, DROP_TCP_HDR);
		return;
	}
	if (pkt->csum != PKT_CSUM_UNNECESSARY && tcp_csum(ip->saddr, ip->daddr, th, len) != 0) {
		TCP_INC(st, IN_CSUM_ERRORS);
		TCP_INC(st, IN_ERRS);
		pkt_drop(st, pkt, DROP_TCP_CSUM);
		return;
	}
	tcp_opts_parse((const uint8_t *)(th + 1), doff - TCP_HDR_LEN, th->flags & TH_SYN, &opts);
	cb = tcp_cb(pkt);
	memset(cb, 0, sizeof(*cb));
	cb->seq = ntohl(th->seq);
	cb->end_seq = cb->seq + (len - doff) + !!(th->flags & TH_SYN) + !!(th->flags & TH_FIN);
	cb->tcp_flags = th->flags;
	pkt_pull(pkt, doff);	/* data now at the payload; l4 offset keeps the header */

	tp = tcp_ehash_lookup(st, ip->daddr, th->dest, ip->saddr, th->source);
	if (tp) {
		if (tp->state == TCP_ESTABLISHED)
			tcp_rcv_established(st, tp, pkt, &opts);
		else
			tcp_rcv_state_process(st, tp, pkt, &opts);
		return;
	}
	req = tcp_request_lookup(st, ip->daddr, th->dest, ip->saddr, th->source);
	if (req) {
		tcp_request_rcv(st, req, pkt, &opts);
		return;
	}
	tw = tcp_tw_lookup(st, ip->daddr, th->dest, ip->saddr, th->source);
	if (tw && tcp_tw_rcv(st, tw, pkt, &opts, &isn))
		return;
	tp = tcp_listener_lookup(st, ip->daddr, th->dest);
	if (tp) {
		tcp_listen_rcv_isn(st, tp, pkt, &opts, isn);
		return;
	}
	tcp_send_reset(st, pkt, th, len - doff);
	pkt_drop(st, pkt, DROP_NO_SOCKET);
}
