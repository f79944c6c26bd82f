// SPDX-License-Identifier: MIT
/*
 * struct pkt and struct pkt_pool: pointer arithmetic bounds, the two
 * reference counts (holders of a pkt, pkts over a data buffer), clones,
 * copies, queues, exhaustion, the fail_after hook and the receive path the
 * daemon uses (data_take, attach).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "proto/pkt.h"
#include "proto/pkt_pool.h"

#define NMETA 16u
#define NDATA 8u
#define DSIZE 512u

static struct pkt_pool pool;

static void setup(void)
{
	cr_assert_eq(pkt_pool_init(&pool, NMETA, NDATA, DSIZE), 0);
}

static void teardown(void)
{
	cr_expect(pkt_pool_full(&pool), "leak: %u/%u metadata, %u/%u buffers free", pool.nfree_meta,
		  pool.nmeta, pool.nfree_data, pool.ndata);
	pkt_pool_fini(&pool);
}

TestSuite(pkt, .init = setup, .fini = teardown, .timeout = 10);

static void fill(uint8_t *p, unsigned int len, uint8_t seed)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
}

Test(pkt, fresh_packet_has_headroom_no_data_and_unset_offsets)
{
	struct pkt *p = pkt_alloc(&pool, 64);

	cr_assert_not_null(p);
	cr_assert_eq(pkt_headroom(p), 64);
	cr_assert_eq(pkt_len(p), 0);
	cr_assert_eq(pkt_tailroom(p), DSIZE - 64);
	cr_assert_eq(p->refcnt, 1);
	cr_assert_eq(p->l2_off, 0xffff);
	cr_assert_eq(p->l3_off, 0xffff);
	cr_assert_eq(p->l4_off, 0xffff);
	cr_assert_eq(p->csum, PKT_CSUM_NONE);
	cr_assert(!pkt_is_shared(p));
	cr_assert_eq(pool.allocs, 1);
	pkt_free(p);
}

Test(pkt, put_stops_at_the_end_of_the_buffer)
{
	struct pkt *p = pkt_alloc(&pool, 64);
	uint8_t *a;

	a = pkt_put(p, DSIZE - 64 - 10);
	cr_assert_eq(a, p->head + 64, "put returns the old tail");
	cr_assert_eq(pkt_tailroom(p), 10);
	cr_assert_null(pkt_put(p, 11), "put past the end must fail");
	cr_assert_eq(pkt_len(p), DSIZE - 64 - 10, "failed put changed the length");
	cr_assert_not_null(pkt_put(p, 10));
	cr_assert_eq(pkt_tailroom(p), 0);
	cr_assert_null(pkt_put(p, 1));
	pkt_free(p);
}

Test(pkt, push_stops_at_the_head)
{
	struct pkt *p = pkt_alloc(&pool, 20);

	cr_assert_null(pkt_push(p, 21), "push past the head must fail");
	cr_assert_eq(pkt_headroom(p), 20, "failed push moved data");
	cr_assert_eq(pkt_push(p, 14), p->head + 6);
	cr_assert_eq(pkt_len(p), 14);
	cr_assert_eq(pkt_push(p, 6), p->head);
	cr_assert_null(pkt_push(p, 1));
	cr_assert_eq(pkt_len(p), 20);
	pkt_free(p);
}

Test(pkt, pull_refuses_more_than_the_packet_holds)
{
	struct pkt *p = pkt_alloc(&pool, 0);

	pkt_put(p, 30);
	cr_assert(pkt_may_pull(p, 30));
	cr_assert(!pkt_may_pull(p, 31));
	cr_assert_null(pkt_pull(p, 31));
	cr_assert_eq(pkt_len(p), 30, "failed pull changed the length");
	cr_assert_eq(pkt_pull(p, 14), p->head + 14);
	cr_assert_eq(pkt_len(p), 16);
	cr_assert_eq(pkt_headroom(p), 14, "pulled bytes become headroom");
	cr_assert_not_null(pkt_pull(p, 16));
	cr_assert_eq(pkt_len(p), 0);
	pkt_free(p);
}

Test(pkt, trim_only_shortens)
{
	struct pkt *p = pkt_alloc(&pool, 0);

	pkt_put(p, 60);
	pkt_trim(p, 100);
	cr_assert_eq(pkt_len(p), 60, "trim to a larger length must not grow the packet");
	pkt_trim(p, 28);
	cr_assert_eq(pkt_len(p), 28);
	cr_assert_eq(pkt_tailroom(p), DSIZE - 28);
	pkt_trim(p, 0);
	cr_assert_eq(pkt_len(p), 0);
	pkt_free(p);
}

Test(pkt, reserve_works_only_on_an_empty_packet_within_tailroom)
{
	struct pkt *p = pkt_alloc(&pool, 0);

	cr_assert(!pkt_reserve(p, DSIZE + 1));
	cr_assert_eq(pkt_headroom(p), 0);
	cr_assert(pkt_reserve(p, 100));
	cr_assert_eq(pkt_headroom(p), 100);
	cr_assert_eq(pkt_len(p), 0);
	pkt_put(p, 1);
	cr_assert(!pkt_reserve(p, 10), "reserve on a non-empty packet");
	cr_assert_eq(pkt_headroom(p), 100);
	pkt_free(p);
}

Test(pkt, headroom_larger_than_the_buffer_fails_and_is_counted)
{
	cr_assert_null(pkt_alloc(&pool, DSIZE + 1));
	cr_assert_eq(pool.alloc_fails, 1);
	cr_assert(pkt_pool_full(&pool));
}

Test(pkt, get_adds_a_holder_and_the_last_free_returns_everything)
{
	struct pkt *p = pkt_alloc(&pool, 0);

	cr_assert_eq(pkt_get(p), p);
	cr_assert_eq(p->refcnt, 2);
	cr_assert(pkt_is_shared(p));
	pkt_free(p);
	cr_assert_eq(pool.nfree_meta, NMETA - 1, "first free returned the metadata");
	cr_assert_eq(pool.nfree_data, NDATA - 1, "first free returned the data");
	cr_assert(!pkt_is_shared(p));
	pkt_free(p);
	cr_assert(pkt_pool_full(&pool));
	pkt_free(NULL);
}

Test(pkt, clone_shares_data_until_both_are_freed)
{
	struct pkt *p = pkt_alloc(&pool, 64);
	struct pkt *c;

	fill(pkt_put(p, 40), 40, 1);
	c = pkt_clone(p);
	cr_assert_not_null(c);
	cr_assert_neq(c, p);
	cr_assert_eq(c->data, p->data, "clone sees the same bytes");
	cr_assert_eq(c->data_id, p->data_id);
	cr_assert_eq(c->refcnt, 1);
	cr_assert(pkt_is_shared(p));
	cr_assert(pkt_is_shared(c));
	cr_assert_eq(pool.nfree_data, NDATA - 1, "a clone takes no data buffer");
	cr_assert_eq(pool.nfree_meta, NMETA - 2);

	/* Each keeps its own view of the shared buffer (skb_clone). */
	cr_assert_not_null(pkt_push(c, 14));
	cr_assert_eq(pkt_len(c), 54);
	cr_assert_eq(pkt_len(p), 40);

	pkt_free(p);
	cr_assert_eq(pool.nfree_data, NDATA - 1, "data freed while the clone uses it");
	cr_assert_eq(pool.nfree_meta, NMETA - 1);
	cr_assert(!pkt_is_shared(c));
	cr_assert_eq(c->data[14], 1, "clone's bytes changed after the original was freed");
	pkt_free(c);
	cr_assert(pkt_pool_full(&pool));
}

Test(pkt, clone_fails_cleanly_without_metadata)
{
	struct pkt *p = pkt_alloc(&pool, 0);
	struct pkt *c[NMETA];
	unsigned int n = 0;

	while (n < NMETA && (c[n] = pkt_clone(p)))
		n++;
	cr_assert_eq(n, NMETA - 1);
	cr_assert_eq(pool.alloc_fails, 1);
	cr_assert_eq(pool.data_ref[p->data_id], NMETA);
	while (n)
		pkt_free(c[--n]);
	cr_assert_eq(pool.data_ref[p->data_id], 1);
	pkt_free(p);
}

Test(pkt, copy_is_private_and_keeps_offsets_relative_to_data)
{
	struct pkt *p = pkt_alloc(&pool, 50);
	struct pkt *c;

	fill(pkt_put(p, 100), 100, 7);
	pkt_pull(p, 14);
	pkt_set_l3(p);
	pkt_pull(p, 20);
	pkt_set_l4(p);
	p->protocol = 0x0800;
	p->hash = 0xabcd;
	p->tstamp = 42;

	c = pkt_copy(p, 100);
	cr_assert_not_null(c);
	cr_assert_neq(c->data_id, p->data_id, "a copy has its own buffer");
	cr_assert(!pkt_is_shared(c));
	cr_assert(!pkt_is_shared(p));
	cr_assert_eq(pkt_headroom(c), 100);
	cr_assert_eq(pkt_len(c), pkt_len(p));
	cr_assert(!memcmp(c->data, p->data, pkt_len(p)));
	cr_assert_eq(pkt_l4(c), c->data, "l4 offset not shifted with the data");
	cr_assert_eq(c->l3_off, 0xffff,
		     "an offset into headroom that was not copied must not survive the copy");
	cr_assert_eq(c->l2_off, 0xffff, "unset offset became set");
	cr_assert_eq(c->protocol, 0x0800);
	cr_assert_eq(c->hash, 0xabcd);
	cr_assert_eq(c->tstamp, 42);

	c->data[0] ^= 0xff;
	cr_assert_neq(c->data[0], p->data[0], "writing the copy changed the original");
	pkt_free(p);
	pkt_free(c);
}

Test(pkt, copy_that_does_not_fit_fails_without_taking_anything)
{
	struct pkt *p = pkt_alloc(&pool, 0);
	struct pkt *c;

	pkt_put(p, 300);
	cr_assert_null(pkt_copy(p, DSIZE - 299));
	cr_assert_eq(pool.nfree_meta, NMETA - 1);
	cr_assert_eq(pool.nfree_data, NDATA - 1);
	c = pkt_copy(p, DSIZE - 300);
	cr_assert_not_null(c, "a copy that exactly fits must succeed");
	cr_assert_eq(pkt_tailroom(c), 0);
	pkt_free(c);
	pkt_free(p);
}

Test(pkt, queue_is_fifo_and_counts_packets_and_bytes)
{
	struct pkt_queue q;
	struct pkt *p[3];

	pkt_queue_init(&q);
	cr_assert_null(pkt_queue_pop(&q));
	for (unsigned int i = 0; i < 3; i++) {
		p[i] = pkt_alloc(&pool, 0);
		pkt_put(p[i], i + 1);
		pkt_queue_push(&q, p[i]);
	}
	cr_assert_eq(q.len, 3);
	cr_assert_eq(q.bytes, 6);
	cr_assert_eq(pkt_queue_pop(&q), p[0]);
	cr_assert_eq(q.len, 2);
	cr_assert_eq(q.bytes, 5);
	cr_assert_null(p[0]->next, "popped packet still linked");
	pkt_free(p[0]);
	pkt_queue_purge(&q);
	cr_assert_eq(q.len, 0);
	cr_assert_eq(q.bytes, 0);
	cr_assert_null(q.head);
	cr_assert_null(q.tail);
	cr_assert(pkt_pool_full(&pool), "purge did not free the queued packets");

	/* The queue is usable again after it ran empty. */
	p[0] = pkt_alloc(&pool, 0);
	pkt_queue_push(&q, p[0]);
	cr_assert_eq(q.head, p[0]);
	cr_assert_eq(q.tail, p[0]);
	pkt_queue_purge(&q);
}

Test(pkt, insert_after_keeps_order_head_tail_and_counts)
{
	struct pkt_queue q;
	struct pkt *p[4];

	pkt_queue_init(&q);
	for (unsigned int i = 0; i < 4; i++) {
		p[i] = pkt_alloc(&pool, 0);
		pkt_put(p[i], i + 1);
	}
	pkt_queue_insert_after(&q, NULL, p[1]); /* empty: head and tail */
	cr_assert_eq(q.head, p[1]);
	cr_assert_eq(q.tail, p[1]);
	pkt_queue_insert_after(&q, NULL, p[0]); /* new head */
	pkt_queue_insert_after(&q, p[1], p[3]); /* new tail */
	pkt_queue_insert_after(&q, p[1], p[2]); /* middle */
	cr_assert_eq(q.len, 4);
	cr_assert_eq(q.bytes, 10);
	cr_assert_eq(q.tail, p[3]);
	for (unsigned int i = 0; i < 4; i++)
		cr_assert_eq(pkt_queue_pop(&q), p[i], "packet %u out of order", i);
	cr_assert_null(q.tail);
	for (unsigned int i = 0; i < 4; i++)
		pkt_free(p[i]);
	cr_assert(pkt_pool_full(&pool));
}

Test(pkt, pool_runs_dry_and_counts_each_failed_allocation)
{
	struct pkt *p[NDATA + 1];
	unsigned int n = 0;

	while (n <= NDATA && (p[n] = pkt_alloc(&pool, 0)))
		n++;
	cr_assert_eq(n, NDATA, "data buffers bound the allocations");
	cr_assert_eq(pool.alloc_fails, 1);
	cr_assert_null(pkt_alloc(&pool, 0));
	cr_assert_eq(pool.alloc_fails, 2);
	cr_assert_eq(pool.allocs, NDATA);
	pkt_free(p[3]);
	p[3] = pkt_alloc(&pool, 0);
	cr_assert_not_null(p[3], "a freed buffer can be allocated again");
	while (n)
		pkt_free(p[--n]);
}

Test(pkt, fail_after_lets_n_allocations_through_then_fails_every_one)
{
	struct pkt *a, *b;

	pkt_pool_fail_after(&pool, 2);
	a = pkt_alloc(&pool, 0);
	b = pkt_alloc(&pool, 0);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_null(pkt_alloc(&pool, 0));
	cr_assert_null(pkt_alloc(&pool, 0), "the hook must keep failing");
	cr_assert_eq(pool.alloc_fails, 2);
	cr_assert_eq(pool.fail_after, 0);
	pkt_pool_fail_after(&pool, PKT_POOL_NO_FAIL);
	pkt_free(a);
	a = pkt_alloc(&pool, 0);
	cr_assert_not_null(a);
	pkt_free(a);
	pkt_free(b);

	pkt_pool_fail_after(&pool, 0);
	cr_assert_null(pkt_alloc(&pool, 0), "fail_after(0) fails the next allocation");
	pkt_pool_fail_after(&pool, PKT_POOL_NO_FAIL);
}

Test(pkt, data_take_and_attach_wrap_a_lent_buffer)
{
	int id = pkt_pool_data_take(&pool);
	struct pkt *p;

	cr_assert_geq(id, 0);
	cr_assert_eq(pool.nfree_data, NDATA - 1);
	fill(pkt_pool_data_ptr(&pool, (uint32_t)id) + 40, 60, 3);
	p = pkt_pool_attach(&pool, (uint32_t)id, 40, 60);
	cr_assert_not_null(p);
	cr_assert_eq(p->data_id, (uint32_t)id);
	cr_assert_eq(pkt_headroom(p), 40);
	cr_assert_eq(pkt_len(p), 60);
	cr_assert_eq(p->data[0], 3);
	cr_assert_eq(p->data[59], 62);
	cr_assert(!pkt_is_shared(p));
	pkt_free(p);
	cr_assert(pkt_pool_full(&pool), "freeing an attached packet returns the buffer");
}

Test(pkt, data_take_runs_dry_and_give_returns_an_unused_buffer)
{
	int ids[NDATA];

	for (unsigned int i = 0; i < NDATA; i++) {
		ids[i] = pkt_pool_data_take(&pool);
		cr_assert_geq(ids[i], 0);
		for (unsigned int j = 0; j < i; j++)
			cr_assert_neq(ids[i], ids[j], "buffer %d lent twice", ids[i]);
	}
	cr_assert_eq(pkt_pool_data_take(&pool), -ENOBUFS);
	cr_assert_null(pkt_alloc(&pool, 0), "alloc with every buffer lent out");
	for (unsigned int i = 0; i < NDATA; i++)
		pkt_pool_data_give(&pool, (uint32_t)ids[i]);
}

Test(pkt, attach_past_the_buffer_returns_it_to_the_pool)
{
	int id = pkt_pool_data_take(&pool);

	cr_assert_null(pkt_pool_attach(&pool, (uint32_t)id, pool.data_size - 10, 11));
	cr_assert(pkt_pool_full(&pool), "rejected buffer not returned");
	id = pkt_pool_data_take(&pool);
	cr_assert_null(pkt_pool_attach(&pool, (uint32_t)id, 0xfffffff0u, 0x20));
	cr_assert(pkt_pool_full(&pool), "offset overflow: buffer not returned");
}

Test(pkt, attach_without_metadata_returns_the_buffer_and_counts_a_failure)
{
	struct pkt *p = pkt_alloc(&pool, 0);
	struct pkt *c[NMETA];
	unsigned int n = 0;
	int id;

	while (n < NMETA - 1 && (c[n] = pkt_clone(p)))
		n++;
	cr_assert_eq(pool.nfree_meta, 0);
	id = pkt_pool_data_take(&pool);
	cr_assert_null(pkt_pool_attach(&pool, (uint32_t)id, 0, 10));
	cr_assert_eq(pool.alloc_fails, 1);
	cr_assert_eq(pool.nfree_data, NDATA - 1, "buffer not returned");
	while (n)
		pkt_free(c[--n]);
	pkt_free(p);
}

Test(pkt, attach_with_an_id_outside_the_pool_changes_nothing)
{
	cr_assert_null(pkt_pool_attach(&pool, NDATA + 5, 0, 10));
	cr_assert_eq(pool.nfree_data, NDATA, "pool gained a buffer it never lent");
	/* Every buffer can still be lent exactly once. */
	for (unsigned int i = 0; i < NDATA; i++)
		cr_assert_geq(pkt_pool_data_take(&pool), 0);
	cr_assert_eq(pkt_pool_data_take(&pool), -ENOBUFS);
	for (unsigned int i = 0; i < NDATA; i++)
		pkt_pool_data_give(&pool, i);
}

Test(pkt, pool_init_rejects_bad_sizes_and_rounds_buffers_to_cache_lines)
{
	struct pkt_pool p2;

	cr_assert_eq(pkt_pool_init(&p2, 0, 4, 512), -EINVAL);
	cr_assert_eq(pkt_pool_init(&p2, 4, 0, 512), -EINVAL);
	cr_assert_eq(pkt_pool_init(&p2, 4, 4, 255), -EINVAL);
	cr_assert_eq(pkt_pool_init(&p2, 4, 65537, 512), -EINVAL);
	cr_assert_eq(pkt_pool_init(&p2, 4, 4, 300), 0);
	cr_assert_eq(p2.data_size, 320);
	cr_assert_eq((uintptr_t)pkt_pool_data_ptr(&p2, 1) % 64, 0);
	cr_assert(pkt_pool_full(&p2));
	pkt_pool_fini(&p2);
}
