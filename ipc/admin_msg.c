// SPDX-License-Identifier: MIT
/*
 * Admin message encoding and validation: pure functions over buffers, so
 * that the parser can be fuzzed and neither side trusts a length it has
 * not checked (chrony pktlength.c).
 */
#include <errno.h>
#include <string.h>

#include "admin_msg.h"

static const size_t rec_body_size[ADMIN_REC__MAX] = {
	[ADMIN_REC_DAEMON] = sizeof(struct admin_rec_daemon),
	[ADMIN_REC_LINK] = sizeof(struct admin_rec_link),
	[ADMIN_REC_ADDR] = sizeof(struct admin_rec_addr),
	[ADMIN_REC_ROUTE] = sizeof(struct admin_rec_route),
	[ADMIN_REC_NEIGH] = sizeof(struct admin_rec_neigh),
	[ADMIN_REC_COUNTER] = sizeof(struct admin_rec_counter),
	[ADMIN_REC_SOCK_FILTER] = sizeof(struct admin_rec_sock_filter),
	[ADMIN_REC_TCP_SOCK] = sizeof(struct admin_rec_tcp_sock),
};

size_t admin_rec_body_size(unsigned int type)
{
	return type < ADMIN_REC__MAX ? rec_body_size[type] : 0;
}

int admin_msg_init(struct admin_buf *b, uint16_t type, uint32_t seq, uint16_t flags, int32_t status)
{
	struct ipc_hdr h = {
		.magic = IPC_MAGIC,
		.version = IPC_VERSION,
		.type = type,
		.seq = seq,
		.len = sizeof(h),
		.status = status,
		.flags = flags,
	};

	if (b->cap < sizeof(h))
		return -ENOSPC;
	memcpy(b->buf, &h, sizeof(h));
	b->len = sizeof(h);
	return 0;
}

int admin_msg_add(struct admin_buf *b, uint16_t type, const void *body, size_t len)
{
	struct admin_rec r = { .type = type };
	size_t total = (sizeof(r) + len + 7) & ~(size_t)7;

	if (total > UINT16_MAX || b->len + total > b->cap)
		return -ENOSPC;
	r.len = (uint16_t)total;
	memcpy(b->buf + b->len, &r, sizeof(r));
	memcpy(b->buf + b->len + sizeof(r), body, len);
	memset(b->buf + b->len + sizeof(r) + len, 0, total - sizeof(r) - len);
	b->len += total;
	return 0;
}

void admin_msg_finish(struct admin_buf *b)
{
	uint32_t len = (uint32_t)b->len;

	memcpy(b->buf + offsetof(struct ipc_hdr, len), &len, sizeof(len));
}

int admin_msg_check(const void *msg, size_t len)
{
	struct ipc_hdr h;

	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, msg, sizeof(h));
	if (h.magic != IPC_MAGIC)
		return -EPROTO;
	if (h.version != IPC_VERSION)
		return -EPROTONOSUPPORT;
	if (h.len != len)
		return -EBADMSG;
	return 0;
}

int admin_msg_next(const void *msg, size_t len, size_t *off, const struct admin_rec **rec,
		   const void **body)
{
	const uint8_t *m = msg;
	struct admin_rec r;
	size_t need;

	if (*off == 0)
		*off = sizeof(struct ipc_hdr);
	if (*off == len)
		return 0;
	if (*off > len || len - *off < sizeof(r))
		return -EBADMSG;
	memcpy(&r, m + *off, sizeof(r));
	if (r.len < sizeof(r) || r.len % 8 || r.len > len - *off)
		return -EBADMSG;
	need = admin_rec_body_size(r.type);
	if (need && r.len - sizeof(r) < need)
		return -EBADMSG;
	*rec = (const struct admin_rec *)(m + *off);
	*body = m + *off + sizeof(r);
	*off += r.len;
	return 1;
}
