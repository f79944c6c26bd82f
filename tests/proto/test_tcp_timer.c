// SPDX-License-Identifier: MIT
/*
 * The retransmission timer (RFC 6298 with Linux's choices, net/ipv4/
 * tcp_timer.c): RTO from RTT samples, Karn's rule and its timestamp
 * exception (RFC 7323 §4), exponential backoff between TCP_RTO_MIN (200 ms)
 * and TCP_RTO_MAX (120 s), restart on new ACKs, the 3 s fallback after a
 * handshake without RTT sample (RFC 6298 §5.7), giving up with ETIMEDOUT
 * after tcp_retries2, and undoing a spurious RTO with timestamps (RFC 3522
 * Eifel detection). Retransmissions carry the original bytes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "harness_tcp_data.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(tcp_timer, .init = setup, .fini = teardown, .timeout = 20);

static void peer_ack(struct h_conn *c, uint32_t ack)
{
	h_send(&h, c, SEG(.flags = TH_ACK, .seq = 1, .ack = ack));
}

/* The next frame leaves @interval after the last timer event or input
 * (to the wheel's tick), not earlier. */
static void wait_interval_at(uint64_t interval, const char *file, int line)
{
	uint64_t dt = hd_wait_frame(&h, interval + HD_TICK);

	cr_assert(dt != UINT64_MAX, "%s:%d: nothing sent within %" PRIu64 " us", file, line,
		  interval / US);
	cr_assert(dt >= interval, "%s:%d: sent after %" PRIu64 " us, before %" PRIu64 " us", file,
		  line, dt / US, interval / US);
}
#define wait_interval(i) wait_interval_at((i), __FILE__, __LINE__)

/* RFC 6298 §2.2-2.4 in microseconds, with Linux's lower bound on the
 * variance term (TCP_RTO_MIN instead of the clock granularity G). */
static uint32_t rfc6298_rto(uint32_t srtt, uint32_t rttvar)
{
	return srtt + (4 * rttvar > TCP_RTO_MIN_US ? 4 * rttvar : TCP_RTO_MIN_US);
}

/* --- RTO from RTT samples (RFC 6298 §2) ----------------------------------------------- */

HTest(tcp_timer, first_and_second_rtt_samples_follow_rfc6298)
{
	const uint32_t r1 = 100000, r2 = 200000; /* us */
	struct h_conn c = hd_establish_rtt(&h, 0, r1 * US);
	struct tcp_info_lite i = hd_info(&h, &c);
	uint32_t srtt, rttvar;

	/* §2.2: the first measurement R: SRTT = R, RTTVAR = R/2. */
	cr_assert_eq(i.rtt_us, r1);
	cr_assert_eq(i.rttvar_us, r1 / 2);
	cr_assert_eq(i.rto_us, rfc6298_rto(r1, r1 / 2));
	/* §2.3: the next one, with alpha 1/8 and beta 1/4. */
	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	h_advance(&h, r2 * US);
	peer_ack(&c, 101);
	rttvar = (3 * (r1 / 2) + (r2 - r1)) / 4;
	srtt = (7 * r1 + r2) / 8;
	i = hd_info(&h, &c);
	cr_assert_eq(i.rtt_us, srtt);
	cr_assert_eq(i.rttvar_us, rttvar);
	cr_assert_eq(i.rto_us, rfc6298_rto(srtt, rttvar));
	h_expect_nothing(&h);
}

HTest(tcp_timer, rto_never_goes_below_200_ms)
{
	/* A 1 ms path: RFC 6298 would give 1 ms + 4 * 0.5 ms; Linux keeps
	 * the variance term at TCP_RTO_MIN. */
	struct h_conn c = hd_establish_rtt(&h, 0, 1 * MS);
	struct tcp_info_lite i = hd_info(&h, &c);

	cr_assert_eq(i.rto_us, i.rtt_us + TCP_RTO_MIN_US);
	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	wait_interval(i.rto_us * US);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	peer_ack(&c, 101);
	h_expect_nothing(&h);
}

/* --- retransmission and backoff (RFC 6298 §5) ---------------------------------------------- */

HTest(tcp_timer, retransmissions_back_off_exponentially_up_to_120_s)
{
	struct h_conn c = hd_establish_rtt(&h, 0, 100 * MS);
	const uint64_t rto = hd_info(&h, &c).rto_us;
	struct h_frame orig, again;
	uint64_t interval = rto;

	hd_write(&h, &c, 0, 500);
	hd_expect_data_at(&h, &c, TH_ACK | TH_PSH, 1, 500, 1, &orig, __FILE__, __LINE__);
	for (unsigned int k = 0; k < 12; k++) {
		/* §5.5: double the RTO each time, §2.5: up to a maximum
		 * (Linux TCP_RTO_MAX, 120 s). */
		wait_interval(interval * US);
		hd_expect_data_at(&h, &c, TH_ACK | TH_PSH, 1, 500, 1, &again, __FILE__, __LINE__);
		cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), k + 1);
		cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), k + 1);
		cr_assert_eq(hd_info(&h, &c).retransmits, k + 1);
		cr_assert_eq(hd_info(&h, &c).backoff, k + 1);
		interval = interval * 2 > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : interval * 2;
		cr_assert_eq(hd_info(&h, &c).rto_us, interval);
	}
	cr_assert_eq(interval, TCP_RTO_MAX_US, "the cap was reached");
	/* The retransmission is the original segment again: the retransmit
	 * queue keeps the payload (shared with the first transmission). */
	{
		struct h_tcp_info a, b;

		cr_assert(h_parse_seg(&orig, &a) && h_parse_seg(&again, &b));
		cr_assert_eq(a.seq, b.seq);
		cr_assert_eq(a.len, b.len);
		cr_assert_eq(memcmp(a.payload, b.payload, a.len), 0);
	}
	peer_ack(&c, 501);
	h_advance(&h, 2 * TCP_RTO_MAX_US * US);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	cr_assert_eq(hd_info(&h, &c).unacked, 0);
}

HTest(tcp_timer, a_new_ack_restarts_the_timer)
{
	struct h_conn c = hd_establish_rtt(&h, 0, 100 * MS);
	const uint32_t mss = c.tp->mss_cache;
	uint32_t rto;

	hd_write(&h, &c, 0, 2 * mss);
	hd_expect_data(&h, &c, TH_ACK, 1, mss, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + mss, mss, 1);
	/* RFC 6298 §5.3: an ACK of new data restarts the timer with the
	 * current RTO: the second segment is resent RTO after this ACK,
	 * not RTO after it was sent. */
	h_advance(&h, 250 * MS);
	peer_ack(&c, 1 + mss);
	h_expect_nothing(&h);
	rto = hd_info(&h, &c).rto_us;
	cr_assert_gt(rto, 250000u, "this test wants an RTO above the ACK's delay");
	wait_interval((uint64_t)rto * US);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + mss, mss, 1);
	peer_ack(&c, 1 + 2 * mss);
	h_expect_nothing(&h);
}

/* --- Karn's rule (RFC 6298 §3) and timestamps (RFC 7323 §4) ------------------------------------- */

HTest(tcp_timer, no_rtt_sample_from_a_retransmitted_segment)
{
	struct h_conn c = hd_establish_rtt(&h, 0, 100 * MS);
	struct tcp_info_lite before = hd_info(&h, &c), i;

	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	wait_interval((uint64_t)before.rto_us * US);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	/* Which transmission does this ACK answer? Without timestamps
	 * nobody knows: no sample, and the backed-off RTO stays (§5.7). */
	h_advance(&h, 30 * MS);
	peer_ack(&c, 101);
	i = hd_info(&h, &c);
	cr_assert_eq(i.rtt_us, before.rtt_us);
	cr_assert_eq(i.rttvar_us, before.rttvar_us);
	cr_assert_eq(i.rto_us, 2 * before.rto_us);
	/* The next unambiguous sample, of the same RTT, brings the RTO back
	 * (and the backoff to zero, Linux tcp_ack_update_rtt). */
	hd_write(&h, &c, 100, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 101, 100, 1);
	h_advance(&h, 100 * MS);
	peer_ack(&c, 201);
	i = hd_info(&h, &c);
	cr_assert_eq(i.rtt_us, before.rtt_us);
	cr_assert_eq(i.rto_us, before.rto_us);
	cr_assert_eq(i.backoff, 0);
	h_expect_nothing(&h);
}

HTest(tcp_timer, timestamps_give_a_sample_for_a_retransmission)
{
	struct h_conn c = hd_establish_rtt(&h, H_TS, 100 * MS);
	struct tcp_info_lite before = hd_info(&h, &c), i;

	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	wait_interval((uint64_t)before.rto_us * US);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	/* The ACK echoes the retransmission's TSval (the harness echoes
	 * the last one usnet sent): RTT 100 ms, unambiguous (RFC 7323 §4). */
	h_advance(&h, 100 * MS);
	peer_ack(&c, 101);
	i = hd_info(&h, &c);
	cr_assert_eq(i.rtt_us, before.rtt_us);
	cr_assert_eq(i.backoff, 0);
	cr_assert_lt(i.rto_us, 2 * before.rto_us, "RTO %u still backed off", i.rto_us);
	/* A needed retransmission: nothing to undo. */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_UNDO), 0);
	h_expect_nothing(&h);
}

HTest(tcp_timer, spurious_rto_is_undone_with_timestamps)
{
	/* Without SACK, so that no tail loss probe comes first. */
	struct h_conn c = hd_establish_rtt(&h, H_TS, 100 * MS);
	struct tcp_info_lite before = hd_info(&h, &c), i;
	uint32_t sent_ts;

	hd_write(&h, &c, 0, 100);
	sent_ts = h_ts(&h);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	wait_interval((uint64_t)before.rto_us * US);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	i = hd_info(&h, &c);
	cr_assert_eq(i.ca_state, TCP_CA_Loss);
	cr_assert_eq(i.snd_cwnd, 1, "RFC 5681 §3.1: LW = 1 after an RTO");
	/* The ACK echoes the first transmission's TSval: the original
	 * arrived, the path was only slow (RFC 3522): undo. */
	h_advance(&h, 20 * MS);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .ts = true, .ts_val = h_ts(&h),
		   .ts_ecr = sent_ts));
	i = hd_info(&h, &c);
	cr_assert_geq(i.snd_cwnd, before.snd_cwnd, "cwnd %u not restored", i.snd_cwnd);
	cr_assert_eq(i.snd_ssthresh, before.snd_ssthresh);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_UNDO), 1);
	h_expect_nothing(&h);
}

/* --- RFC 6298 §5.7: a handshake without RTT sample ------------------------------------------ */

HTest(tcp_timer, rto_is_3_s_after_a_handshake_without_rtt_sample)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	/* The SYN-ACK is lost once: resent after the initial RTO of 1 s
	 * (RFC 6298 §2.1), and without timestamps Karn's rule leaves the
	 * handshake without a sample. */
	c.listener = h_listen(&h, c.our_port, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .seq = 0, .ack = 0, .mss = c.peer_mss));
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1, .win = H_ANY, .opts_any = true));
	wait_interval(TCP_TIMEOUT_INIT_US * US);
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1, .win = H_ANY, .opts_any = true));
	h_advance(&h, 50 * MS);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert(h_accept(&h, &c));
	h_events(&h, &c);
	/* "the RTO MUST be re-initialized to 3 seconds when data
	 * transmission begins" (Linux tcp_init_metrics:
	 * TCP_TIMEOUT_FALLBACK). */
	cr_assert_eq(hd_info(&h, &c).rto_us, 3000000u);
	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	wait_interval(3000 * MS);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	peer_ack(&c, 101);
	h_expect_nothing(&h);
}

/* --- giving up (tcp_retries2) ---------------------------------------------------------------- */

HTest(tcp_timer, etimedout_after_tcp_retries2)
{
	/* tcp(7): tcp_retries2 15 "yields a hypothetical timeout of 924.6
	 * seconds": the time 15 doublings from TCP_RTO_MIN take, with the
	 * RTO capped at TCP_RTO_MAX (Linux tcp_model_timeout). It is
	 * counted from the first retransmission (retrans_stamp), and
	 * checked each time the timer fires. */
	const uint64_t limit = 924600 * MS;
	struct h_conn c = h_establish(&h, 0);
	uint64_t interval = TCP_RTO_MIN_US * US, since_first = 0;
	unsigned int retrans = 0;

	cr_assert_eq(hd_info(&h, &c).rto_us, TCP_RTO_MIN_US);
	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	for (;;) {
		if (retrans && since_first + interval >= limit)
			break;
		wait_interval(interval);
		hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
		if (retrans)
			since_first += interval;
		retrans++;
		cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
		interval = interval * 2 > TCP_RTO_MAX_US * US ? TCP_RTO_MAX_US * US : interval * 2;
	}
	/* 16 retransmissions: the 16th is at 924.4 s after the first. */
	cr_assert_eq(retrans, TCP_RETRIES2 + 1);
	h_events(&h, &c);
	h_advance(&h, interval - HD_TICK);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	h_advance(&h, 2 * HD_TICK);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE);
	cr_assert(h_events(&h, &c) & SK_EV_ERROR);
	cr_assert_eq(c.tp->sk.err, ETIMEDOUT);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ABORT_ON_TIMEOUT), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), TCP_RETRIES2 + 1);
	h_close(&h, &c);
}
