/* SPDX-License-Identifier: MIT */
/*
 * Pluggable congestion control (Linux struct tcp_congestion_ops, FreeBSD
 * struct cc_algo). A module sees struct tcp_cc_state, a narrow view of the
 * connection that the TCP core keeps current, never the whole tcp_sock; it
 * keeps its own state in cc->priv (checked at build time against
 * TCP_CC_PRIV_SIZE, as Linux ICSK_CA_PRIV_SIZE). Modules are const tables
 * found by name; nothing here is mutable global state.
 *
 * Windows are in packets (segments of cc->mss bytes), as in Linux.
 *
 * What the core calls, and when:
 *   init          connection established (or CC switched on a live one)
 *   ssthresh      loss detected (fast retransmit, RTO, RACK): new ssthresh
 *   cong_avoid    an ACK that may grow cwnd, outside recovery (ack = the
 *                 cumulative ACK, acked = packets newly delivered)
 *   pkts_acked    every ACK that delivers data, with an RTT sample if any
 *   set_state     ca_state changes (Open, Disorder, CWR, Recovery, Loss)
 *   cwnd_event    TX_START after idle, LOSS on RTO, COMPLETE_CWR
 *   undo_cwnd     a loss turned out to be spurious: cwnd to restore
 *   cong_control  optional: replaces ssthresh/cong_avoid/PRR entirely and
 *                 gets a delivery-rate sample per ACK (BBR); it may also set
 *                 cc->pacing_rate, which the core then honours.
 *
 * As in Linux, name, ssthresh and undo_cwnd are always set, and so is
 * cong_avoid unless cong_control is; init, pkts_acked, set_state,
 * cwnd_event and cong_control may be NULL, and the core checks before
 * calling them (Reno sets none of them). For one ACK the core calls
 * pkts_acked before cong_avoid, after updating snd_una, srtt_us and
 * min_rtt_us (Linux tcp_ack: tcp_clean_rtx_queue, then tcp_cong_control).
 * On an RTO it calls ssthresh, then cwnd_event(CA_EVENT_LOSS).
 */
#ifndef USNET_PROTO_TCP_CC_H
#define USNET_PROTO_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_info.h" /* TCP_CC_NAME_MAX */
#define TCP_CC_PRIV_SIZE 128
#define TCP_INIT_CWND 10		/* RFC 6928 */
#define TCP_INFINITE_SSTHRESH 0x7fffffffu

enum tcp_ca_state {
	TCP_CA_Open = 0,
	TCP_CA_Disorder = 1,
	TCP_CA_CWR = 2,
	TCP_CA_Recovery = 3,
	TCP_CA_Loss = 4,
};

enum tcp_ca_event {
	CA_EVENT_TX_START,	/* first transmit after idle */
	CA_EVENT_CWND_RESTART,	/* cwnd restarted after idle (RFC 7661) */
	CA_EVENT_COMPLETE_CWR,	/* end of a cwnd reduction */
	CA_EVENT_LOSS,		/* retransmission timeout */
};

/* Delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation), for
 * cong_control. */
struct tcp_rate_sample {
	uint64_t prior_mstamp_ns;	/* when the delivered count began */
	uint32_t prior_delivered;	/* delivered count at that time */
	int32_t delivered;		/* packets delivered over the interval */
	int64_t interval_us;		/* its length, -1 if no valid sample */
	uint32_t snd_interval_us;
	uint32_t rcv_interval_us;
	int64_t rtt_us;			/* RTT of the newest acked packet, -1 if none */
	uint32_t losses;		/* packets marked lost by this ACK */
	uint32_t acked_sacked;		/* packets newly (s)acked by this ACK */
	uint32_t prior_in_flight;
	bool is_app_limited;
	bool is_retrans;
	bool is_ack_delayed;
};

struct tcp_cc_state {
	uint32_t snd_cwnd;		/* packets */
	uint32_t snd_ssthresh;		/* packets */
	uint32_t snd_cwnd_cnt;		/* linear-increase counter */
	uint32_t snd_cwnd_clamp;	/* upper bound on snd_cwnd; UINT32_MAX for none */
	uint32_t mss;			/* bytes per packet */
	uint32_t packets_in_flight;	/* RFC 6675 pipe, in packets */
	uint32_t srtt_us;		/* smoothed RTT, 0 before the first sample */
	uint32_t min_rtt_us;		/* windowed minimum, 0 before the first sample */
	uint64_t delivered;		/* packets delivered since the connection began */
	uint64_t now_ns;		/* the stack's clock at this call */
	uint32_t snd_una;		/* cumulative ACK point */
	uint32_t snd_nxt;		/* next new sequence number to send */
	uint8_t ca_state;		/* enum tcp_ca_state */
	bool is_cwnd_limited;		/* the last flight was limited by cwnd */
	uint32_t prior_cwnd;		/* cwnd when the last reduction began (for undo) */
	uint64_t pacing_rate;		/* bytes/s wanted by the module, 0 = no pacing */
	uint64_t priv[TCP_CC_PRIV_SIZE / sizeof(uint64_t)];
};

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_cc_state *cc);
	uint32_t (*ssthresh)(struct tcp_cc_state *cc);
	void (*cong_avoid)(struct tcp_cc_state *cc, uint32_t ack, uint32_t acked);
	void (*pkts_acked)(struct tcp_cc_state *cc, uint32_t acked, int64_t rtt_us);
	void (*set_state)(struct tcp_cc_state *cc, uint8_t new_state);
	void (*cwnd_event)(struct tcp_cc_state *cc, enum tcp_ca_event ev);
	uint32_t (*undo_cwnd)(struct tcp_cc_state *cc);
	void (*cong_control)(struct tcp_cc_state *cc, const struct tcp_rate_sample *rs);
};

extern const struct tcp_cc_ops tcp_reno_ops;
extern const struct tcp_cc_ops tcp_cubic_ops;

/** tcp_cc_find() - the module called @name ("reno", "cubic"), NULL if none */
const struct tcp_cc_ops *tcp_cc_find(const char *name);

/** tcp_cc_name() - the name of registered module @i, for listing; NULL past the end */
const char *tcp_cc_name(unsigned int i);

/* Reno building blocks, exported for other modules (Linux tcp_cong.c). */

/** tcp_is_cwnd_limited() - growing cwnd would let more data out */
bool tcp_is_cwnd_limited(const struct tcp_cc_state *cc);

/**
 * tcp_slow_start() - RFC 5681 slow start, with RFC 3465 appropriate byte
 * counting limited to the packets actually acked: cwnd grows by @acked but
 * not past ssthresh. Return: the part of @acked left over.
 */
uint32_t tcp_slow_start(struct tcp_cc_state *cc, uint32_t acked);

/** tcp_cong_avoid_ai() - additive increase: one packet per @w packets acked */
void tcp_cong_avoid_ai(struct tcp_cc_state *cc, uint32_t w, uint32_t acked);

uint32_t tcp_reno_ssthresh(struct tcp_cc_state *cc);
void tcp_reno_cong_avoid(struct tcp_cc_state *cc, uint32_t ack, uint32_t acked);
uint32_t tcp_reno_undo_cwnd(struct tcp_cc_state *cc);

/* Each module's private state must fit (Linux BUILD_BUG_ON). */
#define TCP_CC_PRIV_ASSERT(type)                                                                   \
	_Static_assert(sizeof(type) <= TCP_CC_PRIV_SIZE, #type " exceeds TCP_CC_PRIV_SIZE")

#endif
