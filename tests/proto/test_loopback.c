// SPDX-License-Identifier: MIT
/*
 * Datagrams to our own address: queued by ipv4_output() and delivered by
 * stack_loopback() (Linux's loopback device), never on the link.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "harness_tcp.h"
#include "proto/stack.h"

static struct harness h;

static void setup(void)
{
	h_init(&h);
}

static void teardown(void)
{
	h_fini(&h);
}

TestSuite(loopback, .init = setup, .fini = teardown, .timeout = 10);

static unsigned int run_loopback(struct harness *hs)
{
	unsigned int rounds = 0;

	while (stack_loopback_pending(&hs->st) && rounds < 64) {
		stack_loopback(&hs->st, hs->now);
		rounds++;
	}
	return rounds;
}

HTest(loopback, tcp_to_our_own_address_stays_off_the_link)
{
	struct h_conn cl = h_conn_new(&h, H_PASSIVE), sv = h_conn_new(&h, H_PASSIVE);
	char buf[16] = { 0 };

	h_listen(&h, H_OUR_PORT, 8);
	cl.tp = tcp_open(&h.st);
	h_attach(&h, &cl);
	cr_assert_eq(tcp_connect(&h.st, cl.tp, H_NET(2), htons(H_OUR_PORT)), 0);
	cr_assert_eq(stack_loopback_pending(&h.st), 1, "the SYN waits for stack_loopback()");
	cr_assert_geq(run_loopback(&h), 3, "SYN, SYN-ACK and ACK each take a round");
	cr_assert_eq(h_tcp_state(&cl), TCP_ESTABLISHED);
	cr_assert(h_accept(&h, &sv));
	h_write(&h, &cl, "hello", 5);
	run_loopback(&h);
	cr_assert_eq(h_read(&h, &sv, buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "hello");
	h_expect_nothing(&h);
	h_close(&h, &cl);
	h_close(&h, &sv);
	run_loopback(&h);
	cr_assert_eq(stack_loopback_pending(&h.st), 0);
}

HTest(loopback, a_closed_port_of_our_own_refuses)
{
	struct h_conn cl = h_conn_new(&h, H_ACTIVE);

	cl.tp = tcp_open(&h.st);
	h_attach(&h, &cl);
	cr_assert_eq(tcp_connect(&h.st, cl.tp, H_NET(2), htons(9)), 0);
	cr_assert_eq(run_loopback(&h), 2, "SYN, then RST");
	cr_assert_eq(h_tcp_state(&cl), TCP_CLOSE);
	cr_assert_eq(cl.tp->sk.err, ECONNREFUSED);
	h_expect_nothing(&h);
	h_close(&h, &cl);
}
