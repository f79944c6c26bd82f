// SPDX-License-Identifier: MIT
/*
 * TCP receive path (RFC 9293 §3.10.7.4 seventh step, Linux tcp_data_queue):
 * out-of-order reassembly with SACK blocks (RFC 2018) and D-SACK (RFC 2883),
 * duplicates and data outside the window, delayed and quick ACKs (RFC 1122
 * §4.2.3.2, RFC 5681 §4.2, Linux's quick-ACK mode and TCP_QUICKACK), the
 * header-prediction fast path, the receive window (receiver SWS avoidance,
 * never shrinking, RFC 9293 §3.8.6) and receive-buffer autotuning (Linux
 * tcp_rcv_space_adjust).
 */
#include <criterion/criterion.h>
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

TestSuite(tcp_input, .init = setup, .fini = teardown, .timeout = 10);

/* The peer sends @len bytes of its pattern at relative sequence @seq. */
static void peer_data(struct h_conn *c, uint32_t seq, uint32_t len)
{
	h_send(&h, c, SEG(.flags = TH_ACK, .seq = seq, .ack = 1, .len = len));
}

/* The application reads exactly @len bytes, and they are the peer's bytes
 * from relative sequence @seq on: in order, each once. */
static void read_exactly_at(struct h_conn *c, uint32_t seq, size_t len, const char *file, int line)
{
	static uint8_t buf[1 << 20];
	size_t n;

	cr_assert(len < sizeof(buf));
	cr_assert_eq(h_readable(c), len, "%s:%d: %zu bytes readable, want %zu", file, line,
		     h_readable(c), len);
	n = h_read(&h, c, buf, sizeof(buf));
	cr_assert_eq(n, len, "%s:%d: read %zu bytes, want %zu", file, line, n, len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], h_pattern(seq + (uint32_t)i),
			     "%s:%d: byte at seq %zu: got 0x%02x, want 0x%02x", file, line, seq + i,
			     buf[i], h_pattern(seq + (uint32_t)i));
}
#define read_exactly(c, seq, len) read_exactly_at((c), (seq), (len), __FILE__, __LINE__)

/* Linux starts a connection in quick-ACK mode (tcp_incr_quickack: up to
 * TCP_MAX_QUICKACKS immediate ACKs). Spend them on small in-order
 * segments, so that what follows shows the delayed-ACK rules. Return: the
 * next relative sequence number. */
static uint32_t leave_quickack_mode(struct h_conn *c)
{
	uint32_t seq = 1;

	for (unsigned int i = 0; i < TCP_MAX_QUICKACKS; i++) {
		peer_data(c, seq, 100);
		seq += 100;
		h_expect(&h, c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY));
	}
	read_exactly(c, 1, seq - 1);
	h_expect_nothing(&h);
	return seq;
}

/* --- out-of-order reassembly (RFC 2018) -------------------------------------------------- */

HTest(tcp_input, ofo_segments_acked_at_once_with_newest_sack_block_first)
{
	struct h_conn c = h_establish(&h, H_SACK);

	/* RFC 5681 §4.2: an out-of-order segment is ACKed at once, and
	 * RFC 2018 §4: the first block holds the segment that triggered
	 * the ACK, the others the most recently reported ones. */
	peer_data(&c, 101, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 1,
		     .sack = { { 101, 201 } }));
	peer_data(&c, 301, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 2,
		     .sack = { { 301, 401 }, { 101, 201 } }));
	/* Filling the gap between two blocks merges them. */
	peer_data(&c, 201, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 1,
		     .sack = { { 101, 401 } }));
	peer_data(&c, 501, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 2,
		     .sack = { { 501, 601 }, { 101, 401 } }));
	cr_assert_eq(h_readable(&c), 0, "nothing is in order yet");
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_OFO_QUEUE), 4);

	/* The first hole filled: cumulative ACK, one block left. */
	peer_data(&c, 1, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 401, .win = H_ANY, .nsack = 1,
		     .sack = { { 501, 601 } }));
	peer_data(&c, 401, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 601, .win = H_ANY));
	h_expect_nothing(&h);
	read_exactly(&c, 1, 600);
	h_expect_no_drop(&h);
}

HTest(tcp_input, holes_filled_in_any_order_deliver_each_byte_once)
{
	struct h_conn c = h_establish(&h, H_SACK | H_TS);
	/* Ten 100-byte segments; all but the first arrive, in a scrambled
	 * order, then the first. */
	static const unsigned int order[] = { 7, 3, 9, 1, 5, 8, 2, 6, 4 };

	for (unsigned int i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		peer_data(&c, 1 + order[i] * 100, 100);
		h_expect(&h, &c,
			 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .opts_any = true));
	}
	cr_assert_eq(h_readable(&c), 0);
	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1001, .win = H_ANY, .nsack = 0));
	read_exactly(&c, 1, 1000);
	h_expect_nothing(&h);
}

HTest(tcp_input, ofo_overlaps_are_trimmed_and_reported_as_dsack)
{
	struct h_conn c = h_establish(&h, H_SACK);

	peer_data(&c, 101, 200); /* [101, 301) */
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 1,
		     .sack = { { 101, 301 } }));
	/* [201, 401) overlaps the queued [101, 301): RFC 2883 §4.2, the
	 * duplicate part goes first as a D-SACK, then the merged block. */
	peer_data(&c, 201, 200);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 2,
		     .sack = { { 201, 301 }, { 101, 401 } }));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_OFO_SENT), 1);
	/* Entirely covered: dropped, D-SACKed. */
	peer_data(&c, 151, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = H_ANY, .nsack = 2,
		     .sack = { { 151, 251 }, { 101, 401 } }));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_OFO_SENT), 2);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_OFO_MERGE), 1);
	h_expect_drop(&h, DROP_TCP_OLD_DATA);
	/* A D-SACK is reported once (RFC 2883 §4): the hole's filling
	 * carries none. */
	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 401, .win = H_ANY));
	read_exactly(&c, 1, 400);
}

HTest(tcp_input, hole_fill_acked_at_once_outside_quickack_mode)
{
	struct h_conn c = h_establish(&h, H_SACK);
	uint32_t seq = leave_quickack_mode(&c);

	/* In order, small: delayed. */
	peer_data(&c, seq, 100);
	h_expect_nothing(&h);
	h_advance(&h, TCP_ATO_MIN_US * US + HD_TICK);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq + 100, .win = H_ANY));
	seq += 100;
	/* A hole: the segment after it is ACKed at once ... */
	peer_data(&c, seq + 100, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY, .nsack = 1,
		     .sack = { { seq + 100, seq + 200 } }));
	/* ... and so is the segment that fills it (RFC 5681 §4.2). */
	peer_data(&c, seq, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq + 200, .win = H_ANY));
	h_expect_nothing(&h);
	read_exactly(&c, seq - 100, 300);
}

/* --- duplicates (RFC 2883) ---------------------------------------------------------------- */

HTest(tcp_input, full_duplicate_of_received_data_is_dsacked)
{
	struct h_conn c = h_establish(&h, H_SACK);
	uint64_t lost = h_tcpext_mib(&h, TCPEXT_DELAYED_ACK_LOST);

	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	/* Our ACK was lost, the peer retransmits: RFC 2883 §4.1.1. */
	peer_data(&c, 1, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY, .nsack = 1,
		     .sack = { { 1, 101 } }));
	h_expect_drop(&h, DROP_TCP_OLD_DATA);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_OLD_SENT), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_DELAYED_ACK_LOST), lost + 1);
	read_exactly(&c, 1, 100);
}

HTest(tcp_input, partial_duplicate_delivers_only_new_bytes)
{
	struct h_conn c = h_establish(&h, H_SACK);

	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	/* [51, 201): [51, 101) again, then new data. */
	peer_data(&c, 51, 150);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 201, .win = H_ANY, .nsack = 1,
		     .sack = { { 51, 101 } }));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_OLD_SENT), 1);
	read_exactly(&c, 1, 200);
	h_expect_no_drop(&h);
}

HTest(tcp_input, each_duplicate_of_old_data_is_answered)
{
	struct h_conn c = h_establish(&h, H_SACK);

	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	/* Below the window we advertised: RFC 9293 §3.10.7.4 wants an ACK.
	 * Linux rate-limits such ACKs only for segments without data
	 * (tcp_oow_rate_limited: "data packets without SYNs are not likely
	 * part of an ACK loop"), so each retransmission of old data is
	 * answered, with its D-SACK, as the sender's undo logic needs. */
	for (int i = 0; i < 3; i++) {
		peer_data(&c, 1, 50);
		h_expect(&h, &c,
			 SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY, .nsack = 1,
			     .sack = { { 1, 51 } }));
		h_expect_drop(&h, DROP_TCP_OLD_SEQUENCE);
	}
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ACK_SKIPPED_SEQ), 0);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_DSACK_OLD_SENT), 3);
	read_exactly(&c, 1, 100);
}

HTest(tcp_input, old_pure_acks_are_rate_limited)
{
	struct h_conn c = h_establish(&h, H_SACK);

	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	/* The counterpart of the test above: an out-of-window segment
	 * without data gets one ACK per tcp_invalid_ratelimit (500 ms). */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1 - 70000, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1 - 70000, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ACK_SKIPPED_SEQ), 1);
	h_expect_drops(&h, DROP_TCP_OLD_SEQUENCE, 2);
	read_exactly(&c, 1, 100);
}

/* --- data outside the window ------------------------------------------------------------- */

HTest(tcp_input, data_beyond_the_window_is_dropped_and_acked)
{
	struct h_conn c = h_establish(&h, H_SACK);
	/* Our SYN-ACK offered min(rcvbuf, 65535) rounded down to the MSS
	 * (Linux tcp_select_initial_window); nothing has changed it. */
	uint32_t wnd = 65535 - 65535 % (uint32_t)c.our_mss;
	struct h_tcp_info t;

	/* Starting past the right edge: not acceptable (RFC 9293
	 * §3.10.7.4 first step), answered with an ACK. */
	peer_data(&c, 1 + wnd + 1, 100);
	cr_assert(hd_pop_tcp(&h, &c, &t), "no ACK for a segment beyond the window");
	cr_assert(t.flags == TH_ACK && t.ack == 1 && t.len == 0 && t.nsack == 0);
	h_expect_drop(&h, DROP_TCP_INVALID_SEQUENCE);
	/* Starting exactly at the right edge of the window that ACK
	 * offered: acceptable, but no byte of it is in the window (Linux
	 * tcp_data_queue "out_of_window"). */
	peer_data(&c, 1 + t.win, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = t.win));
	h_expect_drop(&h, DROP_TCP_OVERWINDOW);
	cr_assert_eq(h_readable(&c), 0);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_OFO_QUEUE), 0, "nothing was queued");
}

/* A harness whose sockets get @rcvbuf bytes of receive buffer (tcp_rmem[1]). */
static void init_rcvbuf(uint32_t rcvbuf, uint32_t rmem_max)
{
	struct stack_cfg cfg;

	h_fini(&h);
	stack_cfg_defaults(&cfg);
	cfg.tun.tcp_rmem[1] = rcvbuf;
	if (rmem_max)
		cfg.tun.tcp_rmem[2] = rmem_max;
	h_init_cfg(&h, &cfg);
}

/* Every ACK from now on: its right window edge never moves left. */
struct edge {
	uint32_t right; /* relative */
	uint32_t last_ack, last_win;
	unsigned int acks;
};

static void check_acks_at(struct h_conn *c, struct edge *e, const char *file, int line)
{
	struct h_tcp_info t;

	while (hd_pop_tcp_at(&h, c, &t, file, line)) {
		uint32_t right = t.ack + ((uint32_t)t.win << c->our_wscale);

		cr_assert_eq(t.flags, TH_ACK, "%s:%d: flags 0x%02x", file, line, t.flags);
		cr_assert(!tcp_before(right, e->right),
			  "%s:%d: window shrank: right edge %u after %u (ack %u win %u)", file,
			  line, right, e->right, t.ack, t.win);
		e->right = right;
		e->last_ack = t.ack;
		e->last_win = t.win;
		e->acks++;
	}
}
#define check_acks(c, e) check_acks_at((c), (e), __FILE__, __LINE__)

HTest(tcp_input, window_never_shrinks_and_closes_when_the_buffer_fills)
{
	struct h_conn c;
	struct edge e;
	uint32_t seq = 1, syn_wnd;

	init_rcvbuf(16384, 0);
	c = h_establish(&h, 0);
	syn_wnd = 16384 - 16384 % (uint32_t)c.our_mss;
	e = (struct edge){ .right = 1 + syn_wnd };
	/* 1000-byte segments, never read: free space falls in steps that
	 * are not multiples of the window rounding, which is where a
	 * careless receiver would pull its right edge back. */
	while (seq + 1000 <= 1 + syn_wnd) {
		peer_data(&c, seq, 1000);
		seq += 1000;
		h_advance(&h, 250 * MS); /* any delayed ACK fires */
		check_acks(&c, &e);
		cr_assert_eq(e.last_ack, seq);
	}
	/* What is left of the window is less than a segment and less than
	 * 1/16 of the buffer... */
	peer_data(&c, seq, 1 + syn_wnd - seq);
	seq = 1 + syn_wnd;
	h_advance(&h, 250 * MS);
	check_acks(&c, &e);
	cr_assert_eq(e.last_ack, seq);
	/* ... so the window closes (receiver SWS avoidance, RFC 9293
	 * §3.8.6.2.2) once everything offered has arrived. */
	cr_assert_eq(e.last_win, 0, "window %u with a full buffer", e.last_win);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TO_ZERO_WINDOW_ADV), 1);
	/* Data into the closed window: dropped, answered at once. */
	peer_data(&c, seq, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = 0));
	h_expect_drop(&h, DROP_TCP_ZEROWINDOW);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ZERO_WINDOW_DROP), 1);
	read_exactly(&c, 1, seq - 1);
	/* The application emptied the buffer: the window reopens at once. */
	check_acks(&c, &e);
	cr_assert_eq(e.acks > 0 && e.last_win > 0, true, "no window update after the read");
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_FROM_ZERO_WINDOW_ADV), 1);
}

HTest(tcp_input, small_reads_do_not_open_the_window_by_a_sliver)
{
	struct h_conn c;
	struct edge e;
	uint8_t buf[16384];
	uint32_t seq = 1, syn_wnd;

	init_rcvbuf(8192, 0);
	c = h_establish(&h, 0);
	syn_wnd = 8192 - 8192 % (uint32_t)c.our_mss;
	e = (struct edge){ .right = 1 + syn_wnd };
	while (tcp_before(seq, e.right)) {
		uint32_t len = e.right - seq < 1460 ? e.right - seq : 1460;

		peer_data(&c, seq, len);
		seq += len;
		h_advance(&h, 250 * MS);
		check_acks(&c, &e);
	}
	cr_assert_eq(e.last_win, 0, "the buffer is full");
	/* RFC 9293 §3.8.6.2.2: the window stays shut until it can open by
	 * min(buffer / 2, MSS); Linux: until __tcp_select_window() offers
	 * at least a segment and 1/16 of the buffer. 100 bytes are not. */
	cr_assert_eq(h_read(&h, &c, buf, 100), 100);
	h_expect_nothing(&h);
	/* Half the buffer is: one update, a whole number of segments. */
	cr_assert_eq(h_read(&h, &c, buf, 4096 - 100), 4096 - 100);
	check_acks(&c, &e);
	cr_assert_eq(e.acks > 0, true);
	cr_assert(e.last_win > 0 && e.last_win % 1460 == 0, "window %u after reading half",
		  e.last_win);
}

HTest(tcp_input, draining_a_small_buffer_reopens_the_window)
{
	struct h_conn c;
	struct edge e;
	uint8_t buf[4096];
	uint32_t seq = 1;

	/* Smaller than two segments: the window must still reopen when the
	 * application reads, not only when the peer probes (Linux
	 * tcp_cleanup_rbuf: any usable window at least twice the current
	 * one). */
	init_rcvbuf(2304, 0);
	c = h_establish(&h, 0);
	e = (struct edge){ .right = 1 + 2304 - 2304 % (uint32_t)c.our_mss };
	for (int guard = 0; tcp_before(seq, e.right) && guard < 10; guard++) {
		uint32_t len = e.right - seq < 1460 ? e.right - seq : 1460;

		peer_data(&c, seq, len);
		seq += len;
		h_advance(&h, 250 * MS);
		check_acks(&c, &e);
	}
	cr_assert_eq(e.last_win, 0, "the buffer is full (%u bytes in)", seq - 1);
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), seq - 1);
	check_acks(&c, &e);
	cr_assert(e.last_win > 0, "no window update after the application drained the buffer");
}

/* --- delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2) ---------------------------------------- */

HTest(tcp_input, quickack_mode_at_start_then_delayed_acks)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = (uint32_t)c.peer_mss;
	uint32_t seq = 1;

	/* Linux tcp_incr_quickack(): rcv_wnd / (2 * rcv_mss) immediate
	 * ACKs, at most TCP_MAX_QUICKACKS (16): 64240 / 2920 = 22 here. */
	for (unsigned int i = 0; i < TCP_MAX_QUICKACKS; i++) {
		peer_data(&c, seq, mss);
		seq += mss;
		h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY));
	}
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_DELAYED_ACKS), 0);
	/* Then one full segment waits for the delayed-ACK timer: ato
	 * starts at TCP_ATO_MIN, 40 ms. */
	peer_data(&c, seq, mss);
	seq += mss;
	h_expect_nothing(&h);
	h_advance(&h, TCP_ATO_MIN_US * US - 1);
	h_expect_nothing(&h);
	h_advance(&h, HD_TICK);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_DELAYED_ACKS), 1);
	read_exactly(&c, 1, seq - 1);
}

HTest(tcp_input, delayed_ack_waits_up_to_srtt_on_a_long_path)
{
	/* A 400 ms path, a full segment every second. Each delayed-ACK
	 * timeout doubles ato (the peer is slower than guessed), up to the
	 * RTO; Linux tcp_send_delayed_ack() then bounds the delay by the RTT
	 * estimate and by HZ/2 (500 ms) for a bulk (not pushed, not
	 * interactive) flow; TCP_DELACK_MAX (200 ms) is the bound for the
	 * other two. */
	struct h_conn c = hd_establish_rtt(&h, 0, 400 * MS);
	const uint32_t mss = (uint32_t)c.peer_mss;
	static const uint64_t want_ms[] = { 40, 80, 160, 320, 400, 400 };
	uint32_t seq = leave_quickack_mode(&c);
	uint64_t gap = 0;

	/* One segment a second: less than the RTO apart, so no quick-ACK
	 * mode for a stalled sender. */
	for (unsigned int k = 0; k < sizeof(want_ms) / sizeof(want_ms[0]); k++) {
		uint64_t dt;

		h_advance(&h, 1 * SEC - gap);
		peer_data(&c, seq, mss);
		seq += mss;
		dt = hd_wait_frame(&h, 600 * MS);
		gap = dt;
		cr_assert(dt >= want_ms[k] * MS && dt <= want_ms[k] * MS + HD_TICK,
			  "segment %u: ACKed after %" PRIu64 " us, want %" PRIu64 " ms", k, dt / US,
			  want_ms[k]);
		h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY));
		read_exactly(&c, seq - mss, mss);
	}
}

HTest(tcp_input, every_second_full_segment_is_acked_at_once)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = (uint32_t)c.peer_mss;
	uint32_t seq = leave_quickack_mode(&c);

	for (int pair = 0; pair < 3; pair++) {
		/* RFC 5681 §4.2: an ACK at least for every second full-sized
		 * segment; the first of a pair waits. */
		peer_data(&c, seq, mss);
		h_expect_nothing(&h);
		peer_data(&c, seq + mss, mss);
		h_expect(&h, &c,
			 SEG(.flags = TH_ACK, .seq = 1, .ack = seq + 2 * mss, .win = H_ANY));
		read_exactly(&c, seq, 2 * mss);
		seq += 2 * mss;
	}
	/* Nothing is owed: the delayed-ACK timer sends nothing. */
	h_advance(&h, TCP_DELACK_MAX_US * US);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_DELAYED_ACKS), 0);
}

/* Frames the link delivered in one batch (stack_rx_begin/end, one worker
 * round) are acknowledged once at its end, as Linux acknowledges a GRO
 * packet: four full segments, one ACK. */
HTest(tcp_input, a_receive_batch_gets_one_ack_at_its_end)
{
	struct h_conn c = h_establish(&h, 0);
	const uint32_t mss = (uint32_t)c.peer_mss;
	uint32_t seq = leave_quickack_mode(&c);

	stack_rx_begin(&h.st);
	for (uint32_t i = 0; i < 4; i++)
		peer_data(&c, seq + i * mss, mss);
	h_expect_nothing(&h);
	stack_rx_end(&h.st, h.now);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq + 4 * mss, .win = H_ANY));
	read_exactly(&c, seq, 4 * mss);
	h_advance(&h, TCP_DELACK_MAX_US * US);
	h_expect_nothing(&h);
}

/* ... but never more than 64 KB per ACK, and never for out-of-order
 * data, which is acknowledged at once even within a batch. */
HTest(tcp_input, a_batch_acks_at_least_every_64_kb_and_ofo_data_at_once)
{
	struct h_conn c = h_establish(&h, H_SACK);
	const uint32_t mss = (uint32_t)c.peer_mss;
	uint32_t seq = leave_quickack_mode(&c), n = TCP_ACK_COALESCE_MAX / mss + 1;

	hd_setopt(&h, &c, TCP_OPT_RCVBUF, 1 << 20);
	stack_rx_begin(&h.st);
	for (uint32_t i = 0; i < n; i++)
		peer_data(&c, seq + i * mss, mss);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq + n * mss, .win = H_ANY));
	h_expect_nothing(&h);
	seq += n * mss;
	/* A hole: the segment after it is acknowledged at once. */
	peer_data(&c, seq + mss, mss);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY, .nsack = 1,
		     .sack = { { seq + mss, seq + 2 * mss } }));
	stack_rx_end(&h.st, h.now);
	h_expect_nothing(&h);
	read_exactly(&c, seq - n * mss, n * mss);
}

/* The receiver's RTT from timestamps (autotuning) counts an echo within
 * the same millisecond as 1 ms, as Linux's tcp_rtt_tsopt_us() does. */
HTest(tcp_input, receiver_rtt_from_timestamps_is_at_least_a_millisecond)
{
	struct h_conn c = h_establish(&h, H_TS);
	const uint32_t mss = (uint32_t)c.peer_mss;

	peer_data(&c, 1, mss);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1 + mss, .win = H_ANY));
	cr_assert_eq(c.tp->rcv_rtt_us, 1000u);
	read_exactly(&c, 1, mss);
}

HTest(tcp_input, tcp_quickack_off_delays_from_the_first_segment)
{
	struct h_conn c = h_establish(&h, 0);
	uint8_t buf[100];

	/* TCP_QUICKACK 0 (Linux inet_csk_enter_pingpong_mode) before any
	 * data: the first segment does not get the quick-ACK treatment. */
	hd_setopt(&h, &c, TCP_OPT_QUICKACK, 0);
	peer_data(&c, 1, 100);
	h_expect_nothing(&h);
	/* The application read it; TCP_QUICKACK 1 sends the owed ACK now
	 * (Linux __tcp_sock_set_quickack -> tcp_cleanup_rbuf). */
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), 100);
	h_expect_nothing(&h);
	hd_setopt(&h, &c, TCP_OPT_QUICKACK, 1);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	h_advance(&h, TCP_DELACK_MAX_US * US);
	h_expect_nothing(&h);
}

HTest(tcp_input, duplicate_data_ends_delayed_acks_for_a_while)
{
	struct h_conn c = h_establish(&h, H_SACK);
	const uint32_t mss = (uint32_t)c.peer_mss;
	uint32_t seq = leave_quickack_mode(&c);

	/* A retransmission of data we acked means our ACKs are being lost
	 * or are late: Linux re-enters quick-ACK mode (tcp_send_dupack). */
	peer_data(&c, 1, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = seq, .win = H_ANY, .nsack = 1,
		     .sack = { { 1, 101 } }));
	h_expect_drop(&h, DROP_TCP_OLD_SEQUENCE);
	peer_data(&c, seq, mss);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = seq + mss, .win = H_ANY));
	read_exactly(&c, seq, mss);
}

/* --- header prediction (Van Jacobson; Linux tcp_rcv_established) -------------------------- */

HTest(tcp_input, in_order_data_and_pure_acks_take_the_fast_path)
{
	struct h_conn c = h_establish(&h, H_TS);
	uint64_t hits = h_tcpext_mib(&h, TCPEXT_TCP_HP_HITS);
	uint64_t hpacks = h_tcpext_mib(&h, TCPEXT_TCP_HP_ACKS);
	uint64_t pure = h_tcpext_mib(&h, TCPEXT_TCP_PURE_ACKS);

	for (int i = 0; i < 3; i++) {
		peer_data(&c, 1 + i * 100, 100);
		h_expect(&h, &c,
			 SEG(.flags = TH_ACK, .seq = 1, .ack = 101 + i * 100, .win = H_ANY));
	}
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_HP_HITS), hits + 3);
	read_exactly(&c, 1, 300);

	/* A pure ACK of our data, same window: the fast path too. */
	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 301);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 301, .ack = 101));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_HP_ACKS), hpacks + 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_PURE_ACKS), pure);
	cr_assert_eq(hd_info(&h, &c).unacked, 0);
	h_expect_nothing(&h);
}

HTest(tcp_input, unpredicted_segments_take_the_slow_path)
{
	struct h_conn c = h_establish(&h, H_TS | H_SACK);
	uint64_t hits, hpacks, pure;

	peer_data(&c, 1, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY));
	hits = h_tcpext_mib(&h, TCPEXT_TCP_HP_HITS);
	hpacks = h_tcpext_mib(&h, TCPEXT_TCP_HP_ACKS);
	pure = h_tcpext_mib(&h, TCPEXT_TCP_PURE_ACKS);
	/* Out of order: not predicted. */
	peer_data(&c, 201, 100);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .win = H_ANY, .nsack = 1,
		     .sack = { { 201, 301 } }));
	/* Its filling is in order, but the out-of-order queue is not empty. */
	peer_data(&c, 101, 100);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 301, .win = H_ANY));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_HP_HITS), hits);
	/* A window change is not predicted: the pure ACK goes the slow way. */
	hd_write(&h, &c, 0, 100);
	hd_expect_data(&h, &c, TH_ACK | TH_PSH, 1, 100, 301);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 301, .ack = 101, .win = 30000));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_HP_ACKS), hpacks);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_PURE_ACKS), pure + 1);
	cr_assert_eq(hd_info(&h, &c).snd_wnd, 30000);
	read_exactly(&c, 1, 300);
	h_expect_nothing(&h);
}

/* --- receive-buffer autotuning (Linux tcp_rcv_space_adjust, DRS) ---------------------------- */

/*
 * A bulk sender in rounds of one RTT: round k brings segs[k] full segments,
 * each echoing the timestamp of our latest ACK (one RTT old), the
 * application reads every byte at once. Return: the largest window (bytes)
 * usnet advertised in the last round.
 */
static uint32_t bulk_rounds(struct h_conn *c, const unsigned int *segs, unsigned int rounds,
			    uint64_t rtt, uint32_t *seqp, uint32_t *max_seen)
{
	static uint8_t buf[1 << 16];
	const uint32_t mss = c->tp->mss_cache;
	uint32_t seq = *seqp, last = 0;
	struct h_tcp_info t;

	for (unsigned int r = 0; r < rounds; r++) {
		last = 0;
		for (unsigned int i = 0; i < segs[r]; i++) {
			peer_data(c, seq, mss);
			seq += mss;
			cr_assert_eq(h_read(&h, c, buf, sizeof(buf)), mss);
			while (hd_pop_tcp(&h, c, &t)) {
				uint32_t w = (uint32_t)t.win << c->our_wscale;

				if (w > last)
					last = w;
				if (w > *max_seen)
					*max_seen = w;
			}
		}
		h_advance(&h, rtt);
		while (hd_pop_tcp(&h, c, &t))
			;
	}
	*seqp = seq;
	return last;
}

HTest(tcp_input, receive_window_grows_when_the_application_keeps_up)
{
	static const unsigned int segs[] = { 10, 20, 40, 80 };
	struct h_conn c = hd_establish_rtt(&h, H_TS | H_WS | H_SACK, 10 * MS);
	uint32_t seq = 1, max_seen = 0, start = c.tp->sk.rcvbuf;
	uint32_t last;

	last = bulk_rounds(&c, segs, 4, 10 * MS, &seq, &max_seen);
	/* Twice what the application took in an RTT, and more while the
	 * sender doubles its rate (Linux tcp_rcv_space_adjust): well past
	 * the initial tcp_rmem[1] after 80 segments in an RTT. */
	cr_assert_gt(last, start + start / 2, "window %u after growth, started at %u", last, start);
	cr_assert_gt(c.tp->sk.rcvbuf, start);
	cr_assert_leq(max_seen, h.st.cfg.tun.tcp_rmem[2]);
	cr_assert_gt(hd_info(&h, &c).rcv_space, 10u * c.tp->advmss);
}

HTest(tcp_input, receive_window_growth_stops_at_tcp_rmem_max)
{
	static const unsigned int segs[] = { 10, 20, 40, 80, 80, 80 };
	struct h_conn c;
	uint32_t seq = 1, max_seen = 0;

	init_rcvbuf(131072, 200000);
	c = hd_establish_rtt(&h, H_TS | H_WS | H_SACK, 10 * MS);
	bulk_rounds(&c, segs, 6, 10 * MS, &seq, &max_seen);
	cr_assert_leq(max_seen, 200000u, "window %u beyond tcp_rmem[2]", max_seen);
	cr_assert_gt(max_seen, 131072u, "the window did grow");
	cr_assert_leq(c.tp->sk.rcvbuf, 200000u);
}

HTest(tcp_input, so_rcvbuf_turns_autotuning_off)
{
	static const unsigned int segs[] = { 10, 20, 40, 80 };
	struct h_conn c = hd_establish_rtt(&h, H_TS | H_WS | H_SACK, 10 * MS);
	uint32_t seq = 1, max_seen = 0;
	int rcvbuf;

	/* Linux: SO_RCVBUF sets SOCK_RCVBUF_LOCK, and tcp_rcv_space_adjust
	 * leaves a locked buffer alone. */
	hd_setopt(&h, &c, TCP_OPT_RCVBUF, 50000);
	bulk_rounds(&c, segs, 4, 10 * MS, &seq, &max_seen);
	cr_assert_eq(tcp_getopt(&h.st, c.tp, TCP_OPT_RCVBUF, &rcvbuf), 0);
	cr_assert_eq(rcvbuf, 100000, "SO_RCVBUF 50000 reads back doubled, and stays");
	cr_assert_leq(max_seen, 100000u);
}
