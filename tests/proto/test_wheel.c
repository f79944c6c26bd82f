// SPDX-License-Identifier: MIT
/*
 * Hierarchical timing wheel: when timers run (never early, at their expiry
 * rounded up to a tick, at every level boundary and beyond the top level),
 * in what order, what callbacks may do to the wheel, the budget, what
 * wheel_next() promises, a fixed-seed random workload checked against a
 * model, and the cost of a long idle advance.
 *
 * The wheel has no dependency on struct stack, so these tests drive one
 * directly with a manual clock, "now", as the harness drives a stack.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/wheel.h"

#define NS 1ull
#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
#define MIN (60 * SEC)

#define TICK (1ull << WHEEL_TICK_SHIFT)
/* One slot of level n spans 64^n ticks. */
#define LEVEL_TICKS(n) (1ull << (WHEEL_LEVEL_BITS * (n)))
/* The most ticks the wheel places without parking. */
#define SPAN_TICKS LEVEL_TICKS(WHEEL_LEVELS)

/* The clock starts one second after boot, as the proto harness's does; it
 * is not a multiple of a tick. */
#define T0 (1 * SEC)

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct probe {
	struct wheel_timer t;
	unsigned int fired;
	uint64_t fired_at; /* now of the wheel_advance() that ran it */
	void (*then)(struct probe *p); /* runs inside the callback */
	struct probe *other;
};

static struct wheel w;
static uint64_t now;
static struct probe *order[1024];
static unsigned int norder;

static uint64_t round_up(uint64_t ns)
{
	return (ns + TICK - 1) & ~(TICK - 1);
}

static void on_fire(void *ctx, struct wheel_timer *t)
{
	struct probe *p = container_of(t, struct probe, t);

	cr_assert_eq(ctx, &w, "callback got the wrong ctx");
	cr_assert_not(wheel_timer_armed(t), "timer still armed in its callback");
	cr_assert_geq(now, t->expires_ns, "ran early: now %llu, expires %llu",
		      (unsigned long long)now, (unsigned long long)t->expires_ns);
	p->fired++;
	p->fired_at = now;
	if (norder < sizeof(order) / sizeof(order[0]))
		order[norder++] = p;
	if (p->then)
		p->then(p);
}

static void probe_init(struct probe *p)
{
	*p = (struct probe){ .then = NULL };
	wheel_timer_init(&p->t, on_fire);
}

static void start(uint64_t at)
{
	now = at;
	norder = 0;
	wheel_init(&w, at);
}

/* Move the clock to @to and run everything due, with no budget limit. */
static unsigned int advance_to(uint64_t to)
{
	now = to;
	return wheel_advance(&w, now, &w, UINT_MAX);
}

static void setup(void)
{
	start(T0);
}

static void teardown(void)
{
}

TestSuite(wheel, .init = setup, .fini = teardown, .timeout = 10);

/* Delays that sit on, and either side of, every level boundary. */
static const uint64_t boundary_delays[] = {
	0,
	1 * NS,
	TICK - 1,
	TICK,
	TICK + 1,
	62 * TICK,
	63 * TICK,
	64 * TICK,
	65 * TICK,
	(LEVEL_TICKS(2) - 1) * TICK,
	LEVEL_TICKS(2) * TICK,
	(LEVEL_TICKS(2) + 1) * TICK,
	LEVEL_TICKS(3) * TICK,
	LEVEL_TICKS(3) * TICK + 1,
	(LEVEL_TICKS(4) + 3) * TICK,
	(LEVEL_TICKS(5) - 1) * TICK + 17,
	(SPAN_TICKS - 1) * TICK,
	SPAN_TICKS *TICK,
	SPAN_TICKS *TICK + 12345,
	3 * SPAN_TICKS *TICK + 7 * LEVEL_TICKS(4) * TICK + 99,
};

/* Where the clock starts: off-tick, on a tick, just before a level-1 and a
 * level-3 boundary, and at zero (the wheel's first tick). */
static const uint64_t start_times[] = {
	T0, 15259 * TICK, (64 * 1000 - 1) * TICK + 5, (LEVEL_TICKS(3) * 7 - 1) * TICK, 0,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

Test(wheel, fires_at_expiry_rounded_up_to_a_tick_for_every_level_boundary)
{
	for (size_t i = 0; i < ARRAY_SIZE(start_times); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(boundary_delays); j++) {
			uint64_t t0 = start_times[i], d = boundary_delays[j];
			uint64_t e = t0 + d, due = round_up(e);
			struct probe p;

			start(t0);
			probe_init(&p);
			wheel_arm(&w, &p.t, e);
			if (e > t0)
				advance_to(e - 1);
			cr_assert_eq(p.fired, 0, "start %llu delay %llu: ran 1 ns early",
				     (unsigned long long)t0, (unsigned long long)d);
			if (due > t0)
				advance_to(due - 1);
			cr_assert_eq(p.fired, 0, "start %llu delay %llu: ran before its tick",
				     (unsigned long long)t0, (unsigned long long)d);
			advance_to(due);
			cr_assert_eq(p.fired, 1,
				     "start %llu delay %llu: fired %u times at its tick",
				     (unsigned long long)t0, (unsigned long long)d, p.fired);
			cr_assert_not(wheel_timer_armed(&p.t));
			cr_assert_eq(wheel_next(&w), UINT64_MAX);
		}
	}
}

Test(wheel, stepping_by_wheel_next_reaches_every_boundary_timer_never_early)
{
	/* What a worker does: sleep until wheel_next(), advance, repeat. Every
	 * stop on the way is a cascade, and none may run the timer early. */
	for (size_t i = 0; i < ARRAY_SIZE(start_times); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(boundary_delays); j++) {
			uint64_t t0 = start_times[i], d = boundary_delays[j];
			uint64_t e = t0 + d;
			unsigned int steps = 0;
			struct probe p;

			start(t0);
			probe_init(&p);
			wheel_arm(&w, &p.t, e);
			while (!p.fired) {
				uint64_t n = wheel_next(&w);

				cr_assert_leq(n, round_up(e), "delay %llu: next %llu after expiry",
					      (unsigned long long)d, (unsigned long long)n);
				cr_assert(steps == 0 || n > now, "delay %llu: no progress at %llu",
					  (unsigned long long)d, (unsigned long long)now);
				cr_assert_lt(++steps, 100u, "delay %llu: too many stops",
					     (unsigned long long)d);
				advance_to(n);
			}
			cr_assert_eq(p.fired_at, round_up(e), "delay %llu: ran at %llu, due %llu",
				     (unsigned long long)d, (unsigned long long)p.fired_at,
				     (unsigned long long)round_up(e));
		}
	}
}

Test(wheel, never_fires_early_when_advanced_in_small_uneven_steps)
{
	static struct probe p[300];
	uint64_t last_now = now;

	for (unsigned int i = 0; i < ARRAY_SIZE(p); i++) {
		probe_init(&p[i]);
		wheel_arm(&w, &p[i].t, T0 + i * 997 * NS + (uint64_t)i * i * US);
	}
	while (wheel_next(&w) != UINT64_MAX) {
		last_now = now;
		advance_to(now + 331 * NS);
		for (unsigned int k = 0; k < norder; k++)
			cr_assert_gt(round_up(order[k]->t.expires_ns), last_now,
				     "ran an advance late: due %llu, previous now %llu",
				     (unsigned long long)round_up(order[k]->t.expires_ns),
				     (unsigned long long)last_now);
		norder = 0;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(p); i++)
		cr_assert_eq(p[i].fired, 1, "timer %u ran %u times", i, p[i].fired);
}

Test(wheel, fires_in_order_of_expiry_across_levels)
{
	static struct probe p[400];
	unsigned int n = ARRAY_SIZE(p);

	/* Distinct ticks spread over every level and beyond, armed in a
	 * scrambled order (i * 263 mod 400 is a permutation). */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int k = i * 263 % n;
		uint64_t ticks = 1 + k + (uint64_t)k * k * k * k / 4;

		probe_init(&p[k]);
		wheel_arm(&w, &p[k].t, round_up(T0) + ticks * TICK - (k % 7));
	}
	advance_to(UINT64_MAX / 2);
	cr_assert_eq(norder, n);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(order[i], &p[i], "position %u holds timer %ld", i,
			     (long)(order[i] - p));
}

Test(wheel, cancelled_timers_never_fire_and_cancelling_twice_is_harmless)
{
	struct probe a, b, c, idle;

	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	probe_init(&idle);
	wheel_arm(&w, &a.t, now + 10 * TICK);
	wheel_arm(&w, &b.t, now + 5 * SEC);
	wheel_arm(&w, &c.t, now + 400 * 24 * 3600 * SEC);
	wheel_cancel(&w, &a.t);
	wheel_cancel(&w, &c.t);
	wheel_cancel(&w, &c.t);
	wheel_cancel(&w, &idle.t);
	cr_assert_not(wheel_timer_armed(&a.t));
	cr_assert_not(wheel_timer_armed(&c.t));
	cr_assert(wheel_timer_armed(&b.t));
	advance_to(now + 800 * 24 * 3600 * SEC);
	cr_assert_eq(a.fired + c.fired + idle.fired, 0);
	cr_assert_eq(b.fired, 1);
	cr_assert_eq(wheel_next(&w), UINT64_MAX);
}

Test(wheel, cancelling_any_timer_of_a_shared_slot_keeps_the_others)
{
	struct probe p[4];
	uint64_t e = round_up(now) + 3 * TICK;

	for (unsigned int i = 0; i < 4; i++) {
		probe_init(&p[i]);
		wheel_arm(&w, &p[i].t, e - i); /* all in one tick */
	}
	wheel_cancel(&w, &p[1].t); /* middle of the list */
	wheel_cancel(&w, &p[3].t); /* its head */
	cr_assert_eq(wheel_next(&w), e, "the slot must still count as occupied");
	wheel_cancel(&w, &p[0].t); /* its tail */
	cr_assert_eq(wheel_next(&w), e);
	wheel_cancel(&w, &p[2].t);
	cr_assert_eq(wheel_next(&w), UINT64_MAX, "an empty slot must not count");
	advance_to(e);
	cr_assert_eq(norder, 0);
}

Test(wheel, rearming_an_armed_timer_moves_it)
{
	struct probe sooner, later, same;

	probe_init(&sooner);
	probe_init(&later);
	probe_init(&same);
	wheel_arm(&w, &sooner.t, now + 10 * MS);
	wheel_arm(&w, &sooner.t, now + 1 * MS);
	wheel_arm(&w, &later.t, now + 1 * MS);
	wheel_arm(&w, &later.t, now + 1 * MIN);
	wheel_arm(&w, &same.t, now + 2 * MS);
	wheel_arm(&w, &same.t, now + 2 * MS);

	advance_to(T0 + 1 * MS + TICK);
	cr_assert_eq(sooner.fired, 1);
	cr_assert_eq(later.fired, 0, "moved timer ran at its old time");
	advance_to(T0 + 2 * MS + TICK);
	cr_assert_eq(same.fired, 1, "re-armed in place: ran %u times", same.fired);
	advance_to(T0 + 30 * SEC);
	cr_assert_eq(sooner.fired, 1, "moved timer ran again at its old time");
	cr_assert_eq(later.fired, 0);
	advance_to(T0 + 1 * MIN + TICK);
	cr_assert_eq(later.fired, 1);
	cr_assert_eq(same.fired, 1);
	cr_assert_eq(wheel_next(&w), UINT64_MAX);
}

Test(wheel, timer_armed_in_the_past_fires_in_the_next_tick)
{
	struct probe p;
	uint64_t next_tick;

	advance_to(T0 + 10 * MS);
	next_tick = round_up(now + 1);
	probe_init(&p);
	wheel_arm(&w, &p.t, T0);
	cr_assert_eq(wheel_next(&w), next_tick);
	cr_assert_eq(advance_to(next_tick - 1), 0);
	cr_assert_eq(advance_to(next_tick), 1);
	cr_assert_eq(p.fired, 1);
}

Test(wheel, timer_armed_for_zero_right_after_init_at_zero_fires_at_once)
{
	struct probe p;

	start(0);
	probe_init(&p);
	wheel_arm(&w, &p.t, 0);
	cr_assert_eq(wheel_next(&w), 0);
	cr_assert_eq(advance_to(0), 1);
}

static void every_10ms(struct probe *p)
{
	if (p->fired < 100)
		wheel_arm(&w, &p->t, p->t.expires_ns + 10 * MS);
}

Test(wheel, callback_rearming_itself_later_runs_again_at_the_new_time)
{
	struct probe p;
	uint64_t first = round_up(now) + 10 * MS;

	probe_init(&p);
	p.then = every_10ms;
	wheel_arm(&w, &p.t, first);
	while (wheel_next(&w) != UINT64_MAX) {
		unsigned int before = p.fired;

		advance_to(wheel_next(&w));
		if (p.fired != before)
			cr_assert_eq(p.fired_at, round_up(first + (uint64_t)before * 10 * MS),
				     "run %u at %llu", p.fired, (unsigned long long)p.fired_at);
	}
	cr_assert_eq(p.fired, 100);
}

static void again_now(struct probe *p)
{
	if (p->fired == 1)
		wheel_arm(&w, &p->t, now);
}

Test(wheel, callback_rearming_itself_for_now_runs_in_the_next_tick_not_this_call)
{
	struct probe p;
	uint64_t e = round_up(now) + 5 * TICK;

	probe_init(&p);
	p.then = again_now;
	wheel_arm(&w, &p.t, e);
	cr_assert_eq(advance_to(e), 1, "re-armed for now and ran again in the same call");
	cr_assert(wheel_timer_armed(&p.t));
	cr_assert_eq(wheel_next(&w), e + TICK);
	cr_assert_eq(advance_to(e + TICK - 1), 0);
	cr_assert_eq(advance_to(e + TICK), 1);
	cr_assert_eq(p.fired, 2);
}

static void arm_other_for_now(struct probe *p)
{
	if (!wheel_timer_armed(&p->other->t))
		wheel_arm(&w, &p->other->t, now);
}

Test(wheel, timer_armed_for_now_by_a_callback_waits_for_the_next_tick)
{
	struct probe a, b;
	uint64_t e = round_up(now) + 2 * TICK;

	probe_init(&a);
	probe_init(&b);
	a.then = arm_other_for_now;
	a.other = &b;
	wheel_arm(&w, &a.t, e);
	cr_assert_eq(advance_to(e), 1);
	cr_assert_eq(b.fired, 0);
	cr_assert_eq(advance_to(e + TICK), 1);
	cr_assert_eq(b.fired, 1);
}

static void cancel_other(struct probe *p)
{
	wheel_cancel(&w, &p->other->t);
}

Test(wheel, callback_cancelling_another_timer_due_in_the_same_tick_stops_it)
{
	struct probe a, b, c;
	uint64_t e = round_up(now) + 7 * TICK;

	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	/* Whichever of a and b runs first cancels the other. */
	a.then = cancel_other;
	a.other = &b;
	b.then = cancel_other;
	b.other = &a;
	wheel_arm(&w, &a.t, e);
	wheel_arm(&w, &c.t, e - 1);
	wheel_arm(&w, &b.t, e - 2);
	cr_assert_eq(advance_to(e), 2);
	cr_assert_eq(a.fired + b.fired, 1);
	cr_assert_eq(c.fired, 1);
	cr_assert_eq(wheel_next(&w), UINT64_MAX);
}

static void move_other_later(struct probe *p)
{
	wheel_arm(&w, &p->other->t, now + 1 * SEC);
}

Test(wheel, callback_moving_another_timer_out_of_the_same_tick_defers_it)
{
	struct probe a, b;
	uint64_t e = round_up(now) + 7 * TICK;

	probe_init(&a);
	probe_init(&b);
	a.then = move_other_later;
	a.other = &b;
	b.then = move_other_later;
	b.other = &a;
	wheel_arm(&w, &a.t, e);
	wheel_arm(&w, &b.t, e);
	cr_assert_eq(advance_to(e), 1);
	cr_assert_eq(advance_to(e + 1 * SEC - 1), 0);
	cr_assert_eq(advance_to(round_up(e + 1 * SEC)), 1);
	cr_assert_eq(a.fired + b.fired, 2);
}

/* Arms the same 120 timers over a few ticks and levels on a fresh wheel. */
static void arm_batch(struct probe *p, unsigned int n)
{
	start(T0);
	for (unsigned int i = 0; i < n; i++) {
		probe_init(&p[i]);
		wheel_arm(&w, &p[i].t, T0 + (i % 9) * TICK + (i % 4) * LEVEL_TICKS(i % 5) * TICK);
	}
}

Test(wheel, budget_stops_and_the_next_call_resumes_without_loss_or_reordering)
{
	static struct probe p[120];
	struct probe *want[120];
	uint64_t to = T0 + 2 * LEVEL_TICKS(4) * 4 * TICK;
	unsigned int ran, total = 0, calls = 0;

	/* The reference order: one unlimited call. */
	arm_batch(p, 120);
	cr_assert_eq(advance_to(to), 120);
	for (unsigned int i = 0; i < 120; i++)
		want[i] = order[i];

	arm_batch(p, 120);
	now = to;
	do {
		uint64_t n = wheel_next(&w);

		ran = wheel_advance(&w, now, &w, 7);
		total += ran;
		calls++;
		if (ran == 7 && total < 120)
			cr_assert_leq(wheel_next(&w), now, "timers left behind must be due now");
		cr_assert(ran == 0 || n <= now);
	} while (ran == 7);
	cr_assert_eq(total, 120);
	cr_assert_eq(calls, 120 / 7 + 1);
	for (unsigned int i = 0; i < 120; i++)
		cr_assert_eq(order[i], want[i], "position %u differs from an unlimited run", i);
	cr_assert_eq(wheel_next(&w), UINT64_MAX);
}

Test(wheel, budget_of_one_runs_one_timer_per_call_even_within_a_slot)
{
	struct probe p[5], late;

	for (unsigned int i = 0; i < 5; i++) {
		probe_init(&p[i]);
		wheel_arm(&w, &p[i].t, now + 1 * MS);
	}
	probe_init(&late);
	now += 1 * MS + TICK;
	for (unsigned int i = 0; i < 5; i++) {
		cr_assert_eq(wheel_advance(&w, now, &w, 1), 1);
		cr_assert_eq(norder, i + 1);
		if (i < 4)
			cr_assert_leq(wheel_next(&w), now, "leftovers are due now");
		/* Arming between the calls must not disturb the leftovers. */
		if (i == 2)
			wheel_arm(&w, &late.t, now + 2 * TICK);
	}
	cr_assert_eq(wheel_advance(&w, now, &w, 1), 0);
	cr_assert_eq(late.fired, 0);
	cr_assert_eq(advance_to(round_up(late.t.expires_ns)), 1);
}

Test(wheel, next_is_the_exact_expiry_for_level_zero_timers_and_never_later_above)
{
	cr_assert_eq(wheel_next(&w), UINT64_MAX, "empty wheel");
	for (size_t j = 0; j < ARRAY_SIZE(boundary_delays); j++) {
		uint64_t d = boundary_delays[j];
		uint64_t t0 = 15259 * TICK; /* on a tick */
		uint64_t e = t0 + d, n;
		struct probe p;

		start(t0);
		advance_to(t0);
		probe_init(&p);
		wheel_arm(&w, &p.t, e + 1); /* off a tick */
		n = wheel_next(&w);
		cr_assert_leq(n, round_up(e + 1), "delay %llu", (unsigned long long)d);
		if (d + 1 <= 63 * TICK)
			cr_assert_eq(n, round_up(e + 1), "delay %llu: level 0 must be exact",
				     (unsigned long long)d);

		/* On a tick, the next time is the expiry itself. */
		e = round_up(e) + TICK;
		start(t0);
		advance_to(t0);
		probe_init(&p);
		wheel_arm(&w, &p.t, e);
		n = wheel_next(&w);
		cr_assert_leq(n, e, "delay %llu", (unsigned long long)d);
		if (e - t0 <= 63 * TICK)
			cr_assert_eq(n, e, "delay %llu: level 0 must be exact",
				     (unsigned long long)d);
		/* Advancing to just before it is a no-op. */
		cr_assert_eq(advance_to(n - 1), 0);
		cr_assert_eq(wheel_next(&w), n);
	}
}

Test(wheel, next_is_the_earliest_of_several_timers)
{
	struct probe a, b, c;

	advance_to(round_up(now));
	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	wheel_arm(&w, &a.t, now + 1 * SEC);
	wheel_arm(&w, &b.t, now + 20 * TICK);
	wheel_arm(&w, &c.t, now + 1 * MIN);
	cr_assert_eq(wheel_next(&w), now + 20 * TICK);
	wheel_cancel(&w, &b.t);
	cr_assert_leq(wheel_next(&w), now + 1 * SEC);
	cr_assert_gt(wheel_next(&w), now);
	advance_to(now + 2 * SEC);
	cr_assert_eq(a.fired, 1);
	cr_assert_leq(wheel_next(&w), round_up(c.t.expires_ns));
	wheel_cancel(&w, &c.t);
	cr_assert_eq(wheel_next(&w), UINT64_MAX);
}

Test(wheel, clock_going_backwards_runs_nothing)
{
	struct probe p;

	probe_init(&p);
	wheel_arm(&w, &p.t, now + 1 * MS);
	advance_to(T0 + 10 * MS);
	cr_assert_eq(p.fired, 1);
	wheel_arm(&w, &p.t, now + 1 * MS);
	cr_assert_eq(advance_to(T0), 0);
	cr_assert_eq(advance_to(T0 + 11 * MS + TICK), 1);
}

Test(wheel, clock_going_backwards_after_a_budget_stop_runs_nothing)
{
	struct probe p[3];
	uint64_t e = round_up(now + 1 * MS);

	for (unsigned int i = 0; i < 3; i++) {
		probe_init(&p[i]);
		wheel_arm(&w, &p[i].t, e + i * TICK);
	}
	now = e + 1 * MS;
	cr_assert_eq(wheel_advance(&w, now, &w, 1), 1);
	now = e - 1;
	cr_assert_eq(wheel_advance(&w, now, &w, UINT_MAX), 0, "ran timers due after now");
	cr_assert_eq(advance_to(e + 2 * TICK), 2);
}

Test(wheel, timer_at_the_end_of_time_never_fires_and_never_wedges_the_wheel)
{
	struct probe p, q;

	probe_init(&p);
	probe_init(&q);
	wheel_arm(&w, &p.t, UINT64_MAX);
	wheel_arm(&w, &q.t, UINT64_MAX - 3 * SPAN_TICKS * TICK);
	cr_assert_lt(wheel_next(&w), UINT64_MAX, "parked timers still need their cascades");
	cr_assert_eq(advance_to(UINT64_MAX), 1);
	cr_assert_eq(q.fired, 1);
	cr_assert_eq(p.fired, 0);
	cr_assert_eq(wheel_next(&w), UINT64_MAX);
}

/*
 * The random workload: a model of which timers are armed and when they
 * expire, checked on every run and after every advance.
 */
#define RND_TIMERS 10000u

struct rnd_timer {
	struct wheel_timer t;
	bool armed; /* the model's view */
	uint64_t expires;
};

struct rnd_run {
	struct rnd_timer tm[RND_TIMERS];
	uint64_t rng;
	uint64_t now;
	uint64_t last_tick; /* tick of the previous run: never decreases */
	unsigned long armings, cancels, runs;
};

static uint64_t rnd(struct rnd_run *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dull;
}

/* A delay of 1 ns up to four times the top level's span, spread evenly
 * over the levels so that each one sees work. */
static uint64_t rnd_delay(struct rnd_run *r)
{
	unsigned int bits = (unsigned int)(rnd(r) % 54);

	return 1 + rnd(r) % (2ull << bits);
}

static void rnd_arm(struct rnd_run *r, struct rnd_timer *x, uint64_t expires)
{
	if (x->armed)
		r->cancels++; /* a move counts as a cancel and an arming */
	wheel_arm(&w, &x->t, expires);
	x->armed = true;
	x->expires = expires;
	r->armings++;
}

static void rnd_cancel(struct rnd_run *r, struct rnd_timer *x)
{
	if (x->armed)
		r->cancels++;
	wheel_cancel(&w, &x->t);
	x->armed = false;
}

/* One random operation on a random timer, always for a time after now. */
static void rnd_poke(struct rnd_run *r)
{
	struct rnd_timer *x = &r->tm[rnd(r) % RND_TIMERS];

	if (rnd(r) % 3 == 0)
		rnd_cancel(r, x);
	else
		rnd_arm(r, x, r->now + rnd_delay(r));
}

static void rnd_fire(void *ctx, struct wheel_timer *t)
{
	struct rnd_run *r = ctx;
	struct rnd_timer *x = container_of(t, struct rnd_timer, t);
	uint64_t tick = round_up(x->expires) >> WHEEL_TICK_SHIFT;

	cr_assert(x->armed, "timer %ld ran while cancelled or twice", (long)(x - r->tm));
	cr_assert_eq(t->expires_ns, x->expires);
	cr_assert_geq(r->now, x->expires, "ran early");
	cr_assert_geq(tick, r->last_tick, "ran out of order");
	r->last_tick = tick;
	x->armed = false;
	r->runs++;
	/* Callbacks arm, move and cancel timers too, themselves included. */
	if (rnd(r) % 4 == 0)
		rnd_poke(r);
	if (rnd(r) % 8 == 0)
		rnd_arm(r, x, r->now + rnd_delay(r));
}

static void rnd_check_after_advance(struct rnd_run *r)
{
	uint64_t earliest = UINT64_MAX;

	for (unsigned int i = 0; i < RND_TIMERS; i++) {
		struct rnd_timer *x = &r->tm[i];

		cr_assert_eq(wheel_timer_armed(&x->t), x->armed, "timer %u: armed state", i);
		if (!x->armed)
			continue;
		/* Not late: whatever is left was not due at this advance. */
		cr_assert_gt(round_up(x->expires), r->now, "timer %u is overdue", i);
		if (round_up(x->expires) < earliest)
			earliest = round_up(x->expires);
	}
	cr_assert_leq(wheel_next(&w), earliest, "wheel_next after the earliest expiry");
	cr_assert_gt(wheel_next(&w), r->now, "wheel_next in the past after a full advance");
}

Test(wheel, random_arms_moves_and_cancels_each_run_once_in_order_never_early_or_late)
{
	static struct rnd_run r;
	unsigned int steps = 0;

	r = (struct rnd_run){ .rng = 0x5eed0f7173e11ull, .now = T0 };
	start(T0);
	for (unsigned int i = 0; i < RND_TIMERS; i++) {
		wheel_timer_init(&r.tm[i].t, rnd_fire);
		rnd_arm(&r, &r.tm[i], r.now + rnd_delay(&r));
	}
	while (wheel_next(&w) != UINT64_MAX) {
		unsigned int ran, budget;

		for (unsigned int k = rnd(&r) % 8; k; k--)
			if (steps < 2000)
				rnd_poke(&r);
		/* Steps from 1 ns to about three days, or straight to what the
		 * wheel says is next. */
		if (rnd(&r) % 4 == 0 && wheel_next(&w) > r.now)
			r.now = wheel_next(&w);
		else
			r.now += 1 + rnd(&r) % (2ull << (rnd(&r) % 48));
		do {
			budget = 1 + (unsigned int)(rnd(&r) % 64);
			ran = wheel_advance(&w, r.now, &r, budget);
		} while (ran == budget);
		rnd_check_after_advance(&r);
		cr_assert_lt(++steps, 100000u, "the workload does not drain");
	}
	for (unsigned int i = 0; i < RND_TIMERS; i++)
		cr_assert_not(r.tm[i].armed, "timer %u never ran", i);
	cr_assert_eq(r.runs, r.armings - r.cancels, "runs %lu, armings %lu, cancels %lu", r.runs,
		     r.armings, r.cancels);
	cr_assert_gt(r.runs, RND_TIMERS);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(wheel, ten_idle_minutes_in_one_advance_cost_no_work_per_tick)
{
	/* 10 minutes is 9.2 million ticks; 1000 such advances walked tick by
	 * tick would take minutes. Skipping with the bitmaps, each advance
	 * only visits the few slots that hold (or cascade) a timer. */
	struct probe soon, mid, late, away;
	double t;

	probe_init(&soon);
	probe_init(&mid);
	probe_init(&late);
	probe_init(&away);
	t = cpu_seconds();
	for (unsigned int round = 0; round < 1000; round++) {
		wheel_arm(&w, &soon.t, now + 1 * MIN);
		wheel_arm(&w, &mid.t, now + 4 * MIN + 7 * MS);
		wheel_arm(&w, &late.t, now + 9 * MIN + 30 * SEC);
		wheel_arm(&w, &away.t, now + 25 * MIN); /* moved every round */
		cr_assert_eq(advance_to(now + 10 * MIN), 3, "round %u", round);
	}
	t = cpu_seconds() - t;
	cr_assert_eq(soon.fired + mid.fired + late.fired, 3000);
	cr_assert_eq(away.fired, 0);
	cr_assert_lt(t, 0.5, "1000 idle advances of 10 minutes took %.3f s", t);
}
