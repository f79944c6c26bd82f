// SPDX-License-Identifier: MIT
/*
 * Loss detection and recovery (Linux net/ipv4/tcp_recovery.c and the
 * recovery half of tcp_input.c):
 *   - the SACK scoreboard (RFC 2018, RFC 6675 §2): SACKED_ACKED, LOST and
 *     SACKED_RETRANS bits on the segments of the retransmit queue, with the
 *     counts sacked_out, lost_out and retrans_out from which the pipe
 *     (tcp_packets_in_flight) follows; D-SACK (RFC 2883) detects spurious
 *     retransmissions;
 *   - RACK-TLP (RFC 8985): a segment is lost when one sent later has been
 *     delivered and more than RTT + reo_wnd has passed since it was sent;
 *     reo_wnd grows when D-SACKs show the losses were reordering; the tail
 *     loss probe lives in tcp_output.c/tcp_timer.c;
 *   - without SACK, NewReno (RFC 6582): three duplicate ACKs mark the head
 *     lost, partial ACKs the next one;
 *   - the recovery state machine (Open, Disorder, CWR, Recovery, Loss) with
 *     Proportional Rate Reduction (RFC 6937) and undo of spurious
 *     reductions (Eifel with timestamps, RFC 3522; D-SACK undo);
 *   - the SACK blocks we send as a receiver (RFC 2018 §4).
 *
 * Segments are kept in two orders: by sequence (rtx_q) for ACK and SACK
 * processing, and by last transmission (tsorted_*) so that RACK examines
 * only segments sent before the most recently delivered one.
 */
#include <string.h>

#include "stack.h"
#include "tcp.h"

#define TCP_RACK_RECOVERY_THRESH 16

static bool tcp_is_sack(const struct tcp_sock *tp)
{
	return tp->sack_ok;
}

static bool tcp_is_rack(const struct stack *st)
{
	return st->cfg.tun.tcp_recovery & 1;
}

static void tcp_set_ca_state(struct tcp_sock *tp, uint8_t state)
{
	if (tp->ca_ops->set_state && tp->cc.ca_state != state)
		tp->ca_ops->set_state(&tp->cc, state);
	tp->cc.ca_state = state;
}

/* --- time-sorted list -------------------------------------------------------- */

static bool tcp_tsorted_linked(const struct tcp_sock *tp, const struct pkt *p)
{
	return p->ts_prev || tp->tsorted_head == p;
}

void tcp_tsorted_del(struct tcp_sock *tp, struct pkt *p)
{
	if (!tcp_tsorted_linked(tp, p))
		return;
	if (p->ts_prev)
		p->ts_prev->ts_next = p->ts_next;
	else
		tp->tsorted_head = p->ts_next;
	if (p->ts_next)
		p->ts_next->ts_prev = p->ts_prev;
	else
		tp->tsorted_tail = p->ts_prev;
	p->ts_next = p->ts_prev = NULL;
}

/* Called at every (re)transmission: the segment goes to the tail. */
void tcp_tsorted_sent(struct tcp_sock *tp, struct pkt *p)
{
	tcp_tsorted_del(tp, p);
	p->ts_prev = tp->tsorted_tail;
	p->ts_next = NULL;
	if (tp->tsorted_tail)
		tp->tsorted_tail->ts_next = p;
	else
		tp->tsorted_head = p;
	tp->tsorted_tail = p;
}

/* A segment split off @p was sent when @p was: it goes right after it. */
void tcp_tsorted_insert_after(struct tcp_sock *tp, struct pkt *p, struct pkt *n)
{
	if (!tcp_tsorted_linked(tp, p))
		return;
	n->ts_prev = p;
	n->ts_next = p->ts_next;
	if (p->ts_next)
		p->ts_next->ts_prev = n;
	else
		tp->tsorted_tail = n;
	p->ts_next = n;
}

/* --- marking ----------------------------------------------------------------- */

/* Linux tcp_mark_skb_lost(). */
void tcp_mark_skb_lost(struct tcp_sock *tp, struct pkt *p)
{
	struct tcp_skb_cb *cb = tcp_cb(p);

	if (cb->sacked & TCPCB_SACKED_ACKED)
		return;
	if (cb->sacked & TCPCB_LOST) {
		if (cb->sacked & TCPCB_SACKED_RETRANS) {
			/* A retransmission lost again. */
			cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
			tp->retrans_out--;
			tp->lost++;
		}
	} else {
		tp->lost_out++;
		tp->lost++;
		cb->sacked |= TCPCB_LOST;
	}
}

/* --- RACK (RFC 8985) ------------------------------------------------------- */

/* RFC 8985 §6.2 step 2: sent after. Times tie within one clock reading;
 * the transmission order breaks the tie (the RFC's sequence-number
 * tie-break would call new data sent before a retransmission "later"). */
static bool tcp_sent_after(uint64_t t1, uint64_t t2, uint32_t order1, uint32_t order2)
{
	return t1 > t2 || (t1 == t2 && (int32_t)(order1 - order2) > 0);
}

void tcp_rack_advance(struct tcp_sock *tp, uint8_t sacked, uint32_t tx_order, uint64_t xmit_ns,
		      uint64_t now_ns)
{
	uint32_t rtt_us = (uint32_t)((now_ns - xmit_ns) / 1000);

	/* RFC 8985 §6.2 step 1: an RTT below min_rtt for a retransmitted
	 * segment means the original was delivered; the sample is
	 * ambiguous. */
	if ((sacked & TCPCB_EVER_RETRANS) && tp->min_rtt_us && rtt_us < tp->min_rtt_us)
		return;
	tp->rack.advanced = 1;
	tp->rack.rtt_us = rtt_us;
	if (tcp_sent_after(xmit_ns, tp->rack.xmit_ns, tx_order, tp->rack.tx_order)) {
		tp->rack.xmit_ns = xmit_ns;
		tp->rack.tx_order = tx_order;
	}
}

/* RFC 8985 §6.2 step 4 with Linux's choices (tcp_rack_reo_wnd). */
static uint32_t tcp_rack_reo_wnd(const struct tcp_sock *tp)
{
	uint32_t srtt = tp->srtt_us >> 3, wnd;

	if (!tp->reord_seen) {
		/* No reordering seen: in recovery, or with dupthresh
		 * reached, be aggressive. */
		if (tp->cc.ca_state >= TCP_CA_Recovery)
			return 0;
		if (tp->sacked_out >= tp->reordering)
			return 0;
	}
	wnd = (tp->min_rtt_us >> 2) * tp->rack.reo_wnd_steps;
	return wnd < srtt ? wnd : srtt;
}

/* RFC 8985 §6.2 step 5. Return: the longest wait (us) among segments not
 * yet lost, 0 if none. */
static uint32_t tcp_rack_detect_loss(struct stack *st, struct tcp_sock *tp)
{
	uint32_t reo_wnd = tcp_rack_reo_wnd(tp), reo_timeout = 0;
	struct pkt *p, *next;

	for (p = tp->tsorted_head; p; p = next) {
		struct tcp_skb_cb *cb = tcp_cb(p);
		int64_t remaining;

		next = p->ts_next;
		/* Marked lost, not yet retransmitted: nothing to learn. */
		if ((cb->sacked & TCPCB_LOST) && !(cb->sacked & TCPCB_SACKED_RETRANS))
			continue;
		if (!tcp_sent_after(tp->rack.xmit_ns, cb->tx_ns, tp->rack.tx_order, cb->tx_order))
			break;
		if (cb->sacked & TCPCB_SACKED_ACKED)
			continue;
		remaining = (int64_t)tp->rack.rtt_us + reo_wnd - (int64_t)((st->now - cb->tx_ns) / 1000);
		if (remaining <= 0) {
			tcp_mark_skb_lost(tp, p);
			tcp_tsorted_del(tp, p);
		} else if ((uint32_t)remaining > reo_timeout) {
			reo_timeout = (uint32_t)remaining;
		}
	}
	return reo_timeout;
}

/* Return: true if the reordering timer was armed. */
bool tcp_rack_mark_lost(struct stack *st, struct tcp_sock *tp)
{
	uint32_t timeout;

	if (!tp->rack.advanced)
		return false;
	tp->rack.advanced = 0;
	timeout = tcp_rack_detect_loss(st, tp);
	if (!timeout)
		return false;
	tcp_reset_rtx_timer(st, tp, TCP_TIMER_REO, timeout + TCP_TIMEOUT_MIN_US);
	return true;
}

static void tcp_enter_recovery(struct stack *st, struct tcp_sock *tp);

/* RFC 8985 §6.3: the reordering timer fired. */
void tcp_rack_reo_timeout(struct stack *st, struct tcp_sock *tp)
{
	uint32_t prior_inflight = tcp_packets_in_flight(tp);
	uint32_t lost = tp->lost;

	tcp_rack_detect_loss(st, tp);
	if (prior_inflight != tcp_packets_in_flight(tp)) {
		if (tp->cc.ca_state != TCP_CA_Recovery) {
			tcp_enter_recovery(st, tp);
			if (!tp->ca_ops->cong_control)
				tcp_cwnd_reduction(tp, 1, (int)(tp->lost - lost), 0);
		}
		tcp_xmit_retransmit_queue(st, tp);
	}
	if (tp->rtx_timer_kind != TCP_TIMER_RETRANS)
		tcp_rearm_rto(st, tp);
}

/* RFC 8985 §6.2 step 4: D-SACKs widen reo_wnd for a while. */
void tcp_rack_update_reo_wnd(struct tcp_sock *tp, const struct tcp_rate_sample *rs)
{
	if (!rs->prior_delivered)
		return;
	if (tcp_before(rs->prior_delivered, tp->rack.last_delivered))
		tp->rack.dsack_seen = 0;
	if (tp->rack.dsack_seen) {
		if (tp->rack.reo_wnd_steps < 0xff)
			tp->rack.reo_wnd_steps++;
		tp->rack.dsack_seen = 0;
		tp->rack.last_delivered = tp->delivered;
		tp->rack.reo_wnd_persist = TCP_RACK_RECOVERY_THRESH;
	} else if (!tp->rack.reo_wnd_persist) {
		tp->rack.reo_wnd_steps = 1;
	}
}

/* --- SACK scoreboard --------------------------------------------------------- */

uint32_t tcp_highest_sack_seq(const struct tcp_sock *tp)
{
	uint32_t high = tp->snd_una;

	if (!tp->sacked_out)
		return high; /* and no walk on the common path */

	for (struct pkt *p = tp->rtx_q.head; p; p = p->next)
		if (tcp_cb(p)->sacked & TCPCB_SACKED_ACKED)
			high = tcp_cb(p)->end_seq;
	return high;
}

/* RFC 2883 §4: is the first block a D-SACK? */
static bool tcp_check_dsack(struct stack *st, struct tcp_sock *tp, const struct tcp_opts *opts,
			    uint32_t prior_snd_una)
{
	uint32_t s0 = opts->sacks[0].start_seq, e0 = opts->sacks[0].end_seq;
	bool dup = false;

	if (tcp_before(s0, prior_snd_una)) {
		dup = true;
		TCPEXT_INC(st, TCP_DSACK_RECV);
	} else if (opts->num_sacks > 1) {
		uint32_t s1 = opts->sacks[1].start_seq, e1 = opts->sacks[1].end_seq;

		if (!tcp_after(e0, e1) && !tcp_before(s0, s1)) {
			dup = true;
			TCPEXT_INC(st, TCP_DSACK_OFO_RECV);
		}
	}
	if (!dup)
		return false;
	tp->dsack_dups++;
	/* Spurious retransmission: reordering evidence for RACK. */
	tp->rack.dsack_seen = 1;
	/* D-SACK of a retransmission within the undo window: one less
	 * retransmission to account for before an undo (RFC 3708). */
	if (tp->undo_marker && tp->undo_retrans > 0 && !tcp_before(e0, tp->undo_marker) &&
	    tcp_after(e0, prior_snd_una - 0x7fffffff))
		tp->undo_retrans--;
	return true;
}

static void tcp_sacktag_one(struct tcp_sock *tp, struct pkt *p, uint32_t prior_fack,
			    struct tcp_rate_sample *rs, uint64_t now, int *flag,
			    uint64_t *first_sackt, uint32_t *reord)
{
	struct tcp_skb_cb *cb = tcp_cb(p);
	uint8_t sacked = cb->sacked;

	if (sacked & TCPCB_SACKED_ACKED)
		return;
	if (sacked & TCPCB_SACKED_RETRANS) {
		cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
		tp->retrans_out--;
	} else if (!(sacked & TCPCB_EVER_RETRANS)) {
		/* A never-retransmitted segment SACKed below the highest
		 * SACK seen so far: the network reordered (RFC 4737). */
		if (tcp_before(cb->seq, prior_fack) && tcp_before(cb->seq, *reord))
			*reord = cb->seq;
		if (!*first_sackt)
			*first_sackt = cb->tx_ns;
	}
	if (sacked & TCPCB_LOST) {
		cb->sacked &= (uint8_t)~TCPCB_LOST;
		tp->lost_out--;
	}
	cb->sacked |= TCPCB_SACKED_ACKED;
	tp->sacked_out++;
	tp->delivered++;
	tcp_rack_advance(tp, sacked, cb->tx_order, cb->tx_ns, now);
	tcp_rate_pkt_delivered(tp, p, rs);
	tcp_tsorted_del(tp, p);
	*flag |= FLAG_DATA_SACKED;
}

/* Linux tcp_sacktag_write_queue(), over a sorted list without splitting:
 * only segments a block covers entirely are tagged (ours are never split,
 * so the peer's blocks fall on their edges). */
int tcp_sacktag(struct stack *st, struct tcp_sock *tp, const struct tcp_opts *opts,
		uint32_t prior_snd_una, struct tcp_rate_sample *rs)
{
	struct tcp_sack_block blocks[TCP_NUM_SACKS];
	uint32_t prior_fack = tcp_is_sack(tp) ? tcp_highest_sack_seq(tp) : tp->snd_una;
	uint32_t reord = tp->snd_nxt;
	uint64_t first_sackt = 0;
	unsigned int n = 0, first = 0;
	int flag = 0;

	if (!tcp_is_sack(tp) || !opts->num_sacks)
		return 0;
	if (tcp_check_dsack(st, tp, opts, prior_snd_una)) {
		flag |= FLAG_DSACKING_ACK;
		first = 1;
	}
	/* Keep the blocks that make sense (RFC 2018 §4; Linux
	 * tcp_is_sackblock_valid), sorted by start. */
	for (unsigned int i = first; i < opts->num_sacks; i++) {
		struct tcp_sack_block b = opts->sacks[i];

		if (!tcp_after(b.end_seq, b.start_seq) || tcp_after(b.end_seq, tp->snd_nxt) ||
		    !tcp_after(b.end_seq, tp->snd_una))
			continue;
		if (tcp_before(b.start_seq, tp->snd_una))
			b.start_seq = tp->snd_una;
		unsigned int j = n;

		while (j > 0 && tcp_after(blocks[j - 1].start_seq, b.start_seq)) {
			blocks[j] = blocks[j - 1];
			j--;
		}
		blocks[j] = b;
		n++;
	}
	if (!n)
		return flag;

	{
		struct pkt *p = tp->rtx_q.head;
		unsigned int bi = 0;

		/* The hint remembers where the last walk ended: SACK blocks
		 * mostly grow at their right edge. */
		if (tp->sack_hint && !tcp_after(tcp_cb(tp->sack_hint)->seq, blocks[0].start_seq))
			p = tp->sack_hint;
		for (; p && bi < n; p = p->next) {
			struct tcp_skb_cb *cb = tcp_cb(p);

			while (bi < n && !tcp_after(blocks[bi].end_seq, cb->seq))
				bi++;
			if (bi == n)
				break;
			if (!tcp_before(cb->seq, blocks[bi].start_seq) &&
			    !tcp_after(cb->end_seq, blocks[bi].end_seq))
				tcp_sacktag_one(tp, p, prior_fack, rs, st->now, &flag, &first_sackt,
						&reord);
			tp->sack_hint = p;
		}
	}
	if (first_sackt)
		rs->rtt_us = (int64_t)((st->now - first_sackt) / 1000);
	if (reord != tp->snd_nxt)
		tcp_check_sack_reordering(st, tp, reord);
	return flag;
}

/* Linux tcp_check_sack_reordering(): data never retransmitted that is
 * delivered below the highest SACKed sequence was reordered, not lost.
 * Count the event once, remember it (RACK widens its window), and raise
 * the reordering degree to the distance seen, in segments. */
void tcp_check_sack_reordering(struct stack *st, struct tcp_sock *tp, uint32_t low_seq)
{
	uint32_t fack = tcp_highest_sack_seq(tp), metric, mss = tp->mss_cache;

	if (!tcp_before(low_seq, fack))
		return;
	metric = fack - low_seq;
	if (mss && metric > tp->reordering * mss) {
		uint32_t r = (metric + mss - 1) / mss;

		tp->reordering =
			r < st->cfg.tun.tcp_max_reordering ? r : st->cfg.tun.tcp_max_reordering;
	}
	tp->reord_seen = 1;
	tp->reord_seen_count++;
	TCPEXT_INC(st, TCP_SACK_REORDER);
}

/* --- NewReno, for peers without SACK (RFC 6582) ------------------------------- */

static void tcp_add_reno_sack(struct tcp_sock *tp, int num_dupack)
{
	if (!num_dupack)
		return;
	tp->sacked_out += (uint32_t)num_dupack;
	/* Duplicate ACKs can only stand for segments we have in flight. */
	if (tp->sacked_out + tp->lost_out > tp->packets_out)
		tp->sacked_out = tp->packets_out > tp->lost_out ? tp->packets_out - tp->lost_out : 0;
	tp->delivered += (uint32_t)num_dupack;
}

static void tcp_reset_reno_sack(struct tcp_sock *tp)
{
	tp->sacked_out = 0;
}

static void tcp_newreno_mark_lost(struct tcp_sock *tp, bool snd_una_advanced)
{
	uint8_t state = tp->cc.ca_state;
	struct pkt *head = tp->rtx_q.head;

	if (!head)
		return;
	if ((state < TCP_CA_Recovery && tp->sacked_out >= tp->reordering) ||
	    (state == TCP_CA_Recovery && snd_una_advanced)) {
		if (tcp_cb(head)->sacked & TCPCB_LOST)
			return;
		tcp_mark_skb_lost(tp, head);
	}
}

/* --- cwnd reduction and undo --------------------------------------------------- */

/* RFC 6937 PRR (Linux tcp_cwnd_reduction). */
void tcp_cwnd_reduction(struct tcp_sock *tp, int newly_acked_sacked, int newly_lost, int flag)
{
	int delta = (int)tp->cc.snd_ssthresh - (int)tcp_packets_in_flight(tp);
	int sndcnt;

	if (newly_acked_sacked <= 0 || !tp->cc.prior_cwnd)
		return;
	tp->prr_delivered += (uint32_t)newly_acked_sacked;
	if (delta < 0) {
		uint64_t dividend = (uint64_t)tp->cc.snd_ssthresh * tp->prr_delivered +
				    tp->cc.prior_cwnd - 1;

		sndcnt = (int)(dividend / tp->cc.prior_cwnd) - (int)tp->prr_out;
	} else {
		sndcnt = (int)tp->prr_delivered - (int)tp->prr_out;
		if (sndcnt < newly_acked_sacked)
			sndcnt = newly_acked_sacked;
		if ((flag & FLAG_SND_UNA_ADVANCED) && !newly_lost)
			sndcnt++;
		if (sndcnt > delta)
			sndcnt = delta;
	}
	/* Force a fast retransmit upon entering fast recovery. */
	if (sndcnt < (tp->prr_out ? 0 : 1))
		sndcnt = tp->prr_out ? 0 : 1;
	tp->cc.snd_cwnd = tcp_packets_in_flight(tp) + (uint32_t)(sndcnt > 0 ? sndcnt : 0);
}

static void tcp_init_undo(struct tcp_sock *tp)
{
	tp->undo_marker = tp->snd_una;
	/* Retransmissions still in flight count against an undo. */
	tp->undo_retrans = (int32_t)tp->retrans_out;
	if (!tp->undo_marker)
		tp->undo_marker = 1;
}

static uint32_t tcp_current_ssthresh(const struct tcp_sock *tp)
{
	uint32_t cwnd = tp->cc.snd_cwnd, t = (cwnd >> 1) + (cwnd >> 2);

	if (tp->cc.ca_state == TCP_CA_CWR || tp->cc.ca_state == TCP_CA_Recovery)
		return tp->cc.snd_ssthresh;
	return tp->cc.snd_ssthresh > t ? tp->cc.snd_ssthresh : t;
}

static void tcp_init_cwnd_reduction(struct stack *st, struct tcp_sock *tp)
{
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	tp->cc.snd_cwnd_cnt = 0;
	tp->cc.prior_cwnd = tp->cc.snd_cwnd;
	tp->prr_delivered = 0;
	tp->prr_out = 0;
	tcp_cc_sync(st, tp);
	tp->cc.snd_ssthresh = tp->ca_ops->ssthresh ? tp->ca_ops->ssthresh(&tp->cc)
						   : tcp_reno_ssthresh(&tp->cc);
}

static void tcp_end_cwnd_reduction(struct stack *st, struct tcp_sock *tp)
{
	if (tp->ca_ops->cong_control)
		return;
	if (tp->cc.snd_ssthresh < TCP_INFINITE_SSTHRESH &&
	    (tp->cc.ca_state == TCP_CA_CWR || tp->undo_marker)) {
		tp->cc.snd_cwnd = tp->cc.snd_ssthresh;
		tp->snd_cwnd_stamp_ns = st->now;
	}
	if (tp->ca_ops->cwnd_event)
		tp->ca_ops->cwnd_event(&tp->cc, CA_EVENT_COMPLETE_CWR);
}

static void tcp_undo_cwnd_reduction(struct stack *st, struct tcp_sock *tp, bool unmark_loss)
{
	if (unmark_loss) {
		for (struct pkt *p = tp->rtx_q.head; p; p = p->next)
			tcp_cb(p)->sacked &= (uint8_t)~TCPCB_LOST;
		tp->lost_out = 0;
	}
	if (tp->prior_ssthresh) {
		tcp_cc_sync(st, tp);
		tp->cc.snd_cwnd = tp->ca_ops->undo_cwnd ? tp->ca_ops->undo_cwnd(&tp->cc)
							: tcp_reno_undo_cwnd(&tp->cc);
		if (tp->prior_ssthresh > tp->cc.snd_ssthresh)
			tp->cc.snd_ssthresh = tp->prior_ssthresh;
	}
	tp->snd_cwnd_stamp_ns = st->now;
	tp->undo_marker = 0;
	tp->rack.advanced = 1;	/* re-examine losses */
}

/* RFC 3522 Eifel: the ACK echoes a timestamp older than our first
 * retransmission, so the original transmission arrived. */
static bool tcp_packet_delayed(const struct tcp_sock *tp)
{
	return tp->retrans_stamp_ns && tp->tstamp_ok && tp->rcv_tsecr &&
	       tcp_before(tp->rcv_tsecr, (uint32_t)(tp->retrans_stamp_ns / 1000000ull));
}

static bool tcp_may_undo(const struct tcp_sock *tp)
{
	return tp->undo_marker && (!tp->undo_retrans || tcp_packet_delayed(tp));
}

static bool tcp_any_retrans_done(const struct tcp_sock *tp)
{
	struct pkt *head = tp->rtx_q.head;

	return tp->retrans_out || (head && (tcp_cb(head)->sacked & TCPCB_EVER_RETRANS));
}

static void tcp_try_keep_open(struct tcp_sock *tp)
{
	uint8_t state = TCP_CA_Open;

	if (tp->sacked_out + tp->lost_out || tcp_any_retrans_done(tp))
		state = TCP_CA_Disorder;
	if (tp->cc.ca_state != state) {
		tcp_set_ca_state(tp, state);
		tp->high_seq = tp->snd_nxt;
	}
}

static bool tcp_try_undo_recovery(struct stack *st, struct tcp_sock *tp)
{
	if (tcp_may_undo(tp)) {
		if (tp->cc.ca_state == TCP_CA_Loss)
			TCPEXT_INC(st, TCP_LOSS_UNDO);
		else
			TCPEXT_INC(st, TCP_FULL_UNDO);
		tcp_undo_cwnd_reduction(st, tp, false);
	} else if (tp->rack.reo_wnd_persist) {
		tp->rack.reo_wnd_persist--;
	}
	if (tp->snd_una == tp->high_seq && !tcp_is_sack(tp)) {
		/* RFC 6582: hold the state until something above high_seq
		 * is acked, against false fast retransmits. */
		if (!tcp_any_retrans_done(tp))
			tp->retrans_stamp_ns = 0;
		return true;
	}
	tcp_set_ca_state(tp, TCP_CA_Open);
	tp->is_sack_reneg = 0;
	return false;
}

static bool tcp_try_undo_dsack(struct stack *st, struct tcp_sock *tp)
{
	if (tp->undo_marker && !tp->undo_retrans) {
		tp->rack.reo_wnd_persist = (uint8_t)(tp->rack.reo_wnd_persist + 1 < TCP_RACK_RECOVERY_THRESH
							     ? tp->rack.reo_wnd_persist + 1
							     : TCP_RACK_RECOVERY_THRESH);
		tcp_undo_cwnd_reduction(st, tp, false);
		TCPEXT_INC(st, TCP_DSACK_UNDO);
		return true;
	}
	return false;
}

static bool tcp_try_undo_loss(struct stack *st, struct tcp_sock *tp)
{
	if (!tcp_may_undo(tp))
		return false;
	tcp_undo_cwnd_reduction(st, tp, true);
	TCPEXT_INC(st, TCP_LOSS_UNDO);
	TCPEXT_INC(st, TCP_SPURIOUS_RTOS);
	tp->retransmits = 0;
	if (tcp_is_sack(tp)) {
		tcp_set_ca_state(tp, TCP_CA_Open);
		tp->is_sack_reneg = 0;
	}
	return true;
}

static void tcp_enter_recovery(struct stack *st, struct tcp_sock *tp)
{
	if (tcp_is_sack(tp))
		TCPEXT_INC(st, TCP_SACK_RECOVERY);
	else
		TCPEXT_INC(st, TCP_RENO_RECOVERY);
	tp->prior_ssthresh = 0;
	tcp_init_undo(tp);
	if (tp->cc.ca_state != TCP_CA_CWR && tp->cc.ca_state != TCP_CA_Recovery) {
		tp->prior_ssthresh = tcp_current_ssthresh(tp);
		tcp_init_cwnd_reduction(st, tp);
	}
	tcp_set_ca_state(tp, TCP_CA_Recovery);
}

/* Linux tcp_timeout_mark_lost() and tcp_enter_loss(): RFC 6298 §5.5 and
 * RFC 5681 §3.1 after an RTO. */
void tcp_enter_loss(struct stack *st, struct tcp_sock *tp)
{
	struct pkt *head = tp->rtx_q.head;
	bool is_reneg = head && (tcp_cb(head)->sacked & TCPCB_SACKED_ACKED);

	if (is_reneg) {
		/* The peer dropped data it had SACKed (RFC 2018 §8). */
		TCPEXT_INC(st, TCP_SACK_RENEGING);
		tp->sacked_out = 0;
		tp->is_sack_reneg = 1;
	} else if (!tcp_is_sack(tp)) {
		tcp_reset_reno_sack(tp);
	}
	for (struct pkt *p = head; p; p = p->next) {
		struct tcp_skb_cb *cb = tcp_cb(p);

		if (is_reneg)
			cb->sacked &= (uint8_t)~TCPCB_SACKED_ACKED;
		else if (p != head && (int64_t)tp->rack.rtt_us -
						  (int64_t)((st->now - cb->tx_ns) / 1000) > 0)
			continue;	/* sent too recently to call lost */
		tcp_mark_skb_lost(tp, p);
	}
	if (tp->cc.ca_state <= TCP_CA_Disorder || !tcp_after(tp->high_seq, tp->snd_una) ||
	    (tp->cc.ca_state == TCP_CA_Loss && !tp->retransmits)) {
		tp->prior_ssthresh = tcp_current_ssthresh(tp);
		tp->cc.prior_cwnd = tp->cc.snd_cwnd;
		tcp_cc_sync(st, tp);
		tp->cc.snd_ssthresh = tp->ca_ops->ssthresh ? tp->ca_ops->ssthresh(&tp->cc)
							   : tcp_reno_ssthresh(&tp->cc);
		if (tp->ca_ops->cwnd_event)
			tp->ca_ops->cwnd_event(&tp->cc, CA_EVENT_LOSS);
		tcp_init_undo(tp);
	}
	tp->cc.snd_cwnd = tcp_packets_in_flight(tp) + 1;
	tp->cc.snd_cwnd_cnt = 0;
	tp->snd_cwnd_stamp_ns = st->now;
	if (tp->cc.ca_state <= TCP_CA_Disorder && tp->sacked_out >= st->cfg.tun.tcp_reordering)
		tp->reordering = tp->reordering < st->cfg.tun.tcp_reordering ? tp->reordering
									 : st->cfg.tun.tcp_reordering;
	tcp_set_ca_state(tp, TCP_CA_Loss);
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	tp->sack_hint = NULL;
}

/* Linux tcp_process_loss(), without F-RTO. */
static void tcp_process_loss(struct stack *st, struct tcp_sock *tp, int flag)
{
	bool recovered = !tcp_before(tp->snd_una, tp->high_seq);

	if ((flag & FLAG_SND_UNA_ADVANCED) && tcp_try_undo_loss(st, tp))
		return;
	if (recovered)
		tcp_try_undo_recovery(st, tp);
}

static void tcp_identify_packet_loss(struct stack *st, struct tcp_sock *tp, int *flag)
{
	if (!tp->rtx_q.len)
		return;
	if (!tcp_is_sack(tp)) {
		tcp_newreno_mark_lost(tp, *flag & FLAG_SND_UNA_ADVANCED);
	} else if (tcp_is_rack(st)) {
		uint32_t prior_retrans = tp->retrans_out;

		/* The reordering timer it armed stays: no TLP or RTO over it
		 * at the end of this ACK. */
		if (tcp_rack_mark_lost(st, tp))
			*flag &= ~FLAG_SET_XMIT_TIMER;
		if (prior_retrans > tp->retrans_out) {
			*flag |= FLAG_LOST_RETRANS;
			TCPEXT_INC(st, TCP_LOST_RETRANSMIT);
		}
	}
}

static bool tcp_time_to_recover(const struct stack *st, const struct tcp_sock *tp)
{
	if (tp->lost_out)
		return true;
	/* Classic dupthresh, when RACK is off. */
	return !tcp_is_rack(st) && tp->sacked_out > tp->reordering;
}

/* Linux tcp_fastretrans_alert(): the loss-recovery state machine. */
void tcp_fastretrans_alert(struct stack *st, struct tcp_sock *tp, uint32_t prior_snd_una,
			   int *ack_flag, int num_dupack, struct tcp_rate_sample *rs)
{
	(void)rs;
	if (!tp->packets_out && tp->sacked_out)
		tp->sacked_out = 0;

	/* D. Exit conditions: high_seq acknowledged. */
	if (tp->cc.ca_state == TCP_CA_Open) {
		tp->retrans_stamp_ns = tp->retrans_out ? tp->retrans_stamp_ns : 0;
	} else if (!tcp_before(tp->snd_una, tp->high_seq)) {
		switch (tp->cc.ca_state) {
		case TCP_CA_CWR:
			/* Held until something above high_seq is acked. */
			if (tp->snd_una != tp->high_seq) {
				tcp_end_cwnd_reduction(st, tp);
				tcp_set_ca_state(tp, TCP_CA_Open);
			}
			break;
		case TCP_CA_Recovery:
			if (!tcp_is_sack(tp))
				tcp_reset_reno_sack(tp);
			if (tcp_try_undo_recovery(st, tp))
				return;
			tcp_end_cwnd_reduction(st, tp);
			break;
		default:
			break;
		}
	}

	/* E. Process the state. */
	switch (tp->cc.ca_state) {
	case TCP_CA_Recovery:
		if (!(*ack_flag & FLAG_SND_UNA_ADVANCED)) {
			if (!tcp_is_sack(tp))
				tcp_add_reno_sack(tp, num_dupack);
		} else if (tp->undo_marker && tcp_packet_delayed(tp)) {
			/* The hole was filled by the original, not the
			 * retransmission: partial undo. */
			if (!tp->retrans_out) {
				tcp_undo_cwnd_reduction(st, tp, true);
				tcp_try_keep_open(tp);
				return;
			}
		}
		if (tcp_try_undo_dsack(st, tp))
			tcp_try_keep_open(tp);
		tcp_identify_packet_loss(st, tp, ack_flag);
		if (tp->cc.ca_state != TCP_CA_Recovery) {
			if (!tcp_time_to_recover(st, tp))
				return;
			tcp_enter_recovery(st, tp);
		}
		break;
	case TCP_CA_Loss:
		tcp_process_loss(st, tp, *ack_flag);
		tcp_identify_packet_loss(st, tp, ack_flag);
		if (!(tp->cc.ca_state == TCP_CA_Open || (*ack_flag & FLAG_LOST_RETRANS)))
			return;
		/* fall through */
	default:
		if (!tcp_is_sack(tp)) {
			if (*ack_flag & FLAG_SND_UNA_ADVANCED)
				tcp_reset_reno_sack(tp);
			tcp_add_reno_sack(tp, num_dupack);
		}
		if (tp->cc.ca_state <= TCP_CA_Disorder)
			tcp_try_undo_dsack(st, tp);
		tcp_identify_packet_loss(st, tp, ack_flag);
		if (!tcp_time_to_recover(st, tp)) {
			if (!tcp_any_retrans_done(tp))
				tp->retrans_stamp_ns = 0;
			if (tp->cc.ca_state != TCP_CA_CWR)
				tcp_try_keep_open(tp);
			return;
		}
		tcp_enter_recovery(st, tp);
	}
	(void)prior_snd_una;
}

/* Linux tcp_xmit_retransmit_queue(): send what is marked lost, oldest
 * first, as cwnd (PRR) allows. */
void tcp_xmit_retransmit_queue(struct stack *st, struct tcp_sock *tp)
{
	bool rearm = false;

	if (!tp->packets_out || tp->state == TCP_CLOSE)
		return;
	for (struct pkt *p = tp->rtx_q.head; p; p = p->next) {
		struct tcp_skb_cb *cb = tcp_cb(p);

		if (tcp_snd_cwnd(tp) <= tcp_packets_in_flight(tp))
			break;
		if (tp->retrans_out >= tp->lost_out)
			break;
		if (!(cb->sacked & TCPCB_LOST) ||
		    (cb->sacked & (TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS)))
			continue;
		if (tcp_retransmit_pkt(st, tp, p) < 0)
			break;
		if (tp->cc.ca_state == TCP_CA_Loss)
			TCPEXT_INC(st, TCP_SLOW_START_RETRANS);
		else
			TCPEXT_INC(st, TCP_FAST_RETRANS);
		if (tp->cc.ca_state == TCP_CA_CWR || tp->cc.ca_state == TCP_CA_Recovery)
			tp->prr_out++;
		if (p == tp->rtx_q.head && tp->rtx_timer_kind != TCP_TIMER_REO)
			rearm = true;
	}
	if (rearm)
		tcp_reset_rtx_timer(st, tp, TCP_TIMER_RETRANS, tp->rto_us);
}

/* RFC 8985 §7.4 (Linux tcp_process_tlp_ack): if the probe's ACK shows the
 * probe repaired a loss (no D-SACK for it), reduce cwnd once. */
void tcp_process_tlp_ack(struct stack *st, struct tcp_sock *tp, uint32_t ack, int flag)
{
	if (tcp_before(ack, tp->tlp_high_seq))
		return;
	if (!tp->tlp_retrans) {
		tp->tlp_high_seq = 0;
	} else if (flag & FLAG_DSACKING_ACK) {
		/* The probe was a duplicate: no loss. */
		tp->tlp_high_seq = 0;
	} else if (tcp_after(ack, tp->tlp_high_seq)) {
		/* One reduction for the repaired loss, done at once: the
		 * probe was its only retransmission (Linux). */
		tcp_init_cwnd_reduction(st, tp);
		tcp_set_ca_state(tp, TCP_CA_CWR);
		tcp_end_cwnd_reduction(st, tp);
		tcp_try_keep_open(tp);
		TCPEXT_INC(st, TCP_LOSS_PROBE_RECOVERY);
	} else if (!(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DATA_SACKED))) {
		tp->tlp_high_seq = 0;
	}
}

void tcp_try_undo_spurious(struct stack *st, struct tcp_sock *tp)
{
	tcp_try_undo_dsack(st, tp);
}

/* --- the SACK blocks we report (receiver side) --------------------------------- */

static bool tcp_sack_extend(struct tcp_sack_block *sp, uint32_t seq, uint32_t end_seq)
{
	if (!tcp_after(seq, sp->end_seq) && !tcp_after(sp->start_seq, end_seq)) {
		if (tcp_before(seq, sp->start_seq))
			sp->start_seq = seq;
		if (tcp_after(end_seq, sp->end_seq))
			sp->end_seq = end_seq;
		return true;
	}
	return false;
}

/* RFC 2018 §4: the block with the newest data first; merged blocks
 * collapse (Linux tcp_sack_new_ofo_skb, tcp_sack_maybe_coalesce). */
void tcp_update_sack_list(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	struct tcp_sack_block *sp = tp->selective_acks;
	unsigned int n = tp->num_sacks, i;

	for (i = 0; i < n; i++) {
		if (tcp_sack_extend(&sp[i], seq, end_seq)) {
			struct tcp_sack_block b = sp[i];

			/* Rotate it to the front. */
			for (; i > 0; i--)
				sp[i] = sp[i - 1];
			sp[0] = b;
			/* It may now cover others. */
			for (unsigned int j = 1; j < n;) {
				if (tcp_sack_extend(&sp[0], sp[j].start_seq, sp[j].end_seq)) {
					for (unsigned int k = j; k + 1 < n; k++)
						sp[k] = sp[k + 1];
					n--;
				} else {
					j++;
				}
			}
			tp->num_sacks = (uint8_t)n;
			return;
		}
	}
	if (n == TCP_NUM_SACKS)
		n--;	/* the oldest block drops out */
	for (i = n; i > 0; i--)
		sp[i] = sp[i - 1];
	sp[0].start_seq = seq;
	sp[0].end_seq = end_seq;
	tp->num_sacks = (uint8_t)(n + 1);
}

/* Blocks below rcv_nxt are acknowledged cumulatively now (Linux
 * tcp_sack_remove). */
void tcp_sack_remove(struct tcp_sock *tp)
{
	unsigned int n = 0;

	if (!tp->ofo_q.len) {
		tp->num_sacks = 0;
		return;
	}
	for (unsigned int i = 0; i < tp->num_sacks; i++) {
		if (!tcp_after(tp->selective_acks[i].end_seq, tp->rcv_nxt))
			continue;
		tp->selective_acks[n++] = tp->selective_acks[i];
	}
	tp->num_sacks = (uint8_t)n;
}

/* RFC 2883: report one duplicate range with the next ACK. */
void tcp_dsack_set(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	if (!tp->sack_ok)
		return;
	if (tcp_before(seq, tp->rcv_nxt))
		TCPEXT_INC(st, TCP_DSACK_OLD_SENT);
	else
		TCPEXT_INC(st, TCP_DSACK_OFO_SENT);
	tp->dsack = 1;
	tp->duplicate_sack.start_seq = seq;
	tp->duplicate_sack.end_seq = end_seq;
}

void tcp_dsack_extend(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	if (!tp->dsack)
		tcp_dsack_set(st, tp, seq, end_seq);
	else
		tcp_sack_extend(&tp->duplicate_sack, seq, end_seq);
}
