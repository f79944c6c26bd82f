// SPDX-License-Identifier: MIT
/*
 * SYN cookies, after Linux net/ipv4/syncookies.c: when the SYN queue is
 * full, the SYN-ACK's ISN (RFC 9293 §3.4.1 leaves its choice to us) carries
 * the state the listener could not keep, and the timestamp of RFC 7323 §3.2
 * carries the options the ISN has no room for. RFC 4987 §3.6 describes the
 * technique.
 *
 * Cookie layout (Linux secure_tcp_syn_cookie), all additions mod 2^32:
 *
 *	cookie = H0(tuple) + peer_seq + (count << 24)
 *	       + ((H1(tuple, count) + data) mod 2^24)
 *
 * with H0, H1 SipHashes under the two cookie keys, count the cookie clock
 * and data the MSS table index. The only departure from Linux is the value
 * of data: index * SYNCOOKIE_DATA_STRIDE instead of the index itself (see
 * there).
 */
#include <string.h>

#include "rng.h"
#include "tcp_isn.h"
#include "tcp_wire.h"

#define COOKIEBITS 24 /* the count lives in the top 8 bits */
#define COOKIEMASK (((uint32_t)1 << COOKIEBITS) - 1)

/*
 * Linux adds the MSS index to the hash as it is (0..3), so a cookie or a
 * peer ISN that is off by one or two, or has a low bit flipped, still
 * decodes to a valid, different MSS. We space the four values 2^22 - 1
 * apart instead: their number, hence the 4 in 2^24 chance that a forged
 * cookie passes, is the same, but now two valid values are more than four
 * million apart in either direction and none differ by a power of two
 * (multiples of 2^22 - 1 below 2^24: 0x3fffff, 0x7ffffe, 0xbffffd and their
 * negatives 0xc00001, 0x800002, 0x400003), so that no single-bit change and
 * no small change of the sequence numbers turns one into another.
 */
#define SYNCOOKIE_DATA_STRIDE ((1u << 22) - 1)

/* Timestamp encoding (Linux cookie_init_timestamp): the low TSBITS bits of
 * TSval. Bit 5 is Linux's TS_OPT_ECN; we do not negotiate ECN, so it stays
 * clear and is ignored on decode. */
#define TSBITS 6
#define TSMASK (((uint32_t)1 << TSBITS) - 1)
#define TS_OPT_WSCALE_MASK 0xfu /* 0xf: no window scale */
#define TS_OPT_SACK (1u << 4)

/* Linux msstab: the common values, 1440 for PPPoE-like paths. */
const uint16_t syncookie_msstab[SYNCOOKIE_MSS_COUNT] = { 536, 1300, 1440, 1460 };

static uint32_t cookie_hash(const struct tcp_secret *s, int c, uint32_t saddr, uint32_t daddr,
			    uint16_t sport, uint16_t dport, uint32_t count)
{
	uint8_t in[16];

	memcpy(in, &saddr, 4);
	memcpy(in + 4, &daddr, 4);
	memcpy(in + 8, &sport, 2);
	memcpy(in + 10, &dport, 2);
	memcpy(in + 12, &count, 4);
	return (uint32_t)siphash24(s->cookie_key[c], in, sizeof(in));
}

static uint32_t cookie_count(uint64_t now_ns)
{
	return (uint32_t)(now_ns >> SYNCOOKIE_PERIOD_SHIFT);
}

uint32_t syncookie_make(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint32_t peer_seq, uint16_t mss, uint64_t now_ns,
			uint16_t *mss_out)
{
	uint32_t count = cookie_count(now_ns);
	uint32_t data;
	int i;

	/* Linux __cookie_v4_init_sequence: the largest entry not above the
	 * peer's MSS, and the smallest for anything below it. */
	for (i = SYNCOOKIE_MSS_COUNT - 1; i > 0; i--)
		if (mss >= syncookie_msstab[i])
			break;
	*mss_out = syncookie_msstab[i];
	data = (uint32_t)i * SYNCOOKIE_DATA_STRIDE;

	return cookie_hash(s, 0, saddr, daddr, sport, dport, 0) + peer_seq + (count << COOKIEBITS) +
	       ((cookie_hash(s, 1, saddr, daddr, sport, dport, count) + data) & COOKIEMASK);
}

uint16_t syncookie_check(const struct tcp_secret *s, uint32_t saddr, uint32_t daddr, uint16_t sport,
			 uint16_t dport, uint32_t peer_seq, uint32_t cookie, uint64_t now_ns)
{
	uint32_t count = cookie_count(now_ns);
	uint32_t diff, data;

	/* Linux check_tcp_syn_cookie: peel off the first hash and the peer's
	 * ISN, which leaves the count it was made in, then the age. */
	cookie -= cookie_hash(s, 0, saddr, daddr, sport, dport, 0) + peer_seq;
	diff = (count - (cookie >> COOKIEBITS)) & ((uint32_t)-1 >> COOKIEBITS);
	if (diff >= SYNCOOKIE_MAX_AGE)
		return 0;

	data = (cookie - cookie_hash(s, 1, saddr, daddr, sport, dport, count - diff)) & COOKIEMASK;
	if (data % SYNCOOKIE_DATA_STRIDE || data / SYNCOOKIE_DATA_STRIDE >= SYNCOOKIE_MSS_COUNT)
		return 0;
	return syncookie_msstab[data / SYNCOOKIE_DATA_STRIDE];
}

uint32_t syncookie_ts_encode(uint32_t ts_now, int wscale, bool sack_ok)
{
	uint32_t options, ts;

	if (wscale < 0)
		options = TS_OPT_WSCALE_MASK;
	else
		options = (uint32_t)(wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : wscale);
	if (sack_ok)
		options |= TS_OPT_SACK;

	/* Later TSvals come from the normal clock, so this one must not be
	 * after it (RFC 7323 §5.3: the peer's PAWS would drop what follows).
	 * Serial-number comparison, as the clock may have wrapped. */
	ts = (ts_now & ~TSMASK) | options;
	if ((int32_t)(ts - ts_now) > 0)
		ts -= (uint32_t)1 << TSBITS;
	return ts;
}

void syncookie_ts_decode(uint32_t tsecr, int *wscale, bool *sack_ok)
{
	uint32_t options = tsecr & TSMASK;

	/* Linux cookie_timestamp_decode. */
	*sack_ok = options & TS_OPT_SACK;
	if ((options & TS_OPT_WSCALE_MASK) == TS_OPT_WSCALE_MASK)
		*wscale = -1;
	else
		*wscale = (int)(options & TS_OPT_WSCALE_MASK);
}
