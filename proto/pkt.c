// SPDX-License-Identifier: MIT
/*
 * Packet buffer reference counting, clones, copies and queues. The two
 * counts follow Linux: pkt->refcnt counts holders of one struct pkt
 * (skb_get), pool->data_ref[id] counts struct pkts over one data buffer
 * (skb_shared_info dataref).
 */
#include <string.h>

#include "pkt.h"
#include "pkt_pool.h"

struct pkt *pkt_get(struct pkt *p)
{
	p->refcnt++;
	return p;
}

void pkt_free(struct pkt *p)
{
	struct pkt_pool *pool;

	if (!p)
		return;
	if (--p->refcnt)
		return;
	pool = p->pool;
	if (p->tsq_owner && pool->free_hook)
		pool->free_hook(pool->free_ctx, p);
	if (--pool->data_ref[p->data_id] == 0)
		pkt_pool_data_give(pool, p->data_id);
	pkt_pool_meta_put(pool, p);
}

struct pkt *pkt_clone(struct pkt *p)
{
	struct pkt_pool *pool = p->pool;
	struct pkt *c = pkt_pool_meta_get(pool);

	if (!c) {
		pool->alloc_fails++;
		return NULL;
	}
	memcpy(c, p, sizeof(*c));
	c->next = NULL;
	c->ts_next = c->ts_prev = NULL;
	c->tsq_owner = 0;
	c->refcnt = 1;
	pool->data_ref[p->data_id]++;
	pool->allocs++;
	return c;
}

static uint16_t pkt_copy_off(const struct pkt *p, uint16_t off, uint32_t headroom)
{
	if (off == 0xffff || off < pkt_headroom(p))
		return 0xffff;
	return (uint16_t)(off - pkt_headroom(p) + headroom);
}

struct pkt *pkt_copy(const struct pkt *p, uint32_t headroom)
{
	uint32_t len = pkt_len(p);
	struct pkt *c;

	if ((uint64_t)headroom + len > p->pool->data_size)
		return NULL;
	c = pkt_alloc(p->pool, headroom);
	if (!c)
		return NULL;
	memcpy(pkt_put(c, len), p->data, len);
	c->protocol = p->protocol;
	c->csum = p->csum;
	c->l2_type = p->l2_type;
	c->hash = p->hash;
	c->tstamp = p->tstamp;
	/* Layer offsets are relative to head; shift them by the data move.
	 * One that points into headroom was not copied and is dropped. */
	c->l2_off = pkt_copy_off(p, p->l2_off, headroom);
	c->l3_off = pkt_copy_off(p, p->l3_off, headroom);
	c->l4_off = pkt_copy_off(p, p->l4_off, headroom);
	return c;
}

bool pkt_is_shared(const struct pkt *p)
{
	return p->refcnt > 1 || p->pool->data_ref[p->data_id] > 1;
}

void pkt_queue_push(struct pkt_queue *q, struct pkt *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
	q->bytes += pkt_len(p);
}

void pkt_queue_insert_after(struct pkt_queue *q, struct pkt *prev, struct pkt *p)
{
	p->next = prev ? prev->next : q->head;
	if (prev)
		prev->next = p;
	else
		q->head = p;
	if (!p->next)
		q->tail = p;
	q->len++;
	q->bytes += pkt_len(p);
}

struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *p = q->head;

	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	p->next = NULL;
	q->len--;
	q->bytes -= pkt_len(p);
	return p;
}

void pkt_queue_purge(struct pkt_queue *q)
{
	struct pkt *p;

	while ((p = pkt_queue_pop(q)))
		pkt_free(p);
}
