/* SPDX-License-Identifier: MIT */
/*
 * TCP header and options on the wire (RFC 9293 §3.1, RFC 7323, RFC 2018):
 * pure functions, no state, so that they can be tested and fuzzed alone.
 * Sequence numbers and timestamps in struct tcp_opts are host order.
 */
#ifndef USNET_PROTO_TCP_WIRE_H
#define USNET_PROTO_TCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define IPPROTO_TCP_ 6

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

struct tcp_hdr {
	uint16_t source;
	uint16_t dest;
	uint32_t seq;
	uint32_t ack_seq;
	uint8_t doff_res; /* data offset in 32-bit words, high nibble */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg_ptr;
} WIRE_PACKED;

static inline unsigned int tcp_hdr_len(const struct tcp_hdr *th)
{
	return (unsigned int)(th->doff_res >> 4) * 4u;
}

#define TCP_HDR_LEN 20u
#define TCP_MAX_OPT_LEN 40u

/* Option kinds (IANA "TCP Option Kind Numbers"). */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8

#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_PERBLOCK 8

#define TCP_MAX_WSCALE 14 /* RFC 7323 §2.3 */
#define TCP_NUM_SACKS 4 /* what fits in 40 bytes with no timestamps */

struct tcp_sack_block {
	uint32_t start_seq;
	uint32_t end_seq;
};

/* Options as received. */
struct tcp_opts {
	bool saw_mss;
	bool saw_wscale;
	bool sack_ok; /* SACK-permitted seen */
	bool saw_tstamp;
	uint16_t mss;
	uint8_t wscale; /* clamped to TCP_MAX_WSCALE, as Linux does */
	uint8_t num_sacks;
	uint32_t tsval;
	uint32_t tsecr;
	struct tcp_sack_block sacks[TCP_NUM_SACKS];
};

/**
 * tcp_opts_parse() - parse the @len option bytes that follow a TCP header
 * into @out (zeroed first). @syn: the segment has SYN set; MSS, window scale
 * and SACK-permitted count only on SYN segments (RFC 9293 §3.7.1, RFC 7323
 * §2.2, RFC 2018 §2), SACK blocks only on others. Like Linux
 * tcp_parse_options(), parsing stops at EOL or at an option whose length is
 * impossible, keeping what came before; options of the wrong length are
 * ignored (so is an MSS of 0, and a SACK option with other than 1..4
 * blocks); unknown options are skipped; of two options of one kind the last
 * counts. Whether a timestamp or SACK is acceptable on this connection is
 * left to the caller.
 * Return: 0, or -EINVAL if an option's kind has no length byte, its length
 * is below 2, or it runs past @len (the segment is then still usable with
 * what was parsed, as Linux uses it).
 */
int tcp_opts_parse(const uint8_t *opt, size_t len, bool syn, struct tcp_opts *out);

/* Options to send. */
struct tcp_opts_tx {
	uint16_t mss; /* 0: none (only on SYN) */
	int8_t wscale; /* -1: none (only on SYN); 0 is a shift of 0 */
	bool sack_ok; /* SACK-permitted (only on SYN) */
	bool tstamp;
	uint32_t tsval;
	uint32_t tsecr;
	uint8_t num_sacks; /* SACK blocks to report */
	struct tcp_sack_block sacks[TCP_NUM_SACKS];
};

/**
 * tcp_opts_len() - bytes tcp_opts_build() will write for @o: a multiple of 4,
 * at most TCP_MAX_OPT_LEN (SACK blocks beyond what fits are left out, as
 * Linux tcp_established_options does: 3 with timestamps, 4 without).
 */
size_t tcp_opts_len(const struct tcp_opts_tx *o);

/**
 * tcp_opts_build() - write @o in Linux's order and padding (MSS; then
 * SACK-permitted fused with timestamps, or NOP NOP timestamps, or NOP NOP
 * SACK-permitted; NOP window scale; NOP NOP SACK blocks), so that a peer
 * or a capture sees exactly what Linux would send.
 * Return: bytes written, the same as tcp_opts_len(@o).
 */
size_t tcp_opts_build(uint8_t *buf, const struct tcp_opts_tx *o);

/**
 * tcp_csum() - TCP checksum over the IPv4 pseudo-header and @len bytes at
 * @seg (header with its check field as it is, then payload). @saddr and
 * @daddr are network order, @len is the TCP length (at most 65535).
 * Return: the value for the check field, to store as it is (like
 * csum_ip()); 0 when verifying a correct segment.
 */
uint16_t tcp_csum(uint32_t saddr, uint32_t daddr, const void *seg, size_t len);

/**
 * tcp_csum_pseudo() - the folded-but-not-complemented pseudo-header sum
 * that goes into the check field when the link computes the rest
 * (checksum offload: csum_start/csum_off), stored as it is. The link's
 * checksum from the TCP header on then equals tcp_csum() (Linux
 * __tcp_v4_send_check).
 */
uint16_t tcp_csum_pseudo(uint32_t saddr, uint32_t daddr, size_t len);

#endif
