/* SPDX-License-Identifier: MIT */
/*
 * Admin protocol (chrony candm style): a request is an ipc_hdr with a
 * command type; the reply is one or more messages (IPC_F_MORE on all but the
 * last) whose payload is a sequence of records. The daemon sends records,
 * never text: all formatting, human or JSON, happens in the client.
 *
 * A record is struct admin_rec followed by its body; rec.len counts both
 * and is a multiple of 8. Unknown record types are skipped by length, so a
 * newer daemon can add records without breaking an older client.
 */
#ifndef USNET_IPC_ADMIN_MSG_H
#define USNET_IPC_ADMIN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

enum admin_msg_type {
	ADMIN_STATUS = 1, /* daemon, link, addresses, routes, neighbours, counters */
	ADMIN__MAX
};

enum admin_rec_type {
	ADMIN_REC_DAEMON = 1,
	ADMIN_REC_LINK,
	ADMIN_REC_ADDR,
	ADMIN_REC_ROUTE,
	ADMIN_REC_NEIGH,
	ADMIN_REC_COUNTER,
	ADMIN_REC__MAX
};

struct admin_rec {
	uint16_t type;
	uint16_t len;
	uint32_t reserved;
};

struct admin_rec_daemon {
	char version[32];
	uint64_t uptime_ns;
	uint32_t pid;
	uint32_t workers;
	char rx_mode[48]; /* how frames are read, as the daemon chose at start */
};

struct admin_rec_link {
	char name[16];
	char kind[8]; /* "tap" */
	char netns[64]; /* namespace holding the kernel side, "" = ours */
	uint8_t mac[6];
	uint16_t pad;
	uint32_t mtu;
	uint32_t ifindex;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_dropped; /* no buffer, or bad virtio-net header */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_errors;
};

struct admin_rec_addr {
	uint8_t family; /* AF_INET */
	uint8_t plen;
	uint8_t pad[2];
	uint8_t addr[16]; /* network order */
	uint8_t bcast[16];
	uint8_t pad2[4];
};

struct admin_rec_route {
	uint8_t family;
	uint8_t plen;
	uint8_t proto; /* 2 kernel (connected), 4 static */
	uint8_t pad;
	uint32_t metric;
	uint8_t dst[16];
	uint8_t gw[16]; /* all zero: on-link */
	uint8_t src[16];
};

struct admin_rec_neigh {
	uint8_t family;
	uint8_t state; /* NUD_* numbering of proto/neigh.h */
	uint8_t mac[6];
	uint8_t addr[16];
	uint32_t probes;
	uint32_t queued;
	uint64_t confirmed_ago_ms; /* UINT64_MAX: never confirmed */
	uint64_t used_ago_ms;
	char state_name[16];
};

struct admin_rec_counter {
	char group[16]; /* "Ip", "Icmp", "Arp", "Drop", "Link", "Worker" */
	char name[48]; /* nstat name, or the drop reason */
	uint64_t value;
};

#define ADMIN_REC_BODY_ASSERT(t, sz) \
	_Static_assert(sizeof(struct t) == (sz) && sizeof(struct t) % 8 == 0, #t " layout")
ADMIN_REC_BODY_ASSERT(admin_rec, 8);
ADMIN_REC_BODY_ASSERT(admin_rec_daemon, 96);
ADMIN_REC_BODY_ASSERT(admin_rec_link, 152);
ADMIN_REC_BODY_ASSERT(admin_rec_addr, 40);
ADMIN_REC_BODY_ASSERT(admin_rec_route, 56);
ADMIN_REC_BODY_ASSERT(admin_rec_neigh, 64);
ADMIN_REC_BODY_ASSERT(admin_rec_counter, 72);

/**
 * admin_rec_body_size() - the body size a record type must have at least
 * Return: the size, or 0 for an unknown type (to be skipped).
 */
size_t admin_rec_body_size(unsigned int type);

/** Writer over a caller's buffer. */
struct admin_buf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/**
 * admin_msg_init() - start a message of @type in @b with header fields set
 * Return: 0, -ENOSPC if @b cannot hold a header.
 */
int admin_msg_init(struct admin_buf *b, uint16_t type, uint32_t seq, uint16_t flags,
		   int32_t status);

/**
 * admin_msg_add() - append a record of @type with @len body bytes
 * Return: 0, -ENOSPC if it does not fit (the buffer is unchanged).
 */
int admin_msg_add(struct admin_buf *b, uint16_t type, const void *body, size_t len);

/** admin_msg_finish() - write the final length into the header */
void admin_msg_finish(struct admin_buf *b);

/**
 * admin_msg_check() - validate a received message of @len bytes
 * Return: 0, -EBADMSG if shorter than a header or the length field lies,
 * -EPROTO on a bad magic, -EPROTONOSUPPORT on another version.
 */
int admin_msg_check(const void *msg, size_t len);

/**
 * admin_msg_next() - iterate over records of a checked message
 * @off: in/out cursor, start at 0
 * Return: 1 with *@rec and *@body set, 0 at the end, -EBADMSG if a record
 * overruns the message, is misaligned, or is shorter than its type needs.
 */
int admin_msg_next(const void *msg, size_t len, size_t *off, const struct admin_rec **rec,
		   const void **body);

#endif
