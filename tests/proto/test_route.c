// SPDX-License-Identifier: MIT
/*
 * The IPv4 FIB (longest-prefix match, metric tie-break, route_add/del
 * errors) and the local address list that feeds it connected routes.
 */
#include <criterion/criterion.h>
#include <errno.h>

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

TestSuite(route, .init = setup, .fini = teardown, .timeout = 10);

static struct route_res lookup_ok(uint32_t daddr)
{
	struct route_res res;
	int rc = route_lookup(&h.st, daddr, &res);

	cr_assert_eq(rc, 0, "route_lookup: %d", rc);
	return res;
}

static void expect_nexthop(uint32_t daddr, uint32_t nexthop)
{
	struct route_res res = lookup_ok(daddr);

	cr_assert_eq(res.type, RTN_UNICAST);
	cr_assert_eq(res.nexthop, nexthop, "nexthop: got %08x, want %08x", ntohl(res.nexthop),
		     ntohl(nexthop));
}

static void expect_unreachable(uint32_t daddr)
{
	struct route_res res;

	cr_assert_eq(route_lookup(&h.st, daddr, &res), -ENETUNREACH);
}

static int add(uint32_t dst, unsigned int plen, uint32_t gw, uint32_t metric)
{
	return route_add(&h.st, dst, plen, gw, 0, metric, RTPROT_STATIC);
}

/* stack_addr_add() and the gratuitous ARP it sends */
static int addr_add(uint32_t a, unsigned int plen)
{
	int rc = stack_addr_add(&h.st, a, plen, h.now);

	if (rc == 0)
		h_expect_arp(&h, ARP_OUT(.op = ARPOP_REQUEST, .eth_dst = H_BCAST_MAC,
					 .tha = H_ZERO_MAC, .spa = a, .tpa = a));
	h_expect_nothing(&h);
	return rc;
}

HTest(route, connected_route_reaches_on_link_hosts_directly)
{
	struct route_res res = lookup_ok(H_NET(9));

	cr_assert_eq(res.type, RTN_UNICAST);
	cr_assert_eq(res.nexthop, H_NET(9));
	cr_assert_eq(res.src, H_US_IP);
	cr_assert_eq(res.mtu, 1500);
	expect_unreachable(h_ip4(10, 77, 1, 1));
	expect_unreachable(h_ip4(192, 0, 2, 1));
}

HTest(route, local_and_broadcast_destinations_are_classified)
{
	struct route_res res = lookup_ok(H_US_IP);

	cr_assert_eq(res.type, RTN_LOCAL);
	res = lookup_ok(H_SUBNET_BCAST);
	cr_assert_eq(res.type, RTN_BROADCAST);
	cr_assert_eq(res.src, H_US_IP);
	res = lookup_ok(h_ip4(255, 255, 255, 255));
	cr_assert_eq(res.type, RTN_BROADCAST);
	cr_assert_eq(res.src, H_US_IP);
}

HTest(route, longest_prefix_wins)
{
	cr_assert_eq(add(0, 0, H_NET(1), 0), 0);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(3), 0), 0);
	cr_assert_eq(add(h_ip4(10, 1, 2, 0), 24, H_NET(5), 0), 0);
	cr_assert_eq(add(h_ip4(10, 1, 0, 0), 16, H_NET(4), 0), 0);
	cr_assert_eq(add(h_ip4(10, 1, 2, 3), 32, H_NET(6), 0), 0);

	expect_nexthop(h_ip4(10, 1, 2, 3), H_NET(6));
	expect_nexthop(h_ip4(10, 1, 2, 4), H_NET(5));
	expect_nexthop(h_ip4(10, 1, 3, 4), H_NET(4));
	expect_nexthop(h_ip4(10, 2, 0, 1), H_NET(3));
	expect_nexthop(h_ip4(192, 0, 2, 1), H_NET(1));
	/* the /24 connected route beats 10.0.0.0/8 */
	expect_nexthop(H_NET(77), H_NET(77));
}

HTest(route, gateway_route_takes_its_source_from_the_gateway_subnet)
{
	struct route_res res;

	cr_assert_eq(add(0, 0, H_NET(1), 0), 0);
	res = lookup_ok(h_ip4(8, 8, 8, 8));
	cr_assert_eq(res.nexthop, H_NET(1));
	cr_assert_eq(res.src, H_US_IP);
	cr_assert_eq(
		route_add(&h.st, h_ip4(172, 16, 0, 0), 12, H_NET(1), H_NET(2), 0, RTPROT_STATIC),
		0);
	res = lookup_ok(h_ip4(172, 20, 1, 1));
	cr_assert_eq(res.src, H_NET(2));
}

HTest(route, lower_metric_wins_between_equal_prefixes)
{
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(4), 100), 0);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(5), 10), 0);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(6), 1000), 0);
	expect_nexthop(h_ip4(10, 9, 9, 9), H_NET(5));
	cr_assert_eq(route_del(&h.st, h_ip4(10, 0, 0, 0), 8, 10), 0);
	expect_nexthop(h_ip4(10, 9, 9, 9), H_NET(4));
	cr_assert_eq(route_del(&h.st, h_ip4(10, 0, 0, 0), 8, 100), 0);
	expect_nexthop(h_ip4(10, 9, 9, 9), H_NET(6));
}

HTest(route, longer_prefix_wins_over_lower_metric)
{
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(4), 0), 0);
	cr_assert_eq(add(h_ip4(10, 5, 0, 0), 16, H_NET(5), 5000), 0);
	expect_nexthop(h_ip4(10, 5, 1, 1), H_NET(5));
}

HTest(route, add_rejects_host_bits_and_bad_prefix_length)
{
	cr_assert_eq(add(h_ip4(10, 1, 0, 0), 8, H_NET(1), 0), -EINVAL);
	cr_assert_eq(add(h_ip4(0, 0, 0, 1), 0, H_NET(1), 0), -EINVAL);
	cr_assert_eq(add(h_ip4(10, 1, 1, 1), 33, H_NET(1), 0), -EINVAL);
	cr_assert_eq(h.st.fib.count, 1, "only the connected route");
}

HTest(route, add_rejects_gateways_that_are_not_hosts)
{
	cr_assert_eq(add(0, 0, h_ip4(224, 0, 0, 1), 0), -EINVAL);
	cr_assert_eq(add(0, 0, h_ip4(255, 255, 255, 255), 0), -EINVAL);
	cr_assert_eq(add(0, 0, h_ip4(0, 0, 0, 7), 0), -EINVAL);
}

HTest(route, add_rejects_gateway_not_on_a_connected_subnet)
{
	cr_assert_eq(add(0, 0, h_ip4(192, 0, 2, 1), 0), -ENETUNREACH);
	cr_assert_eq(add(0, 0, H_US_IP, 0), -ENETUNREACH, "our own address is no gateway");
	expect_unreachable(h_ip4(8, 8, 8, 8));
}

HTest(route, add_rejects_the_same_prefix_and_metric_twice)
{
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(4), 7), 0);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(5), 7), -EEXIST);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(5), 8), 0);
	/* The connected route exists with metric 0 */
	cr_assert_eq(add(h_ip4(10, 77, 0, 0), 24, 0, 0), -EEXIST);
}

HTest(route, add_fails_with_enospc_when_the_table_is_full)
{
	unsigned int n = 0;
	int rc;

	/* route_max 256, one taken by the connected route */
	while ((rc = add(h_ip4(20, n >> 8 & 255, n & 255, 0), 24, 0, 0)) == 0)
		n++;
	cr_assert_eq(rc, -ENOSPC);
	cr_assert_eq(n, 255);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(1), 0), -ENOSPC);
	expect_nexthop(h_ip4(20, 0, 254, 1), h_ip4(20, 0, 254, 1));
	/* One freed slot can be reused. */
	cr_assert_eq(route_del(&h.st, h_ip4(20, 0, 0, 0), 24, 0), 0);
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(1), 0), 0);
}

HTest(route, del_removes_only_the_matching_route)
{
	cr_assert_eq(add(h_ip4(10, 0, 0, 0), 8, H_NET(4), 3), 0);
	cr_assert_eq(route_del(&h.st, h_ip4(10, 0, 0, 0), 8, 4), -ESRCH, "wrong metric");
	cr_assert_eq(route_del(&h.st, h_ip4(10, 0, 0, 0), 16, 3), -ESRCH, "wrong length");
	cr_assert_eq(route_del(&h.st, h_ip4(11, 0, 0, 0), 8, 3), -ESRCH, "wrong prefix");
	expect_nexthop(h_ip4(10, 9, 9, 9), H_NET(4));
	cr_assert_eq(route_del(&h.st, h_ip4(10, 0, 0, 0), 8, UINT32_MAX), 0, "any metric");
	expect_unreachable(h_ip4(10, 9, 9, 9));
	cr_assert_eq(route_del(&h.st, h_ip4(10, 0, 0, 0), 8, UINT32_MAX), -ESRCH);
	expect_nexthop(H_NET(9), H_NET(9));
}

/* --- addresses ---------------------------------------------------------------------- */

HTest(route, address_add_creates_a_connected_route_and_del_removes_it)
{
	uint32_t a = h_ip4(10, 88, 0, 2);
	struct route_res res;

	expect_unreachable(h_ip4(10, 88, 3, 4));
	cr_assert_eq(addr_add(a, 16), 0);
	cr_assert(stack_addr_is_local(&h.st, a));
	res = lookup_ok(h_ip4(10, 88, 3, 4));
	cr_assert_eq(res.type, RTN_UNICAST);
	cr_assert_eq(res.nexthop, h_ip4(10, 88, 3, 4));
	cr_assert_eq(res.src, a, "source is the address on that subnet");
	cr_assert(stack_addr_is_bcast(&h.st, h_ip4(10, 88, 255, 255)));

	cr_assert_eq(stack_addr_del(&h.st, a), 0);
	cr_assert(!stack_addr_is_local(&h.st, a));
	cr_assert(!stack_addr_is_bcast(&h.st, h_ip4(10, 88, 255, 255)));
	expect_unreachable(h_ip4(10, 88, 3, 4));
	expect_nexthop(H_NET(9), H_NET(9));
}

HTest(route, connected_route_survives_while_another_address_uses_it)
{
	uint32_t a = H_NET(20);

	cr_assert_eq(addr_add(a, 24), 0);
	cr_assert_eq(h.st.fib.count, 1, "same subnet, one route");
	cr_assert_eq(stack_addr_del(&h.st, H_US_IP), 0);
	expect_nexthop(H_NET(9), H_NET(9));
	cr_assert_eq(lookup_ok(H_NET(9)).src, a);
	cr_assert_eq(stack_addr_del(&h.st, a), 0);
	expect_unreachable(H_NET(9));
	cr_assert_eq(stack_addr_del(&h.st, a), -EADDRNOTAVAIL);
}

HTest(route, address_add_rejects_addresses_that_are_not_unicast_hosts)
{
	cr_assert_eq(addr_add(0, 24), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(0, 1, 2, 3), 8), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(224, 0, 0, 1), 24), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(239, 1, 1, 1), 32), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(255, 255, 255, 255), 32), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(127, 0, 0, 1), 8), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 2), 33), -EINVAL);
	cr_assert_eq(h.st.naddrs, 1);
	cr_assert_eq(h.st.fib.count, 1);
}

HTest(route, address_add_rejects_the_network_and_broadcast_address_of_its_subnet)
{
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 0), 24), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 255), 24), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 0), 16), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(10, 88, 255, 255), 16), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 4), 30), -EINVAL);
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 7), 30), -EINVAL);
	cr_assert_eq(h.st.naddrs, 1);
	/* RFC 3021: on /31 and /32 both addresses are hosts. */
	cr_assert_eq(addr_add(h_ip4(10, 99, 0, 0), 31), 0);
	cr_assert_eq(addr_add(h_ip4(10, 99, 0, 1), 31), 0);
	cr_assert_eq(addr_add(h_ip4(10, 99, 1, 255), 32), 0);
	cr_assert(!stack_addr_is_bcast(&h.st, h_ip4(10, 99, 0, 1)));
}

HTest(route, address_add_rejects_duplicates)
{
	cr_assert_eq(addr_add(H_US_IP, 24), -EEXIST);
	cr_assert_eq(addr_add(H_US_IP, 16), -EEXIST);
	cr_assert_eq(h.st.naddrs, 1);
}

HTest(route, address_add_fails_with_enospc_after_sixteen_addresses)
{
	for (unsigned int i = 1; i < STACK_MAX_ADDRS; i++)
		cr_assert_eq(addr_add(h_ip4(10, 100 + i, 0, 2), 24), 0, "address %u", i);
	cr_assert_eq(addr_add(h_ip4(10, 200, 0, 2), 24), -ENOSPC);
	cr_assert(!stack_addr_is_local(&h.st, h_ip4(10, 200, 0, 2)));
}

HTest(route, address_add_fails_cleanly_when_the_route_table_is_full)
{
	unsigned int n = 0;

	while (add(h_ip4(20, 0, n, 0), 24, 0, 0) == 0)
		n++;
	cr_assert_eq(addr_add(h_ip4(10, 88, 0, 2), 24), -ENOSPC);
	cr_assert(!stack_addr_is_local(&h.st, h_ip4(10, 88, 0, 2)));
	cr_assert_eq(h.st.naddrs, 1);
}

HTest(route, address_del_of_a_foreign_address_fails)
{
	cr_assert_eq(stack_addr_del(&h.st, H_NET(3)), -EADDRNOTAVAIL);
	cr_assert_eq(h.st.naddrs, 1);
}
