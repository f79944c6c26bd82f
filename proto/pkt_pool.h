/* SPDX-License-Identifier: MIT */
/*
 * Per-owner packet pool: fixed arrays of metadata and data buffers, both
 * allocated once at init, then handed out without malloc. One pool belongs to
 * one worker; nothing here is thread-safe by design (DESIGN.md: shared
 * nothing).
 *
 * Receive buffers: the daemon lends data buffers to the kernel (io_uring
 * provided buffers) with pkt_pool_data_take() and wraps a filled one with
 * pkt_pool_attach() when its completion arrives. Freeing that packet gives
 * the buffer back to the pool, from which the daemon lends it again.
 */
#ifndef USNET_PROTO_PKT_POOL_H
#define USNET_PROTO_PKT_POOL_H

#include <stdint.h>

#include "pkt.h"

#define PKT_POOL_NO_FAIL UINT32_MAX

struct pkt_pool {
	struct pkt *metas;
	struct pkt *free_metas; /* linked through next */
	uint32_t nmeta;
	uint32_t nfree_meta;

	uint8_t *data; /* ndata * data_size bytes */
	uint32_t *free_data; /* stack of free data ids */
	uint16_t *data_ref; /* per data buffer: metadata users */
	uint32_t ndata;
	uint32_t nfree_data;
	uint32_t data_size;

	uint32_t fail_after; /* test hook: allocations left before failing */
	uint64_t alloc_fails;
	/* Called when the last reference to a packet with tsq_owner set goes
	 * (the stack uses it to release the sender's TCP small-queue quota). */
	void (*free_hook)(void *ctx, struct pkt *p);
	void *free_ctx;
	uint64_t allocs;
};

/**
 * pkt_pool_init() - allocate @nmeta metadata and @ndata buffers of @data_size
 * bytes. Allocation happens here and only here.
 * Return: 0, -EINVAL on zero sizes or @ndata over 65536, -ENOMEM.
 */
int pkt_pool_init(struct pkt_pool *pool, uint32_t nmeta, uint32_t ndata, uint32_t data_size);

/** pkt_pool_fini() - release the arrays; every packet must have been freed */
void pkt_pool_fini(struct pkt_pool *pool);

/**
 * pkt_alloc() - a packet with an empty data area and @headroom reserved
 * Return: the packet, or NULL when metadata or data buffers are exhausted,
 * @headroom does not fit, or the fail_after hook fires.
 */
struct pkt *pkt_alloc(struct pkt_pool *pool, uint32_t headroom);

/**
 * pkt_pool_data_take() - lend a data buffer out of the pool (receive path)
 * Return: its id, or -ENOBUFS.
 */
int pkt_pool_data_take(struct pkt_pool *pool);

/** pkt_pool_data_give() - return a lent buffer that was never attached */
void pkt_pool_data_give(struct pkt_pool *pool, uint32_t id);

/** pkt_pool_data_ptr() - start of data buffer @id */
static inline uint8_t *pkt_pool_data_ptr(const struct pkt_pool *pool, uint32_t id)
{
	return pool->data + (size_t)id * pool->data_size;
}

/**
 * pkt_pool_attach() - wrap lent buffer @id, filled with @len bytes at @off
 * Return: the packet, or NULL if no metadata is free (the buffer is then
 * returned to the pool) or @off + @len exceeds the buffer.
 */
struct pkt *pkt_pool_attach(struct pkt_pool *pool, uint32_t id, uint32_t off, uint32_t len);

/**
 * pkt_pool_meta_get() - take one metadata record, reset, refcnt 1, no data
 * (for pkt.c's clones). Return: it, or NULL if none is free.
 */
struct pkt *pkt_pool_meta_get(struct pkt_pool *pool);

/** pkt_pool_meta_put() - return a metadata record (for pkt.c) */
void pkt_pool_meta_put(struct pkt_pool *pool, struct pkt *p);

/** pkt_pool_fail_after() - make allocation fail after @n more successes */
static inline void pkt_pool_fail_after(struct pkt_pool *pool, uint32_t n)
{
	pool->fail_after = n;
}

/** pkt_pool_full() - true when every metadata and data buffer is home */
static inline int pkt_pool_full(const struct pkt_pool *pool)
{
	return pool->nfree_meta == pool->nmeta && pool->nfree_data == pool->ndata;
}

#endif
