// SPDX-License-Identifier: MIT
/*
 * ARP (RFC 826, RFC 5227) and the neighbour cache's NUD state machine:
 * what usnet answers, what it learns, how it resolves, ages, probes and
 * gives up, and how each rejected packet is counted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(arp, .init = setup, .fini = teardown, .timeout = 10);

static void expect_no_entry(uint32_t ip)
{
	cr_assert_eq(h_neigh_state(&h, ip), -1, "unexpected neighbour entry");
}

static void expect_state(uint32_t ip, int state)
{
	int got = h_neigh_state(&h, ip);

	cr_assert_eq(got, state, "neighbour state: got %s, want %s",
		     got < 0 ? "none" : neigh_state_name((unsigned int)got),
		     neigh_state_name((unsigned int)state));
}

static void expect_mac(uint32_t ip, struct h_mac mac)
{
	struct neigh_info ni;

	cr_assert(h_neigh(&h, ip, &ni), "no neighbour entry");
	cr_assert(!memcmp(ni.mac, mac.a, 6), "neighbour MAC %02x:..:%02x, want ..:%02x", ni.mac[0],
		  ni.mac[5], mac.a[5]);
}

/* A reply from @ip (@mac) to usnet, unicast as a reply to our request is. */
static void send_reply(uint32_t ip, struct h_mac mac)
{
	h_send_arp(&h, ARP(.op = ARPOP_REPLY, .eth_dst = H_US_MAC, .eth_src = mac, .sha = mac,
			   .spa = ip, .tha = H_US_MAC, .tpa = H_US_IP));
}

/* Resolve 10.77.0.5 (MAC 5) through a real request and reply. */
static void resolve5(void)
{
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "first", 5), 0);
	h_arp_resolve(&h, H_NET(5), H_MAC(5));
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "first"));
}

/* --- answering --------------------------------------------------------------- */

HTest(arp, request_for_our_address_is_answered_and_learns_the_asker_as_stale)
{
	struct neigh_info ni;

	h_send_arp(&h, ARP());
	h_expect_arp(&h, ARP_OUT(.eth_dst = H_PEER_MAC, .eth_src = H_US_MAC, .htype = 1,
				 .ptype = 0x0800, .hlen = 6, .plen = 4, .op = ARPOP_REPLY,
				 .sha = H_US_MAC, .spa = H_US_IP, .tha = H_PEER_MAC,
				 .tpa = H_PEER_IP, .frame_len = 42));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	cr_assert(h_neigh(&h, H_PEER_IP, &ni), "asker not learnt");
	cr_assert_eq(ni.state, NUD_STALE);
	cr_assert(!memcmp(ni.mac, H_PEER_MAC.a, 6));
	cr_assert_eq(ni.queued, 0);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REQUESTS), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_OUT_REPLIES), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RCV_PROBES_MCAST), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_ALLOCS), 1);
}

HTest(arp, padded_request_is_answered)
{
	h_send_arp(&h, ARP(.pad_to = 60));
	h_expect_arp(&h, ARP_OUT());
	h_expect_no_drop(&h);
}

HTest(arp, request_for_another_address_is_not_for_us_and_unanswered)
{
	h_send_arp(&h, ARP(.tpa = H_NET(3)));
	h_expect_drop(&h, DROP_ARP_NOT_FOR_US);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REQUESTS), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_OUT_REPLIES), 0);
}

HTest(arp, truncated_packet_is_too_small)
{
	h_send_arp(&h, ARP(.frame_len = 14 + 27));
	h_expect_drop(&h, DROP_PKT_TOO_SMALL);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REQUESTS), 0);
}

HTest(arp, non_ethernet_hardware_type_is_invalid)
{
	h_send_arp(&h, ARP(.htype = 6));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, non_ipv4_protocol_type_is_invalid)
{
	h_send_arp(&h, ARP(.ptype = ETH_P_IPV6));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, wrong_hardware_address_length_is_invalid)
{
	h_send_arp(&h, ARP(.hlen = 8));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, wrong_protocol_address_length_is_invalid)
{
	h_send_arp(&h, ARP(.plen = 16));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, unknown_opcodes_are_invalid)
{
	h_send_arp(&h, ARP(.op = 0));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_send_arp(&h, ARP(.op = 3)); /* RARP request */
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_send_arp(&h, ARP(.op = 0x0101));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REQUESTS), 0);
}

HTest(arp, multicast_or_loopback_target_is_invalid)
{
	h_send_arp(&h, ARP(.tpa = h_ip4(224, 0, 0, 1)));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_send_arp(&h, ARP(.tpa = h_ip4(127, 0, 0, 1)));
	h_expect_drop(&h, DROP_ARP_INVALID);
	h_expect_nothing(&h);
}

HTest(arp, multicast_sender_ip_is_invalid_sender)
{
	h_send_arp(&h, ARP(.spa = h_ip4(224, 0, 0, 9)));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	expect_no_entry(h_ip4(224, 0, 0, 9));
}

HTest(arp, broadcast_sender_ip_is_invalid_sender)
{
	h_send_arp(&h, ARP(.spa = h_ip4(255, 255, 255, 255)));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	cr_assert_eq(h.st.neigh.count, 0);
}

HTest(arp, loopback_sender_ip_is_invalid_sender)
{
	h_send_arp(&h, ARP(.spa = h_ip4(127, 0, 0, 1)));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	cr_assert_eq(h.st.neigh.count, 0);
}

HTest(arp, our_own_mac_as_sender_is_invalid_sender)
{
	h_send_arp(&h, ARP(.sha = H_US_MAC));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, zero_sender_mac_is_invalid_sender)
{
	h_send_arp(&h, ARP(.sha = H_ZERO_MAC));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, multicast_sender_mac_is_invalid_sender)
{
	h_send_arp(&h, ARP(.sha = H_BCAST_MAC));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	expect_no_entry(H_PEER_IP);
}

HTest(arp, sender_claiming_our_address_is_invalid_sender)
{
	h_send_arp(&h, ARP(.spa = H_US_IP, .tpa = H_US_IP));
	h_expect_drop(&h, DROP_ARP_INVALID_SENDER);
	h_expect_nothing(&h);
	cr_assert_eq(h.st.neigh.count, 0);
}

HTest(arp, rfc5227_probe_is_answered_but_creates_no_entry)
{
	h_send_arp(&h, ARP(.spa = 0));
	h_expect_arp(&h, ARP_OUT(.tha = H_PEER_MAC, .tpa = 0));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	cr_assert_eq(h.st.neigh.count, 0, "a probe from 0.0.0.0 created an entry");
}

HTest(arp, unicast_request_counts_as_unicast_probe)
{
	h_send_arp(&h, ARP(.eth_dst = H_US_MAC));
	h_expect_arp(&h, ARP_OUT());
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RCV_PROBES_UCAST), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RCV_PROBES_MCAST), 0);
}

/* --- resolution ------------------------------------------------------------- */

HTest(arp, output_to_unknown_neighbour_solicits_retries_then_fails)
{
	struct neigh_info ni;

	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "one", 3), 0);
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	h_expect_nothing(&h);
	cr_assert(h_neigh(&h, H_NET(5), &ni));
	cr_assert_eq(ni.state, NUD_INCOMPLETE);
	cr_assert_eq(ni.queued, 1);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "two", 3), 0);
	h_expect_nothing(&h); /* one solicitation per retrans_time, not per packet */
	cr_assert(h_neigh(&h, H_NET(5), &ni));
	cr_assert_eq(ni.queued, 2);

	h_advance(&h, 999 * MS);
	h_expect_nothing(&h);
	h_advance(&h, 1 * MS);
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	h_advance(&h, 1 * SEC);
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_OUT_REQUESTS), 3);
	expect_state(H_NET(5), NUD_INCOMPLETE);
	h_expect_no_drop(&h);

	h_advance(&h, 999 * MS);
	h_expect_nothing(&h);
	h_advance(&h, 1 * MS);
	h_expect_nothing(&h); /* mcast_solicit = 3: no fourth request */
	expect_state(H_NET(5), NUD_FAILED);
	h_expect_drops(&h, DROP_NEIGH_FAILED, 2);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RES_FAILED), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_OUT_REQUESTS), 3);
	cr_assert(h_neigh(&h, H_NET(5), &ni));
	cr_assert_eq(ni.queued, 0);
}

HTest(arp, reply_resolves_incomplete_to_reachable_and_flushes_in_order)
{
	static const char p1[] = "queued-1", p2[] = "queued-2";

	h_send_icmp(&h, ICMP(.eth_src = H_MAC(5), .saddr = H_NET(5), .seq = 1, .data = p1));
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	h_send_icmp(&h, ICMP(.eth_src = H_MAC(5), .saddr = H_NET(5), .seq = 2, .data = p2));
	h_expect_nothing(&h);
	expect_state(H_NET(5), NUD_INCOMPLETE);

	send_reply(H_NET(5), H_MAC(5));
	expect_state(H_NET(5), NUD_REACHABLE);
	h_expect_icmp(&h, ICMP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .seq = 1, .data = p1));
	h_expect_icmp(&h, ICMP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .seq = 2, .data = p2));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REPLIES), 1);

	/* Resolved: the next datagram goes straight out. */
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "direct", 6), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "direct"));
}

HTest(arp, broadcast_reply_resolves_to_stale_only)
{
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "x", 1), 0);
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	h_send_arp(&h, ARP(.op = ARPOP_REPLY, .eth_dst = H_BCAST_MAC, .eth_src = H_MAC(5),
			   .sha = H_MAC(5), .spa = H_NET(5), .tha = H_US_MAC, .tpa = H_US_IP));
	expect_state(H_NET(5), NUD_STALE);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "x"));
}

HTest(arp, request_from_the_neighbour_being_resolved_flushes_its_queue)
{
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "x", 1), 0);
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	h_send_arp(&h, ARP(.eth_src = H_MAC(5), .sha = H_MAC(5), .spa = H_NET(5)));
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "x"));
	h_expect_arp(&h, ARP_OUT(.eth_dst = H_MAC(5), .tha = H_MAC(5), .tpa = H_NET(5)));
	expect_state(H_NET(5), NUD_STALE);
	h_expect_no_drop(&h);
}

HTest(arp, failed_entry_is_resolved_again_on_next_use)
{
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "x", 1), 0);
	h_advance(&h, 3 * SEC);
	cr_assert_eq(h_drain(&h), 3);
	expect_state(H_NET(5), NUD_FAILED);
	h_expect_drop(&h, DROP_NEIGH_FAILED);

	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "y", 1), 0);
	h_arp_resolve(&h, H_NET(5), H_MAC(5));
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "y"));
}

HTest(arp, periodic_gc_removes_failed_entries)
{
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "x", 1), 0);
	h_advance(&h, 3 * SEC);
	cr_assert_eq(h_drain(&h), 3);
	expect_state(H_NET(5), NUD_FAILED);
	/* gc runs every base_reachable_time / 2 = 15 s */
	h_advance(&h, 12 * SEC + 1);
	expect_no_entry(H_NET(5));
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_DESTROYS), 1);
	cr_assert_geq(h_arp_mib(&h, ARP_MIB_PERIODIC_GC_RUNS), 1);
	h_expect_drop(&h, DROP_NEIGH_FAILED);
}

/* --- aging and probing ------------------------------------------------------- */

HTest(arp, reachable_becomes_stale_after_reachable_time)
{
	resolve5();
	/* reachable_time is drawn from [15 s, 45 s) */
	h_advance(&h, 15 * SEC - 1);
	expect_state(H_NET(5), NUD_REACHABLE);
	h_advance(&h, 31 * SEC);
	expect_state(H_NET(5), NUD_STALE);
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
}

HTest(arp, stale_entry_in_use_is_probed_unicast_after_delay_then_fails)
{
	resolve5();
	h_advance(&h, 46 * SEC);
	expect_state(H_NET(5), NUD_STALE);

	/* Using a STALE entry sends at once and starts DELAY. */
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "used", 4), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "used"));
	expect_state(H_NET(5), NUD_DELAY);

	h_advance(&h, 5 * SEC - 1);
	h_expect_nothing(&h);
	h_advance(&h, 1);
	h_expect_arp_request(&h, H_NET(5), H_MAC(5)); /* unicast to the known MAC */
	expect_state(H_NET(5), NUD_PROBE);

	/* PROBE still sends with the known address. */
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "probing", 7), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "probing"));

	h_advance(&h, 1 * SEC);
	h_expect_arp_request(&h, H_NET(5), H_MAC(5));
	h_advance(&h, 1 * SEC);
	h_expect_arp_request(&h, H_NET(5), H_MAC(5));
	expect_state(H_NET(5), NUD_PROBE);
	h_advance(&h, 1 * SEC);
	h_expect_nothing(&h); /* ucast_solicit = 3 */
	expect_state(H_NET(5), NUD_FAILED);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_RES_FAILED), 1);
	h_expect_no_drop(&h);
}

HTest(arp, never_confirmed_entry_is_probed_after_delay)
{
	/* Learnt from the neighbour's own request: STALE, never confirmed.
	 * Its first use must lead to a unicast probe however early after
	 * boot the clock is. */
	h_arp_learn(&h, H_NET(5), H_MAC(5));
	expect_state(H_NET(5), NUD_STALE);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "used", 4), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "used"));
	expect_state(H_NET(5), NUD_DELAY);
	h_advance(&h, 5 * SEC);
	h_expect_arp_request(&h, H_NET(5), H_MAC(5));
	expect_state(H_NET(5), NUD_PROBE);
	send_reply(H_NET(5), H_MAC(5));
	expect_state(H_NET(5), NUD_REACHABLE);
	h_advance(&h, 2 * SEC);
	h_expect_nothing(&h);
}

HTest(arp, confirmation_during_delay_returns_to_reachable_without_probe)
{
	resolve5();
	h_advance(&h, 46 * SEC);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "used", 4), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "used"));
	expect_state(H_NET(5), NUD_DELAY);
	send_reply(H_NET(5), H_MAC(5));
	expect_state(H_NET(5), NUD_REACHABLE);
	h_advance(&h, 6 * SEC);
	h_expect_nothing(&h);
	expect_state(H_NET(5), NUD_REACHABLE);
}

/* --- learning ---------------------------------------------------------------- */

HTest(arp, gratuitous_request_updates_an_existing_entry_mac)
{
	h_arp_learn(&h, H_NET(5), H_MAC(5));
	h_advance(&h, 2 * SEC);
	h_send_arp(&h, ARP(.eth_src = H_MAC(6), .sha = H_MAC(6), .spa = H_NET(5), .tpa = H_NET(5)));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	expect_mac(H_NET(5), H_MAC(6));
	expect_state(H_NET(5), NUD_STALE);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "new", 3), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(6), .daddr = H_NET(5), .data = "new"));
}

HTest(arp, gratuitous_arp_overrides_even_within_locktime)
{
	resolve5();
	h_send_arp(&h, ARP(.op = ARPOP_REPLY, .eth_src = H_MAC(6), .sha = H_MAC(6), .spa = H_NET(5),
			   .tha = H_BCAST_MAC, .tpa = H_NET(5)));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	expect_mac(H_NET(5), H_MAC(6));
}

HTest(arp, gratuitous_arp_from_unknown_host_creates_no_entry)
{
	h_send_arp(&h, ARP(.eth_src = H_MAC(7), .sha = H_MAC(7), .spa = H_NET(7), .tpa = H_NET(7)));
	h_expect_drop(&h, DROP_ARP_NOT_FOR_US);
	h_expect_nothing(&h);
	expect_no_entry(H_NET(7));
}

HTest(arp, unsolicited_reply_creates_no_entry)
{
	send_reply(H_NET(8), H_MAC(8));
	h_expect_nothing(&h);
	h_expect_no_drop(&h);
	expect_no_entry(H_NET(8));
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_IN_REPLIES), 1);
}

HTest(arp, reply_with_another_mac_within_locktime_does_not_override)
{
	resolve5();
	send_reply(H_NET(5), H_MAC(6));
	expect_mac(H_NET(5), H_MAC(5));
	/* Linux: the entry keeps its address but loses its confidence. */
	expect_state(H_NET(5), NUD_STALE);
	h_advance(&h, 1 * SEC);
	send_reply(H_NET(5), H_MAC(6));
	expect_mac(H_NET(5), H_MAC(6));
	expect_state(H_NET(5), NUD_REACHABLE);
	h_expect_nothing(&h);
}

HTest(arp, request_from_known_neighbour_for_another_host_refreshes_it)
{
	h_arp_learn(&h, H_NET(5), H_MAC(5));
	h_advance(&h, 2 * SEC);
	h_send_arp(&h, ARP(.eth_src = H_MAC(6), .sha = H_MAC(6), .spa = H_NET(5), .tpa = H_NET(9)));
	h_expect_drop(&h, DROP_ARP_NOT_FOR_US);
	h_expect_nothing(&h);
	expect_mac(H_NET(5), H_MAC(6));
	expect_state(H_NET(5), NUD_STALE);
}

/* --- bounds ------------------------------------------------------------------ */

HTest(arp, unresolved_queue_bound_drops_the_oldest)
{
	uint8_t payload[40];

	/* Each datagram costs the pool buffer it holds (Linux charges
	 * truesize, not length): room for one and a half. */
	h.st.cfg.tun.neigh_unres_qlen_bytes = H_POOL_DATA_SIZE * 3 / 2;
	for (uint8_t i = 1; i <= 3; i++) {
		memset(payload, i, sizeof(payload));
		cr_assert_eq(h_ip_output(&h, H_NET(5), 253, payload, sizeof(payload)), 0);
	}
	h_expect_drops(&h, DROP_NEIGH_QUEUEFULL, 2);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_UNRESOLVED_DISCARDS), 2);
	h_arp_resolve(&h, H_NET(5), H_MAC(5));
	memset(payload, 3, sizeof(payload));
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = payload,
			       .len = sizeof(payload)));
	h_expect_nothing(&h);
}

HTest(arp, queue_bound_below_one_buffer_queues_nothing_but_still_resolves)
{
	h.st.cfg.tun.neigh_unres_qlen_bytes = H_POOL_DATA_SIZE - 1;
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "tiny", 4), -ENOBUFS);
	h_expect_drop(&h, DROP_NEIGH_QUEUEFULL);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_UNRESOLVED_DISCARDS), 1);
	h_arp_resolve(&h, H_NET(5), H_MAC(5));
	h_expect_nothing(&h);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "tiny", 4), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "tiny", .len = 4));
}

/* Packets for neighbours that never answer (SYN-ACKs to a flood's spoofed
 * sources) hold at most an eighth of the pool the link is read into. */
HTest(arp, unresolved_queues_together_hold_at_most_an_eighth_of_the_pool)
{
	const uint32_t share = H_POOL_DATA / 8, extra = 8;
	uint32_t free_before;

	for (uint32_t i = 0; i < share + extra; i++)
		h_ip_output(&h, H_NET(10 + i), 253, "x", 1);
	for (uint32_t i = 0; i < share + extra; i++)
		h_expect_arp_request(&h, H_NET(10 + i), H_BCAST_MAC);
	h_expect_nothing(&h);
	h_expect_drops(&h, DROP_NEIGH_QUEUEFULL, extra);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_UNRESOLVED_DISCARDS), extra);
	cr_assert_eq(h.st.neigh.pending_bufs, share);
	/* A neighbour that already waits keeps its newest packet. */
	free_before = h.pool.nfree_data;
	cr_assert_eq(h_ip_output(&h, H_NET(10), 253, "y", 1), 0);
	h_expect_drop(&h, DROP_NEIGH_QUEUEFULL);
	cr_assert_eq(h.pool.nfree_data, free_before);
	h_send_arp(&h, ARP(.op = ARPOP_REPLY, .eth_dst = H_US_MAC, .eth_src = H_MAC(10),
			   .sha = H_MAC(10), .spa = H_NET(10), .tha = H_US_MAC, .tpa = H_US_IP));
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(10), .daddr = H_NET(10), .data = "y", .len = 1));
	h_expect_nothing(&h);
	cr_assert_eq(h.st.neigh.pending_bufs, share - 1);
	/* The buffer it freed lets the next destination queue again. */
	cr_assert_eq(h_ip_output(&h, H_NET(10 + share + extra), 253, "z", 1), 0);
	h_expect_arp_request(&h, H_NET(10 + share + extra), H_BCAST_MAC);
	h_expect_no_drop(&h);
	cr_assert_eq(h.st.neigh.pending_bufs, share);
}

HTest(arp, full_table_of_unresolved_entries_drops_new_destinations)
{
	struct stack_cfg cfg;

	h_fini(&h);
	stack_cfg_defaults(&cfg);
	cfg.neigh_max = 2;
	h_init_cfg(&h, &cfg);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "a", 1), 0);
	cr_assert_eq(h_ip_output(&h, H_NET(6), 253, "b", 1), 0);
	h_expect_arp_request(&h, H_NET(5), H_BCAST_MAC);
	h_expect_arp_request(&h, H_NET(6), H_BCAST_MAC);
	/* Entries being resolved are never evicted. */
	cr_assert_eq(h_ip_output(&h, H_NET(7), 253, "c", 1), -ENOBUFS);
	h_expect_nothing(&h);
	h_expect_drop(&h, DROP_NEIGH_TABLEFULL);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_TABLE_FULLS), 1);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_FORCED_GC_RUNS), 1);
	expect_no_entry(H_NET(7));
}

HTest(arp, full_table_evicts_the_least_recently_used_settled_entry)
{
	struct stack_cfg cfg;

	h_fini(&h);
	stack_cfg_defaults(&cfg);
	cfg.neigh_max = 2;
	h_init_cfg(&h, &cfg);
	h_arp_learn(&h, H_NET(5), H_MAC(5));
	h_arp_learn(&h, H_NET(6), H_MAC(6));
	h_advance(&h, 5 * SEC);
	cr_assert_eq(h_ip_output(&h, H_NET(5), 253, "a", 1), 0);
	h_expect_ip(&h, IP_OUT(.eth_dst = H_MAC(5), .daddr = H_NET(5), .data = "a"));
	cr_assert_eq(h_ip_output(&h, H_NET(7), 253, "c", 1), 0);
	h_expect_arp_request(&h, H_NET(7), H_BCAST_MAC);
	expect_no_entry(H_NET(6));
	expect_state(H_NET(5), NUD_DELAY);
	expect_state(H_NET(7), NUD_INCOMPLETE);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_DESTROYS), 1);
	h_expect_no_drop(&h);
}

/* --- announcements ---------------------------------------------------------- */

HTest(arp, address_add_announces_with_sender_equal_to_target)
{
	uint32_t a = h_ip4(10, 77, 5, 2);

	cr_assert_eq(stack_addr_add(&h.st, a, 24, h.now), 0);
	h_expect_arp(&h, ARP_OUT(.op = ARPOP_REQUEST, .eth_dst = H_BCAST_MAC, .sha = H_US_MAC,
				 .spa = a, .tha = H_ZERO_MAC, .tpa = a));
	h_expect_nothing(&h);
	cr_assert_eq(h_arp_mib(&h, ARP_MIB_OUT_GRATUITOUS), 2);
}

HTest(arp, request_for_a_second_address_is_answered_from_it)
{
	uint32_t a = h_ip4(10, 77, 0, 20);

	cr_assert_eq(stack_addr_add(&h.st, a, 24, h.now), 0);
	h_drain(&h);
	h_send_arp(&h, ARP(.tpa = a));
	h_expect_arp(&h, ARP_OUT(.spa = a));
}
