// SPDX-License-Identifier: MIT
/*
 * TCP output: deciding what may be sent and building segments (Linux
 * net/ipv4/tcp_output.c). "May I send" is split into the tests Linux names
 * (tcp_cwnd_test, tcp_snd_wnd_test, tcp_nagle_test) and kept apart from
 * building the segment (tcp_transmit_pkt).
 *
 * Theory of operation. New data is taken from the owner's stream only when
 * it may be sent at once: tcp_write_xmit() copies up to one MSS into a
 * packet, appends that packet to the retransmit queue (rtx_q) and hands a
 * clone, with headers pushed into the shared headroom, to IP. The packet in
 * rtx_q keeps only the payload; a retransmission clones it again (or copies
 * it, if the previous clone is still waiting in the link's transmit ring,
 * since its headers share the same headroom bytes). Data the owner wrote
 * but TCP may not send yet stays in the owner's stream, which is the send
 * buffer; only at close does TCP take it (write_q), because the stream goes
 * away with the owner.
 *
 * Sender SWS avoidance (RFC 9293 §3.8.6.2.1) and Nagle (RFC 896, with
 * Minshall's refinement as Linux does) decide about partial segments; the
 * receive window we advertise follows Linux __tcp_select_window() and never
 * shrinks (RFC 9293 §3.8.6).
 */
#include <errno.h>
#include <string.h>

#include "ipv4.h"
#include "stack.h"
#include "tcp.h"

uint32_t tcp_current_mss(struct tcp_sock *tp)
{
	uint32_t mss = tp->mss_cache;

	/* SACK blocks on this segment take room from the payload (Linux
	 * tcp_current_mss via tcp_established_options). */
	if (tp->sack_ok && (tp->num_sacks || tp->dsack)) {
		uint32_t blocks = tp->num_sacks + tp->dsack;
		uint32_t max = tp->tstamp_ok ? 3 : 4;

		if (blocks > max)
			blocks = max;
		mss -= 4 + 8 * blocks;
	}
	return mss;
}

void tcp_fill_ts(struct stack *st, const struct tcp_sock *tp, struct tcp_opts_tx *o)
{
	o->tstamp = true;
	o->tsval = tcp_ts_now(st) + tp->ts_off;
	o->tsecr = tp->ts_recent;
}

void tcp_build_sack_opts(const struct tcp_sock *tp, struct tcp_opts_tx *o)
{
	unsigned int n = 0;

	if (tp->dsack)
		o->sacks[n++] = tp->duplicate_sack;
	for (unsigned int i = 0; i < tp->num_sacks && n < TCP_NUM_SACKS; i++)
		o->sacks[n++] = tp->selective_acks[i];
	o->num_sacks = (uint8_t)n;
}

/* Free space in bytes, minus what the peer may already fill. */
static uint32_t tcp_receive_window(const struct tcp_sock *tp)
{
	int32_t win = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

	return win < 0 ? 0 : (uint32_t)win;
}

/* Linux __tcp_select_window(): receiver SWS avoidance (RFC 9293
 * §3.8.6.2.2): offer nothing rather than a sliver. */
uint32_t tcp_raw_window(struct tcp_sock *tp)
{
	uint32_t mss = tp->ack.rcv_mss;
	uint32_t free_space = tcp_rx_space(tp);
	uint32_t full_space = tp->sk.rcvbuf;
	uint32_t window;

	if (tp->window_clamp && full_space > tp->window_clamp)
		full_space = tp->window_clamp;
	if (free_space > full_space)
		free_space = full_space;
	if (mss > full_space) {
		mss = full_space;
		if (!mss)
			return 0;
	}
	if (free_space < full_space / 2) {
		tp->ack.quick = 0;
		free_space &= ~((1u << tp->rcv_wscale) - 1);
		if (free_space < full_space / 16 || free_space < mss)
			return 0;
	}
	window = tp->rcv_wnd;
	if (tp->rcv_wscale) {
		window = free_space;
		/* Round up so that the scaled value does not lose the last
		 * bytes (Linux: ALIGN to 1 << rcv_wscale). */
		window = (window + (1u << tp->rcv_wscale) - 1) & ~((1u << tp->rcv_wscale) - 1);
		if (window > free_space)
			window -= 1u << tp->rcv_wscale;
	} else if (window <= free_space - mss || window > free_space) {
		window = free_space - free_space % mss;
	} else if (mss == full_space && free_space > window + full_space / 2) {
		window = free_space;
	}
	return window;
}

uint32_t tcp_select_window(struct stack *st, struct tcp_sock *tp)
{
	uint32_t old_win = tp->rcv_wnd;
	uint32_t cur_win = tcp_receive_window(tp);
	uint32_t new_win = tcp_raw_window(tp);

	if (new_win < cur_win) {
		/* RFC 9293 §3.8.6: never shrink the window we offered. */
		if (new_win == 0)
			TCPEXT_INC(st, TCP_WANT_ZERO_WINDOW_ADV);
		new_win = (cur_win + (1u << tp->rcv_wscale) - 1) & ~((1u << tp->rcv_wscale) - 1);
	}
	tp->rcv_wnd = new_win;
	tp->rcv_wup = tp->rcv_nxt;
	if (new_win > (65535u << tp->rcv_wscale))
		new_win = 65535u << tp->rcv_wscale;
	new_win >>= tp->rcv_wscale;
	if (new_win == 0) {
		if (old_win)
			TCPEXT_INC(st, TCP_TO_ZERO_WINDOW_ADV);
	} else if (old_win == 0) {
		TCPEXT_INC(st, TCP_FROM_ZERO_WINDOW_ADV);
	}
	return new_win;
}

/* Linux tcp_event_ack_sent(): whatever ACK was owed has gone out. */
static void tcp_event_ack_sent(struct stack *st, struct tcp_sock *tp)
{
	if (tp->ack.quick)
		tp->ack.quick--;
	tp->ack.pending = 0;
	wheel_cancel(&st->wheel, &tp->delack_timer);
	/* RFC 2883: a D-SACK is reported once */
	tp->dsack = 0;
}

/* Linux tcp_event_data_sent(): restart the idle clock, detect interactive
 * (ping-pong) exchanges for delayed ACKs. */
static void tcp_event_data_sent(struct stack *st, struct tcp_sock *tp)
{
	if (tp->packets_out == 0 && tp->cc.snd_cwnd && tp->lsndtime_ns &&
	    st->now - tp->lsndtime_ns > (uint64_t)tp->rto_us * 1000)
		tcp_cwnd_restart_check(st, tp);
	tp->lsndtime_ns = st->now;
	if (tp->ack.lrcv_ns && st->now - tp->ack.lrcv_ns < (uint64_t)tp->ack.ato_us * 1000)
		tp->ack.pingpong = 1;
}

/*
 * Build the headers of @pkt and hand it to IP. With @clone, @pkt stays
 * where it is (the retransmit queue) and a clone or copy goes out; without,
 * @pkt itself is consumed.
 * Return: 0, -ENOBUFS, or an error from IP (the packet is then counted as
 * dropped there; TCP's retransmission will try again).
 */
int tcp_transmit_pkt(struct stack *st, struct tcp_sock *tp, struct pkt *pkt, bool clone)
{
	struct tcp_skb_cb *cb = tcp_cb(pkt);
	struct ipv4_tx tx = { 0 };
	struct tcp_opts_tx o;
	struct tcp_hdr *th;
	struct pkt *out = pkt;
	uint32_t optlen, hdrlen, seglen;
	bool syn = cb->tcp_flags & TH_SYN;

	if (clone) {
		/* A previous transmission of this payload may still sit in the
		 * link's transmit ring with its headers in our headroom. */
		if (pkt->pool->data_ref[pkt->data_id] > 1)
			out = pkt_copy(pkt, PKT_HEADROOM);
		else
			out = pkt_clone(pkt);
		if (!out) {
			pkt_drop(st, NULL, DROP_NOMEM);
			return -ENOBUFS;
		}
	}
	cb->tx_ns = st->now;
	cb->tx_order = ++tp->tx_order;

	memset(&o, 0, sizeof(o));
	o.wscale = -1;
	if (syn) {
		o.mss = tp->advmss;
		if (tp->wscale_ok)
			o.wscale = (int8_t)tp->rcv_wscale;
		o.sack_ok = tp->sack_ok;
		if (tp->tstamp_ok)
			tcp_fill_ts(st, tp, &o);
	} else {
		if (tp->tstamp_ok)
			tcp_fill_ts(st, tp, &o);
		if (tp->sack_ok && (tp->num_sacks || tp->dsack))
			tcp_build_sack_opts(tp, &o);
	}
	optlen = (uint32_t)tcp_opts_len(&o);
	hdrlen = TCP_HDR_LEN + optlen;
	th = (struct tcp_hdr *)pkt_push(out, hdrlen);
	if (!th) {
		pkt_drop(st, out, DROP_NOMEM);
		return -ENOBUFS;
	}
	seglen = pkt_len(out);
	th->source = tp->sport;
	th->dest = tp->dport;
	th->seq = htonl(cb->seq);
	th->ack_seq = htonl(cb->tcp_flags & TH_ACK ? tp->rcv_nxt : 0);
	th->doff_res = (uint8_t)((hdrlen / 4) << 4);
	th->flags = cb->tcp_flags;
	if (syn) {
		/* RFC 7323 §2.2: the window in a SYN is never scaled. */
		th->window = htons((uint16_t)(tp->rcv_wnd > 65535 ? 65535 : tp->rcv_wnd));
	} else {
		th->window = htons((uint16_t)tcp_select_window(st, tp));
	}
	th->check = 0;
	th->urg_ptr = 0;
	tcp_opts_build((uint8_t *)(th + 1), &o);
	th->check = tcp_csum(tp->saddr, tp->daddr, th, seglen);
	pkt_set_l4(out);
	out->csum = PKT_CSUM_NONE;
	out->tsq_owner = (uint32_t)(tp - st->tcp.socks) + 1;
	out->tsq_gen = tp->gen;
	out->tsq_len = pkt_len(out);
	tp->tsq_bytes += out->tsq_len;

	if (cb->tcp_flags & TH_ACK)
		tcp_event_ack_sent(st, tp);
	if (cb->end_seq != cb->seq && !syn)
		tcp_event_data_sent(st, tp);
	TCP_INC(st, OUT_SEGS);
	tp->segs_out++;
	if (seglen > hdrlen)
		tp->data_segs_out++;

	tx.saddr = tp->saddr;
	tx.daddr = tp->daddr;
	tx.protocol = IPPROTO_TCP_;
	tx.df = 1;	/* RFC 1191: TCP does PMTU discovery */
	return ipv4_output(st, out, &tx);
}

/* A pure ACK, or a RST, for @tp: not queued for retransmission. */
static void tcp_send_ctl(struct stack *st, struct tcp_sock *tp, uint8_t flags, uint32_t seq)
{
	struct pkt *p = pkt_alloc(st->pool, PKT_HEADROOM);

	if (!p) {
		pkt_drop(st, NULL, DROP_NOMEM);
		/* Linux: retry the ACK from the delack timer */
		if (flags == TH_ACK) {
			tp->ack.pending |= TCP_ACK_SCHED | TCP_ACK_TIMER;
			tcp_delack_timer_arm(st, tp);
		}
		return;
	}
	tcp_cb(p)->seq = seq;
	tcp_cb(p)->end_seq = seq;
	tcp_cb(p)->tcp_flags = flags;
	tcp_transmit_pkt(st, tp, p, false);
}

void tcp_send_ack(struct stack *st, struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN)
		return;
	tcp_send_ctl(st, tp, TH_ACK, tp->snd_nxt);
}

/* Linux tcp_send_delayed_ack(): at most ato from now, but never later than
 * a timer already armed. */
void tcp_send_delayed_ack(struct stack *st, struct tcp_sock *tp)
{
	uint32_t ato = tp->ack.ato_us;

	if (ato > TCP_ATO_MIN_US) {
		/* Linux: HZ/2 for a bulk flow, TCP_DELACK_MAX when the
		 * peer pushed or the session is interactive. */
		uint32_t max_ato = 500000;

		/* Interactive sessions and slow peers: never hold an ACK longer
		 * than the RTT estimate warrants. */
		if (tp->ack.pingpong || (tp->ack.pending & TCP_ACK_PUSHED))
			max_ato = TCP_DELACK_MAX_US;
		if (tp->srtt_us) {
			uint32_t rtt = tp->srtt_us >> 3 > TCP_ATO_MIN_US ? tp->srtt_us >> 3 : TCP_ATO_MIN_US;

			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	if ((tp->ack.pending & TCP_ACK_TIMER) && wheel_timer_armed(&tp->delack_timer)) {
		if (tp->delack_timer.expires_ns <= st->now + (uint64_t)ato * 1000)
			return;
	}
	tp->ack.pending |= TCP_ACK_SCHED | TCP_ACK_TIMER;
	wheel_arm(&st->wheel, &tp->delack_timer, st->now + (uint64_t)ato * 1000);
}

/* Linux tcp_acceptable_seq(): snd_nxt, unless the peer's window shrank
 * below it. */
static uint32_t tcp_acceptable_seq(const struct tcp_sock *tp)
{
	uint32_t wnd_end = tp->snd_una + tp->snd_wnd;

	if (!tp->wscale_ok || (int32_t)(wnd_end - tp->snd_nxt) >= 0)
		return tp->snd_nxt;
	return wnd_end;
}

void tcp_send_active_reset(struct stack *st, struct tcp_sock *tp)
{
	TCP_INC(st, OUT_RSTS);
	tcp_send_ctl(st, tp, TH_RST | TH_ACK, tcp_acceptable_seq(tp));
}

/* Linux tcp_select_initial_window() and tcp_connect_init(). */
static void tcp_connect_init(struct stack *st, struct tcp_sock *tp)
{
	const struct stack_tunables *tun = &st->cfg.tun;
	uint32_t space;

	tp->tstamp_ok = tun->tcp_timestamps != 0;
	tp->sack_ok = tun->tcp_sack != 0;
	tp->wscale_ok = tun->tcp_window_scaling != 0;
	tp->tcp_header_len = TCP_HDR_LEN + (tp->tstamp_ok ? 12 : 0);
	tp->advmss = tcp_route_mss(st, tp->daddr);
	if (tp->user_mss && tp->advmss > tp->user_mss)
		tp->advmss = tp->user_mss;
	tp->mss_clamp = tp->advmss;
	tcp_sync_mss(st, tp);
	tp->ack.rcv_mss = tp->advmss > TCP_MSS_DEFAULT ? TCP_MSS_DEFAULT : tp->advmss;
	tp->rcv_wscale = 0;
	if (tp->wscale_ok) {
		/* Enough scale for the largest buffer autotuning may reach. */
		space = tun->tcp_rmem[2] > tp->sk.rcvbuf ? tun->tcp_rmem[2] : tp->sk.rcvbuf;
		while (space > 65535 && tp->rcv_wscale < TCP_MAX_WSCALE) {
			space >>= 1;
			tp->rcv_wscale++;
		}
	}
	if (!tp->window_clamp)
		tp->window_clamp = tun->tcp_rmem[2] > tp->sk.rcvbuf ? tun->tcp_rmem[2] : tp->sk.rcvbuf;
	space = tp->sk.rcvbuf > 65535 ? 65535 : tp->sk.rcvbuf;
	tp->rcv_wnd = space - space % tp->advmss;
	tp->rcv_wup = 0;
	tp->rcv_nxt = 0;
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss;
	/* No small segment is outstanding yet (Nagle with Minshall's rule,
	 * Linux tcp_connect_init): left at 0, snd_sml is after snd_una for
	 * half of all ISNs, and a partial segment then waits for the ACK of
	 * every full one in flight. */
	tp->snd_sml = tp->iss;
	tp->write_seq = tp->iss + 1;
	tp->snd_wnd = 0;
	tp->snd_wl1 = 0;
}

void tcp_send_syn(struct stack *st, struct tcp_sock *tp)
{
	struct pkt *p = pkt_alloc(st->pool, PKT_HEADROOM);

	tcp_connect_init(st, tp);
	if (!p) {
		/* The SYN timer retries, as for a lost SYN. */
		pkt_drop(st, NULL, DROP_NOMEM);
		tp->snd_nxt = tp->iss + 1;
		tcp_reset_rtx_timer(st, tp, TCP_TIMER_RETRANS, tp->rto_us);
		return;
	}
	tcp_cb(p)->seq = tp->iss;
	tcp_cb(p)->end_seq = tp->iss + 1;
	tcp_cb(p)->tcp_flags = TH_SYN;
	pkt_queue_push(&tp->rtx_q, p);
	tcp_tsorted_sent(tp, p);
	tp->packets_out = 1;
	tp->snd_nxt = tp->iss + 1;
	tp->retrans_stamp_ns = st->now;
	tcp_rate_pkt_sent(tp, p, st->now);
	tcp_transmit_pkt(st, tp, p, true);
	tcp_reset_rtx_timer(st, tp, TCP_TIMER_RETRANS, tp->rto_us);
}

/* Linux tcp_small_queue_check() limit: ~1 ms at the pacing rate, at least
 * two full frames, at most tcp_limit_output_bytes. */
static bool tcp_tsq_full(const struct stack *st, const struct tcp_sock *tp)
{
	uint64_t limit = tp->sk_pacing_rate >> 10, floor = 2u * (tp->mss_cache + 66u);

	if (limit < floor)
		limit = floor;
	if (limit > st->cfg.tun.tcp_limit_output_bytes)
		limit = st->cfg.tun.tcp_limit_output_bytes;
	return tp->tsq_bytes >= limit;
}

/* Linux tcp_cwnd_test(): packets cwnd allows now; a lone FIN is never
 * held back by cwnd. */
static uint32_t tcp_cwnd_test(const struct tcp_sock *tp, bool fin_only)
{
	uint32_t in_flight = tcp_packets_in_flight(tp), cwnd = tcp_snd_cwnd(tp);

	if (fin_only)
		return 1;
	return in_flight < cwnd ? cwnd - in_flight : 0;
}

static uint32_t tcp_wnd_end(const struct tcp_sock *tp)
{
	return tp->snd_una + tp->snd_wnd;
}

/* Linux tcp_nagle_check() with Minshall's rule: a partial segment waits
 * while an earlier partial segment is unacknowledged. */
static bool tcp_nagle_ok(const struct tcp_sock *tp, uint32_t len, uint32_t mss, bool fin)
{
	if (len >= mss || fin)
		return true;
	if (tp->cork)
		return false;
	if (tp->nodelay)
		return true;
	return !(tp->packets_out && (int32_t)(tp->snd_sml - tp->snd_una) > 0);
}

bool tcp_should_send_fin_now(const struct tcp_sock *tp)
{
	return tp->fin_pending && !tp->fin_sent && !tp->write_q.len &&
	       (!tp->sk.ops || tp->sk.ops->tx_avail(tp->sk.ctx) == 0);
}

/* Take the next segment to send: from write_q, or up to @len new bytes from
 * the owner's stream. */
static struct pkt *tcp_next_segment(struct stack *st, struct tcp_sock *tp, uint32_t len)
{
	const struct sk_stream_ops *ops = tp->sk.ops;
	struct pkt *p;
	size_t got;

	if (tp->write_q.len && len >= pkt_len(tp->write_q.head))
		return pkt_queue_pop(&tp->write_q);
	p = pkt_alloc(st->pool, PKT_HEADROOM);
	if (p && tp->write_q.len) {
		/* Only the front of the queued segment fits (tcp_write_wakeup
		 * into a small window): copy it out (Linux tcp_fragment). */
		struct pkt *head = tp->write_q.head;

		memcpy(pkt_put(p, len), head->data, len);
		pkt_pull(head, len);
		tp->write_q.bytes -= len;
		tcp_cb(p)->seq = tcp_cb(head)->seq;
		tcp_cb(p)->end_seq = tcp_cb(p)->seq + len;
		tcp_cb(p)->tcp_flags = TH_ACK;
		tcp_cb(head)->seq += len;
		return p;
	}
	if (!p) {
		pkt_drop(st, NULL, DROP_NOMEM);
		return NULL;
	}
	if (pkt_tailroom(p) < len)
		len = pkt_tailroom(p);
	got = len ? ops->tx_peek(tp->sk.ctx, pkt_put(p, len), len) : 0;
	pkt_trim(p, (uint32_t)got);
	if (got) {
		ops->tx_consume(tp->sk.ctx, got);
		sock_event(st, &tp->sk, SK_EV_WRITABLE);
	}
	tcp_cb(p)->seq = tp->write_seq;
	tcp_cb(p)->end_seq = tp->write_seq + (uint32_t)got;
	tcp_cb(p)->tcp_flags = TH_ACK;
	tp->write_seq += (uint32_t)got;
	return p;
}

/* Send one segment that is already in the retransmit queue's tail position. */
static void tcp_event_new_data_sent(struct stack *st, struct tcp_sock *tp, struct pkt *p)
{
	uint32_t prior_packets = tp->packets_out;
	struct tcp_skb_cb *cb = tcp_cb(p);

	tp->snd_nxt = cb->end_seq;
	pkt_queue_push(&tp->rtx_q, p);
	tcp_tsorted_sent(tp, p);
	tp->packets_out++;
	if (pkt_len(p))
		TCPEXT_INC(st, TCP_ORIG_DATA_SENT);
	/* RFC 6298 §5.1: start the timer when data goes out and none runs. */
	if (!prior_packets || tp->rtx_timer_kind == TCP_TIMER_PROBE0 ||
	    tp->rtx_timer_kind == TCP_TIMER_NONE)
		tcp_rearm_rto(st, tp);
}

/* Send @p, just taken with tcp_next_segment(), as new data; @fin: with
 * our FIN. */
static void tcp_send_new_segment(struct stack *st, struct tcp_sock *tp, struct pkt *p, bool fin,
				 uint32_t mss)
{
	if (fin) {
		tcp_cb(p)->tcp_flags |= TH_FIN;
		tcp_cb(p)->end_seq++;
		tp->write_seq++;
		tp->fin_sent = 1;
	}
	if (pkt_len(p) && pkt_len(p) < mss)
		tp->snd_sml = tcp_cb(p)->end_seq;
	if (tp->write_q.len == 0 && pkt_len(p) &&
	    (!tp->sk.ops || tp->sk.ops->tx_avail(tp->sk.ctx) == 0))
		tcp_cb(p)->tcp_flags |= TH_PSH;
	tcp_rate_pkt_sent(tp, p, st->now);
	tcp_event_new_data_sent(st, tp, p);
	tcp_transmit_pkt(st, tp, p, true);
}

static bool tcp_may_send_data(const struct tcp_sock *tp)
{
	return TCPF(tp->state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) |
				  TCPF(TCP_FIN_WAIT1) | TCPF(TCP_LAST_ACK) | TCPF(TCP_CLOSING));
}

void tcp_write_xmit(struct stack *st, struct tcp_sock *tp)
{
	uint32_t mss = tcp_current_mss(tp);
	unsigned int sent = 0;

	if (!tcp_may_send_data(tp))
		return;
	tp->is_cwnd_limited = 0;
	for (;;) {
		size_t avail = tp->write_q.len ? pkt_len(tp->write_q.head)
					       : (tp->sk.ops ? tp->sk.ops->tx_avail(tp->sk.ctx) : 0);
		bool fin_only = !avail && tcp_should_send_fin_now(tp);
		uint32_t room, len, quota;
		struct pkt *p;
		bool fin;

		if (!avail && !fin_only)
			break;
		if (tp->cc.pacing_rate && st->now < tp->next_send_ns) {
			wheel_arm(&st->wheel, &tp->pace_timer, tp->next_send_ns);
			break;
		}
		quota = tcp_cwnd_test(tp, fin_only);
		if (!quota) {
			tp->is_cwnd_limited = 1;
			break;
		}
		if (tcp_tsq_full(st, tp)) {
			tp->tsq_throttled = 1;
			break;
		}
		len = avail > mss ? mss : (uint32_t)avail;
		room = (int32_t)(tcp_wnd_end(tp) - tp->snd_nxt) > 0 ? tcp_wnd_end(tp) - tp->snd_nxt
								    : 0;
		if (fin_only) {
			if (room < 1 && tp->snd_wnd)
				break;
			if (!tp->snd_wnd && tp->packets_out)
				break;
			if (!tp->snd_wnd) {
				/* A FIN alone waits for window like data does. */
				tcp_check_probe_timer(st, tp);
				break;
			}
		} else if (len > room) {
			/* RFC 9293 §3.8.6.2.1: send into a partial window only if
			 * it is at least half the largest window seen. */
			if (room && room >= tp->max_window / 2 && !tp->write_q.len)
				len = room;
			else
				break;
		}
		fin = tp->fin_pending && !tp->fin_sent && !tp->write_q.len && avail == len;
		if (!fin_only && !tcp_nagle_ok(tp, len, mss, fin)) {
			/* An outstanding partial segment will be acked and
			 * release this one (Nagle); nothing to arm. */
			break;
		}
		p = fin_only ? tcp_next_segment(st, tp, 0) : tcp_next_segment(st, tp, len);
		if (!p)
			break;
		tcp_send_new_segment(st, tp, p, fin || fin_only, mss);
		sent++;
		if (tp->cc.pacing_rate) {
			uint64_t ns = (uint64_t)(pkt_len(p) + 52) * 1000000000ull / tp->cc.pacing_rate;

			tp->next_send_ns = (tp->next_send_ns > st->now ? tp->next_send_ns : st->now) + ns;
		}
		if (fin || fin_only)
			break;
	}
	if (sent) {
		/* RFC 6937: prr_out counts all data sent during the
		 * reduction, new segments as well as retransmissions (Linux
		 * tcp_write_xmit). */
		if (tp->cc.ca_state == TCP_CA_CWR || tp->cc.ca_state == TCP_CA_Recovery)
			tp->prr_out += sent;
		if (tcp_packets_in_flight(tp) >= tcp_snd_cwnd(tp))
			tp->is_cwnd_limited = 1;
		tcp_rate_check_app_limited(st, tp);
		if (tp->cc.ca_state == TCP_CA_Open && tp->rtx_timer_kind == TCP_TIMER_RETRANS)
			tcp_schedule_loss_probe(st, tp, false);
	}
}

/* Linux tcp_push_pending_frames() / tcp_check_probe_timer(). */
void tcp_push_pending(struct stack *st, struct tcp_sock *tp)
{
	tcp_write_xmit(st, tp);
	tcp_check_probe_timer(st, tp);
}

/* RFC 7661 / RFC 5681 §4.1: after an idle period longer than the RTO,
 * restart from a fresh window (Linux tcp_cwnd_restart). */
void tcp_cwnd_restart_check(struct stack *st, struct tcp_sock *tp)
{
	uint32_t restart_cwnd = TCP_INIT_CWND, cwnd = tcp_snd_cwnd(tp);
	uint64_t delta;

	tcp_cc_sync(st, tp);
	if (tp->ca_ops->cwnd_event)
		tp->ca_ops->cwnd_event(&tp->cc, CA_EVENT_TX_START);
	if (!st->cfg.tun.tcp_slow_start_after_idle)
		return;
	delta = st->now - tp->lsndtime_ns;
	tp->cc.snd_ssthresh = tp->cc.snd_ssthresh > (cwnd >> 1) + (cwnd >> 2)
				      ? tp->cc.snd_ssthresh
				      : (cwnd >> 1) + (cwnd >> 2);
	if (restart_cwnd > cwnd)
		restart_cwnd = cwnd;
	while ((delta -= (uint64_t)tp->rto_us * 1000) > 0 && cwnd > restart_cwnd &&
	       delta < (1ull << 62))
		cwnd >>= 1;
	tp->cc.snd_cwnd = cwnd > restart_cwnd ? cwnd : restart_cwnd;
	tp->snd_cwnd_stamp_ns = st->now;
	tp->snd_cwnd_used = 0;
}

/*
 * Linux tcp_fragment() on the retransmit queue: cut @p after @len bytes of
 * payload. The tail is a clone sharing @p's buffer, placed right after it
 * in both queues with the same scoreboard state; PSH and FIN move to it.
 * A shared buffer is copied whenever it goes out (tcp_transmit_pkt), so
 * neither part's headers can overwrite the other's bytes.
 * Return: 0, or -ENOBUFS.
 */
static int tcp_fragment(struct stack *st, struct tcp_sock *tp, struct pkt *p, uint32_t len)
{
	struct tcp_skb_cb *cb = tcp_cb(p), *ncb;
	struct pkt *n;

	if (len >= pkt_len(p))
		return 0;
	n = pkt_clone(p);
	if (!n) {
		pkt_drop(st, NULL, DROP_NOMEM);
		return -ENOBUFS;
	}
	pkt_pull(n, len);
	pkt_trim(p, len);
	ncb = tcp_cb(n);
	ncb->seq = cb->seq + len;
	cb->end_seq = ncb->seq;
	cb->tcp_flags &= (uint8_t)~(TH_FIN | TH_PSH);

	/* The queue's bytes already count the tail, as part of @p. */
	tp->rtx_q.bytes -= pkt_len(n);
	pkt_queue_insert_after(&tp->rtx_q, p, n);
	tcp_tsorted_insert_after(tp, p, n);
	tp->packets_out++;
	if (cb->sacked & TCPCB_LOST)
		tp->lost_out++;
	if (cb->sacked & TCPCB_SACKED_RETRANS)
		tp->retrans_out++;
	if (cb->sacked & TCPCB_SACKED_ACKED)
		tp->sacked_out++;
	return 0;
}

int tcp_retransmit_pkt(struct stack *st, struct tcp_sock *tp, struct pkt *p)
{
	struct tcp_skb_cb *cb = tcp_cb(p);
	uint32_t cur_mss;
	int rc;

	/* Partly acknowledged (the peer took less than the segment): send
	 * only the rest (Linux tcp_trim_head). */
	if ((int32_t)(tp->snd_una - cb->seq) > 0 && !(cb->tcp_flags & TH_SYN)) {
		uint32_t drop = tp->snd_una - cb->seq;

		if (drop >= pkt_len(p))
			return 0;
		pkt_pull(p, drop);
		cb->seq = tp->snd_una;
	}
	/* SACK blocks we now carry, or a smaller path MTU, leave less room
	 * than when the segment was cut (Linux __tcp_retransmit_skb). */
	cur_mss = tcp_current_mss(tp);
	if (pkt_len(p) > cur_mss && tcp_fragment(st, tp, p, cur_mss) < 0) {
		TCPEXT_INC(st, TCP_RETRANS_FAIL);
		return -ENOBUFS;
	}
	cb->txcount++;
	rc = tcp_transmit_pkt(st, tp, p, true);
	if (rc != -ENOBUFS)
		tcp_tsorted_sent(tp, p);
	if (rc == -ENOBUFS) {
		TCPEXT_INC(st, TCP_RETRANS_FAIL);
		return rc;
	}
	TCP_INC(st, RETRANS_SEGS);
	tp->total_retrans++;
	if (cb->tcp_flags & TH_SYN)
		TCPEXT_INC(st, TCP_SYN_RETRANS);
	if (!(cb->sacked & TCPCB_SACKED_RETRANS)) {
		cb->sacked |= TCPCB_SACKED_RETRANS;
		tp->retrans_out++;
	}
	cb->sacked |= TCPCB_EVER_RETRANS;
	if (!tp->retrans_stamp_ns)
		tp->retrans_stamp_ns = st->now;
	if (tp->undo_marker)
		tp->undo_retrans++;
	return 0;
}

/* A segment for a socket we may not have: RFC 9293 §3.10.7.1. */
void tcp_send_reset(struct stack *st, const struct pkt *in, const struct tcp_hdr *th,
		    uint32_t seg_len)
{
	const struct ipv4_hdr *ip = (const struct ipv4_hdr *)pkt_l3(in);
	uint32_t seq, ack = 0;
	uint8_t flags = TH_RST;

	if (th->flags & TH_RST)
		return;
	if (th->flags & TH_ACK) {
		seq = ntohl(th->ack_seq);
	} else {
		seq = 0;
		ack = ntohl(th->seq) + seg_len + !!(th->flags & TH_SYN) + !!(th->flags & TH_FIN);
		flags |= TH_ACK;
	}
	TCP_INC(st, OUT_RSTS);
	tcp_send_ack_raw(st, ip->daddr, th->dest, ip->saddr, th->source, seq, ack, 0, flags, NULL);
}

void tcp_send_ack_raw(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint32_t win, uint8_t flags,
		      const struct tcp_opts_tx *opts)
{
	struct pkt *p = pkt_alloc(st->pool, PKT_HEADROOM);
	struct tcp_opts_tx none = { .wscale = -1 };
	struct ipv4_tx tx = { 0 };
	struct tcp_hdr *th;
	uint32_t hdrlen;

	if (!p) {
		pkt_drop(st, NULL, DROP_NOMEM);
		return;
	}
	if (!opts)
		opts = &none;
	hdrlen = TCP_HDR_LEN + (uint32_t)tcp_opts_len(opts);
	th = (struct tcp_hdr *)pkt_push(p, hdrlen);
	th->source = sport;
	th->dest = dport;
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff_res = (uint8_t)((hdrlen / 4) << 4);
	th->flags = flags;
	th->window = htons((uint16_t)(win > 65535 ? 65535 : win));
	th->check = 0;
	th->urg_ptr = 0;
	tcp_opts_build((uint8_t *)(th + 1), opts);
	th->check = tcp_csum(saddr, daddr, th, hdrlen);
	pkt_set_l4(p);
	TCP_INC(st, OUT_SEGS);
	tx.saddr = saddr;
	tx.daddr = daddr;
	tx.protocol = IPPROTO_TCP_;
	tx.df = 1;
	ipv4_output(st, p, &tx);
}

/* Linux tcp_xmit_probe_skb(): an ACK with an old sequence number, which
 * the peer must answer with its current window. */
static void tcp_xmit_probe(struct stack *st, struct tcp_sock *tp)
{
	tcp_send_ctl(st, tp, TH_ACK, tp->snd_una - 1);
}

/* Linux tcp_write_wakeup(): send new data if the window allows, else a
 * probe. The data is the head of the queue, as much as the window and one
 * segment hold, whatever Nagle, TCP_CORK, cwnd or sender SWS avoidance
 * say: this timer is their override (RFC 9293 §3.8.6.2.1, and tcp(7)'s
 * 200 ms ceiling on corking). Return: 0 if data went out, 1 if a probe
 * did, -1 if nothing. */
int tcp_write_wakeup(struct stack *st, struct tcp_sock *tp)
{
	int32_t room = (int32_t)(tcp_wnd_end(tp) - tp->snd_nxt);

	if (tp->state == TCP_CLOSE)
		return -1;
	if (tcp_has_unsent(tp) && room > 0 && tcp_may_send_data(tp)) {
		uint32_t mss = tcp_current_mss(tp), before = tp->snd_nxt, len;
		size_t avail = tp->write_q.len ?
				       pkt_len(tp->write_q.head) :
				       (tp->sk.ops ? tp->sk.ops->tx_avail(tp->sk.ctx) : 0);
		struct pkt *p;

		if (!avail) {
			/* Only our FIN is left. */
			tcp_write_xmit(st, tp);
			if (tp->snd_nxt != before)
				return 0;
		} else {
			len = avail < mss ? (uint32_t)avail : mss;
			if (len > (uint32_t)room)
				len = (uint32_t)room;
			p = tcp_next_segment(st, tp, len);
			if (!p)
				return -1;
			tcp_cb(p)->tcp_flags |= TH_PSH;
			tcp_send_new_segment(
				st, tp, p,
				tp->fin_pending && !tp->fin_sent && !tp->write_q.len &&
					(!tp->sk.ops || !tp->sk.ops->tx_avail(tp->sk.ctx)),
				mss);
			return 0;
		}
	}
	tcp_xmit_probe(st, tp);
	return 1;
}

bool tcp_has_unsent(const struct tcp_sock *tp)
{
	return tp->write_q.len || (tp->sk.ops && tp->sk.ops->tx_avail(tp->sk.ctx)) ||
	       tcp_should_send_fin_now(tp);
}

/* Linux tcp_send_probe0(): probe a zero window, backing off like the RTO;
 * once data is in flight again the RTO takes over. */
void tcp_send_probe0(struct stack *st, struct tcp_sock *tp)
{
	if (tcp_write_wakeup(st, tp) == 1)
		TCPEXT_INC(st, TCP_WIN_PROBE);
	if (tp->packets_out || !tcp_has_unsent(tp)) {
		tp->probes_out = 0;
		tp->backoff = 0;
		return;
	}
	tp->probes_out++;
	if (tp->backoff < st->cfg.tun.tcp_retries2)
		tp->backoff++;
	tcp_reset_rtx_timer(st, tp, TCP_TIMER_PROBE0, tcp_probe0_when(tp));
}

/* RFC 8985 §7.3: the PTO fired. Send one new segment if the window
 * allows, otherwise retransmit the last one. */
void tcp_send_loss_probe(struct stack *st, struct tcp_sock *tp)
{
	struct pkt *last = tp->rtx_q.tail;
	size_t avail = tp->write_q.len ? 1 : (tp->sk.ops ? tp->sk.ops->tx_avail(tp->sk.ctx) : 0);

	if (tp->tlp_high_seq)
		goto rearm;	/* one probe per episode (RFC 8985 §7.3) */
	if (avail && (int32_t)(tcp_wnd_end(tp) - tp->snd_nxt) >= (int32_t)tcp_current_mss(tp)) {
		uint32_t cwnd = tp->cc.snd_cwnd;

		/* Allow one segment beyond cwnd for the probe. */
		tp->cc.snd_cwnd = tcp_packets_in_flight(tp) + 1;
		tcp_write_xmit(st, tp);
		tp->cc.snd_cwnd = cwnd;
		tp->tlp_retrans = 0;
	} else if (last && !(tcp_cb(last)->sacked & TCPCB_SACKED_ACKED)) {
		if (tcp_retransmit_pkt(st, tp, last) < 0)
			goto rearm;
		tp->tlp_retrans = 1;
	} else {
		goto rearm;
	}
	tp->tlp_high_seq = tp->snd_nxt;
	TCPEXT_INC(st, TCP_LOSS_PROBES);
	/* A probe went out: the RTO restarts from it (Linux clears
	 * icsk_pending here). Without a probe, the timer is still the loss
	 * probe's and tcp_rearm_rto() keeps the RTO of the oldest segment. */
	tp->rtx_timer_kind = TCP_TIMER_NONE;
rearm:
	tcp_rearm_rto(st, tp);
}
