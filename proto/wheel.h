/* SPDX-License-Identifier: MIT */
/*
 * Hierarchical timing wheel (Varghese and Lauck, 1987), one per stack
 * instance, driven by the caller's clock. Arm and cancel are O(1): a timer
 * is an intrusive list node placed in a slot by how far away it expires.
 *
 * Geometry: WHEEL_LEVELS levels of 64 slots; a level-0 slot spans one tick
 * (2^WHEEL_TICK_SHIFT ns, about 65.5 us), a level-n slot 64^n ticks. Timers
 * further away than the top level spans sit in its farthest slot and are
 * re-placed when that slot comes round.
 *
 * Timing: a timer's expiry is rounded up to a tick, and it runs in the
 * first wheel_advance() whose now reaches that tick's start. So it never
 * runs before expires_ns, and at most one tick after it when the caller
 * advances at least once a tick or at wheel_next(). Timers run in the order
 * of their ticks; within one tick, in any order.
 *
 * Nothing here allocates, reads a clock or keeps global state; a wheel is
 * not thread-safe (one per worker). See wheel.c for the theory of operation.
 */
#ifndef USNET_PROTO_WHEEL_H
#define USNET_PROTO_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define WHEEL_TICK_SHIFT 16u /* 65,536 ns per tick */
#define WHEEL_LEVEL_BITS 6u
#define WHEEL_SLOTS (1u << WHEEL_LEVEL_BITS)
#define WHEEL_LEVELS 6u /* 64^6 ticks = 2^52 ns: about 52 days */

struct wheel_timer;

/* Called for an expired timer, already disarmed; it may re-arm itself or
 * arm and cancel any other timer (also one due in the same tick), but must
 * not call wheel_advance(). @ctx is what wheel_advance() was given. */
typedef void (*wheel_fn)(void *ctx, struct wheel_timer *t);

struct wheel_timer {
	struct wheel_timer *next;
	struct wheel_timer **pprev; /* NULL: not armed */
	uint64_t expires_ns; /* as asked for */
	wheel_fn fn;
};

/* All fields are private to wheel.c. */
struct wheel {
	uint64_t tick; /* next tick to start; every tick before
					 * it has run, except what a budget stop
					 * left in the level-0 slot of tick - 1 */
	uint64_t bitmap[WHEEL_LEVELS]; /* occupied slots, bit i = slot i */
	struct wheel_timer *slots[WHEEL_LEVELS][WHEEL_SLOTS];
	uint32_t armed; /* timers in the wheel */
};

/** wheel_init() - an empty wheel whose clock starts at @now_ns */
void wheel_init(struct wheel *w, uint64_t now_ns);

/** wheel_timer_init() - an unarmed timer that calls @fn when it expires */
static inline void wheel_timer_init(struct wheel_timer *t, wheel_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires_ns = 0;
	t->fn = fn;
}

static inline bool wheel_timer_armed(const struct wheel_timer *t)
{
	return t->pprev != NULL;
}

/**
 * wheel_arm() - (re)arm @t to expire at @expires_ns; an armed timer is
 * moved. A time whose tick has already run (the past, or from a callback
 * the tick now running) is due in the next tick, so a callback re-arming
 * itself for "now" does not run twice in one tick and cannot loop.
 */
void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expires_ns);

/** wheel_cancel() - disarm @t; a timer that is not armed is left alone */
void wheel_cancel(struct wheel *w, struct wheel_timer *t);

/**
 * wheel_advance() - run every timer whose tick has started at @now_ns (see
 * "Timing" above), in tick order, calling at most @budget of them.
 * @w:      the wheel
 * @now_ns: the caller's clock; it must not go backwards (an earlier time
 *          runs nothing)
 * @ctx:    passed to every callback
 * @budget: the most timers to run in this call
 *
 * Idle time costs nothing per tick: empty stretches are skipped with the
 * occupancy bitmaps, however long they are.
 * Return: the number of timers run; if it equals @budget, call again (the
 * next call continues where this one stopped, losing and reordering nothing).
 */
unsigned int wheel_advance(struct wheel *w, uint64_t now_ns, void *ctx, unsigned int budget);

/**
 * wheel_next() - when wheel_advance() next has work: the start of the
 * earliest occupied slot. For a timer in level 0 (due within 63 ticks) that
 * is exactly when it runs, its expiry rounded up to a tick; for one in a
 * higher level it is earlier, and advancing to it only moves the timer down.
 * Never later than the next timer's rounded-up expiry, so a caller that
 * sleeps until then misses nothing. A time already past if a budget stop
 * left timers to run; UINT64_MAX if none is armed.
 */
uint64_t wheel_next(const struct wheel *w);

#endif
