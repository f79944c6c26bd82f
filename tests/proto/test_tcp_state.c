// SPDX-License-Identifier: MIT
/*
 * The TCP state machine of RFC 9293 §3.3.2 driven segment by segment:
 * opening (passive, active, simultaneous), closing (active, passive,
 * simultaneous, half-close), RST in every state, SYN retransmission and
 * its timeout, RSTs for segments to closed ports (§3.10.7.1), and
 * keepalive (RFC 1122 §4.2.3.6) with Linux's timing and counters.
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

TestSuite(tcp_state, .init = setup, .fini = teardown, .timeout = 10);

/* The owner saw SK_EV_ERROR with sk.err @err. */
static void expect_error(struct h_conn *c, int err)
{
	unsigned int ev = h_events(&h, c);

	cr_assert(ev & SK_EV_ERROR, "no SK_EV_ERROR (events 0x%x)", ev);
	cr_assert_eq(c->tp->sk.err, err, "sk.err %d, want %d", c->tp->sk.err, err);
	cr_assert_eq(c->tp->state, TCP_CLOSE);
}

/* Count the sockets `usnet sockets` would list in @state. */
struct count {
	int state;
	unsigned int n;
};

static void count_fn(void *arg, const struct tcp_sock *tp, uint8_t state, uint32_t saddr,
		     uint16_t sport, uint32_t daddr, uint16_t dport)
{
	struct count *c = arg;

	(void)tp, (void)saddr, (void)sport, (void)daddr, (void)dport;
	if (state == c->state)
		c->n++;
}

static unsigned int count_state(int state)
{
	struct count c = { state, 0 };

	tcp_foreach(&h.st, count_fn, &c);
	return c.n;
}

/* --- opening ------------------------------------------------------------------------------ */

HTest(tcp_state, passive_open_listen_syn_recv_established)
{
	struct tcp_sock *lt = h_listen(&h, H_OUR_PORT, 16);
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	cr_assert_eq(lt->state, TCP_LISTEN);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	cr_assert_eq(h_conn_state(&h, &c), TCP_SYN_RECV);
	cr_assert_eq(count_state(TCP_SYN_RECV), 1);
	cr_assert_null(tcp_accept(&h.st, lt), "accepted before the handshake completed");
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_ESTABLISHED);
	cr_assert_eq(count_state(TCP_SYN_RECV), 0);
	cr_assert(h_sock_events(&h, lt) & SK_EV_ACCEPT);
	cr_assert(h_accept(&h, &c));
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_PASSIVE_OPENS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_CURR_ESTAB), 1);
	h_expect_no_drop(&h);
}

HTest(tcp_state, active_open_syn_sent_established)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN, .mss = 1460, .sack_ok = true, .wscale = 7, .ts = true,
		     .ts_val = h_ts(&h)));
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	cr_assert_eq(h_events(&h, &c) & SK_EV_CONNECTED, 0);
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	cr_assert_eq(h_events(&h, &c) & (SK_EV_CONNECTED | SK_EV_WRITABLE),
		     SK_EV_CONNECTED | SK_EV_WRITABLE);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ACTIVE_OPENS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_CURR_ESTAB), 1);
}

/* RFC 9293 Figure 8: both sides send SYN; each answers the other's with
 * SYN,ACK; each SYN,ACK completes the handshake without a further ACK
 * (Linux since 6.10 accepts the crossed SYN,ACK in SYN-RECEIVED). */
HTest(tcp_state, simultaneous_open_with_crossed_syn_acks)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1000));
	/* Our SYN again, now with ACK (same sequence number). */
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1, .mss = 1460, .opts_any = true));
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_RECV);
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	cr_assert(h_events(&h, &c) & SK_EV_CONNECTED);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_CHALLENGE_ACK), 0);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_CHALLENGE), 0);
	h_expect_no_drop(&h);
	h_write(&h, &c, "hello", 5);
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "hello"));
}

HTest(tcp_state, simultaneous_open_completed_by_a_plain_ack)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1, .mss = 1460, .opts_any = true));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
	cr_assert(h_events(&h, &c) & SK_EV_CONNECTED);
}

HTest(tcp_state, shutdown_in_syn_sent_sends_fin_after_the_handshake)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	cr_assert_eq(tcp_shutdown(&h.st, c.tp, SEND_SHUTDOWN), 0);
	h_expect_nothing(&h);
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_FIN_WAIT1);
}

/* --- closing -------------------------------------------------------------------------------- */

HTest(tcp_state, active_close_fin_wait1_fin_wait2_time_wait)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	struct h_conn copy;

	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_conn_state(&h, &c), TCP_FIN_WAIT1);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	h_expect_nothing(&h);
	/* An orphan waits for the peer's FIN in a minisocket (Linux). */
	cr_assert_eq(h_conn_state(&h, &c), TCP_FIN_WAIT2);
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &c), TCP_TIME_WAIT);
	copy = c;
	cr_assert_eq(h_tw_state(&h, &copy), TCP_TIME_WAIT);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_CURR_ESTAB), 0);
	h_expect_no_drop(&h);
}

HTest(tcp_state, active_close_of_an_owned_socket_after_shutdown)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	cr_assert_eq(tcp_shutdown(&h.st, c.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_FIN_WAIT1);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	cr_assert_eq(h_tcp_state(&c), TCP_FIN_WAIT2);
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	/* The owner's socket is CLOSE, the tuple lives on in TIME-WAIT. */
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE);
	cr_assert(h_events(&h, &c) & SK_EV_HUP);
	cr_assert_eq(c.tp->sk.err, 0);
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
}

/* RFC 9293 Figure 13. */
HTest(tcp_state, simultaneous_close_through_closing)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	/* The peer's FIN crosses ours: it does not acknowledge ours. */
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSING);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_TIME_WAIT);
	h_expect_no_drop(&h);
}

HTest(tcp_state, fin_wait1_straight_to_time_wait_on_fin_ack)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &c), TCP_TIME_WAIT);
	h_expect_no_drop(&h);
}

HTest(tcp_state, passive_close_close_wait_last_ack_closed)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	char buf[8];

	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE_WAIT);
	cr_assert_eq(h_events(&h, &c) & (SK_EV_HUP | SK_EV_READABLE), SK_EV_HUP | SK_EV_READABLE);
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), 0);
	/* Linux acknowledges a FIN after the delayed-ACK timeout (the
	 * application might answer at once). */
	h_expect_nothing(&h);
	h_advance(&h, 40 * MS + 1 * MS);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &c), TCP_LAST_ACK);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	cr_assert_eq(h_tw_state(&h, &c), 0, "the passive closer keeps no TIME-WAIT");
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_CURR_ESTAB), 0);
	h_expect_no_drop(&h);
}

HTest(tcp_state, fin_answered_at_once_when_the_application_replies)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_write(&h, &c, "bye", 3);
	/* The reply carries the ACK of the FIN. */
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 2, .data = "bye"));
	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 4, .ack = 2));
	h_advance(&h, 100 * MS);
	h_expect_nothing(&h);
}

/* A FIN that waits for window (it needs one byte of it, as in Linux) is
 * still owed when the data before it is acknowledged: LAST-ACK must not
 * end before the FIN went out and came back acknowledged. */
HTest(tcp_state, fin_held_back_by_the_window_is_sent_before_last_ack_ends)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);
	uint8_t buf[100];

	c.peer_win = 50;
	h_handshake(&h, &c);
	/* The FIN's ACK waits for the reply (Linux: pingpong mode). */
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1, .win = 50));
	memset(buf, 'x', sizeof(buf));
	h_write(&h, &c, buf, sizeof(buf));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2, .len = 50, .any_payload = true));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 51, .win = 50));
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK | TH_PSH, .seq = 51, .ack = 2, .len = 50, .any_payload = true));
	h_close(&h, &c);
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_LAST_ACK);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 101, .win = 50));
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 101, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &c), TCP_LAST_ACK);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 102, .win = 50));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
}

HTest(tcp_state, half_close_we_shut_down_and_keep_receiving)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	char buf[16];

	cr_assert_eq(tcp_shutdown(&h.st, c.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	cr_assert_eq(h_tcp_state(&c), TCP_FIN_WAIT2);
	h_events(&h, &c);
	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 2, .data = "still here"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 11));
	cr_assert(h_events(&h, &c) & SK_EV_READABLE);
	cr_assert_eq(h_read(&h, &c, buf, sizeof(buf)), 10);
	cr_assert(!memcmp(buf, "still here", 10));
	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 11, .ack = 2));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 12));
	cr_assert_eq(h_tw_state(&h, &c), TCP_TIME_WAIT);
	h_expect_no_drop(&h);
}

HTest(tcp_state, half_close_by_the_peer_we_keep_sending)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE_WAIT);
	h_write(&h, &c, "first", 5);
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 2, .data = "first"));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 6));
	h_write(&h, &c, "second", 6);
	h_expect(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 6, .ack = 2, .data = "second"));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 12));
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE_WAIT);
	cr_assert_eq(tcp_shutdown(&h.st, c.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 12, .ack = 2));
	cr_assert_eq(h_tcp_state(&c), TCP_LAST_ACK);
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 2, .ack = 13));
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE);
	cr_assert_eq(c.tp->sk.err, 0);
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
}

HTest(tcp_state, close_with_unread_data_resets)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1, .ack = 1, .data = "unread"));
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 7));
	h_close(&h, &c);
	/* RFC 2525 §2.17, Linux tcp_close(). */
	h_expect(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 7));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ABORT_ON_CLOSE), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 1);
	/* Linux counts every move from ESTABLISHED to CLOSE (tcp_set_state). */
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 1);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
}

/* --- RST in each state (RFC 9293 §3.10.7.4, second step) -------------------------------- */

HTest(tcp_state, rst_in_syn_sent_refuses_the_connection)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_send(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 1));
	h_expect_nothing(&h);
	expect_error(&c, ECONNREFUSED);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ATTEMPT_FAILS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 0);
	h_expect_drop(&h, DROP_TCP_RESET);
	/* Nothing is retransmitted any more. */
	h_advance(&h, 10 * SEC);
	h_expect_nothing(&h);
}

HTest(tcp_state, rst_without_ack_in_syn_sent_is_ignored)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 0));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	h_expect_drop(&h, DROP_TCP_RESET);
}

HTest(tcp_state, rst_with_unacceptable_ack_in_syn_sent_is_ignored)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	/* RFC 9293 §3.10.7.3: ACK =< ISS or > SND.NXT, and RST: drop. */
	h_send(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 2));
	h_send(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 0));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	h_expect_drops(&h, DROP_TCP_INVALID_ACK_SEQUENCE, 2);
}

HTest(tcp_state, unacceptable_ack_in_syn_sent_gets_a_reset)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 5, .mss = 1460));
	/* RFC 9293 §3.10.7.3: <SEQ=SEG.ACK><CTL=RST>. */
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 5, .ack = 0));
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 1);
	h_expect_drop(&h, DROP_TCP_INVALID_ACK_SEQUENCE);
}

HTest(tcp_state, rst_in_syn_recv_drops_the_request)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	h_listen(&h, H_OUR_PORT, 16);
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_EMBRYONIC_RSTS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ATTEMPT_FAILS), 1);
	/* No SYN-ACK retransmission for it any more. */
	h_advance(&h, 5 * SEC);
	h_expect_nothing(&h);
}

HTest(tcp_state, rst_in_established_resets)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);

	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1));
	h_expect_nothing(&h);
	expect_error(&c, ECONNRESET);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_CURR_ESTAB), 0);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	h_expect_drop(&h, DROP_TCP_RESET);
}

HTest(tcp_state, rst_in_fin_wait1_and_fin_wait2)
{
	struct h_conn a = h_establish(&h, H_PASSIVE);
	struct h_conn b = h_establish(&h, H_PASSIVE);

	cr_assert_eq(tcp_shutdown(&h.st, a.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &a, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &a, SEG(.flags = TH_RST, .seq = 1));
	expect_error(&a, ECONNRESET);

	cr_assert_eq(tcp_shutdown(&h.st, b.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &b, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &b, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	cr_assert_eq(h_tcp_state(&b), TCP_FIN_WAIT2);
	h_send(&h, &b, SEG(.flags = TH_RST, .seq = 1));
	expect_error(&b, ECONNRESET);
	h_expect_nothing(&h);
	/* Neither was ESTABLISHED or CLOSE-WAIT when reset. */
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 0);
	h_expect_drops(&h, DROP_TCP_RESET, 2);
}

HTest(tcp_state, rst_in_close_wait_is_epipe)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_send(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_CLOSE_WAIT);
	h_events(&h, &c);
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 2));
	/* Linux tcp_reset(): EPIPE in CLOSE-WAIT. */
	expect_error(&c, EPIPE);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 1);
	h_expect_nothing(&h);
}

HTest(tcp_state, rst_in_last_ack_and_closing)
{
	struct h_conn a = h_establish(&h, H_PASSIVE);
	struct h_conn b = h_establish(&h, H_PASSIVE);

	/* LAST-ACK */
	h_send(&h, &a, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(tcp_shutdown(&h.st, a.tp, SEND_SHUTDOWN), 0);
	h_expect(&h, &a, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 2));
	cr_assert_eq(h_tcp_state(&a), TCP_LAST_ACK);
	h_events(&h, &a);
	h_send(&h, &a, SEG(.flags = TH_RST, .seq = 2));
	expect_error(&a, ECONNRESET);

	/* CLOSING */
	h_close(&h, &b);
	h_expect(&h, &b, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &b, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_expect(&h, &b, SEG(.flags = TH_ACK, .seq = 2, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &b), TCP_CLOSING);
	/* RCV.NXT - 1 resets too after a FIN (Linux tcp_reset_check). */
	h_send(&h, &b, SEG(.flags = TH_RST, .seq = 1));
	cr_assert_eq(h_conn_state(&h, &b), TCP_CLOSE);
	h_expect_nothing(&h);
}

/* --- SYN retransmission (RFC 6298 §5.7, Linux tcp_syn_retries) --------------------------- */

/* The next frame is our SYN again, with a TSval taken when the timer ran:
 * at most 2 ms before the harness clock. */
static void expect_syn_again(struct h_conn *c)
{
	struct h_frame f;
	struct h_tcp_info t;
	uint32_t ts;

	h_expect_frame(&h, c, &f,
		       SEG(.flags = TH_SYN, .mss = 1460, .sack_ok = true, .wscale = 7, .ts = true,
			   .ts_any = true));
	cr_assert(h_parse_seg(&f, &t));
	ts = t.ts_val - c->our_ts_base;
	cr_assert(ts <= h_ts(&h) && ts + 2 >= h_ts(&h), "SYN TSval %u at clock %u ms", ts,
		  h_ts(&h));
}

HTest(tcp_state, syn_retransmitted_with_backoff_then_etimedout)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);
	uint64_t t0 = h.now, at = 0;

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c,
		 SEG(.flags = TH_SYN, .mss = 1460, .sack_ok = true, .wscale = 7, .ts = true,
		     .ts_val = h_ts(&h)));
	/* Linux: 1, 2, 4, 8, 16, 32 s apart (tcp_syn_retries 6), each the
	 * same SYN with a fresh TSval. */
	for (unsigned int i = 0; i < 6; i++) {
		at += (1ull << i) * SEC;
		h_advance(&h, t0 + at - 1 * MS - h.now);
		h_expect_nothing(&h);
		h_advance(&h, 2 * MS);
		expect_syn_again(&c);
		cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	}
	/* 64 s after the last one, 127 s in all: give up, silently. */
	h_advance(&h, t0 + 127 * SEC - 1 * MS - h.now);
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	h_advance(&h, 2 * MS);
	h_expect_nothing(&h);
	expect_error(&c, ETIMEDOUT);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ATTEMPT_FAILS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_RETRANS_SEGS), 6);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_SYN_RETRANS), 6);
	/* Linux counts every expiry of the retransmission timer, the last
	 * one that gives up included (tcp_retransmit_timer). */
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_TIMEOUTS), 7);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ABORT_ON_TIMEOUT), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 0);
	h_advance(&h, 300 * SEC);
	h_expect_nothing(&h);
}

HTest(tcp_state, syn_retries_follow_the_tunable)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	h.st.cfg.tun.tcp_syn_retries = 2;
	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_advance(&h, 1 * SEC + 1 * MS);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_advance(&h, 2 * SEC);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_advance(&h, 4 * SEC - 2 * MS);
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	h_advance(&h, 2 * MS);
	h_expect_nothing(&h);
	expect_error(&c, ETIMEDOUT);
}

HTest(tcp_state, synack_after_a_retransmitted_syn_completes)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE | H_TS);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_advance(&h, 1 * SEC + 1 * MS);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	/* The SYN-ACK echoes the retransmission's TSval. */
	c.ts = false;
	h_send(&h, &c,
	       SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460, .ts = true, .ts_val = 9,
		   .ts_ecr = h_ts(&h)));
	c.ts = true;
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = 9));
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
}

/* --- segments for no socket (RFC 9293 §3.10.7.1) ---------------------------------------- */

HTest(tcp_state, syn_to_a_closed_port_is_refused_with_rst_ack)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	c.our_port = 81;
	h_send(&h, &c, SEG(.flags = TH_SYN, .mss = 1460));
	/* No ACK in the segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	h_expect(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 1, .win = 0, .abs = false));
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 1);
	h_expect_drop(&h, DROP_NO_SOCKET);
}

HTest(tcp_state, rst_for_segments_to_a_closed_port)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	c.our_port = 81;
	/* With ACK: <SEQ=SEG.ACK><CTL=RST>. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 10, .ack = 77));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 77, .ack = 0, .win = 0));
	/* Without ACK, the data and the FIN count in the ACK. */
	h_send(&h, &c, SEG(.flags = TH_PSH | TH_FIN, .seq = 10, .data = "abcd"));
	h_expect(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 15, .abs = false));
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 2);
	h_expect_drops(&h, DROP_NO_SOCKET, 2);
}

HTest(tcp_state, no_rst_in_reply_to_a_rst)
{
	struct h_conn c = h_conn_new(&h, H_PASSIVE);

	c.our_port = 81;
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 10));
	h_send(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 10, .ack = 10));
	h_expect_nothing(&h);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_OUT_RSTS), 0);
	h_expect_drops(&h, DROP_NO_SOCKET, 2);
}

/* --- keepalive (RFC 1122 §4.2.3.6, Linux tcp_keepalive_timer) ------------------------------ */

/* A keepalive probe: an ACK one byte below SND.UNA, no data. */
#define KA_PROBE(c) SEG(.flags = TH_ACK, .seq = 0, .ack = 1)

HTest(tcp_state, keepalive_linux_defaults_then_etimedout)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);
	uint64_t t0 = h.now;
	int v;

	cr_assert_eq(tcp_getopt(&h.st, c.tp, TCP_OPT_KEEPIDLE, &v), 0);
	cr_assert_eq(v, 7200);
	cr_assert_eq(tcp_getopt(&h.st, c.tp, TCP_OPT_KEEPINTVL, &v), 0);
	cr_assert_eq(v, 75);
	cr_assert_eq(tcp_getopt(&h.st, c.tp, TCP_OPT_KEEPCNT, &v), 0);
	cr_assert_eq(v, 9);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPALIVE, 1), 0);
	h_advance(&h, 7200 * SEC - 1 * MS);
	h_expect_nothing(&h);
	h_advance(&h, 2 * MS);
	h_expect(&h, &c, KA_PROBE(&c));
	for (unsigned int i = 1; i < 9; i++) {
		h_advance(&h, t0 + (7200 + 75 * i) * SEC - 1 * MS - h.now);
		h_expect_nothing(&h);
		h_advance(&h, 2 * MS);
		h_expect(&h, &c, KA_PROBE(&c));
	}
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_KEEP_ALIVE), 9);
	/* The ninth went unanswered for another interval: reset, ETIMEDOUT. */
	h_advance(&h, t0 + (7200 + 75 * 9) * SEC + 1 * MS - h.now);
	h_expect(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 1));
	expect_error(&c, ETIMEDOUT);
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ABORT_ON_TIMEOUT), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ESTAB_RESETS), 1);
}

HTest(tcp_state, keepalive_probe_answered_keeps_the_connection)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);
	uint64_t t1;

	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPALIVE, 1), 0);
	h_advance(&h, 7200 * SEC + 1 * MS);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 0, .ack = 1));
	/* The peer answers a probe with an ACK of what it has. */
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	t1 = h.now;
	h_advance(&h, 75 * SEC);
	h_expect_nothing(&h);
	/* Idle again: the next probe 7200 s after the answer. */
	h_advance(&h, t1 + 7200 * SEC - 1 * MS - h.now);
	h_expect_nothing(&h);
	h_advance(&h, 2 * MS);
	h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 0, .ack = 1));
	cr_assert_eq(h_tcp_state(&c), TCP_ESTABLISHED);
}

HTest(tcp_state, keepalive_per_socket_overrides)
{
	struct h_conn c = h_establish(&h, H_ACTIVE);
	uint64_t t0 = h.now;
	int v;

	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPIDLE, 10), 0);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPINTVL, 3), 0);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPCNT, 2), 0);
	cr_assert_eq(tcp_getopt(&h.st, c.tp, TCP_OPT_KEEPIDLE, &v), 0);
	cr_assert_eq(v, 10);
	/* Linux: TCP_KEEP* take effect with SO_KEEPALIVE. */
	h_advance(&h, 20 * SEC);
	h_expect_nothing(&h);
	t0 = h.now;
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPALIVE, 1), 0);
	/* 20 s idle already: more than KEEPIDLE, Linux probes at once on
	 * the first expiry, which is KEEPIDLE after SO_KEEPALIVE. */
	h_advance(&h, t0 + 10 * SEC + 1 * MS - h.now);
	h_expect(&h, &c, KA_PROBE(&c));
	h_advance(&h, 3 * SEC);
	h_expect(&h, &c, KA_PROBE(&c));
	h_advance(&h, 3 * SEC);
	h_expect(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 1));
	expect_error(&c, ETIMEDOUT);
}

HTest(tcp_state, keepalive_options_reject_out_of_range)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	/* Linux: 1..MAX_TCP_KEEPIDLE (32767), 1..MAX_TCP_KEEPINTVL (32767),
	 * 1..MAX_TCP_KEEPCNT (127). */
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPIDLE, 0), -EINVAL);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPIDLE, 32768), -EINVAL);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPINTVL, 0), -EINVAL);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPCNT, 128), -EINVAL);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPCNT, 127), 0);
}

HTest(tcp_state, keepalive_probe_with_timestamps_and_no_probe_while_data_flows)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_TS);
	uint32_t last = 0;

	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPIDLE, 60), 0);
	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_KEEPALIVE, 1), 0);
	/* Traffic every 30 s keeps the probe away. */
	for (int i = 0; i < 4; i++) {
		h_advance(&h, 30 * SEC);
		last = h_ts(&h);
		h_send(&h, &c, SEG(.flags = TH_ACK | TH_PSH, .seq = 1 + i, .ack = 1, .data = "x"));
		h_expect(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2 + i));
	}
	/* 60 s after the last segment (to within one wheel tick). */
	h_advance(&h, 60 * SEC - 1 * MS);
	h_expect_nothing(&h);
	h_advance(&h, 1 * MS + 100 * US);
	h_expect(&h, &c,
		 SEG(.flags = TH_ACK, .seq = 0, .ack = 5, .ts = true, .ts_val = h_ts(&h),
		     .ts_ecr = last));
}

/* --- closing abruptly ------------------------------------------------------------------------ */

HTest(tcp_state, close_with_linger_zero_resets)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	cr_assert_eq(tcp_setopt(&h.st, c.tp, TCP_OPT_LINGER, 0), 0);
	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 1));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_TCP_ABORT_ON_LINGER), 1);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	cr_assert_eq(h_tw_state(&h, &c), 0);
}

HTest(tcp_state, close_in_syn_sent_sends_nothing)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	h_close(&h, &c);
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
	/* No retransmission of the SYN, and a late SYN-ACK finds nobody. */
	h_advance(&h, 5 * SEC);
	h_expect_nothing(&h);
	h_send(&h, &c, SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 1, .ack = 0, .win = 0));
}

HTest(tcp_state, synack_echoing_a_tsval_we_never_sent_is_reset)
{
	struct h_conn c = h_conn_new(&h, H_ACTIVE | H_TS);

	cr_assert_eq(h_connect(&h, &c), 0);
	h_expect(&h, &c, SEG(.flags = TH_SYN, .mss = 1460, .opts_any = true));
	/* Linux tcp_rcv_synsent_state_process(): TSecr must lie between
	 * our first SYN's TSval and now, else PAWSActive and a RST. */
	h_send(&h, &c,
	       SEG(.flags = TH_SYN | TH_ACK, .ack = 1, .mss = 1460, .ts = true, .ts_val = 1,
		   .ts_ecr = h_ts(&h) + 100000));
	h_expect(&h, &c, SEG(.flags = TH_RST, .seq = 1, .ack = 0, .win = 0, .no_ts = true));
	cr_assert_eq(h_tcpext_mib(&h, TCPEXT_PAWS_ACTIVE), 1);
	cr_assert_eq(h_tcp_state(&c), TCP_SYN_SENT);
	h_expect_drop(&h, DROP_TCP_RFC7323_PAWS);
}

HTest(tcp_state, rst_kills_an_orphan_in_fin_wait2)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	h_close(&h, &c);
	h_expect(&h, &c, SEG(.flags = TH_FIN | TH_ACK, .seq = 1, .ack = 1));
	h_send(&h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 2));
	cr_assert_eq(h_conn_state(&h, &c), TCP_FIN_WAIT2);
	h_send(&h, &c, SEG(.flags = TH_RST, .seq = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h_conn_state(&h, &c), TCP_CLOSE);
}

/* Linux inet_put_port() at close: a socket that was bound and then closed
 * without listening or connecting gives its port back. */
HTest(tcp_state, close_of_a_bound_socket_frees_its_port)
{
	struct tcp_sock *tp = tcp_open(&h.st);

	cr_assert(tp);
	cr_assert_eq(tcp_bind(&h.st, tp, 0, htons(8080)), 0);
	tcp_close(&h.st, tp);
	tp = tcp_open(&h.st);
	cr_assert(tp);
	cr_assert_eq(tcp_bind(&h.st, tp, 0, htons(8080)), 0, "port 8080 still taken after close");
	tcp_close(&h.st, tp);
}
