// SPDX-License-Identifier: MIT
/*
 * SPSC ring: single-threaded semantics, then a two-thread stress test that
 * checks order and completeness. Run under ThreadSanitizer in CI
 * (configure --enable-tsan), where a missing acquire/release shows up as a
 * data race on the slots.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>

#include "ipc/ring.h"

TestSuite(spsc_ring, .timeout = 60);

Test(spsc_ring, rejects_sizes_that_are_not_powers_of_two)
{
	struct spsc_ring r;

	cr_assert_eq(spsc_ring_init(&r, 0), -EINVAL);
	cr_assert_eq(spsc_ring_init(&r, 1), -EINVAL);
	cr_assert_eq(spsc_ring_init(&r, 6), -EINVAL);
}

Test(spsc_ring, fifo_order_full_and_empty)
{
	struct spsc_ring r;

	cr_assert_eq(spsc_ring_init(&r, 4), 0);
	cr_assert_null(spsc_ring_pop(&r));
	for (uintptr_t i = 1; i <= 4; i++)
		cr_assert(spsc_ring_push(&r, (void *)i));
	cr_assert_not(spsc_ring_push(&r, (void *)5), "a full ring refuses a push");
	for (uintptr_t i = 1; i <= 4; i++)
		cr_assert_eq((uintptr_t)spsc_ring_pop(&r), i);
	cr_assert_null(spsc_ring_pop(&r));
	spsc_ring_fini(&r);
}

Test(spsc_ring, indices_wrap_past_uint32)
{
	struct spsc_ring r;

	cr_assert_eq(spsc_ring_init(&r, 8), 0);
	/* Start near the wrap so head/tail overflow during the test. */
	atomic_store(&r.head, UINT32_MAX - 3);
	atomic_store(&r.tail, UINT32_MAX - 3);
	r.head_cache = r.tail_cache = UINT32_MAX - 3;
	for (uintptr_t i = 1; i <= 100; i++) {
		cr_assert(spsc_ring_push(&r, (void *)i));
		cr_assert_eq((uintptr_t)spsc_ring_pop(&r), i);
	}
	spsc_ring_fini(&r);
}

#define STRESS_ITEMS 2000000u

/* The payload is a struct written before the push and checked after the
 * pop: without the release/acquire pair the consumer could see the
 * pointer before the producer's writes to what it points at. */
struct item {
	uint32_t seq;
	uint32_t check;
};

static struct item items[1024];

static void *producer(void *arg)
{
	struct spsc_ring *r = arg;

	for (uint32_t i = 0; i < STRESS_ITEMS; i++) {
		struct item *it = &items[i % 1024];

		/* Slot i%1024 is reused only after the consumer has seen item
		 * i-1024; the ring (64 slots) guarantees that. */
		it->seq = i;
		it->check = i * 2654435761u;
		while (!spsc_ring_push(r, it))
			;
	}
	return NULL;
}

Test(spsc_ring, two_threads_preserve_order_and_content)
{
	struct spsc_ring r;
	pthread_t t;
	uint32_t expect = 0;

	cr_assert_eq(spsc_ring_init(&r, 64), 0);
	cr_assert_eq(pthread_create(&t, NULL, producer, &r), 0);
	while (expect < STRESS_ITEMS) {
		struct item *it = spsc_ring_pop(&r);

		if (!it)
			continue;
		cr_assert_eq(it->seq, expect, "item %u arrived out of order (got %u)", expect,
			     it->seq);
		cr_assert_eq(it->check, expect * 2654435761u, "item %u torn", expect);
		expect++;
	}
	pthread_join(t, NULL);
	cr_assert_null(spsc_ring_pop(&r));
	spsc_ring_fini(&r);
}
