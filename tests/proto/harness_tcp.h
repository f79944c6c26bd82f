/* SPDX-License-Identifier: MIT */
/*
 * The TCP part of the proto test harness (STYLE.md, "The proto harness"):
 * segments described by struct h_seg, sent from the peer (h_send) or
 * expected from usnet (h_expect), with sequence numbers and timestamps
 * relative to each side's initial values, and a real three-way handshake
 * (h_establish) to get a connection into ESTABLISHED.
 *
 * The peer is 10.77.0.1 (a permanent neighbour, so that ARP never shows up
 * between segments, whatever time the test advances); usnet listens on port
 * 80 by default and the peer uses ports from 40000 up, one per connection.
 *
 * Relative values (unless .abs / .abs_ts):
 *   input  seq  = peer_isn + .seq      ack    = our_isn + .ack
 *          sack = our_isn + .sack[i]   ts_val = peer_ts_base + .ts_val
 *          ts_ecr = our_ts_base + .ts_ecr
 *   expect seq  = our_isn + .seq       ack    = peer_isn + .ack
 *          sack = peer_isn + .sack[i]  ts_val = our_ts_base + .ts_val
 *          ts_ecr = peer_ts_base + .ts_ecr
 * A segment without TH_ACK carries its ack field (and a TSecr) as absolute
 * values: 0 unless the test says otherwise, as RFC 9293 and RFC 7323 want.
 *
 * our_ts_base is usnet's timestamp offset for the connection, learnt from
 * its SYN or SYN-ACK (TSval minus the clock in ms), so that a relative
 * TSval of usnet is simply h_ts(h), the harness clock in ms. The peer's
 * clock works the same way: relative ts_val h_ts(h) is "now".
 *
 * Deviations from the brief's API (additions only):
 *  - Timestamps by default. On a connection with timestamps (c->ts), an
 *    input segment without .ts gets the peer's current TS option (TSval
 *    h_ts(h), TSecr the last TSval usnet sent); .no_ts sends none. An
 *    expectation without .ts requires the option but does not compare its
 *    values; .no_ts requires it absent. Without c->ts, .ts alone decides.
 *  - mss/wscale in an expectation: H_NONE absent, H_ANY not checked at all,
 *    a value: present and equal.
 *  - Payload: input .data NULL with .len > 0 sends h_pattern() bytes of the
 *    segment's relative sequence numbers; an expectation with .data NULL
 *    compares only the length, .any_payload not even that.
 *  - Unless .opts_any, the option bytes must also be laid out exactly as
 *    Linux writes them (tcp_options_write order and NOP padding).
 *  - The lower-level steps of h_establish() are exported (h_conn_new,
 *    h_handshake, h_listen, h_connect, h_accept) for tests that drive a
 *    handshake by hand or change the peer's options first.
 *  - struct h_conn has a few more fields (listener, negotiated options,
 *    what the harness learnt from usnet's segments).
 *
 * Writing tests: use HTest() (harness.h), not Test(), so that h_fini()'s
 * unchecked-frame and leak checks can fail the test. Timers run up to one
 * wheel tick (65.5 us) after their deadline: check "not yet" 1 ms before
 * it and "done" 1 ms after, or 100 us after when the TSval of what the
 * timer sent is compared with h_ts().
 */
#ifndef USNET_TESTS_PROTO_HARNESS_TCP_H
#define USNET_TESTS_PROTO_HARNESS_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "proto/tcp.h"

/* An option or field value meaning "absent" (input and expect). */
#define H_NONE (-2)

#define H_OUR_PORT 80
#define H_PEER_PORT_BASE 40000
/* The peer's ISN and timestamp base: arbitrary, far from 0 and from usnet's. */
#define H_PEER_ISN 0x3b9aca00u
#define H_PEER_TS_BASE 0x12345678u
#define H_PEER_WSCALE 7
#define H_PEER_MSS 1460

/*
 * A TCP segment from the peer (input) or expected from usnet (expect).
 * Build it with SEG(...), which sets the defaults and lets designated
 * initialisers override them.
 */
struct h_seg {
	int flags; /* TH_SYN|TH_ACK|...; expect: exact */
	uint32_t seq, ack; /* relative, see the top of this file */
	int win; /* raw 16-bit field; H_AUTO input: SYN 65535, else 65535 >> peer shift; H_ANY expect */
	int mss, wscale; /* option present iff != H_NONE; H_ANY allowed in expect */
	bool sack_ok;
	bool ts; /* TS option present with these values */
	uint32_t ts_val, ts_ecr;
	bool ts_any; /* expect: TS present, values not compared */
	bool no_ts; /* no TS option even on a connection with timestamps */
	struct {
		uint32_t l, r;
	} sack[4];
	int nsack; /* SACK blocks (relative); expect compares them exactly */
	const void *data; /* payload; a string with .len 0 means strlen */
	unsigned int len;
	bool abs, abs_ts, opts_any, any_payload;
	/* malformed input */
	bool bad_csum; /* store a wrong checksum */
	int doff; /* H_AUTO: header and options; else this data offset (words) */
	const void *raw_opts; /* exact option bytes instead of the fields above */
	unsigned int raw_opts_len; /* padded with EOL to 4 bytes */
	int sport, dport; /* H_AUTO: the connection's ports (host order) */
	int urg; /* urgent pointer (input), 0 */
};

#define SEG(...)                           \
	((struct h_seg){ .win = H_AUTO,    \
			 .mss = H_NONE,    \
			 .wscale = H_NONE, \
			 .doff = H_AUTO,   \
			 .sport = H_AUTO,  \
			 .dport = H_AUTO,  \
			 __VA_ARGS__ })

struct h_stream;

struct h_conn {
	struct tcp_sock *tp; /* usnet's socket (the child after accept, when passive) */
	struct tcp_sock *listener; /* passive: the listener it came from */
	uint16_t peer_port, our_port; /* host order */
	uint32_t peer_isn, our_isn; /* absolute */
	uint32_t peer_ts_base, our_ts_base;
	bool ts; /* timestamps in use */
	int peer_wscale, our_wscale; /* shifts in use (0 without window scaling) */
	struct h_stream *s; /* test-owned stream buffers behind sk_stream_ops */
	/* added */
	unsigned int flags; /* H_* given to h_conn_new() */
	bool ws, sack; /* window scaling, SACK negotiated */
	int peer_mss; /* the MSS option the peer sends; H_NONE: none */
	int peer_win; /* raw window of the peer's SYN and handshake ACK; H_AUTO: default */
	int our_mss; /* the MSS usnet announces (route MTU - 40) */
	bool isn_known; /* our_isn learnt from usnet's SYN or SYN-ACK */
	uint32_t last_tsval; /* absolute TSval of usnet's last segment */
};

enum {
	H_PASSIVE = 1, /* the peer connects to a usnet listener (the default) */
	H_ACTIVE = 2, /* usnet connects to the peer */
	H_SACK = 4, /* the peer offers SACK-permitted */
	H_TS = 8, /* the peer offers timestamps */
	H_WS = 16, /* the peer offers window scaling (shift H_PEER_WSCALE) */
	H_NO_ACCEPT = 32, /* passive: leave the connection in the accept queue */
};

/* --- setup -------------------------------------------------------------------- */

/**
 * h_conn_new() - describe a connection to come, without touching the
 * stack: ports (a fresh peer port), the peer's ISN, timestamp base and
 * options from @flags. Change fields before h_handshake() to vary them.
 */
struct h_conn h_conn_new(struct harness *h, unsigned int flags);

/**
 * h_handshake() - run the real three-way handshake for @c (passive: SYN,
 * SYN-ACK, ACK against the listener on c->our_port, created if needed, then
 * accept unless H_NO_ACCEPT; active: tcp_connect, SYN, SYN-ACK, ACK), check
 * usnet's segments, attach test streams, and drain the socket's events:
 * afterwards nothing is pending in tx, no drop was counted, no event is
 * queued.
 */
void h_handshake_at(struct harness *h, struct h_conn *c, const char *file, int line);
#define h_handshake(h, c) h_handshake_at((h), (c), __FILE__, __LINE__)

/** h_establish() - h_conn_new() and h_handshake() */
struct h_conn h_establish_at(struct harness *h, unsigned int flags, const char *file, int line);
#define h_establish(h, flags) h_establish_at((h), (flags), __FILE__, __LINE__)

/**
 * h_listen() - a listener on 0.0.0.0:@port (host order) with @backlog;
 * the harness remembers it, and h_handshake() uses it for that port.
 */
struct tcp_sock *h_listen(struct harness *h, uint16_t port, int backlog);

/** h_listener() - the listener h_listen() made for @port, or NULL */
struct tcp_sock *h_listener(struct harness *h, uint16_t port);

/**
 * h_connect() - tcp_open(), test streams attached, tcp_connect() to the
 * peer's c->peer_port. Return: what tcp_connect() returned (c->tp is set
 * in any case). The SYN is for the test to expect.
 */
int h_connect(struct harness *h, struct h_conn *c);

/**
 * h_accept() - tcp_accept() on c->listener (the listener of c->our_port if
 * unset), attach test streams.
 * Return: false if the accept queue was empty.
 */
bool h_accept(struct harness *h, struct h_conn *c);

/** h_attach() - give @c->tp fresh test streams (tcp_attach) */
void h_attach(struct harness *h, struct h_conn *c);

/** h_close() - tcp_close(c->tp); c->tp is NULL afterwards (it may be freed) */
void h_close(struct harness *h, struct h_conn *c);

/* --- segments ----------------------------------------------------------------- */

/** h_send() - build Ethernet + IPv4 + TCP from @s and give it to stack_input() */
void h_send(struct harness *h, struct h_conn *c, struct h_seg s);

/** h_build_seg() - the frame h_send() would send. Return: its length. */
unsigned int h_build_seg(struct harness *h, struct h_conn *c, const struct h_seg *s, uint8_t *buf,
			 size_t cap);

/**
 * h_expect_seg_at() - pop the next frame and compare it with @want: L2 and
 * IPv4 as h_expect_ip does (TCP: DF set, TTL 64), then every TCP field one
 * at a time, failing with a named message ("t.c:40: tcp ack: got 7, want 1
 * [S.] seq 0 ack 7 ...") at the caller's file and line.
 */
void h_expect_seg_at(struct harness *h, struct h_conn *c, struct h_seg want, struct h_frame *out,
		     const char *file, int line);
#define h_expect(h, c, ...) h_expect_seg_at((h), (c), (__VA_ARGS__), NULL, __FILE__, __LINE__)
/* The same, keeping a copy of the frame in *@f. */
#define h_expect_frame(h, c, f, ...) \
	h_expect_seg_at((h), (c), (__VA_ARGS__), (f), __FILE__, __LINE__)

/* A parsed TCP segment (from a frame usnet sent), absolute values. */
struct h_tcp_info {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	unsigned int doff; /* bytes */
	int mss, wscale; /* H_NONE if absent */
	bool sack_ok, ts;
	uint32_t ts_val, ts_ecr;
	unsigned int nsack;
	uint32_t sack_l[4], sack_r[4];
	const uint8_t *payload; /* into the frame */
	unsigned int len;
};

/** h_parse_seg() - parse the TCP segment in @f. Return: false if it is not one. */
bool h_parse_seg(const struct h_frame *f, struct h_tcp_info *out);

/** h_pattern() - the payload byte h_send() uses at relative sequence @seq */
static inline uint8_t h_pattern(uint32_t seq)
{
	return (uint8_t)('A' + seq % 26);
}

/** h_ts() - the harness clock in ms: a relative TSval meaning "now" */
static inline uint32_t h_ts(const struct harness *h)
{
	return (uint32_t)(h->now / MS);
}

/* --- the application's side ------------------------------------------------------- */

/** h_write() - the application writes @len bytes, then tcp_push(). Return: @len. */
size_t h_write(struct harness *h, struct h_conn *c, const void *buf, size_t len);

/** h_read() - the application reads up to @len bytes, then tcp_recved(). Return: bytes read. */
size_t h_read(struct harness *h, struct h_conn *c, void *buf, size_t len);

/** h_readable() - bytes waiting in c's receive stream */
size_t h_readable(const struct h_conn *c);

/** h_unsent() - bytes written by the application that TCP has not taken yet */
size_t h_unsent(const struct h_conn *c);

/**
 * h_rx_limit() - make c's receive stream hold at most @limit bytes (a full
 * application buffer); SIZE_MAX for no limit (the default)
 */
void h_rx_limit(struct h_conn *c, size_t limit);

/**
 * h_events() - drain stack_event_pop() and return (and clear) the event
 * bits of c->tp (SK_EV_*); other sockets keep theirs
 */
unsigned int h_events(struct harness *h, struct h_conn *c);

/** h_sock_events() - the same for any socket */
unsigned int h_sock_events(struct harness *h, struct tcp_sock *tp);

/* --- counters ------------------------------------------------------------------------ */

static inline uint64_t h_tcp_mib(const struct harness *h, enum tcp_mib i)
{
	return h->st.mib.tcp[i];
}

static inline uint64_t h_tcpext_mib(const struct harness *h, enum tcpext_mib i)
{
	return h->st.mib.tcpext[i];
}

/** h_tcp_state() - c->tp's state, or TCP_CLOSE if the socket is gone */
int h_tcp_state(const struct h_conn *c);

/**
 * h_conn_state() - the state of whatever holds @c's 4-tuple, as `usnet
 * sockets` lists it (tcp_foreach): a full socket not in CLOSE, else a
 * request sock (TCP_SYN_RECV) or TIME-WAIT entry (TCP_TIME_WAIT,
 * TCP_FIN_WAIT2); TCP_CLOSE if nothing does
 */
int h_conn_state(struct harness *h, const struct h_conn *c);

/**
 * h_tw_state() - TCP_TIME_WAIT or TCP_FIN_WAIT2 if a TIME-WAIT entry holds
 * @c's 4-tuple, else 0 (for `usnet sockets`-style checks)
 */
int h_tw_state(struct harness *h, const struct h_conn *c);

#endif
