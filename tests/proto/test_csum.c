// SPDX-License-Identifier: MIT
/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624), checked
 * against the RFC's worked example and against the harness's own
 * straightforward implementation. Checksums are compared as the bytes they
 * put on the wire, so the tests mean the same on any host byte order.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "proto/csum.h"

/* A small fixed-seed generator for the randomised checks (xorshift64*). */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

static void setup(void)
{
	rnd_state = 0x1071162400000001ull;
}

static void teardown(void)
{
}

TestSuite(csum, .init = setup, .fini = teardown, .timeout = 10);

/* The checksum proto would store, as its two wire bytes. */
static unsigned int wire(uint16_t stored)
{
	uint8_t b[2];

	memcpy(b, &stored, 2);
	return (unsigned int)b[0] << 8 | b[1];
}

Test(csum, rfc1071_example_sums_to_ddf2)
{
	/* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, which
	 * folds to ddf2; the checksum is its complement, 220d. */
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(wire(csum_ip(b, 8)), 0x220d);
	cr_assert_eq(wire((uint16_t)~csum_fold(csum_partial(b, 8, 0))), 0xddf2);
	cr_assert_eq(h_csum(b, 8), 0x220d, "the harness's own checksum disagrees with RFC 1071");
}

Test(csum, buffer_with_its_checksum_verifies_to_zero)
{
	uint8_t b[20] = { 0x45, 0x00, 0x00, 0x54, 0xa6, 0xf2, 0x40, 0x00, 0x40, 0x01,
			  0x00, 0x00, 0x0a, 0x4d, 0x00, 0x01, 0x0a, 0x4d, 0x00, 0x02 };
	uint16_t c = csum_ip(b, 20);

	memcpy(b + 10, &c, 2);
	cr_assert_eq(csum_ip(b, 20), 0);
	cr_assert_eq(h_csum(b, 20), 0);
	b[0] ^= 1;
	cr_assert_neq(csum_ip(b, 20), 0, "a corrupted header still verifies");
}

Test(csum, empty_and_all_zero_buffers_give_ffff)
{
	static const uint8_t z[7];

	cr_assert_eq(wire(csum_ip(z, 0)), 0xffff);
	cr_assert_eq(wire(csum_ip(z, 7)), 0xffff);
}

Test(csum, odd_length_pads_the_last_byte_with_zero)
{
	static const uint8_t one[1] = { 0x01 };
	static const uint8_t three[3] = { 0x12, 0x34, 0x56 };

	/* 0100 -> feff; 1234 + 5600 = 6834 -> 97cb */
	cr_assert_eq(wire(csum_ip(one, 1)), 0xfeff);
	cr_assert_eq(wire(csum_ip(three, 3)), 0x97cb);
}

Test(csum, every_length_and_alignment_matches_a_plain_implementation)
{
	static uint8_t buf[1600 + 8];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (unsigned int off = 0; off < 8; off++)
		for (unsigned int len = 0; len <= 1600; len += (len < 80 ? 1 : 37))
			cr_assert_eq(wire(csum_ip(buf + off, len)), h_csum(buf + off, len),
				     "offset %u length %u", off, len);
}

Test(csum, carries_fold_for_large_all_ones_buffers)
{
	static uint8_t ff[65535];

	memset(ff, 0xff, sizeof(ff));
	cr_assert_eq(wire(csum_ip(ff, sizeof(ff))), h_csum(ff, sizeof(ff)));
	cr_assert_eq(wire(csum_ip(ff, 65534)), 0x0000);
	/* A large incoming partial sum must not overflow either: 0xffffffff
	 * is 0xffff * 0x10001, a one's complement zero. */
	cr_assert_eq(wire(csum_fold(csum_partial(ff, 64, 0xffffffffu))), h_csum(ff, 64));
	cr_assert_eq(wire(csum_fold(csum_partial(ff, 63, 0xfffffffeu))),
		     wire(csum_fold(csum_partial(ff, 63, 0xfffeu))));
}

Test(csum, partial_sums_chain_over_even_chunks)
{
	static uint8_t buf[999];
	uint32_t s;

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	s = csum_partial(buf, 100, 0);
	s = csum_partial(buf + 100, 500, s);
	s = csum_partial(buf + 600, 399, s);
	cr_assert_eq(wire(csum_fold(s)), h_csum(buf, sizeof(buf)));
}

Test(csum, replace2_equals_full_recomputation)
{
	static uint8_t buf[64];

	for (unsigned int iter = 0; iter < 20000; iter++) {
		unsigned int len = 2 + 2 * (unsigned int)(rnd() % 31);
		unsigned int w = 2 * (unsigned int)(rnd() % (len / 2));
		uint16_t check, from, to;

		for (unsigned int i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		/* Now and then the edge values of one's complement words. */
		switch (iter % 8) {
		case 0:
			memset(buf + w, 0xff, 2);
			break;
		case 1:
			memset(buf + w, 0x00, 2);
			break;
		default:
			break;
		}
		check = csum_ip(buf, len);
		memcpy(&from, buf + w, 2);
		to = (uint16_t)rnd();
		if (iter % 8 == 2)
			to = 0xffff;
		else if (iter % 8 == 3)
			to = 0;
		memcpy(buf + w, &to, 2);
		/* All-zero data is the one case RFC 1624 §3 leaves ambiguous. */
		if (h_csum(buf, len) == 0xffff)
			continue;
		cr_assert_eq(wire(csum_replace2(check, from, to)), h_csum(buf, len),
			     "iteration %u: length %u, word at %u", iter, len, w);
	}
}

Test(csum, replace2_reproduces_the_echo_reply_update)
{
	/* An echo request header, type 8, rewritten in place to type 0. */
	uint8_t icmp[12] = { 8, 0, 0, 0, 0x42, 0x42, 0, 1, 'p', 'i', 'n', 'g' };
	uint16_t c = csum_ip(icmp, sizeof(icmp)), from, to = 0;

	memcpy(icmp + 2, &c, 2);
	memcpy(&from, icmp, 2);
	icmp[0] = 0;
	c = csum_replace2(c, from, to);
	memcpy(icmp + 2, &c, 2);
	cr_assert_eq(h_csum(icmp, sizeof(icmp)), 0);
}
