// SPDX-License-Identifier: MIT
/*
 * TIME-WAIT (RFC 9293 §3.6.1, Linux tcp_minisocks.c): the 60 s entry and
 * its counter, retransmitted FINs, a new SYN that may reopen the tuple
 * (RFC 1122 §4.2.2.13, RFC 6191) and an old one that may not, RST
 * (tcp_rfc1337 = 0), connect() taking over a TIME-WAIT tuple
 * (tcp_tw_reuse), and the FIN-WAIT-2 timeout of an orphan
 * (tcp_fin_timeout).
 */
#include <criterion/criterion.h>
#include <errno.h>
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

TestSuite(tcp_timewait, .init = setup, .fini = teardown, .timeout = 10);

/* Linux tcp_twsk_unique() / tcp_timewait_state_process(): the ISN a
 * connection reusing the tuple starts from. */
#define TW_ISN(c) ((c)->our_isn + 2 + 65535 + 2)

/* Close first (the application), then the peer: TIME-WAIT. */
static struct h_conn to_time_wait(unsigned int flags)
{
	struct h_conn c = h_establish(&h, flags);

	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_expect_no_drop(&h);
	return c;
}

HTest(tcp_timewait, time_wait_lasts_60_seconds)
{
	struct h_conn c = to_time_wait(H_PASSIVE);
	uint64_t t0 = h.now;

	/* Linux counts TW when the entry is scheduled for more than 4 s
	 * (__inet_twsk_schedule). */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TW), 1);
	cr_assert_eq(h.st.tcp.port_refs[H_OUR_PORT], 2, "listener and TIME-WAIT hold port 80");
	h_advance(&h, 60 * SEC - 1 * MS);
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_advance(&h, t0 + 60 * SEC + 1 * MS - h.now);
	cr_assert_eq(h_tw_state(&h, &c), 0);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TW), 1);
	cr_assert_eq(h.st.tcp.port_refs[H_OUR_PORT], 1);
}

HTest(tcp_timewait, acks_carry_timestamps)
{
	struct h_conn c = to_time_wait(H_PASSIVE | H_TS);

	h_advance(&h, 5 * SEC);
	/* An old ACK: answered with the TIME-WAIT ACK, echoing TS.Recent. */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 2, .ts = true, .ts_val = h_ts(&h),
		   .ts_ecr = 0));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 2, .ack = 2, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = h_ts(&h) - 5000));
	h_expect_drop(&h, DROP_TCP_TIMEWAIT);
}

HTest(tcp_timewait, retransmitted_fin_is_acked_and_restarts_the_timer)
{
	struct h_conn c = to_time_wait(H_PASSIVE);
	uint64_t t1;

	h_advance(&h, 30 * SEC);
	/* Our last ACK was lost: the peer sends its FIN again. */
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	t1 = h.now;
	/* Twice in a row: FINs are never rate limited (they carry a
	 * sequence number; Linux tcp_oow_rate_limited()). */
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	h_advance(&h, 60 * SEC - 1 * MS);
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_advance(&h, t1 + 60 * SEC + 1 * MS - h.now);
	cr_assert_eq(h_tw_state(&h, &c), 0);
	h_expect_drops(&h, DROP_TCP_TIMEWAIT, 2);
}

HTest(tcp_timewait, acks_to_old_segments_are_rate_limited)
{
	struct h_conn c = to_time_wait(H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 500, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	/* Linux tcp_timewait_check_oow_rate_limit(): one per
	 * tcp_invalid_ratelimit (500 ms). */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 500, .ack = 2));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ACK_SKIPPED_TIME_WAIT), 1);
	h_advance(&h, 500 * MS);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 500, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	h_expect_drops(&h, DROP_TCP_TIMEWAIT, 3);
}

HTest(tcp_timewait, new_syn_with_a_higher_sequence_number_reopens_the_tuple)
{
	struct h_conn c = to_time_wait(H_PASSIVE);
	struct h_conn n = c;

	h_advance(&h, 10 * SEC);
	n.peer_isn = c.peer_isn + 100000;
	n.isn_known = false;
	n.tp = NULL;
	h_send(&h, &n, SEG(.flags = TH_SYN, .mss = 1460));
	/* The new ISN starts beyond anything the old connection used. */
	h_expect(&h, &n,
		 SEG(.flags = TH_SYN | TH_ACK, .abs = true, .seq = TW_ISN(&c),
		     .ack = n.peer_isn + 1, .mss = 1460));
	cr_assert_eq(h_conn_state(&h, &n), TCP_SYN_RECV);
	cr_assert_eq(h_tw_state(&h, &n), 0);
	h_send(&h, &n, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert(h_accept(&h, &n));
	cr_assert_eq(h_tcp_state(&n), TCP_ESTABLISHED);
	/* Linux counts TWRecycled only when connect() takes a tuple over
	 * (__inet_check_established), not for a SYN that reopens it. */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TW_RECYCLED), 0);
	h_expect_no_drop(&h);
}

HTest(tcp_timewait, new_syn_with_a_newer_timestamp_reopens_the_tuple)
{
	struct h_conn c = to_time_wait(H_PASSIVE | H_TS);
	struct h_conn n = c;

	h_advance(&h, 1 * SEC);
	/* Same ISN as before (not above RCV.NXT), but a newer TSval
	 * (RFC 6191). */
	n.isn_known = false;
	n.tp = NULL;
	n.ts = false;
	h_send(&h, &n, SEG(.flags = TH_SYN, .mss = 1460, .ts = true, .ts_val = h_ts(&h)));
	h_expect(&h, &n,
		 SEG(.flags = TH_SYN | TH_ACK, .abs = true, .seq = TW_ISN(&c),
		     .ack = n.peer_isn + 1, .mss = 1460, .ts = true, .ts_any = true));
	cr_assert_eq(h_conn_state(&h, &n), TCP_SYN_RECV);
}

HTest(tcp_timewait, old_duplicate_syn_is_answered_with_the_last_ack)
{
	struct h_conn c = to_time_wait(H_PASSIVE);
	uint64_t t0 = h.now;

	h_advance(&h, 10 * SEC);
	h_send(&h, &c, SEG(.flags = TH_SYN, .seq = 0, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_expect_drop(&h, DROP_TCP_TIMEWAIT);
	/* An ACK-less SYN does not restart the timer (Linux). */
	h_advance(&h, t0 + 60 * SEC + 1 * MS - h.now);
	cr_assert_eq(h_tw_state(&h, &c), 0);
}

HTest(tcp_timewait, syn_with_an_older_timestamp_fails_paws)
{
	struct h_conn c = to_time_wait(H_PASSIVE | H_TS);
	struct h_conn n = c;

	h_advance(&h, 10 * SEC);
	n.peer_isn = c.peer_isn + 100000;
	n.ts = false;
	h_send(&h, &n, SEG(.flags = TH_SYN, .mss = 1460, .ts = true, .ts_val = 3));
	/* Higher sequence number, but PAWS rejects it: the TIME-WAIT ACK,
	 * and PAWSEstab. */
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2, .ts = true, .ts_any = true));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ESTAB), 1);
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_expect_drop(&h, DROP_TCP_TIMEWAIT);
}

HTest(tcp_timewait, new_syn_without_a_listener_keeps_time_wait)
{
	struct h_conn c = to_time_wait(H_ACTIVE);
	struct h_conn n = c;

	n.peer_isn = c.peer_isn + 100000;
	h_send(&h, &n, SEG(.flags = TH_SYN, .mss = 1460));
	/* Nobody listens on our ephemeral port: Linux answers with the
	 * TIME-WAIT ACK (tcp_v4_rcv, TCP_TW_SYN without a listener). */
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 0);
}

HTest(tcp_timewait, rst_at_rcv_nxt_kills_time_wait)
{
	struct h_conn c = to_time_wait(H_PASSIVE);

	/* Not at RCV.NXT: ignored, no answer to a RST. */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 5));
	h_expect_nothing(&h);
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_expect_drop(&h, DROP_TCP_TIMEWAIT);
	/* tcp_rfc1337 = 0: TIME-WAIT assassination is allowed (Linux). */
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 2));
	h_expect_nothing(&h);
	cr_assert_eq(h_tw_state(&h, &c), 0);
	h_expect_drop(&h, DROP_TCP_RESET);
}

/* --- connect() over a TIME-WAIT tuple (Linux tcp_twsk_unique) ------------------------------- */

/* A new socket bound to @c's local port (SO_REUSEADDR) connecting to the
 * same peer port. */
static int reconnect(struct h_conn *n, const struct h_conn *c)
{
	int rc;

	*n = h_conn_new(&h, H_ACTIVE | (c->flags & H_TS));
	n->peer_port = c->peer_port;
	n->our_port = c->our_port;
	n->peer_isn = c->peer_isn + 7;
	h.st.now = h.now;
	n->tp = tcp_open(&h.st);
	cr_assert(n->tp);
	h_attach(&h, n);
	cr_assert_eq(tcp_setopt(&h.st, n->tp, TCP_OPT_REUSEADDR, 1), 0);
	rc = tcp_bind(&h.st, n->tp, 0, htons(c->our_port));
	cr_assert_eq(rc, 0, "bind to the TIME-WAIT port: %d", rc);
	return tcp_connect(&h.st, n->tp, H_PEER_IP, htons(c->peer_port));
}

HTest(tcp_timewait, connect_takes_over_time_wait_when_timestamps_allow)
{
	struct h_conn c = to_time_wait(H_ACTIVE | H_TS);
	struct h_conn n;

	/* TS.Recent is at least a second old: PAWS will reject the old
	 * incarnation's segments. */
	h_advance(&h, 1 * SEC);
	cr_assert_eq(reconnect(&n, &c), 0);
	h_expect(&h, &n,
		 SEG(.flags = TH_SYN, .abs = true, .seq = TW_ISN(&c), .ack = 0, .mss = 1460,
		     .sack_ok = true, .wscale = 7, .ts = true, .ts_any = true));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TW_RECYCLED), 1);
	cr_assert_eq(h_tw_state(&h, &c), 0);
	cr_assert_eq(h_tcp_state(&n), TCP_SYN_SENT);
}

HTest(tcp_timewait, connect_over_time_wait_within_a_second_is_eaddrnotavail)
{
	struct h_conn c = to_time_wait(H_ACTIVE | H_TS);
	struct h_conn n;

	cr_assert_eq(reconnect(&n, &c), -EADDRNOTAVAIL);
	h_expect_nothing(&h);
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	cr_assert_eq(h_tcp_state(&n), TCP_CLOSE);
	/* The same socket may try again once the second has passed. */
	h_advance(&h, 1 * SEC);
	h.st.now = h.now;
	cr_assert_eq(tcp_connect(&h.st, n.tp, H_PEER_IP, htons(c.peer_port)), 0);
	h_expect(&h, &n,
		 SEG(.flags = TH_SYN, .abs = true, .seq = TW_ISN(&c), .ack = 0, .mss = 1460,
		     .opts_any = true));
}

HTest(tcp_timewait, connect_over_time_wait_without_timestamps_is_eaddrnotavail)
{
	struct h_conn c = to_time_wait(H_ACTIVE);
	struct h_conn n;

	h_advance(&h, 5 * SEC);
	cr_assert_eq(reconnect(&n, &c), -EADDRNOTAVAIL);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TW_RECYCLED), 0);
	h_expect_nothing(&h);
}

HTest(tcp_timewait, connect_over_time_wait_with_tw_reuse_off_is_eaddrnotavail)
{
	struct h_conn c = to_time_wait(H_ACTIVE | H_TS);
	struct h_conn n;

	h.st.cfg.tun.tcp_tw_reuse = 0;
	h_advance(&h, 5 * SEC);
	cr_assert_eq(reconnect(&n, &c), -EADDRNOTAVAIL);
	h_expect_nothing(&h);
}

/* --- FIN-WAIT-2 of an orphan (tcp_fin_timeout) ----------------------------------------------- */

static struct h_conn to_fin_wait2(unsigned int flags)
{
	struct h_conn c = h_establish(&h, flags);

	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_FIN_WAIT2);
	return c;
}

HTest(tcp_timewait, orphan_fin_wait2_times_out_after_tcp_fin_timeout)
{
	struct h_conn c = to_fin_wait2(H_PASSIVE);
	uint64_t t0 = h.now;

	h_advance(&h, 60 * SEC - 1 * MS);
	cr_assert_eq(h_conn_state(&h, &c), TCP_FIN_WAIT2);
	h_advance(&h, t0 + 60 * SEC + 1 * MS - h.now);
	/* Gone silently, no RST. */
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	h_expect_nothing(&h);
}

HTest(tcp_timewait, fin_timeout_follows_the_tunable)
{
	struct h_conn c;

	h.st.cfg.tun.tcp_fin_timeout_s = 10;
	c = to_fin_wait2(H_PASSIVE);
	h_advance(&h, 10 * SEC - 1 * MS);
	cr_assert_eq(h_conn_state(&h, &c), TCP_FIN_WAIT2);
	h_advance(&h, 2 * MS);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
}

HTest(tcp_timewait, fin_in_orphan_fin_wait2_enters_time_wait)
{
	struct h_conn c = to_fin_wait2(H_PASSIVE);
	uint64_t t1;

	h_advance(&h, 30 * SEC);
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	t1 = h.now;
	cr_assert_eq(h_conn_state(&h, &c), TCP_TIME_WAIT);
	/* A full 60 s of TIME-WAIT from the FIN, counted once. */
	h_advance(&h, 60 * SEC - 1 * MS);
	cr_assert_eq(h_conn_state(&h, &c), TCP_TIME_WAIT);
	h_advance(&h, t1 + 60 * SEC + 1 * MS - h.now);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TW), 1);
	h_expect_nothing(&h);
}

HTest(tcp_timewait, data_for_an_orphan_in_fin_wait2_is_reset)
{
	struct h_conn c = to_fin_wait2(H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 2, .data = "late"));
	/* Nobody can read it: RST (RFC 9293 §3.10.7.4, Linux TCP_TW_RST),
	 * <SEQ=SEG.ACK><CTL=RST>. */
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 2, .ack = 0, .win = 0));
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
}

HTest(tcp_timewait, owned_fin_wait2_does_not_time_out)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	cr_assert_eq(tcp_shutdown(&h.st, c.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	/* Linux applies tcp_fin_timeout to orphans only: the application may
	 * still be reading. */
	h_advance(&h, 300 * SEC);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_FIN_WAIT2);
}

HTest(tcp_timewait, full_time_wait_table_closes_at_once)
{
	struct stack_cfg cfg;
	struct h_conn a, b;

	h_fini(&h);
	stack_cfg_defaults(&cfg);
	cfg.tcp_max_tw_buckets = 1;
	h_init_cfg(&h, &cfg);
	a = to_time_wait(H_PASSIVE);
	b = h_establish(&h, H_PASSIVE);
	h_close(&h, &b);
	h_expect(&h, &b, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &b, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &b, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	/* Linux tcp_time_wait(): "time wait bucket table overflow". */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEWAIT_OVERFLOW), 1);
	cr_assert_eq(h_conn_state(&h, &b), TCP_CLOSE);
	cr_assert_eq(h_tw_state(&h, &a), TCP_TIME_WAIT);
}
