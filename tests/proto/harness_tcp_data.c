// SPDX-License-Identifier: MIT
/*
 * Helpers for the TCP data-path tests; see harness_tcp_data.h.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness_tcp_data.h"

struct h_conn hd_establish_rtt_at(struct harness *h, unsigned int flags, uint64_t rtt_ns,
				  const char *file, int line)
{
	struct h_conn c = h_conn_new(h, flags | H_PASSIVE);
	struct h_tcp_info t;
	struct h_frame f;

	c.listener = h_listener(h, c.our_port);
	if (!c.listener)
		c.listener = h_listen(h, c.our_port, 128);
	h_send(h, &c,
	       SEG(.flags = TH_SYN, .seq = 0, .ack = 0, .mss = c.peer_mss,
		   .wscale = (flags & H_WS) ? c.peer_wscale : H_NONE, .sack_ok = flags & H_SACK,
		   .ts = flags & H_TS, .ts_val = h_ts(h), .ts_ecr = 0));
	h_expect_seg_at(
		h, &c,
		SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1, .win = H_ANY, .opts_any = true),
		&f, file, line);
	cr_assert(h_parse_seg(&f, &t), "%s:%d: SYN-ACK does not parse", file, line);
	/* What h_handshake() learns from the SYN-ACK. */
	c.ws = (flags & H_WS) && t.wscale != H_NONE;
	c.our_wscale = c.ws ? t.wscale : 0;
	if (!c.ws)
		c.peer_wscale = 0;
	c.sack = (flags & H_SACK) && t.sack_ok;
	c.ts = (flags & H_TS) && t.ts;

	h_advance(h, rtt_ns);
	h_send(h, &c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
	h_expect_nothing_at(h, file, line);
	cr_assert(h_accept(h, &c), "%s:%d: nothing to accept after the handshake", file, line);
	cr_assert_eq(c.tp->state, TCP_ESTABLISHED, "%s:%d: accepted socket in state %d", file, line,
		     c.tp->state);
	h_sock_events(h, c.listener);
	h_events(h, &c);
	h_expect_drops_at(h, DROP__MAX, 0, file, line);
	return c;
}

uint64_t hd_wait_frame(struct harness *h, uint64_t max_ns)
{
	uint64_t start = h->now, end = h->now + max_ns;

	while (!stack_tx_pending(&h->st)) {
		uint64_t next = stack_next_timer(&h->st);

		if (next > end) {
			h_advance(h, end - h->now);
			return stack_tx_pending(&h->st) ? h->now - start : UINT64_MAX;
		}
		h_advance(h, next > h->now ? next - h->now : 0);
	}
	return h->now - start;
}

void hd_setopt(struct harness *h, struct h_conn *c, enum tcp_opt opt, int value)
{
	int rc;

	h->st.now = h->now;
	rc = tcp_setopt(&h->st, c->tp, opt, value);
	cr_assert_eq(rc, 0, "tcp_setopt(%d, %d): %d", (int)opt, value, rc);
}

struct tcp_info_lite hd_info(struct harness *h, const struct h_conn *c)
{
	struct tcp_info_lite info;

	h->st.now = h->now;
	tcp_get_info(&h->st, c->tp, &info);
	return info;
}

void hd_pattern(uint8_t *buf, size_t len, size_t off)
{
	/* Not h_pattern(): the two directions must not look alike. */
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)('a' + (off + i) % 23);
}

void hd_write(struct harness *h, struct h_conn *c, size_t off, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	cr_assert(buf, "out of memory");
	hd_pattern(buf, len, off);
	h_write(h, c, buf, len);
	free(buf);
}

void hd_expect_data_at(struct harness *h, struct h_conn *c, int flags, uint32_t seq, uint32_t len,
		       uint32_t ack, struct h_frame *out, const char *file, int line)
{
	uint8_t *buf = malloc(len ? len : 1);

	cr_assert(buf, "out of memory");
	hd_pattern(buf, len, seq - 1);
	if (flags == H_ANY) {
		/* Whatever flags a data segment may carry (PSH or not). */
		struct h_frame f;
		struct h_tcp_info t;

		cr_assert(h_pop(h, &f), "%s:%d: expected a data segment, nothing was sent", file,
			  line);
		stack_poll(&h->st, h->now);
		cr_assert(h_parse_seg(&f, &t), "%s:%d: not a TCP segment", file, line);
		if (t.ts)
			c->last_tsval = t.ts_val;
		cr_assert((t.flags & ~TH_PSH) == TH_ACK, "%s:%d: flags 0x%02x on a data segment",
			  file, line, t.flags);
		cr_assert_eq(t.seq - c->our_isn, seq, "%s:%d: tcp seq: got %u, want %u", file, line,
			     t.seq - c->our_isn, seq);
		cr_assert_eq(t.ack - c->peer_isn, ack, "%s:%d: tcp ack: got %u, want %u", file,
			     line, t.ack - c->peer_isn, ack);
		cr_assert_eq(t.len, len, "%s:%d: payload length: got %u, want %u (seq %u)", file,
			     line, t.len, len, seq);
		cr_assert_eq(memcmp(t.payload, buf, len), 0, "%s:%d: payload of seq %u differs",
			     file, line, seq);
		if (out)
			*out = f;
		free(buf);
		return;
	}
	h_expect_seg_at(h, c,
			SEG(.flags = flags, .seq = seq, .ack = ack, .win = H_ANY, .opts_any = true,
			    .data = buf, .len = len),
			out, file, line);
	free(buf);
}

bool hd_pop_tcp_at(struct harness *h, struct h_conn *c, struct h_tcp_info *t, const char *file,
		   int line)
{
	struct h_frame f;

	if (!h_pop(h, &f))
		return false;
	/* As h_expect(): the link took the frame, TCP small queues may let
	 * the socket go on. */
	stack_poll(&h->st, h->now);
	cr_assert(h_parse_seg(&f, t), "%s:%d: not a TCP segment", file, line);
	cr_assert(t->sport == c->our_port && t->dport == c->peer_port,
		  "%s:%d: segment of another connection (%u -> %u)", file, line, t->sport,
		  t->dport);
	if (t->ts)
		c->last_tsval = t->ts_val;
	t->seq -= c->our_isn;
	t->ack -= c->peer_isn;
	t->payload = NULL; /* points into the local frame */
	return true;
}

unsigned int hd_expect_acks_at(struct harness *h, struct h_conn *c, uint32_t *last_ack,
			       const char *file, int line)
{
	struct h_tcp_info t;
	unsigned int n = 0;

	while (hd_pop_tcp_at(h, c, &t, file, line)) {
		cr_assert_eq(t.flags, TH_ACK, "%s:%d: segment %u: flags 0x%02x, want a pure ACK",
			     file, line, n, t.flags);
		cr_assert_eq(t.len, 0, "%s:%d: segment %u carries %u bytes, want a pure ACK", file,
			     line, n, t.len);
		if (last_ack)
			*last_ack = t.ack;
		n++;
	}
	return n;
}
