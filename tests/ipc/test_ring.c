// SPDX-License-Identifier: MIT
/*
 * SPSC ring: single-threaded semantics. The two-thread stress test is
 * tests/ipc/ring_stress.c, a plain program, because Criterion cannot start
 * under ThreadSanitizer.
 */
#include <criterion/criterion.h>
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
