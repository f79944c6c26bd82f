// SPDX-License-Identifier: MIT
/*
 * Hierarchical timing wheel (Varghese and Lauck, "Hashed and hierarchical
 * timing wheels", 1987; the cascading layout of Linux's timer wheel before
 * 4.8), driven by the caller's clock: one per stack instance, no allocation,
 * no clock reads.
 *
 * Theory of operation
 *
 * Ticks. Time is counted in ticks of 2^WHEEL_TICK_SHIFT ns. A timer's tick
 * is its expires_ns rounded up, T = ceil(expires_ns / tick), and tick T runs
 * in the first wheel_advance() whose now reaches T * tick: never before
 * expires_ns, and within one tick of it if the caller advances that often.
 * w->tick is the next tick to start; tick w->tick - 1 (the "started" tick)
 * has had its cascades done, and its level-0 slot holds only the timers a
 * budget stop left there. Every tick before it has run completely.
 *
 * Placement. With base = w->tick - 1 and delta = T - base, a timer goes to
 *   level 0, slot T % 64,                 if delta < 64
 *   level L, slot (T >> 6L) % 64,         if 64^L <= delta < 64^(L+1)
 *   the top level's farthest slot,        if delta >= 64^WHEEL_LEVELS.
 * Level 0 thus holds ticks base .. base + 63, one tick per slot. A level-L
 * slot holds one "block" of 64^L ticks; the blocks a level can hold are the
 * 64 after base's own, (base >> 6L) + 1 .. (base >> 6L) + 64, whose slots
 * are all different, so a slot index names one block without ambiguity.
 * wheel_arm() replaces a T that has already started (T <= base: the past,
 * or the tick whose callbacks are running) by w->tick, so delta >= 1 and an
 * armed timer never lands in the started slot: a callback re-arming for
 * "now" cannot run again in the same tick, and a slot being drained only
 * shrinks. Arm and cancel are O(1): a list insert or unlink, plus a bit in
 * the level's 64-bit occupancy bitmap.
 *
 * Cascading. Block b of level L is due when tick b << 6L starts: its slot is
 * emptied and each timer is placed again, by its own expiry, relative to
 * base = b << 6L. Every timer in it has T within that block, so delta <
 * 64^L and it lands one level down or more; timers parked in the farthest
 * slot of the top level come back there, one lap later, until they are in
 * range. A timer therefore moves at most WHEEL_LEVELS - 1 times (plus once
 * per 64^WHEEL_LEVELS ticks while parked) and only fires from level 0, at
 * its exact tick.
 *
 * Skipping. wheel_advance() never walks ticks one by one. The next tick with
 * work is the earliest of: the first occupied level-0 slot at or after
 * w->tick, and for each higher level the start of its first occupied block.
 * Each is one rotate and one count-trailing-zeros on the level's bitmap
 * (next_work_tick()). If that tick is after now, nothing happens before now
 * and w->tick jumps there; otherwise the loop jumps to that tick, starts it
 * (cascades), drains its level-0 slot and looks again. The cost of an
 * advance is therefore O(WHEEL_LEVELS) per cascade or fired slot, however
 * much time passes: ten idle minutes cost the same as one idle tick, plus
 * the few cascades of the timers that are armed. wheel_next() is the same
 * search without the advance.
 *
 * Budget. Timers are popped from the head of the started slot one at a
 * time, so a callback may cancel or re-arm any timer, including the next
 * one in the same slot. When the budget runs out the rest stay in the
 * started slot, and the next call drains them first: nothing is lost or
 * reordered, and cascades are never repeated (a started tick stays started).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "wheel.h"

#define TICK_NS (1ull << WHEEL_TICK_SHIFT)
#define SLOT_MASK (WHEEL_SLOTS - 1u)

_Static_assert(WHEEL_SLOTS == 64, "the occupancy bitmaps are uint64_t");
_Static_assert((WHEEL_LEVEL_BITS * WHEEL_LEVELS) + WHEEL_TICK_SHIFT < 64,
	       "the wheel's span must fit a 64-bit nanosecond clock");

/* The tick in which a timer expiring at @ns may run: @ns rounded up. */
static uint64_t tick_of(uint64_t ns)
{
	return (ns >> WHEEL_TICK_SHIFT) + ((ns & (TICK_NS - 1)) != 0);
}

/* Rotate right, so that bit @n of @x becomes bit 0. */
static uint64_t ror64(uint64_t x, unsigned int n)
{
	n &= 63u;
	return n ? x >> n | x << (64u - n) : x;
}

static unsigned int level_shift(unsigned int level)
{
	return level * WHEEL_LEVEL_BITS;
}

static void slot_insert(struct wheel *w, unsigned int level, unsigned int slot,
			struct wheel_timer *t)
{
	struct wheel_timer **head = &w->slots[level][slot];

	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = head;
	*head = t;
	w->bitmap[level] |= 1ull << slot;
}

/*
 * Take @t off its list. If that leaves a slot empty, clear its bitmap bit:
 * only the first timer of a list has pprev pointing at a slot head, and
 * which head it is follows from its offset in w->slots. A timer on a list
 * detached for cascading points at no slot head, so no bit is touched.
 */
static void unlink_timer(struct wheel *w, struct wheel_timer *t)
{
	uintptr_t off = (uintptr_t)t->pprev - (uintptr_t)&w->slots[0][0];

	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	if (off < sizeof(w->slots) && !*t->pprev) {
		size_t i = off / sizeof(w->slots[0][0]);

		w->bitmap[i / WHEEL_SLOTS] &= ~(1ull << (i % WHEEL_SLOTS));
	}
	t->next = NULL;
	t->pprev = NULL;
}

/*
 * Put @t, due in @tick, in its slot relative to base = w->tick - 1 (see
 * "Placement"). The caller guarantees tick >= base; the arithmetic is modulo
 * 2^64, so base = -1 right after wheel_init(w, 0) works too.
 */
static void place(struct wheel *w, struct wheel_timer *t, uint64_t tick)
{
	uint64_t base = w->tick - 1;
	uint64_t delta = tick - base;
	unsigned int level;
	uint64_t block;

	if (delta < WHEEL_SLOTS) {
		slot_insert(w, 0, (unsigned int)(tick & SLOT_MASK), t);
		return;
	}
	level = (unsigned int)(63 - __builtin_clzll(delta)) / WHEEL_LEVEL_BITS;
	if (level < WHEEL_LEVELS) {
		block = tick >> level_shift(level);
	} else {
		/* Out of range: park it in the top level's farthest block, the
		 * 64th after base's, and look again when that block is due. */
		level = WHEEL_LEVELS - 1;
		block = (base >> level_shift(level)) + WHEEL_SLOTS;
	}
	slot_insert(w, level, (unsigned int)(block & SLOT_MASK), t);
}

/*
 * The first tick at or after w->tick that has work, a level-0 slot to run or
 * a block to cascade; UINT64_MAX if the wheel is empty. Ignores the started
 * slot, which the callers look at first.
 */
static uint64_t next_work_tick(const struct wheel *w)
{
	uint64_t c = w->tick;
	uint64_t best = UINT64_MAX;
	unsigned int level;

	/* Level-0 slots hold ticks c .. c + 62 (c - 1 is the started one). */
	if (w->bitmap[0])
		best = c + (uint64_t)__builtin_ctzll(ror64(w->bitmap[0], (unsigned int)c));

	for (level = 1; level < WHEEL_LEVELS; level++) {
		unsigned int shift = level_shift(level);
		uint64_t first, t;

		if (!w->bitmap[level])
			continue;
		/* The pending blocks are the 64 from the first one starting at
		 * or after c; rotate so that its slot is bit 0. */
		first = (c + (1ull << shift) - 1) >> shift;
		t = first + (uint64_t)__builtin_ctzll(ror64(w->bitmap[level], (unsigned int)first));
		t <<= shift;
		if (t < best)
			best = t;
	}
	return best;
}

/*
 * Start tick @c (w->tick is already c + 1): every level whose block begins at
 * @c hands that block's timers down, placed again by their own expiry.
 */
static void cascade(struct wheel *w, uint64_t c)
{
	unsigned int level;

	for (level = 1; level < WHEEL_LEVELS; level++) {
		unsigned int shift = level_shift(level);
		unsigned int slot = (unsigned int)((c >> shift) & SLOT_MASK);
		struct wheel_timer *t, *next;

		/* A block boundary of level L is one of every level below. */
		if (c & ((1ull << shift) - 1))
			break;
		if (!(w->bitmap[level] & 1ull << slot))
			continue;
		/* Detach the whole list first: a parked timer goes back into
		 * this very slot, now standing for the block 64 laps on. */
		t = w->slots[level][slot];
		w->slots[level][slot] = NULL;
		w->bitmap[level] &= ~(1ull << slot);
		for (; t; t = next) {
			uint64_t tick = tick_of(t->expires_ns);

			next = t->next;
			/* Clamped timers live in level 0, so none is behind c. */
			assert(tick >= c);
			place(w, t, tick);
		}
	}
}

void wheel_init(struct wheel *w, uint64_t now_ns)
{
	*w = (struct wheel){ .tick = now_ns >> WHEEL_TICK_SHIFT };
}

void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expires_ns)
{
	uint64_t tick = tick_of(expires_ns);

	if (wheel_timer_armed(t))
		unlink_timer(w, t);
	else
		w->armed++;
	t->expires_ns = expires_ns;
	/* A tick that has started cannot take new timers: run it next tick. */
	if (tick < w->tick)
		tick = w->tick;
	place(w, t, tick);
}

void wheel_cancel(struct wheel *w, struct wheel_timer *t)
{
	if (!wheel_timer_armed(t))
		return;
	unlink_timer(w, t);
	w->armed--;
}

unsigned int wheel_advance(struct wheel *w, uint64_t now_ns, void *ctx, unsigned int budget)
{
	uint64_t last = now_ns >> WHEEL_TICK_SHIFT; /* ticks up to this one are due */
	unsigned int ran = 0;

	/* The clock went back: run nothing rather than something early. */
	if (w->tick > last + 1)
		return 0;

	for (;;) {
		struct wheel_timer **head = &w->slots[0][(w->tick - 1) & SLOT_MASK];
		uint64_t next;

		/* Pop one at a time: the callback may cancel or re-arm any
		 * timer, including the next one here. */
		while (*head) {
			struct wheel_timer *t = *head;

			if (ran == budget)
				return ran;
			unlink_timer(w, t);
			w->armed--;
			t->fn(ctx, t);
			ran++;
		}

		next = next_work_tick(w);
		if (next > last) {
			/* Skip the idle ticks: none of them has anything. */
			if (w->tick <= last)
				w->tick = last + 1;
			return ran;
		}
		w->tick = next + 1;
		cascade(w, next);
	}
}

uint64_t wheel_next(const struct wheel *w)
{
	uint64_t next;

	if (!w->armed)
		return UINT64_MAX;
	/* Left by a budget stop: due already. */
	if (w->tick && w->slots[0][(w->tick - 1) & SLOT_MASK])
		return (w->tick - 1) << WHEEL_TICK_SHIFT;
	next = next_work_tick(w);
	if (next > UINT64_MAX >> WHEEL_TICK_SHIFT)
		return UINT64_MAX;
	return next << WHEEL_TICK_SHIFT;
}
