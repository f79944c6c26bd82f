// SPDX-License-Identifier: MIT
/*
 * The byte fifo's copy loops (the protocol is described in fifo.h). Each
 * copy is split at most once, where the ring wraps.
 */
#include "ipc/fifo.h"

#include <string.h>

static void ring_copy_in(const struct ipc_fifo_ref *r, uint64_t pos, const uint8_t *src,
			 size_t len)
{
	uint64_t off = pos & (r->size - 1);
	size_t first = len < r->size - off ? len : (size_t)(r->size - off);

	if (!len)
		return; /* src may be NULL for an empty iovec */
	memcpy(r->ring + off, src, first);
	memcpy(r->ring, src + first, len - first);
}

static void ring_copy_out(const struct ipc_fifo_ref *r, uint64_t pos, uint8_t *dst, size_t len)
{
	uint64_t off = pos & (r->size - 1);
	size_t first = len < r->size - off ? len : (size_t)(r->size - off);

	if (!len)
		return;
	memcpy(dst, r->ring + off, first);
	memcpy(dst + first, r->ring, len - first);
}

/* Producer: room for at most @limit queued bytes, and the current tail. */
static int64_t producer_room(const struct ipc_fifo_ref *r, uint64_t limit, uint64_t *tail)
{
	/* Only the producer writes tail: relaxed suffices. acquire on head
	 * pairs with the consumer's release: the bytes it has consumed have
	 * been read before we overwrite them. */
	uint64_t t = atomic_load_explicit(&r->f->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->f->head, memory_order_acquire);
	uint64_t used = t - h;

	if (limit > r->size)
		limit = r->size;
	if (used > r->size)
		return -EPROTO;
	*tail = t;
	return used >= limit ? 0 : (int64_t)(limit - used);
}

ssize_t ipc_fifo_writev(const struct ipc_fifo_ref *r, uint64_t limit, const struct iovec *iov,
			int iovcnt)
{
	uint64_t tail, done = 0;
	int64_t room = producer_room(r, limit, &tail);

	if (room <= 0)
		return room;
	for (int i = 0; i < iovcnt && done < (uint64_t)room; i++) {
		size_t n = iov[i].iov_len;

		if (n > (uint64_t)room - done)
			n = (size_t)((uint64_t)room - done);
		ring_copy_in(r, tail + done, iov[i].iov_base, n);
		done += n;
	}
	if (done)
		atomic_store_explicit(&r->f->tail, tail + done, memory_order_release);
	return (ssize_t)done;
}

/* Consumer: bytes readable from @off past head, and head itself. */
static int64_t consumer_avail(const struct ipc_fifo_ref *r, uint64_t off, uint64_t *head)
{
	/* acquire on tail pairs with the producer's release: the bytes below
	 * tail are in the ring. */
	uint64_t h = atomic_load_explicit(&r->f->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->f->tail, memory_order_acquire);
	uint64_t used = t - h;

	if (used > r->size)
		return -EPROTO;
	*head = h;
	return used <= off ? 0 : (int64_t)(used - off);
}

ssize_t ipc_fifo_peekv(const struct ipc_fifo_ref *r, uint64_t off, const struct iovec *iov,
		       int iovcnt)
{
	uint64_t head, done = 0;
	int64_t avail = consumer_avail(r, off, &head);

	if (avail <= 0)
		return avail;
	for (int i = 0; i < iovcnt && done < (uint64_t)avail; i++) {
		size_t n = iov[i].iov_len;

		if (n > (uint64_t)avail - done)
			n = (size_t)((uint64_t)avail - done);
		ring_copy_out(r, head + off + done, iov[i].iov_base, n);
		done += n;
	}
	return (ssize_t)done;
}

ssize_t ipc_fifo_write(const struct ipc_fifo_ref *r, uint64_t limit, const void *src, size_t len)
{
	struct iovec v = { (void *)src, len };

	return ipc_fifo_writev(r, limit, &v, 1);
}

ssize_t ipc_fifo_peek(const struct ipc_fifo_ref *r, uint64_t off, void *dst, size_t len)
{
	struct iovec v = { dst, len };

	return ipc_fifo_peekv(r, off, &v, 1);
}

int ipc_fifo_consume(const struct ipc_fifo_ref *r, uint64_t len)
{
	uint64_t head;
	int64_t avail = consumer_avail(r, 0, &head);

	if (avail < 0)
		return (int)avail;
	if (len > (uint64_t)avail)
		return -EPROTO;
	/* release: our reads of the consumed bytes happen before the
	 * producer may overwrite them. */
	atomic_store_explicit(&r->f->head, head + len, memory_order_release);
	return 0;
}
