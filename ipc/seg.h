/* SPDX-License-Identifier: MIT */
/*
 * The shared segment of one client process: a sealed memfd that usnetd
 * creates, sizes and seals (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, so
 * that the client can never make usnetd's mapping fault) and hands over
 * at hello. It holds, in this order:
 *
 *   struct ipc_seg_hdr   geometry, the worker's sleep flag, the kick
 *                        bitmap (client -> usnetd) and the doorbell
 *                        states (usnetd -> client)
 *   slot 0 .. nslots-1   one per socket: a struct ipc_sock page, then
 *                        the rx ring, then the tx ring
 *
 * The memfd is sparse: a slot costs memory only for the pages its fifos
 * touch. Both sides compute addresses from the geometry; usnetd keeps its
 * own copy and never re-reads the shared one (the client could rewrite
 * it). Which side writes which word is said next to each field.
 */
#ifndef USNET_IPC_SEG_H
#define USNET_IPC_SEG_H

#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/fifo.h"

#define IPC_SEG_MAGIC 0x47455355u /* "USEG" */
#define IPC_PAGE 4096u
#define IPC_SEG_HDR_SIZE (64u * 1024u)
#define IPC_SEG_MAX_SLOTS 4096u
#define IPC_DOORBELLS 1024u
#define IPC_WATCH 8u /* waiters a socket can name at once */

/* Doorbell states (ipc_seg_hdr.doorbell[]), see doorbell.h. */
enum ipc_db_state {
	IPC_DB_IDLE = 0, /* nobody sleeps on it: usnetd leaves it alone */
	IPC_DB_ARMED = 1, /* its owner is about to sleep: ring it */
	IPC_DB_RUNG = 2, /* usnetd wrote its eventfd; the owner has not seen it */
};

struct ipc_seg_hdr {
	/* Written by usnetd before hand-over, read-only by convention. */
	uint32_t magic;
	uint32_t version;
	uint32_t session; /* this process's session id: names its doorbells */
	uint32_t nslots;
	uint64_t slot_size; /* stride: page + rx ring + tx ring */
	uint64_t rx_size; /* ring sizes, powers of two */
	uint64_t tx_size;
	uint64_t seg_size;

	/* usnetd: 1 while its worker sleeps; the client then rings the
	 * worker's eventfd after a kick. */
	_Alignas(IPC_CACHELINE) _Atomic uint32_t worker_sleeping;

	/* client: a slot needs usnetd's attention (data to send, room to
	 * receive, a flag). Bit s of kick[s / 64], then bit s / 64 of
	 * kick_summary; usnetd exchanges both with 0 and handles the slots. */
	_Alignas(IPC_CACHELINE) _Atomic uint64_t kick_summary;
	_Alignas(IPC_CACHELINE) _Atomic uint64_t kick[IPC_SEG_MAX_SLOTS / 64];

	/* both: enum ipc_db_state per doorbell of this process. */
	_Alignas(IPC_CACHELINE) _Atomic uint32_t doorbell[IPC_DOORBELLS];
};

_Static_assert(sizeof(struct ipc_seg_hdr) <= IPC_SEG_HDR_SIZE, "ipc_seg_hdr fits");
_Static_assert(IPC_SEG_MAX_SLOTS / 64 <= 64, "kick_summary has a bit per kick word");

/* ipc_sock.state (usnetd) */
enum ipc_sock_state {
	IPC_SOCK_FREE = 0,
	IPC_SOCK_LIVE = 1,
	IPC_SOCK_GONE = 2, /* usnetd let go of the socket (closed or moved) */
};

/* ipc_sock.ready (usnetd): what the socket can do, as far as usnetd knows.
 * The client adds what the fifos say (data queued, room left). */
#define IPC_R_CONNECTED (1u << 0) /* established at some point: may send */
#define IPC_R_LISTENING (1u << 1)
#define IPC_R_RDHUP (1u << 2) /* FIN received: reads end after the rx fifo */
#define IPC_R_WRHUP (1u << 3) /* no more sending (shutdown, FIN sent, reset) */
#define IPC_R_HUP (1u << 4) /* both directions closed (POLLHUP) */
#define IPC_R_ERR (1u << 5) /* ipc_sock.err holds an error (POLLERR) */
#define IPC_R_ACCEPT (1u << 6) /* listener: a connection is ready */
#define IPC_R_CONNECTING (1u << 7) /* SYN sent, no answer yet */

/* What a waiter waits for (ipc_sock.watch_ev); an error or hang-up ends
 * every wait. */
#define IPC_W_IN 1u /* data, end of stream, a connection to accept */
#define IPC_W_OUT 4u /* room to send, connected */

_Static_assert(IPC_W_IN == POLLIN && IPC_W_OUT == POLLOUT, "IPC_W_* are poll's bits");

/**
 * ipc_ready_events() - poll's events of a live socket whose ready word is
 * @r, with @rx bytes unread, @tx unsent of at most @limit: what the shim
 * reports and what usnetd judges its waiters by, one formula for both.
 */
static inline uint32_t ipc_ready_events(uint32_t r, int64_t rx, int64_t tx, uint64_t limit)
{
	uint32_t ev = 0;

	if (r & IPC_R_LISTENING)
		return (r & IPC_R_ACCEPT) ? POLLIN : 0;
	if (rx != 0 || (r & (IPC_R_RDHUP | IPC_R_HUP)))
		ev |= POLLIN;
	if (r & IPC_R_RDHUP)
		ev |= POLLRDHUP;
	if (r & IPC_R_HUP)
		ev |= POLLHUP;
	if (r & IPC_R_ERR)
		ev |= POLLERR;
	if (r & IPC_R_CONNECTED) {
		/* Linux sk_stream_is_writeable(): free space at least half of
		 * what is queued. */
		if (tx >= 0 && (uint64_t)tx < limit && limit - (uint64_t)tx >= (uint64_t)tx / 2)
			ev |= POLLOUT;
		if (r & IPC_R_WRHUP)
			ev |= POLLOUT;
	} else if (!(r & IPC_R_CONNECTING)) {
		/* Never connected: Linux reports POLLOUT|POLLHUP for a fresh
		 * TCP socket, and for a failed connect. */
		ev |= POLLOUT | POLLHUP;
	}
	return ev;
}

/* A waiter named in ipc_sock.watch[]: session id and doorbell index + 1. */
static inline uint32_t ipc_watch_entry(uint32_t session, uint32_t db)
{
	return session << 16 | ((db + 1) & 0xffffu);
}

struct ipc_sock {
	/* usnetd */
	_Atomic uint32_t state; /* enum ipc_sock_state */
	uint32_t id; /* usnetd's socket id, names it in requests */
	uint32_t gen; /* with id: a stale handle is refused */
	_Atomic uint32_t ready; /* IPC_R_* */
	_Atomic uint32_t seq; /* bumped on every event usnetd reports (epoll ET) */
	_Atomic int32_t err; /* pending error (positive errno); the client takes it */
	_Atomic uint32_t tx_limit; /* most bytes the client may queue in tx */
	_Atomic uint32_t rx_kick; /* usnetd wants a kick when the client reads */

	/* client: futex words serialising its threads and processes on each
	 * direction (0 free, 1 held, 2 held with waiters). usnetd takes tx_lock
	 * with a try-lock only to punch an idle tx ring. */
	_Alignas(IPC_CACHELINE) _Atomic uint32_t rx_lock;
	_Atomic uint32_t tx_lock;
	_Atomic uint32_t shut; /* client: SHUT_RD/SHUT_WR bits it asked for */

	/* client: who sleeps waiting for this socket (ipc_watch_entry, 0 free)
	 * and for what (IPC_W_*, 0: anything), so that usnetd rings only
	 * waiters whose wait is over (doorbell.h) */
	_Alignas(IPC_CACHELINE) _Atomic uint32_t watch[IPC_WATCH];
	_Atomic uint32_t watch_ev[IPC_WATCH];

	struct ipc_fifo rx; /* usnetd -> client */
	struct ipc_fifo tx; /* client -> usnetd */
};

_Static_assert(sizeof(struct ipc_sock) <= IPC_PAGE, "ipc_sock fits its page");

/* Client-side flags in ipc_sock.shut */
#define IPC_SHUT_RD 1u
#define IPC_SHUT_WR 2u

/* Geometry helpers: both sides use these with their own copy of it. */
static inline uint64_t ipc_seg_slot_off(uint64_t slot_size, uint32_t slot)
{
	return IPC_SEG_HDR_SIZE + (uint64_t)slot * slot_size;
}

static inline uint64_t ipc_seg_size(uint32_t nslots, uint64_t rx_size, uint64_t tx_size)
{
	return IPC_SEG_HDR_SIZE + (uint64_t)nslots * (IPC_PAGE + rx_size + tx_size);
}

/* Slot @slot of a segment mapped at @base: its page, and each side's view
 * of its two fifos. */
static inline struct ipc_sock *ipc_seg_slot_map(uint8_t *base, uint64_t slot_size,
						 uint64_t rx_size, uint64_t tx_size,
						 uint32_t slot, struct ipc_fifo_ref *rx,
						 struct ipc_fifo_ref *tx)
{
	uint8_t *p = base + ipc_seg_slot_off(slot_size, slot);
	struct ipc_sock *ss = (struct ipc_sock *)p;

	rx->f = &ss->rx;
	rx->ring = p + IPC_PAGE;
	rx->size = rx_size;
	tx->f = &ss->tx;
	tx->ring = p + IPC_PAGE + rx_size;
	tx->size = tx_size;
	return ss;
}

/* The client's kick: mark @slot, then tell the caller whether the worker
 * must be woken (it sleeps). seq_cst on both sides: a kick is either seen
 * by the worker's last scan before it sleeps, or the client sees
 * worker_sleeping set and rings (doorbell.pml, "kick"). */
static inline int ipc_kick(struct ipc_seg_hdr *h, uint32_t slot)
{
	atomic_fetch_or(&h->kick[slot / 64], 1ull << (slot % 64));
	atomic_fetch_or(&h->kick_summary, 1ull << (slot / 64));
	return atomic_load(&h->worker_sleeping) != 0;
}

#endif
