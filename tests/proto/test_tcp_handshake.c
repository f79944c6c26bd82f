// SPDX-License-Identifier: MIT
/*
 * TCP connection establishment (RFC 9293 §3.5) and option negotiation:
 * MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323), SACK-
 * permitted (RFC 2018), checked against what Linux sends and accepts.
 */
#include <criterion/criterion.h>
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

TestSuite(tcp_handshake, .init = setup, .fini = teardown, .timeout = 10);

/* --- smoke: the harness's own handshakes ------------------------------------------ */

HTest(tcp_handshake, passive_without_options_beyond_mss)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert_not(c.ts || c.sack || c.ws);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_PASSIVE_OPENS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ACTIVE_OPENS), 0);
}

HTest(tcp_handshake, passive_with_all_options)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_SACK | H_TS | H_WS);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert(c.ts && c.sack && c.ws);
	cr_assert_eq(c.our_wscale, 7, "usnet's shift for tcp_rmem[2] 6 MB: %d", c.our_wscale);
	cr_assert_eq(c.peer_wscale, H_PEER_WSCALE);
}

HTest(tcp_handshake, active_without_options_in_synack)
{
	struct h_conn c = h_establish(&h, H_ACTIVE);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert_not(c.ts || c.sack || c.ws);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ACTIVE_OPENS), 1);
	cr_assert(c.our_port >= 32768 && c.our_port <= 60999, "ephemeral port %u", c.our_port);
}

HTest(tcp_handshake, active_with_all_options)
{
	struct h_conn c = h_establish(&h, H_ACTIVE | H_SACK | H_TS | H_WS);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert(c.ts && c.sack && c.ws);
}

HTest(tcp_handshake, data_both_ways_after_passive_open)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);
	char buf[16];

	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "hello"));
	/* Quick-ACK mode at the start of a connection (Linux): ACKed at once. */
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 6));
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), 5);
	cr_assert(!memcmp(buf, "hello", 5));
	h_write(&h, &c, "world", 5);
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 6, .data = "world"));
	h_expect_nothing(&h);
}

HTest(tcp_handshake, two_connections_share_the_listener)
{
	struct h_conn a = h_establish(&h, H_PASSIVE);
	struct h_conn b = h_establish(&h, H_PASSIVE | H_TS);

	cr_assert_eq(a.listener, b.listener);
	cr_assert_neq(a.peer_port, b.peer_port);
	cr_assert_neq(a.tp, b.tp);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_PASSIVE_OPENS), 2);
}

/* --- helpers ------------------------------------------------------------------------- */

static uint8_t blob[16384];

static void fill_blob(void)
{
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + i / 251);
}

/* usnet sends @total bytes of blob from relative sequence 1 in segments of
 * @seg bytes; the last one has PSH if @push (the application's data ends
 * there). */
static void expect_run(struct h_conn *c, unsigned int total, unsigned int seg, bool push)
{
	for (unsigned int off = 0; off < total; off += seg) {
		unsigned int n = total - off < seg ? total - off : seg;
		int fl = push && off + n == total ? TH_ACK | TH_PSH : TH_ACK;

		h_expect(&h, c,
			 SEG(.flags = fl, .seq = 1 + off, .ack = 1, .data = blob + off, .len = n));
	}
}

static void expect_segments(struct h_conn *c, unsigned int total, unsigned int seg)
{
	expect_run(c, total, seg, true);
}

/* --- MSS (RFC 9293 §3.7.1) ------------------------------------------------------------ */

HTest(tcp_handshake, synack_mss_is_route_mtu_minus_40)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
}

HTest(tcp_handshake, synack_mss_follows_a_jumbo_mtu)
{
	struct stack_cfg cfg;
	struct h_conn c;

	h_fini(&h);
	stack_cfg_defaults(&cfg);
	cfg.mtu = 9000;
	h_init_cfg(&h, &cfg);
	c = h_conn_new(&h, H_PASSIVE);
	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 8960));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 8960));
}

HTest(tcp_handshake, listener_maxseg_lowers_the_synack_mss)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 16);
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	cr_assert_eq(tcp_setopt(&h.st, lt, TCP_OPT_MAXSEG, 1000), 0);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1000));
	/* The retransmitted SYN-ACK announces the same MSS (Linux keeps it in
	 * the request). */
	h_advance(&h, 1 * SEC + 1 * MS);
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1000));
	/* So does the answer to a retransmitted SYN. */
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1000));
}

HTest(tcp_handshake, peer_mss_clamps_our_segments)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	fill_blob();
	c.peer_mss = 536;
	h_handshake(&h, &c);
	h_write(&h, &c, blob, 1200);
	expect_segments(&c, 1200, 536);
	h_expect_nothing(&h);
}

HTest(tcp_handshake, peer_mss_less_timestamp_option_is_the_payload)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_TS);

	fill_blob();
	c.peer_mss = 1000;
	h_handshake(&h, &c);
	h_write(&h, &c, blob, 2000);
	/* RFC 7323 §3.2 / RFC 6691: the MSS option excludes TCP options. */
	expect_segments(&c, 2000, 988);
	h_expect_nothing(&h);
}

HTest(tcp_handshake, peer_without_mss_option_gets_536_byte_segments)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	fill_blob();
	c.peer_mss = H_NONE;
	h_handshake(&h, &c);
	h_write(&h, &c, blob, 1100);
	expect_segments(&c, 1100, 536);
}

HTest(tcp_handshake, larger_peer_mss_is_limited_by_our_route)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	fill_blob();
	c.peer_mss = 9000;
	h_handshake(&h, &c);
	h_write(&h, &c, blob, 3000);
	expect_segments(&c, 3000, 1460);
}

HTest(tcp_handshake, active_open_uses_the_synack_mss)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	fill_blob();
	c.peer_mss = 1000;
	h_handshake(&h, &c);
	h_write(&h, &c, blob, 2500);
	expect_segments(&c, 2500, 1000);
}

/* --- initial windows and our SYN -------------------------------------------------------- */

HTest(tcp_handshake, active_syn_is_what_linux_sends)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	/* Linux 6.1: <mss 1460,sackOK,TS val ecr 0,nop,wscale 7>, window
	 * 64240 (65535 rounded down to the MSS). */
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN, .win = 64240, .mss = 1460, .sack_ok = true, .wscale = 7,
		     .ts = true, .ts_val = h_ts(&h), .ts_ecr = 0));
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ACTIVE_OPENS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_SEGS), 1);
}

HTest(tcp_handshake, synack_window_is_rounded_to_the_mss)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460, .win = 64240));
}

HTest(tcp_handshake, synack_window_with_timestamps_is_rounded_to_the_mss_less_12)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_TS);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .ts = true, .ts_val = 5));
	/* Linux tcp_openreq_init_rwin(): 65535 rounded down to 1448, 65160. */
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460, .win = 65160, .ts = true,
		     .ts_val = h_ts(&h), .ts_ecr = 5));
}

/* --- window scale (RFC 7323 §2) ---------------------------------------------------------- */

HTest(tcp_handshake, window_scale_applies_to_the_peers_window)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_WS);

	fill_blob();
	c.peer_win = 40;
	h_handshake(&h, &c);
	cr_assert(c.ws);
	/* 40 << 7 = 5120 bytes: three full segments, and 740 bytes of room,
	 * which is less than half the largest window seen (RFC 9293
	 * §3.8.6.2.1): the rest waits. */
	h_write(&h, &c, blob, 6000);
	expect_run(&c, 3 * 1460, 1460, false);
	h_expect_nothing(&h);
}

HTest(tcp_handshake, window_scale_applies_to_our_window)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_WS);

	cr_assert_eq(c.our_wscale, 7);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "x"));
	/* 131072 - 1 bytes free, in units of 128 rounded down: 1023. */
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2, .win = 1023));
}

HTest(tcp_handshake, no_window_scale_when_the_peer_does_not_offer_it)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	fill_blob();
	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	/* RFC 7323 §2.2: no WS in the SYN-ACK unless the SYN had one. */
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = 5000));
	cr_assert(h_accept(&h, &c));
	/* The raw window is bytes: 5000 allow three full segments. */
	h_write(&h, &c, blob, 4 * 1460);
	expect_run(&c, 3 * 1460, 1460, false);
	h_expect_nothing(&h);
	/* Ours is not scaled either: 65535 rounded down to our guess of the
	 * peer's MSS (536). */
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1 + 3 * 1460, .win = 5000, .data = "x"));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK | TH_PSH, .seq = 1 + 3 * 1460, .ack = 2, .win = 65392,
		     .data = blob + 3 * 1460, .len = 1460));
}

HTest(tcp_handshake, no_window_scale_when_we_have_it_off)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_WS);

	h.st.cfg.tun.tcp_window_scaling = 0;
	h_handshake(&h, &c);
	cr_assert_not(c.ws);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "x"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2, .win = 65392));
}

HTest(tcp_handshake, active_open_without_window_scale_in_the_synack)
{
	struct h_conn c = h_establish(&h, H_ACTIVE);
	struct tcp_info_lite info;

	cr_assert_not(c.ws);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = 5000));
	tcp_get_info(&h.st, c.tp, &info);
	cr_assert_eq(info.snd_wnd, 5000);
	cr_assert_eq(info.options & 4, 0, "TCPI_OPT_WSCALE set");
}

HTest(tcp_handshake, window_scale_above_14_is_taken_as_14)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_WS);
	struct tcp_info_lite info;

	c.peer_wscale = 15;
	h_handshake(&h, &c);
	/* RFC 7323 §2.3, Linux "illegal window scaling value 15 > 14": the
	 * handshake's ACK said 65535 >> 14 = 3, which is 3 << 14 bytes. */
	tcp_get_info(&h.st, c.tp, &info);
	cr_assert_eq(info.snd_wscale, 14);
	cr_assert_eq(info.snd_wnd, 3u << 14, "snd_wnd %u", info.snd_wnd);
}

HTest(tcp_handshake, window_in_a_syn_is_never_scaled)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE | H_WS);
	struct tcp_info_lite info;

	h_handshake(&h, &c);
	/* The SYN-ACK said 65535 with wscale 7: that is 65535 bytes until the
	 * first scaled window arrives (RFC 7323 §2.2). */
	tcp_get_info(&h.st, c.tp, &info);
	cr_assert_eq(info.snd_wnd, 65535);
}

/* --- SACK-permitted (RFC 2018 §2) ---------------------------------------------------------- */

HTest(tcp_handshake, sack_permitted_only_if_offered)
{
	struct h_conn a = h_conn_new(&h, H_PASSIVE | H_SACK);
	struct h_conn b = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &a, SEG(.flags = TH_SYN, .mss = 1460, .sack_ok = true));
	h_expect(&h, &a, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460, .sack_ok = true));
	h_send(&h, &b, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &b, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
}

HTest(tcp_handshake, sack_off_by_tunable)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_SACK);

	h.st.cfg.tun.tcp_sack = 0;
	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .sack_ok = true));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
}

HTest(tcp_handshake, negotiated_sack_reports_out_of_order_data)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_SACK);

	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 101, .ack = 1, .len = 100));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .nsack = 1, .sack = { { 101, 201 } }));
}

HTest(tcp_handshake, no_sack_blocks_without_sack_permitted)
{
	struct h_conn c = h_establish(&h, H_ACTIVE);

	/* Our SYN offered SACK, the SYN-ACK did not: a plain duplicate ACK. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 101, .ack = 1, .len = 100));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
}

/* --- timestamps (RFC 7323 §3) ------------------------------------------------------------ */

HTest(tcp_handshake, timestamps_echoed_in_synack_and_after)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	cr_assert(c.ts);
	h_advance(&h, 10 * MS);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "abc", .ts = true, .ts_val = 5000,
		   .ts_ecr = 0));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 4, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 5000));
}

HTest(tcp_handshake, no_timestamps_unless_the_peer_offers_them)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_SACK | H_WS);

	cr_assert_not(c.ts);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "abc"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 4));
	h_write(&h, &c, "de", 2);
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 4, .data = "de"));
}

HTest(tcp_handshake, no_timestamps_when_off_by_tunable)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_TS);

	h.st.cfg.tun.tcp_timestamps = 0;
	h_handshake(&h, &c);
	cr_assert_not(c.ts);
	h_send(&h, &c,
	       SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "abc", .ts = true, .ts_val = 77,
		   .ts_ecr = 0));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 4));
}

HTest(tcp_handshake, active_open_drops_timestamps_the_synack_lacks)
{
	struct h_conn c = h_establish(&h, H_ACTIVE | H_SACK);

	cr_assert_not(c.ts);
	h_write(&h, &c, "de", 2);
	/* 1460 bytes of payload again, no option on data segments. */
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "de"));
}

HTest(tcp_handshake, peer_without_any_option)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	fill_blob();
	c.peer_mss = H_NONE;
	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .win = 8192));
	/* Only our MSS: nothing else may be offered to a peer that did not. */
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = 8192));
	cr_assert(h_accept(&h, &c));
	h_write(&h, &c, blob, 1100);
	expect_segments(&c, 1100, 536);
}

/* --- what the handshake's segments may carry ------------------------------------------------ */

HTest(tcp_handshake, data_on_a_syn_is_not_acknowledged)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	/* No TCP Fast Open: the SYN-ACK acknowledges the SYN only, the peer
	 * sends the data again. */
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .data = "early"));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "early"));
	cr_assert(h_accept(&h, &c));
	cr_assert_eq(h_readable(&c), 5);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 6));
}

HTest(tcp_handshake, third_ack_with_data_and_fin_before_accept)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);
	char buf[16];

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH | TH_FIN, .seq = 1, .ack = 1, .data = "req"));
	/* The connection is queued in CLOSE-WAIT with its data held for the
	 * owner; the FIN's ACK waits for the delayed-ACK timer. */
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE_WAIT);
	h_expect_nothing(&h);
	h_advance(&h, 41 * MS);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 5));
	cr_assert(h_accept(&h, &c));
	cr_assert_eq(h_events(&h, &c) & (SK_EV_READABLE | SK_EV_HUP), SK_EV_READABLE | SK_EV_HUP);
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), 3);
	cr_assert(!memcmp(buf, "req", 3));
	h_write(&h, &c, "resp", 4);
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 5, .data = "resp"));
	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 5, .ack = 5));
}
