// SPDX-License-Identifier: MIT
/*
 * RFC 6528 ISNs, timestamp offsets and SYN cookies: what each value
 * depends on and what it must not depend on, the 64 ns ISN clock, cookie
 * MSS classes, ageing and tamper detection, and the options a cookie
 * SYN-ACK hides in its timestamp.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "proto/tcp_isn.h"

/* A small fixed-seed generator for the randomised checks (xorshift64*). */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

static struct tcp_secret sec;

static void setup(void)
{
	rnd_state = 0x6528c00c1e5eed01ull;
	sec.isn_key[0] = 0x0001020304050607ull;
	sec.isn_key[1] = 0x08090a0b0c0d0e0full;
	sec.ts_key[0] = 0x1011121314151617ull;
	sec.ts_key[1] = 0x18191a1b1c1d1e1full;
	sec.cookie_key[0][0] = 0x2021222324252627ull;
	sec.cookie_key[0][1] = 0x28292a2b2c2d2e2full;
	sec.cookie_key[1][0] = 0x3031323334353637ull;
	sec.cookie_key[1][1] = 0x38393a3b3c3d3e3full;
}

static void teardown(void)
{
}

TestSuite(tcp_isn, .init = setup, .fini = teardown, .timeout = 10);

/* Network-order addresses and ports, as the functions take them. */
static uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t v[4] = { a, b, c, d };
	uint32_t r;

	memcpy(&r, v, 4);
	return r;
}

static uint16_t port(uint16_t p)
{
	const uint8_t v[2] = { (uint8_t)(p >> 8), (uint8_t)p };
	uint16_t r;

	memcpy(&r, v, 2);
	return r;
}

#define US ip(10, 77, 0, 2)
#define PEER ip(10, 77, 0, 1)
#define SEC 1000000000ull
#define PERIOD (1ull << SYNCOOKIE_PERIOD_SHIFT)

/* --- ISN ----------------------------------------------------------------- */

Test(tcp_isn, same_inputs_give_the_same_isn)
{
	uint64_t now = 12345 * SEC;

	cr_assert_eq(tcp_isn(&sec, US, PEER, port(80), port(40000), now),
		     tcp_isn(&sec, US, PEER, port(80), port(40000), now));
}

Test(tcp_isn, isn_differs_per_tuple)
{
	uint64_t now = 777 * SEC;
	uint32_t base = tcp_isn(&sec, US, PEER, port(80), port(40000), now);

	cr_assert_neq(tcp_isn(&sec, ip(10, 77, 0, 3), PEER, port(80), port(40000), now), base);
	cr_assert_neq(tcp_isn(&sec, US, ip(10, 77, 0, 4), port(80), port(40000), now), base);
	cr_assert_neq(tcp_isn(&sec, US, PEER, port(81), port(40000), now), base);
	cr_assert_neq(tcp_isn(&sec, US, PEER, port(80), port(40001), now), base);
	/* The tuple is ordered: swapping the ends is another connection. */
	cr_assert_neq(tcp_isn(&sec, PEER, US, port(40000), port(80), now), base);
	cr_assert_neq(tcp_isn(&sec, US, PEER, port(40000), port(80), now), base);
}

Test(tcp_isn, isn_differs_per_key)
{
	uint64_t now = 777 * SEC;
	uint32_t base = tcp_isn(&sec, US, PEER, port(80), port(40000), now);
	struct tcp_secret other = sec;

	other.isn_key[0] ^= 1;
	cr_assert_neq(tcp_isn(&other, US, PEER, port(80), port(40000), now), base);
	other = sec;
	other.isn_key[1] ^= 1ull << 63;
	cr_assert_neq(tcp_isn(&other, US, PEER, port(80), port(40000), now), base);
	/* The other secrets are not the ISN's. */
	other = sec;
	other.ts_key[0] ^= 1;
	other.cookie_key[0][0] ^= 1;
	other.cookie_key[1][1] ^= 1;
	cr_assert_eq(tcp_isn(&other, US, PEER, port(80), port(40000), now), base);
}

Test(tcp_isn, isn_advances_one_per_64_ns)
{
	uint64_t t0 = 1000 * SEC; /* a multiple of 64 */
	uint32_t base = tcp_isn(&sec, US, PEER, port(80), port(40000), t0);

	cr_assert_eq(t0 % 64, 0);
	cr_assert_eq(tcp_isn(&sec, US, PEER, port(80), port(40000), t0 + 63), base);
	cr_assert_eq(tcp_isn(&sec, US, PEER, port(80), port(40000), t0 + 64), base + 1);
	cr_assert_eq(tcp_isn(&sec, US, PEER, port(80), port(40000), t0 + SEC),
		     base + (uint32_t)(SEC / 64));
	/* 2^32 ticks of 64 ns (about 275 s) bring it back round. */
	cr_assert_eq(tcp_isn(&sec, US, PEER, port(80), port(40000), t0 + (1ull << 38)), base);
	for (unsigned int i = 0; i < 1000; i++) {
		uint64_t d = rnd() % (100 * SEC);

		cr_assert_eq(tcp_isn(&sec, US, PEER, port(80), port(40000), t0 + d),
			     base + (uint32_t)(d >> 6));
	}
}

Test(tcp_isn, isns_of_many_tuples_are_spread)
{
	/* The keyed hash must reach the high bits: among 1000 tuples at one
	 * instant, every top nibble turns up. */
	unsigned int seen = 0;

	for (uint16_t p = 1024; p < 2024; p++)
		seen |= 1u << (tcp_isn(&sec, US, PEER, port(80), port(p), 0) >> 28);
	cr_assert_eq(seen, 0xffffu, "top nibbles seen: %04x", seen);
}

/* --- timestamp offset ---------------------------------------------------- */

Test(tcp_isn, ts_offset_is_stable_per_address_pair)
{
	uint32_t a = tcp_ts_offset(&sec, US, PEER);

	cr_assert_eq(tcp_ts_offset(&sec, US, PEER), a);
	cr_assert_neq(tcp_ts_offset(&sec, US, ip(10, 77, 0, 3)), a);
	cr_assert_neq(tcp_ts_offset(&sec, ip(10, 77, 0, 3), PEER), a);
	cr_assert_neq(tcp_ts_offset(&sec, PEER, US), a);
}

Test(tcp_isn, ts_offset_depends_on_its_own_key_only)
{
	uint32_t a = tcp_ts_offset(&sec, US, PEER);
	struct tcp_secret other = sec;

	other.ts_key[1] ^= 1;
	cr_assert_neq(tcp_ts_offset(&other, US, PEER), a);
	other = sec;
	other.isn_key[0] ^= 1;
	other.cookie_key[0][1] ^= 1;
	cr_assert_eq(tcp_ts_offset(&other, US, PEER), a);
}

/* --- SYN cookies ----------------------------------------------------------- */

Test(tcp_isn, syncookie_msstab_is_linux_table)
{
	cr_assert_eq(SYNCOOKIE_MSS_COUNT, 4);
	cr_assert_eq(syncookie_msstab[0], 536);
	cr_assert_eq(syncookie_msstab[1], 1300);
	cr_assert_eq(syncookie_msstab[2], 1440);
	cr_assert_eq(syncookie_msstab[3], 1460);
}

/* The cookie for the usual test SYN: the peer's 40000 to our 80, addresses
 * and ports as in the peer's segments. */
static uint32_t make(uint32_t peer_seq, uint16_t mss, uint64_t now, uint16_t *mss_out)
{
	return syncookie_make(&sec, PEER, US, port(40000), port(80), peer_seq, mss, now, mss_out);
}

static uint16_t check(uint32_t peer_seq, uint32_t cookie, uint64_t now)
{
	return syncookie_check(&sec, PEER, US, port(40000), port(80), peer_seq, cookie, now);
}

Test(tcp_isn, syncookie_round_trips_each_mss_class)
{
	static const struct {
		uint16_t peer, want;
	} cases[] = {
		{ 0, 536 },	{ 88, 536 },	{ 535, 536 },	{ 536, 536 },
		{ 537, 536 },	{ 1299, 536 },	{ 1300, 1300 }, { 1301, 1300 },
		{ 1439, 1300 }, { 1440, 1440 }, { 1452, 1440 }, { 1459, 1440 },
		{ 1460, 1460 }, { 1461, 1460 }, { 8960, 1460 }, { 65535, 1460 },
	};
	uint64_t now = 5000 * SEC + 17;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t mss = 0;
		uint32_t seq = (uint32_t)rnd();
		uint32_t c = make(seq, cases[i].peer, now, &mss);

		cr_assert_eq(mss, cases[i].want, "peer MSS %u: got class %u, want %u",
			     cases[i].peer, mss, cases[i].want);
		cr_assert_eq(check(seq, c, now), cases[i].want, "peer MSS %u", cases[i].peer);
	}
}

Test(tcp_isn, syncookie_is_valid_one_period_later_and_not_two)
{
	uint64_t start = 300 * PERIOD; /* first instant of a period */
	uint16_t mss;
	uint32_t c = make(0xfffffff0u, 1460, start, &mss);

	cr_assert_eq(check(0xfffffff0u, c, start), 1460);
	cr_assert_eq(check(0xfffffff0u, c, start + PERIOD), 1460, "one period later");
	cr_assert_eq(check(0xfffffff0u, c, start + 2 * PERIOD - 1), 1460, "end of the next period");
	cr_assert_eq(check(0xfffffff0u, c, start + 2 * PERIOD), 0, "two periods later");
	cr_assert_eq(check(0xfffffff0u, c, start + 3 * PERIOD), 0, "three periods later");
	cr_assert_eq(check(0xfffffff0u, c, start - 1), 0, "from the period before");

	/* Made at the last instant of a period: still one period of grace. */
	c = make(7, 1300, start + PERIOD - 1, &mss);
	cr_assert_eq(check(7, c, start + PERIOD), 1300);
	cr_assert_eq(check(7, c, start + 2 * PERIOD - 1), 1300);
	cr_assert_eq(check(7, c, start + 2 * PERIOD), 0);
}

Test(tcp_isn, syncookie_age_survives_the_8_bit_count_wrap)
{
	uint64_t last = 255 * PERIOD + 5; /* count 255; the cookie keeps 8 bits */
	uint16_t mss;
	uint32_t c = make(42, 1440, last, &mss);

	cr_assert_eq(check(42, c, last + PERIOD), 1440);
	cr_assert_eq(check(42, c, last + 2 * PERIOD), 0);
	/* 256 periods later the count field is the same again, but the hash
	 * of the full count is not. */
	cr_assert_eq(check(42, c, last + 256 * PERIOD), 0);
}

Test(tcp_isn, syncookie_rejected_for_another_tuple_or_peer_isn)
{
	uint64_t now = 1234 * SEC;

	for (int m = 0; m < SYNCOOKIE_MSS_COUNT; m++) {
		uint32_t seq = (uint32_t)rnd();
		uint16_t mss;
		uint32_t c = make(seq, syncookie_msstab[m], now, &mss);

		cr_assert_eq(check(seq, c, now), syncookie_msstab[m]);
		cr_assert_eq(syncookie_check(&sec, ip(10, 77, 0, 9), US, port(40000), port(80), seq,
					     c, now),
			     0, "saddr");
		cr_assert_eq(syncookie_check(&sec, PEER, ip(10, 77, 0, 9), port(40000), port(80),
					     seq, c, now),
			     0, "daddr");
		cr_assert_eq(syncookie_check(&sec, PEER, US, port(40001), port(80), seq, c, now), 0,
			     "sport");
		cr_assert_eq(syncookie_check(&sec, PEER, US, port(40000), port(8080), seq, c, now),
			     0, "dport");
		cr_assert_eq(syncookie_check(&sec, US, PEER, port(80), port(40000), seq, c, now), 0,
			     "reversed tuple");
		/* Small changes of the peer's ISN are caught without luck. */
		for (uint32_t d = 1; d <= 1000; d++) {
			cr_assert_eq(check(seq + d, c, now), 0, "class %d, ISN +%u", m, d);
			cr_assert_eq(check(seq - d, c, now), 0, "class %d, ISN -%u", m, d);
		}
	}
}

Test(tcp_isn, syncookie_rejected_after_any_single_bit_flip)
{
	for (unsigned int iter = 0; iter < 200; iter++) {
		uint64_t now = rnd() % (1ull << 50);
		uint32_t seq = (uint32_t)rnd();
		int m = (int)(iter % SYNCOOKIE_MSS_COUNT);
		uint16_t mss;
		uint32_t c = make(seq, syncookie_msstab[m], now, &mss);

		cr_assert_eq(check(seq, c, now), syncookie_msstab[m]);
		for (int bit = 0; bit < 32; bit++) {
			cr_assert_eq(check(seq, c ^ (1u << bit), now), 0,
				     "class %d: flipping bit %d accepted", m, bit);
			cr_assert_eq(check(seq, c ^ (1u << bit), now + PERIOD), 0,
				     "class %d, next period: flipping bit %d accepted", m, bit);
		}
	}
}

Test(tcp_isn, syncookie_random_guesses_fail)
{
	/* A forger has 4 good values in 2^24 for each of 2 periods: 100000
	 * guesses pass about 0.05 times. */
	uint64_t now = 99 * PERIOD;
	unsigned int passed = 0;

	for (unsigned int i = 0; i < 100000; i++)
		passed += check((uint32_t)rnd(), (uint32_t)rnd(), now) != 0;
	cr_assert_leq(passed, 2, "%u random cookies accepted", passed);
}

Test(tcp_isn, syncookie_differs_per_key)
{
	uint64_t now = 4321 * SEC;
	uint16_t mss;
	uint32_t c = make(1, 1460, now, &mss);
	struct tcp_secret saved = sec;

	for (int k = 0; k < 2; k++) {
		sec = saved;
		sec.cookie_key[k][k] ^= 0x100;
		cr_assert_neq(make(1, 1460, now, &mss), c, "cookie key %d not used", k);
		cr_assert_eq(check(1, c, now), 0, "accepted under another cookie key %d", k);
	}
	/* ... and only the cookie keys. */
	sec = saved;
	sec.isn_key[0] ^= 1;
	sec.ts_key[1] ^= 1;
	cr_assert_eq(make(1, 1460, now, &mss), c);
	cr_assert_eq(check(1, c, now), 1460);
}

Test(tcp_isn, syncookie_changes_with_the_peer_isn_and_the_period)
{
	uint64_t now = 10 * PERIOD;
	uint16_t mss;
	uint32_t c = make(1000, 1460, now, &mss);

	cr_assert_neq(make(1001, 1460, now, &mss), c);
	cr_assert_neq(make(1000, 1460, now + PERIOD, &mss), c);
	cr_assert_eq(make(1000, 1460, now + PERIOD - 1, &mss), c, "same period, same cookie");
}

/* --- SYN cookie timestamps ------------------------------------------------- */

static void ts_round_trip(uint32_t ts_now, int wscale, bool sack)
{
	uint32_t ts = syncookie_ts_encode(ts_now, wscale, sack);
	int ws_out = 99;
	bool sack_out = !sack;

	cr_assert_leq((int32_t)(ts - ts_now), 0, "now %08x: %08x is after it", ts_now, ts);
	cr_assert_lt(ts_now - ts, 64u, "now %08x: %08x is more than 63 behind", ts_now, ts);
	syncookie_ts_decode(ts, &ws_out, &sack_out);
	cr_assert_eq(ws_out, wscale, "now %08x, wscale %d: got %d", ts_now, wscale, ws_out);
	cr_assert_eq(sack_out, sack, "now %08x, wscale %d: sack lost", ts_now, wscale);
}

Test(tcp_isn, syncookie_timestamp_round_trips_every_option_set)
{
	static const uint32_t nows[] = { 0x12345678, 0x40, 0x7fffffff, 0x80000000, 0xfffffffe };

	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++)
		for (int ws = -1; ws <= 14; ws++) {
			ts_round_trip(nows[i], ws, false);
			ts_round_trip(nows[i], ws, true);
		}
	for (unsigned int i = 0; i < 5000; i++)
		ts_round_trip((uint32_t)rnd(), (int)(rnd() % 16) - 1, rnd() & 1);
}

Test(tcp_isn, syncookie_timestamp_never_after_now_across_wrap)
{
	/* Every position within a 64-tick block, just after the 32-bit clock
	 * wrapped and just before. */
	for (uint32_t low = 0; low < 64; low++)
		for (int ws = -1; ws <= 14; ws++) {
			ts_round_trip(low, ws, true);
			ts_round_trip(low, ws, false);
			ts_round_trip(0xffffffc0u + low, ws, true);
			ts_round_trip(0xffffffc0u + low, ws, false);
		}
	/* Concretely: at 5, "no window scale, SACK" (0x1f) goes back across
	 * zero. */
	cr_assert_eq(syncookie_ts_encode(5, -1, true), 0xffffffdfu);
	cr_assert_eq(syncookie_ts_encode(0x1f, -1, true), 0x1f, "equal to now is fine");
}

Test(tcp_isn, syncookie_timestamp_encoding_is_linux_bits)
{
	/* Low 4 bits window scale (0xf none), bit 4 SACK, bit 5 ECN clear. */
	cr_assert_eq(syncookie_ts_encode(0x1000, 7, false), 0x1000 - 64 + 7);
	cr_assert_eq(syncookie_ts_encode(0x103f, 7, true), 0x1000 + 0x10 + 7);
	cr_assert_eq(syncookie_ts_encode(0x103f, -1, false), 0x100f);
	cr_assert_eq(syncookie_ts_encode(0x103f, 0, false), 0x1000);
}

Test(tcp_isn, syncookie_timestamp_clamps_wscale_and_ignores_ecn_bit)
{
	int ws;
	bool sack;

	syncookie_ts_decode(syncookie_ts_encode(0xabcdef00, 15, false), &ws, &sack);
	cr_assert_eq(ws, 14, "a shift above 14 is sent as 14, not as 'none'");
	syncookie_ts_decode(0x1000 | 0x20 | 0x10 | 3, &ws, &sack);
	cr_assert_eq(ws, 3);
	cr_assert(sack);
	syncookie_ts_decode(0x1000 | 0x20 | 0xf, &ws, &sack);
	cr_assert_eq(ws, -1);
	cr_assert(!sack);
}
