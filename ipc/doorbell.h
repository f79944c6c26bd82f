/* SPDX-License-Identifier: MIT */
/*
 * Doorbells: how usnetd wakes a client thread that sleeps, and how a
 * client wakes usnetd's worker, without either making a syscall while the
 * other is awake (NAPI's interrupt re-enable, applied to IPC).
 *
 * A doorbell is an eventfd that both sides hold, plus a state word in the
 * client's segment (enum ipc_db_state). A client thread that wants to
 * sleep until a socket is ready:
 *
 *   1. names its doorbell in the socket's watch[] (once);
 *   2. sets the state ARMED;                        } seq_cst, then
 *   3. checks the socket's readiness again;         } a full fence
 *   4. if not ready, blocks in poll() on the eventfd (and any kernel fds);
 *   5. sets the state IDLE; if it was RUNG, reads the eventfd empty with a
 *      blocking read (usnetd may not have written it yet: a non-blocking
 *      read could leave the count behind and make every later poll spin).
 *
 * usnetd, after it changed a socket's readiness (ready, seq, fifo tail):
 *
 *   a. full fence;
 *   b. for each watch[] entry whose interest (watch_ev[]) the socket now
 *      meets, moves that doorbell ARMED -> RUNG and, if it did, writes
 *      the eventfd. A waiter whose wait is not over stays asleep: a
 *      reader is not woken because its own data was acknowledged.
 *
 * Either usnetd's change is visible at step 3, or the waiter's ARMED is
 * visible at step b: the two stores are each followed by a fence before
 * the other side's load (store buffering, Dekker). The eventfd is written
 * at most once per sleep, and never while the owner is awake. The same
 * holds with the roles swapped for kicks and worker_sleeping (seg.h).
 * tests/ipc/doorbell.pml is the model of both; spin checks it in
 * `make check`.
 */
#ifndef USNET_IPC_DOORBELL_H
#define USNET_IPC_DOORBELL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/seg.h"

/** ipc_db_arm() - client, step 2-3: ARMED, then a full fence */
static inline void ipc_db_arm(struct ipc_seg_hdr *h, uint32_t db)
{
	atomic_store(&h->doorbell[db], IPC_DB_ARMED);
	atomic_thread_fence(memory_order_seq_cst);
}

/**
 * ipc_db_disarm() - client, step 5.
 * Return: true if usnetd rang it (the eventfd has a count to read).
 */
static inline bool ipc_db_disarm(struct ipc_seg_hdr *h, uint32_t db)
{
	return atomic_exchange(&h->doorbell[db], IPC_DB_IDLE) == IPC_DB_RUNG;
}

/**
 * ipc_db_ring() - usnetd, step b, for one doorbell.
 * Return: true if the caller must write its eventfd.
 */
static inline bool ipc_db_ring(struct ipc_seg_hdr *h, uint32_t db)
{
	uint32_t want = IPC_DB_ARMED;

	return atomic_compare_exchange_strong(&h->doorbell[db], &want, IPC_DB_RUNG);
}

/**
 * ipc_watch_add() - client, step 1: name @entry in @sk's watch list,
 * waiting for @ev (IPC_W_*; added to what it already waits for). The
 * interest is written after the entry is taken, and a place's interest
 * may be left over from its previous holder: usnetd may see more than
 * the waiter wants for a moment (a spurious ring), never less once the
 * waiter has armed (step 2's fence orders both stores before it).
 * Return: true, or false if all IPC_WATCH places are taken (the caller
 * then sleeps with a short timeout instead).
 */
static inline bool ipc_watch_add(struct ipc_sock *sk, uint32_t entry, uint32_t ev)
{
	for (unsigned int i = 0; i < IPC_WATCH; i++) {
		if (atomic_load_explicit(&sk->watch[i], memory_order_relaxed) == entry) {
			atomic_fetch_or_explicit(&sk->watch_ev[i], ev, memory_order_relaxed);
			return true;
		}
	}
	for (unsigned int i = 0; i < IPC_WATCH; i++) {
		uint32_t free_ = 0;

		if (atomic_compare_exchange_strong(&sk->watch[i], &free_, entry)) {
			atomic_store_explicit(&sk->watch_ev[i], ev, memory_order_relaxed);
			return true;
		}
	}
	return false;
}

/** ipc_watch_del() - client: remove @entry from @sk's watch list */
static inline void ipc_watch_del(struct ipc_sock *sk, uint32_t entry)
{
	for (unsigned int i = 0; i < IPC_WATCH; i++) {
		uint32_t e = entry;

		/* The interest stays: 0 or stale, it only adds rings. */
		atomic_compare_exchange_strong(&sk->watch[i], &e, 0);
	}
}

/**
 * ipc_watch_wants() - usnetd, step b: does a waiter that waits for @want
 * (IPC_W_*, 0: anything) wake up when the socket offers @have (poll's
 * events, ipc_ready_events())?
 */
static inline bool ipc_watch_wants(uint32_t want, uint32_t have)
{
	return !want || (want & have) || (have & (POLLERR | POLLHUP));
}

#endif
