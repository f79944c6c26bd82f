/* SPDX-License-Identifier: MIT */
/*
 * Initial sequence numbers and timestamp offsets (RFC 6528, RFC 7323 §7.1),
 * and SYN cookies (after Linux net/ipv4/syncookies.c). Pure functions of a
 * secret, the connection's addresses and the caller's clock: proto holds
 * the secrets in struct stack, seeded from the stack's RNG.
 * Addresses and ports are network order, as in the packet.
 */
#ifndef USNET_PROTO_TCP_ISN_H
#define USNET_PROTO_TCP_ISN_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_secret {
	uint64_t isn_key[2]; /* RFC 6528 F() */
	uint64_t ts_key[2]; /* timestamp offsets */
	uint64_t cookie_key[2][2]; /* SYN cookies: the two hashes */
};

/**
 * tcp_isn() - RFC 6528 §3: ISN = M + F(localip, localport, remoteip,
 * remoteport, secretkey), with M a clock of 64 ns ticks (Linux
 * secure_tcp_seq: ktime_get_real_ns() >> 6) taken from @now_ns.
 * @saddr and @sport are ours (the SYN-ACK's or our SYN's source).
 */
uint32_t tcp_isn(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr, uint16_t sport,
		 uint16_t dport, uint64_t now_ns);

/**
 * tcp_ts_offset() - per address pair random offset added to TSval (RFC 7323
 * §7.1, Linux secure_tcp_ts_off), so that a peer cannot read our uptime.
 * @saddr is ours, as for tcp_isn(); the ports do not enter, so that every
 * connection between two hosts shares one timestamp clock.
 */
uint32_t tcp_ts_offset(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr);

/* MSS values a cookie can carry (Linux msstab). */
#define SYNCOOKIE_MSS_COUNT 4
extern const uint16_t syncookie_msstab[SYNCOOKIE_MSS_COUNT];

/* Cookie clock: periods of 2^36 ns (~68.7 s; Linux: 60 s of jiffies). A
 * cookie made in period c is accepted in periods c and c + 1, as Linux's
 * "diff >= MAX_SYNCOOKIE_AGE" rejects the rest. */
#define SYNCOOKIE_PERIOD_SHIFT 36
#define SYNCOOKIE_MAX_AGE 2

/**
 * syncookie_make() - the ISN of a SYN-ACK that carries no state: a keyed
 * hash of the 4-tuple and the peer's ISN @peer_seq, the cookie clock, and
 * the index of the largest syncookie_msstab entry not above @mss, the
 * smallest entry if none is (Linux __cookie_v4_init_sequence). *@mss_out
 * gets that table value. Addresses and ports are as in the peer's SYN
 * (@saddr, @sport: the peer's), and syncookie_check() takes them the same
 * way from the ACK.
 */
uint32_t syncookie_make(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t peer_seq, uint16_t mss, uint64_t now_ns,
			uint16_t *mss_out);

/**
 * syncookie_check() - validate the cookie an ACK returns: @peer_seq is the
 * ACK's sequence number minus 1 (the peer's ISN), @cookie its
 * acknowledgment number minus 1.
 * Return: the MSS the cookie encoded, or 0 if it is forged, was made for
 * another tuple or peer ISN, or is too old (see SYNCOOKIE_MAX_AGE; Linux
 * __cookie_v4_check).
 */
uint16_t syncookie_check(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr, uint16_t sport,
			 uint16_t dport, uint32_t peer_seq, uint32_t cookie, uint64_t now_ns);

/**
 * syncookie_ts_encode() - a TSval for the SYN-ACK whose low 6 bits carry
 * the peer's window scale (@wscale, or -1 for none; above 14 sent as 14)
 * and SACK-permitted, and which is not later than @ts_now and at most 63
 * ticks before it (Linux cookie_init_timestamp).
 */
uint32_t syncookie_ts_encode(uint32_t ts_now, int wscale, bool sack_ok);

/**
 * syncookie_ts_decode() - recover what syncookie_ts_encode() stored from the
 * TSecr the ACK echoes. *@wscale is -1 when the SYN had no window scale.
 */
void syncookie_ts_decode(uint32_t tsecr, int *wscale, bool *sack_ok);

#endif
