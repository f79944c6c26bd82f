// SPDX-License-Identifier: MIT
/*
 * TCP options and checksum on the wire. Parsing follows the option rules
 * of RFC 9293 §3.1 and §3.7.1 (MSS), RFC 7323 §2.2-2.3 (window scale) and
 * §3.2 (timestamps), RFC 2018 §2-3 (SACK-permitted, SACK blocks), with
 * Linux tcp_parse_options() deciding the cases the RFCs leave open. Option
 * building writes exactly the layout of Linux tcp_options_write(), so that
 * a peer, a middlebox or a capture cannot tell us apart from the kernel.
 * The checksum covers the IPv4 pseudo-header of RFC 9293 §3.1.
 */
#include <errno.h>
#include <string.h>

#include "csum.h"
#include "tcp_wire.h"

/* A 32-bit option word made of four bytes, in the order they go on the wire. */
static uint8_t *put_word(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

static void parse_sack(const uint8_t *p, unsigned int opsize, struct tcp_opts *out)
{
	unsigned int n;

	/* RFC 2018 §3: 2 + 8n bytes. 40 option bytes hold at most 4 blocks;
	 * a length that is not of that form is ignored, as Linux does. */
	if (opsize < TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK ||
	    (opsize - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK)
		return;
	n = (opsize - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK;
	if (n > TCP_NUM_SACKS)
		return;
	/* Several SACK options in one segment: the last one counts, as in Linux,
	 * which remembers only the offset of the last (TCP_SKB_CB()->sacked). */
	for (unsigned int i = 0; i < n; i++) {
		out->sacks[i].start_seq = be32(p + 8 * i);
		out->sacks[i].end_seq = be32(p + 8 * i + 4);
	}
	out->num_sacks = (uint8_t)n;
}

int tcp_opts_parse(const uint8_t *opt, size_t len, bool syn, struct tcp_opts *out)
{
	const uint8_t *p = opt;
	size_t left = len;

	memset(out, 0, sizeof(*out));
	while (left > 0) {
		unsigned int kind = p[0], opsize;

		if (kind == TCPOPT_EOL)
			return 0;
		if (kind == TCPOPT_NOP) {
			p++;
			left--;
			continue;
		}
		/* Linux: a kind with no room for its length, a length below 2
		 * ("silly options") or one that runs past the header ends
		 * parsing; what came before stands. */
		if (left < 2)
			return -EINVAL;
		opsize = p[1];
		if (opsize < 2 || opsize > left)
			return -EINVAL;

		switch (kind) {
		case TCPOPT_MSS:
			/* RFC 9293 §3.7.1: only in SYN segments. Linux ignores an
			 * MSS of 0 (tcp_parse_options: "if (in_mss)"), leaving the
			 * default of 536 to apply. */
			if (opsize == TCPOLEN_MSS && syn && be16(p + 2)) {
				out->saw_mss = true;
				out->mss = be16(p + 2);
			}
			break;
		case TCPOPT_WINDOW:
			/* RFC 7323 §2.2: only in SYN segments; §2.3: a shift
			 * above 14 is used as 14. */
			if (opsize == TCPOLEN_WINDOW && syn) {
				out->saw_wscale = true;
				out->wscale = p[2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : p[2];
			}
			break;
		case TCPOPT_SACK_PERM:
			/* RFC 2018 §2: only in SYN segments. */
			if (opsize == TCPOLEN_SACK_PERM && syn)
				out->sack_ok = true;
			break;
		case TCPOPT_TIMESTAMP:
			/* RFC 7323 §3.2: any segment; whether it is acceptable
			 * (negotiated, PAWS) is the socket's business. */
			if (opsize == TCPOLEN_TIMESTAMP) {
				out->saw_tstamp = true;
				out->tsval = be32(p + 2);
				out->tsecr = be32(p + 6);
			}
			break;
		case TCPOPT_SACK:
			/* A SYN acknowledges nothing that SACK could describe;
			 * Linux 2.x said so explicitly (!th->syn), and today
			 * only a SYN-ACK could reach its SACK code at all. */
			if (!syn)
				parse_sack(p + 2, opsize, out);
			break;
		default:
			/* RFC 9293 §3.1: unknown options are skipped by length. */
			break;
		}
		p += opsize;
		left -= opsize;
	}
	return 0;
}

/* Bytes of everything but the SACK blocks. */
static size_t opts_base_len(const struct tcp_opts_tx *o)
{
	size_t size = 0;

	if (o->mss)
		size += TCPOLEN_MSS;
	if (o->tstamp)
		size += 12; /* SACK-permitted or NOP NOP, then TS */
	else if (o->sack_ok)
		size += 4; /* NOP NOP SACK-permitted */
	if (o->wscale >= 0)
		size += 4; /* NOP window scale */
	return size;
}

/* SACK blocks that fit after @base bytes of other options (Linux
 * tcp_established_options: 3 with timestamps, 4 without). */
static unsigned int opts_sack_blocks(const struct tcp_opts_tx *o, size_t base)
{
	size_t room = TCP_MAX_OPT_LEN - base;
	unsigned int n = o->num_sacks > TCP_NUM_SACKS ? TCP_NUM_SACKS : o->num_sacks;
	unsigned int fit;

	if (room < 4 + TCPOLEN_SACK_PERBLOCK)
		return 0;
	fit = (unsigned int)((room - 4) / TCPOLEN_SACK_PERBLOCK);
	return n < fit ? n : fit;
}

size_t tcp_opts_len(const struct tcp_opts_tx *o)
{
	size_t base = opts_base_len(o);
	unsigned int n = opts_sack_blocks(o, base);

	return base + (n ? 4 + n * TCPOLEN_SACK_PERBLOCK : 0);
}

size_t tcp_opts_build(uint8_t *buf, const struct tcp_opts_tx *o)
{
	unsigned int n = opts_sack_blocks(o, opts_base_len(o));
	uint8_t *p = buf;

	if (o->mss) {
		p = put_word(p, TCPOPT_MSS, TCPOLEN_MSS, 0, 0);
		put_be16(p - 2, o->mss);
	}
	if (o->tstamp) {
		/* Linux fuses SACK-permitted into the timestamp's padding. */
		if (o->sack_ok)
			p = put_word(p, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM, TCPOPT_TIMESTAMP,
				     TCPOLEN_TIMESTAMP);
		else
			p = put_word(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP,
				     TCPOLEN_TIMESTAMP);
		put_be32(p, o->tsval);
		put_be32(p + 4, o->tsecr);
		p += 8;
	} else if (o->sack_ok) {
		p = put_word(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM);
	}
	if (o->wscale >= 0)
		p = put_word(p, TCPOPT_NOP, TCPOPT_WINDOW, TCPOLEN_WINDOW, (uint8_t)o->wscale);
	if (n) {
		p = put_word(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK,
			     (uint8_t)(TCPOLEN_SACK_BASE + n * TCPOLEN_SACK_PERBLOCK));
		for (unsigned int i = 0; i < n; i++) {
			put_be32(p, o->sacks[i].start_seq);
			put_be32(p + 4, o->sacks[i].end_seq);
			p += 8;
		}
	}
	return (size_t)(p - buf);
}

/* RFC 9293 §3.1: source address, destination address, a zero byte, the
 * protocol and the TCP length (header plus data; 16 bits, which the IPv4
 * total length bounds). */
static uint32_t pseudo_sum(uint32_t saddr, uint32_t daddr, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP_;
	put_be16(ph + 10, (uint16_t)len);
	return csum_partial(ph, sizeof(ph), 0);
}

uint16_t tcp_csum(uint32_t saddr, uint32_t daddr, const void *seg, size_t len)
{
	return csum_fold(csum_partial(seg, len, pseudo_sum(saddr, daddr, len)));
}

uint16_t tcp_csum_pseudo(uint32_t saddr, uint32_t daddr, size_t len)
{
	/* Linux: th->check = ~tcp_v4_check(len, saddr, daddr, 0); the link
	 * then sums from csum_start and stores the complement. */
	return (uint16_t)~csum_fold(pseudo_sum(saddr, daddr, len));
}
