/* SPDX-License-Identifier: MIT */
/*
 * Seeded randomness for proto: a keyed hash (SipHash-2-4) for values an
 * attacker must not predict from what it observes (hash table keys, later
 * RFC 6528 ISNs), and a fast generator (xoshiro256**) for jitter. proto never
 * reads the system's entropy itself: the daemon seeds it from getrandom(),
 * tests with a fixed seed.
 */
#ifndef USNET_PROTO_RNG_H
#define USNET_PROTO_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
	uint64_t key[2]; /* SipHash key */
};

/** rng_init() - derive generator state and hash key from a 16-byte seed */
void rng_init(struct rng *r, const uint8_t seed[16]);

/** rng_u64() - next 64 random bits */
uint64_t rng_u64(struct rng *r);

/** rng_below() - uniform value in [0, @n); 0 when @n is 0 */
uint32_t rng_below(struct rng *r, uint32_t n);

/** siphash24() - SipHash-2-4 of @len bytes at @data under @key */
uint64_t siphash24(const uint64_t key[2], const void *data, size_t len);

#endif
