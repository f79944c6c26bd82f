// SPDX-License-Identifier: MIT
/*
 * The TCP part of the proto test harness: builds segments from struct
 * h_seg, parses and compares what usnet sends field by field, runs real
 * handshakes, and backs sockets with plain growable buffers as their
 * sk_stream_ops. Checksums and option parsing are written here from RFC
 * 9293 and RFC 7323, independently of proto/tcp_wire.c.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness_tcp.h"

#define H_MAX_LISTENERS 8

/* A stream: [head, len) of buf holds the bytes not yet consumed. */
struct h_buf {
	uint8_t *buf;
	size_t head, len, cap;
};

struct h_stream {
	struct h_buf tx; /* written by the application, not yet taken by TCP */
	struct h_buf rx; /* received, not yet read by the application */
	size_t rx_limit;
	struct h_stream *next;
};

struct h_tcp {
	struct h_stream *streams;
	struct {
		uint16_t port;
		struct tcp_sock *lt;
	} listeners[H_MAX_LISTENERS];
	unsigned int nlisteners;
	uint16_t next_peer_port;
	bool neigh_done;
};

/* --- bytes ---------------------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- harness state --------------------------------------------------------------------- */

static void h_tcp_fini(struct harness *h)
{
	struct h_tcp *t = h->tcp;

	if (!t)
		return;
	while (t->streams) {
		struct h_stream *s = t->streams;

		t->streams = s->next;
		free(s->tx.buf);
		free(s->rx.buf);
		free(s);
	}
	free(t);
	h->tcp = NULL;
	h->ext_fini = NULL;
}

static struct h_tcp *h_tcp(struct harness *h)
{
	if (!h->tcp) {
		h->tcp = calloc(1, sizeof(*h->tcp));
		cr_assert(h->tcp, "out of memory");
		h->tcp->next_peer_port = H_PEER_PORT_BASE;
		h->ext_fini = h_tcp_fini;
	}
	return h->tcp;
}

/* The peer as a permanent neighbour (ip neigh add ... nud permanent): no ARP
 * traffic between segments, however far a test moves the clock. */
static void h_tcp_neigh(struct harness *h)
{
	struct h_tcp *t = h_tcp(h);

	if (t->neigh_done)
		return;
	h->st.now = h->now;
	neigh_update(&h->st, H_PEER_IP, H_PEER_MAC.a, NUD_PERMANENT,
		     NEIGH_F_CREATE | NEIGH_F_OVERRIDE);
	cr_assert_eq(h_neigh_state(h, H_PEER_IP), NUD_PERMANENT, "peer neighbour not installed");
	t->neigh_done = true;
}

/* --- streams ------------------------------------------------------------------------- */

static void h_buf_append(struct h_buf *b, const void *data, size_t len)
{
	if (b->head + b->len + len > b->cap) {
		if (b->head) {
			memmove(b->buf, b->buf + b->head, b->len);
			b->head = 0;
		}
		if (b->len + len > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;

			while (cap < b->len + len)
				cap *= 2;
			b->buf = realloc(b->buf, cap);
			cr_assert(b->buf, "out of memory");
			b->cap = cap;
		}
	}
	memcpy(b->buf + b->head + b->len, data, len);
	b->len += len;
}

static size_t h_buf_take(struct h_buf *b, void *out, size_t len, bool consume)
{
	if (len > b->len)
		len = b->len;
	if (out && len)
		memcpy(out, b->buf + b->head, len);
	if (consume) {
		b->head += len;
		b->len -= len;
		if (!b->len)
			b->head = 0;
	}
	return len;
}

static size_t h_tx_avail(void *ctx)
{
	return ((struct h_stream *)ctx)->tx.len;
}

static size_t h_tx_peek(void *ctx, void *buf, size_t len)
{
	return h_buf_take(&((struct h_stream *)ctx)->tx, buf, len, false);
}

static void h_tx_consume(void *ctx, size_t len)
{
	struct h_stream *s = ctx;

	cr_assert(len <= s->tx.len, "tx_consume(%zu) with %zu bytes in the stream", len, s->tx.len);
	h_buf_take(&s->tx, NULL, len, true);
}

static size_t h_rx_append(void *ctx, const void *buf, size_t len)
{
	struct h_stream *s = ctx;
	size_t room = s->rx_limit > s->rx.len ? s->rx_limit - s->rx.len : 0;

	if (len > room)
		len = room;
	h_buf_append(&s->rx, buf, len);
	return len;
}

static size_t h_rx_queued(void *ctx)
{
	return ((struct h_stream *)ctx)->rx.len;
}

static const struct sk_stream_ops h_stream_ops = {
	.tx_avail = h_tx_avail,
	.tx_peek = h_tx_peek,
	.tx_consume = h_tx_consume,
	.rx_append = h_rx_append,
	.rx_queued = h_rx_queued,
};

static struct h_stream *h_stream_new(struct harness *h)
{
	struct h_tcp *t = h_tcp(h);
	struct h_stream *s = calloc(1, sizeof(*s));

	cr_assert(s, "out of memory");
	s->rx_limit = SIZE_MAX;
	s->next = t->streams;
	t->streams = s;
	return s;
}

void h_attach(struct harness *h, struct h_conn *c)
{
	cr_assert(c->tp, "h_attach: no socket");
	c->s = h_stream_new(h);
	h->st.now = h->now;
	tcp_attach(&h->st, c->tp, &h_stream_ops, c->s);
}

size_t h_write(struct harness *h, struct h_conn *c, const void *buf, size_t len)
{
	cr_assert(c->tp && c->s, "h_write: no socket with test streams");
	h_buf_append(&c->s->tx, buf, len);
	h->st.now = h->now;
	tcp_push(&h->st, c->tp);
	return len;
}

size_t h_read(struct harness *h, struct h_conn *c, void *buf, size_t len)
{
	size_t n;

	cr_assert(c->tp && c->s, "h_read: no socket with test streams");
	n = h_buf_take(&c->s->rx, buf, len, true);
	h->st.now = h->now;
	tcp_recved(&h->st, c->tp);
	return n;
}

size_t h_readable(const struct h_conn *c)
{
	return c->s ? c->s->rx.len : 0;
}

size_t h_unsent(const struct h_conn *c)
{
	return c->s ? c->s->tx.len : 0;
}

void h_rx_limit(struct h_conn *c, size_t limit)
{
	cr_assert(c->s, "h_rx_limit: no test streams");
	c->s->rx_limit = limit;
}

unsigned int h_sock_events(struct harness *h, struct tcp_sock *tp)
{
	unsigned int ev;

	while (stack_event_pop(&h->st))
		;
	if (!tp)
		return 0;
	ev = tp->sk.events;
	tp->sk.events = 0;
	return ev;
}

unsigned int h_events(struct harness *h, struct h_conn *c)
{
	return h_sock_events(h, c->tp);
}

int h_tcp_state(const struct h_conn *c)
{
	if (!c->tp || c->tp->sk.protocol != IPPROTO_TCP_)
		return TCP_CLOSE;
	return c->tp->state;
}

struct h_tw_find {
	const struct h_conn *c;
	int state;
};

static void h_tw_find_fn(void *arg, const struct tcp_sock *tp, uint8_t state, uint32_t saddr,
			 uint16_t sport, uint32_t daddr, uint16_t dport)
{
	struct h_tw_find *f = arg;

	(void)saddr;
	if (tp || (state != TCP_TIME_WAIT && state != TCP_FIN_WAIT2))
		return;
	if (daddr == H_PEER_IP && ntohs(sport) == f->c->our_port && ntohs(dport) == f->c->peer_port)
		f->state = state;
}

struct h_state_find {
	const struct h_conn *c;
	int full, mini;
};

static void h_state_find_fn(void *arg, const struct tcp_sock *tp, uint8_t state, uint32_t saddr,
			    uint16_t sport, uint32_t daddr, uint16_t dport)
{
	struct h_state_find *f = arg;

	(void)saddr;
	if (daddr != H_PEER_IP || ntohs(sport) != f->c->our_port || ntohs(dport) != f->c->peer_port)
		return;
	if (tp && state != TCP_CLOSE)
		f->full = state;
	else if (!tp)
		f->mini = state;
}

int h_conn_state(struct harness *h, const struct h_conn *c)
{
	struct h_state_find f = { c, 0, 0 };

	tcp_foreach(&h->st, h_state_find_fn, &f);
	if (f.full)
		return f.full;
	return f.mini ? f.mini : TCP_CLOSE;
}

int h_tw_state(struct harness *h, const struct h_conn *c)
{
	struct h_tw_find f = { c, 0 };

	tcp_foreach(&h->st, h_tw_find_fn, &f);
	return f.state;
}

/* --- building segments --------------------------------------------------------------- */

static unsigned int h_seg_payload_len(const struct h_seg *s)
{
	if (s->data && !s->len)
		return (unsigned int)strlen(s->data);
	return s->len;
}

/* Options in Linux's order and padding (tcp_options_write): MSS; SACK-
 * permitted fused with timestamps, or NOP NOP timestamps, or NOP NOP
 * SACK-permitted; NOP window scale; NOP NOP SACK blocks. */
static unsigned int h_build_opts(uint8_t *o, int mss, int wscale, bool sack_ok, bool ts,
				 uint32_t ts_val, uint32_t ts_ecr, unsigned int nsack,
				 const uint32_t *sl, const uint32_t *sr)
{
	unsigned int n = 0;

	if (mss != H_NONE) {
		o[n++] = TCPOPT_MSS;
		o[n++] = TCPOLEN_MSS;
		put16(o + n, (uint32_t)mss);
		n += 2;
	}
	if (ts) {
		if (sack_ok) {
			o[n++] = TCPOPT_SACK_PERM;
			o[n++] = TCPOLEN_SACK_PERM;
		} else {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
		}
		o[n++] = TCPOPT_TIMESTAMP;
		o[n++] = TCPOLEN_TIMESTAMP;
		put32(o + n, ts_val);
		put32(o + n + 4, ts_ecr);
		n += 8;
	} else if (sack_ok) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = TCPOLEN_SACK_PERM;
	}
	if (wscale != H_NONE) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WINDOW;
		o[n++] = TCPOLEN_WINDOW;
		o[n++] = (uint8_t)wscale;
	}
	if (nsack) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK;
		o[n++] = (uint8_t)(2 + 8 * nsack);
		for (unsigned int i = 0; i < nsack; i++) {
			put32(o + n, sl[i]);
			put32(o + n + 4, sr[i]);
			n += 8;
		}
	}
	return n;
}

/* Would the peer put a timestamp on this segment by itself? */
static bool h_auto_ts(const struct h_conn *c, const struct h_seg *s)
{
	return c->ts && !s->ts && !s->no_ts;
}

unsigned int h_build_seg(struct harness *h, struct h_conn *c, const struct h_seg *s, uint8_t *buf,
			 size_t cap)
{
	uint8_t seg[H_FRAME_MAX];
	uint8_t opts[64];
	uint8_t pseudo[12];
	unsigned int plen = h_seg_payload_len(s), optlen, hlen, doff;
	bool has_ack = s->flags & TH_ACK;
	uint32_t seq = s->abs ? s->seq : c->peer_isn + s->seq;
	uint32_t ack = !has_ack || s->abs ? s->ack : c->our_isn + s->ack;
	uint32_t sum;
	int win = s->win;
	struct h_ip ip;

	if (s->raw_opts) {
		cr_assert(s->raw_opts_len <= 40, "raw_opts of %u bytes", s->raw_opts_len);
		memset(opts, TCPOPT_EOL, sizeof(opts));
		memcpy(opts, s->raw_opts, s->raw_opts_len);
		optlen = (s->raw_opts_len + 3) & ~3u;
	} else {
		uint32_t sl[4], sr[4], ts_val = 0, ts_ecr = 0;
		bool ts = s->ts || h_auto_ts(c, s);

		cr_assert(s->nsack >= 0 && s->nsack <= 4, "nsack %d", s->nsack);
		for (int i = 0; i < s->nsack; i++) {
			sl[i] = s->abs ? s->sack[i].l : c->our_isn + s->sack[i].l;
			sr[i] = s->abs ? s->sack[i].r : c->our_isn + s->sack[i].r;
		}
		if (s->ts) {
			ts_val = s->abs_ts ? s->ts_val : c->peer_ts_base + s->ts_val;
			ts_ecr = s->abs_ts || !has_ack ? s->ts_ecr : c->our_ts_base + s->ts_ecr;
		} else if (ts) {
			ts_val = c->peer_ts_base + h_ts(h);
			ts_ecr = has_ack ? c->last_tsval : 0;
		}
		optlen = h_build_opts(opts, s->mss, s->wscale, s->sack_ok, ts, ts_val, ts_ecr,
				      (unsigned int)s->nsack, sl, sr);
		cr_assert(optlen <= 40, "options of %u bytes do not fit", optlen);
		while (optlen % 4)
			opts[optlen++] = TCPOPT_EOL;
	}
	hlen = TCP_HDR_LEN + optlen;
	doff = s->doff == H_AUTO ? hlen / 4 : (unsigned int)s->doff;
	cr_assert(hlen + plen <= sizeof(seg) - 64, "segment too large for a frame");
	if (win == H_AUTO)
		win = (s->flags & TH_SYN) ? 65535 : 65535 >> (c->ws ? c->peer_wscale : 0);

	put16(seg, (uint32_t)(s->sport == H_AUTO ? c->peer_port : s->sport));
	put16(seg + 2, (uint32_t)(s->dport == H_AUTO ? c->our_port : s->dport));
	put32(seg + 4, seq);
	put32(seg + 8, ack);
	seg[12] = (uint8_t)((doff & 15) << 4);
	seg[13] = (uint8_t)s->flags;
	put16(seg + 14, (uint32_t)win);
	put16(seg + 16, 0);
	put16(seg + 18, (uint32_t)s->urg);
	memcpy(seg + TCP_HDR_LEN, opts, optlen);
	if (plen) {
		if (s->data) {
			memcpy(seg + hlen, s->data, plen);
		} else {
			uint32_t rel = s->abs ? seq - c->peer_isn : s->seq;

			/* A SYN's payload starts one after its sequence number. */
			if (s->flags & TH_SYN)
				rel++;
			for (unsigned int i = 0; i < plen; i++)
				seg[hlen + i] = h_pattern(rel + i);
		}
	}
	/* RFC 9293 §3.1: the checksum covers a pseudo-header with the
	 * addresses, the protocol and the TCP length. */
	memcpy(pseudo, &(uint32_t){ H_PEER_IP }, 4);
	memcpy(pseudo + 4, &(uint32_t){ H_US_IP }, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP_;
	put16(pseudo + 10, hlen + plen);
	sum = (uint16_t)~h_csum(pseudo, sizeof(pseudo));
	sum += (uint16_t)~h_csum(seg, hlen + plen);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	if (s->bad_csum)
		sum ^= 0x0101;
	put16(seg + 16, sum);

	ip = IP(.protocol = IPPROTO_TCP_, .frag_off = 0x4000, .data = seg, .len = hlen + plen);
	return h_build_ip(buf, cap, &ip);
}

void h_send(struct harness *h, struct h_conn *c, struct h_seg s)
{
	uint8_t buf[H_FRAME_MAX];

	h_tcp_neigh(h);
	h_send_raw(h, buf, h_build_seg(h, c, &s, buf, sizeof(buf)));
}

/* --- parsing ---------------------------------------------------------------------------- */

/* RFC 9293 §3.1 and RFC 7323: walk the options; false if one is malformed
 * (a length below 2 or past the end) or of a kind Linux never sends. */
static bool h_parse_opts(const uint8_t *o, unsigned int len, struct h_tcp_info *t)
{
	unsigned int i = 0;

	while (i < len) {
		unsigned int kind = o[i], l;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		l = o[i + 1];
		if (l < 2 || i + l > len)
			return false;
		switch (kind) {
		case TCPOPT_MSS:
			if (l != TCPOLEN_MSS)
				return false;
			t->mss = (int)get16(o + i + 2);
			break;
		case TCPOPT_WINDOW:
			if (l != TCPOLEN_WINDOW)
				return false;
			t->wscale = o[i + 2];
			break;
		case TCPOPT_SACK_PERM:
			if (l != TCPOLEN_SACK_PERM)
				return false;
			t->sack_ok = true;
			break;
		case TCPOPT_TIMESTAMP:
			if (l != TCPOLEN_TIMESTAMP)
				return false;
			t->ts = true;
			t->ts_val = get32(o + i + 2);
			t->ts_ecr = get32(o + i + 6);
			break;
		case TCPOPT_SACK:
			if (l < 10 || (l - 2) % 8 || (l - 2) / 8 > 4)
				return false;
			t->nsack = (l - 2) / 8;
			for (unsigned int b = 0; b < t->nsack; b++) {
				t->sack_l[b] = get32(o + i + 2 + 8 * b);
				t->sack_r[b] = get32(o + i + 6 + 8 * b);
			}
			break;
		default:
			return false;
		}
		i += l;
	}
	return true;
}

bool h_parse_seg(const struct h_frame *f, struct h_tcp_info *t)
{
	const uint8_t *ip = f->b + 14, *th;
	unsigned int ihl, tot;

	memset(t, 0, sizeof(*t));
	t->mss = H_NONE;
	t->wscale = H_NONE;
	if (f->len < 14 + 20 || get16(f->b + 12) != ETH_P_IP || ip[9] != IPPROTO_TCP_)
		return false;
	ihl = (ip[0] & 15u) * 4;
	tot = get16(ip + 2);
	if (ihl < 20 || tot < ihl + TCP_HDR_LEN || 14 + tot > f->len)
		return false;
	th = ip + ihl;
	t->sport = (uint16_t)get16(th);
	t->dport = (uint16_t)get16(th + 2);
	t->seq = get32(th + 4);
	t->ack = get32(th + 8);
	t->doff = (th[12] >> 4) * 4u;
	t->flags = th[13];
	t->win = (uint16_t)get16(th + 14);
	if (t->doff < TCP_HDR_LEN || t->doff > tot - ihl)
		return false;
	t->payload = th + t->doff;
	t->len = tot - ihl - t->doff;
	return h_parse_opts(th + TCP_HDR_LEN, t->doff - TCP_HDR_LEN, t);
}

/* --- expectations ---------------------------------------------------------------------- */

struct h_tctx {
	const char *file;
	int line;
	char seg[192]; /* what arrived, tcpdump-like, for every message */
};

static void h_flagstr(uint8_t fl, char *out)
{
	static const struct {
		uint8_t bit;
		char c;
	} names[] = { { TH_SYN, 'S' }, { TH_FIN, 'F' }, { TH_RST, 'R' }, { TH_PSH, 'P' },
		      { TH_URG, 'U' }, { TH_ECE, 'E' }, { TH_CWR, 'W' }, { TH_ACK, '.' } };
	unsigned int n = 0;

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fl & names[i].bit)
			out[n++] = names[i].c;
	out[n] = 0;
	if (!n)
		strcpy(out, "none");
}

static void h_describe(const struct h_conn *c, const struct h_tcp_info *t, char *out, size_t cap)
{
	char fl[16];
	int n;

	h_flagstr(t->flags, fl);
	n = snprintf(out, cap, "[%s] seq %" PRIu32 " ack %" PRIu32 " win %u len %u", fl,
		     t->seq - c->our_isn, t->ack - c->peer_isn, t->win, t->len);
	if (t->mss != H_NONE && n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, " mss %d", t->mss);
	if (t->wscale != H_NONE && n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, " ws %d", t->wscale);
	if (t->sack_ok && n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, " sackOK");
	if (t->ts && n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, " ts %" PRIu32 "/%" PRIu32,
			      t->ts_val - c->our_ts_base, t->ts_ecr - c->peer_ts_base);
	for (unsigned int i = 0; i < t->nsack && n > 0 && (size_t)n < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, " sack %" PRIu32 "-%" PRIu32,
			      t->sack_l[i] - c->peer_isn, t->sack_r[i] - c->peer_isn);
}

static void h_tfield(const struct h_tctx *x, const char *name, long long got, long long want)
{
	cr_assert_eq(got, want, "%s:%d: tcp %s: got %lld, want %lld   (got %s)", x->file, x->line,
		     name, got, want, x->seg);
}

static void h_tfield_u32(const struct h_tctx *x, const char *name, uint32_t got, uint32_t want)
{
	cr_assert_eq(got, want,
		     "%s:%d: tcp %s: got %" PRIu32 " (0x%08" PRIx32 "), want %" PRIu32
		     " (0x%08" PRIx32 ")   (got %s)",
		     x->file, x->line, name, got, got, want, want, x->seg);
}

static void h_tfield_opt(const struct h_tctx *x, const char *name, int got, int want)
{
	if (want == H_ANY)
		return;
	if (want == H_NONE)
		cr_assert_eq(got, H_NONE, "%s:%d: tcp %s: got %d, want none   (got %s)", x->file,
			     x->line, name, got, x->seg);
	else if (got == H_NONE)
		cr_assert_fail("%s:%d: tcp %s: got none, want %d   (got %s)", x->file, x->line,
			       name, want, x->seg);
	else
		h_tfield(x, name, got, want);
}

/* The pseudo-header sum plus the segment's: 0xffff for a valid checksum. */
static bool h_tcp_csum_ok(const uint8_t *ip, const uint8_t *th, unsigned int len)
{
	uint8_t pseudo[12];
	uint32_t sum;

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP_;
	put16(pseudo + 10, len);
	sum = (uint16_t)~h_csum(pseudo, sizeof(pseudo));
	sum += (uint16_t)~h_csum(th, len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* What usnet's segment teaches the harness about its side. */
static void h_learn(struct harness *h, struct h_conn *c, const struct h_tcp_info *t)
{
	if ((t->flags & TH_SYN) && !c->isn_known) {
		c->our_isn = t->seq;
		c->isn_known = true;
		if (!c->our_port)
			c->our_port = t->sport;
		if (t->ts)
			c->our_ts_base = t->ts_val - h_ts(h);
	}
	if (t->ts)
		c->last_tsval = t->ts_val;
}

void h_expect_seg_at(struct harness *h, struct h_conn *c, struct h_seg want, struct h_frame *out,
		     const char *file, int line)
{
	struct h_ip ipw = IP_OUT(.protocol = IPPROTO_TCP_, .frag_off = 0x4000, .any_payload = true);
	struct h_tctx x = { file, line, "" };
	unsigned int wlen = h_seg_payload_len(&want);
	bool want_ack = want.flags & TH_ACK;
	struct h_tcp_info t;
	struct h_frame f;
	const uint8_t *ip, *th;
	bool want_ts;

	h_expect_ip_at(h, &ipw, &f, file, line);
	/* The link took the frame: TCP small queues may let the socket go on. */
	stack_poll(&h->st, h->now);
	if (out)
		*out = f;
	ip = f.b + 14;
	th = ip + (ip[0] & 15u) * 4;
	cr_assert(h_parse_seg(&f, &t), "%s:%d: not a well-formed TCP segment (doff %u, options)",
		  file, line, (unsigned int)(th[12] >> 4));
	h_learn(h, c, &t);
	h_describe(c, &t, x.seg, sizeof(x.seg));

	cr_assert(h_tcp_csum_ok(ip, th, t.doff + t.len), "%s:%d: tcp checksum wrong   (got %s)",
		  file, line, x.seg);
	h_tfield(&x, "sport", t.sport, want.sport == H_AUTO ? c->our_port : want.sport);
	h_tfield(&x, "dport", t.dport, want.dport == H_AUTO ? c->peer_port : want.dport);
	{
		char g[16], w[16];

		h_flagstr(t.flags, g);
		h_flagstr((uint8_t)want.flags, w);
		cr_assert_eq(t.flags, want.flags,
			     "%s:%d: tcp flags: got [%s], want [%s]   (got %s)", file, line, g, w,
			     x.seg);
	}
	h_tfield_u32(&x, "seq", want.abs ? t.seq : t.seq - c->our_isn, want.seq);
	if (want_ack && !want.abs)
		h_tfield_u32(&x, "ack", t.ack - c->peer_isn, want.ack);
	else
		h_tfield_u32(&x, "ack", t.ack, want.ack);
	if (want.win != H_ANY)
		h_tfield(&x, "window", t.win, want.win);
	h_tfield(&x, "reserved bits", th[12] & 15, 0);
	h_tfield(&x, "urgent pointer", get16(th + 18), 0);

	if (!want.opts_any) {
		uint8_t lin[64];
		unsigned int llen;

		if (want.raw_opts) {
			h_tfield(&x, "options length", t.doff - TCP_HDR_LEN,
				 (want.raw_opts_len + 3) & ~3u);
			for (unsigned int i = 0; i < want.raw_opts_len; i++)
				h_tfield(&x, "option byte", th[TCP_HDR_LEN + i],
					 ((const uint8_t *)want.raw_opts)[i]);
		} else {
			h_tfield_opt(&x, "mss option", t.mss, want.mss);
			h_tfield_opt(&x, "wscale option", t.wscale, want.wscale);
			h_tfield(&x, "sack_ok option", t.sack_ok, want.sack_ok);
			want_ts = want.ts || (c->ts && !want.no_ts);
			h_tfield(&x, "timestamp option present", t.ts, want_ts);
			if (want.ts && !want.ts_any) {
				h_tfield_u32(&x, "ts_val",
					     want.abs_ts ? t.ts_val : t.ts_val - c->our_ts_base,
					     want.ts_val);
				h_tfield_u32(&x, "ts_ecr",
					     want.abs_ts || !want_ack ? t.ts_ecr :
									t.ts_ecr - c->peer_ts_base,
					     want.ts_ecr);
			}
			h_tfield(&x, "sack blocks", t.nsack, want.nsack);
			for (unsigned int i = 0; i < t.nsack; i++) {
				uint32_t l = want.abs ? t.sack_l[i] : t.sack_l[i] - c->peer_isn;
				uint32_t r = want.abs ? t.sack_r[i] : t.sack_r[i] - c->peer_isn;

				h_tfield_u32(&x, "sack block left", l, want.sack[i].l);
				h_tfield_u32(&x, "sack block right", r, want.sack[i].r);
			}
			/* The options present, laid out as Linux writes them. */
			llen = h_build_opts(lin, t.mss, t.wscale, t.sack_ok, t.ts, t.ts_val,
					    t.ts_ecr, t.nsack, t.sack_l, t.sack_r);
			h_tfield(&x, "options length (Linux layout)", t.doff - TCP_HDR_LEN, llen);
			for (unsigned int i = 0; i < llen; i++)
				h_tfield(&x, "option byte (Linux layout)", th[TCP_HDR_LEN + i],
					 lin[i]);
		}
	}
	if (!want.any_payload) {
		h_tfield(&x, "payload length", t.len, wlen);
		if (want.data)
			for (unsigned int i = 0; i < wlen; i++)
				cr_assert_eq(t.payload[i], ((const uint8_t *)want.data)[i],
					     "%s:%d: tcp payload byte %u: got 0x%02x, want 0x%02x"
					     "   (got %s)",
					     file, line, i, t.payload[i],
					     ((const uint8_t *)want.data)[i], x.seg);
	}
}

/* --- connections ------------------------------------------------------------------------ */

struct h_conn h_conn_new(struct harness *h, unsigned int flags)
{
	struct h_tcp *t = h_tcp(h);
	struct h_conn c;

	memset(&c, 0, sizeof(c));
	if (!(flags & (H_PASSIVE | H_ACTIVE)))
		flags |= H_PASSIVE;
	c.flags = flags;
	c.peer_port = t->next_peer_port++;
	c.our_port = (flags & H_PASSIVE) ? H_OUR_PORT : 0;
	c.peer_isn = H_PEER_ISN;
	c.peer_ts_base = H_PEER_TS_BASE;
	c.peer_mss = H_PEER_MSS;
	c.peer_win = H_AUTO;
	c.our_mss = (int)h->st.cfg.mtu - 40;
	c.peer_wscale = (flags & H_WS) ? H_PEER_WSCALE : H_NONE;
	c.our_wscale = H_NONE;
	return c;
}

struct tcp_sock *h_listener(struct harness *h, uint16_t port)
{
	struct h_tcp *t = h_tcp(h);

	for (unsigned int i = 0; i < t->nlisteners; i++)
		if (t->listeners[i].port == port)
			return t->listeners[i].lt;
	return NULL;
}

struct tcp_sock *h_listen(struct harness *h, uint16_t port, int backlog)
{
	struct h_tcp *t = h_tcp(h);
	struct tcp_sock *lt;
	int rc;

	h_tcp_neigh(h);
	cr_assert(t->nlisteners < H_MAX_LISTENERS, "too many listeners");
	h->st.now = h->now;
	lt = tcp_open(&h->st);
	cr_assert(lt, "tcp_open failed");
	rc = tcp_bind(&h->st, lt, 0, htons(port));
	cr_assert_eq(rc, 0, "tcp_bind port %u: %d", port, rc);
	rc = tcp_listen(&h->st, lt, backlog);
	cr_assert_eq(rc, 0, "tcp_listen: %d", rc);
	t->listeners[t->nlisteners].port = port;
	t->listeners[t->nlisteners].lt = lt;
	t->nlisteners++;
	return lt;
}

int h_connect(struct harness *h, struct h_conn *c)
{
	h_tcp_neigh(h);
	h->st.now = h->now;
	c->tp = tcp_open(&h->st);
	cr_assert(c->tp, "tcp_open failed");
	h_attach(h, c);
	if (c->our_port) {
		int rc = tcp_bind(&h->st, c->tp, 0, htons(c->our_port));

		cr_assert_eq(rc, 0, "tcp_bind port %u: %d", c->our_port, rc);
	}
	return tcp_connect(&h->st, c->tp, H_PEER_IP, htons(c->peer_port));
}

bool h_accept(struct harness *h, struct h_conn *c)
{
	if (!c->listener)
		c->listener = h_listener(h, c->our_port);
	cr_assert(c->listener, "h_accept: no listener");
	h->st.now = h->now;
	c->tp = tcp_accept(&h->st, c->listener);
	if (!c->tp)
		return false;
	h_attach(h, c);
	return true;
}

void h_close(struct harness *h, struct h_conn *c)
{
	cr_assert(c->tp, "h_close: no socket");
	h->st.now = h->now;
	tcp_close(&h->st, c->tp);
	c->tp = NULL;
}

/* The peer's SYN (or SYN-ACK) with the options c's flags ask for; a SYN
 * without ACK carries TSecr 0. */
static struct h_seg h_peer_syn(struct harness *h, const struct h_conn *c, int flags,
			       uint32_t ts_ecr)
{
	return SEG(.flags = flags, .seq = 0, .ack = (flags & TH_ACK) ? 1 : 0, .win = c->peer_win,
		   .mss = c->peer_mss, .wscale = (c->flags & H_WS) ? c->peer_wscale : H_NONE,
		   .sack_ok = c->flags & H_SACK, .ts = c->flags & H_TS, .ts_val = h_ts(h),
		   .ts_ecr = ts_ecr);
}

static void h_negotiated(struct h_conn *c, const struct h_tcp_info *syn)
{
	bool peer_ws = c->flags & H_WS;

	c->ws = peer_ws && syn->wscale != H_NONE;
	c->our_wscale = c->ws ? syn->wscale : 0;
	if (!c->ws)
		c->peer_wscale = 0;
	else if (c->peer_wscale > TCP_MAX_WSCALE)
		c->peer_wscale = TCP_MAX_WSCALE; /* RFC 7323 §2.3, as usnet clamps it */
	c->sack = (c->flags & H_SACK) && syn->sack_ok;
	c->ts = (c->flags & H_TS) && syn->ts;
}

void h_handshake_at(struct harness *h, struct h_conn *c, const char *file, int line)
{
	const struct stack_tunables *tun = &h->st.cfg.tun;
	struct h_frame f;
	struct h_tcp_info t;

	h_tcp_neigh(h);
	/* Only drops during the handshake count against it. */
	memcpy(h->drop_snap, h->st.mib.drop, sizeof(h->drop_snap));
	if (c->flags & H_ACTIVE) {
		int rc = h_connect(h, c);

		cr_assert_eq(rc, 0, "%s:%d: tcp_connect: %d", file, line, rc);
		/* usnet offers every option its tunables allow. */
		h_expect_seg_at(h, c,
				SEG(.flags = TH_SYN, .seq = 0, .ack = 0, .mss = c->our_mss,
				    .wscale = tun->tcp_window_scaling ? H_ANY : H_NONE,
				    .sack_ok = tun->tcp_sack != 0, .ts = tun->tcp_timestamps != 0,
				    .ts_val = h_ts(h), .ts_ecr = 0, .no_ts = true),
				&f, file, line);
		cr_assert(h_parse_seg(&f, &t), "%s:%d: SYN does not parse", file, line);
		h_negotiated(c, &t);
		/* The SYN-ACK echoes the SYN's TSval. */
		h_send(h, c, h_peer_syn(h, c, TH_SYN | TH_ACK, t.ts_val - c->our_ts_base));
		h_expect_seg_at(h, c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1), NULL, file, line);
		cr_assert(h_events(h, c) & SK_EV_CONNECTED,
			  "%s:%d: no SK_EV_CONNECTED after the handshake", file, line);
	} else {
		c->listener = h_listener(h, c->our_port);
		if (!c->listener)
			c->listener = h_listen(h, c->our_port, 128);
		h_send(h, c, h_peer_syn(h, c, TH_SYN, 0));
		h_expect_seg_at(
			h, c,
			SEG(.flags = TH_SYN | TH_ACK, .seq = 0, .ack = 1, .mss = c->our_mss,
			    .wscale = (c->flags & H_WS) && tun->tcp_window_scaling ? H_ANY : H_NONE,
			    .sack_ok = (c->flags & H_SACK) && tun->tcp_sack,
			    .ts = (c->flags & H_TS) && tun->tcp_timestamps, .ts_val = h_ts(h),
			    .ts_ecr = h_ts(h), .no_ts = true),
			&f, file, line);
		cr_assert(h_parse_seg(&f, &t), "%s:%d: SYN-ACK does not parse", file, line);
		h_negotiated(c, &t);
		h_send(h, c, SEG(.flags = TH_ACK, .seq = 1, .ack = 1, .win = c->peer_win));
		h_expect_nothing_at(h, file, line);
		if (!(c->flags & H_NO_ACCEPT)) {
			cr_assert(h_accept(h, c), "%s:%d: nothing to accept after the handshake",
				  file, line);
			cr_assert_eq(c->tp->state, TCP_ESTABLISHED,
				     "%s:%d: accepted socket in state %d", file, line,
				     c->tp->state);
		}
		h_sock_events(h, c->listener);
		h_events(h, c);
	}
	h_expect_nothing_at(h, file, line);
	h_expect_drops_at(h, DROP__MAX, 0, file, line);
}

struct h_conn h_establish_at(struct harness *h, unsigned int flags, const char *file, int line)
{
	struct h_conn c = h_conn_new(h, flags);

	h_handshake_at(h, &c, file, line);
	return c;
}
