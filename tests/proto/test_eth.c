// SPDX-License-Identifier: MIT
/*
 * Ethernet demux: which frames reach ARP and IPv4 and how each of the others
 * is counted; framing on output.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "proto/eth.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(eth, .init = setup, .fini = teardown, .timeout = 10);

HTest(eth, frame_shorter_than_the_header_is_too_small)
{
	uint8_t f[13];

	memcpy(f, H_US_MAC.a, 6);
	memcpy(f + 6, H_PEER_MAC.a, 6);
	f[12] = 0x08;
	h_send_raw(&h, f, sizeof(f));
	h_expect_drop(&h, DROP_PKT_TOO_SMALL);
	h_send_raw(&h, f, 0);
	h_expect_drop(&h, DROP_PKT_TOO_SMALL);
	h_expect_nothing(&h);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_RECEIVES), 0);
}

HTest(eth, header_only_frame_reaches_the_protocol)
{
	/* 14 bytes are a valid Ethernet frame; IPv4 then finds no header. */
	h_send_ip(&h, IP(.frame_len = 14));
	h_expect_drop(&h, DROP_IP_INHDR);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_RECEIVES), 1);
}

HTest(eth, unicast_for_another_mac_is_otherhost)
{
	h_send_icmp(&h, ICMP(.eth_dst = H_MAC(9)));
	h_expect_drop(&h, DROP_OTHERHOST);
	h_send_arp(&h, ARP(.eth_dst = H_MAC(9)));
	h_expect_drop(&h, DROP_OTHERHOST);
	h_expect_nothing(&h);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_RECEIVES), 0);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REQUESTS), 0);
}

HTest(eth, multicast_frame_is_otherhost)
{
	struct h_mac mcast = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } };
	struct h_mac ipv6_mcast = { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };

	h_send_icmp(&h, ICMP(.eth_dst = mcast, .daddr = h_ip4(224, 0, 0, 1)));
	h_expect_drop(&h, DROP_OTHERHOST);
	h_send_arp(&h, ARP(.eth_dst = ipv6_mcast));
	h_expect_drop(&h, DROP_OTHERHOST);
	h_expect_nothing(&h);
}

HTest(eth, broadcast_frame_is_accepted)
{
	h_send_arp(&h, ARP(.eth_dst = H_BCAST_MAC));
	h_expect_arp(&h, ARP_OUT());
	h_expect_no_drop(&h);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RCV_PROBES_MCAST), 1);
}

HTest(eth, frame_to_our_mac_is_accepted)
{
	h_send_arp(&h, ARP(.eth_dst = H_US_MAC));
	h_expect_arp(&h, ARP_OUT());
	h_expect_no_drop(&h);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RCV_PROBES_UCAST), 1);
}

HTest(eth, unknown_ethertype_is_unhandled)
{
	h_send_ip(&h, IP(.eth_type = 0x88b5));
	h_expect_drop(&h, DROP_UNHANDLED_PROTO);
	h_expect_nothing(&h);
	cr_assert_eq(h_ip_mib(&h, IP_MIB_IN_RECEIVES), 0);
}

HTest(eth, ipv6_ethertype_is_unhandled)
{
	h_send_ip(&h, IP(.eth_type = ETH_P_IPV6, .version = 6));
	h_expect_drop(&h, DROP_UNHANDLED_PROTO);
	h_expect_nothing(&h);
}

HTest(eth, vlan_tagged_frame_is_unhandled)
{
	h_send_ip(&h, IP(.eth_type = ETH_P_8021Q));
	h_expect_drop(&h, DROP_UNHANDLED_PROTO);
	h_expect_nothing(&h);
}

HTest(eth, broadcast_source_mac_is_still_demultiplexed_by_type)
{
	/* Ethernet itself does not judge the source; ARP does (sender MAC). */
	h_send_arp(&h, ARP(.eth_src = H_BCAST_MAC));
	h_expect_arp(&h, ARP_OUT());
	h_expect_no_drop(&h);
}

HTest(eth, output_prepends_header_with_our_source)
{
	struct pkt *p = pkt_alloc(&h.pool, PKT_HEADROOM);
	struct h_frame f;

	memcpy(pkt_put(p, 4), "abcd", 4);
	eth_output(&h.st, p, H_MAC(7).a, 0x88b5);
	cr_assert(h_pop(&h, &f));
	cr_assert_eq(f.len, 18);
	cr_assert(!memcmp(f.b, H_MAC(7).a, 6), "destination");
	cr_assert(!memcmp(f.b + 6, H_US_MAC.a, 6), "source");
	cr_assert_eq(f.b[12], 0x88);
	cr_assert_eq(f.b[13], 0xb5);
	cr_assert(!memcmp(f.b + 14, "abcd", 4));
}

HTest(eth, output_without_headroom_is_dropped_as_nomem)
{
	struct pkt *p = pkt_alloc(&h.pool, 10);

	pkt_put(p, 20);
	eth_output(&h.st, p, H_PEER_MAC.a, ETH_P_IP);
	h_expect_drop(&h, DROP_NOMEM);
	h_expect_nothing(&h);
}
