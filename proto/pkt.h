/* SPDX-License-Identifier: MIT */
/*
 * Packet buffer: a small sk_buff. A struct pkt is metadata over a data
 * buffer from a struct pkt_pool: head/data/tail/end pointers with
 * push/pull/put/trim, layer offsets, checksum and GSO state, and two
 * reference counts.
 *
 *   head          data             tail          end
 *    |  headroom   |  packet bytes  |  tailroom   |
 *
 * Sharing: pkt_get() takes another reference to the same metadata and data
 * (both holders must treat it as read-only); pkt_clone() makes new metadata
 * over the same data, so a clone may push its own headers into headroom
 * while the original keeps its view (Linux skb_clone). pkt_is_shared()
 * tells a writer it must copy first.
 */
#ifndef USNET_PROTO_PKT_H
#define USNET_PROTO_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt_pool;

/*
 * Headroom reserved on transmit: virtio-net header (12), Ethernet with one
 * VLAN tag (18), IPv4 or IPv6 with options (60) and TCP with options (60),
 * rounded so that the IP header after a 14-byte Ethernet header lands on a
 * 16-byte boundary.
 */
#define PKT_HEADROOM 162u

enum pkt_csum {
	PKT_CSUM_NONE = 0, /* checksums are in the bytes; verify them */
	PKT_CSUM_UNNECESSARY, /* the link verified the L4 checksum */
	PKT_CSUM_PARTIAL, /* L4 checksum still to fill: csum_start/csum_off */
};

struct pkt {
	struct pkt *next; /* queue linkage, owned by the current holder */
	struct pkt_pool *pool;
	uint8_t *head;
	uint8_t *data;
	uint8_t *tail;
	uint8_t *end;
	uint32_t data_id; /* index of the data buffer in the pool */
	uint16_t refcnt; /* references to this metadata */
	uint16_t protocol; /* ethertype, host order, set by eth input */
	uint16_t l2_off; /* offsets from head; 0xffff = unset */
	uint16_t l3_off;
	uint16_t l4_off;
	uint8_t csum; /* enum pkt_csum */
	uint8_t l2_type; /* enum eth_pkt_type for received frames */
	uint16_t csum_start; /* offset from head where summing starts */
	uint16_t csum_off; /* offset of the checksum field from csum_start */
	uint16_t gso_size;
	uint8_t gso_type;
	uint8_t pad;
	uint32_t hash; /* flow hash, 0 = not computed */
	uint64_t tstamp; /* receive time, ns */
	struct pkt *ts_next; /* second list, for TCP's time-sorted queue */
	struct pkt *ts_prev;
	uint32_t tsq_owner; /* TCP small queues: 1 + index of the sending socket, 0 = none */
	uint32_t tsq_len; /* bytes charged to that socket */
	uint16_t tsq_gen; /* the socket's generation when charged */
	/* Per-layer scratch space owned by whoever holds the packet (Linux
	 * skb->cb): TCP keeps struct tcp_skb_cb here. */
	_Alignas(8) uint8_t cb[48];
};

/** pkt_len() - bytes between data and tail */
static inline uint32_t pkt_len(const struct pkt *p)
{
	return (uint32_t)(p->tail - p->data);
}

static inline uint32_t pkt_headroom(const struct pkt *p)
{
	return (uint32_t)(p->data - p->head);
}

static inline uint32_t pkt_tailroom(const struct pkt *p)
{
	return (uint32_t)(p->end - p->tail);
}

/**
 * pkt_push() - prepend @len bytes in headroom
 * Return: the new data pointer, or NULL if headroom is short (nothing changes).
 */
static inline uint8_t *pkt_push(struct pkt *p, uint32_t len)
{
	if (pkt_headroom(p) < len)
		return NULL;
	p->data -= len;
	return p->data;
}

/**
 * pkt_pull() - remove @len bytes from the front
 * Return: the new data pointer, or NULL if the packet is shorter than @len.
 */
static inline uint8_t *pkt_pull(struct pkt *p, uint32_t len)
{
	if (pkt_len(p) < len)
		return NULL;
	p->data += len;
	return p->data;
}

/**
 * pkt_put() - append @len bytes in tailroom
 * Return: pointer to the appended area, or NULL if tailroom is short.
 */
static inline uint8_t *pkt_put(struct pkt *p, uint32_t len)
{
	uint8_t *old = p->tail;

	if (pkt_tailroom(p) < len)
		return NULL;
	p->tail += len;
	return old;
}

/** pkt_trim() - cut the packet to @len bytes if it is longer */
static inline void pkt_trim(struct pkt *p, uint32_t len)
{
	if (pkt_len(p) > len)
		p->tail = p->data + len;
}

/** pkt_reserve() - move data and tail forward on an empty packet */
static inline bool pkt_reserve(struct pkt *p, uint32_t len)
{
	if (pkt_len(p) != 0 || pkt_tailroom(p) < len)
		return false;
	p->data += len;
	p->tail += len;
	return true;
}

/** pkt_may_pull() - true if at least @len bytes are present from data */
static inline bool pkt_may_pull(const struct pkt *p, uint32_t len)
{
	return pkt_len(p) >= len;
}

static inline void pkt_set_l2(struct pkt *p)
{
	p->l2_off = (uint16_t)(p->data - p->head);
}
static inline void pkt_set_l3(struct pkt *p)
{
	p->l3_off = (uint16_t)(p->data - p->head);
}
static inline void pkt_set_l4(struct pkt *p)
{
	p->l4_off = (uint16_t)(p->data - p->head);
}
static inline uint8_t *pkt_l2(const struct pkt *p)
{
	return p->head + p->l2_off;
}
static inline uint8_t *pkt_l3(const struct pkt *p)
{
	return p->head + p->l3_off;
}
static inline uint8_t *pkt_l4(const struct pkt *p)
{
	return p->head + p->l4_off;
}

/**
 * pkt_get() - take another reference to @p (metadata and data shared)
 * Return: @p.
 */
struct pkt *pkt_get(struct pkt *p);

/**
 * pkt_free() - drop one reference; the last one returns metadata and,
 * when no clone still uses it, the data buffer to the pool. Consumes @p.
 * NULL is accepted.
 */
void pkt_free(struct pkt *p);

/**
 * pkt_clone() - new metadata sharing @p's data buffer
 * Return: the clone, or NULL if the pool has no free metadata.
 */
struct pkt *pkt_clone(struct pkt *p);

/**
 * pkt_copy() - a private copy of @p's bytes with at least @headroom in front
 * Return: the copy, or NULL if the pool is empty or the bytes do not fit.
 */
struct pkt *pkt_copy(const struct pkt *p, uint32_t headroom);

/** pkt_is_shared() - true if another holder sees the same bytes */
bool pkt_is_shared(const struct pkt *p);

/** A FIFO of packets linked through pkt->next. */
struct pkt_queue {
	struct pkt *head;
	struct pkt *tail;
	uint32_t len;
	uint32_t bytes;
};

static inline void pkt_queue_init(struct pkt_queue *q)
{
	q->head = q->tail = NULL;
	q->len = q->bytes = 0;
}

/** pkt_queue_push() - append @p; consumes @p into the queue */
void pkt_queue_push(struct pkt_queue *q, struct pkt *p);

/**
 * pkt_queue_insert_after() - put @p right after @prev, or first if @prev
 * is NULL (ordered queues: reassembly, a split retransmission); consumes @p
 */
void pkt_queue_insert_after(struct pkt_queue *q, struct pkt *prev, struct pkt *p);

/** pkt_queue_pop() - remove the oldest packet; the caller owns it. NULL if empty. */
struct pkt *pkt_queue_pop(struct pkt_queue *q);

/** pkt_queue_purge() - free every queued packet */
void pkt_queue_purge(struct pkt_queue *q);

#endif
