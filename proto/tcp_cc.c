// SPDX-License-Identifier: MIT
/*
 * The congestion-control registry, and the Reno building blocks that other
 * modules reuse (after Linux net/ipv4/tcp_cong.c, FreeBSD newreno_cc_*).
 * Slow start and congestion avoidance are RFC 5681 §3.1 counted in packets:
 * slow start grows cwnd by the packets an ACK newly delivers (RFC 3465 §2.1,
 * with no limit L, as Linux does), congestion avoidance by one packet per
 * window of packets acknowledged (RFC 5681 §3.1, equation 3, done with a
 * counter instead of a fraction), and a loss halves the window (RFC 5681
 * §3.1, equation 4, taken on cwnd rather than FlightSize, as Linux does).
 * The registry is a const table: nothing here is mutable global state.
 */
#include <stddef.h>
#include <string.h>

#include "tcp_cc.h"

/* Listing order is Linux's tcp_available_congestion_control order. */
static const struct tcp_cc_ops *const tcp_cc_modules[] = {
	&tcp_reno_ops,
	&tcp_cubic_ops,
};

#define TCP_CC_NMODULES (sizeof(tcp_cc_modules) / sizeof(tcp_cc_modules[0]))

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	/* Names are at most TCP_CC_NAME_MAX bytes (Linux TCP_CA_NAME_MAX), so a
	 * caller's unterminated buffer of that size is never read past. */
	for (i = 0; i < TCP_CC_NMODULES; i++)
		if (strncmp(name, tcp_cc_modules[i]->name, TCP_CC_NAME_MAX) == 0)
			return tcp_cc_modules[i];
	return NULL;
}

const char *tcp_cc_name(unsigned int i)
{
	return i < TCP_CC_NMODULES ? tcp_cc_modules[i]->name : NULL;
}

static bool tcp_cc_in_slow_start(const struct tcp_cc_state *cc)
{
	return cc->snd_cwnd < cc->snd_ssthresh;
}

bool tcp_is_cwnd_limited(const struct tcp_cc_state *cc)
{
	if (cc->is_cwnd_limited)
		return true;
	/* Linux behaviour (tcp_is_cwnd_limited): in slow start, keep growing
	 * while the flight is more than half of cwnd, so that cwnd ends up
	 * about twice what the sender really used. Beyond that, growing a
	 * window nobody fills only stores up a burst (RFC 7661 §1). */
	if (tcp_cc_in_slow_start(cc))
		return cc->snd_cwnd < 2 * (uint64_t)cc->packets_in_flight;
	return false;
}

uint32_t tcp_slow_start(struct tcp_cc_state *cc, uint32_t acked)
{
	uint64_t cwnd;

	if (!tcp_cc_in_slow_start(cc))
		return acked;
	/* RFC 5681 §3.1: slow start ends at ssthresh; what is left of @acked
	 * goes to congestion avoidance (Linux tcp_slow_start). */
	cwnd = (uint64_t)cc->snd_cwnd + acked;
	if (cwnd > cc->snd_ssthresh)
		cwnd = cc->snd_ssthresh;
	acked -= (uint32_t)(cwnd - cc->snd_cwnd);
	cc->snd_cwnd = cwnd < cc->snd_cwnd_clamp ? (uint32_t)cwnd : cc->snd_cwnd_clamp;
	return acked;
}

void tcp_cong_avoid_ai(struct tcp_cc_state *cc, uint32_t w, uint32_t acked)
{
	uint64_t cwnd = cc->snd_cwnd;

	if (!w)
		w = 1;
	/* Linux behaviour: credits gathered while w was larger are applied
	 * gently, one packet, instead of all at once. */
	if (cc->snd_cwnd_cnt >= w) {
		cc->snd_cwnd_cnt = 0;
		cwnd++;
	}
	/* RFC 5681 §3.1: one packet per window acknowledged, counted exactly
	 * instead of as SMSS*SMSS/cwnd per ACK. */
	cc->snd_cwnd_cnt += acked;
	if (cc->snd_cwnd_cnt >= w) {
		uint32_t delta = cc->snd_cwnd_cnt / w;

		cc->snd_cwnd_cnt -= delta * w;
		cwnd += delta;
	}
	cc->snd_cwnd = cwnd < cc->snd_cwnd_clamp ? (uint32_t)cwnd : cc->snd_cwnd_clamp;
}

uint32_t tcp_reno_ssthresh(struct tcp_cc_state *cc)
{
	/* RFC 5681 §3.1, equation 4: half the window, at least two packets */
	uint32_t half = cc->snd_cwnd >> 1;

	return half > 2 ? half : 2;
}

void tcp_reno_cong_avoid(struct tcp_cc_state *cc, uint32_t ack, uint32_t acked)
{
	if (!tcp_is_cwnd_limited(cc))
		return;
	if (tcp_cc_in_slow_start(cc)) {
		acked = tcp_slow_start(cc, acked);
		if (!acked)
			return;
	}
	tcp_cong_avoid_ai(cc, cc->snd_cwnd, acked);
}

uint32_t tcp_reno_undo_cwnd(struct tcp_cc_state *cc)
{
	/* The reduction was spurious (RFC 3522, RFC 5682, DSACK per RFC
	 * 3708): go back to the window it started from, but never shrink a
	 * window that has grown past it since (Linux tcp_reno_undo_cwnd). */
	return cc->snd_cwnd > cc->prior_cwnd ? cc->snd_cwnd : cc->prior_cwnd;
}
