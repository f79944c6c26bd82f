// SPDX-License-Identifier: MIT
/*
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo, what is accepted and counted,
 * the RFC 1122 rules on when not to send an error, and Linux's two rate
 * limits (per host: icmp_ratelimit with a burst of 6; global:
 * icmp_msgs_per_sec and icmp_msgs_burst, spending a random 0..2 tokens a
 * message, so those tests assert ranges).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "proto/icmp.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
	h_arp_learn(&h, H_PEER_IP, H_PEER_MAC);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(icmp, .init = setup, .fini = teardown, .timeout = 10);

static uint64_t mib(enum icmp_mib i)
{
	return h_icmp_mib(&h, i);
}

/* --- echo ------------------------------------------------------------------------- */

HTest(icmp, echo_request_gets_echo_reply)
{
	static const char payload[] = "abcdefghijklmnopqrstuvwxyz012345";

	h_send_icmp(&h, ICMP(.id = 0xbeef, .seq = 0x1234, .data = payload));
	h_expect_icmp(&h, ICMP_OUT(.eth_dst = H_PEER_MAC, .eth_src = H_US_MAC, .saddr = H_US_IP,
				   .daddr = H_PEER_IP, .ttl = 64, .type = ICMP_ECHOREPLY, .code = 0,
				   .id = 0xbeef, .seq = 0x1234, .data = payload));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	cr_assert_eq(mib(ICMP_MIB_IN_MSGS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_ECHOS), 1);
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 1);
	cr_assert_eq(mib(ICMP_MIB_OUT_ECHO_REPS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 0);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_DELIVERS), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_REQUESTS), 1);
}

HTest(icmp, echo_with_odd_payload_length_is_answered)
{
	h_send_icmp(&h, ICMP(.data = "odd-len", .seq = 7));
	h_expect_icmp(&h, ICMP_OUT(.data = "odd-len", .seq = 7));
}

HTest(icmp, echo_with_nonzero_code_is_answered_with_code_zero)
{
	h_send_icmp(&h, ICMP(.code = 5, .data = "x"));
	h_expect_icmp(&h, ICMP_OUT(.code = 0, .data = "x"));
}

HTest(icmp, echo_reply_keeps_the_request_tos)
{
	h_send_icmp(&h, ICMP(.tos = 0x10));
	h_expect_icmp(&h, ICMP_OUT(.tos = 0x10));
}

HTest(icmp, echo_of_1472_bytes_fills_a_1500_byte_mtu)
{
	static uint8_t payload[1472];

	for (unsigned int i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ (i >> 8));
	h_send_icmp(&h, ICMP(.data = payload, .len = sizeof(payload)));
	cr_assert_eq(h.sent_len, 1514);
	h_expect_icmp(&h, ICMP_OUT(.data = payload, .len = sizeof(payload), .tot_len = 1500,
				   .frame_len = 1514));
	h_expect_no_drop(&h);
}

HTest(icmp, echo_in_a_shared_buffer_is_answered_from_a_copy)
{
	uint8_t frame[H_FRAME_MAX], before[H_FRAME_MAX];
	unsigned int len = h_build_ip(frame, sizeof(frame), &ICMP(.data = "tap sees me"));
	int id = pkt_pool_data_take(&h.pool);
	struct pkt *p, *tap;

	/* A capture tap holds a clone of the received frame (pkt_clone). */
	memcpy(pkt_pool_data_ptr(&h.pool, (uint32_t)id) + PKT_HEADROOM, frame, len);
	p = pkt_pool_attach(&h.pool, (uint32_t)id, PKT_HEADROOM, len);
	tap = pkt_clone(p);
	cr_assert_not_null(tap);
	memcpy(before, tap->data, len);
	stack_input(&h.st, p, h.now);
	h_expect_icmp(&h, ICMP_OUT(.data = "tap sees me"));
	cr_assert_eq(pkt_len(tap), len);
	cr_assert(!memcmp(tap->data, before, len), "the reply was written over the tap's bytes");
	cr_assert(!pkt_is_shared(tap));
	pkt_free(tap);
	h_expect_no_drop(&h);
}

HTest(icmp, echo_with_bad_checksum_is_dropped_and_counted)
{
	h_send_icmp(&h, ICMP(.data = "abc", .bad_icmp_csum = true));
	h_expect_drop(&h, DROP_ICMP_CSUM);
	cr_assert_eq(mib(ICMP_MIB_IN_CSUM_ERRORS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_MSGS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_ECHOS), 0);
	h_expect_nothing(&h);
}

HTest(icmp, message_shorter_than_its_header_is_invalid)
{
	h_send_ip(&h, IP(.protocol = IPPROTO_ICMP_, .data = "\x08\x00\xf7\xff", .len = 4));
	h_expect_drop(&h, DROP_ICMP_INVALID);
	h_send_ip(&h, IP(.protocol = IPPROTO_ICMP_));
	h_expect_drop(&h, DROP_ICMP_INVALID);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 2);
	cr_assert_eq(mib(ICMP_MIB_IN_MSGS), 2);
	h_expect_nothing(&h);
}

HTest(icmp, type_above_18_is_invalid)
{
	h_send_icmp(&h, ICMP(.type = 19));
	h_expect_drop(&h, DROP_ICMP_INVALID);
	h_send_icmp(&h, ICMP(.type = 255));
	h_expect_drop(&h, DROP_ICMP_INVALID);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 2);
	h_expect_nothing(&h);
}

HTest(icmp, echo_to_broadcast_is_ignored_by_default)
{
	h_send_icmp(&h, ICMP(.eth_dst = H_BCAST_MAC, .daddr = H_SUBNET_BCAST));
	h_expect_drop(&h, DROP_ICMP_BROADCAST);
	h_send_icmp(&h, ICMP(.eth_dst = H_BCAST_MAC, .daddr = h_ip4(255, 255, 255, 255)));
	h_expect_drop(&h, DROP_ICMP_BROADCAST);
	cr_assert_eq(mib(ICMP_MIB_IN_ECHOS), 2);
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 0);
	h_expect_nothing(&h);
}

HTest(icmp, echo_to_broadcast_is_answered_from_our_address_when_allowed)
{
	h.st.cfg.tun.icmp_echo_ignore_broadcasts = 0;
	h_send_icmp(&h, ICMP(.eth_dst = H_BCAST_MAC, .daddr = H_SUBNET_BCAST, .data = "b"));
	h_expect_icmp(&h, ICMP_OUT(.saddr = H_US_IP, .data = "b"));
	h_send_icmp(&h, ICMP(.eth_dst = H_BCAST_MAC, .daddr = h_ip4(255, 255, 255, 255)));
	h_expect_icmp(&h, ICMP_OUT(.saddr = H_US_IP));
	h_expect_no_drop(&h);
}

HTest(icmp, echo_ignore_all_ignores_every_echo)
{
	h.st.cfg.tun.icmp_echo_ignore_all = 1;
	h_send_icmp(&h, ICMP());
	h_expect_drop(&h, DROP_ICMP_ECHO_IGNORED);
	cr_assert_eq(mib(ICMP_MIB_IN_ECHOS), 1);
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 0);
	h_expect_nothing(&h);
	h.st.cfg.tun.icmp_echo_ignore_all = 0;
	h_send_icmp(&h, ICMP());
	h_expect_icmp(&h, ICMP_OUT());
}

/* --- other messages in ------------------------------------------------------- */

HTest(icmp, echo_reply_has_no_socket_yet)
{
	h_send_icmp(&h, ICMP(.type = ICMP_ECHOREPLY));
	h_expect_drop(&h, DROP_NO_SOCKET);
	cr_assert_eq(mib(ICMP_MIB_IN_ECHO_REPS), 1);
	h_expect_nothing(&h);
}

/* An ICMP error of @type/@code from the peer quoting a datagram we sent. */
static void send_error(int type, int code)
{
	uint8_t inner[H_FRAME_MAX];
	unsigned int n = h_build_ip(inner, sizeof(inner),
				    &IP(.saddr = H_US_IP, .daddr = H_PEER_IP, .protocol = 17,
					.data = "\x30\x39\x00\x35\x00\x10\x00\x00", .len = 8));

	h_send_icmp(&h, ICMP(.type = type, .code = code, .id = 0, .seq = 0, .data = inner + 14,
			     .len = n - 14));
}

HTest(icmp, destination_unreachable_is_counted)
{
	send_error(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	h_expect_no_drop(&h);
	h_expect_nothing(&h);
	cr_assert_eq(mib(ICMP_MIB_IN_DEST_UNREACHS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 0);
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 0, "an error must not be answered");
}

HTest(icmp, error_without_the_quoted_header_is_invalid)
{
	h_send_icmp(&h, ICMP(.type = ICMP_DEST_UNREACH, .code = 1, .id = 0, .seq = 0));
	h_expect_drop(&h, DROP_ICMP_INVALID);
	cr_assert_eq(mib(ICMP_MIB_IN_DEST_UNREACHS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 1);
	/* A quoted "header" that is not IPv4 */
	h_send_icmp(&h, ICMP(.type = ICMP_TIME_EXCEEDED, .id = 0, .seq = 0,
			     .data = "\x65\x00\x00\x1c\x00\x00\x00\x00\x40\x11\x00\x00"
				     "\x0a\x4d\x00\x02\x0a\x4d\x00\x01",
			     .len = 20));
	h_expect_drop(&h, DROP_ICMP_INVALID);
	cr_assert_eq(mib(ICMP_MIB_IN_ERRORS), 2);
	h_expect_nothing(&h);
}

HTest(icmp, each_error_type_is_counted_under_its_own_counter)
{
	send_error(ICMP_SOURCE_QUENCH, 0);
	cr_assert_eq(mib(ICMP_MIB_IN_SRC_QUENCHS), 1);
	send_error(ICMP_REDIRECT, 1);
	cr_assert_eq(mib(ICMP_MIB_IN_REDIRECTS), 1);
	send_error(ICMP_TIME_EXCEEDED, 0);
	cr_assert_eq(mib(ICMP_MIB_IN_TIME_EXCDS), 1);
	send_error(ICMP_PARAMETERPROB, 0);
	cr_assert_eq(mib(ICMP_MIB_IN_PARM_PROBS), 1);
	cr_assert_eq(mib(ICMP_MIB_IN_MSGS), 4);
	cr_assert_eq(mib(ICMP_MIB_IN_DEST_UNREACHS), 0);
	h_expect_no_drop(&h);
	h_expect_nothing(&h);
}

HTest(icmp, timestamp_and_address_mask_requests_are_counted_not_answered)
{
	h_send_icmp(&h, ICMP(.type = ICMP_TIMESTAMP, .data = "000011112222", .len = 12));
	cr_assert_eq(mib(ICMP_MIB_IN_TIMESTAMPS), 1);
	h_send_icmp(&h, ICMP(.type = ICMP_ADDRESS, .data = "\0\0\0\0", .len = 4));
	cr_assert_eq(mib(ICMP_MIB_IN_ADDR_MASKS), 1);
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 0);
}

/* --- rate limits ------------------------------------------------------------- */

HTest(icmp, protocol_unreachable_from_one_host_bursts_six_then_one_per_second)
{
	for (int i = 0; i < 10; i++)
		h_send_ip(&h, IP(.data = "rate"));
	h_expect_drops(&h, DROP_IP_NOPROTO, 10);
	for (int i = 0; i < 6; i++)
		h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT());
	h_expect_nothing(&h);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 4);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_GLOBAL), 0);
	cr_assert_eq(mib(ICMP_MIB_OUT_DEST_UNREACHS), 6);

	h_advance(&h, 999 * MS);
	h_send_ip(&h, IP(.data = "rate"));
	h_expect_nothing(&h);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 5);

	h_advance(&h, 1 * MS);
	h_send_ip(&h, IP(.data = "rate"));
	h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT());
	h_send_ip(&h, IP(.data = "rate"));
	h_expect_nothing(&h);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 6);

	/* A quiet host earns one message a second back. */
	h_advance(&h, 3500 * MS);
	for (int i = 0; i < 8; i++)
		h_send_ip(&h, IP(.data = "rate"));
	cr_assert_eq(h_drain(&h), 3, "3.5 s of silence earn 3 messages");
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 11);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_GLOBAL), 0);
	h_expect_drops(&h, DROP_IP_NOPROTO, 11);
}

HTest(icmp, host_burst_is_capped_at_six)
{
	h_send_ip(&h, IP(.data = "rate"));
	h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT());
	/* 5 s of tokens left plus 4 s of silence: capped at 6 */
	h_advance(&h, 4 * SEC);
	for (int i = 0; i < 10; i++)
		h_send_ip(&h, IP(.data = "rate"));
	cr_assert_eq(h_drain(&h), 6, "a long-quiet host still gets only the burst of 6");
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 4);
}

HTest(icmp, host_limit_is_per_source_address)
{
	for (int i = 0; i < 6; i++)
		h_send_ip(&h, IP(.data = "a"));
	cr_assert_eq(h_drain(&h), 6);
	h_send_ip(&h, IP(.data = "a"));
	h_expect_nothing(&h);
	h_arp_learn(&h, H_NET(5), H_MAC(5));
	h_send_ip(&h, IP(.eth_src = H_MAC(5), .saddr = H_NET(5), .data = "b"));
	h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT(.eth_dst = H_MAC(5), .daddr = H_NET(5)));
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 1);
}

/* One protocol-unreachable trigger from each of @n hosts behind the
 * gateway; returns how many errors were sent. */
static unsigned int from_many_hosts(unsigned int first, unsigned int n, uint64_t spacing_ns)
{
	unsigned int sent = 0;

	for (unsigned int i = first; i < first + n; i++) {
		uint32_t src = h_ip4(198, 18 + (i >> 16), (i >> 8) & 255, i & 255);

		h_send_ip(&h, IP(.saddr = src, .data = "many"));
		if (stack_tx_pending(&h.st)) {
			h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT(.daddr = src));
			sent++;
		}
		h_expect_nothing(&h);
		if (spacing_ns)
			h_advance(&h, spacing_ns);
	}
	return sent;
}

HTest(icmp, global_limit_caps_a_burst_across_many_hosts)
{
	unsigned int sent;

	cr_assert_eq(route_add(&h.st, 0, 0, H_PEER_IP, 0, 0, RTPROT_STATIC), 0);
	sent = from_many_hosts(1, 200, 0);
	/* icmp_msgs_burst = 50 tokens, each message spends 0, 1 or 2 */
	cr_assert(sent >= 25 && sent <= 100, "burst of %u errors, want about 50", sent);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_GLOBAL), 200 - sent);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 0);
	cr_assert_eq(mib(ICMP_MIB_OUT_DEST_UNREACHS), sent);

	/* Under 20 ms nothing is refilled. */
	h_advance(&h, 19 * MS);
	cr_assert_eq(from_many_hosts(1000, 20, 0), 0);
	/* 20 ms later: about 20 tokens */
	h_advance(&h, 1 * MS);
	sent = from_many_hosts(2000, 200, 0);
	cr_assert(sent >= 7 && sent <= 40, "%u errors after 20 ms, want about 20", sent);
	/* After a quiet second the bucket is full again, never fuller. */
	h_advance(&h, 1 * SEC);
	sent = from_many_hosts(3000, 200, 0);
	cr_assert(sent >= 25 && sent <= 100, "burst of %u errors, want about 50", sent);
	h_expect_drops(&h, DROP_IP_NOPROTO, 620);
}

HTest(icmp, global_limit_sustains_icmp_msgs_per_sec)
{
	unsigned int sent;

	cr_assert_eq(route_add(&h.st, 0, 0, H_PEER_IP, 0, 0, RTPROT_STATIC), 0);
	/* 5000 triggers over one second, five times the allowed rate */
	sent = from_many_hosts(1, 5000, 200 * US);
	cr_assert(sent >= 800 && sent <= 1300, "%u errors in 1 s, want about 1000 + burst", sent);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_GLOBAL), 5000 - sent);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 0);
	h_expect_drops(&h, DROP_IP_NOPROTO, 5000);
}

HTest(icmp, echo_replies_are_never_rate_limited)
{
	for (int i = 0; i < 100; i++) {
		h_send_icmp(&h, ICMP(.seq = i));
		h_expect_icmp(&h, ICMP_OUT(.seq = i));
	}
	cr_assert_eq(mib(ICMP_MIB_OUT_ECHO_REPS), 100);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 0);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_GLOBAL), 0);
}

HTest(icmp, empty_ratemask_disables_the_limits)
{
	h.st.cfg.tun.icmp_ratemask = 0;
	for (int i = 0; i < 20; i++)
		h_send_ip(&h, IP(.data = "x"));
	cr_assert_eq(h_drain(&h), 20);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 0);
}

HTest(icmp, zero_ratelimit_disables_the_host_limit)
{
	h.st.cfg.tun.icmp_ratelimit_ms = 0;
	for (int i = 0; i < 20; i++)
		h_send_ip(&h, IP(.data = "x"));
	cr_assert_eq(h_drain(&h), 20);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 0);
}

/* --- when not to send an error (icmp_send directly) ------------------------------ */

/* A received datagram as icmp_send() sees it: l3 at the IP header. */
static struct pkt *orig(const struct h_ip *ip)
{
	uint8_t frame[H_FRAME_MAX];
	unsigned int n = h_build_ip(frame, sizeof(frame), ip);
	struct pkt *p = pkt_alloc(&h.pool, PKT_HEADROOM);

	memcpy(pkt_put(p, n - 14), frame + 14, n - 14);
	pkt_set_l3(p);
	p->l2_type = 0; /* ETH_PKT_HOST */
	h.st.now = h.now;
	return p;
}

HTest(icmp, no_error_about_an_icmp_error)
{
	struct pkt *p = orig(&ICMP(.type = ICMP_DEST_UNREACH, .code = 3, .data = "12345678"));

	icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
	h_expect_nothing(&h);
	pkt_free(p);
	p = orig(&ICMP(.type = 42));
	icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
	h_expect_nothing(&h);
	pkt_free(p);
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 0);

	/* An ICMP query is not an error: it may be answered with one. */
	p = orig(&ICMP(.type = ICMP_ECHO));
	icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
	h_expect_icmp(&h, ICMP_OUT(.type = ICMP_DEST_UNREACH, .code = ICMP_PROT_UNREACH, .id = 0,
				   .seq = 0, .tos = 0xc0, .any_payload = true));
	pkt_free(p);
}

HTest(icmp, no_error_about_a_non_initial_fragment)
{
	struct pkt *p = orig(&IP(.frag_off = 185, .data = "frag"));

	icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
	h_expect_nothing(&h);
	pkt_free(p);
	p = orig(&IP(.frag_off = IP_MF, .data = "first"));
	icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
	h_expect_icmp(&h, ICMP_OUT(.type = ICMP_DEST_UNREACH, .code = ICMP_PROT_UNREACH, .id = 0,
				   .seq = 0, .tos = 0xc0, .any_payload = true));
	pkt_free(p);
}

HTest(icmp, no_error_to_a_source_that_is_not_one_host)
{
	const uint32_t bad[] = { 0, h_ip4(255, 255, 255, 255), h_ip4(127, 0, 0, 1),
				 h_ip4(224, 0, 0, 1), H_SUBNET_BCAST };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pkt *p = orig(&IP(.saddr = bad[i]));

		icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		h_expect_nothing(&h);
		pkt_free(p);
	}
	cr_assert_eq(mib(ICMP_MIB_OUT_MSGS), 0);
}

HTest(icmp, fragmentation_needed_is_never_rate_limited)
{
	for (int i = 0; i < 20; i++) {
		struct pkt *p = orig(&IP(.data = "big"));

		icmp_send(&h.st, p, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400);
		h_expect_icmp(&h, ICMP_OUT(.type = ICMP_DEST_UNREACH, .code = ICMP_FRAG_NEEDED,
					   .id = 0, .seq = 1400, .tos = 0xc0, .any_payload = true));
		pkt_free(p);
	}
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_HOST), 0);
	cr_assert_eq(mib(ICMP_MIB_OUT_RATE_LIMIT_GLOBAL), 0);
}
