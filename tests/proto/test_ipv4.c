// SPDX-License-Identifier: MIT
/*
 * IPv4 input validation (RFC 791, RFC 1122 §3.2.1) in Linux ip_rcv_core()
 * order, each malformed datagram with its drop reason and MIB counter;
 * local delivery and protocol-unreachable; output through routes and the
 * neighbour cache.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
	/* The peer is known, so replies leave at once. */
	h_arp_learn(&h, H_PEER_IP, H_PEER_MAC);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(ipv4, .init = setup, .fini = teardown, .timeout = 10);

static void expect_hdr_errors(uint64_t n)
{
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_HDR_ERRORS), n, "InHdrErrors: got %lu, want %lu",
		     (unsigned long)h_ip_mib(&h, IP_MIB_IN_HDR_ERRORS), (unsigned long)n);
}

/* --- malformed input --------------------------------------------------------- */

HTest(ipv4, header_shorter_than_20_bytes_is_inhdr)
{
	h_send_icmp(&h, ICMP(.frame_len = 14 + 19));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_RECEIVES), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_DELIVERS), 0);
	h_expect_nothing(&h);
}

HTest(ipv4, wrong_version_is_dropped_and_counted)
{
	h_send_icmp(&h, ICMP(.version = 6));
	h_expect_drop(&h, DROP_IP_VERSION);
	h_send_icmp(&h, ICMP(.version = 0));
	h_expect_drop(&h, DROP_IP_VERSION);
	expect_hdr_errors(2);
	h_expect_nothing(&h);
}

HTest(ipv4, ihl_below_five_is_inhdr)
{
	h_send_icmp(&h, ICMP(.ihl = 4));
	h_expect_drop(&h, DROP_IP_INHDR);
	h_send_icmp(&h, ICMP(.ihl = 0));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(2);
	h_expect_nothing(&h);
}

HTest(ipv4, ihl_past_the_frame_is_inhdr)
{
	/* 60 bytes of header announced, 28 bytes of datagram present */
	h_send_icmp(&h, ICMP(.ihl = 15));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(1);
	h_expect_nothing(&h);
}

HTest(ipv4, bad_header_checksum_is_dropped_and_counted)
{
	h_send_icmp(&h, ICMP(.bad_ip_csum = true));
	h_expect_drop(&h, DROP_IP_CSUM);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_CSUM_ERRORS), 1);
	expect_hdr_errors(1);
	h_expect_nothing(&h);
}

HTest(ipv4, several_faults_count_under_the_first_check)
{
	/* Linux order: version before checksum before TTL. */
	h_send_icmp(&h, ICMP(.version = 5, .bad_ip_csum = true, .ttl = 0));
	h_expect_drop(&h, DROP_IP_VERSION);
	h_send_icmp(&h, ICMP(.bad_ip_csum = true, .ttl = 0));
	h_expect_drop(&h, DROP_IP_CSUM);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_CSUM_ERRORS), 1);
}

HTest(ipv4, total_length_past_the_frame_is_truncated)
{
	h_send_icmp(&h, ICMP(.data = "0123456789", .tot_len = 20 + 8 + 11));
	h_expect_drop(&h, DROP_IP_TRUNCATED);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_TRUNCATED_PKTS), 1);
	expect_hdr_errors(0);

	/* The same with the frame cut short by the link. */
	h_send_icmp(&h, ICMP(.data = "0123456789", .frame_len = 14 + 20 + 8 + 9));
	h_expect_drop(&h, DROP_IP_TRUNCATED);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_TRUNCATED_PKTS), 2);
	h_expect_nothing(&h);
}

HTest(ipv4, total_length_below_header_length_is_inhdr)
{
	h_send_icmp(&h, ICMP(.tot_len = 19));
	h_expect_drop(&h, DROP_IP_INHDR);
	h_send_ip(&h, IP(.opts = "\x01\x01\x01\x00", .opts_len = 4, .tot_len = 20));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(2);
	h_expect_nothing(&h);
}

HTest(ipv4, zero_ttl_is_dropped_and_counted)
{
	h_send_icmp(&h, ICMP(.ttl = 0));
	h_expect_drop(&h, DROP_IP_TTL_ZERO);
	expect_hdr_errors(1);
	cr_assert_eq(h_icmp_mib(&h, ICMP_MIB_IN_MSGS), 0);
	h_expect_nothing(&h);
}

HTest(ipv4, ttl_one_is_delivered)
{
	h_send_icmp(&h, ICMP(.ttl = 1));
	h_expect_icmp(&h, ICMP_OUT());
	h_expect_no_drop(&h);
}

HTest(ipv4, option_with_length_below_two_is_inhdr)
{
	h_send_icmp(&h, ICMP(.opts = "\x94\x00\x00\x00", .opts_len = 4));
	h_expect_drop(&h, DROP_IP_INHDR);
	h_send_icmp(&h, ICMP(.opts = "\x94\x01\x00\x00", .opts_len = 4));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(2);
	h_expect_nothing(&h);
}

HTest(ipv4, option_running_past_the_header_is_inhdr)
{
	h_send_icmp(&h, ICMP(.opts = "\x01\x94\x08\x00", .opts_len = 4));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(1);
	h_expect_nothing(&h);
}

HTest(ipv4, option_type_without_room_for_its_length_is_inhdr)
{
	h_send_icmp(&h, ICMP(.opts = "\x01\x01\x01\x44", .opts_len = 4));
	h_expect_drop(&h, DROP_IP_INHDR);
	expect_hdr_errors(1);
	h_expect_nothing(&h);
}

HTest(ipv4, well_formed_options_are_accepted)
{
	/* NOP, NOP, Router Alert (RFC 2113), END, padding */
	static const uint8_t opts[8] = { 0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x00, 0x00 };

	h_send_icmp(&h, ICMP(.opts = opts, .opts_len = sizeof(opts), .data = "opts"));
	/* The reply carries no options. */
	h_expect_icmp(&h, ICMP_OUT(.ihl = 5, .data = "opts"));
	/* An all-END option area, and a 40-byte area of NOPs. */
	h_send_icmp(&h, ICMP(.opts = "\0\0\0\0", .opts_len = 4));
	h_expect_icmp(&h, ICMP_OUT());
	h_send_icmp(&h, ICMP(.opts = "\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1"
				     "\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1\1",
			     .opts_len = 40));
	h_expect_icmp(&h, ICMP_OUT());
	h_expect_no_drop(&h);
	expect_hdr_errors(0);
}

HTest(ipv4, ethernet_padding_is_trimmed_before_delivery)
{
	/* 28-byte datagram in a minimum 60-byte frame; the 0xa5 padding
	 * would break the ICMP checksum if it were taken as payload. */
	h_send_icmp(&h, ICMP(.pad_to = 60));
	cr_assert_eq(h.sent_len, 60);
	h_expect_icmp(&h, ICMP_OUT(.tot_len = 28));
	h_send_icmp(&h, ICMP(.data = "abc", .pad_to = 60));
	h_expect_icmp(&h, ICMP_OUT(.data = "abc", .tot_len = 31));
	h_expect_no_drop(&h);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_OCTETS), 28 + 31, "InOctets counts the datagram only");
}

HTest(ipv4, destination_not_local_is_inaddrerrors)
{
	h_send_icmp(&h, ICMP(.daddr = H_NET(3)));
	h_expect_drop(&h, DROP_IP_INADDRERRORS);
	h_send_icmp(&h, ICMP(.daddr = h_ip4(192, 0, 2, 1)));
	h_expect_drop(&h, DROP_IP_INADDRERRORS);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_ADDR_ERRORS), 2);
	h_expect_nothing(&h);
}

HTest(ipv4, multicast_source_is_invalid)
{
	h_send_icmp(&h, ICMP(.saddr = h_ip4(224, 0, 0, 1)));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_send_icmp(&h, ICMP(.saddr = h_ip4(239, 255, 255, 250)));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_expect_nothing(&h);
}

HTest(ipv4, broadcast_sources_are_invalid)
{
	h_send_icmp(&h, ICMP(.saddr = h_ip4(255, 255, 255, 255)));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_send_icmp(&h, ICMP(.saddr = H_SUBNET_BCAST));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_expect_nothing(&h);
}

HTest(ipv4, loopback_source_is_invalid)
{
	h_send_icmp(&h, ICMP(.saddr = h_ip4(127, 0, 0, 1)));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_send_icmp(&h, ICMP(.saddr = h_ip4(127, 1, 2, 3)));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_expect_nothing(&h);
}

HTest(ipv4, zero_network_source_is_invalid_except_towards_limited_broadcast)
{
	h_send_icmp(&h, ICMP(.saddr = 0));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	h_send_icmp(&h, ICMP(.saddr = h_ip4(0, 1, 2, 3)));
	h_expect_drop(&h, DROP_IP_INVALID_SOURCE);
	/* RFC 1122 §3.2.1.3: 0.0.0.0 -> 255.255.255.255 is how a host
	 * without an address talks; it passes the source check. */
	h_send_ip(&h, IP(.eth_dst = H_BCAST_MAC, .saddr = 0, .daddr = h_ip4(255, 255, 255, 255)));
	h_expect_drop(&h, DROP_IP_NOPROTO);
	h_expect_nothing(&h);
}

HTest(ipv4, fragments_are_not_supported_yet)
{
	h_send_icmp(&h, ICMP(.frag_off = IP_MF));
	h_expect_drop(&h, DROP_IP_FRAG_UNSUPPORTED);
	h_send_icmp(&h, ICMP(.frag_off = 100));
	h_expect_drop(&h, DROP_IP_FRAG_UNSUPPORTED);
	h_send_icmp(&h, ICMP(.frag_off = IP_DF | IP_MF | 1));
	h_expect_drop(&h, DROP_IP_FRAG_UNSUPPORTED);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_REASM_REQDS), 3);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_REASM_FAILS), 3);
	h_expect_nothing(&h);
}

HTest(ipv4, dont_fragment_alone_is_not_a_fragment)
{
	h_send_icmp(&h, ICMP(.frag_off = IP_DF));
	h_expect_icmp(&h, ICMP_OUT());
	h_expect_no_drop(&h);
}

HTest(ipv4, unicast_in_l2_broadcast_is_accepted_by_default)
{
	h_send_icmp(&h, ICMP(.eth_dst = H_BCAST_MAC));
	h_expect_icmp(&h, ICMP_OUT());
	h_expect_no_drop(&h);
}

HTest(ipv4, unicast_in_l2_broadcast_is_dropped_when_configured)
{
	h.st.cfg.tun.drop_unicast_in_l2_multicast = 1;
	h_send_icmp(&h, ICMP(.eth_dst = H_BCAST_MAC));
	h_expect_drop(&h, DROP_UNICAST_IN_L2_MULTICAST);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_ADDR_ERRORS), 1);
	h_expect_nothing(&h);
	h_send_icmp(&h, ICMP());
	h_expect_icmp(&h, ICMP_OUT());
}

/* --- delivery ------------------------------------------------------------------ */

HTest(ipv4, good_datagram_is_counted_received_and_delivered)
{
	h_send_icmp(&h, ICMP(.data = "count me"));
	h_expect_icmp(&h, ICMP_OUT(.data = "count me"));
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_RECEIVES), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_DELIVERS), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_OCTETS), 36);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_REQUESTS), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_OCTETS), 36);
	expect_hdr_errors(0);
}

HTest(ipv4, unknown_protocol_gets_protocol_unreachable_quoting_the_datagram)
{
	h_send_ip(&h, IP(.protocol = 253, .tos = 0x10, .data = "unknown transport payload"));
	h_expect_drop(&h, DROP_IP_NOPROTO);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_UNKNOWN_PROTOS), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_DELIVERS), 0);
	/* RFC 1812 §4.3.2.5: errors are sent with precedence 6 (0xc0). */
	h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT(.tos = 0xc0 | 0x10));
	h_expect_nothing(&h);
	cr_assert_eq(h_icmp_mib(&h, ICMP_MIB_OUT_MSGS), 1);
	cr_assert_eq(h_icmp_mib(&h, ICMP_MIB_OUT_DEST_UNREACHS), 1);
}

HTest(ipv4, protocol_unreachable_quote_is_cut_to_fit_576_bytes)
{
	static uint8_t big[1000];

	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	h_send_ip(&h, IP(.protocol = 99, .data = big, .len = sizeof(big)));
	h_expect_drop(&h, DROP_IP_NOPROTO);
	h_expect_icmp(&h, PROT_UNREACH_FOR_LAST_SENT(.len = 576 - 28, .tot_len = 576));
}

HTest(ipv4, unknown_protocol_to_broadcast_gets_no_icmp)
{
	h_send_ip(&h, IP(.eth_dst = H_BCAST_MAC, .daddr = H_SUBNET_BCAST, .data = "x"));
	h_expect_drop(&h, DROP_IP_NOPROTO);
	h_send_ip(&h, IP(.eth_dst = H_BCAST_MAC, .daddr = h_ip4(255, 255, 255, 255), .data = "x"));
	h_expect_drop(&h, DROP_IP_NOPROTO);
	h_expect_nothing(&h);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_UNKNOWN_PROTOS), 2);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_BCAST_PKTS), 2);
	cr_assert_eq(h_icmp_mib(&h, ICMP_MIB_OUT_MSGS), 0);
}

HTest(ipv4, unknown_protocol_in_l2_broadcast_frame_gets_no_icmp)
{
	/* RFC 1122 §3.2.2: no error about a link-layer broadcast. */
	h_send_ip(&h, IP(.eth_dst = H_BCAST_MAC, .data = "x"));
	h_expect_drop(&h, DROP_IP_NOPROTO);
	h_expect_nothing(&h);
}

/* --- output ---------------------------------------------------------------------- */

HTest(ipv4, output_without_a_route_is_enetunreach)
{
	cr_assert_eq(h_ip_output(&h, h_ip4(192, 0, 2, 1), 253, "x", 1), -ENETUNREACH);
	h_expect_drop(&h, DROP_IP_OUTNOROUTES);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_NO_ROUTES), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_REQUESTS), 0);
	h_expect_nothing(&h);
}

HTest(ipv4, output_to_our_own_address_comes_back_in)
{
	cr_assert_eq(h_ip_output(&h, H_US_IP, 253, "x", 1), 0);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_REQUESTS), 1);
	cr_assert_eq(stack_loopback_pending(&h.st), 1);
	stack_loopback(&h.st, h.now);
	/* Protocol 253 is nobody's: dropped on input, like from the link. */
	h_expect_drop(&h, DROP_IP_NOPROTO);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_UNKNOWN_PROTOS), 1);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_NO_ROUTES), 0);
	while (stack_loopback_pending(&h.st))
		stack_loopback(&h.st, h.now); /* the protocol unreachable, to ourselves */
	h_expect_nothing(&h);
}

HTest(ipv4, output_larger_than_the_mtu_is_emsgsize)
{
	static uint8_t payload[1481];

	cr_assert_eq(h_ip_output(&h, H_PEER_IP, 253, payload, 1481), -EMSGSIZE);
	h_expect_drop(&h, DROP_PKT_TOO_BIG);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_DISCARDS), 1);
	h_expect_nothing(&h);
	cr_assert_eq(h_ip_output(&h, H_PEER_IP, 253, payload, 1480), 0);
	h_expect_ip(&h, IP_OUT(.data = payload, .len = 1480, .tot_len = 1500, .frame_len = 1514));
	h_expect_no_drop(&h);
}

HTest(ipv4, output_header_fields_follow_the_request)
{
	struct ipv4_tx tx = { .daddr = H_PEER_IP, .protocol = 17, .tos = 0x28, .ttl = 7, .df = 1 };
	struct h_frame f1, f2;
	struct pkt *p;

	p = pkt_alloc(&h.pool, PKT_HEADROOM);
	memcpy(pkt_put(p, 4), "abcd", 4);
	h.st.now = h.now;
	cr_assert_eq(ipv4_output(&h.st, p, &tx), 0);
	h_expect_ip_frame(
		&h, &f1,
		IP_OUT(.protocol = 17, .tos = 0x28, .ttl = 7, .frag_off = IP_DF, .data = "abcd"));
	cr_assert_eq(h_ip_output(&h, H_PEER_IP, 17, "efgh", 4), 0);
	h_expect_ip_frame(&h, &f2, IP_OUT(.protocol = 17, .data = "efgh"));
	/* RFC 6864: IDs of datagrams to one destination differ. */
	cr_assert(memcmp(f1.b + 18, f2.b + 18, 2), "consecutive datagrams share an IP ID");
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_REQUESTS), 2);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_OCTETS), 48);
}

HTest(ipv4, explicit_source_address_is_kept)
{
	struct ipv4_tx tx = { .saddr = H_NET(20), .daddr = H_PEER_IP, .protocol = 253 };
	struct pkt *p = pkt_alloc(&h.pool, PKT_HEADROOM);

	pkt_put(p, 0);
	h.st.now = h.now;
	cr_assert_eq(ipv4_output(&h.st, p, &tx), 0);
	h_expect_ip(&h, IP_OUT(.saddr = H_NET(20)));
}

HTest(ipv4, output_to_broadcast_uses_the_broadcast_mac)
{
	cr_assert_eq(h_ip_output(&h, H_SUBNET_BCAST, 253, "all", 3), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_BCAST_MAC, .daddr = H_SUBNET_BCAST, .data = "all"));
	cr_assert_eq(h_ip_output(&h, h_ip4(255, 255, 255, 255), 253, "all", 3), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_BCAST_MAC, .daddr = h_ip4(255, 255, 255, 255),
			       .data = "all"));
	cr_assert_eq(h_ip_mib(&h, IP_MIB_OUT_BCAST_PKTS), 2);
	h_expect_nothing(&h);
}

HTest(ipv4, default_route_sends_to_the_gateway_mac_after_resolving_it)
{
	uint32_t far = h_ip4(192, 0, 2, 77);

	cr_assert_eq(route_add(&h.st, 0, 0, H_NET(254), 0, 0, RTPROT_STATIC), 0);
	cr_assert_eq(h_ip_output(&h, far, 253, "via gw", 6), 0);
	/* The gateway is resolved, never the far destination. */
	h_arp_resolve(&h, H_NET(254), H_MAC(254));
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(254), .daddr = far, .data = "via gw"));
	cr_assert_eq(h_neigh_state(&h, far), -1, "the far host got a neighbour entry");
	cr_assert_eq(h_ip_output(&h, far, 253, "again", 5), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(254), .daddr = far, .data = "again"));
	h_expect_nothing(&h);
}
