/* SPDX-License-Identifier: MIT */
/*
 * Single-producer, single-consumer byte fifo in shared memory: a socket's
 * rx stream (usnetd produces, the application consumes) and tx stream (the
 * other way round).
 *
 * Theory of operation. head and tail are 64-bit byte counts that only
 * grow; the bytes queued are tail - head, and byte n lives at offset
 * n & (size - 1) of the fifo's ring. The producer owns tail, the consumer
 * owns head, and each sits on its own cache line so that the two sides do
 * not bounce one line between cores. The producer copies bytes into the
 * ring and then publishes tail with release; the consumer loads tail with
 * acquire before it copies bytes out, then publishes head with release
 * once it has read them; the producer loads head with acquire before it
 * reuses that room. Nothing else is needed: no lock, no syscall.
 *
 * The ring is a window of a sparse memfd: pages cost memory only once
 * touched, so a fifo grows page by page up to the limit its owner allows
 * (the socket buffer), and usnetd punches idle rings back to nothing
 * (ipc_fifo_reclaim_range()).
 *
 * The two sides do not trust each other: the application can write any
 * value into the shared words. Every function checks that what it reads
 * describes at most size bytes, and a fifo that does not is reported as
 * corrupt (-EPROTO), never followed outside its ring.
 */
#ifndef USNET_IPC_FIFO_H
#define USNET_IPC_FIFO_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define IPC_CACHELINE 64

struct ipc_fifo {
	_Alignas(IPC_CACHELINE) _Atomic uint64_t head; /* consumer */
	_Alignas(IPC_CACHELINE) _Atomic uint64_t tail; /* producer */
};

_Static_assert(sizeof(struct ipc_fifo) == 2 * IPC_CACHELINE, "ipc_fifo layout");

/* One side's private view of a fifo: where its ring is mapped here. */
struct ipc_fifo_ref {
	struct ipc_fifo *f;
	uint8_t *ring;
	uint64_t size; /* power of two */
};

/**
 * ipc_fifo_used() - bytes queued, as either side (or a third thread, such as
 * a poller that holds neither end) sees them. A third party can load a head
 * and a tail that were never current together; it looks again while the
 * words keep moving, and only a pair that stays inconsistent is corrupt.
 * Return: bytes, or -EPROTO if the shared words are inconsistent.
 */
static inline int64_t ipc_fifo_used(const struct ipc_fifo_ref *r)
{
	for (int tries = 0;; tries++) {
		uint64_t head = atomic_load_explicit(&r->f->head, memory_order_acquire);
		uint64_t tail = atomic_load_explicit(&r->f->tail, memory_order_acquire);
		uint64_t used = tail - head;

		if (used <= r->size)
			return (int64_t)used;
		if (tries == 8 ||
		    (atomic_load_explicit(&r->f->head, memory_order_acquire) == head &&
		     atomic_load_explicit(&r->f->tail, memory_order_acquire) == tail))
			return -EPROTO;
	}
}

/**
 * ipc_fifo_write() - producer: append up to @len bytes, but never let more
 * than @limit (at most the ring size) be queued.
 * Return: bytes appended (0 when full), -EPROTO.
 */
ssize_t ipc_fifo_write(const struct ipc_fifo_ref *r, uint64_t limit, const void *src, size_t len);

/** ipc_fifo_writev() - ipc_fifo_write() gathering from @iov */
ssize_t ipc_fifo_writev(const struct ipc_fifo_ref *r, uint64_t limit, const struct iovec *iov,
			int iovcnt);

/**
 * ipc_fifo_peek() - consumer: copy up to @len bytes starting @off bytes
 * past head, without consuming them.
 * Return: bytes copied, -EPROTO.
 */
ssize_t ipc_fifo_peek(const struct ipc_fifo_ref *r, uint64_t off, void *dst, size_t len);

/** ipc_fifo_peekv() - ipc_fifo_peek() scattering into @iov */
ssize_t ipc_fifo_peekv(const struct ipc_fifo_ref *r, uint64_t off, const struct iovec *iov,
		       int iovcnt);

/**
 * ipc_fifo_consume() - consumer: drop @len bytes (at most what is queued)
 * Return: 0, -EPROTO if fewer are queued.
 */
int ipc_fifo_consume(const struct ipc_fifo_ref *r, uint64_t len);

/**
 * ipc_fifo_idle() - true if nothing is queued: usnetd may then give the
 * ring's pages back (punch them out of the memfd) while it holds the
 * producer out (see struct ipc_sock's locks).
 */
static inline bool ipc_fifo_idle(const struct ipc_fifo_ref *r)
{
	return ipc_fifo_used(r) == 0;
}

#endif
