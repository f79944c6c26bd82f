// SPDX-License-Identifier: MIT
/* Admin message encoding and the validators both sides trust. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ipc/admin_msg.h"

static uint64_t buf[IPC_MSG_MAX / 8];
static struct admin_buf b;

static void setup(void)
{
	memset(buf, 0, sizeof(buf));
	b.buf = (uint8_t *)buf;
	b.cap = sizeof(buf);
	b.len = 0;
}

TestSuite(admin_msg, .init = setup, .timeout = 10);

Test(admin_msg, header_round_trip)
{
	struct ipc_hdr h;

	cr_assert_eq(admin_msg_init(&b, ADMIN_STATUS, 42, IPC_F_REPLY, -ENOENT), 0);
	admin_msg_finish(&b);
	cr_assert_eq(b.len, sizeof(struct ipc_hdr));
	cr_assert_eq(admin_msg_check(b.buf, b.len), 0);
	memcpy(&h, b.buf, sizeof(h));
	cr_assert_eq(h.magic, IPC_MAGIC);
	cr_assert_eq(h.version, IPC_VERSION);
	cr_assert_eq(h.type, ADMIN_STATUS);
	cr_assert_eq(h.seq, 42);
	cr_assert_eq(h.status, -ENOENT);
	cr_assert_eq(h.flags, IPC_F_REPLY);
	cr_assert_eq(h.len, sizeof(h));
}

Test(admin_msg, records_round_trip_in_order_and_aligned)
{
	struct admin_rec_counter c1 = { .group = "Ip", .name = "InReceives", .value = 7 };
	struct admin_rec_counter c2 = { .group = "Drop", .name = "IP_CSUM", .value = 9 };
	const struct admin_rec *rec;
	const void *body;
	size_t off = 0;

	admin_msg_init(&b, ADMIN_STATUS, 1, IPC_F_REPLY, 0);
	cr_assert_eq(admin_msg_add(&b, ADMIN_REC_COUNTER, &c1, sizeof(c1)), 0);
	cr_assert_eq(admin_msg_add(&b, ADMIN_REC_COUNTER, &c2, sizeof(c2)), 0);
	admin_msg_finish(&b);
	cr_assert_eq(admin_msg_check(b.buf, b.len), 0);

	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 1);
	cr_assert_eq(rec->type, ADMIN_REC_COUNTER);
	cr_assert_eq((uintptr_t)body % 8, 0, "record bodies must be 8-byte aligned");
	cr_assert_eq(((const struct admin_rec_counter *)body)->value, 7);
	cr_assert_str_eq(((const struct admin_rec_counter *)body)->name, "InReceives");
	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 1);
	cr_assert_eq(((const struct admin_rec_counter *)body)->value, 9);
	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 0);
}

Test(admin_msg, odd_body_is_padded_to_eight)
{
	const struct admin_rec *rec;
	const void *body;
	size_t off = 0;
	char three[3] = { 1, 2, 3 };

	admin_msg_init(&b, ADMIN_STATUS, 1, 0, 0);
	cr_assert_eq(admin_msg_add(&b, 999, three, sizeof(three)), 0);
	admin_msg_finish(&b);
	cr_assert_eq(b.len, sizeof(struct ipc_hdr) + 16);
	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 1,
		     "unknown record types are skipped by length, not rejected");
	cr_assert_eq(rec->len, 16);
}

Test(admin_msg, add_refuses_what_does_not_fit)
{
	struct admin_rec_counter c = { 0 };
	size_t before;

	b.cap = sizeof(struct ipc_hdr) + sizeof(struct admin_rec) + sizeof(c) - 1;
	admin_msg_init(&b, ADMIN_STATUS, 1, 0, 0);
	before = b.len;
	cr_assert_eq(admin_msg_add(&b, ADMIN_REC_COUNTER, &c, sizeof(c)), -ENOSPC);
	cr_assert_eq(b.len, before, "a refused record leaves the buffer unchanged");
}

Test(admin_msg, check_rejects_short_bad_magic_version_and_length)
{
	struct ipc_hdr h;

	admin_msg_init(&b, ADMIN_STATUS, 1, 0, 0);
	admin_msg_finish(&b);
	cr_assert_eq(admin_msg_check(b.buf, sizeof(struct ipc_hdr) - 1), -EBADMSG);

	memcpy(&h, b.buf, sizeof(h));
	h.magic ^= 1;
	memcpy(b.buf, &h, sizeof(h));
	cr_assert_eq(admin_msg_check(b.buf, b.len), -EPROTO);

	h.magic = IPC_MAGIC;
	h.version = IPC_VERSION + 1;
	memcpy(b.buf, &h, sizeof(h));
	cr_assert_eq(admin_msg_check(b.buf, b.len), -EPROTONOSUPPORT);

	h.version = IPC_VERSION;
	h.len = (uint32_t)b.len + 8;
	memcpy(b.buf, &h, sizeof(h));
	cr_assert_eq(admin_msg_check(b.buf, b.len), -EBADMSG,
		     "a length field that lies is rejected");
}

static int next_on(size_t len)
{
	const struct admin_rec *rec;
	const void *body;
	size_t off = 0;
	int rc;

	while ((rc = admin_msg_next(b.buf, len, &off, &rec, &body)) > 0)
		;
	return rc;
}

Test(admin_msg, next_rejects_overrun_misaligned_and_short_records)
{
	struct admin_rec r = { .type = ADMIN_REC_COUNTER, .len = 0 };
	size_t at = sizeof(struct ipc_hdr);

	admin_msg_init(&b, ADMIN_STATUS, 1, 0, 0);

	r.len = 4; /* shorter than its own header */
	memcpy(b.buf + at, &r, sizeof(r));
	cr_assert_eq(next_on(at + 8), -EBADMSG);

	r.len = 12; /* not a multiple of 8 */
	memcpy(b.buf + at, &r, sizeof(r));
	cr_assert_eq(next_on(at + 16), -EBADMSG);

	r.len = 64; /* runs past the message */
	memcpy(b.buf + at, &r, sizeof(r));
	cr_assert_eq(next_on(at + 32), -EBADMSG);

	r.len = 16; /* a counter needs 72 body bytes, not 8 */
	memcpy(b.buf + at, &r, sizeof(r));
	cr_assert_eq(next_on(at + 16), -EBADMSG);

	cr_assert_eq(next_on(at + 4), -EBADMSG, "a trailing fragment of a record header");
}

Test(admin_msg, random_bytes_never_crash_the_parser)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (int round = 0; round < 20000; round++) {
		size_t len = sizeof(struct ipc_hdr) + (size_t)(x % 512);
		struct ipc_hdr h = { .magic = IPC_MAGIC,
				     .version = IPC_VERSION,
				     .len = (uint32_t)len };

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b.buf[i] = (uint8_t)x;
		}
		memcpy(b.buf, &h, sizeof(h));
		if (admin_msg_check(b.buf, len) == 0)
			next_on(len);
	}
}

Test(admin_msg, tcp_sock_record_round_trips_every_field)
{
	struct admin_rec_tcp_sock s, got;
	const struct admin_rec *rec;
	const void *body;
	size_t off = 0;

	/* Every byte distinct, so that a field copied to the wrong place or
	 * a short copy shows. */
	for (size_t i = 0; i < sizeof(s); i++)
		((uint8_t *)&s)[i] = (uint8_t)(i * 7 + 1);
	admin_msg_init(&b, ADMIN_SOCKETS, 3, IPC_F_REPLY, 0);
	cr_assert_eq(admin_msg_add(&b, ADMIN_REC_TCP_SOCK, &s, sizeof(s)), 0);
	admin_msg_finish(&b);
	cr_assert_eq(b.len, sizeof(struct ipc_hdr) + sizeof(struct admin_rec) + 256);
	cr_assert_eq(admin_msg_check(b.buf, b.len), 0);
	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 1);
	cr_assert_eq(rec->type, ADMIN_REC_TCP_SOCK);
	cr_assert_eq(rec->len, sizeof(struct admin_rec) + sizeof(s));
	cr_assert_eq((uintptr_t)body % 8, 0);
	memcpy(&got, body, sizeof(got));
	cr_assert_eq(memcmp(&got, &s, sizeof(s)), 0);
	cr_assert_eq(got.bytes_acked, s.bytes_acked);
	cr_assert_eq(got.sport, s.sport);
	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 0);
}

Test(admin_msg, new_record_types_have_their_sizes)
{
	cr_assert_eq(admin_rec_body_size(ADMIN_REC_TCP_SOCK), 256);
	cr_assert_eq(admin_rec_body_size(ADMIN_REC_SOCK_FILTER), 8);
	cr_assert_eq(admin_rec_body_size(ADMIN_REC__MAX), 0, "unknown types are skipped");
}

Test(admin_msg, truncated_tcp_sock_record_is_rejected)
{
	struct admin_rec r = { .type = ADMIN_REC_TCP_SOCK, .len = sizeof(struct admin_rec) + 248 };
	size_t at = sizeof(struct ipc_hdr);

	/* 248 body bytes: a multiple of 8, inside the message, but 8 short
	 * of a tcp_sock record, whose last field would be read past it. */
	admin_msg_init(&b, ADMIN_SOCKETS, 1, IPC_F_REPLY, 0);
	memcpy(b.buf + at, &r, sizeof(r));
	cr_assert_eq(next_on(at + r.len), -EBADMSG);
}

Test(admin_msg, sockets_request_carries_its_state_filter)
{
	struct admin_rec_sock_filter f = { .states = (1u << 1) | (1u << 10) };
	const struct admin_rec *rec;
	const void *body;
	size_t off = 0;
	struct ipc_hdr h;

	admin_msg_init(&b, ADMIN_SOCKETS, 9, 0, 0);
	cr_assert_eq(admin_msg_add(&b, ADMIN_REC_SOCK_FILTER, &f, sizeof(f)), 0);
	admin_msg_finish(&b);
	cr_assert_eq(admin_msg_check(b.buf, b.len), 0);
	memcpy(&h, b.buf, sizeof(h));
	cr_assert_eq(h.type, ADMIN_SOCKETS);
	cr_assert_eq(h.flags & IPC_F_REPLY, 0, "a request is not a reply");
	cr_assert_eq(admin_msg_next(b.buf, b.len, &off, &rec, &body), 1);
	cr_assert_eq(rec->type, ADMIN_REC_SOCK_FILTER);
	cr_assert_eq(((const struct admin_rec_sock_filter *)body)->states, f.states);
}

/* The daemon fills messages of IPC_MSG_MAX and starts another when a
 * record does not fit: every record must fit in an empty message, and a
 * full message must still be a valid one. */
Test(admin_msg, tcp_sock_records_fill_a_message_and_stay_valid)
{
	struct admin_rec_tcp_sock s = { .state = 1, .sport = 7 };
	const struct admin_rec *rec;
	const void *body;
	size_t off = 0, want, n = 0;

	admin_msg_init(&b, ADMIN_SOCKETS, 1, IPC_F_REPLY | IPC_F_MORE, 0);
	while (admin_msg_add(&b, ADMIN_REC_TCP_SOCK, &s, sizeof(s)) == 0) {
		s.dport++;
		n++;
	}
	want = (IPC_MSG_MAX - sizeof(struct ipc_hdr)) / (sizeof(struct admin_rec) + sizeof(s));
	cr_assert_eq(n, want, "records in a full message: got %zu, want %zu", n, want);
	admin_msg_finish(&b);
	cr_assert_leq(b.len, IPC_MSG_MAX);
	cr_assert_eq(admin_msg_check(b.buf, b.len), 0);
	n = 0;
	while (admin_msg_next(b.buf, b.len, &off, &rec, &body) == 1) {
		const struct admin_rec_tcp_sock *t = body;

		cr_assert_eq(t->dport, n, "record %zu out of order", n);
		n++;
	}
	cr_assert_eq(n, want);
}
