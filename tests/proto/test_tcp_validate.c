// SPDX-License-Identifier: MIT
/*
 * What a TCP endpoint accepts (RFC 9293 §3.10.7.4 first steps, Linux
 * tcp_validate_incoming, tcp_v4_rcv): RFC 5961 blind-attack mitigations
 * (challenge ACKs for in-window RSTs, SYNs and unacceptable ACKs, and
 * their rate limits), RFC 7323 PAWS and TS.Recent, and malformed segments:
 * checksum, data offset, illegal flag combinations, broken options.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness_tcp.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(tcp_validate, .init = setup, .fini = teardown, .timeout = 10);

/* The connection is alive: new data is taken and acknowledged. */
static void expect_alive(struct h_conn *c, uint32_t seq, uint32_t ack)
{
	h_advance(&h, 600 * MS); /* past any rate limit */
	h_send(&h, c, SEG(.flags = TH_ACK | TH_PSH, .seq = seq, .ack = ack, .data = "ok"));
	h_expect(&h, c, SEG(.flags = TH_ACK, .seq = ack, .ack = seq + 2));
	cr_assert_eq(h_tcp_state(c), TCP_ESTABLISHED);
}

/* --- RFC 5961 §3: RST ------------------------------------------------------------------------ */

HTest(tcp_validate, rst_in_window_but_not_at_rcv_nxt_gets_a_challenge_ack)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1000));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 0);
	cr_assert_eq(h_events(&h, &c) & SK_EV_ERROR, 0);
	h_expect_drop(&h, DROP_TCP_RESET);
	expect_alive(&c, 1, 1);
}

HTest(tcp_validate, rst_at_rcv_nxt_resets_the_connection)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "abc"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 4));
	h_send(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 4, .ack = 1));
	h_expect_nothing(&h);
	cr_assert(h_events(&h, &c) & SK_EV_ERROR);
	cr_assert_eq(c.tp->sk.err, ECONNRESET);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 0);
}

HTest(tcp_validate, rst_outside_the_window_is_dropped_silently)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	/* Beyond the window (about 64 KB). */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1 + 200000));
	/* Before it. */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = (uint32_t)-5000));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 0);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	cr_assert_eq(h_drops(&h, DROP_TCP_INVALID_SEQUENCE), 1);
	cr_assert_eq(h_drops(&h, DROP_TCP_OLD_SEQUENCE), 1);
}

HTest(tcp_validate, rst_at_the_right_edge_of_the_highest_sack_block_resets)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_SACK);

	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 101, .ack = 1, .len = 50));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .nsack = 1, .sack = { { 101, 151 } }));
	/* Linux tcp_validate_incoming(): RCV.NXT, or the end of the highest
	 * SACK block we sent (the peer may think that data acknowledged). */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 151));
	h_expect_nothing(&h);
	cr_assert_eq(c.tp->sk.err, ECONNRESET);
}

/* --- RFC 5961 §4: SYN in a synchronized state ------------------------------------------------ */

HTest(tcp_validate, syn_in_established_gets_a_challenge_ack)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_SYN, .seq = 500, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_CHALLENGE), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 1);
	h_expect_drop(&h, DROP_TCP_INVALID_SYN);
	/* Out of the window too: a SYN is never just dropped. */
	h_advance(&h, 600 * MS);
	h_send(&h, &c, SEG(.flags = TH_SYN, .seq = 1 + 500000, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_CHALLENGE), 2);
	h_expect_drop(&h, DROP_TCP_INVALID_SYN);
	expect_alive(&c, 1, 1);
}

HTest(tcp_validate, syn_after_the_peers_fin_counts_no_inerrs)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE_WAIT);
	h_send(&h, &c, SEG(.flags = TH_SYN, .seq = 2, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	/* Linux counts InErrs for it only in ESTABLISHED (syn_inerr). */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_CHALLENGE), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 0);
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE_WAIT);
}

/* --- RFC 5961 §5: ACK ---------------------------------------------------------------------------- */

HTest(tcp_validate, ack_of_unsent_data_gets_a_challenge_ack_and_is_dropped)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 100, .data = "xyz"));
	/* Linux tcp_ack(): the segment (data included) is dropped and
	 * answered with a challenge ACK. */
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 1);
	cr_assert_eq(h_readable(&c), 0);
	h_expect_drop(&h, DROP_TCP_ACK_UNSENT_DATA);
	expect_alive(&c, 1, 1);
}

HTest(tcp_validate, ack_below_the_window_gets_a_challenge_ack)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	char data[1000];

	memset(data, 'd', sizeof(data));
	h_write(&h, &c, data, sizeof(data));
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .len = 1000));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1001));
	/* max_window here is min(largest window, bytes acked) = 1000. An
	 * ACK further back than that cannot be an old duplicate. */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = (uint32_t)-5000, .data = "no"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1001, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 1);
	cr_assert_eq(h_readable(&c), 0);
	h_expect_drop(&h, DROP_TCP_TOO_OLD_ACK);
	/* An old ACK within that distance is just old: its data counts. */
	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 501, .data = "yes"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1001, .ack = 4));
	cr_assert_eq(h_readable(&c), 3);
	h_expect_no_drop(&h);
}

/* --- challenge ACK rate limits (RFC 5961 §7) ----------------------------------------------- */

HTest(tcp_validate, challenge_acks_are_limited_per_socket)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1000));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	/* Linux tcp_send_challenge_ack(): one per tcp_invalid_ratelimit. */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 2000));
	h_send(&h, &c, SEG(.flags = TH_SYN, .seq = 2000));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ACK_SKIPPED_CHALLENGE), 2);
	h_advance(&h, 500 * MS);
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 3000));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 2);
}

static unsigned int rsts_answered(struct h_conn *c, unsigned int n)
{
	unsigned int acks = 0;

	for (unsigned int i = 0; i < n; i++) {
		h_send(&h, c, SEG(.flags = TH_RST, .seq = 1000 + i));
		acks += h_drain(&h);
	}
	return acks;
}

HTest(tcp_validate, challenge_acks_are_limited_stack_wide_per_second)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	uint64_t before;
	unsigned int acks;

	h.st.cfg.tun.tcp_invalid_ratelimit_ms = 0;
	h.st.cfg.tun.tcp_challenge_ack_limit = 10;
	/* Linux: a budget drawn between limit/2 and 3*limit/2 each second. */
	before = h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK);
	acks = rsts_answered(&c, 100);
	cr_assert(acks >= 5 && acks <= 15, "%u challenge ACKs in one second", acks);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK) - before, acks);
	h_advance(&h, 1 * SEC);
	acks = rsts_answered(&c, 100);
	cr_assert(acks >= 5 && acks <= 15, "%u challenge ACKs in the next second", acks);
}

HTest(tcp_validate, no_stack_wide_challenge_limit_by_default)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	/* Linux 6.0+: tcp_challenge_ack_limit defaults to INT_MAX, which
	 * turns the stack-wide limit off. */
	cr_assert_eq(h.st.cfg.tun.tcp_challenge_ack_limit, INT32_MAX);
	h.st.cfg.tun.tcp_invalid_ratelimit_ms = 0;
	cr_assert_eq(rsts_answered(&c, 3000), 3000);
}

/* --- RFC 7323 PAWS and TS.Recent ---------------------------------------------------------------- */

HTest(tcp_validate, paws_drops_and_acks_an_old_timestamp)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "abc", .ts = true,
		   .ts_val = 5000, .ts_ecr = h_ts(&h)));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 4, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 5000));
	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 4, .ack = 1, .data = "def", .ts = true,
		   .ts_val = 4000, .ts_ecr = h_ts(&h)));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 4, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 5000));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 1);
	h_expect_drop(&h, DROP_TCP_RFC7323_PAWS);
	/* Segments with data are answered every time (Linux
	 * tcp_oow_rate_limited() limits only ACK-only segments). */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 4, .ack = 1, .data = "def", .ts = true,
		   .ts_val = 4000, .ts_ecr = h_ts(&h)));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 4, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 5000));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 2);
	cr_assert_eq(h_readable(&c), 3);
	h_expect_drop(&h, DROP_TCP_RFC7323_PAWS);
}

HTest(tcp_validate, paws_acks_to_old_pure_acks_are_rate_limited)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = 5000,
		   .ts_ecr = h_ts(&h), .win = 1000));
	/* An old TSval on an ACK that also changes the window: not a mere
	 * reordered duplicate ACK, so PAWS applies. */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = 3000,
		   .ts_ecr = h_ts(&h), .win = 2000));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 5000));
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = 3000,
		   .ts_ecr = h_ts(&h), .win = 2000));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 2);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ACK_SKIPPED_PAWS), 1);
	h_expect_drops(&h, DROP_TCP_RFC7323_PAWS, 2);
}

HTest(tcp_validate, reordered_duplicate_ack_with_an_older_timestamp_passes)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);
	uint32_t t = h_ts(&h);

	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = t + 100,
		   .ts_ecr = t));
	/* Linux tcp_disordered_ack(): a pure duplicate ACK whose TSval is
	 * older by less than an RTO was just reordered. */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = t + 90, .ts_ecr = t));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 0);
	h_expect_no_drop(&h);
}

HTest(tcp_validate, rst_is_accepted_even_when_it_fails_paws)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = 5000,
		   .ts_ecr = h_ts(&h)));
	/* RFC 7323 §5.2 / Linux: RSTs do not go through PAWS. */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1, .ts = true, .ts_val = 10, .ts_ecr = 0));
	h_expect_nothing(&h);
	cr_assert_eq(c.tp->sk.err, ECONNRESET);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 0);
}

HTest(tcp_validate, syn_with_an_old_timestamp_gets_a_challenge_ack)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_send(&h, &c,
	       SEG(.flags = TH_SYN, .seq = 100, .mss = 1460, .ts = true, .ts_val = 1, .ts_ecr = 0));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_CHALLENGE), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 0);
	h_expect_drop(&h, DROP_TCP_INVALID_SYN);
}

HTest(tcp_validate, ts_recent_follows_only_the_left_window_edge)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS | H_SACK);
	uint32_t t = h_ts(&h);

	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .len = 100, .ts = true, .ts_val = 2000,
		   .ts_ecr = t));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .ts = true, .ts_val = t,
		     .ts_ecr = 2000));
	/* Out of order, with a newer TSval: RFC 7323 §4.3 keeps TS.Recent
	 * (SEG.SEQ is beyond Last.ACK.sent). */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 201, .ack = 1, .len = 100, .ts = true, .ts_val = 3000,
		   .ts_ecr = t));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 101, .ts = true, .ts_val = t, .ts_ecr = 2000,
		     .nsack = 1, .sack = { { 201, 301 } }));
	/* The segment that fills the hole is at the left edge: its TSval. */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 101, .ack = 1, .len = 100, .ts = true, .ts_val = 2500,
		   .ts_ecr = t));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 301, .ts = true, .ts_val = t,
		     .ts_ecr = 2500));
}

HTest(tcp_validate, paws_ignores_a_ts_recent_older_than_24_days)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);
	char buf[8];

	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "a", .ts = true,
		   .ts_val = 100000, .ts_ecr = h_ts(&h)));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2, .ts = true, .ts_any = true));
	/* 23 days idle: TS.Recent still counts. */
	h_advance(&h, 23ull * 24 * 3600 * SEC);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 2, .ack = 1, .data = "b", .ts = true,
		   .ts_val = 50, .ts_ecr = h_ts(&h)));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2, .ts = true, .ts_any = true));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 1);
	/* RFC 7323 §5.5: after 24 days it is invalid, the segment passes. */
	h_advance(&h, 2ull * 24 * 3600 * SEC);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 2, .ack = 1, .data = "b", .ts = true,
		   .ts_val = 50, .ts_ecr = h_ts(&h)));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 3, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 50));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 1);
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), 2);
	cr_assert(!memcmp(buf, "ab", 2));
}

/* --- out-of-window segments ----------------------------------------------------------------- */

HTest(tcp_validate, out_of_window_data_is_acked_every_time)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	/* Linux tcp_oow_rate_limited(): segments with data are not part of
	 * an ACK loop, each gets its duplicate ACK. */
	for (int i = 0; i < 3; i++) {
		h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1 + 300000, .ack = 1, .data = "far"));
		h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	}
	h_expect_drops(&h, DROP_TCP_INVALID_SEQUENCE, 3);
}

HTest(tcp_validate, out_of_window_acks_are_rate_limited)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1 + 300000, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1 + 300000, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ACK_SKIPPED_SEQ), 1);
	h_expect_drops(&h, DROP_TCP_INVALID_SEQUENCE, 2);
}

/* --- malformed segments ------------------------------------------------------------------------ */

HTest(tcp_validate, bad_checksum_is_dropped_and_counted)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "bad", .bad_csum = true));
	h_expect_nothing(&h);
	cr_assert_eq(h_readable(&c), 0);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_CSUM_ERRORS), 1);
	h_expect_drop(&h, DROP_TCP_CSUM);
	/* To a closed port: no RST for a segment that may be garbage. */
	c.our_port = 81;
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .bad_csum = true));
	h_expect_nothing(&h);
	h_expect_drop(&h, DROP_TCP_CSUM);
	c.our_port = H_OUR_PORT;
	expect_alive(&c, 1, 1);
}

HTest(tcp_validate, data_offset_below_five_words)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "abcdef", .doff = 4));
	h_expect_nothing(&h);
	/* Linux tcp_v4_rcv(): bad_packet, InErrs. */
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 1);
	h_expect_drop(&h, DROP_TCP_HDR);
}

HTest(tcp_validate, data_offset_beyond_the_segment)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	c.our_port = 81; /* not even a RST for it */
	h_send(&h, &c, SEG(.flags = TH_SYN, .doff = 15));
	h_expect_nothing(&h);
	/* Linux: pskb_may_pull() fails, discard_it: no InErrs. */
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 0);
	h_expect_drop(&h, DROP_TCP_HDR);
}

HTest(tcp_validate, segment_shorter_than_a_tcp_header)
{
	uint8_t frame[H_FRAME_MAX];
	struct h_ip ip = IP(.protocol = IPPROTO_TCP_, .data = "0123456789", .len = 10);
	unsigned int n = h_build_ip(frame, sizeof(frame), &ip);

	h_send_raw(&h, frame, n);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_SEGS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 0);
	h_expect_drop(&h, DROP_TCP_HDR);
}

/* Linux tcp_rcv_state_process(), TCP_LISTEN: SYN+FIN is dropped, SYN+RST
 * goes the way of every RST; neither opens a connection. */
HTest(tcp_validate, syn_fin_and_syn_rst_to_a_listener_are_dropped)
{
	struct h_conn l = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &l, SEG(.flags = TH_SYN | TH_FIN, .mss = 1460));
	h_expect_drop(&h, DROP_TCP_FLAGS);
	h_send(&h, &l, SEG(.flags = TH_SYN | TH_RST, .mss = 1460));
	h_expect_drop(&h, DROP_TCP_RESET);
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &l), TCP_CLOSE);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_PASSIVE_OPENS), 0);
}

/* On a connection SYN+FIN is a SYN in a synchronized state: a challenge
 * ACK (RFC 5961 §4.2), as Linux's tcp_validate_incoming() answers it. */
HTest(tcp_validate, syn_fin_on_a_connection_gets_a_challenge_ack)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_SYN | TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_CHALLENGE), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_IN_ERRS), 1);
	h_expect_drop(&h, DROP_TCP_INVALID_SYN);
	expect_alive(&c, 1, 1);
}

/* SYN+RST: the RST is checked first (RFC 5961 §3.2). At RCV.NXT it resets
 * the connection, as Linux does; in the window elsewhere it gets a
 * challenge ACK. */
HTest(tcp_validate, syn_rst_on_a_connection_is_a_rst)
{
	struct h_conn c = h_establish(&h, H_PASSIVE), d = h_establish(&h, H_PASSIVE);

	h_send(&h, &d, SEG(.flags = TH_SYN | TH_RST, .seq = 100));
	h_expect(&h, &d, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 1);
	expect_alive(&d, 1, 1);
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_RST, .seq = 1));
	h_expect_nothing(&h);
	cr_assert(h_events(&h, &c) & SK_EV_ERROR);
	cr_assert_eq(c.tp->sk.err, ECONNRESET);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 1);
}

HTest(tcp_validate, segment_without_flags)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	struct h_conn l = h_conn_new(&h, H_PASSIVE), z = h_conn_new(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = 0, .seq = 1, .data = "null"));
	h_send(&h, &l, SEG(.flags = 0, .seq = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_readable(&c), 0);
	h_expect_drops(&h, DROP_TCP_FLAGS, 2);
	/* A closed port answers anything but a RST (RFC 9293 §3.10.7.1). */
	z.our_port = 81;
	h_send(&h, &z, SEG(.flags = 0, .seq = 1, .data = "null"));
	h_expect(&h, &z, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 5, .win = 0));
	h_expect_drop(&h, DROP_NO_SOCKET);
}

HTest(tcp_validate, unacceptable_ack_in_syn_recv_is_reset)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 7));
	/* RFC 9293 §3.10.7.4: <SEQ=SEG.ACK><CTL=RST>; the request stays. */
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 7, .ack = 0, .win = 0));
	cr_assert_eq(h_conn_state(&h, &c), TCP_SYN_RECV);
	h_expect_drop(&h, DROP_TCP_INVALID_ACK_SEQUENCE);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert(h_accept(&h, &c));
}

HTest(tcp_validate, malformed_options_leave_the_segment_usable)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	/* A timestamp option whose length runs past the header, and one with
	 * length 0: parsing stops there (Linux tcp_parse_options). */
	static const uint8_t past_end[] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 12 };
	static const uint8_t zero_len[] = { TCPOPT_TIMESTAMP, 0, 0, 0 };

	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "one",
		   .raw_opts = past_end, .raw_opts_len = sizeof(past_end)));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 4));
	h_send(&h, &c,
	       SEG(.flags = TH_ACK | TH_PSH, .seq = 4, .ack = 1, .data = "two",
		   .raw_opts = zero_len, .raw_opts_len = sizeof(zero_len)));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 7));
	cr_assert_eq(h_readable(&c), 6);
	h_expect_no_drop(&h);
}

HTest(tcp_validate, mss_option_on_a_non_syn_is_ignored)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	char data[3000];

	memset(data, 'm', sizeof(data));
	/* RFC 9293 §3.7.1: MSS only on SYNs. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .mss = 100));
	h_write(&h, &c, data, sizeof(data));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .len = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1461, .ack = 1, .len = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 2921, .ack = 1, .len = 80));
}
