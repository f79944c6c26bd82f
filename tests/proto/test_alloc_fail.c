// SPDX-License-Identifier: MIT
/*
 * Allocation-failure sweeps (nghttp2 TEST_FAILMALLOC_RUN): each scenario runs
 * once to count its pool allocations, then once per allocation with that
 * one and every later one failing. No run may crash, leak a packet, or
 * lose a failed allocation without counting it as a DROP_NOMEM.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static void setup(void)
{
}

static void teardown(void)
{
}

TestSuite(alloc_fail, .init = setup, .fini = teardown, .timeout = 10);

/* ARP resolution, a queued echo reply, a protocol-unreachable, an ARP reply. */
static void resolve_echo_and_error(struct harness *s)
{
	h_send_icmp(s, ICMP(.eth_src = H_MAC(5), .saddr = H_NET(5), .data = "ping"));
	h_send_arp(s, ARP(.op = ARPOP_REPLY, .eth_dst = H_US_MAC, .eth_src = H_MAC(5),
			  .sha = H_MAC(5), .spa = H_NET(5), .tha = H_US_MAC, .tpa = H_US_IP));
	h_send_ip(s, IP(.eth_src = H_MAC(5), .saddr = H_NET(5), .data = "no such protocol"));
	h_send_arp(s, ARP());
	h_drain(s);
}

Test(alloc_fail, resolution_echo_and_icmp_error_survive_every_failure)
{
	cr_assert_eq(H_FAIL_EACH_ALLOC(resolve_echo_and_error), 3,
		     "ARP request, ICMP error and ARP reply allocate");
}

/* A neighbour learnt, used, probed until it fails, with traffic queued. */
static void probe_until_failed(struct harness *s)
{
	h_send_arp(s, ARP(.eth_src = H_MAC(5), .sha = H_MAC(5), .spa = H_NET(5)));
	h_send_icmp(s, ICMP(.eth_src = H_MAC(5), .saddr = H_NET(5)));
	h_advance(s, 10 * SEC);
	h_send_icmp(s, ICMP(.eth_src = H_MAC(6), .saddr = H_NET(6)));
	h_send_icmp(s, ICMP(.eth_src = H_MAC(6), .saddr = H_NET(6), .seq = 2));
	h_advance(s, 5 * SEC);
	h_drain(s);
}

Test(alloc_fail, neighbour_probing_survives_every_failure)
{
	/* reply, 3 unicast probes, 3 broadcast requests */
	cr_assert_eq(H_FAIL_EACH_ALLOC(probe_until_failed), 7);
}

/* An echo request whose buffer a capture tap shares: the reply needs a copy. */
static void shared_echo(struct harness *s)
{
	uint8_t frame[H_FRAME_MAX];
	unsigned int len;
	struct pkt *p, *tap;
	int id;

	h_send_arp(s, ARP());
	len = h_build_ip(frame, sizeof(frame), &ICMP(.data = "shared"));
	id = pkt_pool_data_take(&s->pool);
	cr_assert_geq(id, 0);
	memcpy(pkt_pool_data_ptr(&s->pool, (uint32_t)id) + PKT_HEADROOM, frame, len);
	p = pkt_pool_attach(&s->pool, (uint32_t)id, PKT_HEADROOM, len);
	tap = pkt_clone(p);
	cr_assert_not_null(tap);
	stack_input(&s->st, p, s->now);
	pkt_free(tap);
	h_drain(s);
}

Test(alloc_fail, echo_from_a_shared_buffer_survives_every_failure)
{
	cr_assert_eq(H_FAIL_EACH_ALLOC(shared_echo), 2, "ARP reply and the echo copy allocate");
}

/* Rate-limited errors to many hosts behind a gateway, and a new address. */
static void errors_and_announce(struct harness *s)
{
	cr_assert_eq(route_add(&s->st, 0, 0, H_PEER_IP, 0, 0, RTPROT_STATIC), 0);
	h_send_arp(s, ARP());
	for (unsigned int i = 1; i <= 8; i++)
		h_send_ip(s, IP(.saddr = h_ip4(198, 18, 0, i), .data = "x"));
	cr_assert_eq(stack_addr_add(&s->st, h_ip4(10, 78, 0, 2), 24, s->now), 0);
	h_drain(s);
}

Test(alloc_fail, icmp_errors_and_address_announcement_survive_every_failure)
{
	cr_assert_eq(H_FAIL_EACH_ALLOC(errors_and_announce), 10);
}
