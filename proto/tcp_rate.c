// SPDX-License-Identifier: MIT
/*
 * Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation;
 * Linux net/ipv4/tcp_rate.c): every segment remembers, when sent, how much
 * had been delivered and when; when it is (s)acked, the difference over the
 * longer of the send and ACK intervals is a rate sample. Congestion control
 * modules with cong_control (BBR) consume the samples; tcp_info reports the
 * last one.
 */
#include "stack.h"
#include "tcp.h"

void tcp_rate_pkt_sent(struct tcp_sock *tp, struct pkt *p, uint64_t now_ns)
{
	struct tcp_skb_cb *cb = tcp_cb(p);

	/* Nothing in flight: the send clock restarts with this segment. */
	if (!tp->packets_out) {
		tp->first_tx_ns = now_ns;
		tp->delivered_ns = now_ns;
	}
	cb->first_tx_ns = tp->first_tx_ns;
	cb->delivered_ns = tp->delivered_ns;
	cb->tx_delivered = tp->delivered;
	cb->is_app_limited = tp->app_limited ? 1 : 0;
	cb->tx_ns = now_ns;
}

void tcp_rate_pkt_delivered(struct tcp_sock *tp, struct pkt *p, struct tcp_rate_sample *rs)
{
	struct tcp_skb_cb *cb = tcp_cb(p);

	if (!cb->delivered_ns)
		return;
	/* The newest-sent delivered segment defines the sample. */
	if (!rs->prior_delivered || cb->tx_delivered > rs->prior_delivered ||
	    (cb->tx_delivered == rs->prior_delivered && cb->tx_ns > tp->first_tx_ns)) {
		rs->prior_delivered = cb->tx_delivered;
		rs->prior_mstamp_ns = cb->delivered_ns;
		rs->is_app_limited = cb->is_app_limited;
		rs->is_retrans = (cb->sacked & TCPCB_EVER_RETRANS) != 0;
		tp->first_tx_ns = cb->tx_ns;
		rs->interval_us = (int64_t)((cb->tx_ns - cb->first_tx_ns) / 1000);
	}
	/* A SACKed segment is counted once, not again when acked. */
	if (cb->sacked & TCPCB_SACKED_ACKED)
		cb->delivered_ns = 0;
}

void tcp_rate_gen(struct tcp_sock *tp, uint32_t delivered, uint32_t lost, bool is_sack_reneg,
		  struct tcp_rate_sample *rs, uint64_t now_ns)
{
	int64_t snd_us, ack_us;

	if (tp->app_limited && tcp_after(tp->delivered, tp->app_limited))
		tp->app_limited = 0;
	if (delivered)
		tp->delivered_ns = now_ns;
	rs->acked_sacked = delivered;
	rs->losses = lost;
	if (!rs->prior_mstamp_ns || is_sack_reneg) {
		rs->delivered = -1;
		rs->interval_us = -1;
		return;
	}
	rs->delivered = (int32_t)(tp->delivered - rs->prior_delivered);
	snd_us = rs->interval_us;
	ack_us = (int64_t)((now_ns - rs->prior_mstamp_ns) / 1000);
	rs->interval_us = snd_us > ack_us ? snd_us : ack_us;
	rs->snd_interval_us = (uint32_t)snd_us;
	rs->rcv_interval_us = (uint32_t)ack_us;
	/* Shorter than the minimum RTT is impossible: ack compression. */
	if (rs->interval_us < (int64_t)tp->min_rtt_us) {
		rs->interval_us = -1;
		return;
	}
	if (!rs->is_app_limited ||
	    (uint64_t)rs->delivered * tp->rate_interval_us >=
		    (uint64_t)tp->rate_delivered * (uint64_t)rs->interval_us) {
		tp->rate_delivered = (uint32_t)rs->delivered;
		tp->rate_interval_us = (uint32_t)rs->interval_us;
		tp->rate_app_limited = rs->is_app_limited;
	}
}

/* The application, not the network, limits sending: samples taken now
 * understate the path (draft §3.4). */
void tcp_rate_check_app_limited(struct stack *st, struct tcp_sock *tp)
{
	(void)st;
	if (!tcp_has_unsent(tp) && tcp_packets_in_flight(tp) < tcp_snd_cwnd(tp) &&
	    tp->lost_out <= tp->retrans_out)
		tp->app_limited = (tp->delivered + tcp_packets_in_flight(tp)) ? tp->delivered +
									 tcp_packets_in_flight(tp)
								 : 1;
}
