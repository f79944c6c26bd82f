// SPDX-License-Identifier: MIT
/*
 * Congestion control (proto/tcp_cc.c, tcp_reno.c, tcp_cubic.c), driven
 * through struct tcp_cc_ops exactly as the TCP core drives it, by a small
 * sender simulation with a fake clock: a FIFO path of fixed RTT, one ACK per
 * packet, pkts_acked() then cong_avoid() for every ACK (Linux's order), and
 * a sender that refills cwnd after every ACK unless the test makes it
 * application-limited. Sequence numbers start just below 2^32, so every run
 * wraps them.
 *
 * The CUBIC expectations are RFC 9438's formulas evaluated in double
 * precision here, independently of the module's fixed-point arithmetic; the
 * HyStart++ ones follow RFC 9406 §4.2. Tests use no libm (the test binary
 * does not link it): cube roots are Newton's method below.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "proto/tcp_cc.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1 * SEC)
#define MSS 1448u
#define ISN 0xffff0000u
#define RING (1u << 18)

/* RFC 9438 constants, in double */
#define C_CUBIC 0.4
#define BETA_CUBIC 0.7
#define ALPHA_CUBIC (3.0 * (1.0 - BETA_CUBIC) / (1.0 + BETA_CUBIC))

struct sim_pkt {
	uint64_t sent_ns;
	uint64_t arrive_ns;
};

/* Criterion runs each test in its own process: a file-static sim is fine. */
static struct sim {
	struct tcp_cc_state cc;
	const struct tcp_cc_ops *ops;
	struct sim_pkt q[RING];
	uint32_t head, tail; /* packets in flight are q[head..tail) */
	uint64_t now;
	uint64_t rtt_ns; /* path RTT for packets sent from now on */
	uint64_t last_arrive;
	uint32_t app_window; /* 0: fill cwnd; else never more in flight */
	bool app_stopped; /* nothing more to send */
	uint32_t round_end; /* RFC 9406 windowEnd, as the sender sees it */
	uint32_t nxt_at_ack; /* SND.NXT when the last ACK arrived */
} s;

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

static double dcbrt(double x)
{
	double y = x > 1 ? x / 3 : 1;
	int i;

	if (x == 0)
		return 0;
	if (x < 0)
		return -dcbrt(-x);
	for (i = 0; i < 200; i++)
		y = (2 * y + x / (y * y)) / 3;
	return y;
}

static uint32_t in_flight(void)
{
	return s.tail - s.head;
}

static void sim_init(const struct tcp_cc_ops *ops, uint32_t cwnd, uint32_t ssthresh,
		     uint64_t rtt_ns)
{
	memset(&s, 0, sizeof(s));
	s.ops = ops;
	s.now = T0;
	s.rtt_ns = rtt_ns;
	s.cc.snd_cwnd = cwnd;
	s.cc.snd_ssthresh = ssthresh;
	s.cc.snd_cwnd_clamp = UINT32_MAX;
	s.cc.mss = MSS;
	s.cc.snd_una = ISN;
	s.cc.snd_nxt = ISN;
	s.cc.now_ns = s.now;
	s.round_end = ISN;
	if (ops->init)
		ops->init(&s.cc);
}

/* Send @n packets, the first now and the rest spread over @spread_ns. */
static void sim_send(uint32_t n, uint64_t spread_ns)
{
	uint32_t i;

	cr_assert(in_flight() + n < RING, "simulation ring too small");
	for (i = 0; i < n; i++) {
		struct sim_pkt *p = &s.q[s.tail++ % RING];
		uint64_t at = s.now + i * spread_ns / n;

		p->sent_ns = at;
		p->arrive_ns = at + s.rtt_ns;
		/* a FIFO path: nothing overtakes */
		if (p->arrive_ns < s.last_arrive)
			p->arrive_ns = s.last_arrive;
		s.last_arrive = p->arrive_ns;
		s.cc.snd_nxt += MSS;
	}
	s.cc.packets_in_flight = in_flight();
	s.cc.is_cwnd_limited = in_flight() >= s.cc.snd_cwnd;
}

/* What a sender does after an ACK: fill the window, unless the application
 * has less to send. */
static void sim_fill(void)
{
	uint32_t want = s.app_stopped ? 0 : s.cc.snd_cwnd;

	if (s.app_window && s.app_window < want)
		want = s.app_window;
	if (in_flight() < want)
		sim_send(want - in_flight(), 0);
	s.cc.packets_in_flight = in_flight();
	s.cc.is_cwnd_limited = in_flight() >= s.cc.snd_cwnd;
}

/* The next ACK arrives: one packet delivered, with its RTT sample. */
static void sim_ack(void)
{
	struct sim_pkt *p;
	uint64_t rtt_us;

	cr_assert(in_flight() > 0, "nothing in flight to ack");
	p = &s.q[s.head++ % RING];
	s.now = p->arrive_ns;
	rtt_us = (p->arrive_ns - p->sent_ns) / US;
	s.cc.now_ns = s.now;
	s.cc.snd_una += MSS;
	s.cc.delivered++;
	s.cc.srtt_us = s.cc.srtt_us ? (uint32_t)((7 * (uint64_t)s.cc.srtt_us + rtt_us) / 8) :
				      (uint32_t)rtt_us;
	if (!s.cc.min_rtt_us || rtt_us < s.cc.min_rtt_us)
		s.cc.min_rtt_us = (uint32_t)rtt_us;
	s.cc.packets_in_flight = in_flight();
	if (s.ops->pkts_acked)
		s.ops->pkts_acked(&s.cc, 1, (int64_t)rtt_us);
	s.ops->cong_avoid(&s.cc, s.cc.snd_una, 1);
	s.nxt_at_ack = s.cc.snd_nxt;
	sim_fill();
}

/* One RTT of the ACK clock: every packet in flight now gets acked. */
static void sim_flight(void)
{
	uint32_t n = in_flight();

	while (n--)
		sim_ack();
}

/* Run the ACK clock until @until_ns. */
static void sim_run_until(uint64_t until_ns)
{
	while (s.now < until_ns)
		sim_ack();
}

/* Forget the flight (it was recovered, or timed out): all of it is acked. */
static void sim_flush(void)
{
	s.cc.snd_una = s.cc.snd_nxt;
	s.head = s.tail;
	s.last_arrive = 0;
	s.cc.packets_in_flight = 0;
}

/* A loss found by fast retransmit and recovered, as the core does it: the
 * module picks ssthresh, recovery brings cwnd down to it, and the sender
 * starts over with a full window spread over one RTT. */
static void sim_loss(void)
{
	s.cc.prior_cwnd = s.cc.snd_cwnd;
	s.cc.snd_ssthresh = s.ops->ssthresh(&s.cc);
	s.cc.snd_cwnd = s.cc.snd_ssthresh;
	sim_flush();
	sim_send(s.cc.snd_cwnd, s.rtt_ns);
}

/* ---- RFC 9438 in double ---- */

struct cubic_model {
	double w_max, cwnd_epoch, cwnd_prior, k, rtt;
};

static struct cubic_model model(double w_max, double cwnd_epoch, double cwnd_prior, double rtt)
{
	struct cubic_model m = { w_max, cwnd_epoch, cwnd_prior, 0, rtt };

	/* §4.2, Figure 2 */
	m.k = w_max > cwnd_epoch ? dcbrt((w_max - cwnd_epoch) / C_CUBIC) : 0;
	return m;
}

/* §4.2, Figure 1 */
static double w_cubic(const struct cubic_model *m, double t)
{
	double x = t - m->k;

	return C_CUBIC * x * x * x + m->w_max;
}

/* §4.3: W_est grows by alpha_cubic per RTT (cwnd ACKs of alpha/cwnd each),
 * and by 1 per RTT once it has reached cwnd_prior. */
static double w_est(const struct cubic_model *m, double t)
{
	double t1 = (m->cwnd_prior - m->cwnd_epoch) / ALPHA_CUBIC * m->rtt;

	if (t1 <= 0)
		return m->cwnd_epoch + t / m->rtt;
	if (t <= t1)
		return m->cwnd_epoch + ALPHA_CUBIC * t / m->rtt;
	return m->cwnd_prior + (t - t1) / m->rtt;
}

static double since(uint64_t t0)
{
	return (double)(s.now - t0) / SEC;
}

TestSuite(tcp_cc, .timeout = 10);

/* ---- registry ---- */

Test(tcp_cc, find_by_name)
{
	cr_assert_eq(tcp_cc_find("reno"), &tcp_reno_ops);
	cr_assert_eq(tcp_cc_find("cubic"), &tcp_cubic_ops);
	cr_assert_null(tcp_cc_find("no-such-cc"));
	cr_assert_null(tcp_cc_find("cubicx"));
	cr_assert_null(tcp_cc_find("CUBIC"), "names are case-sensitive, as in Linux");
	cr_assert_null(tcp_cc_find(""));
	cr_assert_null(tcp_cc_find(NULL));
}

Test(tcp_cc, name_lists_every_module_once)
{
	bool reno = false, cubic = false;
	unsigned int i, j;
	const char *name;

	for (i = 0; (name = tcp_cc_name(i)); i++) {
		const struct tcp_cc_ops *ops = tcp_cc_find(name);

		cr_assert_not_null(ops, "listed name %s not found", name);
		cr_assert_str_eq(ops->name, name);
		cr_assert_lt(strlen(name), TCP_CC_NAME_MAX);
		/* the contract in tcp_cc.h: these are never NULL */
		cr_assert(ops->ssthresh && ops->undo_cwnd, "%s", name);
		cr_assert(ops->cong_avoid || ops->cong_control, "%s", name);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(tcp_cc_name(j), name, "%s listed twice", name);
		reno |= strcmp(name, "reno") == 0;
		cubic |= strcmp(name, "cubic") == 0;
	}
	cr_assert_geq(i, 2);
	cr_assert(reno && cubic);
	cr_assert_null(tcp_cc_name(i + 1));
	cr_assert_null(tcp_cc_name(UINT32_MAX));
}

/* ---- Reno ---- */

Test(tcp_cc, reno_slow_start_doubles_per_rtt_up_to_ssthresh)
{
	static const uint32_t want[] = { 20, 40, 80, 81, 82, 83 };
	unsigned int i;

	sim_init(&tcp_reno_ops, 10, 80, 100 * MS);
	sim_send(10, 100 * MS);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		sim_flight();
		cr_assert_eq(s.cc.snd_cwnd, want[i], "rtt %u: cwnd %u, want %u", i + 1,
			     s.cc.snd_cwnd, want[i]);
	}
	cr_assert_eq(s.cc.snd_ssthresh, 80);
}

Test(tcp_cc, reno_congestion_avoidance_adds_one_per_rtt)
{
	unsigned int i;

	sim_init(&tcp_reno_ops, 50, 50, 100 * MS);
	sim_send(50, 100 * MS);
	for (i = 1; i <= 10; i++) {
		sim_flight();
		cr_assert_eq(s.cc.snd_cwnd, 50 + i, "rtt %u: cwnd %u", i, s.cc.snd_cwnd);
	}
}

Test(tcp_cc, reno_stretch_ack_leftover_goes_to_congestion_avoidance)
{
	sim_init(&tcp_reno_ops, 10, 16, 100 * MS);
	s.cc.is_cwnd_limited = true;
	cr_assert_eq(tcp_slow_start(&s.cc, 10), 4, "6 of 10 used to reach ssthresh");
	cr_assert_eq(s.cc.snd_cwnd, 16);
	cr_assert_eq(tcp_slow_start(&s.cc, 3), 3, "nothing to do past ssthresh");
	s.cc.snd_cwnd = 10;
	tcp_reno_cong_avoid(&s.cc, 0, 22);
	cr_assert_eq(s.cc.snd_cwnd, 17, "16 from slow start, then 16 acked in CA is one more");
	cr_assert_eq(s.cc.snd_cwnd_cnt, 0);
}

Test(tcp_cc, reno_ssthresh_halves_cwnd_but_not_below_two)
{
	sim_init(&tcp_reno_ops, 100, TCP_INFINITE_SSTHRESH, 100 * MS);
	cr_assert_eq(tcp_reno_ops.ssthresh(&s.cc), 50);
	s.cc.snd_cwnd = 101;
	cr_assert_eq(tcp_reno_ops.ssthresh(&s.cc), 50);
	s.cc.snd_cwnd = 5;
	cr_assert_eq(tcp_reno_ops.ssthresh(&s.cc), 2);
	s.cc.snd_cwnd = 3;
	cr_assert_eq(tcp_reno_ops.ssthresh(&s.cc), 2);
	s.cc.snd_cwnd = 1;
	cr_assert_eq(tcp_reno_ops.ssthresh(&s.cc), 2);
}

Test(tcp_cc, reno_undo_restores_the_larger_of_cwnd_and_prior_cwnd)
{
	sim_init(&tcp_reno_ops, 100, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(100, 100 * MS);
	sim_loss();
	cr_assert_eq(s.cc.snd_cwnd, 50);
	cr_assert_eq(tcp_reno_ops.undo_cwnd(&s.cc), 100);
	s.cc.snd_cwnd = 120;
	cr_assert_eq(tcp_reno_ops.undo_cwnd(&s.cc), 120, "a window grown since is kept");
}

Test(tcp_cc, reno_no_growth_when_not_cwnd_limited)
{
	unsigned int i;

	/* slow start, the application keeping 4 of 10 packets in flight */
	sim_init(&tcp_reno_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	s.app_window = 4;
	sim_send(4, 100 * MS);
	for (i = 0; i < 20; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 10);

	/* congestion avoidance, half the window used */
	sim_init(&tcp_reno_ops, 40, 20, 100 * MS);
	s.app_window = 20;
	sim_send(20, 100 * MS);
	for (i = 0; i < 20; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 40);

	/* the same with the window full does grow: the test above can fail */
	s.app_window = 0;
	for (i = 0; i < 20; i++)
		sim_flight();
	cr_assert_geq(s.cc.snd_cwnd, 59);
}

Test(tcp_cc, cwnd_never_exceeds_the_clamp)
{
	unsigned int i;

	sim_init(&tcp_reno_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	s.cc.snd_cwnd_clamp = 30;
	sim_send(10, 100 * MS);
	for (i = 0; i < 4; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 30, "reno slow start");
	s.cc.snd_ssthresh = 20;
	for (i = 0; i < 4; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 30, "reno congestion avoidance");

	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	s.cc.snd_cwnd_clamp = 30;
	sim_send(10, 100 * MS);
	for (i = 0; i < 4; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 30, "cubic slow start");
	sim_init(&tcp_cubic_ops, 100, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(100, 100 * MS);
	sim_loss();
	s.cc.snd_cwnd_clamp = 75;
	sim_run_until(s.now + 12 * SEC);
	cr_assert_eq(s.cc.snd_cwnd, 75, "cubic congestion avoidance");
}

/* ---- CUBIC ---- */

Test(tcp_cc, cubic_loss_sets_ssthresh_to_beta_cwnd)
{
	sim_init(&tcp_cubic_ops, 100, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(100, 100 * MS);
	sim_loss();
	cr_assert_eq(s.cc.snd_ssthresh, 70, "RFC 9438 §4.6: cwnd * 0.7");
	s.cc.snd_cwnd = 2;
	cr_assert_eq(tcp_cubic_ops.ssthresh(&s.cc), 2, "at least 2");
	s.cc.snd_cwnd = 1000;
	cr_assert_eq(tcp_cubic_ops.ssthresh(&s.cc), 700);
	s.cc.snd_cwnd = 0x7fffffffu;
	cr_assert_eq(tcp_cubic_ops.ssthresh(&s.cc), 1503238552u, "no overflow");
}

/*
 * The whole congestion-avoidance stage after a loss at W_max = 100 with RTT
 * 100 ms: cwnd against RFC 9438's window, max(W_cubic(t), W_est(t)) (§4.2,
 * §4.3), over 12 s. Here the Reno-friendly region takes over for a while
 * around the plateau (t = 6..8 s), so the model has both parts.
 */
Test(tcp_cc, cubic_window_follows_rfc9438_after_loss)
{
	const double rtt = 0.1;
	struct cubic_model m;
	double worst = 0, worst_t = 0, worst_pkts = 0, over = -1e9;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 100, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(100, 100 * MS);
	sim_loss();
	cr_assert_eq(s.cc.snd_cwnd, 70);
	m = model(100, 70, 100, rtt);
	sim_ack(); /* the first ACK in congestion avoidance starts the epoch */
	t0 = s.now;
	while (s.now - t0 < 12 * SEC) {
		double t, want, target, diff;

		sim_ack();
		t = since(t0);
		want = dmax(w_cubic(&m, t), w_est(&m, t));
		/* §4.2: cwnd heads for target = W_cubic(t + RTT) (or W_est) */
		target = dmax(w_cubic(&m, t + rtt), w_est(&m, t));
		if (s.cc.snd_cwnd - target > over)
			over = s.cc.snd_cwnd - target;
		cr_assert_leq(s.cc.snd_cwnd, target + 1, "t %.3f: cwnd %u above target %.2f", t,
			      s.cc.snd_cwnd, target);
		/* cwnd is whole packets: allow the one it may have been
		 * rounded down by, and 1% on top */
		diff = dabs(s.cc.snd_cwnd - want);
		cr_assert_leq(diff, 1 + 0.01 * want, "t %.3f: cwnd %u, RFC 9438 %.2f", t,
			      s.cc.snd_cwnd, want);
		if (diff > worst_pkts)
			worst_pkts = diff;
		if (t >= 1 && diff / want > worst) {
			worst = diff / want;
			worst_t = t;
		}
	}
	cr_log_info("cubic W_max 100 RTT 100 ms: |cwnd - W| at most %.2f packets; after 1 s at "
		    "most %.2f%% (t %.2f s); cwnd - target at most %.2f packets",
		    worst_pkts, 100 * worst, worst_t, over);
	cr_assert_lt(worst, 0.015, "cwnd %.2f%% off RFC 9438 at t %.2f s", 100 * worst, worst_t);
	cr_assert_gt(s.cc.snd_cwnd, 280, "convex growth past W_max by t = 12 s");
}

/*
 * K (RFC 9438 §4.2, Figure 2), measured on the window: W_cubic is point-
 * symmetric about (K, W_max), so the mid-point of the times cwnd crosses
 * W_max - 50 and W_max + 50 is K. W_max = 1000 keeps the Reno-friendly
 * region out of the way.
 */
static double measure_k(double w_max, uint64_t t0, double *plateau)
{
	double t_lo = -1, t_hi = -1;

	*plateau = -1;
	while (t_hi < 0) {
		sim_ack();
		cr_assert_lt(since(t0), 30, "cwnd never reached W_max + 50");
		if (t_lo < 0 && s.cc.snd_cwnd >= w_max - 50)
			t_lo = since(t0);
		if (t_lo >= 0 && s.cc.snd_cwnd >= w_max + 50)
			t_hi = since(t0);
		if (*plateau < 0 && t_lo >= 0 && since(t0) >= t_lo + dcbrt(50 / C_CUBIC))
			*plateau = s.cc.snd_cwnd;
	}
	return (t_lo + t_hi) / 2;
}

Test(tcp_cc, cubic_k_is_rfc9438_figure_2)
{
	struct cubic_model m;
	double k, plateau;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	sim_loss();
	cr_assert_eq(s.cc.snd_cwnd, 700);
	m = model(1000, 700, 1000, 0.1);
	sim_ack();
	t0 = s.now;
	k = measure_k(1000, t0, &plateau);
	cr_log_info("cubic K: measured %.4f s, RFC 9438 %.4f s; plateau %.1f", k, m.k, plateau);
	cr_assert_lt(dabs(k - m.k) / m.k, 0.01, "K %.4f s, want %.4f s", k, m.k);
	cr_assert_lt(dabs(plateau - 1000) / 1000, 0.01, "plateau %.1f, want 1000", plateau);
}

Test(tcp_cc, cubic_fast_convergence_lowers_w_max)
{
	struct cubic_model m;
	double k, plateau, w_max;
	uint32_t cwnd, ssthresh;
	uint64_t t0;

	/* a first loss at 1000, then another before the window gets back */
	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	sim_loss();
	while (s.cc.snd_cwnd < 900)
		sim_ack();
	cwnd = s.cc.snd_cwnd;
	sim_loss();
	ssthresh = cwnd * 7 / 10;
	cr_assert_eq(s.cc.snd_ssthresh, ssthresh, "ssthresh %u, want %u", s.cc.snd_ssthresh,
		     ssthresh);

	/* §4.7: W_max = cwnd * (1 + beta_cubic) / 2, and K from it (§4.2) */
	w_max = cwnd * (1 + BETA_CUBIC) / 2;
	m = model(w_max, ssthresh, cwnd, 0.1);
	sim_ack();
	t0 = s.now;
	k = measure_k(w_max, t0, &plateau);
	cr_log_info("fast convergence: loss at %u, W_max %.1f; plateau %.1f; K %.4f s, want "
		    "%.4f s",
		    cwnd, w_max, plateau, k, m.k);
	cr_assert_lt(dabs(plateau - w_max) / w_max, 0.01, "plateau %.1f, want %.1f", plateau,
		     w_max);
	cr_assert_lt(dabs(k - m.k) / m.k, 0.01, "K %.4f s, want %.4f s", k, m.k);
}

Test(tcp_cc, cubic_concave_below_w_max_convex_above)
{
	double k = dcbrt(300 / C_CUBIC);
	uint32_t grow[16], prev;
	uint64_t t0;
	unsigned int i;

	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	sim_loss();
	sim_ack();
	t0 = s.now;
	prev = s.cc.snd_cwnd;
	/* growth over each second: falling to the plateau, then rising */
	for (i = 0; i < 16; i++) {
		sim_run_until(t0 + (i + 1) * SEC);
		grow[i] = s.cc.snd_cwnd - prev;
		prev = s.cc.snd_cwnd;
		if (i + 1 < k - 0.5 || i > k + 0.5)
			continue;
		cr_assert_lt(dabs(s.cc.snd_cwnd - 1000.0), 6, "t %u s: cwnd %u at the plateau",
			     i + 1, s.cc.snd_cwnd);
	}
	for (i = 1; i < 16; i++) {
		if (i + 1 <= k)
			cr_assert_lt(grow[i], grow[i - 1], "concave: second %u grew %u, then %u", i,
				     grow[i - 1], grow[i]);
		else if (i >= k + 1)
			cr_assert_gt(grow[i], grow[i - 1], "convex: second %u grew %u, then %u", i,
				     grow[i - 1], grow[i]);
	}
}

/*
 * Short RTT, small W_max: W_cubic barely moves in a second while Reno would
 * add 1000 packets, so the Reno-friendly region (§4.3) rules and cwnd is
 * W_est: alpha_cubic per RTT up to cwnd_prior, then one per RTT.
 */
Test(tcp_cc, cubic_reno_friendly_region_at_small_rtt)
{
	const double rtt = 0.001;
	struct cubic_model m;
	double worst = 0, worst_pkts = 0;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 20, TCP_INFINITE_SSTHRESH, 1 * MS);
	sim_send(20, 1 * MS);
	sim_loss();
	cr_assert_eq(s.cc.snd_cwnd, 14);
	m = model(20, 14, 20, rtt);
	sim_ack();
	t0 = s.now;
	while (s.now - t0 < 300 * MS) {
		double t, want, diff;

		sim_ack();
		t = since(t0);
		want = w_est(&m, t);
		diff = dabs(s.cc.snd_cwnd - want);
		cr_assert_leq(diff, 1 + 0.01 * want, "t %.4f: cwnd %u, W_est %.2f", t,
			      s.cc.snd_cwnd, want);
		if (diff > worst_pkts)
			worst_pkts = diff;
		if (t >= 0.1 && diff / want > worst)
			worst = diff / want;
	}
	cr_log_info("cubic Reno-friendly, RTT 1 ms: cwnd %u, W_est %.1f, W_cubic %.1f; |cwnd - "
		    "W_est| at most %.2f packets, after 100 ms at most %.2f%%",
		    s.cc.snd_cwnd, w_est(&m, since(t0)), w_cubic(&m, since(t0)), worst_pkts,
		    100 * worst);
	cr_assert_lt(worst, 0.015, "cwnd %.2f%% off W_est", 100 * worst);
	cr_assert_gt(s.cc.snd_cwnd, 10 * w_cubic(&m, since(t0) + rtt),
		     "W_est, not W_cubic, sets the pace");
}

/* An idle period (§5.8): the application stops, the flight drains, and ten
 * seconds later sends again. With TX_START the epoch moves on by the idle
 * time and cwnd continues the curve; without it, t jumps by 10 s and cwnd
 * leaps by half a window in one RTT. */
static uint32_t idle_then_resume(bool tx_start)
{
	uint32_t before;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	sim_loss();
	sim_ack();
	t0 = s.now;
	sim_run_until(t0 + 3 * SEC);

	s.app_stopped = true; /* nothing more to send: the flight drains */
	while (in_flight())
		sim_ack();
	before = s.cc.snd_cwnd;
	s.now += 10 * SEC;
	s.cc.now_ns = s.now;
	if (tx_start)
		s.ops->cwnd_event(&s.cc, CA_EVENT_TX_START);
	s.app_stopped = false;
	sim_send(s.cc.snd_cwnd, 100 * MS);
	sim_flight();
	return s.cc.snd_cwnd - before;
}

Test(tcp_cc, cubic_idle_period_shifts_the_epoch)
{
	uint32_t with = idle_then_resume(true);
	uint32_t without = idle_then_resume(false);

	cr_log_info("cubic after 10 s idle: +%u packets in the first flight with TX_START, +%u "
		    "without",
		    with, without);
	/* At t = 3 s the curve climbs about 4.4 packets per RTT. The first
	 * flight takes one RTT to be acked and its ACKs another, so about
	 * 9 packets; t running through the idle time would give 1.5 cwnd. */
	cr_assert_leq(with, 12, "cwnd grew %u in the first flight after idle", with);
	cr_assert_geq(without, 50, "the control run should jump (grew %u)", without);
}

/* §4.2: target is at most 1.5 cwnd. Thirty seconds idle with no TX_START
 * puts W_cubic(t + RTT) at several thousand packets; cwnd may still only
 * grow by half in one RTT. */
Test(tcp_cc, cubic_target_is_at_most_one_and_a_half_cwnd)
{
	uint32_t before;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	sim_loss();
	sim_ack();
	t0 = s.now;
	sim_run_until(t0 + 3 * SEC);
	s.app_stopped = true;
	while (in_flight())
		sim_ack();
	s.app_stopped = false;
	s.now += 30 * SEC;
	before = s.cc.snd_cwnd;
	sim_send(before, 100 * MS);
	sim_flight();
	cr_assert_leq(s.cc.snd_cwnd, before * 3 / 2 + 1, "cwnd %u -> %u in one RTT", before,
		      s.cc.snd_cwnd);
	cr_assert_geq(s.cc.snd_cwnd, before * 3 / 2 - 2, "cwnd %u -> %u: the bound, not less",
		      before, s.cc.snd_cwnd);
}

/* RFC 9438 §5.8: no growth while the application, not cwnd, limits the
 * flow, in slow start (HyStart++) and in congestion avoidance alike. */
Test(tcp_cc, cubic_no_growth_when_application_limited)
{
	unsigned int i;

	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	s.app_window = 4;
	sim_send(4, 100 * MS);
	for (i = 0; i < 20; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 10);

	sim_init(&tcp_cubic_ops, 200, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(200, 100 * MS);
	sim_loss();
	s.app_window = 100;
	sim_run_until(s.now + 10 * SEC);
	cr_assert_eq(s.cc.snd_cwnd, 140);
	/* the control: filling the window, it grows */
	s.app_window = 0;
	sim_run_until(s.now + 1 * SEC);
	cr_assert_gt(s.cc.snd_cwnd, 140);
}

Test(tcp_cc, cubic_undo_restores_the_previous_epoch)
{
	struct cubic_model m;
	uint32_t cwnd;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	sim_loss();
	m = model(1000, 700, 1000, 0.1);
	sim_ack();
	t0 = s.now;
	sim_run_until(t0 + 3 * SEC);

	/* a spurious loss at about 930 < W_max: without undo, W_max would
	 * drop to 0.85 cwnd (§4.7) and the epoch restart */
	cwnd = s.cc.snd_cwnd;
	s.cc.prior_cwnd = cwnd;
	s.cc.snd_ssthresh = s.ops->ssthresh(&s.cc);
	s.cc.snd_cwnd = s.cc.snd_ssthresh;
	cr_assert_eq(s.ops->undo_cwnd(&s.cc), cwnd, "§4.9: cwnd = prior_cwnd");
	s.cc.snd_cwnd = cwnd;
	s.cc.snd_ssthresh = 700;

	/* §4.9: W_max, K, the epoch and W_est come back too: the window goes
	 * on along the first curve */
	sim_run_until(t0 + 12 * SEC);
	cr_assert_lt(dabs(s.cc.snd_cwnd - w_cubic(&m, since(t0))) / w_cubic(&m, since(t0)), 0.02,
		     "t %.2f s: cwnd %u, first curve %.1f", since(t0), s.cc.snd_cwnd,
		     w_cubic(&m, since(t0)));

	/* grown past prior_cwnd since: keep what we have */
	s.cc.prior_cwnd = s.cc.snd_cwnd - 100;
	cr_assert_eq(s.ops->undo_cwnd(&s.cc), s.cc.snd_cwnd);
}

Test(tcp_cc, cubic_timeout_restarts_with_k_zero)
{
	uint32_t start;
	uint64_t t0;

	sim_init(&tcp_cubic_ops, 1000, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(1000, 100 * MS);
	/* RTO: ssthresh, then CA_EVENT_LOSS, a loss window of 1 */
	s.cc.prior_cwnd = s.cc.snd_cwnd;
	s.cc.snd_ssthresh = s.ops->ssthresh(&s.cc);
	s.ops->cwnd_event(&s.cc, CA_EVENT_LOSS);
	cr_assert_eq(s.cc.snd_ssthresh, 700);
	s.cc.snd_cwnd = 1;
	sim_flush();
	sim_send(1, 0);
	while (s.cc.snd_cwnd < s.cc.snd_ssthresh)
		sim_ack();
	/* §4.8: K = 0 and W_max = the window at the start of CA, so the
	 * window rises convex from there, not concave towards the old 1000 */
	start = s.cc.snd_cwnd;
	t0 = s.now;
	sim_run_until(t0 + 1 * SEC);
	cr_assert_leq(s.cc.snd_cwnd - start, 12, "first second +%u: convex from W_max = %u",
		      s.cc.snd_cwnd - start, start);
}

/* ---- HyStart++ (RFC 9406) ---- */

static double flight_growth(void)
{
	uint32_t before = s.cc.snd_cwnd;

	sim_flight();
	return (double)s.cc.snd_cwnd / before;
}

/*
 * One round as RFC 9406 §4.2 counts them: it ends with the ACK of windowEnd,
 * and windowEnd is then SND.NXT (before the sender answers that ACK).
 * Returns the growth of cwnd per packet acked in the round: 1 in slow
 * start, 1/CSS_GROWTH_DIVISOR in CSS, about 1/cwnd in congestion
 * avoidance.
 */
static double sim_round(void)
{
	uint32_t before = s.cc.snd_cwnd, acks = 0;

	do {
		sim_ack();
		acks++;
	} while ((int32_t)(s.cc.snd_una - s.round_end) < 0);
	s.round_end = s.nxt_at_ack;
	return ((double)s.cc.snd_cwnd - before) / acks;
}

Test(tcp_cc, hystart_flat_rtt_keeps_slow_start)
{
	unsigned int i;
	double g;

	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(10, 100 * MS);
	for (i = 0; i < 11; i++) {
		g = flight_growth();
		cr_assert_eq(g, 2.0, "rtt %u: grew x%.3f", i + 1, g);
	}
	cr_assert_eq(s.cc.snd_cwnd, 20480);
	cr_assert_eq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH);
}

Test(tcp_cc, cubic_slow_start_stops_at_ssthresh)
{
	static const uint32_t want[] = { 20, 40, 80, 100 };
	unsigned int i;

	sim_init(&tcp_cubic_ops, 10, 100, 100 * MS);
	sim_send(10, 100 * MS);
	for (i = 0; i < 4; i++) {
		sim_flight();
		cr_assert_eq(s.cc.snd_cwnd, want[i]);
	}
	cr_assert_lt(flight_growth(), 1.05, "congestion avoidance after ssthresh");
	cr_assert_eq(s.cc.snd_ssthresh, 100);
}

/* Slow start with a flat RTT of 100 ms for @flat rounds, then the path RTT
 * rises by @up_ns; returns the round in which growth per ACK fell below 1
 * (CSS began), or -1 if it had not by round @max. */
static int hystart_until_css(unsigned int flat, uint64_t up_ns, unsigned int max)
{
	unsigned int i;
	double g;

	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(10, 100 * MS);
	for (i = 0; i < flat; i++)
		cr_assert_eq(sim_round(), 1.0, "flat RTT, round %u", i);
	s.rtt_ns += up_ns;
	for (; i < max; i++) {
		g = sim_round();
		cr_assert_eq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH);
		if (g < 1) {
			cr_assert_gt(g, 0.25, "CSS began within round %u: %.3f per ACK", i, g);
			return (int)i;
		}
	}
	return -1;
}

Test(tcp_cc, hystart_rtt_increase_enters_css_then_congestion_avoidance)
{
	unsigned int i;
	double g;

	/* +20 ms over 100 ms: RttThresh = max(4, min(100 / 8, 16)) = 12.5 ms */
	cr_assert_geq(hystart_until_css(6, 20 * MS, 12), 0, "no CSS after +20 ms");
	/* §4.2: the round CSS began in is the first of CSS_ROUNDS; in the
	 * others cwnd grows by a quarter of what slow start would */
	for (i = 2; i <= 5; i++) {
		cr_assert_eq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH, "CSS round %u", i);
		g = sim_round();
		cr_assert(g > 0.24 && g < 0.26, "CSS round %u: %.4f per ACK, want 1/4", i, g);
	}
	/* §4.2: after CSS_ROUNDS, ssthresh = cwnd: congestion avoidance */
	cr_assert_neq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH, "still in CSS after 5 rounds");
	cr_assert(s.cc.snd_cwnd >= s.cc.snd_ssthresh && s.cc.snd_cwnd <= s.cc.snd_ssthresh + 1,
		  "ssthresh %u, cwnd %u", s.cc.snd_ssthresh, s.cc.snd_cwnd);
	for (i = 0; i < 5; i++) {
		g = sim_round();
		cr_assert_lt(g, 0.05, "congestion avoidance: %.3f per ACK", g);
	}
}

Test(tcp_cc, hystart_small_rtt_increase_is_not_enough)
{
	int i;

	/* +10 ms < RttThresh 12.5 ms: slow start goes on */
	cr_assert_eq(hystart_until_css(6, 10 * MS, 12), -1);
	cr_assert_eq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH);

	/* a 20 ms base: RttThresh is MIN_RTT_THRESH, 4 ms */
	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 20 * MS);
	sim_send(10, 20 * MS);
	sim_round();
	sim_round();
	s.rtt_ns += 3 * MS;
	for (i = 0; i < 6; i++)
		cr_assert_eq(sim_round(), 1.0, "+3 ms < 4 ms, round %d", i);
	/* 23 ms is lastRoundMinRTT now; 28 ms is 5 ms above it */
	s.rtt_ns += 5 * MS;
	for (i = 0; i < 3; i++)
		sim_round();
	cr_assert_lt(sim_round(), 0.3, "+5 ms > 4 ms: CSS");
}

Test(tcp_cc, hystart_rtt_drop_below_baseline_resumes_slow_start)
{
	unsigned int i;
	double g;

	cr_assert_geq(hystart_until_css(4, 20 * MS, 10), 0);
	/* back to the old RTT, which is below cssBaselineMinRtt: CSS was a
	 * false alarm, and slow start resumes (§4.2) */
	s.rtt_ns -= 20 * MS;
	for (i = 0; i < 3 && (g = sim_round()) < 1; i++)
		cr_assert_eq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH);
	cr_assert_lt(i, 3, "still in CSS three rounds after the RTT fell back");
	/* slow start again, and well past CSS_ROUNDS with no exit */
	for (i = 0; i < 6; i++) {
		g = sim_round();
		cr_assert_eq(g, 1.0, "slow start again, round %u: %.3f per ACK", i, g);
	}
	cr_assert_eq(s.cc.snd_ssthresh, TCP_INFINITE_SSTHRESH);
}

Test(tcp_cc, hystart_loss_in_css_is_a_cubic_reduction)
{
	uint32_t cwnd, ssthresh;
	unsigned int i;

	cr_assert_geq(hystart_until_css(4, 20 * MS, 10), 0);
	sim_round();
	/* §4.2: a loss in CSS means congestion avoidance as CUBIC says */
	cwnd = s.cc.snd_cwnd;
	sim_loss();
	ssthresh = cwnd * 7 / 10;
	cr_assert_eq(s.cc.snd_ssthresh, ssthresh);
	/* and CSS does not come back to set ssthresh = cwnd later */
	for (i = 0; i < 8; i++) {
		cr_assert_lt(flight_growth(), 1.05);
		cr_assert_eq(s.cc.snd_ssthresh, ssthresh, "flight %u", i);
	}
}

Test(tcp_cc, hystart_timeout_in_slow_start_then_standard_slow_start)
{
	unsigned int i;

	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	sim_send(10, 100 * MS);
	for (i = 0; i < 4; i++)
		sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 160);
	/* RTO in slow start */
	s.cc.prior_cwnd = s.cc.snd_cwnd;
	s.cc.snd_ssthresh = s.ops->ssthresh(&s.cc);
	s.ops->cwnd_event(&s.cc, CA_EVENT_LOSS);
	cr_assert_eq(s.cc.snd_ssthresh, 112);
	s.cc.snd_cwnd = 1;
	sim_flush();
	sim_send(1, 0);
	/* §4.2: HyStart++ was for the initial slow start; this one doubles
	 * to ssthresh whatever the RTT does */
	s.rtt_ns += 50 * MS;
	for (i = 0; i < 6; i++)
		cr_assert_eq(flight_growth(), 2.0, "flight %u", i);
	sim_flight();
	cr_assert_eq(s.cc.snd_cwnd, 112);
	cr_assert_eq(s.cc.snd_ssthresh, 112);
}

Test(tcp_cc, hystart_limits_slow_start_per_ack_when_not_paced)
{
	/* RFC 9406 §4.3: L = 8 unless paced */
	sim_init(&tcp_cubic_ops, 10, TCP_INFINITE_SSTHRESH, 100 * MS);
	s.cc.is_cwnd_limited = true;
	s.cc.snd_una += 16 * MSS;
	s.ops->pkts_acked(&s.cc, 16, 100000);
	s.ops->cong_avoid(&s.cc, s.cc.snd_una, 16);
	cr_assert_eq(s.cc.snd_cwnd, 18);

	s.cc.pacing_rate = 10000000;
	s.ops->cong_avoid(&s.cc, s.cc.snd_una, 16);
	cr_assert_eq(s.cc.snd_cwnd, 34, "paced: L is infinite");

	/* past the initial slow start there is no L (Linux tcp_slow_start) */
	s.cc.pacing_rate = 0;
	s.cc.snd_ssthresh = 1000;
	s.ops->pkts_acked(&s.cc, 16, 100000);
	s.ops->cong_avoid(&s.cc, s.cc.snd_una, 16);
	cr_assert_eq(s.cc.snd_cwnd, 50);
}
