// SPDX-License-Identifier: MIT
/*
 * TCP transmit decisions (Linux tcp_write_xmit and its tests): Nagle's
 * algorithm with Minshall's refinement (RFC 896, RFC 1122 §4.2.3.4),
 * TCP_NODELAY, TCP_CORK and its 200 ms ceiling, sender SWS avoidance
 * (RFC 9293 §3.8.6.2.1), zero-window probing with backoff (RFC 9293
 * §3.8.6.1, Linux tcp_probe_timer), segmentation to the MSS, and TCP small
 * queues.
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

TestSuite(tcp_output, .init = setup, .fini = teardown, .timeout = 10);

/* The peer acknowledges our bytes up to relative @ack, offering @win. */
static void peer_ack(struct h_conn *c, uint32_t ack, int win)
{
	h_send(&h, c, SEG(.flags = TH_ACK, .seq = 1, .ack = ack, .win = win));
}

/* --- Nagle (RFC 896) and TCP_NODELAY ----------------------------------------------- */

HTest(tcp_output, nagle_holds_a_small_segment_while_a_small_one_is_unacked)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = c.tp->mss_cache;

	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	/* A second partial segment waits for the first one's ACK. */
	hd_write(&h, &c, 100, 100);
	h_expect_nothing(&h);
	/* A full segment is never held back... */
	hd_write(&h, &c, 200, mss);
	hd_expect_data(&h, &c, TH_ACK, 101, mss, 1);
	/* ... its tail is (Minshall: the outstanding small segment is
	 * still unacknowledged). */
	h_expect_nothing(&h);
	h_advance(&h, 100 * MS);
	h_expect_nothing(&h);
	/* The small segment is acknowledged: the tail goes, though the full
	 * segment is still in flight. */
	peer_ack(&c, 101, H_AUTO);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 101 + mss, 100, 1);
	peer_ack(&c, 201 + mss, H_AUTO);
	h_expect_nothing(&h);
	cr_assert_eq(hd_info(&h, &c).unacked, 0);
}

HTest(tcp_output, nodelay_sends_small_segments_at_once)
{
	struct h_conn c = h_establish(&h, 0);

	hd_setopt(&h, &c, TCP_OPT_NODELAY, 1);
	for (int i = 0; i < 3; i++) {
		hd_write(&h, &c, (size_t)i * 100, 100);
		hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + (uint32_t)i * 100, 100, 1);
	}
	peer_ack(&c, 301, H_AUTO);
	h_expect_nothing(&h);
}

HTest(tcp_output, setting_nodelay_releases_what_nagle_holds)
{
	struct h_conn c = h_establish(&h, 0);

	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	hd_write(&h, &c, 100, 100);
	h_expect_nothing(&h);
	/* Linux do_tcp_setsockopt(TCP_NODELAY): tcp_push_pending_frames(). */
	hd_setopt(&h, &c, TCP_OPT_NODELAY, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 101, 100, 1);
	peer_ack(&c, 201, H_AUTO);
	h_expect_nothing(&h);
}

/* --- TCP_CORK ------------------------------------------------------------------------- */

HTest(tcp_output, cork_holds_partial_segments_until_full_or_uncorked)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = c.tp->mss_cache;

	hd_setopt(&h, &c, TCP_OPT_CORK, 1);
	/* Nothing in flight, and still held. */
	hd_write(&h, &c, 0, 100);
	h_expect_nothing(&h);
	/* A full segment's worth goes; the rest stays corked. */
	hd_write(&h, &c, 100, mss);
	hd_expect_data(&h, &c, TH_ACK, 1, mss, 1);
	h_expect_nothing(&h);
	peer_ack(&c, 1 + mss, H_AUTO);
	h_expect_nothing(&h);
	/* Uncorking pushes the partial segment (Linux tcp_push_pending_frames
	 * from do_tcp_setsockopt). */
	hd_setopt(&h, &c, TCP_OPT_CORK, 0);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + mss, 100, 1);
	peer_ack(&c, 101 + mss, H_AUTO);
	h_expect_nothing(&h);
}

HTest(tcp_output, corked_data_goes_out_after_200_ms)
{
	struct h_conn c = h_establish(&h, 0);
	uint64_t probes = h_tcpext_mib(&h, TCPEXT_TCP_WIN_PROBE);

	/* tcp(7): "there is a 200 millisecond ceiling on the time for which
	 * output is corked". Linux gets it from the probe timer, armed when
	 * data waits with nothing in flight: after max(RTO, TCP_RTO_MIN)
	 * tcp_write_wakeup() sends the head of the queue whatever cork and
	 * Nagle say. The handshake's RTT sample of 0 makes the RTO 200 ms. */
	cr_assert_eq(hd_info(&h, &c).rto_us, TCP_RTO_MIN_US);
	hd_setopt(&h, &c, TCP_OPT_CORK, 1);
	hd_write(&h, &c, 0, 100);
	h_advance(&h, TCP_RTO_MIN_US * US - 1);
	h_expect_nothing(&h);
	h_advance(&h, HD_TICK);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 1);
	h_expect_nothing(&h);
	/* That was data, not a window probe. */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_WIN_PROBE), probes);
	peer_ack(&c, 101, H_AUTO);
	h_advance(&h, 10 * TCP_RTO_MIN_US * US);
	h_expect_nothing(&h);
}

/* --- sender SWS avoidance (RFC 9293 §3.8.6.2.1) ----------------------------------------- */

HTest(tcp_output, no_sliver_segments_into_a_small_window)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = c.tp->mss_cache;

	/* The peer's window shrinks to 2000 bytes (after a zero window, so
	 * that the update is accepted with the same SEG.SEQ and SEG.ACK). */
	peer_ack(&c, 1, 0);
	peer_ack(&c, 1, 2000);
	hd_write(&h, &c, 0, 4 * mss);
	hd_expect_data(&h, &c, TH_ACK, 1, mss, 1);
	/* 2000 - mss bytes are left: less than a segment and less than half
	 * the largest window the peer offered (65535). */
	h_expect_nothing(&h);
	peer_ack(&c, 1 + mss, 2000);
	hd_expect_data(&h, &c, TH_ACK, 1 + mss, mss, 1);
	h_expect_nothing(&h);
	peer_ack(&c, 1 + 2 * mss, H_AUTO);
	hd_expect_data(&h, &c, TH_ACK, 1 + 2 * mss, mss, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + 3 * mss, mss, 1);
	peer_ack(&c, 1 + 4 * mss, H_AUTO);
	h_expect_nothing(&h);
}

HTest(tcp_output, a_window_smaller_than_a_segment_is_used_when_the_persist_timer_fires)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = c.tp->mss_cache;

	/* RFC 9293 §3.8.6.2.1: the sender waits for a useful window, but an
	 * override timeout sends what the window allows. In Linux that is
	 * the probe timer: tcp_write_wakeup() sends min(window, MSS) bytes
	 * of the queue's head rather than a bare probe. */
	peer_ack(&c, 1, 0);
	peer_ack(&c, 1, 500);
	hd_write(&h, &c, 0, 2 * mss);
	h_expect_nothing(&h);
	h_advance(&h, TCP_RTO_MIN_US * US + HD_TICK);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 500, 1);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_WIN_PROBE), 0);
	/* The window opens: the rest follows. */
	peer_ack(&c, 501, H_AUTO);
	hd_expect_data(&h, &c, TH_ACK, 501, mss, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 501 + mss, mss - 500, 1);
	peer_ack(&c, 1 + 2 * mss, H_AUTO);
	h_expect_nothing(&h);
}

/* --- zero window and the persist timer (RFC 9293 §3.8.6.1) -------------------------------- */

/* Linux tcp_probe0_when(): max(RTO, TCP_RTO_MIN) << backoff, at most
 * TCP_RTO_MAX; backoff grows by one per probe. */
static uint64_t probe_interval(unsigned int backoff)
{
	uint64_t base = TCP_RTO_MIN_US; /* the RTO here */
	uint64_t when = backoff > 20 ? TCP_RTO_MAX_US : base << backoff;

	return (when > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : when) * US;
}

/* A window probe: an ACK one below SND.UNA, no data (Linux
 * tcp_xmit_probe_skb). */
#define expect_probe(c, una) \
	h_expect(&h, (c), SEG(.flags = TH_ACK, .seq = (una)-1, .ack = 1, .win = H_ANY))

/* The next frame leaves @interval after the previous timer event (to the
 * wheel's tick), not earlier. */
static void wait_interval_at(uint64_t interval, const char *file, int line)
{
	uint64_t dt = hd_wait_frame(&h, interval + HD_TICK);

	cr_assert(dt != UINT64_MAX, "%s:%d: nothing sent within %" PRIu64 " ms", file, line,
		  interval / MS);
	cr_assert(dt >= interval, "%s:%d: sent after %" PRIu64 " us, before %" PRIu64 " us", file,
		  line, dt / US, interval / US);
}
#define wait_interval(i) wait_interval_at((i), __FILE__, __LINE__)

HTest(tcp_output, zero_window_is_probed_with_backoff_and_reopening_resumes)
{
	struct h_conn c = h_establish(&h, 0);

	peer_ack(&c, 1, 0);
	hd_write(&h, &c, 0, 300);
	h_expect_nothing(&h);
	for (unsigned int k = 0; k < 4; k++) {
		wait_interval(probe_interval(k));
		expect_probe(&c, 1);
		cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_WIN_PROBE), k + 1);
		cr_assert_eq(hd_info(&h, &c).probes, k + 1);
	}
	/* Probes are not retransmissions (Linux counts TCPWinProbe only). */
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 0);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 0);
	cr_assert_eq(hd_info(&h, &c).total_retrans, 0);
	/* The window opens: the data goes at once, the timer stops. */
	peer_ack(&c, 1, H_AUTO);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 300, 1);
	peer_ack(&c, 301, H_AUTO);
	h_advance(&h, 1000 * SEC);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
}

HTest(tcp_output, answered_probes_keep_the_connection_forever)
{
	struct h_conn c = h_establish(&h, 0);
	unsigned int probes = 0;

	/* RFC 1122 §4.2.2.17: as long as the receiver answers, probing goes
	 * on indefinitely, well beyond tcp_retries2. */
	peer_ack(&c, 1, 0);
	hd_write(&h, &c, 0, 300);
	for (unsigned int k = 0; k < 3 * TCP_RETRIES2; k++) {
		wait_interval(probe_interval(k));
		expect_probe(&c, 1);
		probes++;
		peer_ack(&c, 1, 0);
		h_expect_nothing(&h);
	}
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	cr_assert_eq(h_events(&h, &c) & SK_EV_ERROR, 0);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_WIN_PROBE), probes);
	peer_ack(&c, 1, H_AUTO);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 300, 1);
	peer_ack(&c, 301, H_AUTO);
}

HTest(tcp_output, unanswered_probes_time_out_after_tcp_retries2)
{
	struct h_conn c = h_establish(&h, 0);
	uint64_t t = 0;

	peer_ack(&c, 1, 0);
	hd_write(&h, &c, 0, 300);
	/* Linux tcp_probe_timer(): icsk_probes_out >= tcp_retries2 aborts
	 * with ETIMEDOUT, at the timer after the last probe. */
	for (unsigned int k = 0; k < TCP_RETRIES2; k++) {
		wait_interval(probe_interval(k));
		expect_probe(&c, 1);
		cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED, "aborted after %u probes", k + 1);
	}
	h_events(&h, &c);
	t = hd_wait_frame(&h, probe_interval(TCP_RETRIES2) - HD_TICK);
	cr_assert_eq(t, UINT64_MAX);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	h_advance(&h, 2 * HD_TICK);
	/* No RST: the peer is gone or not listening (Linux tcp_write_err). */
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE);
	cr_assert(h_events(&h, &c) & SK_EV_ERROR);
	cr_assert_eq(c.tp->sk.err, ETIMEDOUT);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ABORT_ON_TIMEOUT), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_WIN_PROBE), TCP_RETRIES2);
	h_close(&h, &c);
}

/* --- segmentation --------------------------------------------------------------------------- */

HTest(tcp_output, data_is_cut_into_mss_segments)
{
	struct h_conn c = h_establish(&h, H_TS);
	/* The peer's MSS 1460 less the 12 bytes of timestamps every
	 * segment carries (Linux tcp_sync_mss). */
	const uint32_t mss = (uint32_t)c.peer_mss - 12;

	cr_assert_eq(hd_info(&h, &c).snd_mss, mss);
	hd_write(&h, &c, 0, 3 * mss + 100);
	hd_expect_data(&h, &c, TH_ACK, 1, mss, 1);
	hd_expect_data(&h, &c, TH_ACK, 1 + mss, mss, 1);
	hd_expect_data(&h, &c, TH_ACK, 1 + 2 * mss, mss, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + 3 * mss, 100, 1);
	peer_ack(&c, 3 * mss + 101, H_AUTO);
	h_expect_nothing(&h);
}

/* A segment cut when no SACK blocks rode along is too big once they do:
 * its retransmission is cut again to the current MSS (Linux
 * __tcp_retransmit_skb -> tcp_fragment), never sent over the MTU. */
HTest(tcp_output, retransmission_is_recut_when_sack_blocks_take_room)
{
	struct h_conn c = h_establish(&h, H_TS | H_SACK);
	const uint32_t mss = (uint32_t)c.peer_mss - 12;
	struct h_frame f;

	hd_write(&h, &c, 0, mss);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, mss, 1);
	/* The peer's data arrives with a hole: our ACKs now carry a SACK
	 * block, 12 bytes of the segment's room. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 101, .ack = 1, .len = 100));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1 + mss, .ack = 1, .win = H_ANY, .nsack = 1,
		     .sack = { { 101, 201 } }));
	/* The tail loss probe resends the segment, cut to fit. */
	cr_assert_neq(hd_wait_frame(&h, 2 * SEC), UINT64_MAX);
	hd_expect_data_at(&h, &c, TH_ACK, 1, mss - 12, 1, &f, __FILE__, __LINE__);
	cr_assert_eq(f.len, 14u + 20u + 20u + 12u + 12u + (mss - 12));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_LOSS_PROBES), 1);
	/* The RTO then resends the head again (the rest waits for cwnd). */
	cr_assert_neq(hd_wait_frame(&h, 2 * SEC), UINT64_MAX);
	hd_expect_data(&h, &c, TH_ACK, 1, mss - 12, 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 1);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 2);
	/* Its ACK releases the rest, which still carries the PSH. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1 + mss - 12));
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + mss - 12, 12, 1);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1 + mss));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
}

HTest(tcp_output, segments_follow_a_small_peer_mss)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	c.peer_mss = 536;
	h_handshake(&h, &c);
	hd_write(&h, &c, 0, 1200);
	hd_expect_data(&h, &c, TH_ACK, 1, 536, 1);
	hd_expect_data(&h, &c, TH_ACK, 537, 536, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1073, 128, 1);
	peer_ack(&c, 1201, H_AUTO);
	h_expect_nothing(&h);
}

HTest(tcp_output, initial_window_is_ten_segments)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = c.tp->mss_cache;

	/* RFC 6928: IW10. The eleventh segment waits for an ACK. */
	hd_write(&h, &c, 0, 12 * mss);
	for (uint32_t i = 0; i < TCP_INIT_CWND; i++)
		hd_expect_data(&h, &c, TH_ACK, 1 + i * mss, mss, 1);
	h_expect_nothing(&h);
	peer_ack(&c, 1 + mss, H_AUTO);
	/* Slow start: one ACK of one segment lets two more go. */
	hd_expect_data(&h, &c, TH_ACK, 1 + 10 * mss, mss, 1);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1 + 11 * mss, mss, 1);
	peer_ack(&c, 1 + 12 * mss, H_AUTO);
	h_expect_nothing(&h);
}

/* --- TCP small queues (Linux tcp_small_queue_check) ------------------------------------------ */

HTest(tcp_output, small_queues_keep_few_frames_below_tcp)
{
	struct h_conn c = hd_establish_rtt(&h, 0, 10 * MS);
	const uint32_t mss = c.tp->mss_cache;
	struct h_tcp_info t;
	unsigned int queued, n = 0;

	/* One exchange gives the pacing rate TSQ sizes its budget from. */
	hd_write(&h, &c, 0, mss);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, mss, 1);
	h_advance(&h, 10 * MS);
	peer_ack(&c, 1 + mss, H_AUTO);
	h_expect_nothing(&h);
	hd_write(&h, &c, mss, 10 * mss);
	/* With an RTT known, the pacing rate sizes the budget to ~1 ms of
	 * data, at least two frames: not the whole initial window at once. */
	queued = stack_tx_pending(&h.st);
	cr_assert(queued >= 2 && queued < TCP_INIT_CWND, "%u frames queued below TCP", queued);
	/* As the link takes frames, the socket sends on. */
	while (hd_pop_tcp(&h, &c, &t)) {
		cr_assert_eq(t.seq, 1 + (n + 1) * mss);
		n++;
	}
	cr_assert_eq(n, TCP_INIT_CWND);
	peer_ack(&c, 1 + 11 * mss, H_AUTO);
	h_expect_nothing(&h);
}
