// SPDX-License-Identifier: MIT
/*
 * Who usnetd wakes (doorbell.h step b): a waiter's interest against the
 * readiness both sides compute with ipc_ready_events(). A waiter whose
 * wait is not over stays asleep; one whose wait is over, or whose socket
 * failed or hung up, is always woken.
 */
#include <criterion/criterion.h>
#include <poll.h>

#include "ipc/doorbell.h"

TestSuite(ipc_watch, .timeout = 60);

#define LIMIT 65536u

Test(ipc_watch, a_reader_sleeps_through_its_own_data_being_acknowledged)
{
	/* Connected, nothing unread, room to send: only writers are done. */
	uint32_t have = ipc_ready_events(IPC_R_CONNECTED, 0, 0, LIMIT);

	cr_assert_eq(have, POLLOUT);
	cr_assert_not(ipc_watch_wants(IPC_W_IN, have));
	cr_assert(ipc_watch_wants(IPC_W_OUT, have));
	cr_assert(ipc_watch_wants(IPC_W_IN | IPC_W_OUT, have));
}

Test(ipc_watch, a_reader_wakes_for_data_end_of_stream_and_a_connection)
{
	cr_assert(ipc_watch_wants(IPC_W_IN, ipc_ready_events(IPC_R_CONNECTED, 1, 0, LIMIT)));
	cr_assert(ipc_watch_wants(IPC_W_IN,
				  ipc_ready_events(IPC_R_CONNECTED | IPC_R_RDHUP, 0, 0, LIMIT)));
	cr_assert(ipc_watch_wants(IPC_W_IN,
				  ipc_ready_events(IPC_R_LISTENING | IPC_R_ACCEPT, 0, 0, LIMIT)));
	cr_assert_not(ipc_watch_wants(IPC_W_IN, ipc_ready_events(IPC_R_LISTENING, 0, 0, LIMIT)));
}

Test(ipc_watch, a_writer_sleeps_while_the_ring_is_over_two_thirds_full)
{
	/* Linux's rule: writable when free space is at least half the queue. */
	cr_assert_not(ipc_watch_wants(IPC_W_OUT,
				      ipc_ready_events(IPC_R_CONNECTED, 0, LIMIT, LIMIT)));
	cr_assert_not(ipc_watch_wants(IPC_W_OUT,
				      ipc_ready_events(IPC_R_CONNECTED, 0, LIMIT * 3 / 4, LIMIT)));
	cr_assert(ipc_watch_wants(IPC_W_OUT, ipc_ready_events(IPC_R_CONNECTED, 0, LIMIT / 2, LIMIT)));
	cr_assert_not(ipc_watch_wants(IPC_W_OUT, ipc_ready_events(IPC_R_CONNECTING, 0, 0, LIMIT)));
	/* A connect that failed: POLLOUT | POLLHUP, as Linux. */
	cr_assert(ipc_watch_wants(IPC_W_OUT, ipc_ready_events(0, 0, 0, LIMIT)));
}

Test(ipc_watch, errors_and_hang_ups_end_every_wait)
{
	uint32_t err = ipc_ready_events(IPC_R_CONNECTING | IPC_R_ERR, 0, 0, LIMIT);
	uint32_t hup = ipc_ready_events(IPC_R_CONNECTED | IPC_R_HUP | IPC_R_WRHUP, 0, LIMIT,
					LIMIT);

	cr_assert(err & POLLERR);
	cr_assert(hup & POLLHUP);
	for (uint32_t want = 0; want <= (IPC_W_IN | IPC_W_OUT); want++) {
		cr_assert(ipc_watch_wants(want, err), "interest %u, error", want);
		cr_assert(ipc_watch_wants(want, hup), "interest %u, hang-up", want);
	}
}

Test(ipc_watch, no_interest_means_any_change)
{
	/* A place whose interest is not written yet (or left over as 0). */
	cr_assert(ipc_watch_wants(0, 0));
	cr_assert(ipc_watch_wants(0, POLLOUT));
}

Test(ipc_watch, interest_is_added_to_a_place_already_held)
{
	static struct ipc_sock sk;
	uint32_t e = ipc_watch_entry(3, 5);

	cr_assert(ipc_watch_add(&sk, e, IPC_W_IN));
	cr_assert(ipc_watch_add(&sk, e, IPC_W_OUT));
	cr_assert_eq(atomic_load(&sk.watch[0]), e);
	cr_assert_eq(atomic_load(&sk.watch_ev[0]), IPC_W_IN | IPC_W_OUT);
	for (uint32_t i = 1; i < IPC_WATCH; i++)
		cr_assert_eq(atomic_load(&sk.watch[i]), 0);
	ipc_watch_del(&sk, e);
	cr_assert_eq(atomic_load(&sk.watch[0]), 0);
	/* The next holder's interest replaces what was left. */
	cr_assert(ipc_watch_add(&sk, ipc_watch_entry(4, 1), IPC_W_OUT));
	cr_assert_eq(atomic_load(&sk.watch_ev[0]), IPC_W_OUT);
}
