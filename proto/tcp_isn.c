// SPDX-License-Identifier: MIT
/*
 * Initial sequence numbers (RFC 6528 §3) and timestamp offsets (RFC 7323
 * §7.1), computed the way Linux
 * net/core/secure_seq.c does: a SipHash of the connection's addresses and
 * ports under a per-stack secret, plus for the ISN a clock of 64 ns ticks.
 */
#include <string.h>

#include "rng.h"
#include "tcp_isn.h"

uint32_t tcp_isn(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr, uint16_t sport,
		 uint16_t dport, uint64_t now_ns)
{
	uint8_t in[12];
	uint32_t f;

	/* RFC 6528 §3: F() is a keyed hash of the 4-tuple (Linux
	 * secure_tcp_seq uses siphash_3u32 and keeps the low 32 bits). */
	memcpy(in, &saddr, 4);
	memcpy(in + 4, &daddr, 4);
	memcpy(in + 8, &sport, 2);
	memcpy(in + 10, &dport, 2);
	f = (uint32_t)siphash24(s->isn_key, in, sizeof(in));
	/* RFC 6528 §3: M is a timer; Linux seq_scale() ticks every 64 ns, so
	 * the sequence space turns once in about 274 s, more than one MSL. */
	return f + (uint32_t)(now_ns >> 6);
}

uint32_t tcp_ts_offset(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr)
{
	uint8_t in[8];

	/* Linux secure_tcp_ts_off: one offset per address pair, not per
	 * connection, so that a new connection to a host continues the
	 * timestamps of the old one, which TIME_WAIT reuse relies on (Linux
	 * tcp_twsk_unique). */
	memcpy(in, &saddr, 4);
	memcpy(in + 4, &daddr, 4);
	return (uint32_t)siphash24(s->ts_key, in, sizeof(in));
}
