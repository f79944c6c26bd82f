// SPDX-License-Identifier: MIT
/*
 * CUBIC congestion control (RFC 9438), with HyStart++ (RFC 9406) for the
 * initial slow start. Implemented: the window function W_cubic(t) and K
 * (§4.2), the target one RTT ahead and its bounds (§4.2), the Reno-friendly
 * estimate W_est (§4.3), the concave and convex regions (§4.4, §4.5),
 * multiplicative decrease with beta_cubic = 0.7 (§4.6), fast convergence
 * (§4.7), timeouts (§4.8), undo of spurious congestion events (§4.9), the
 * start of congestion avoidance after HyStart++ (§4.10), and not counting
 * idle time in t (§5.8; the epoch shift of Linux bictcp_cwnd_event). Slow
 * start is RFC 9406 §4.2: rounds delimited by windowEnd, the delay-increase
 * test over N_RTT_SAMPLE samples, Conservative Slow Start, the return to
 * slow start when the RTT falls below the CSS baseline, and the exit to
 * congestion avoidance after CSS_ROUNDS, with the constants of §4.3.
 *
 * No floating point. Windows are kept in packets with CUBIC_W_SHIFT
 * fractional bits; time since the epoch start is converted once per ACK to
 * units of 2^-CUBIC_T_SHIFT s (about 15 us). C = 0.4 and beta = 0.7 are
 * exact ratios, and the cube root is an exact integer one, so K and
 * W_cubic(t) come out to within a few parts per million of the real-valued
 * formulas. |t - K| is capped at CUBIC_T_MAX (1024 s), which keeps every
 * product inside 64 bits; there W_cubic is already more than 1.5 cwnd away
 * from any real window, where the §4.2 bounds apply anyway.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcp_cc.h"

/* RFC 9438 §4.6 beta_cubic = 0.7 and §5.1 C = 0.4, as exact ratios */
#define CUBIC_BETA_NUM 7u
#define CUBIC_BETA_DEN 10u
#define CUBIC_C_NUM 2u
#define CUBIC_C_DEN 5u
/* §4.3 alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 9/17 */
#define CUBIC_ALPHA_NUM (3u * (CUBIC_BETA_DEN - CUBIC_BETA_NUM))
#define CUBIC_ALPHA_DEN (CUBIC_BETA_DEN + CUBIC_BETA_NUM)

#define CUBIC_W_SHIFT 16 /* windows: packets << 16 */
#define CUBIC_T_SHIFT 16 /* time: units of 2^-16 s */
#define CUBIC_T_MAX (1ull << (10 + CUBIC_T_SHIFT)) /* 1024 s */
#define CUBIC_NS_MAX (1ull << 41) /* about 2199 s, > K max + CUBIC_T_MAX */
#define CUBIC_NSEC_PER_SEC 1000000000ull
#define CUBIC_USEC_PER_SEC 1000000ull

/* RFC 9406 §4.3, the recommended constants */
#define HYSTART_MIN_RTT_THRESH_US 4000u
#define HYSTART_MAX_RTT_THRESH_US 16000u
#define HYSTART_MIN_RTT_DIVISOR 8u
#define HYSTART_N_RTT_SAMPLE 8u
#define HYSTART_CSS_GROWTH_DIVISOR 4u
#define HYSTART_CSS_ROUNDS 5u
/* §4.3: L = infinity if paced, L = 8 if non-paced */
#define HYSTART_L_UNPACED 8u
#define HYSTART_RTT_INF UINT32_MAX

enum cubic_hs_state {
	CUBIC_HS_SS, /* standard slow start with the delay-increase test */
	CUBIC_HS_CSS, /* Conservative Slow Start */
	CUBIC_HS_DONE, /* left the initial slow start: standard slow start from now on */
};

/* What one congestion-avoidance stage needs, and what §4.9 saves at a
 * congestion event and restores if the event proves spurious. */
struct cubic_epoch {
	uint64_t start_ns; /* t_epoch, in cc->now_ns time */
	uint64_t w_max; /* W_max, packets << CUBIC_W_SHIFT */
	uint64_t w_est; /* W_est, packets << CUBIC_W_SHIFT */
	uint32_t k; /* K, 2^-CUBIC_T_SHIFT s */
	uint32_t cwnd_prior; /* cwnd_prior, packets */
	bool valid; /* a stage is running: start_ns, k and w_est hold */
};

/* RFC 9406 §4.2 variables, under their RFC names */
struct cubic_hystart {
	uint32_t window_end; /* windowEnd */
	uint32_t last_round_min_rtt_us; /* lastRoundMinRTT */
	uint32_t cur_round_min_rtt_us; /* currentRoundMinRTT */
	uint32_t css_baseline_min_rtt_us; /* cssBaselineMinRtt */
	uint16_t rtt_sample_count; /* rttSampleCount */
	uint8_t css_rounds; /* CSS rounds ended, the partial first one included */
	uint8_t css_acked; /* packets acked in CSS, not yet a whole packet of cwnd */
	uint8_t state; /* enum cubic_hs_state */
};

struct cubic {
	struct cubic_epoch cur;
	struct cubic_epoch prior;
	uint64_t last_grow_ns; /* the last ACK on which cwnd could grow */
	uint32_t cwnd_frac; /* the fraction of a packet cwnd has grown by */
	struct cubic_hystart hs;
};

TCP_CC_PRIV_ASSERT(struct cubic);

static struct cubic *cubic_priv(struct tcp_cc_state *cc)
{
	return (struct cubic *)cc->priv;
}

static bool cubic_seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool cubic_in_slow_start(const struct tcp_cc_state *cc)
{
	return cc->snd_cwnd < cc->snd_ssthresh;
}

/* floor(cbrt(a)), one bit at a time: 22 steps, no division. */
static uint32_t cubic_root(uint64_t a)
{
	/* floor(cbrt(2^64 - 1)): a larger y would overflow y^3 */
	const uint64_t ymax = 2642245;
	uint64_t x = 0;
	int b;

	for (b = 21; b >= 0; b--) {
		uint64_t y = x | (1ull << b);

		if (y <= ymax && y * y * y <= a)
			x = y;
	}
	return (uint32_t)x;
}

static uint64_t cubic_ns_to_t(uint64_t ns)
{
	if (ns > CUBIC_NS_MAX)
		ns = CUBIC_NS_MAX;
	return (ns << CUBIC_T_SHIFT) / CUBIC_NSEC_PER_SEC;
}

static uint64_t cubic_us_to_t(uint64_t us)
{
	return (us << CUBIC_T_SHIFT) / CUBIC_USEC_PER_SEC;
}

/*
 * §4.2: K = cbrt((W_max - cwnd_epoch) / C), for dw = W_max - cwnd_epoch.
 * In our units K << T_SHIFT = cbrt(dw / C << (3 * T_SHIFT - W_SHIFT)); the
 * shift is taken in steps of 3 bits off the radicand and put back on the
 * root, as much as needed to stay inside 64 bits.
 */
static uint32_t cubic_k(uint64_t dw)
{
	uint64_t x = dw * CUBIC_C_DEN; /* dw < 2^48, so x < 2^51 */
	unsigned int s = 3 * CUBIC_T_SHIFT - CUBIC_W_SHIFT;
	uint64_t k;

	while (s >= 3 && (x >> (63 - s)))
		s -= 3;
	k = (uint64_t)cubic_root((x << s) / CUBIC_C_NUM)
	    << ((3 * CUBIC_T_SHIFT - CUBIC_W_SHIFT - s) / 3);
	return k < CUBIC_T_MAX ? (uint32_t)k : (uint32_t)CUBIC_T_MAX;
}

/* C * offs^3, for offs <= CUBIC_T_MAX, in packets << W_SHIFT. */
static uint64_t cubic_delta(uint64_t offs)
{
	uint64_t sq = (offs * offs) >> CUBIC_T_SHIFT; /* < 2^36, s^2 << 16 */
	uint64_t cube = sq * offs; /* < 2^62, s^3 << 32 */

	return (cube * CUBIC_C_NUM / CUBIC_C_DEN) >> (2 * CUBIC_T_SHIFT - CUBIC_W_SHIFT);
}

/* §4.2, Figure 1: W_cubic(t) = C * (t - K)^3 + W_max */
static uint64_t cubic_w(const struct cubic_epoch *e, uint64_t t)
{
	uint64_t delta;

	if (t < e->k) {
		delta = cubic_delta(e->k - t);
		return delta < e->w_max ? e->w_max - delta : 0;
	}
	delta = cubic_delta(t - e->k < CUBIC_T_MAX ? t - e->k : CUBIC_T_MAX);
	return e->w_max + delta;
}

static void cubic_epoch_start(struct tcp_cc_state *cc, struct cubic *ca)
{
	struct cubic_epoch *e = &ca->cur;
	uint64_t cwnd = (uint64_t)cc->snd_cwnd << CUBIC_W_SHIFT;

	e->valid = true;
	e->start_ns = cc->now_ns;
	e->w_est = cwnd; /* §4.3: W_est = cwnd_epoch */
	ca->cwnd_frac = 0;
	if (e->w_max > cwnd) {
		e->k = cubic_k(e->w_max - cwnd);
	} else {
		/* §4.2: K = 0 if cwnd_epoch > W_max. And with no W_max, after a
		 * timeout (§4.8) or a HyStart++ exit (§4.10), W_max becomes the
		 * window at the start of the stage. */
		e->k = 0;
		e->w_max = cwnd;
	}
}

static void cubic_init(struct tcp_cc_state *cc)
{
	struct cubic *ca = cubic_priv(cc);

	memset(ca, 0, sizeof(*ca));
	/* RFC 9406 §4.2: HyStart++ is for the initial slow start only, the one
	 * that starts from an arbitrarily high ssthresh (RFC 5681 §3.1). */
	ca->hs.state = cc->snd_ssthresh == TCP_INFINITE_SSTHRESH ? CUBIC_HS_SS : CUBIC_HS_DONE;
	ca->hs.window_end = cc->snd_nxt;
	ca->hs.last_round_min_rtt_us = HYSTART_RTT_INF;
	ca->hs.cur_round_min_rtt_us = HYSTART_RTT_INF;
	ca->hs.css_baseline_min_rtt_us = HYSTART_RTT_INF;
}

static bool cubic_hystart_active(const struct tcp_cc_state *cc, const struct cubic *ca)
{
	return ca->hs.state != CUBIC_HS_DONE && cc->snd_ssthresh == TCP_INFINITE_SSTHRESH;
}

static void cubic_hystart_sample(struct cubic_hystart *hs, int64_t rtt_us)
{
	uint32_t rtt = rtt_us >= HYSTART_RTT_INF ? HYSTART_RTT_INF - 1 : (uint32_t)rtt_us;
	uint64_t thresh;

	if (!rtt)
		rtt = 1;
	if (rtt < hs->cur_round_min_rtt_us)
		hs->cur_round_min_rtt_us = rtt;
	if (hs->rtt_sample_count < UINT16_MAX)
		hs->rtt_sample_count++;
	if (hs->rtt_sample_count < HYSTART_N_RTT_SAMPLE)
		return;

	if (hs->state == CUBIC_HS_CSS) {
		/* §4.2: the delay increase was not lasting; the exit from slow
		 * start was spurious */
		if (hs->cur_round_min_rtt_us < hs->css_baseline_min_rtt_us) {
			hs->css_baseline_min_rtt_us = HYSTART_RTT_INF;
			hs->state = CUBIC_HS_SS;
		}
		return;
	}
	if (hs->last_round_min_rtt_us == HYSTART_RTT_INF)
		return;
	/* §4.2: RttThresh = max(MIN_RTT_THRESH,
	 *                       min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)) */
	thresh = hs->last_round_min_rtt_us / HYSTART_MIN_RTT_DIVISOR;
	if (thresh > HYSTART_MAX_RTT_THRESH_US)
		thresh = HYSTART_MAX_RTT_THRESH_US;
	if (thresh < HYSTART_MIN_RTT_THRESH_US)
		thresh = HYSTART_MIN_RTT_THRESH_US;
	if (hs->cur_round_min_rtt_us >= hs->last_round_min_rtt_us + thresh) {
		hs->css_baseline_min_rtt_us = hs->cur_round_min_rtt_us;
		hs->css_rounds = 0;
		hs->css_acked = 0;
		hs->state = CUBIC_HS_CSS;
	}
}

/* §4.2: windowEnd has been acknowledged; the round is over. */
static void cubic_hystart_round_end(struct tcp_cc_state *cc, struct cubic *ca)
{
	struct cubic_hystart *hs = &ca->hs;

	/* §4.2: a partial first CSS round counts towards CSS_ROUNDS. After
	 * them, congestion avoidance with ssthresh = cwnd, and, as no loss has
	 * set one, cwnd_prior = cwnd (RFC 9438 §4.10). */
	if (hs->state == CUBIC_HS_CSS && ++hs->css_rounds >= HYSTART_CSS_ROUNDS) {
		cc->snd_ssthresh = cc->snd_cwnd > 2 ? cc->snd_cwnd : 2;
		ca->cur.cwnd_prior = cc->snd_cwnd;
		hs->state = CUBIC_HS_DONE;
		return;
	}
	hs->last_round_min_rtt_us = hs->cur_round_min_rtt_us;
	hs->cur_round_min_rtt_us = HYSTART_RTT_INF;
	hs->rtt_sample_count = 0;
	hs->window_end = cc->snd_nxt;
}

static void cubic_pkts_acked(struct tcp_cc_state *cc, uint32_t acked, int64_t rtt_us)
{
	struct cubic *ca = cubic_priv(cc);

	if (!cubic_hystart_active(cc, ca)) {
		/* a loss, the end of CSS, or an ssthresh the core set itself:
		 * the initial slow start is over for good */
		ca->hs.state = CUBIC_HS_DONE;
		return;
	}
	if (rtt_us >= 0)
		cubic_hystart_sample(&ca->hs, rtt_us);
	if (!cubic_seq_before(cc->snd_una, ca->hs.window_end))
		cubic_hystart_round_end(cc, ca);
}

/* Slow start; returns the part of @acked left for congestion avoidance. */
static uint32_t cubic_slow_start(struct tcp_cc_state *cc, struct cubic *ca, uint32_t acked)
{
	/* RFC 9406 §4.3: L = 8 unless paced. This module does not ask for
	 * pacing, so it is paced only if the core paces anyway. */
	uint32_t l = cc->pacing_rate ? UINT32_MAX : HYSTART_L_UNPACED;
	uint32_t n = acked < l ? acked : l;
	uint64_t sum, cwnd;

	if (!cubic_hystart_active(cc, ca))
		return tcp_slow_start(cc, acked);
	if (ca->hs.state == CUBIC_HS_SS) {
		/* §4.2: cwnd += min(N, L * SMSS); ssthresh is infinite, so
		 * nothing is left over */
		tcp_slow_start(cc, n);
		return 0;
	}
	/* §4.2: in CSS, cwnd += min(N, L * SMSS) / CSS_GROWTH_DIVISOR, with
	 * the remainder carried to the next ACK */
	sum = (uint64_t)ca->hs.css_acked + n;
	ca->hs.css_acked = (uint8_t)(sum % HYSTART_CSS_GROWTH_DIVISOR);
	cwnd = cc->snd_cwnd + sum / HYSTART_CSS_GROWTH_DIVISOR;
	cc->snd_cwnd = cwnd < cc->snd_cwnd_clamp ? (uint32_t)cwnd : cc->snd_cwnd_clamp;
	return 0;
}

static void cubic_cong_avoid_ca(struct tcp_cc_state *cc, struct cubic *ca, uint32_t acked)
{
	struct cubic_epoch *e = &ca->cur;
	uint32_t cwnd = cc->snd_cwnd ? cc->snd_cwnd : 1;
	uint64_t w, t, rtt_us, target, limit, alpha, d, inc;

	if (!e->valid)
		cubic_epoch_start(cc, ca);
	w = ((uint64_t)cwnd << CUBIC_W_SHIFT) + ca->cwnd_frac;
	t = cubic_ns_to_t(cc->now_ns > e->start_ns ? cc->now_ns - e->start_ns : 0);
	/* §4.2: never aim beyond 1.5 cwnd, which keeps growth below slow
	 * start's */
	limit = w + (w >> 1);

	/* §4.3, Figure 4: W_est += alpha_cubic * segments_acked / cwnd, with
	 * alpha_cubic = 1 once W_est has reached cwnd_prior */
	alpha = e->w_est >= (uint64_t)e->cwnd_prior << CUBIC_W_SHIFT ? CUBIC_ALPHA_DEN :
								       CUBIC_ALPHA_NUM;
	e->w_est += ((uint64_t)acked * alpha << CUBIC_W_SHIFT) / ((uint64_t)CUBIC_ALPHA_DEN * cwnd);

	if (cubic_w(e, t) < e->w_est) {
		/* §4.3: Reno-friendly region, cwnd = W_est. Linux behaviour:
		 * at most one packet per two acked even here, should cwnd have
		 * fallen below W_est by some other way than a loss (an idle
		 * restart, RFC 7661). */
		target = e->w_est < limit ? e->w_est : limit;
		inc = (uint64_t)acked << (CUBIC_W_SHIFT - 1);
		if (target > w)
			w = target - w < inc ? target : w + inc;
	} else {
		/* §4.4, §4.5: concave below W_max, convex above it; either way
		 * cwnd += (target - cwnd) / cwnd per packet acked, with target
		 * = W_cubic(t + RTT), RTT the smoothed one (§4.2) */
		rtt_us = cc->srtt_us ? cc->srtt_us : cc->min_rtt_us;
		target = cubic_w(e, t + cubic_us_to_t(rtt_us));
		if (target > limit)
			target = limit;
		if (target > w) {
			d = target - w;
			/* d * acked / cwnd without overflow; never past target */
			inc = d / cwnd * acked + d % cwnd * acked / cwnd;
			w += inc < d ? inc : d;
		}
	}

	if ((w >> CUBIC_W_SHIFT) >= cc->snd_cwnd_clamp) {
		cc->snd_cwnd = cc->snd_cwnd_clamp;
		ca->cwnd_frac = 0;
	} else {
		cc->snd_cwnd = (uint32_t)(w >> CUBIC_W_SHIFT);
		ca->cwnd_frac = (uint32_t)(w & ((1u << CUBIC_W_SHIFT) - 1));
	}
}

static void cubic_cong_avoid(struct tcp_cc_state *cc, uint32_t ack, uint32_t acked)
{
	struct cubic *ca = cubic_priv(cc);

	/* RFC 9438 §5.8: no growth while the application limits the flow */
	if (!tcp_is_cwnd_limited(cc))
		return;
	ca->last_grow_ns = cc->now_ns;
	if (cubic_in_slow_start(cc)) {
		acked = cubic_slow_start(cc, ca, acked);
		if (!acked)
			return;
	}
	cubic_cong_avoid_ca(cc, ca, acked);
}

static uint32_t cubic_ssthresh(struct tcp_cc_state *cc)
{
	struct cubic *ca = cubic_priv(cc);
	uint64_t cwnd = (uint64_t)cc->snd_cwnd << CUBIC_W_SHIFT;
	uint64_t ssthresh = (uint64_t)cc->snd_cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN;

	/* §4.9: keep what a spurious congestion event would have us restore */
	ca->prior = ca->cur;
	ca->cur.valid = false;
	/* §4.7: a W_max lower than last time means more flows share the
	 * path; release bandwidth sooner by aiming lower. Always on, as in
	 * Linux (fast_convergence = 1). */
	if (cwnd < ca->cur.w_max)
		ca->cur.w_max = cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) / (2 * CUBIC_BETA_DEN);
	else
		ca->cur.w_max = cwnd;
	ca->cur.cwnd_prior = cc->snd_cwnd;
	/* RFC 9406 §4.2: a loss in slow start or CSS ends HyStart++; what
	 * follows is CUBIC's own reduction */
	ca->hs.state = CUBIC_HS_DONE;
	/* §4.6: ssthresh = cwnd * beta_cubic, at least 2. RFC 9438 prefers
	 * flight_size; like Linux we take cwnd, and tcp_is_cwnd_limited()
	 * is the §4.6 measure that keeps cwnd honest. */
	return ssthresh > 2 ? (uint32_t)ssthresh : 2;
}

static void cubic_cwnd_event(struct tcp_cc_state *cc, enum tcp_ca_event ev)
{
	struct cubic *ca = cubic_priv(cc);

	switch (ev) {
	case CA_EVENT_TX_START:
		/* §5.8, Linux bictcp_cwnd_event: the flow was idle, and t must
		 * not count the idle time or cwnd would jump up the curve on
		 * the first ACK. Linux measures from the last send; the narrow
		 * view has no send time, so we measure from the last ACK on
		 * which cwnd could grow: that also leaves out the last flight
		 * draining, application-limited, as the last send does. */
		if (ca->cur.valid && cc->now_ns > ca->last_grow_ns) {
			ca->cur.start_ns += cc->now_ns - ca->last_grow_ns;
			if (ca->cur.start_ns > cc->now_ns)
				ca->cur.start_ns = cc->now_ns;
		}
		break;
	case CA_EVENT_LOSS:
		/* §4.8: after a timeout the next stage starts with K = 0 and
		 * W_max = the window at its start (ssthresh() already saved
		 * the old W_max for undo) */
		ca->cur.valid = false;
		ca->cur.w_max = 0;
		ca->hs.state = CUBIC_HS_DONE;
		break;
	default:
		break;
	}
}

static uint32_t cubic_undo_cwnd(struct tcp_cc_state *cc)
{
	struct cubic *ca = cubic_priv(cc);

	/* §4.9: restore cwnd, W_max, K, the epoch and W_est if the window is
	 * still below what it was; if it has grown past it since, keep the
	 * current values. ssthresh is the core's to restore. */
	if (cc->snd_cwnd >= cc->prior_cwnd)
		return cc->snd_cwnd;
	ca->cur = ca->prior;
	ca->cwnd_frac = 0;
	return cc->prior_cwnd;
}

const struct tcp_cc_ops tcp_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.ssthresh = cubic_ssthresh,
	.cong_avoid = cubic_cong_avoid,
	.pkts_acked = cubic_pkts_acked,
	.cwnd_event = cubic_cwnd_event,
	.undo_cwnd = cubic_undo_cwnd,
};
