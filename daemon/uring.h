/* SPDX-License-Identifier: MIT */
/*
 * io_uring plumbing for the workers: ring setup with the best flags the
 * kernel accepts, feature probes, the provided-buffer ring for receive, and
 * the user_data encoding. Works with liburing 2.3 (Debian 12), which lacks
 * io_uring_setup_buf_ring() and io_uring_prep_read_multishot().
 */
#ifndef USNET_DAEMON_URING_H
#define USNET_DAEMON_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

/* user_data: kind in the top byte, an index below it. */
enum uring_ud_kind {
	UD_RX = 1,
	UD_TX = 2,
	UD_WAKE = 3,
	UD_CANCEL = 4,
	UD_CHAN = 5, /* a session's control channel: idx = session id */
	UD_PH = 6, /* a shim socket's placeholder: idx = id, ext = gen */
};

static inline uint64_t uring_ud(enum uring_ud_kind kind, uint32_t idx)
{
	return (uint64_t)kind << 56 | idx;
}

/* ... with 24 more bits above the index */
static inline uint64_t uring_ud_ext(enum uring_ud_kind kind, uint32_t idx, uint32_t ext)
{
	return (uint64_t)kind << 56 | (uint64_t)(ext & 0xffffffu) << 32 | idx;
}

static inline uint32_t uring_ud_ext_of(uint64_t ud)
{
	return (uint32_t)(ud >> 32) & 0xffffffu;
}

static inline enum uring_ud_kind uring_ud_kind(uint64_t ud)
{
	return (enum uring_ud_kind)(ud >> 56);
}

static inline uint32_t uring_ud_idx(uint64_t ud)
{
	return (uint32_t)ud;
}

struct uring_caps {
	bool single_issuer;
	bool defer_taskrun;
	bool read_multishot; /* IORING_OP_READ_MULTISHOT (Linux 6.7) */
};

/**
 * uring_setup() - create @ring with @entries SQEs, trying
 * SINGLE_ISSUER|DEFER_TASKRUN, then COOP_TASKRUN, then no flags; probe
 * opcodes into @caps. Must run on the thread that will submit.
 * Return: 0, -errno.
 */
int uring_setup(struct io_uring *ring, unsigned int entries, struct uring_caps *caps);

struct uring_bufring {
	struct io_uring_buf_ring *br;
	size_t map_size;
	uint32_t entries;
	uint32_t mask;
	uint16_t bgid;
	uint32_t added; /* adds since the last advance */
};

/**
 * uring_bufring_setup() - map and register a provided-buffer ring of
 * @entries (power of two) as group @bgid
 * Return: 0, -errno (-EINVAL also when the kernel lacks buffer rings).
 */
int uring_bufring_setup(struct io_uring *ring, struct uring_bufring *b, uint32_t entries,
			uint16_t bgid);

void uring_bufring_free(struct io_uring *ring, struct uring_bufring *b);

/** uring_bufring_add() - queue buffer @bid at @addr; visible after _publish */
static inline void uring_bufring_add(struct uring_bufring *b, void *addr, uint32_t len,
				     uint16_t bid)
{
	io_uring_buf_ring_add(b->br, addr, len, bid, (int)b->mask, (int)b->added);
	b->added++;
}

/** uring_bufring_publish() - make the added buffers visible to the kernel */
static inline void uring_bufring_publish(struct uring_bufring *b)
{
	if (b->added) {
		io_uring_buf_ring_advance(b->br, (int)b->added);
		b->added = 0;
	}
}

/** uring_prep_read_multishot() - multishot read into group @bgid buffers */
void uring_prep_read_multishot(struct io_uring_sqe *sqe, int fd, uint16_t bgid);

/** uring_prep_read_select() - one read into a group @bgid buffer */
void uring_prep_read_select(struct io_uring_sqe *sqe, int fd, uint16_t bgid);

#endif
