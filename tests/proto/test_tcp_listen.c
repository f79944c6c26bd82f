// SPDX-License-Identifier: MIT
/*
 * Passive open with Linux's queue semantics: the accept queue holds
 * backlog + 1 connections (backlog clamped to somaxconn), what happens to
 * a SYN and to a completing ACK when it is full, the SYN queue and its
 * SYN-ACK retransmissions (tcp_synack_retries), and SYN cookies when the
 * SYN queue overflows (RFC 4987 §3.6, Linux syncookies.c): the round trip,
 * the options a cookie carries in its timestamp, and forged cookies.
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

TestSuite(tcp_listen, .init = setup, .fini = teardown, .timeout = 10);

#define SYN(...) SEG(.flags = TH_SYN, .mss = 1460, __VA_ARGS__)
#define SYNACK(...) SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460, __VA_ARGS__)

/* A connection through the handshake, left in the accept queue. */
static struct h_conn queued(void)
{
	return h_establish(&h, H_PASSIVE | H_NO_ACCEPT);
}

static uint8_t blob[8192];

static void fill_blob(void)
{
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 13 + 5);
}

/* --- the accept queue ------------------------------------------------------------------------ */

HTest(tcp_listen, accept_queue_holds_backlog_plus_one)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 2);
	struct h_conn c;

	for (int i = 0; i < 3; i++)
		queued();
	cr_assert_eq(lt->lq.acceptq_len, 3);
	/* Linux sk_acceptq_is_full(): more than backlog. A SYN then is
	 * dropped without an answer; the peer will retransmit it. */
	c = h_conn_new(&h, H_PASSIVE);
	h_send(&h, &c, SYN());
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_OVERFLOWS), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_DROPS), 1);
	h_expect_drop(&h, DROP_TCP_LISTEN_OVERFLOW);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	/* Once the owner accepts one, the retransmitted SYN gets through. */
	cr_assert_not_null(tcp_accept(&h.st, lt));
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
}

HTest(tcp_listen, completing_ack_dropped_while_the_accept_queue_is_full)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 2);
	struct h_conn b = h_conn_new(&h, H_PASSIVE), c = h_conn_new(&h, H_PASSIVE);

	queued();
	queued();
	/* Two handshakes start while there is room... */
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
	h_send(&h, &b, SYN());
	h_expect(&h, &b, SYNACK());
	/* ...and the first to finish fills the queue. */
	h_send(&h, &b, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(lt->lq.acceptq_len, 3);
	/* Linux tcp_v4_syn_recv_sock(): the ACK is dropped, the request
	 * stays (tcp_abort_on_overflow 0), nothing is sent. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "early"));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_SYN_RECV);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_OVERFLOWS), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_DROPS), 1);
	h_expect_drop(&h, DROP_TCP_LISTEN_OVERFLOW);
	/* The request's timer resends the SYN-ACK; after an accept the
	 * peer's retransmission completes the handshake. */
	h_advance(&h, 1 * SEC + 1 * MS);
	h_expect(&h, &c, SYNACK());
	cr_assert_not_null(tcp_accept(&h.st, lt));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = "early"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 6));
	cr_assert_eq(h_conn_state(&h, &c), TCP_ESTABLISHED);
	cr_assert_eq(lt->lq.acceptq_len, 3);
}

HTest(tcp_listen, abort_on_overflow_resets_the_completing_ack)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h.st.cfg.tun.tcp_abort_on_overflow = 1;
	h_listen(&h, H_OUR_PORT, 1);
	queued();
	h_send(&h, &c, SYN());
	/* The SYN queue holds one request; the accept queue one more. */
	h_expect(&h, &c, SYNACK());
	queued();
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 1, .ack = 0, .win = 0));
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	/* Linux tcp_check_req(): embryonic_reset. */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_EMBRYONIC_RSTS), 1);
}

HTest(tcp_listen, backlog_is_clamped_to_somaxconn)
{
	struct tcp_info_lite info;
	struct tcp_sock *lt;
	struct h_conn c;

	h.st.cfg.tun.somaxconn = 2;
	lt = h_listen(&h, H_OUR_PORT, 100);
	/* ss shows a listener's backlog as Send-Q. */
	tcp_get_info(&h.st, lt, &info);
	cr_assert_eq(info.send_q, 2);
	for (int i = 0; i < 3; i++)
		queued();
	tcp_get_info(&h.st, lt, &info);
	cr_assert_eq(info.recv_q, 3);
	c = h_conn_new(&h, H_PASSIVE);
	h_send(&h, &c, SYN());
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_OVERFLOWS), 1);
}

HTest(tcp_listen, listen_again_changes_only_the_backlog)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 1);
	struct tcp_info_lite info;

	queued();
	cr_assert_eq(tcp_listen(&h.st, lt, 10), 0);
	tcp_get_info(&h.st, lt, &info);
	cr_assert_eq(info.send_q, 10);
	cr_assert_eq(info.recv_q, 1);
}

/* Backlog 0 still admits one connection; with the SYN queue "full" at 0
 * requests, Linux answers with a cookie. */
HTest(tcp_listen, backlog_zero_admits_one_connection_by_cookie)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 0);
	struct h_conn a = h_conn_new(&h, H_PASSIVE), b = h_conn_new(&h, H_PASSIVE);

	h_send(&h, &a, SYN());
	h_expect(&h, &a, SYNACK());
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_SENT), 1);
	h_send(&h, &a, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_RECV), 1);
	cr_assert_eq(lt->lq.acceptq_len, 1);
	h_send(&h, &b, SYN());
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_OVERFLOWS), 1);
	cr_assert(h_accept(&h, &a));
	cr_assert_eq(h_tcp_state(&a), TCP_ESTABLISHED);
}

/* --- the SYN queue ---------------------------------------------------------------------------- */

HTest(tcp_listen, syn_queue_full_without_cookies_drops_the_syn)
{
	struct h_conn c[3];

	h.st.cfg.tun.tcp_syncookies = 0;
	h_listen(&h, H_OUR_PORT, 2);
	for (int i = 0; i < 3; i++)
		c[i] = h_conn_new(&h, H_PASSIVE);
	h_send(&h, &c[0], SYN());
	h_expect(&h, &c[0], SYNACK());
	h_send(&h, &c[1], SYN());
	h_expect(&h, &c[1], SYNACK());
	h_send(&h, &c[2], SYN());
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_REQQ_FULL_DROP), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_DROPS), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_LISTEN_OVERFLOWS), 0);
	h_expect_drop(&h, DROP_TCP_LISTEN_OVERFLOW);
	h_drain(&h); /* the first two SYN-ACKs' retransmissions, if any */
}

HTest(tcp_listen, retransmitted_syn_gets_the_same_synack)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);
	uint32_t isn;

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
	isn = c.our_isn;
	h_advance(&h, 500 * MS);
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
	cr_assert_eq(c.our_isn, isn);
	cr_assert_eq(h.st.tcp.nreqs - h.st.tcp.nfree_reqs, 1, "a second request was made");
}

HTest(tcp_listen, synack_retransmitted_with_backoff_then_the_request_expires)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_TS);
	uint64_t t0, at = 0;

	h_listen(&h, H_OUR_PORT, 16);
	t0 = h.now;
	h_send(&h, &c, SYN(.ts = true, .ts_val = 1));
	h_expect(&h, &c, SYNACK(.ts = true, .ts_val = h_ts(&h), .ts_ecr = 1));
	/* Linux reqsk_timer_handler(): 1, 2, 4, 8, 16 s apart
	 * (tcp_synack_retries 5), then the request is dropped at 63 s. */
	for (unsigned int i = 0; i < 5; i++) {
		at += (1ull << i) * SEC;
		h_advance(&h, t0 + at - 1 * MS - h.now);
		h_expect_nothing(&h);
		h_advance(&h, 2 * MS);
		h_expect(&h, &c, SYNACK(.ts = true, .ts_any = true));
		cr_assert_eq(h_conn_state(&h, &c), TCP_SYN_RECV);
	}
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_RETRANS), 5);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 5);
	h_advance(&h, t0 + 63 * SEC - 1 * MS - h.now);
	cr_assert_eq(h_conn_state(&h, &c), TCP_SYN_RECV);
	h_advance(&h, 2 * MS);
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	/* A late ACK finds no request and no recent SYN flood: RST. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .no_ts = true));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 1, .ack = 0, .win = 0, .no_ts = true));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_FAILED), 0);
}

/* --- segments for the listener itself (RFC 9293 §3.10.7.2) ------------------------------- */

HTest(tcp_listen, listener_drops_rst_and_resets_acks)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1));
	h_expect_nothing(&h);
	h_expect_drop(&h, DROP_TCP_RESET);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1000));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 1000, .ack = 0, .win = 0));
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 2000, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 2000, .ack = 0, .win = 0));
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 2);
	cr_assert_eq(h.st.tcp.nreqs - h.st.tcp.nfree_reqs, 0);
}

HTest(tcp_listen, closing_the_listener_resets_unaccepted_connections)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 16);
	struct h_conn a = queued(), b = queued();
	struct h_conn r = h_conn_new(&h, H_PASSIVE);

	h_send(&h, &r, SYN());
	h_expect(&h, &r, SYNACK());
	h.st.now = h.now;
	tcp_close(&h.st, lt);
	/* Linux inet_csk_listen_stop(): children are reset, requests are
	 * forgotten silently. */
	h_expect(&h, &a, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &b, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &a), TCP_CLOSE);
	cr_assert_eq(h_conn_state(&h, &r), TCP_CLOSE);
	h_advance(&h, 2 * SEC);
	h_expect_nothing(&h);
	/* The port is free again. */
	cr_assert_eq(h.st.tcp.port_refs[H_OUR_PORT], 0);
}

/* --- SYN cookies ------------------------------------------------------------------------------- */

/* Fill the SYN queue of a backlog-1 listener with one request (with
 * timestamps, so that the harness learns usnet's timestamp offset). */
static struct h_conn fill_synq(void)
{
	struct h_conn f = h_conn_new(&h, H_PASSIVE);

	if (!h_listener(&h, H_OUR_PORT))
		h_listen(&h, H_OUR_PORT, 1);
	h_send(&h, &f, SYN(.ts = true, .ts_val = 1));
	h_expect(&h, &f, SYNACK(.ts = true, .ts_val = h_ts(&h), .ts_ecr = 1));
	return f;
}

/* The next frame is a cookie SYN-ACK for @c; return its TSval. */
static uint32_t expect_cookie_synack(struct h_conn *c, struct h_seg want)
{
	struct h_frame f;
	struct h_tcp_info t;

	h_expect_frame(&h, c, &f, want);
	cr_assert(h_parse_seg(&f, &t));
	return t.ts_val;
}

HTest(tcp_listen, syncookie_round_trip_recovers_mss_wscale_and_sack)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_TS | H_SACK | H_WS);
	struct tcp_info_lite info;
	struct h_conn f;
	uint32_t tsval, now;

	fill_blob();
	f = fill_synq();
	h_send(&h, &c, SYN(.ts = true, .ts_val = 7, .wscale = 7, .sack_ok = true));
	tsval = expect_cookie_synack(
		&c, SYNACK(.ts = true, .ts_any = true, .wscale = 7, .sack_ok = true));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_SENT), 1);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_REQQ_FULL_DO_COOKIES), 1);
	/* Linux cookie_init_timestamp(): the low 6 bits carry the peer's
	 * wscale (7) and SACK-permitted (bit 4); the value is not later
	 * than the clock. */
	cr_assert_eq(tsval & 0x3f, 0x17, "TSval low bits 0x%x", tsval & 0x3f);
	now = f.our_ts_base + h_ts(&h);
	cr_assert((int32_t)(tsval - now) <= 0 && (int32_t)(now - tsval) < 64,
		  "cookie TSval %u, clock %u", tsval, now);
	cr_assert_eq(h.st.tcp.nreqs - h.st.tcp.nfree_reqs, 1, "the cookie made a request");

	c.ts = true;
	c.ws = true;
	c.peer_wscale = 7;
	c.sack = true;
	c.our_ts_base = f.our_ts_base; /* the connection's own clock from now on */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = 40));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_RECV), 1);
	cr_assert(h_accept(&h, &c));
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	tcp_get_info(&h.st, c.tp, &info);
	cr_assert_eq(info.options, 7, "TS, SACK and WSCALE: options 0x%x", info.options);
	cr_assert_eq(info.snd_wscale, 7);
	cr_assert_eq(info.rcv_wscale, 7);
	cr_assert_eq(info.snd_wnd, 40u << 7);
	/* MSS 1460 from the cookie, less the timestamp option. */
	h_write(&h, &c, blob, 2000);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = blob, .len = 1448));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK | TH_PSH, .seq = 1449, .ack = 1, .data = blob + 1448,
		     .len = 552));
	/* SACK works: out-of-order data is reported. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 101, .ack = 2001, .len = 50));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 2001, .ack = 1, .nsack = 1, .sack = { { 101, 151 } }));
}

HTest(tcp_listen, syncookie_encodes_the_mss_class)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	fill_blob();
	fill_synq();
	/* Linux msstab: 536, 1300, 1440, 1460; 1400 falls to 1300. */
	h_send(&h, &c, SYN(.mss = 1400));
	h_expect(&h, &c, SYNACK());
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert(h_accept(&h, &c));
	h_write(&h, &c, blob, 1500);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .data = blob, .len = 1300));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK | TH_PSH, .seq = 1301, .ack = 1, .data = blob + 1300,
		     .len = 200));
}

HTest(tcp_listen, syncookie_without_timestamps_offers_no_wscale_or_sack)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE | H_SACK | H_WS);
	struct tcp_info_lite info;

	fill_synq();
	h_send(&h, &c, SYN(.wscale = 7, .sack_ok = true));
	/* Linux tcp_conn_request(): a cookie without timestamps cannot
	 * carry them, so they are not offered (tcp_clear_options). */
	h_expect(&h, &c, SYNACK());
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = 1000));
	cr_assert(h_accept(&h, &c));
	tcp_get_info(&h.st, c.tp, &info);
	cr_assert_eq(info.options, 0);
	cr_assert_eq(info.snd_wnd, 1000);
}

HTest(tcp_listen, forged_cookie_is_counted_and_reset)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE), x = h_conn_new(&h, H_PASSIVE);

	fill_synq();
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
	/* Another tuple, and this tuple with a wrong cookie. */
	x.our_isn = c.our_isn;
	h_send(&h, &x, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &x, SEG(.flags = TH_RST, .seq = 1, .ack = 0, .win = 0));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 2, .ack = 0, .win = 0));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_FAILED), 2);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_RECV), 0);
	h_expect_drops(&h, DROP_TCP_COOKIE_INVALID, 2);
	/* The genuine one still works. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_RECV), 1);
	cr_assert(h_accept(&h, &c));
}

HTest(tcp_listen, cookie_expires_with_the_cookie_clock)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE), o = h_conn_new(&h, H_PASSIVE);

	fill_synq();
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
	/* Let the cookie age past two periods of 2^36 ns (Linux: two
	 * minutes), keeping the SYN flood recent meanwhile so that the ACK
	 * is checked at all. */
	h_advance(&h, 130 * SEC);
	h_drain(&h);
	fill_synq();
	h_send(&h, &o, SYN());
	h_expect(&h, &o, SYNACK());
	h_advance(&h, 20 * SEC);
	h_drain(&h);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 1, .ack = 0, .win = 0));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_FAILED), 1);
	/* A fresh one is fine. */
	h_send(&h, &o, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_RECV), 1);
}

HTest(tcp_listen, syncookies_2_always_sends_cookies)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h.st.cfg.tun.tcp_syncookies = 2;
	h_listen(&h, H_OUR_PORT, 128);
	h_send(&h, &c, SYN());
	h_expect(&h, &c, SYNACK());
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_SENT), 1);
	cr_assert_eq(h.st.tcp.nreqs - h.st.tcp.nfree_reqs, 0);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_SYNCOOKIES_RECV), 1);
	cr_assert(h_accept(&h, &c));
}
