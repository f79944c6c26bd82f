// SPDX-License-Identifier: MIT
/*
 * TCP options and checksum on the wire: parsing against Linux
 * tcp_parse_options() rules (SYN-only options, clamping, malformed lengths,
 * padding, unknown kinds, SACK blocks), building byte for byte against the
 * layout of Linux tcp_options_write(), build/parse round trips, and the
 * checksum against a plain RFC 1071 loop written here, not proto's csum.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "proto/tcp_wire.h"

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
	rnd_state = 0x7cb0a7c0ffee0001ull;
}

static void teardown(void)
{
}

TestSuite(tcp_wire, .init = setup, .fini = teardown, .timeout = 10);

/* What a Linux SYN carries by default: MSS 1460, SACK_PERM fused with TS,
 * NOP + window scale 7 (tcp_options_write). */
static const uint8_t linux_syn[20] = {
	0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
	0x04, 0x02, 0x08, 0x0a, /* SACK_PERM, TS kind/len */
	0x11, 0x22, 0x33, 0x44, /* TSval */
	0x00, 0x00, 0x00, 0x00, /* TSecr */
	0x01, 0x03, 0x03, 0x07, /* NOP, WS 7 */
};

static struct tcp_opts parse_ok(const uint8_t *b, size_t len, bool syn)
{
	struct tcp_opts o;

	cr_assert_eq(tcp_opts_parse(b, len, syn, &o), 0, "parse failed");
	return o;
}

/* --- parsing ------------------------------------------------------------ */

Test(tcp_wire, parse_reads_every_option_of_a_linux_syn)
{
	struct tcp_opts o = parse_ok(linux_syn, sizeof(linux_syn), true);

	cr_assert(o.saw_mss);
	cr_assert_eq(o.mss, 1460);
	cr_assert(o.sack_ok);
	cr_assert(o.saw_tstamp);
	cr_assert_eq(o.tsval, 0x11223344u);
	cr_assert_eq(o.tsecr, 0);
	cr_assert(o.saw_wscale);
	cr_assert_eq(o.wscale, 7);
	cr_assert_eq(o.num_sacks, 0);
}

Test(tcp_wire, parse_ignores_syn_only_options_without_syn)
{
	struct tcp_opts o = parse_ok(linux_syn, sizeof(linux_syn), false);

	cr_assert(!o.saw_mss, "MSS taken from a non-SYN segment");
	cr_assert_eq(o.mss, 0);
	cr_assert(!o.sack_ok, "SACK-permitted taken from a non-SYN segment");
	cr_assert(!o.saw_wscale, "window scale taken from a non-SYN segment");
	cr_assert_eq(o.wscale, 0);
	cr_assert(o.saw_tstamp, "timestamps count on every segment");
	cr_assert_eq(o.tsval, 0x11223344u);
}

Test(tcp_wire, parse_clamps_window_scale_above_14_to_14)
{
	static const uint8_t shifts[] = { 14, 15, 16, 100, 255 };

	for (size_t i = 0; i < sizeof(shifts); i++) {
		uint8_t b[4] = { 0x01, 0x03, 0x03, shifts[i] };
		struct tcp_opts o = parse_ok(b, sizeof(b), true);

		cr_assert(o.saw_wscale);
		cr_assert_eq(o.wscale, 14, "shift %u: got %u, want 14", shifts[i], o.wscale);
	}
	for (uint8_t s = 0; s <= 14; s++) {
		uint8_t b[4] = { 0x01, 0x03, 0x03, s };

		cr_assert_eq(parse_ok(b, sizeof(b), true).wscale, s);
	}
}

Test(tcp_wire, parse_ignores_an_mss_of_zero)
{
	static const uint8_t b[] = { 0x02, 0x04, 0x00, 0x00, 0x01, 0x03, 0x03, 0x02 };
	struct tcp_opts o = parse_ok(b, sizeof(b), true);

	cr_assert(!o.saw_mss, "an MSS of 0 must be ignored, as Linux does");
	cr_assert(o.saw_wscale, "parsing must go on after it");
}

Test(tcp_wire, parse_ignores_known_options_of_the_wrong_length)
{
	static const uint8_t b[] = {
		0x02, 0x05, 0x05, 0xb4, 0x00, /* MSS, length 5 */
		0x03, 0x04, 0x07, 0x00, /* WS, length 4 */
		0x04, 0x03, 0x00, /* SACK_PERM, length 3 */
		0x08, 0x0b, 0x01, 0x02, 0x03, 0x04, 0x05, /* TS, length 11 ... */
		0x06, 0x07, 0x08, 0x09, /* ... and the rest of it */
		0x02, 0x03, 0x05, /* MSS, length 3 */
		0x08, 0x0a, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08, /* TS, correct */
	};
	struct tcp_opts o = parse_ok(b, sizeof(b), true);

	cr_assert(!o.saw_mss);
	cr_assert(!o.saw_wscale);
	cr_assert(!o.sack_ok);
	cr_assert(o.saw_tstamp, "a well-formed option after bad ones is still read");
	cr_assert_eq(o.tsval, 9);
	cr_assert_eq(o.tsecr, 8);
}

Test(tcp_wire, parse_truncated_option_returns_einval_and_keeps_earlier_options)
{
	/* MSS, then a timestamp whose length (10) runs past the 12 bytes. */
	static const uint8_t b[] = {
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
		0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, /* TS, 4 bytes short */
	};
	struct tcp_opts o;

	cr_assert_eq(tcp_opts_parse(b, sizeof(b), true, &o), -EINVAL);
	cr_assert(o.saw_mss, "the MSS before the bad option is kept");
	cr_assert_eq(o.mss, 1460);
	cr_assert(!o.saw_tstamp, "a partial option is not parsed");
}

Test(tcp_wire, parse_kind_without_room_for_its_length_returns_einval)
{
	static const uint8_t b[] = {
		0x01, 0x03, 0x03, 0x05, /* NOP, WS 5 */
		0x08, /* TS kind, no length */
	};
	struct tcp_opts o;

	cr_assert_eq(tcp_opts_parse(b, sizeof(b), true, &o), -EINVAL);
	cr_assert(o.saw_wscale);
	cr_assert_eq(o.wscale, 5);
}

Test(tcp_wire, parse_overlong_unknown_option_returns_einval)
{
	/* An unknown kind claiming 40 bytes in a 12-byte option area. */
	static const uint8_t b[] = {
		0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* TS */
		0xfd, 0x28, 0x00, 0x00, /* kind 253, length 40 */
	};
	struct tcp_opts o;

	cr_assert_eq(tcp_opts_parse(b, sizeof(b), false, &o), -EINVAL);
	cr_assert(o.saw_tstamp);
	cr_assert_eq(o.tsval, 1);
	cr_assert_eq(o.tsecr, 2);
}

Test(tcp_wire, parse_length_below_two_stops_parsing_with_einval)
{
	for (uint8_t bad = 0; bad < 2; bad++) {
		/* MSS, a "silly option" of length 0 or 1, then a timestamp
		 * that the silly length would otherwise let us reach. */
		const uint8_t b[] = {
			0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
			0xfe, bad, /* kind 254, length 0 or 1 */
			0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* TS */
		};
		struct tcp_opts o;

		cr_assert_eq(tcp_opts_parse(b, sizeof(b), true, &o), -EINVAL, "length %u", bad);
		cr_assert(o.saw_mss);
		cr_assert(!o.saw_tstamp, "length %u: parsing must stop", bad);
	}
}

Test(tcp_wire, parse_zero_length_known_option_stops_parsing)
{
	static const uint8_t b[] = {
		0x08, 0x00, /* TS, length 0 */
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
	};
	struct tcp_opts o;

	cr_assert_eq(tcp_opts_parse(b, sizeof(b), true, &o), -EINVAL);
	cr_assert(!o.saw_tstamp);
	cr_assert(!o.saw_mss);
}

Test(tcp_wire, parse_skips_nop_padding_anywhere)
{
	static const uint8_t b[] = {
		0x01, 0x01, 0x01, 0x02, 0x04, 0x02, 0x18, /* NOP x3, MSS 536 */
		0x01, 0x04, 0x02, /* NOP, SACK_PERM */
		0x01, 0x01, 0x01, 0x01, 0x01, 0x03, 0x03, 0x00, /* NOP x5, WS 0 */
		0x01, 0x01, 0x01, 0x01, /* NOP x4 */
	};
	struct tcp_opts o = parse_ok(b, sizeof(b), true);

	cr_assert(o.saw_mss);
	cr_assert_eq(o.mss, 536);
	cr_assert(o.sack_ok);
	cr_assert(o.saw_wscale);
	cr_assert_eq(o.wscale, 0);
}

Test(tcp_wire, parse_stops_at_eol_and_ignores_what_follows)
{
	/* After EOL: a timestamp, then a byte that would be a truncated
	 * option; neither may be looked at. */
	static const uint8_t b[] = {
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
		0x00, /* EOL */
		0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* TS */
		0x02, /* a kind with no length */
	};
	struct tcp_opts o = parse_ok(b, sizeof(b), true);

	cr_assert(o.saw_mss);
	cr_assert(!o.saw_tstamp, "options after EOL must not be parsed");
}

Test(tcp_wire, parse_skips_unknown_options_by_length)
{
	static const uint8_t b[] = {
		0x1e, 0x0c, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, /* MPTCP */
		0xfe, 0x04, 0xf9, 0x89, /* experimental (254) */
		0x22, 0x02, /* TFO cookie request (34) */
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
		0x13, 0x03, 0x08, /* unknown 19, odd length */
		0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x07, /* TS */
	};
	struct tcp_opts o = parse_ok(b, sizeof(b), true);

	cr_assert(o.saw_mss);
	cr_assert_eq(o.mss, 1460);
	cr_assert(o.saw_tstamp);
	cr_assert_eq(o.tsval, 0xdeadbeefu);
	cr_assert_eq(o.tsecr, 7);
	cr_assert(!o.saw_wscale);
	cr_assert(!o.sack_ok);
}

Test(tcp_wire, parse_reads_one_to_four_sack_blocks)
{
	for (unsigned int n = 1; n <= 4; n++) {
		uint8_t b[40];
		size_t len = 0;
		struct tcp_opts o;

		b[len++] = TCPOPT_NOP;
		b[len++] = TCPOPT_NOP;
		b[len++] = TCPOPT_SACK;
		b[len++] = (uint8_t)(2 + 8 * n);
		for (unsigned int i = 0; i < n; i++) {
			put_be32(b + len, 0x10000000u * (i + 1));
			put_be32(b + len + 4, 0x10000000u * (i + 1) + 1000);
			len += 8;
		}
		o = parse_ok(b, len, false);
		cr_assert_eq(o.num_sacks, n);
		for (unsigned int i = 0; i < n; i++) {
			uint32_t start = 0x10000000u * (i + 1);

			cr_assert_eq(o.sacks[i].start_seq, start, "%u blocks: block %u", n, i);
			cr_assert_eq(o.sacks[i].end_seq, start + 1000, "%u blocks: block %u", n, i);
		}
	}
}

Test(tcp_wire, parse_sack_blocks_alongside_timestamps)
{
	static const uint8_t b[] = {
		0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06, /* TS */
		0x01, 0x01, 0x05, 0x1a, /* NOP NOP SACK, 3 blocks */
		0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x14, /* 10-20 */
		0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x28, /* 30-40 */
		0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10, /* across the wrap */
	};
	struct tcp_opts o = parse_ok(b, sizeof(b), false);

	cr_assert(o.saw_tstamp);
	cr_assert_eq(o.num_sacks, 3);
	cr_assert_eq(o.sacks[0].start_seq, 10);
	cr_assert_eq(o.sacks[1].end_seq, 40);
	cr_assert_eq(o.sacks[2].start_seq, 0xfffffff0u);
	cr_assert_eq(o.sacks[2].end_seq, 0x10);
}

Test(tcp_wire, parse_ignores_sack_option_of_bad_length)
{
	/* Lengths that are not 2 + 8n for n in 1..4; each is followed by a
	 * timestamp to show parsing went on. */
	static const uint8_t lens[] = { 2, 3, 9, 11, 17, 25, 33, 37 };

	for (size_t k = 0; k < sizeof(lens); k++) {
		uint8_t b[60] = { 0 };
		size_t len = 0;
		struct tcp_opts o;

		b[len++] = TCPOPT_SACK;
		b[len++] = lens[k];
		len += lens[k] - 2u;
		b[len++] = TCPOPT_TIMESTAMP;
		b[len++] = TCPOLEN_TIMESTAMP;
		put_be32(b + len, 77);
		len += 8;
		o = parse_ok(b, len, false);
		cr_assert_eq(o.num_sacks, 0, "length %u accepted", lens[k]);
		cr_assert(o.saw_tstamp, "length %u: parsing stopped", lens[k]);
		cr_assert_eq(o.tsval, 77);
	}
}

Test(tcp_wire, parse_ignores_sack_blocks_on_syn)
{
	static const uint8_t b[] = {
		0x01, 0x01, 0x05, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* SACK */
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
	};
	struct tcp_opts o = parse_ok(b, sizeof(b), true);

	cr_assert_eq(o.num_sacks, 0);
	cr_assert(o.saw_mss);
}

Test(tcp_wire, parse_clears_output_first)
{
	struct tcp_opts o;

	memset(&o, 0xa5, sizeof(o));
	cr_assert_eq(tcp_opts_parse(NULL, 0, true, &o), 0);
	cr_assert(!o.saw_mss && !o.saw_wscale && !o.sack_ok && !o.saw_tstamp);
	cr_assert_eq(o.num_sacks, 0);
	cr_assert_eq(o.mss, 0);
	cr_assert_eq(o.tsval, 0);
}

/* --- building ----------------------------------------------------------- */

/* Build into a canary-filled buffer; check length, tcp_opts_len(), the
 * bytes, and that nothing past the options was touched. */
static void build_expect(const struct tcp_opts_tx *o, const uint8_t *want, size_t want_len)
{
	uint8_t buf[64];
	size_t n;

	memset(buf, 0xcc, sizeof(buf));
	n = tcp_opts_build(buf, o);
	cr_assert_eq(n, want_len, "built %zu bytes, want %zu", n, want_len);
	cr_assert_eq(tcp_opts_len(o), want_len, "tcp_opts_len disagrees with the build");
	for (size_t i = 0; i < want_len; i++)
		cr_assert_eq(buf[i], want[i], "byte %zu: got %02x, want %02x", i, buf[i], want[i]);
	for (size_t i = want_len; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0xcc, "byte %zu past the options was written", i);
}

Test(tcp_wire, build_linux_syn_byte_exact)
{
	struct tcp_opts_tx o = {
		.mss = 1460,
		.wscale = 7,
		.sack_ok = true,
		.tstamp = true,
		.tsval = 0x11223344,
	};

	build_expect(&o, linux_syn, sizeof(linux_syn));
}

Test(tcp_wire, build_synack_without_timestamps_byte_exact)
{
	/* Linux SYN-ACK to a peer without timestamps: MSS, NOP NOP
	 * SACK_PERM, NOP WS. */
	static const uint8_t want[] = {
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
		0x01, 0x01, 0x04, 0x02, /* NOP NOP SACK_PERM */
		0x01, 0x03, 0x03, 0x07, /* NOP WS 7 */
	};
	struct tcp_opts_tx o = { .mss = 1460, .wscale = 7, .sack_ok = true };

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_syn_with_timestamps_but_no_sack_byte_exact)
{
	static const uint8_t want[] = {
		0x02, 0x04, 0x23, 0x8c, /* MSS 9100 */
		0x01, 0x01, 0x08, 0x0a, /* NOP NOP TS */
		0xaa, 0xbb, 0xcc, 0xdd, /* TSval */
		0x01, 0x02, 0x03, 0x04, /* TSecr */
		0x01, 0x03, 0x03, 0x0e, /* NOP WS 14 */
	};
	struct tcp_opts_tx o = {
		.mss = 9100, .wscale = 14, .tstamp = true, .tsval = 0xaabbccdd, .tsecr = 0x01020304
	};

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_syn_without_window_scale_byte_exact)
{
	static const uint8_t want[] = {
		0x02, 0x04, 0x02, 0x18, /* MSS 536 */
		0x04, 0x02, 0x08, 0x0a, /* SACK_PERM TS */
		0x00, 0x00, 0x00, 0x01, /* TSval */
		0x00, 0x00, 0x00, 0x00, /* TSecr */
	};
	struct tcp_opts_tx o = {
		.mss = 536, .wscale = -1, .sack_ok = true, .tstamp = true, .tsval = 1
	};

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_window_scale_zero_is_sent)
{
	static const uint8_t want[] = {
		0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
		0x01, 0x03, 0x03, 0x00, /* NOP WS 0 */
	};
	struct tcp_opts_tx o = { .mss = 1460, .wscale = 0 };

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_mss_only_byte_exact)
{
	static const uint8_t want[] = { 0x02, 0x04, 0x05, 0xb4 };
	struct tcp_opts_tx o = { .mss = 1460, .wscale = -1 };

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_nothing_is_zero_bytes)
{
	struct tcp_opts_tx o = { .wscale = -1 };

	build_expect(&o, NULL, 0);
}

Test(tcp_wire, build_established_ack_with_timestamps_byte_exact)
{
	static const uint8_t want[] = {
		0x01, 0x01, 0x08, 0x0a, /* NOP NOP TS */
		0x80, 0x00, 0x00, 0x01, /* TSval */
		0x7f, 0xff, 0xff, 0xfe, /* TSecr */
	};
	struct tcp_opts_tx o = {
		.wscale = -1, .tstamp = true, .tsval = 0x80000001, .tsecr = 0x7ffffffe
	};

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_sack_blocks_after_timestamps_byte_exact)
{
	static const uint8_t want[] = {
		0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06, /* TS */
		0x01, 0x01, 0x05, 0x12, /* NOP NOP SACK, 2 blocks */
		0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, /* 1000-2000 */
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x10, /* across the wrap */
	};
	struct tcp_opts_tx o = { .wscale = -1,
				 .tstamp = true,
				 .tsval = 5,
				 .tsecr = 6,
				 .num_sacks = 2,
				 .sacks = { { 1000, 2000 }, { 0xffffffff, 0x10 } } };

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_sack_blocks_without_timestamps_byte_exact)
{
	static const uint8_t want[] = {
		0x01, 0x01, 0x05, 0x22, /* NOP NOP SACK, 4 blocks */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* 1-2 */
		0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, /* 3-4 */
		0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06, /* 5-6 */
		0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, /* 7-8 */
	};
	struct tcp_opts_tx o = { .wscale = -1,
				 .num_sacks = 4,
				 .sacks = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } } };

	build_expect(&o, want, sizeof(want));
}

Test(tcp_wire, build_limits_sack_blocks_to_what_fits)
{
	struct tcp_opts_tx o = { .wscale = -1,
				 .sacks = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } } };
	uint8_t buf[64];

	for (unsigned int n = 0; n <= 255; n++) {
		unsigned int want_ts = n < 3 ? n : 3, want_nots = n < 4 ? n : 4;
		struct tcp_opts parsed;

		o.num_sacks = (uint8_t)n;
		o.tstamp = true;
		cr_assert_eq(tcp_opts_len(&o), 12 + (want_ts ? 4 + 8 * want_ts : 0), "%u blocks",
			     n);
		cr_assert_eq(tcp_opts_build(buf, &o), tcp_opts_len(&o));
		cr_assert_eq(tcp_opts_parse(buf, tcp_opts_len(&o), false, &parsed), 0);
		cr_assert_eq(parsed.num_sacks, want_ts, "%u blocks with timestamps", n);

		o.tstamp = false;
		cr_assert_eq(tcp_opts_len(&o), want_nots ? 4 + 8 * want_nots : 0, "%u blocks", n);
		cr_assert_eq(tcp_opts_build(buf, &o), tcp_opts_len(&o));
		cr_assert_eq(tcp_opts_parse(buf, tcp_opts_len(&o), false, &parsed), 0);
		cr_assert_eq(parsed.num_sacks, want_nots, "%u blocks without timestamps", n);
	}
}

Test(tcp_wire, build_never_exceeds_forty_bytes)
{
	/* Every combination, with as many SACK blocks as asked for. */
	for (unsigned int m = 0; m < 32; m++) {
		struct tcp_opts_tx o = {
			.mss = (m & 1) ? 1460 : 0,
			.wscale = (m & 2) ? 14 : -1,
			.sack_ok = m & 4,
			.tstamp = m & 8,
			.num_sacks = (m & 16) ? 4 : 0,
		};
		uint8_t buf[64];
		size_t n = tcp_opts_build(buf, &o);

		cr_assert_leq(n, TCP_MAX_OPT_LEN, "mask %u: %zu bytes", m, n);
		cr_assert_eq(n % 4, 0, "mask %u: %zu bytes", m, n);
		cr_assert_eq(n, tcp_opts_len(&o));
	}
}

/* A random option set, shaped like what a SYN or a later segment carries. */
static struct tcp_opts_tx random_opts(bool syn)
{
	struct tcp_opts_tx o = { .wscale = -1 };

	if (syn) {
		if (rnd() & 1)
			o.mss = (uint16_t)(1 + rnd() % 65535);
		if (rnd() & 1)
			o.wscale = (int8_t)(rnd() % 15);
		o.sack_ok = rnd() & 1;
	} else {
		o.num_sacks = (uint8_t)(rnd() % 6);
		for (unsigned int i = 0; i < TCP_NUM_SACKS; i++) {
			o.sacks[i].start_seq = (uint32_t)rnd();
			o.sacks[i].end_seq = (uint32_t)rnd();
		}
	}
	o.tstamp = rnd() & 1;
	if (o.tstamp) {
		o.tsval = (uint32_t)rnd();
		o.tsecr = (uint32_t)rnd();
	}
	return o;
}

Test(tcp_wire, build_then_parse_round_trips_random_option_sets)
{
	for (unsigned int iter = 0; iter < 20000; iter++) {
		bool syn = iter & 1;
		struct tcp_opts_tx tx = random_opts(syn);
		unsigned int fit = tx.tstamp ? 3 : 4;
		unsigned int want_sacks = tx.num_sacks < fit ? tx.num_sacks : fit;
		uint8_t buf[TCP_MAX_OPT_LEN];
		struct tcp_opts rx;
		size_t n = tcp_opts_build(buf, &tx);

		cr_assert_eq(tcp_opts_parse(buf, n, syn, &rx), 0, "iteration %u", iter);
		cr_assert_eq(rx.saw_mss, tx.mss != 0, "iteration %u", iter);
		cr_assert_eq(rx.mss, tx.mss, "iteration %u", iter);
		cr_assert_eq(rx.saw_wscale, tx.wscale >= 0, "iteration %u", iter);
		if (tx.wscale >= 0)
			cr_assert_eq(rx.wscale, tx.wscale, "iteration %u", iter);
		cr_assert_eq(rx.sack_ok, tx.sack_ok, "iteration %u", iter);
		cr_assert_eq(rx.saw_tstamp, tx.tstamp, "iteration %u", iter);
		cr_assert_eq(rx.tsval, tx.tsval, "iteration %u", iter);
		cr_assert_eq(rx.tsecr, tx.tsecr, "iteration %u", iter);
		cr_assert_eq(rx.num_sacks, want_sacks, "iteration %u", iter);
		for (unsigned int i = 0; i < want_sacks; i++) {
			cr_assert_eq(rx.sacks[i].start_seq, tx.sacks[i].start_seq);
			cr_assert_eq(rx.sacks[i].end_seq, tx.sacks[i].end_seq);
		}
	}
}

/* --- checksum ----------------------------------------------------------- */

/* RFC 1071 §1, the plain way: big-endian 16-bit words of the pseudo-header
 * (RFC 9293 §3.1) and the segment, odd byte padded, carries folded in. The
 * result is the check field as a host-order number. */
static uint16_t ref_sum(const uint8_t *b, size_t len, uint64_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint64_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t ref_tcp_csum(const uint8_t src[4], const uint8_t dst[4], const uint8_t *seg,
			     size_t len)
{
	uint8_t ph[12] = { src[0],
			   src[1],
			   src[2],
			   src[3],
			   dst[0],
			   dst[1],
			   dst[2],
			   dst[3],
			   0,
			   6,
			   (uint8_t)(len >> 8),
			   (uint8_t)len };

	return (uint16_t)~ref_sum(seg, len, ref_sum(ph, sizeof(ph), 0));
}

/* A check field value as proto returns it (memory order) read as the
 * number its two wire bytes make. */
static uint16_t wire16(uint16_t stored)
{
	uint8_t b[2];

	memcpy(b, &stored, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static const uint8_t peer_ip[4] = { 10, 77, 0, 1 };
static const uint8_t our_ip[4] = { 10, 77, 0, 2 };

static uint32_t addr(const uint8_t a[4])
{
	uint32_t v;

	memcpy(&v, a, 4);
	return v;
}

/* 10.77.0.1:40000 -> 10.77.0.2:80, ACK|PSH with timestamps and an
 * odd-length payload. */
static size_t known_segment(uint8_t *seg)
{
	static const uint8_t hdr[32] = {
		0x9c, 0x40, 0x00, 0x50, /* ports 40000 -> 80 */
		0x12, 0x34, 0x56, 0x78, /* seq */
		0x9a, 0xbc, 0xde, 0xf0, /* ack */
		0x80, 0x18, 0x01, 0xf6, /* doff 8, ACK|PSH, window 502 */
		0x00, 0x00, 0x00, 0x00, /* check, urg */
		0x01, 0x01, 0x08, 0x0a, 0x00, 0x0a, 0xbc, 0xde, 0x00, 0x01, 0x23, 0x45,
	};
	static const char payload[] = "GET / HTTP/1.0\r\n\r\n!";

	memcpy(seg, hdr, sizeof(hdr));
	memcpy(seg + sizeof(hdr), payload, sizeof(payload) - 1);
	return sizeof(hdr) + sizeof(payload) - 1;
}

Test(tcp_wire, csum_of_a_known_segment_matches_rfc1071)
{
	uint8_t seg[128];
	size_t len = known_segment(seg);
	uint16_t c;

	cr_assert(len & 1, "the test wants an odd length");
	c = tcp_csum(addr(peer_ip), addr(our_ip), seg, len);
	cr_assert_eq(wire16(c), ref_tcp_csum(peer_ip, our_ip, seg, len), "got %04x, want %04x",
		     wire16(c), ref_tcp_csum(peer_ip, our_ip, seg, len));

	/* Stored, the segment verifies: to 0 for proto, to all ones for the
	 * reference sum. */
	memcpy(seg + 16, &c, 2);
	cr_assert_eq(tcp_csum(addr(peer_ip), addr(our_ip), seg, len), 0);
	cr_assert_eq(ref_tcp_csum(peer_ip, our_ip, seg, len), 0);
}

Test(tcp_wire, csum_covers_addresses_and_length)
{
	uint8_t seg[128];
	size_t len = known_segment(seg);
	uint16_t c = tcp_csum(addr(peer_ip), addr(our_ip), seg, len);
	static const uint8_t other[4] = { 10, 77, 0, 3 };

	cr_assert_neq(tcp_csum(addr(other), addr(our_ip), seg, len), c);
	cr_assert_neq(tcp_csum(addr(peer_ip), addr(other), seg, len), c);
	/* One zero byte more: same words, different pseudo-header length. */
	seg[len] = 0;
	cr_assert_neq(tcp_csum(addr(peer_ip), addr(our_ip), seg, len + 1), c);
}

Test(tcp_wire, csum_matches_rfc1071_for_random_segments)
{
	uint8_t seg[1600];

	for (unsigned int iter = 0; iter < 2000; iter++) {
		size_t len = 20 + rnd() % (sizeof(seg) - 20);
		uint8_t src[4], dst[4];
		uint16_t c;

		for (size_t i = 0; i < len; i++)
			seg[i] = (uint8_t)rnd();
		for (int i = 0; i < 4; i++) {
			src[i] = (uint8_t)rnd();
			dst[i] = (uint8_t)rnd();
		}
		c = tcp_csum(addr(src), addr(dst), seg, len);
		cr_assert_eq(wire16(c), ref_tcp_csum(src, dst, seg, len), "len %zu", len);
	}
}

Test(tcp_wire, pseudo_header_sum_plus_segment_sum_is_the_full_checksum)
{
	uint8_t seg[1600];

	for (unsigned int iter = 0; iter < 2000; iter++) {
		size_t len = 20 + rnd() % (sizeof(seg) - 20);
		uint8_t src[4], dst[4];
		uint16_t full, pseudo, link;

		for (size_t i = 0; i < len; i++)
			seg[i] = (uint8_t)rnd();
		for (int i = 0; i < 4; i++) {
			src[i] = (uint8_t)rnd();
			dst[i] = (uint8_t)rnd();
		}
		memset(seg + 16, 0, 2);
		full = tcp_csum(addr(src), addr(dst), seg, len);

		/* Offload: the check field holds the pseudo-header sum and
		 * the link sums from the TCP header on and stores the
		 * complement. */
		pseudo = tcp_csum_pseudo(addr(src), addr(dst), len);
		memcpy(seg + 16, &pseudo, 2);
		link = (uint16_t)~ref_sum(seg, len, 0);
		cr_assert_eq(link, wire16(full), "len %zu: link %04x, full %04x", len, link,
			     wire16(full));
	}
}

Test(tcp_wire, pseudo_header_sum_matches_rfc9293_layout)
{
	uint8_t ph[12] = { 10, 77, 0, 1, 10, 77, 0, 2, 0, 6, 0x05, 0xdc };

	cr_assert_eq(wire16(tcp_csum_pseudo(addr(peer_ip), addr(our_ip), 1500)),
		     ref_sum(ph, sizeof(ph), 0));
}
