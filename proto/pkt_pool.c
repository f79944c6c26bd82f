// SPDX-License-Identifier: MIT
/*
 * Fixed packet pool. Metadata is a free list; data buffers are a stack of
 * ids so that the receive path can lend a buffer by id to the kernel and
 * get it back by id in a completion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_pool.h"

int pkt_pool_init(struct pkt_pool *pool, uint32_t nmeta, uint32_t ndata, uint32_t data_size)
{
	memset(pool, 0, sizeof(*pool));
	if (!nmeta || !ndata || data_size < 256 || ndata > 65536)
		return -EINVAL;

	pool->metas = calloc(nmeta, sizeof(*pool->metas));
	pool->free_data = calloc(ndata, sizeof(*pool->free_data));
	pool->data_ref = calloc(ndata, sizeof(*pool->data_ref));
	/* 64-byte alignment keeps every buffer start on its own cache line. */
	data_size = (data_size + 63u) & ~63u;
	pool->data = aligned_alloc(64, (size_t)ndata * data_size);
	if (!pool->metas || !pool->free_data || !pool->data_ref || !pool->data) {
		pkt_pool_fini(pool);
		return -ENOMEM;
	}
	pool->nmeta = nmeta;
	pool->ndata = ndata;
	pool->data_size = data_size;
	pool->fail_after = PKT_POOL_NO_FAIL;

	for (uint32_t i = 0; i < nmeta; i++) {
		pool->metas[i].pool = pool;
		pool->metas[i].next = i + 1 < nmeta ? &pool->metas[i + 1] : NULL;
	}
	pool->free_metas = &pool->metas[0];
	pool->nfree_meta = nmeta;
	/* Lowest ids on top of the stack: the first buffers handed out are the
	 * first in memory, which keeps a lightly loaded worker's cache warm. */
	for (uint32_t i = 0; i < ndata; i++)
		pool->free_data[i] = ndata - 1 - i;
	pool->nfree_data = ndata;
	return 0;
}

void pkt_pool_fini(struct pkt_pool *pool)
{
	free(pool->metas);
	free(pool->free_data);
	free(pool->data_ref);
	free(pool->data);
	memset(pool, 0, sizeof(*pool));
}

static bool pool_fail_hook(struct pkt_pool *pool)
{
	if (pool->fail_after == PKT_POOL_NO_FAIL)
		return false;
	if (pool->fail_after == 0)
		return true;
	pool->fail_after--;
	return false;
}

struct pkt *pkt_pool_meta_get(struct pkt_pool *pool)
{
	struct pkt *p = pool->free_metas;

	if (!p)
		return NULL;
	pool->free_metas = p->next;
	pool->nfree_meta--;
	memset(p, 0, sizeof(*p));
	p->pool = pool;
	p->refcnt = 1;
	p->l2_off = p->l3_off = p->l4_off = 0xffff;
	return p;
}

void pkt_pool_meta_put(struct pkt_pool *pool, struct pkt *p)
{
	p->next = pool->free_metas;
	pool->free_metas = p;
	pool->nfree_meta++;
}

int pkt_pool_data_take(struct pkt_pool *pool)
{
	uint32_t id;

	if (!pool->nfree_data)
		return -ENOBUFS;
	id = pool->free_data[--pool->nfree_data];
	pool->data_ref[id] = 1;
	return (int)id;
}

void pkt_pool_data_give(struct pkt_pool *pool, uint32_t id)
{
	pool->data_ref[id] = 0;
	pool->free_data[pool->nfree_data++] = id;
}

static void pkt_bind_data(struct pkt *p, uint32_t id)
{
	struct pkt_pool *pool = p->pool;

	p->data_id = id;
	p->head = pkt_pool_data_ptr(pool, id);
	p->end = p->head + pool->data_size;
	p->data = p->tail = p->head;
}

struct pkt *pkt_alloc(struct pkt_pool *pool, uint32_t headroom)
{
	struct pkt *p;
	int id;

	if (headroom > pool->data_size || pool_fail_hook(pool) || !pool->free_metas ||
	    !pool->nfree_data) {
		pool->alloc_fails++;
		return NULL;
	}
	p = pkt_pool_meta_get(pool);
	id = pkt_pool_data_take(pool);
	pkt_bind_data(p, (uint32_t)id);
	p->data = p->tail = p->head + headroom;
	pool->allocs++;
	return p;
}

struct pkt *pkt_pool_attach(struct pkt_pool *pool, uint32_t id, uint32_t off, uint32_t len)
{
	struct pkt *p;

	if (id >= pool->ndata || (uint64_t)off + len > pool->data_size) {
		/* An id outside the pool was never lent: giving "something"
		 * back would push a buffer onto the free stack twice. */
		if (id < pool->ndata)
			pkt_pool_data_give(pool, id);
		return NULL;
	}
	p = pkt_pool_meta_get(pool);
	if (!p) {
		pool->alloc_fails++;
		pkt_pool_data_give(pool, id);
		return NULL;
	}
	pkt_bind_data(p, id);
	p->data = p->head + off;
	p->tail = p->data + len;
	pool->allocs++;
	return p;
}
