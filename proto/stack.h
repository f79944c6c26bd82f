/* SPDX-License-Identifier: MIT */
/*
 * struct stack: one instance of the protocol stack, owned by one worker. The
 * whole surface the daemon drives is here: frames in with a timestamp,
 * timers run when due, frames drained out. Nothing in proto reads a clock,
 * makes a syscall or starts a thread (DESIGN.md, sans-IO).
 *
 * Addresses are IPv4 in network byte order (uint32_t as on the wire, like
 * Linux's __be32) everywhere in proto.
 */
#ifndef USNET_PROTO_STACK_H
#define USNET_PROTO_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "drop.h"
#include "icmp.h"
#include "mib.h"
#include "neigh.h"
#include "pkt.h"
#include "pkt_pool.h"
#include "rng.h"
#include "route.h"
#include "sock.h"
#include "tcp.h"
#include "trace.h"
#include "wheel.h"

#define STACK_MAX_ADDRS 16
#define IPV4_IDENTS 256 /* IP ID counters, hashed by flow */

struct ifaddr {
	uint32_t addr; /* network order */
	uint32_t mask; /* network order */
	uint32_t bcast; /* directed broadcast, network order */
	uint8_t plen;
};

struct stack {
	struct stack_cfg cfg;
	struct pkt_pool *pool;
	uint64_t now; /* ns, set by every entry point */
	bool rx_batch; /* between stack_rx_begin() and stack_rx_end() */
	struct rng rng;
	struct pkt_queue txq; /* frames for the link, drained by the caller */
	struct pkt_queue loq; /* datagrams to our own addresses (stack_loopback) */
	struct mib mib;
	struct ifaddr addrs[STACK_MAX_ADDRS];
	unsigned int naddrs;
	struct fib fib;
	struct neigh_table neigh;
	struct icmp_state icmp;
	uint16_t ip_idents[IPV4_IDENTS];
	struct wheel wheel;		/* every protocol timer but ARP's */
	struct tcp_table tcp;
	struct sock *evq_head;		/* sockets with events for the owner */
	struct sock **evq_tail;
	uint64_t challenge_stamp_s;	/* RFC 5961 §7 stack-wide limit */
	uint32_t challenge_count;
	trace_fn trace;
	void *trace_arg;
	unsigned int trace_mask;
};

/**
 * stack_init() - set up @st with @cfg, taking packets from @pool
 * @seed: 16 random bytes; every keyed hash and jitter derives from them.
 * Return: 0, -EINVAL for a bad MTU or table size, -ENOMEM.
 */
int stack_init(struct stack *st, const struct stack_cfg *cfg, struct pkt_pool *pool,
	       const uint8_t seed[16]);

/** stack_fini() - free tables and every queued packet */
void stack_fini(struct stack *st);

/**
 * stack_input() - process one received Ethernet frame. Consumes @pkt.
 * pkt->data points at the Ethernet header.
 */
void stack_input(struct stack *st, struct pkt *pkt, uint64_t now_ns);

/** stack_timers() - run timers due at @now_ns (at most STACK_TIMER_BUDGET;
 * stack_next_timer() then says "now" if more are due) */
#define STACK_TIMER_BUDGET 4096
void stack_timers(struct stack *st, uint64_t now_ns);

/**
 * stack_rx_begin() - frames given to stack_input() until stack_rx_end() came
 * in one batch from the link (one NAPI round): TCP may answer a flow's
 * in-order data with one ACK for the batch, as Linux does for a GRO packet
 * (tunable tcp_ack_coalesce). Without a batch, every frame stands alone.
 */
void stack_rx_begin(struct stack *st);

/** stack_rx_end() - end the batch: send the ACKs it owes */
void stack_rx_end(struct stack *st, uint64_t now_ns);

/**
 * stack_poll() - run work that frees of transmitted frames made possible
 * (TCP small queues): call after handing the link's completions back
 */
void stack_poll(struct stack *st, uint64_t now_ns);

/** stack_next_timer() - absolute ns of the next deadline, UINT64_MAX if none */
uint64_t stack_next_timer(const struct stack *st);

/** stack_tx_pop() - next frame to transmit, oldest first; the caller owns it */
static inline struct pkt *stack_tx_pop(struct stack *st)
{
	return pkt_queue_pop(&st->txq);
}

/** stack_tx_pending() - frames waiting in the transmit queue */
static inline unsigned int stack_tx_pending(const struct stack *st)
{
	return st->txq.len;
}

/** stack_loopback_pending() - datagrams to ourselves waiting for input */
static inline unsigned int stack_loopback_pending(const struct stack *st)
{
	return st->loq.len;
}

/**
 * stack_loopback() - deliver the datagrams sent to our own addresses, as
 * Linux's loopback device does from its backlog: after the sender has
 * returned, never inside it (TCP to itself must not recurse). At most
 * STACK_LOOPBACK_BUDGET per call; what they send in turn waits for the next.
 */
#define STACK_LOOPBACK_BUDGET 256
void stack_loopback(struct stack *st, uint64_t now_ns);

/**
 * stack_addr_add() - add local address @addr/@plen, its connected route and
 * announce it with a gratuitous ARP.
 * Return: 0, -EINVAL for a zero, multicast, broadcast or loopback address or
 * @plen over 32, -EEXIST if present, -ENOSPC if STACK_MAX_ADDRS are in use.
 */
int stack_addr_add(struct stack *st, uint32_t addr, unsigned int plen, uint64_t now_ns);

/**
 * stack_addr_del() - remove @addr and its connected route
 * Return: 0, -EADDRNOTAVAIL if it is not local.
 */
int stack_addr_del(struct stack *st, uint32_t addr);

/** stack_addr_is_local() - @addr is one of our unicast addresses */
bool stack_addr_is_local(const struct stack *st, uint32_t addr);

/**
 * stack_addr_is_bcast() - @addr is 255.255.255.255 or the directed
 * broadcast of one of our subnets
 */
bool stack_addr_is_bcast(const struct stack *st, uint32_t addr);

/** stack_xmit() - queue a finished frame for the link. Consumes @pkt. */
void stack_xmit(struct stack *st, struct pkt *pkt);

#endif
