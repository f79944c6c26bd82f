/* SPDX-License-Identifier: MIT */
/*
 * Protocol-independent socket core: what the owner of a socket (usnetd's
 * services now, the shim through ipc/ next) sees of it. Payload moves
 * through struct sk_stream_ops, which the owner supplies: proto never knows
 * whether the bytes live in a shared-memory fifo or a test's buffer.
 * Readiness is reported by setting event bits and putting the socket on
 * the stack's event queue once (stack_event_pop()); nothing is called back.
 */
#ifndef USNET_PROTO_SOCK_H
#define USNET_PROTO_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack;

/*
 * The owner's side of a stream socket's payload.
 *
 * Transmit: bytes the application has written and TCP has not yet taken.
 * TCP copies them into segments with tx_peek() and then drops them with
 * tx_consume() (from then on they live in TCP's retransmit queue).
 *
 * Receive: rx_append() stores in-order bytes for the application and
 * returns how many it took (TCP never offers more than the window it
 * advertised, which it computes from sk->rcvbuf and rx_queued()).
 */
struct sk_stream_ops {
	size_t (*tx_avail)(void *ctx);
	size_t (*tx_peek)(void *ctx, void *buf, size_t len);
	void (*tx_consume)(void *ctx, size_t len);
	size_t (*rx_append)(void *ctx, const void *buf, size_t len);
	size_t (*rx_queued)(void *ctx);
};

/* Event bits, set in sock.events; the owner clears what it has handled. */
enum sock_event {
	SK_EV_READABLE = 1u << 0,	/* data or end of stream to read */
	SK_EV_WRITABLE = 1u << 1,	/* TCP took data: room to write */
	SK_EV_ERROR = 1u << 2,		/* sock.err set (ECONNRESET, ETIMEDOUT...) */
	SK_EV_HUP = 1u << 3,		/* peer closed its side (FIN received) */
	SK_EV_ACCEPT = 1u << 4,		/* listener: a connection is ready */
	SK_EV_CONNECTED = 1u << 5,	/* active open completed */
};

/* sock.opts: SOL_SOCKET booleans. */
#define SK_OPT_REUSEADDR (1u << 0)
#define SK_OPT_REUSEPORT (1u << 1)
#define SK_OPT_KEEPALIVE (1u << 2)
#define SK_OPT_LINGER (1u << 3)
/* IPV6_V6ONLY on an AF_INET6 socket: it never meets IPv4 sockets or
 * datagrams. usnet has no IPv6 yet, so such a socket binds and listens
 * (a server's "listen [::]" next to "listen 0.0.0.0") and receives nothing. */
#define SK_OPT_V6ONLY (1u << 4)

struct sock {
	uint8_t protocol;
	uint8_t orphan;			/* the owner has closed it; proto finishes alone */
	uint16_t opts;			/* SK_OPT_* */
	uint32_t events;		/* pending SK_EV_* for the owner */
	struct sock *ev_next;		/* event queue; ev_pprev NULL when not queued */
	struct sock **ev_pprev;
	int err;			/* pending error (positive errno), SO_ERROR */
	uint32_t sndbuf;		/* bytes: in flight plus unsent the owner may hold */
	uint32_t rcvbuf;		/* bytes: the most the receive window may offer */
	uint32_t linger_s;
	const struct sk_stream_ops *ops;
	void *ctx;			/* the owner's, passed to ops */
	void *owner;			/* the owner's, untouched by proto */
	uint32_t uid;			/* the owner's label (Linux's sk_uid): proto only
					 * copies it to accepted children and to the
					 * TIME-WAIT entry, which outlive the owner */
};

/** sock_event() - raise @ev on @sk and queue it for the owner once */
void sock_event(struct stack *st, struct sock *sk, uint32_t ev);

/**
 * stack_event_pop() - next socket with events, oldest first, or NULL. The
 * owner reads and clears sk->events.
 *
 * Lifetime: a socket belongs to its owner from its creation (or accept)
 * until the owner closes it, exactly once, with the protocol's close
 * function (tcp_close()); proto never frees it before. After close the
 * socket is an orphan: proto finishes the protocol alone, queues no more
 * events for it and frees it when done.
 */
struct sock *stack_event_pop(struct stack *st);

/** sock_evq_remove() - take @sk off the event queue (on close) */
void sock_evq_remove(struct stack *st, struct sock *sk);

#endif
