/* SPDX-License-Identifier: MIT */
/*
 * Single-producer, single-consumer ring of pointers: the only way usnetd's
 * threads hand each other work (DESIGN.md, shared nothing). Lock-free; the
 * producer owns tail, the consumer owns head, each on its own cache line.
 *
 * Memory ordering: the producer writes the slot, then publishes tail with
 * release; the consumer reads tail with acquire before it reads the slot,
 * and publishes head with release after it has read it; the producer reads
 * head with acquire before it reuses the slot.
 */
#ifndef USNET_IPC_RING_H
#define USNET_IPC_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define RING_CACHELINE 64

struct spsc_ring {
	_Alignas(RING_CACHELINE) _Atomic uint32_t head; /* consumer */
	uint32_t tail_cache; /* consumer's last view of tail */
	_Alignas(RING_CACHELINE) _Atomic uint32_t tail; /* producer */
	uint32_t head_cache; /* producer's last view of head */
	_Alignas(RING_CACHELINE) uint32_t mask;
	void **slots;
};

/**
 * spsc_ring_init() - a ring of @size slots (a power of two)
 * Return: 0, -EINVAL, -ENOMEM.
 */
static inline int spsc_ring_init(struct spsc_ring *r, uint32_t size)
{
	if (size < 2 || (size & (size - 1)))
		return -EINVAL;
	r->slots = calloc(size, sizeof(void *));
	if (!r->slots)
		return -ENOMEM;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->tail_cache = r->head_cache = 0;
	r->mask = size - 1;
	return 0;
}

static inline void spsc_ring_fini(struct spsc_ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

/** spsc_ring_push() - producer side. Return: false if full. */
static inline bool spsc_ring_push(struct spsc_ring *r, void *p)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (tail - r->head_cache > r->mask) {
		/* acquire: pairs with the consumer's release of head, so the
		 * slot we are about to overwrite has been read. */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail - r->head_cache > r->mask)
			return false;
	}
	r->slots[tail & r->mask] = p;
	/* release: pairs with the consumer's acquire of tail, so the slot
	 * write is visible before the new tail. */
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

/** spsc_ring_pop() - consumer side. Return: the oldest pointer, NULL if empty. */
static inline void *spsc_ring_pop(struct spsc_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	void *p;

	if (head == r->tail_cache) {
		/* acquire: pairs with the producer's release of tail. */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head == r->tail_cache)
			return NULL;
	}
	p = r->slots[head & r->mask];
	/* release: pairs with the producer's acquire of head; the slot has
	 * been read before the producer may reuse it. */
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return p;
}

#endif
