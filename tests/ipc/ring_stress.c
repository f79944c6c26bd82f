// SPDX-License-Identifier: MIT
/*
 * SPSC ring under two threads: every item arrives once, in order, with the
 * contents the producer wrote before publishing it. Run in the normal build
 * and under ThreadSanitizer (configure --enable-tsan), where a missing
 * acquire/release pair shows up as a data race on the item or the slot.
 * A plain program rather than a Criterion test: Criterion cannot set up its
 * process arena under TSan.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipc/ring.h"

#define ITEMS 2000000u
#define POOL 1024u	/* items are reused; the 64-slot ring keeps reuse safe */

struct item {
	uint32_t seq;
	uint32_t check;
};

static struct item items[POOL];

static uint32_t check_of(uint32_t seq)
{
	return seq * 2654435761u;
}

static void *producer(void *arg)
{
	struct spsc_ring *r = arg;

	for (uint32_t i = 0; i < ITEMS; i++) {
		struct item *it = &items[i % POOL];

		/* Item i-POOL was consumed long ago: the producer is at most 64
		 * (the ring size) ahead of the consumer. */
		it->seq = i;
		it->check = check_of(i);
		while (!spsc_ring_push(r, it))
			;
	}
	return NULL;
}

int main(void)
{
	struct spsc_ring r;
	pthread_t t;
	uint32_t expect = 0;

	if (spsc_ring_init(&r, 64) || pthread_create(&t, NULL, producer, &r)) {
		fprintf(stderr, "ring_stress: setup failed\n");
		return 99;
	}
	while (expect < ITEMS) {
		struct item *it = spsc_ring_pop(&r);

		if (!it)
			continue;
		if (it->seq != expect || it->check != check_of(expect)) {
			fprintf(stderr, "ring_stress: item %u: got seq %u check %#x\n", expect, it->seq,
				it->check);
			return 1;
		}
		expect++;
	}
	pthread_join(t, NULL);
	if (spsc_ring_pop(&r)) {
		fprintf(stderr, "ring_stress: ring not empty after %u items\n", ITEMS);
		return 1;
	}
	spsc_ring_fini(&r);
	printf("ring_stress: %u items in order\n", ITEMS);
	return 0;
}
