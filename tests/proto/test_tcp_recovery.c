// SPDX-License-Identifier: MIT
/*
 * Loss detection and recovery as a sender (Linux net/ipv4/tcp_recovery.c
 * and the recovery half of tcp_input.c): fast retransmit, the SACK
 * scoreboard (RFC 6675: SACKed segments are not resent), Proportional Rate
 * Reduction (RFC 6937), RACK's reordering window and timer (RFC 8985 §6),
 * tail loss probes (RFC 8985 §7), undo of a spurious retransmission by
 * D-SACK (RFC 2883, RFC 3708), and NewReno for a peer without SACK
 * (RFC 6582).
 *
 * Every test starts the same way: a path with a 40 ms RTT (the handshake
 * and one segment exchanged, so that SRTT and the minimum RTT are 40 ms:
 * RACK's reordering window is min_rtt / 4 = 10 ms, the PTO 2 * SRTT), Reno
 * congestion control (ssthresh = cwnd / 2, RFC 5681) and cwnd 10. Segment
 * i of a test is [seg(i), seg(i + 1)).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <string.h>

#include "harness_tcp_data.h"

#define RTT (40 * MS)

static struct harness h;
static uint32_t mss, base;

static void setup(void)
{
	h_init(&h);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(tcp_recovery, .init = setup, .fini = teardown, .timeout = 10);

static uint32_t seg(unsigned int i)
{
	return base + i * mss;
}

static struct h_conn start(unsigned int flags)
{
	struct h_conn c = hd_establish_rtt(&h, flags, RTT);

	cr_assert_eq(tcp_set_congestion(&h.st, c.tp, "reno"), 0);
	mss = c.tp->mss_cache;
	hd_write(&h, &c, 0, mss);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, mss, 1);
	h_advance(&h, RTT);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1 + mss));
	h_expect_nothing(&h);
	base = 1 + mss;
	cr_assert_eq(hd_info(&h, &c).snd_cwnd, TCP_INIT_CWND);
	cr_assert_eq(hd_info(&h, &c).min_rtt_us, RTT / US);
	return c;
}

/* The application writes segments [first, first + n). */
static void app_write(struct h_conn *c, unsigned int first, unsigned int n)
{
	hd_write(&h, c, seg(first) - 1, (size_t)n * mss);
}

/* Segments [first, first + n) leave, in order, nothing else. */
static void expect_segs_at(struct h_conn *c, unsigned int first, unsigned int n, const char *file,
			   int line)
{
	for (unsigned int i = first; i < first + n; i++)
		hd_expect_data_at(&h, c, H_ANY, seg(i), mss, 1, NULL, file, line);
	h_expect_nothing_at(&h, file, line);
}
#define expect_segs(c, first, n) expect_segs_at((c), (first), (n), __FILE__, __LINE__)

/* Which segments left now: their indexes in @out, the count returned. */
static unsigned int sent_now(struct h_conn *c, unsigned int *out, unsigned int max)
{
	struct h_tcp_info t;
	unsigned int n = 0;

	while (hd_pop_tcp(&h, c, &t)) {
		cr_assert_eq(t.len, mss, "a segment of %u bytes", t.len);
		cr_assert_eq((t.seq - base) % mss, 0);
		cr_assert_lt(n, max);
		out[n++] = (t.seq - base) / mss;
	}
	return n;
}

/* A duplicate ACK from the peer: cumulative ACK @ack, SACK blocks given
 * as segment ranges [l, r) (at most 3). */
static void dupack(struct h_conn *c, uint32_t ack, unsigned int nblocks, const unsigned int *lr)
{
	struct h_seg s = SEG(.flags = TH_ACK, .seq = 1, .ack = ack, .nsack = (int)nblocks);

	for (unsigned int i = 0; i < nblocks; i++) {
		s.sack[i].l = seg(lr[2 * i]);
		s.sack[i].r = seg(lr[2 * i + 1]);
	}
	h_send(&h, c, s);
}

#define SACK1(c, ack, l, r) dupack((c), (ack), 1, (const unsigned int[]){ (l), (r) })

static void full_ack(struct h_conn *c, unsigned int upto)
{
	h_send(&h, c, SEG(.flags = TH_ACK, .seq = 1, .ack = seg(upto)));
}

/* --- fast retransmit and the scoreboard (RFC 6675) ------------------------------------------ */

HTest(tcp_recovery, third_duplicate_ack_triggers_fast_retransmit)
{
	struct h_conn c = start(H_SACK);
	struct tcp_info_lite i;

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	/* Segment 0 is lost. One and two SACKed segments above it may be
	 * reordering (RACK waits min_rtt / 4)... */
	SACK1(&c, seg(0), 1, 2);
	SACK1(&c, seg(0), 1, 3);
	h_expect_nothing(&h);
	cr_assert_eq(hd_info(&h, &c).ca_state, TCP_CA_Disorder);
	/* ... three are a loss (RFC 8985 §6.2: with no reordering seen and
	 * DupThresh SACKed segments, the reordering window is zero). */
	SACK1(&c, seg(0), 1, 4);
	expect_segs(&c, 0, 1);
	i = hd_info(&h, &c);
	cr_assert_eq(i.ca_state, TCP_CA_Recovery);
	cr_assert_eq(i.snd_ssthresh, TCP_INIT_CWND / 2, "Reno halves the window");
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SACK_RECOVERY), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_FAST_RETRANS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 1);
	/* The rest arrives; the retransmission fills the hole. */
	for (unsigned int k = 5; k <= 10; k++)
		SACK1(&c, seg(0), 1, k);
	h_expect_nothing(&h);
	full_ack(&c, 10);
	/* Recovery ends once high_seq is acknowledged, with cwnd down to
	 * ssthresh (Linux tcp_end_cwnd_reduction). */
	i = hd_info(&h, &c);
	cr_assert_eq(i.ca_state, TCP_CA_Open);
	cr_assert_eq(i.snd_cwnd, i.snd_ssthresh);
	cr_assert_eq(i.unacked, 0);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 1, "nothing SACKed was resent");
	h_advance(&h, 10 * RTT);
	h_expect_nothing(&h);
}

HTest(tcp_recovery, only_the_holes_are_retransmitted)
{
	struct h_conn c = start(H_SACK);
	unsigned int got[16], n;

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	/* Segments 0 and 3 are lost. */
	SACK1(&c, seg(0), 1, 2);
	SACK1(&c, seg(0), 1, 3);
	h_expect_nothing(&h);
	/* Three SACKed: both holes are lost (sent before a delivered
	 * segment, RACK.rtt ago). The pipe (RFC 6675) is 10 - 3 SACKed - 2
	 * lost = 5 = ssthresh: PRR-SSRB (RFC 6937) still sends the first
	 * retransmission at once. */
	dupack(&c, seg(0), 2, (const unsigned int[]){ 4, 5, 1, 3 });
	expect_segs(&c, 0, 1);
	/* Pipe 5 again (one more SACKed, one retransmitted): nothing. */
	dupack(&c, seg(0), 2, (const unsigned int[]){ 4, 6, 1, 3 });
	h_expect_nothing(&h);
	/* Pipe 4 < ssthresh: the second hole. */
	dupack(&c, seg(0), 2, (const unsigned int[]){ 4, 7, 1, 3 });
	expect_segs(&c, 3, 1);
	/* Everything else arrives; nothing SACKed is ever resent. */
	for (unsigned int k = 8; k <= 10; k++)
		dupack(&c, seg(0), 2, (const unsigned int[]){ 4, k, 1, 3 });
	n = sent_now(&c, got, 16);
	cr_assert_eq(n, 0, "%u more segments resent (first %u)", n, n ? got[0] : 0);
	full_ack(&c, 10);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 2);
	cr_assert_eq(hd_info(&h, &c).ca_state, TCP_CA_Open);
	h_expect_nothing(&h);
}

/* --- Proportional Rate Reduction (RFC 6937) ------------------------------------------------- */

HTest(tcp_recovery, prr_sends_one_segment_for_every_two_delivered)
{
	struct h_conn c = start(H_SACK);
	unsigned int got[8], n;
	/*
	 * RFC 6937 §3, with Linux's RecoverFS = cwnd before recovery (10)
	 * and ssthresh 5: while pipe > ssthresh, after each ACK
	 * sndcnt = ceil(prr_delivered * 5 / 10) - prr_out, and prr_out
	 * counts every segment sent in recovery, new or retransmitted.
	 * Segment 0 is lost; the two dupACKs before recovery send new data
	 * (10 and 11) in Disorder. ACK k (SACKing 1..k, k >= 3):
	 *   k=3: pipe 8, delivered 1 -> 1 - 0 = 1: retransmit 0
	 *   k=4: pipe 8, delivered 2 -> 1 - 1 = 0
	 *   k=5: pipe 7, delivered 3 -> 2 - 1 = 1: new segment 12
	 *   k=6: pipe 7, delivered 4 -> 2 - 2 = 0
	 *   k=7: pipe 6, delivered 5 -> 3 - 2 = 1: new segment 13
	 *   k=8: pipe 6, delivered 6 -> 3 - 3 = 0
	 *   k=9: pipe 5 = ssthresh: PRR-SSRB, limited by ssthresh - pipe = 0
	 */
	static const int expect[] = {
		[3] = 0, [4] = -1, [5] = 12, [6] = -1, [7] = 13, [8] = -1, [9] = -1
	};

	app_write(&c, 0, 20);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	SACK1(&c, seg(0), 1, 2);
	expect_segs(&c, 10, 1);
	SACK1(&c, seg(0), 1, 3);
	expect_segs(&c, 11, 1);
	for (unsigned int k = 3; k <= 9; k++) {
		SACK1(&c, seg(0), 1, k + 1);
		n = sent_now(&c, got, 8);
		if (expect[k] < 0)
			cr_assert_eq(n, 0, "ACK %u: %u segments sent (first %u), want none", k, n,
				     n ? got[0] : 0);
		else
			cr_assert(n == 1 && got[0] == (unsigned int)expect[k],
				  "ACK %u: %u segments sent (first %u), want segment %d", k, n,
				  n ? got[0] : 0, expect[k]);
	}
	cr_assert_eq(hd_info(&h, &c).ca_state, TCP_CA_Recovery);
	/* The retransmission arrived: everything up to high_seq (12) is
	 * acknowledged, recovery ends with cwnd at ssthresh. */
	full_ack(&c, 12);
	cr_assert_eq(hd_info(&h, &c).ca_state, TCP_CA_Open);
	cr_assert_eq(hd_info(&h, &c).snd_cwnd, TCP_INIT_CWND / 2);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 1);
	h_drain(&h);
}

/* --- RACK (RFC 8985 §6) ----------------------------------------------------------------------- */

HTest(tcp_recovery, reordering_within_the_rack_window_is_not_a_loss)
{
	struct h_conn c = start(H_SACK);

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	SACK1(&c, seg(0), 1, 2);
	h_expect_nothing(&h);
	/* Segment 0 was only late: 5 ms, less than min_rtt / 4. */
	h_advance(&h, 5 * MS);
	full_ack(&c, 10);
	h_advance(&h, 10 * RTT);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 0);
	cr_assert_eq(hd_info(&h, &c).ca_state, TCP_CA_Open);
	cr_assert_eq(hd_info(&h, &c).snd_cwnd, TCP_INIT_CWND);
	/* Linux tcp_check_sack_reordering: a never-retransmitted hole
	 * filled below SACKed data is reordering, counted once. */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SACK_REORDER), 1);
}

HTest(tcp_recovery, first_flight_reordering_is_tolerated_from_the_handshake_rtt)
{
	/* No exchange before this flight: the handshake's RTT is the only
	 * sample, and it is also the minimum RTT RACK's window comes from
	 * (Linux tcp_synack_rtt_meas -> tcp_update_rtt_min). */
	struct h_conn c = hd_establish_rtt(&h, H_SACK, RTT);

	mss = c.tp->mss_cache;
	base = 1;
	cr_assert_eq(hd_info(&h, &c).min_rtt_us, RTT / US);
	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	SACK1(&c, seg(0), 1, 2);
	h_expect_nothing(&h);
	h_advance(&h, 5 * MS);
	full_ack(&c, 10);
	h_advance(&h, 10 * RTT);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 0);
}

HTest(tcp_recovery, rack_reordering_timer_marks_the_hole_lost)
{
	struct h_conn c = start(H_SACK);
	uint64_t dt;

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	SACK1(&c, seg(0), 1, 2);
	h_expect_nothing(&h);
	/* RFC 8985 §6.3: the hole is lost once RACK.rtt + reo_wnd have
	 * passed since it was sent: reo_wnd = 10 ms from now, plus Linux's
	 * TCP_TIMEOUT_MIN (2 ms) of timer slack. */
	dt = hd_wait_frame(&h, 20 * MS);
	cr_assert(dt >= 10 * MS && dt <= 12 * MS + HD_TICK, "retransmitted after %" PRIu64 " us",
		  dt / US);
	expect_segs(&c, 0, 1);
	cr_assert_eq(hd_info(&h, &c).ca_state, TCP_CA_Recovery);
	full_ack(&c, 10);
	h_expect_nothing(&h);
}

HTest(tcp_recovery, dsack_undoes_a_spurious_retransmission_and_widens_reo_wnd)
{
	struct h_conn c = start(H_SACK);
	struct tcp_info_lite i;
	uint64_t dt;

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	/* Segment 0 is 20 ms late: RACK gives up on it after 10 ms. */
	SACK1(&c, seg(0), 1, 2);
	dt = hd_wait_frame(&h, 20 * MS);
	cr_assert(dt != UINT64_MAX);
	expect_segs(&c, 0, 1);
	h_advance(&h, 20 * MS - dt);
	full_ack(&c, 10);
	h_expect_nothing(&h);
	cr_assert_eq(hd_info(&h, &c).snd_cwnd, TCP_INIT_CWND / 2);
	/* Then the retransmission arrives too: a D-SACK below SND.UNA
	 * (RFC 2883 §4.1.1). All retransmissions D-SACKed: undo (RFC 3708,
	 * Linux tcp_try_undo_dsack). */
	h_advance(&h, 10 * MS);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = seg(10), .nsack = 1,
		   .sack = { { seg(0), seg(1) } }));
	i = hd_info(&h, &c);
	cr_assert_eq(i.snd_cwnd, TCP_INIT_CWND);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_RECV), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_UNDO), 1);
	h_expect_nothing(&h);

	/* The D-SACK doubled the reordering window (RFC 8985 §6.2 step 4):
	 * the next reordering of 15 ms is tolerated. */
	app_write(&c, 10, 10);
	expect_segs(&c, 10, 10);
	h_advance(&h, RTT);
	SACK1(&c, seg(10), 11, 12);
	h_advance(&h, 15 * MS);
	h_expect_nothing(&h);
	full_ack(&c, 20);
	h_advance(&h, 10 * RTT);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 1);
}

/* --- tail loss probes (RFC 8985 §7) ------------------------------------------------------------- */

HTest(tcp_recovery, tail_loss_probe_resends_the_last_segment_after_two_srtt)
{
	struct h_conn c = start(H_SACK);
	struct tcp_info_lite i;
	uint64_t pto = 2 * RTT + TCP_TIMEOUT_MIN_US * US, dt;

	app_write(&c, 0, 5);
	expect_segs(&c, 0, 5);
	/* No ACK at all. RFC 8985 §7.2: PTO = 2 * SRTT (plus Linux's 2 ms
	 * when more than one segment is out); the probe is the last
	 * segment, since there is no new data (§7.3). */
	dt = hd_wait_frame(&h, pto + HD_TICK);
	cr_assert(dt >= pto && dt != UINT64_MAX, "probe after %" PRIu64 " us", dt / US);
	expect_segs(&c, 4, 1);
	i = hd_info(&h, &c);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 0);
	cr_assert_eq(i.ca_state, TCP_CA_Open);
	cr_assert_eq(i.snd_cwnd, TCP_INIT_CWND, "a probe is not a congestion signal");
	/* The probe went out: the RTO restarts from it (Linux
	 * tcp_send_loss_probe). */
	dt = hd_wait_frame(&h, (uint64_t)i.rto_us * US + HD_TICK);
	cr_assert(dt != UINT64_MAX && dt >= (uint64_t)i.rto_us * US,
		  "RTO %" PRIu64 " us after the probe, RTO %u us", dt / US, i.rto_us);
	expect_segs(&c, 0, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 1);
	full_ack(&c, 5);
	h_drain(&h);
}

HTest(tcp_recovery, pto_allows_for_a_delayed_ack_and_one_probe_per_episode)
{
	/* A 300 ms path: RTO = 300 + 4 * 150 = 900 ms, so that the PTO is
	 * not cut by the RTO. RFC 8985 §7.2: with one segment in flight, add
	 * the receiver's maximum delayed-ACK time (Linux TCP_RTO_MIN, 200
	 * ms) to 2 * SRTT; with more, Linux adds TCP_TIMEOUT_MIN (2 ms). */
	const uint64_t rtt = 300 * MS;
	struct h_conn c = hd_establish_rtt(&h, H_SACK, rtt);
	uint64_t dt;

	mss = c.tp->mss_cache;
	base = 1;
	cr_assert_eq(hd_info(&h, &c).rto_us, 900000u);
	app_write(&c, 0, 1);
	expect_segs(&c, 0, 1);
	dt = hd_wait_frame(&h, TCP_RTO_MAX_US * US);
	cr_assert(dt >= 2 * rtt + TCP_RTO_MIN_US * US &&
			  dt <= 2 * rtt + TCP_RTO_MIN_US * US + HD_TICK,
		  "probe after %" PRIu64 " us", dt / US);
	expect_segs(&c, 0, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	h_advance(&h, rtt);
	full_ack(&c, 1);
	h_expect_nothing(&h);
	/* That ACK reached the probe's snd_nxt but not beyond: the episode
	 * is not over (Linux tcp_process_tlp_ack), and RFC 8985 §7.3 allows
	 * one probe per episode. The next flight gets no probe: when the
	 * PTO (2 * SRTT + 2 ms for two segments) fires it sends nothing, and
	 * the RTO stays where the flight's first transmission put it. */
	app_write(&c, 1, 2);
	expect_segs(&c, 1, 2);
	dt = hd_wait_frame(&h, TCP_RTO_MAX_US * US);
	cr_assert(dt >= 900 * MS && dt <= 900 * MS + HD_TICK, "RTO after %" PRIu64 " us", dt / US);
	expect_segs(&c, 1, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 1);
	h_advance(&h, rtt);
	full_ack(&c, 3);
	h_drain(&h);
}

HTest(tcp_recovery, tail_loss_probe_sends_new_data_when_it_can)
{
	struct h_conn c = start(H_SACK);

	/* Eleven segments, cwnd 10: the eleventh waits. */
	app_write(&c, 0, 11);
	expect_segs(&c, 0, 10);
	h_advance(&h, 2 * RTT + TCP_TIMEOUT_MIN_US * US + HD_TICK);
	/* RFC 8985 §7.3: new data, if the window allows, beyond cwnd. */
	expect_segs(&c, 10, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 0);
	full_ack(&c, 11);
	h_expect_nothing(&h);
}

HTest(tcp_recovery, tail_loss_probe_is_rearmed_by_each_ack)
{
	struct h_conn c = start(H_SACK);
	uint64_t pto = 2 * RTT + TCP_TIMEOUT_MIN_US * US, dt;

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	/* Segments 8 and 9 are lost: the ACK of 0..7 restarts the probe
	 * timer (Linux tcp_set_xmit_timer: TLP, else RTO), 2 * SRTT from
	 * now, well before the RTO. */
	full_ack(&c, 8);
	h_expect_nothing(&h);
	dt = hd_wait_frame(&h, pto + HD_TICK);
	cr_assert(dt != UINT64_MAX && dt >= pto, "nothing within the PTO");
	expect_segs(&c, 9, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 0);
	/* The probe's SACK reveals segment 8's loss (RACK): recovery. */
	h_advance(&h, RTT);
	SACK1(&c, seg(8), 9, 10);
	expect_segs(&c, 8, 1);
	full_ack(&c, 10);
	h_expect_nothing(&h);
}

HTest(tcp_recovery, a_probe_that_repaired_a_loss_reduces_cwnd_once)
{
	struct h_conn c = start(H_SACK);
	struct tcp_info_lite i;

	app_write(&c, 0, 4);
	expect_segs(&c, 0, 4);
	h_advance(&h, RTT);
	/* The last segment is lost; the probe resends it. */
	full_ack(&c, 3);
	cr_assert_neq(hd_wait_frame(&h, 2 * TCP_RTO_MAX_US * US), UINT64_MAX);
	expect_segs(&c, 3, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	h_advance(&h, RTT);
	full_ack(&c, 4);
	/* RFC 8985 §7.4: the probe's ACK, without a D-SACK, says it repaired
	 * a loss; Linux (tcp_process_tlp_ack) concludes so once an ACK goes
	 * beyond the probe, and reduces cwnd at once: ssthresh and cwnd to
	 * half, back in Open. */
	app_write(&c, 4, 1);
	expect_segs(&c, 4, 1);
	h_advance(&h, RTT);
	full_ack(&c, 5);
	i = hd_info(&h, &c);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBE_RECOVERY), 1);
	cr_assert_eq(i.snd_ssthresh, TCP_INIT_CWND / 2);
	cr_assert_eq(i.snd_cwnd, TCP_INIT_CWND / 2);
	cr_assert_eq(i.ca_state, TCP_CA_Open);
	h_expect_nothing(&h);
}

HTest(tcp_recovery, a_probe_that_was_a_duplicate_changes_nothing)
{
	struct h_conn c = start(H_SACK);
	struct tcp_info_lite i;

	app_write(&c, 0, 4);
	expect_segs(&c, 0, 4);
	h_advance(&h, RTT);
	full_ack(&c, 3);
	cr_assert_neq(hd_wait_frame(&h, 2 * TCP_RTO_MAX_US * US), UINT64_MAX);
	expect_segs(&c, 3, 1);
	/* Segment 3 was only late; the probe arrives as a duplicate and is
	 * D-SACKed: no loss, no reduction. */
	h_advance(&h, RTT);
	full_ack(&c, 4);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = seg(4), .nsack = 1,
		   .sack = { { seg(3), seg(4) } }));
	app_write(&c, 4, 1);
	expect_segs(&c, 4, 1);
	h_advance(&h, RTT);
	full_ack(&c, 5);
	i = hd_info(&h, &c);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBE_RECOVERY), 0);
	cr_assert_geq(i.snd_cwnd, TCP_INIT_CWND);
	h_expect_nothing(&h);
}

/* --- NewReno (RFC 6582) ------------------------------------------------------------------------- */

HTest(tcp_recovery, newreno_partial_ack_retransmits_the_next_hole)
{
	struct h_conn c = start(0);
	struct tcp_info_lite i;

	app_write(&c, 0, 10);
	expect_segs(&c, 0, 10);
	h_advance(&h, RTT);
	/* Segments 0 and 5 are lost; without SACK the peer can only repeat
	 * its ACK. RFC 6582 §3.2: the third duplicate starts recovery with
	 * the first unacknowledged segment. */
	for (int k = 0; k < 2; k++)
		full_ack(&c, 0);
	h_expect_nothing(&h);
	full_ack(&c, 0);
	expect_segs(&c, 0, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_RENO_RECOVERY), 1);
	for (int k = 0; k < 4; k++)
		full_ack(&c, 0);
	h_expect_nothing(&h);
	/* §3.2 step 3: a partial ACK (up to the second hole) retransmits the
	 * next unacknowledged segment at once. */
	full_ack(&c, 5);
	hd_expect_data(&h, &c, H_ANY, seg(5), mss, 1);
	i = hd_info(&h, &c);
	cr_assert_eq(i.ca_state, TCP_CA_Recovery);
	/* The full ACK ends recovery (§3.2 step 4). */
	full_ack(&c, 10);
	i = hd_info(&h, &c);
	cr_assert_eq(i.unacked, 0);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 2);
	h_drain(&h);
}
