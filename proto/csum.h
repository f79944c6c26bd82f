/* SPDX-License-Identifier: MIT */
/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624).
 * Sums are kept as 32-bit partial sums and folded at the end.
 */
#ifndef USNET_PROTO_CSUM_H
#define USNET_PROTO_CSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * csum_partial() - add @len bytes at @buf to the partial sum @sum
 * Return: the new partial sum (not folded). Odd lengths are padded with a
 * zero byte, so only the last chunk of a message may be odd.
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/** csum_fold() - fold a partial sum to 16 bits and complement it */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * csum_ip() - checksum of @len bytes, ready to store in network order
 * Return: the checksum field value; 0 when verifying a correct header.
 */
static inline uint16_t csum_ip(const void *buf, size_t len)
{
	return csum_fold(csum_partial(buf, len, 0));
}

/**
 * csum_replace2() - RFC 1624 eqn. 3 update of checksum field @check (network
 * order) when a 16-bit word changes from @from to @to (both network order).
 */
static inline uint16_t csum_replace2(uint16_t check, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint16_t)~check + (uint32_t)(uint16_t)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
