// SPDX-License-Identifier: MIT
/*
 * The shared byte fifo (ipc/fifo.c), single-threaded: bytes come out as
 * they went in, across the end of the ring and across iovecs; the limit
 * caps what may be queued; peeking does not consume; and shared words
 * that the other side corrupted are reported as -EPROTO by every entry
 * point, without a byte copied in or out of the ring. Then the control
 * message validator (ipc/ctl_msg.c). The two-thread test of the fifo is
 * tests/ipc/fifo_stress.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ctl_msg.h"
#include "ipc/fifo.h"

#define RING 64u

static struct ipc_fifo *fifo;
static uint8_t *ring;
static struct ipc_fifo_ref ref;

static void setup(void)
{
	fifo = aligned_alloc(IPC_CACHELINE, sizeof(*fifo));
	ring = malloc(RING);
	cr_assert(fifo && ring);
	memset(fifo, 0, sizeof(*fifo));
	memset(ring, 0xee, RING);
	ref = (struct ipc_fifo_ref){ .f = fifo, .ring = ring, .size = RING };
}

static void teardown(void)
{
	free(fifo);
	free(ring);
}

/* Both counters at @pos: an empty fifo whose next byte lands at pos % RING. */
static void start_at(uint64_t pos)
{
	atomic_store(&fifo->head, pos);
	atomic_store(&fifo->tail, pos);
}

static void fill(uint8_t *buf, size_t len, uint8_t first)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(first + i);
}

static void assert_seq(const uint8_t *buf, size_t len, uint8_t first)
{
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], (uint8_t)(first + i), "byte %zu: %#x, want %#x", i, buf[i],
			     (uint8_t)(first + i));
}

TestSuite(ipc_fifo, .init = setup, .fini = teardown, .timeout = 10);

Test(ipc_fifo, write_then_peek_and_consume_round_trip)
{
	uint8_t in[20], out[32];

	fill(in, sizeof(in), 1);
	cr_assert(ipc_fifo_idle(&ref));
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), 20);
	cr_assert_eq(ipc_fifo_used(&ref), 20);
	cr_assert_not(ipc_fifo_idle(&ref));
	memset(out, 0, sizeof(out));
	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), 20, "peek copies what is queued");
	assert_seq(out, 20, 1);
	cr_assert_eq(out[20], 0, "nothing copied past what is queued");
	cr_assert_eq(ipc_fifo_consume(&ref, 20), 0);
	cr_assert_eq(ipc_fifo_used(&ref), 0);
	cr_assert(ipc_fifo_idle(&ref));
	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), 0, "empty again");
	cr_assert_eq(atomic_load(&fifo->head), 20);
	cr_assert_eq(atomic_load(&fifo->tail), 20);
}

Test(ipc_fifo, bytes_wrap_around_the_end_of_the_ring)
{
	uint8_t in[10], out[10];

	start_at(RING - 4);
	fill(in, sizeof(in), 0x40);
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), 10);
	assert_seq(ring + RING - 4, 4, 0x40);
	assert_seq(ring, 6, 0x44);
	cr_assert_eq(ring[6], 0xee, "no byte past the wrapped part");
	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), 10);
	assert_seq(out, 10, 0x40);
	cr_assert_eq(ipc_fifo_peek(&ref, 3, out, 4), 4, "a peek that straddles the wrap");
	assert_seq(out, 4, 0x43);
	cr_assert_eq(ipc_fifo_consume(&ref, 10), 0);
	cr_assert_eq(atomic_load(&fifo->head), RING + 6);
}

Test(ipc_fifo, counters_wrap_past_uint64)
{
	uint8_t in[48], out[48];

	start_at(UINT64_MAX - 20);
	for (int round = 0; round < 8; round++) {
		fill(in, sizeof(in), (uint8_t)(round * 7));
		cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), 48);
		cr_assert_eq(ipc_fifo_used(&ref), 48);
		cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), 48);
		assert_seq(out, 48, (uint8_t)(round * 7));
		cr_assert_eq(ipc_fifo_consume(&ref, 48), 0);
	}
	cr_assert_eq(atomic_load(&fifo->head), UINT64_MAX - 20 + 8 * 48);
	cr_assert(ipc_fifo_idle(&ref));
}

Test(ipc_fifo, write_stops_at_the_limit_and_returns_zero_when_full)
{
	uint8_t in[RING * 2];

	fill(in, sizeof(in), 0);
	cr_assert_eq(ipc_fifo_write(&ref, 16, in, 10), 10);
	cr_assert_eq(ipc_fifo_write(&ref, 16, in + 10, 10), 6, "only up to the limit");
	cr_assert_eq(ipc_fifo_write(&ref, 16, in + 16, 10), 0, "full at the limit");
	cr_assert_eq(ipc_fifo_write(&ref, 8, in + 16, 10), 0, "over a lower limit: still 0");
	cr_assert_eq(ipc_fifo_write(&ref, 0, in + 16, 10), 0, "a zero limit takes nothing");
	cr_assert_eq(ipc_fifo_used(&ref), 16);
	cr_assert_eq(ipc_fifo_consume(&ref, 5), 0);
	cr_assert_eq(ipc_fifo_write(&ref, 16, in + 16, 10), 5, "room freed by consume");
	/* A limit above the ring size means the ring size. */
	cr_assert_eq(ipc_fifo_write(&ref, UINT64_MAX, in + 21, sizeof(in)), RING - 16);
	cr_assert_eq(ipc_fifo_used(&ref), RING, "exactly full is not corrupt");
	cr_assert_eq(ipc_fifo_write(&ref, UINT64_MAX, in, 1), 0);

	uint8_t out[RING];

	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), RING);
	assert_seq(out, RING, 5);
}

Test(ipc_fifo, peek_at_an_offset_does_not_consume)
{
	uint8_t in[30], out[30];

	fill(in, sizeof(in), 100);
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), 30);
	cr_assert_eq(ipc_fifo_peek(&ref, 10, out, 5), 5);
	assert_seq(out, 5, 110);
	cr_assert_eq(ipc_fifo_peek(&ref, 25, out, 30), 5, "up to tail, no further");
	assert_seq(out, 5, 125);
	cr_assert_eq(ipc_fifo_peek(&ref, 30, out, 30), 0, "offset at tail: nothing");
	cr_assert_eq(ipc_fifo_peek(&ref, 1000, out, 30), 0, "offset past tail: nothing");
	cr_assert_eq(ipc_fifo_peek(&ref, UINT64_MAX, out, 30), 0);
	cr_assert_eq(ipc_fifo_used(&ref), 30, "peeks consumed nothing");
	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, 30), 30);
	assert_seq(out, 30, 100);
	cr_assert_eq(ipc_fifo_consume(&ref, 12), 0);
	cr_assert_eq(ipc_fifo_peek(&ref, 3, out, 2), 2, "offsets count from head");
	assert_seq(out, 2, 115);
}

Test(ipc_fifo, consuming_more_than_is_queued_is_a_protocol_error)
{
	uint8_t in[8];

	fill(in, sizeof(in), 0);
	cr_assert_eq(ipc_fifo_consume(&ref, 1), -EPROTO, "empty");
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), 8);
	cr_assert_eq(ipc_fifo_consume(&ref, 9), -EPROTO);
	cr_assert_eq(ipc_fifo_consume(&ref, UINT64_MAX), -EPROTO);
	cr_assert_eq(ipc_fifo_used(&ref), 8, "a refused consume leaves head alone");
	cr_assert_eq(ipc_fifo_consume(&ref, 0), 0);
	cr_assert_eq(ipc_fifo_consume(&ref, 8), 0);
	cr_assert_eq(ipc_fifo_used(&ref), 0);
}

/* Every entry point refuses the fifo and leaves the ring and the
 * destination alone. */
static void assert_corrupt_everywhere(const char *what)
{
	uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8], snap[RING];
	struct iovec iov = { .iov_base = out, .iov_len = sizeof(out) };
	struct iovec iov_in = { .iov_base = in, .iov_len = sizeof(in) };
	uint64_t head = atomic_load(&fifo->head), tail = atomic_load(&fifo->tail);

	memcpy(snap, ring, RING);
	memset(out, 0x5a, sizeof(out));
	cr_assert_eq(ipc_fifo_used(&ref), -EPROTO, "%s: used", what);
	cr_assert_not(ipc_fifo_idle(&ref), "%s: a corrupt fifo is not idle", what);
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), -EPROTO, "%s: write", what);
	cr_assert_eq(ipc_fifo_write(&ref, 0, in, sizeof(in)), -EPROTO, "%s: write, limit 0", what);
	cr_assert_eq(ipc_fifo_writev(&ref, RING, &iov_in, 1), -EPROTO, "%s: writev", what);
	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), -EPROTO, "%s: peek", what);
	cr_assert_eq(ipc_fifo_peek(&ref, 4, out, sizeof(out)), -EPROTO, "%s: peek at 4", what);
	cr_assert_eq(ipc_fifo_peekv(&ref, 0, &iov, 1), -EPROTO, "%s: peekv", what);
	cr_assert_eq(ipc_fifo_consume(&ref, 0), -EPROTO, "%s: consume 0", what);
	cr_assert_eq(ipc_fifo_consume(&ref, 1), -EPROTO, "%s: consume 1", what);
	cr_assert_eq(memcmp(snap, ring, RING), 0, "%s: the ring was written", what);
	for (size_t i = 0; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0x5a, "%s: bytes were copied out", what);
	cr_assert_eq(atomic_load(&fifo->head), head, "%s: head moved", what);
	cr_assert_eq(atomic_load(&fifo->tail), tail, "%s: tail moved", what);
}

Test(ipc_fifo, head_past_tail_is_corrupt)
{
	atomic_store(&fifo->head, 1000);
	atomic_store(&fifo->tail, 999);
	assert_corrupt_everywhere("head = tail + 1");
	atomic_store(&fifo->head, UINT64_MAX);
	atomic_store(&fifo->tail, 0);
	cr_assert_eq(ipc_fifo_used(&ref), 1, "a wrapped counter is not corrupt");
	atomic_store(&fifo->head, 0);
	atomic_store(&fifo->tail, UINT64_MAX);
	assert_corrupt_everywhere("head = tail + 1 across the wrap");
	atomic_store(&fifo->head, 1ull << 40);
	atomic_store(&fifo->tail, 5);
	assert_corrupt_everywhere("head far past tail");
}

Test(ipc_fifo, tail_more_than_a_ring_ahead_is_corrupt)
{
	atomic_store(&fifo->head, 1000);
	atomic_store(&fifo->tail, 1000 + RING + 1);
	assert_corrupt_everywhere("tail = head + size + 1");
	atomic_store(&fifo->tail, 1u << 30);
	assert_corrupt_everywhere("tail far ahead");
	atomic_store(&fifo->tail, 1000 + RING);
	cr_assert_eq(ipc_fifo_used(&ref), RING, "a full ring is not corrupt");
}

Test(ipc_fifo, writev_gathers_across_iovecs_and_the_wrap)
{
	uint8_t a[5], b[1], c[20], out[40];
	struct iovec iov[] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = 0 },
		{ .iov_base = b, .iov_len = sizeof(b) },
		{ .iov_base = c, .iov_len = sizeof(c) },
	};

	fill(a, sizeof(a), 10);
	fill(b, sizeof(b), 15);
	fill(c, sizeof(c), 16);
	start_at(RING - 8);
	cr_assert_eq(ipc_fifo_writev(&ref, RING, iov, 4), 26);
	assert_seq(ring + RING - 8, 8, 10);
	assert_seq(ring, 18, 18);
	cr_assert_eq(ipc_fifo_peek(&ref, 0, out, sizeof(out)), 26);
	assert_seq(out, 26, 10);
	cr_assert_eq(ipc_fifo_writev(&ref, RING, iov, 0), 0, "no iovecs, no bytes");
	/* Partial: 30 bytes of room (limit 56), taken in iovec order. */
	cr_assert_eq(ipc_fifo_writev(&ref, 56, iov, 4), 26);
	cr_assert_eq(ipc_fifo_writev(&ref, 56, iov, 4), 4, "stops inside the first iovec");
	cr_assert_eq(ipc_fifo_used(&ref), 56);
	cr_assert_eq(ipc_fifo_peek(&ref, 52, out, 8), 4);
	assert_seq(out, 4, 10);
}

Test(ipc_fifo, peekv_scatters_across_iovecs_and_the_wrap)
{
	uint8_t in[50], a[3], b[1], c[10], d[64];
	struct iovec iov[] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = 0 },
		{ .iov_base = c, .iov_len = sizeof(c) },
		{ .iov_base = d, .iov_len = sizeof(d) },
	};

	fill(in, sizeof(in), 0x80);
	start_at(RING - 20);
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, sizeof(in)), 50);
	/* From offset 15: 35 bytes, the wrap falls inside c. */
	memset(d, 0, sizeof(d));
	cr_assert_eq(ipc_fifo_peekv(&ref, 15, iov, 4), 35);
	assert_seq(a, 3, 0x80 + 15);
	assert_seq(c, 10, 0x80 + 18);
	assert_seq(d, 22, 0x80 + 28);
	cr_assert_eq(d[22], 0, "no byte past tail");
	/* All of it, fewer iovec bytes than queued. */
	cr_assert_eq(ipc_fifo_peekv(&ref, 0, iov, 3), 13);
	assert_seq(a, 3, 0x80);
	assert_seq(c, 10, 0x83);
	cr_assert_eq(ipc_fifo_peekv(&ref, 50, iov, 4), 0, "offset at tail");
	cr_assert_eq(ipc_fifo_peekv(&ref, 0, iov, 0), 0, "no iovecs");
	cr_assert_eq(ipc_fifo_used(&ref), 50, "peekv consumes nothing");
}

Test(ipc_fifo, idle_only_when_nothing_is_queued)
{
	uint8_t in[1] = { 7 };

	cr_assert(ipc_fifo_idle(&ref));
	start_at(12345);
	cr_assert(ipc_fifo_idle(&ref));
	cr_assert_eq(ipc_fifo_write(&ref, RING, in, 1), 1);
	cr_assert_not(ipc_fifo_idle(&ref));
	cr_assert_eq(ipc_fifo_consume(&ref, 1), 0);
	cr_assert(ipc_fifo_idle(&ref));
}

/* ---- ctl_msg_check() ---------------------------------------------------- */

static union {
	uint64_t align;
	uint8_t b[sizeof(struct ipc_hdr) + sizeof(struct ctl_sock_req) + 16];
} msg;

/* A well-formed request of @type with a @body_len body; returns its length. */
static size_t make_req(unsigned int type, size_t body_len)
{
	struct ipc_hdr h = {
		.magic = IPC_MAGIC,
		.version = IPC_VERSION,
		.type = (uint16_t)type,
		.seq = 7,
		.len = (uint32_t)(sizeof(h) + body_len),
	};

	memset(msg.b, 0, sizeof(msg.b));
	memcpy(msg.b, &h, sizeof(h));
	return sizeof(h) + body_len;
}

static struct ipc_hdr *hdr(void)
{
	return (struct ipc_hdr *)msg.b;
}

TestSuite(ctl_msg, .timeout = 10);

Test(ctl_msg, a_good_socket_request_passes)
{
	size_t len = make_req(CTL_SOCKET, sizeof(struct ctl_sock_req));
	struct ctl_sock_req req = { .domain = 2, .type = 1 };

	memcpy(msg.b + sizeof(struct ipc_hdr), &req, sizeof(req));
	cr_assert_eq(ctl_msg_check(msg.b, len), 0);
}

Test(ctl_msg, every_type_passes_with_its_own_body_size)
{
	cr_assert_eq(ctl_msg_req_size(CTL_HELLO), sizeof(struct ctl_hello));
	cr_assert_eq(ctl_msg_req_size(CTL_DOORBELL), sizeof(struct ctl_doorbell));
	for (unsigned int t = CTL_SOCKET; t < CTL__MAX; t++)
		cr_assert_eq(ctl_msg_req_size(t), sizeof(struct ctl_sock_req), "type %u", t);
	for (unsigned int t = CTL_HELLO; t < CTL__MAX; t++) {
		size_t len = make_req(t, ctl_msg_req_size(t));

		cr_assert_eq(ctl_msg_check(msg.b, len), 0, "type %u", t);
	}
}

Test(ctl_msg, wrong_magic_or_version_is_not_supported)
{
	size_t len = make_req(CTL_SOCKET, sizeof(struct ctl_sock_req));

	hdr()->magic = IPC_MAGIC ^ 1;
	cr_assert_eq(ctl_msg_check(msg.b, len), -EPROTONOSUPPORT);
	hdr()->magic = IPC_MAGIC;
	hdr()->version = IPC_VERSION + 1;
	cr_assert_eq(ctl_msg_check(msg.b, len), -EPROTONOSUPPORT);
	hdr()->version = 0;
	cr_assert_eq(ctl_msg_check(msg.b, len), -EPROTONOSUPPORT);
	/* Magic and version are judged before anything else. */
	hdr()->magic = 0;
	hdr()->type = 0;
	hdr()->len = 0;
	cr_assert_eq(ctl_msg_check(msg.b, len), -EPROTONOSUPPORT);
}

Test(ctl_msg, unknown_types_are_invalid)
{
	const unsigned int bad[] = { 0, 1, CTL_HELLO - 1, CTL__MAX, CTL__MAX + 1, 0xffff };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = make_req(bad[i], sizeof(struct ctl_sock_req));

		cr_assert_eq(ctl_msg_req_size(bad[i]), 0, "type %u", bad[i]);
		cr_assert_eq(ctl_msg_check(msg.b, len), -EINVAL, "type %u", bad[i]);
		len = make_req(bad[i], 0);
		cr_assert_eq(ctl_msg_check(msg.b, len), -EINVAL, "type %u, no body", bad[i]);
	}
}

Test(ctl_msg, short_messages_are_invalid)
{
	size_t len = make_req(CTL_SOCKET, sizeof(struct ctl_sock_req));

	cr_assert_eq(ctl_msg_check(msg.b, 0), -EINVAL);
	cr_assert_eq(ctl_msg_check(msg.b, sizeof(struct ipc_hdr) - 1), -EINVAL);
	/* A header alone, claiming just itself. */
	hdr()->len = sizeof(struct ipc_hdr);
	cr_assert_eq(ctl_msg_check(msg.b, sizeof(struct ipc_hdr)), -EINVAL);
	/* A body one byte short, the header agreeing. */
	hdr()->len = (uint32_t)(len - 1);
	cr_assert_eq(ctl_msg_check(msg.b, len - 1), -EINVAL);
}

Test(ctl_msg, length_mismatches_are_invalid)
{
	size_t len = make_req(CTL_SOCKET, sizeof(struct ctl_sock_req));

	hdr()->len = (uint32_t)(len + 1);
	cr_assert_eq(ctl_msg_check(msg.b, len), -EINVAL, "header claims more than received");
	hdr()->len = (uint32_t)(len - 1);
	cr_assert_eq(ctl_msg_check(msg.b, len), -EINVAL, "header claims less than received");
	hdr()->len = (uint32_t)(len + 8);
	cr_assert_eq(ctl_msg_check(msg.b, len + 8), -EINVAL, "a body longer than its type's");
	/* The size of another type's body: a doorbell body on CTL_SOCKET. */
	len = make_req(CTL_SOCKET, sizeof(struct ctl_doorbell));
	cr_assert_eq(ctl_msg_check(msg.b, len), -EINVAL);
	len = make_req(CTL_DOORBELL, sizeof(struct ctl_sock_req));
	cr_assert_eq(ctl_msg_check(msg.b, len), -EINVAL);
}
