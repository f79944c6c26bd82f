// SPDX-License-Identifier: MIT
/*
 * The shared byte fifo (ipc/fifo.c) under two threads: a producer writes a
 * known byte sequence in random-sized chunks under random limits, with
 * ipc_fifo_write() and ipc_fifo_writev(); a consumer reads it back with
 * random-sized ipc_fifo_peek() and ipc_fifo_peekv() at random offsets and
 * random ipc_fifo_consume() steps, and checks every byte before it lets
 * it go. The ring is small (4 KiB), so its end is crossed all the time. Run
 * in the normal build and under ThreadSanitizer, where a missing
 * acquire/release pair shows up as a race on the ring's bytes. A plain
 * program rather than a Criterion test: Criterion cannot start under TSan.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/fifo.h"

#define RING 4096u
#define TOTAL (64ull << 20) /* bytes through the fifo */
#define TOTAL_SANITIZED (16ull << 20)
#define MAX_IOV 4

static uint64_t total;

/* The byte at stream position @n: mixes the high bits in, so that a byte
 * taken from the wrong lap of the ring is caught. */
static inline uint8_t pattern(uint64_t n)
{
	return (uint8_t)((n * 0x9e3779b97f4a7c15ull) >> 56) ^ (uint8_t)n;
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Split @len bytes at @buf into up to MAX_IOV iovecs, some of them empty. */
static int split(uint64_t *s, uint8_t *buf, size_t len, struct iovec *iov)
{
	int n = 1 + (int)(rnd(s) % MAX_IOV);
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		size_t part = i == n - 1 ? len - off : (size_t)(rnd(s) % (len - off + 1));

		iov[i].iov_base = buf + off;
		iov[i].iov_len = part;
		off += part;
	}
	return n;
}

static const struct ipc_fifo_ref *ref;
static _Atomic int failed;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stderr);
	fputs("fifo_stress: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
	atomic_store(&failed, 1);
}

static void *producer(void *arg)
{
	static uint8_t buf[2 * RING];
	uint64_t s = 0x243f6a8885a308d3ull, pos = 0;

	(void)arg;
	while (pos < total && !atomic_load_explicit(&failed, memory_order_relaxed)) {
		size_t len = 1 + (size_t)(rnd(&s) % (rnd(&s) & 1 ? 64 : sizeof(buf)));
		uint64_t limit, cap;
		struct iovec iov[MAX_IOV];
		ssize_t n;

		if (len > total - pos)
			len = (size_t)(total - pos);
		switch (rnd(&s) % 4) {
		case 0:
			limit = RING;
			break;
		case 1:
			limit = UINT64_MAX; /* means the ring size */
			break;
		default:
			limit = 1 + rnd(&s) % RING;
		}
		cap = limit < RING ? limit : RING;
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(pos + i);
		if (rnd(&s) & 1)
			n = ipc_fifo_write(ref, limit, buf, len);
		else
			n = ipc_fifo_writev(ref, limit, iov, split(&s, buf, len, iov));
		if (n < 0 || (uint64_t)n > len || (uint64_t)n > cap) {
			fail("producer: write of %zu returned %zd (limit %llu)", len, n,
			     (unsigned long long)limit);
			break;
		}
		if (n == 0)
			sched_yield();
		pos += (uint64_t)n;
	}
	return NULL;
}

/* Check @len bytes at @buf against the stream from @pos. */
static int check(const uint8_t *buf, size_t len, uint64_t pos)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != pattern(pos + i)) {
			fail("consumer: byte %llu is %#x, want %#x", (unsigned long long)(pos + i),
			     buf[i], pattern(pos + i));
			return -1;
		}
	}
	return 0;
}

static int consumer(void)
{
	static uint8_t buf[RING + 64];
	uint64_t s = 0x13198a2e03707344ull, pos = 0, seen = 0, peeks = 0;

	/* seen: bytes from pos on that have been checked, gap-free. */
	while (pos < total && !atomic_load_explicit(&failed, memory_order_relaxed)) {
		uint64_t off = rnd(&s) % 4 ? seen : rnd(&s) % (seen + 64);
		size_t len = 1 + (size_t)(rnd(&s) % (rnd(&s) & 1 ? 64 : sizeof(buf)));
		struct iovec iov[MAX_IOV];
		ssize_t n;

		/* Now and then only: its acquire of tail would otherwise hide
		 * a missing one in peek from TSan. */
		if (rnd(&s) % 16 == 0) {
			int64_t used = ipc_fifo_used(ref);

			if (used < 0 || (uint64_t)used > RING || (uint64_t)used < seen) {
				fail("consumer: used %lld with %llu checked", (long long)used,
				     (unsigned long long)seen);
				return -1;
			}
		}
		if (rnd(&s) & 1)
			n = ipc_fifo_peek(ref, off, buf, len);
		else
			n = ipc_fifo_peekv(ref, off, iov, split(&s, buf, len, iov));
		if (n < 0 || (uint64_t)n > len) {
			fail("consumer: peek of %zu returned %zd", len, n);
			return -1;
		}
		peeks++;
		if (check(buf, (size_t)n, pos + off))
			return -1;
		if (off <= seen && off + (uint64_t)n > seen)
			seen = off + (uint64_t)n;
		if (seen && rnd(&s) % 3) {
			uint64_t c = 1 + rnd(&s) % seen;

			if (ipc_fifo_consume(ref, c)) {
				fail("consumer: consume %llu of %llu checked failed",
				     (unsigned long long)c, (unsigned long long)seen);
				return -1;
			}
			pos += c;
			seen -= c;
		} else if (!n) {
			sched_yield();
		}
	}
	if (!atomic_load(&failed) && ipc_fifo_used(ref) != 0) {
		fail("consumer: %lld bytes left after %llu", (long long)ipc_fifo_used(ref),
		     (unsigned long long)total);
		return -1;
	}
	printf("fifo_stress: %llu bytes checked in %llu peeks\n", (unsigned long long)pos,
	       (unsigned long long)peeks);
	return atomic_load(&failed) ? -1 : 0;
}

int main(void)
{
	const char *san = getenv("USNET_SANITIZED");
	struct ipc_fifo *f = aligned_alloc(IPC_CACHELINE, sizeof(*f));
	uint8_t *ring = malloc(RING);
	struct ipc_fifo_ref r;
	pthread_t t;
	int rc;

	total = san && !strcmp(san, "1") ? TOTAL_SANITIZED : TOTAL;
	if (!f || !ring) {
		fprintf(stderr, "fifo_stress: out of memory\n");
		return 99;
	}
	memset(f, 0, sizeof(*f));
	/* Start near the 64-bit wrap of the counters. */
	atomic_store(&f->head, UINT64_MAX - 2 * RING - 5);
	atomic_store(&f->tail, UINT64_MAX - 2 * RING - 5);
	r = (struct ipc_fifo_ref){ .f = f, .ring = ring, .size = RING };
	ref = &r;
	if (pthread_create(&t, NULL, producer, NULL)) {
		fprintf(stderr, "fifo_stress: pthread_create failed\n");
		return 99;
	}
	rc = consumer();
	if (rc)
		atomic_store(&failed, 1);
	pthread_join(t, NULL);
	free(ring);
	free(f);
	return rc ? 1 : 0;
}
