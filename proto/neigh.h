/* SPDX-License-Identifier: MIT */
/*
 * Neighbour cache (IPv4 over Ethernet for now; NDP will share it). States
 * and timers follow Linux's NUD machine (net/core/neighbour.c):
 *
 *   INCOMPLETE --reply--> REACHABLE --reachable_time--> STALE --use--> DELAY
 *       |                     ^                                        |
 *   mcast_solicit             +------------ confirmation --------------+
 *   probes lost                                                        |
 *       v                                                delay_first_probe_time
 *     FAILED <------------- ucast_solicit probes lost ------------- PROBE
 *
 * Packets for an INCOMPLETE entry wait in a queue bounded by
 * unres_qlen_bytes; the oldest are dropped first. The table has a fixed
 * capacity (gc_thresh3); FAILED and long-unused STALE entries are collected.
 */
#ifndef USNET_PROTO_NEIGH_H
#define USNET_PROTO_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

struct stack;

enum neigh_state {
	NUD_NONE = 0,
	NUD_INCOMPLETE,
	NUD_REACHABLE,
	NUD_STALE,
	NUD_DELAY,
	NUD_PROBE,
	NUD_FAILED,
	NUD_PERMANENT,
};

struct neigh {
	uint32_t addr; /* network order; 0 = free slot */
	uint32_t hnext; /* hash chain / free list, index + 1 */
	uint8_t mac[6];
	uint8_t state; /* enum neigh_state */
	uint8_t probes; /* solicitations sent in this state */
	uint64_t confirmed; /* last reachability confirmation, ns */
	uint64_t updated; /* last link-layer address change, ns */
	uint64_t used; /* last packet sent through it, ns */
	uint64_t timer; /* absolute deadline, 0 = none */
	struct pkt_queue pending; /* INCOMPLETE: packets waiting */
};

struct neigh_table {
	struct neigh *entries;
	uint32_t *buckets; /* index + 1 of first entry, 0 = empty */
	uint32_t size; /* capacity */
	uint32_t nbuckets; /* power of two */
	uint32_t count;
	uint32_t free; /* free list head, index + 1 */
	uint64_t hash_key;
	uint64_t reachable_time_ns; /* randomised from base_reachable_time */
	uint64_t next_reroll; /* when reachable_time is drawn again */
	uint64_t next_gc;
	uint64_t next_timer; /* cached minimum of entry timers and gc */
	uint32_t pending_bufs; /* pool buffers held by all entries' queues */
};

/** Snapshot of one entry for the admin interface and tests. */
struct neigh_info {
	uint32_t addr;
	uint8_t mac[6];
	uint8_t state;
	uint8_t probes;
	uint64_t confirmed_ago_ns;
	uint64_t used_ago_ns;
	uint32_t queued;
};

/** neigh_init() - allocate a table of @size entries. Return: 0, -EINVAL, -ENOMEM. */
int neigh_init(struct stack *st, uint32_t size);

/** neigh_fini() - free the table and every pending packet */
void neigh_fini(struct stack *st);

/** neigh_lookup() - the entry for @addr, or NULL */
struct neigh *neigh_lookup(struct stack *st, uint32_t addr);

/**
 * neigh_output() - send @pkt (IP header in place) to @nexthop, resolving its
 * link-layer address first if needed. Consumes @pkt.
 * Return: 0 if sent or queued (a FAILED entry starts resolving again, as on
 * Linux), -ENOBUFS if the table is full or the packet alone exceeds
 * unres_qlen_bytes (dropped and counted).
 */
int neigh_output(struct stack *st, struct pkt *pkt, uint32_t nexthop);

/* neigh_update() flags, after Linux's NEIGH_UPDATE_F_* */
#define NEIGH_F_OVERRIDE 1u /* a different address may replace the known one */
#define NEIGH_F_CREATE 2u /* create the entry if missing */

/**
 * neigh_update() - new information about @addr: link-layer address @mac,
 * proposed state @state (NUD_REACHABLE for a solicited reply, NUD_STALE for
 * anything else). Sends what was waiting for resolution.
 */
void neigh_update(struct stack *st, uint32_t addr, const uint8_t mac[6], enum neigh_state state,
		  unsigned int flags);

/** neigh_timers() - run due entry timers and garbage collection */
void neigh_timers(struct stack *st);

/** neigh_next_timer() - next neighbour deadline, UINT64_MAX if none */
uint64_t neigh_next_timer(const struct stack *st);

/**
 * neigh_dump() - copy up to @max entries into @out
 * Return: the number copied.
 */
unsigned int neigh_dump(const struct stack *st, struct neigh_info *out, unsigned int max);

/** neigh_state_name() - "REACHABLE" etc., as ip-neighbour(8) prints them */
const char *neigh_state_name(unsigned int state);

/** arp_input() - process one ARP packet (data at the ARP header). Consumes @pkt. */
void arp_input(struct stack *st, struct pkt *pkt);

/**
 * arp_solicit() - send an ARP request for @target from a local source
 * address; unicast to @mac if non-NULL, else broadcast.
 */
void arp_solicit(struct stack *st, uint32_t target, const uint8_t *mac);

/** arp_announce() - gratuitous ARP request for local address @addr */
void arp_announce(struct stack *st, uint32_t addr);

#endif
