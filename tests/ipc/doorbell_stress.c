// SPDX-License-Identifier: MIT
/*
 * The doorbell protocol (ipc/doorbell.h) with real threads and real
 * eventfds: a "usnetd" thread writes bytes into a socket's rx fifo, then
 * rings every doorbell named in the socket's watch list (full fence, then
 * ipc_db_ring() and write(eventfd) for each); two "client" threads take
 * the bytes under a lock standing for rx_lock, and when there are none
 * they sleep as a client does: ipc_watch_add(), ipc_db_arm(), check the
 * fifo again, poll() the eventfd, ipc_db_disarm() and read the eventfd if
 * it was rung.
 *
 * usnetd works in lock-step: after each burst it waits until the clients
 * took every byte, so a wake-up that is lost is never made up for by a
 * later one. A client whose poll() times out (2 s) while bytes are queued
 * or the end was announced, and that is still not rung a second later,
 * lost a wake-up: the test fails. It also fails if a disarmed doorbell's
 * eventfd holds anything but the one write of its ring (usnetd writes it
 * at most once per sleep, and only when it moved ARMED -> RUNG), or if a
 * byte arrives wrong. Runs under ThreadSanitizer too. The exhaustive check
 * of the same protocol is the spin model, tests/ipc/doorbell.pml.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* GCC (11 on) warns that TSan does not model ipc_db_arm()'s fence, which
 * is an error with --enable-werror. TSan sees no race here through it: the
 * bytes are published by the fifo's release/acquire and rx_lock; the fence
 * only orders ARMED before the readiness check, which TSan cannot judge
 * anyway (this test and the spin model do). */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#include "ipc/doorbell.h"
#include "ipc/fifo.h"
#include "ipc/seg.h"

#define RING 4096u
#define CLIENTS 2
#define ROUNDS 20000u
#define ROUNDS_SANITIZED 5000u
#define SESSION 7u
#define SLEEP_MS 2000 /* a lost wake-up shows as a poll() this long */
#define GRACE_MS 1000 /* ...not followed by a ring within this */

static struct ipc_seg_hdr *hdr;
static struct ipc_sock *sk;
static struct ipc_fifo_ref rx;
static int efd[CLIENTS];
static unsigned int rounds;

static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t taken; /* bytes the clients took, under rx_lock */

static _Atomic int done; /* usnetd's last word: readable for good */
static _Atomic int failed;
static _Atomic uint64_t rings, sleeps, idle_timeouts;
static _Atomic unsigned int rounds_done;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stderr);
	fputs("doorbell_stress: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
	atomic_store(&failed, 1);
}

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

/* A short random pause, to move the other threads' steps around ours. */
static void jitter(uint64_t *s)
{
	switch (rnd(s) % 8) {
	case 0:
		sched_yield();
		break;
	case 1:
	case 2:
		for (volatile unsigned int i = (unsigned int)(rnd(s) % 2000); i; i--)
			;
		break;
	case 3:
		usleep((useconds_t)(rnd(s) % 50));
		break;
	default:
		break;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* usnetd, steps a and b of doorbell.h. */
static void ring_watchers(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned int i = 0; i < IPC_WATCH; i++) {
		uint32_t e = atomic_load(&sk->watch[i]);
		uint32_t db;
		uint64_t one = 1;

		if (!e)
			continue;
		db = (e & 0xffffu) - 1;
		if (e >> 16 != SESSION || db >= CLIENTS) {
			fail("watch[%u] holds %#x", i, e);
			continue;
		}
		if (!ipc_db_ring(hdr, db))
			continue;
		if (write(efd[db], &one, sizeof(one)) != sizeof(one))
			fail("write(eventfd %u): %s", db, strerror(errno));
		atomic_fetch_add_explicit(&rings, 1, memory_order_relaxed);
	}
}

static void *usnetd(void *arg)
{
	uint64_t s = 0x243f6a8885a308d3ull, pos = 0;
	uint8_t buf[32];

	(void)arg;
	for (unsigned int r = 0; r < rounds && !atomic_load(&failed); r++) {
		unsigned int burst = 1 + (unsigned int)(rnd(&s) % 3);
		uint64_t deadline;

		for (unsigned int b = 0; b < burst; b++) {
			size_t len = 1 + (size_t)(rnd(&s) % sizeof(buf));
			ssize_t n;

			for (size_t i = 0; i < len; i++)
				buf[i] = pattern(pos + i);
			n = ipc_fifo_write(&rx, RING, buf, len);
			if (n != (ssize_t)len) {
				fail("usnetd: write of %zu returned %zd", len, n);
				return NULL;
			}
			pos += len;
			ring_watchers();
			if (b + 1 < burst)
				jitter(&s);
		}
		/* Lock-step: every byte taken before the next burst. */
		deadline = now_ms() + 2 * (SLEEP_MS + GRACE_MS);
		while (ipc_fifo_used(&rx) != 0 && !atomic_load(&failed)) {
			if (now_ms() > deadline) {
				fail("usnetd: round %u: %lld bytes not taken", r,
				     (long long)ipc_fifo_used(&rx));
				return NULL;
			}
			sched_yield();
		}
		atomic_store_explicit(&rounds_done, r + 1, memory_order_relaxed);
		jitter(&s);
	}
	atomic_store(&done, 1);
	ring_watchers();
	return NULL;
}

/* Take what is queued, checking each byte. Return: bytes taken, -1. */
static int64_t take(void)
{
	uint8_t buf[64];
	int64_t got = 0;
	ssize_t n;

	pthread_mutex_lock(&rx_lock);
	while ((n = ipc_fifo_peek(&rx, 0, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != pattern(taken + (uint64_t)i)) {
				fail("byte %llu is %#x, want %#x",
				     (unsigned long long)(taken + (uint64_t)i), buf[i],
				     pattern(taken + (uint64_t)i));
				got = -1;
				goto out;
			}
		}
		if (ipc_fifo_consume(&rx, (uint64_t)n)) {
			fail("consume %zd failed", n);
			got = -1;
			goto out;
		}
		taken += (uint64_t)n;
		got += n;
	}
	if (n < 0) {
		fail("peek: %zd", n);
		got = -1;
	}
out:
	pthread_mutex_unlock(&rx_lock);
	return got;
}

/* Nothing to take: sleep on doorbell @db until rung (steps 1 to 5). */
static int wait_ready(unsigned int db, uint64_t *s)
{
	uint32_t entry = ipc_watch_entry(SESSION, db);
	struct pollfd pfd = { .fd = efd[db], .events = POLLIN };
	int64_t used;
	int r;

	if (rnd(s) % 8 == 0)
		ipc_watch_del(sk, entry); /* as if it had stopped watching */
	if (!ipc_watch_add(sk, entry, 0)) {
		fail("client %u: no room in watch[]", db);
		return -1;
	}
	ipc_db_arm(hdr, db);
	jitter(s);
	/* Step 3. This thread is neither end of the fifo (the other client
	 * may hold rx_lock); it is safe here only because at most 3 * 32
	 * bytes are ever queued, far from a ring's worth. */
	used = ipc_fifo_used(&rx);
	if (used < 0) {
		fail("client %u: fifo corrupt (%lld)", db, (long long)used);
		return -1;
	}
	if (!used && !atomic_load(&done)) {
		jitter(s);
		r = poll(&pfd, 1, SLEEP_MS);
		if (r == 0 && (ipc_fifo_used(&rx) != 0 || atomic_load(&done))) {
			/* Something to wake for and no ring yet: unless the
			 * ring is on its way right now, it was lost. */
			r = poll(&pfd, 1, GRACE_MS);
			if (r == 0) {
				fail("client %u: lost wake-up: asleep %d ms with %lld bytes queued%s",
				     db, SLEEP_MS + GRACE_MS, (long long)ipc_fifo_used(&rx),
				     atomic_load(&done) ? ", end announced" : "");
				return -1;
			}
		} else if (r == 0) {
			atomic_fetch_add_explicit(&idle_timeouts, 1, memory_order_relaxed);
		}
		if (r < 0) {
			fail("client %u: poll: %s", db, strerror(errno));
			return -1;
		}
		if (r > 0)
			atomic_fetch_add_explicit(&sleeps, 1, memory_order_relaxed);
	}
	if (ipc_db_disarm(hdr, db)) {
		uint64_t v = 0;

		if (read(efd[db], &v, sizeof(v)) != sizeof(v) || v != 1) {
			fail("client %u: rung eventfd read %llu, want 1", db,
			     (unsigned long long)v);
			return -1;
		}
	} else if (poll(&pfd, 1, 0) != 0) {
		fail("client %u: eventfd written but the doorbell was not rung", db);
		return -1;
	}
	return 0;
}

static void *client(void *arg)
{
	unsigned int db = (unsigned int)(uintptr_t)arg;
	uint64_t s = 0x13198a2e03707344ull * (db + 1);

	while (!atomic_load(&failed)) {
		int64_t got = take();

		if (got < 0)
			break;
		if (got > 0)
			continue;
		if (atomic_load(&done))
			break;
		if (wait_ready(db, &s))
			break;
	}
	ipc_watch_del(sk, ipc_watch_entry(SESSION, db));
	return NULL;
}

int main(void)
{
	const char *san = getenv("USNET_SANITIZED");
	size_t hsize =
		(sizeof(struct ipc_seg_hdr) + IPC_CACHELINE - 1) & ~(size_t)(IPC_CACHELINE - 1);
	uint8_t *ring = malloc(RING);
	pthread_t d, c[CLIENTS];

	rounds = san && !strcmp(san, "1") ? ROUNDS_SANITIZED : ROUNDS;
	hdr = aligned_alloc(IPC_CACHELINE, hsize);
	sk = aligned_alloc(IPC_CACHELINE, IPC_PAGE);
	if (!hdr || !sk || !ring) {
		fprintf(stderr, "doorbell_stress: out of memory\n");
		return 99;
	}
	memset(hdr, 0, hsize);
	memset(sk, 0, IPC_PAGE);
	hdr->session = SESSION;
	rx = (struct ipc_fifo_ref){ .f = &sk->rx, .ring = ring, .size = RING };
	for (unsigned int i = 0; i < CLIENTS; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC);
		if (efd[i] < 0) {
			perror("doorbell_stress: eventfd");
			return 99;
		}
	}
	for (unsigned int i = 0; i < CLIENTS; i++) {
		if (pthread_create(&c[i], NULL, client, (void *)(uintptr_t)i)) {
			fprintf(stderr, "doorbell_stress: pthread_create failed\n");
			return 99;
		}
	}
	if (pthread_create(&d, NULL, usnetd, NULL)) {
		fprintf(stderr, "doorbell_stress: pthread_create failed\n");
		return 99;
	}
	pthread_join(d, NULL);
	for (unsigned int i = 0; i < CLIENTS; i++)
		pthread_join(c[i], NULL);
	if (!atomic_load(&failed) && !atomic_load(&sleeps))
		fail("no client ever slept: the protocol was not exercised");
	printf("doorbell_stress: %u of %u rounds, %llu bytes, %llu rings, %llu sleeps, %llu idle timeouts\n",
	       atomic_load(&rounds_done), rounds, (unsigned long long)taken,
	       (unsigned long long)atomic_load(&rings), (unsigned long long)atomic_load(&sleeps),
	       (unsigned long long)atomic_load(&idle_timeouts));
	for (unsigned int i = 0; i < CLIENTS; i++)
		close(efd[i]);
	free(ring);
	free(sk);
	free(hdr);
	return atomic_load(&failed) ? 1 : 0;
}
