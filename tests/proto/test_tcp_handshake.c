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

Test(tcp_handshake, passive_without_options_beyond_mss)
{
	struct h_conn c = h_establish(&h, H_PASSIVE);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert_not(c.ts || c.sack || c.ws);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_PASSIVE_OPENS), 1);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ACTIVE_OPENS), 0);
}

Test(tcp_handshake, passive_with_all_options)
{
	struct h_conn c = h_establish(&h, H_PASSIVE | H_SACK | H_TS | H_WS);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert(c.ts && c.sack && c.ws);
	cr_assert_eq(c.our_wscale, 7, "usnet's shift for tcp_rmem[2] 6 MB: %d", c.our_wscale);
	cr_assert_eq(c.peer_wscale, H_PEER_WSCALE);
}

Test(tcp_handshake, active_without_options_in_synack)
{
	struct h_conn c = h_establish(&h, H_ACTIVE);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert_not(c.ts || c.sack || c.ws);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_ACTIVE_OPENS), 1);
	cr_assert(c.our_port >= 32768 && c.our_port <= 60999, "ephemeral port %u", c.our_port);
}

Test(tcp_handshake, active_with_all_options)
{
	struct h_conn c = h_establish(&h, H_ACTIVE | H_SACK | H_TS | H_WS);

	cr_assert_eq(c.tp->state, TCP_ESTABLISHED);
	cr_assert(c.ts && c.sack && c.ws);
}

Test(tcp_handshake, data_both_ways_after_passive_open)
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

Test(tcp_handshake, two_connections_share_the_listener)
{
	struct h_conn a = h_establish(&h, H_PASSIVE);
	struct h_conn b = h_establish(&h, H_PASSIVE | H_TS);

	cr_assert_eq(a.listener, b.listener);
	cr_assert_neq(a.peer_port, b.peer_port);
	cr_assert_neq(a.tp, b.tp);
	cr_assert_eq(h_tcp_mib(&h, TCP_MIB_PASSIVE_OPENS), 2);
}
