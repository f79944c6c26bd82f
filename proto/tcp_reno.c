// SPDX-License-Identifier: MIT
/*
 * Reno (RFC 5681 §3.1: slow start, congestion avoidance, and halving the
 * window on loss), the baseline every other module is measured against.
 * The building blocks live in tcp_cc.c so that other modules can reuse them;
 * this file only names them, as Linux's tcp_reno in tcp_cong.c does. Reno
 * keeps no private state, so it needs no init, pkts_acked, set_state or
 * cwnd_event.
 */
#include "tcp_cc.h"

const struct tcp_cc_ops tcp_reno_ops = {
	.name = "reno",
	.ssthresh = tcp_reno_ssthresh,
	.cong_avoid = tcp_reno_cong_avoid,
	.undo_cwnd = tcp_reno_undo_cwnd,
};
