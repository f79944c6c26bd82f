// SPDX-License-Identifier: MIT
/*
 * The proto test harness: builds frames from their representation, feeds
 * them to a real struct stack, parses what it transmits and compares it
 * field by field. Parsing and checksums here are written from the RFCs, not
 * borrowed from proto/, so that a bug in proto cannot hide behind the same
 * bug in its test.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static const uint8_t h_seed[16] = { 0x75, 0x73, 0x6e, 0x65, 0x74, 0x2d, 0x74, 0x65,
				    0x73, 0x74, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x21 };

/* --- bytes ------------------------------------------------------------------ */

static void h_put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned int h_get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t h_get_addr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

uint16_t h_csum(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint64_t sum = 0;
	size_t i;

	/* RFC 1071 §1: add the 16-bit big-endian words, pad an odd byte with
	 * zero, fold the carries back in, complement. */
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint64_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint64_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static const char *h_ipstr(uint32_t a, char *buf)
{
	const uint8_t *b = (const uint8_t *)&a;

	sprintf(buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

static const char *h_macstr(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* --- field comparison --------------------------------------------------------- */

struct h_ctx {
	const char *file;
	int line;
	const char *what;
};

static void h_field(const struct h_ctx *c, const char *name, long long got, long long want)
{
	if (want == H_ANY)
		return;
	cr_assert_eq(got, want, "%s:%d: %s: %s: got %lld (0x%llx), want %lld (0x%llx)", c->file,
		     c->line, c->what, name, got, (unsigned long long)got, want,
		     (unsigned long long)want);
}

static void h_field_mac(const struct h_ctx *c, const char *name, const uint8_t *got,
			const struct h_mac *want)
{
	char g[18], w[18];

	cr_assert(!memcmp(got, want->a, 6), "%s:%d: %s: %s: got %s, want %s", c->file, c->line,
		  c->what, name, h_macstr(got, g), h_macstr(want->a, w));
}

static void h_field_addr(const struct h_ctx *c, const char *name, uint32_t got, uint32_t want)
{
	char g[16], w[16];

	cr_assert_eq(got, want, "%s:%d: %s: %s: got %s, want %s", c->file, c->line, c->what, name,
		     h_ipstr(got, g), h_ipstr(want, w));
}

static void h_field_bytes(const struct h_ctx *c, const char *name, const uint8_t *got,
			  const void *want, unsigned int len)
{
	const uint8_t *w = want;

	for (unsigned int i = 0; i < len; i++)
		cr_assert_eq(got[i], w[i], "%s:%d: %s: %s: byte %u: got 0x%02x, want 0x%02x",
			     c->file, c->line, c->what, name, i, got[i], w[i]);
}

/* --- setup ------------------------------------------------------------------ */

static void h_snapshot_drops(struct harness *h)
{
	memcpy(h->drop_snap, h->st.mib.drop, sizeof(h->drop_snap));
}

void h_init_cfg(struct harness *h, const struct stack_cfg *cfg)
{
	struct stack_cfg c = *cfg;
	int rc;

	memset(h, 0, sizeof(*h));
	memcpy(c.mac, H_US_MAC.a, 6);
	rc = pkt_pool_init(&h->pool, H_POOL_META, H_POOL_DATA, H_POOL_DATA_SIZE);
	cr_assert_eq(rc, 0, "pkt_pool_init: %d", rc);
	rc = stack_init(&h->st, &c, &h->pool, h_seed);
	cr_assert_eq(rc, 0, "stack_init: %d", rc);
	h->now = H_T0;
	rc = stack_addr_add(&h->st, H_US_IP, 24, h->now);
	cr_assert_eq(rc, 0, "stack_addr_add 10.77.0.2/24: %d", rc);
	/* The address is announced with a gratuitous ARP (RFC 5227 §3). */
	h_expect_arp_at(h,
			&ARP_OUT(.op = ARPOP_REQUEST, .eth_dst = H_BCAST_MAC, .tha = H_ZERO_MAC,
				 .tpa = H_US_IP),
			NULL, __FILE__, __LINE__);
	h_expect_nothing_at(h, __FILE__, __LINE__);
	h_snapshot_drops(h);
	for (unsigned int i = 0; i < DROP__MAX; i++)
		cr_assert_eq(h->st.mib.drop[i], 0, "drop %s counted during setup",
			     drop_reason_name(i));
}

void h_init(struct harness *h)
{
	struct stack_cfg cfg;

	stack_cfg_defaults(&cfg);
	h_init_cfg(h, &cfg);
}

void h_fini(struct harness *h)
{
	unsigned int left;

	if (h->finished)
		return;
	h->finished = true;
	left = stack_tx_pending(&h->st);
	cr_expect_eq(left, 0, "%u transmitted frame(s) left unchecked", left);
	h_drain(h);
	stack_fini(&h->st);
	cr_expect(pkt_pool_full(&h->pool),
		  "packet leak: %" PRIu32 "/%" PRIu32 " metadata and %" PRIu32 "/%" PRIu32
		  " buffers free",
		  h->pool.nfree_meta, h->pool.nmeta, h->pool.nfree_data, h->pool.ndata);
	pkt_pool_fini(&h->pool);
	if (h->ext_fini)
		h->ext_fini(h);
}

/* --- building frames -------------------------------------------------------------- */

static unsigned int h_eth(uint8_t *buf, const struct h_mac *dst, const struct h_mac *src, int type)
{
	memcpy(buf, dst->a, 6);
	memcpy(buf + 6, src->a, 6);
	h_put16(buf + 12, (unsigned int)type);
	return 14;
}

static unsigned int h_finish(uint8_t *buf, size_t cap, unsigned int len, int frame_len,
			     unsigned int pad_to)
{
	cr_assert(pad_to <= cap, "pad_to %u larger than the buffer", pad_to);
	if (len < pad_to) {
		memset(buf + len, 0xa5, pad_to - len);
		len = pad_to;
	}
	if (frame_len != H_AUTO) {
		cr_assert((size_t)frame_len <= cap, "frame_len %d larger than the buffer",
			  frame_len);
		len = (unsigned int)frame_len;
	}
	return len;
}

unsigned int h_build_arp(uint8_t *buf, size_t cap, const struct h_arp *a)
{
	unsigned int n;

	cr_assert(cap >= 60, "buffer too small");
	memset(buf, 0, 60);
	n = h_eth(buf, &a->eth_dst, &a->eth_src, a->eth_type);
	h_put16(buf + n, (unsigned int)a->htype);
	h_put16(buf + n + 2, (unsigned int)a->ptype);
	buf[n + 4] = (uint8_t)a->hlen;
	buf[n + 5] = (uint8_t)a->plen;
	h_put16(buf + n + 6, (unsigned int)a->op);
	memcpy(buf + n + 8, a->sha.a, 6);
	memcpy(buf + n + 14, &a->spa, 4);
	memcpy(buf + n + 18, a->tha.a, 6);
	memcpy(buf + n + 24, &a->tpa, 4);
	return h_finish(buf, cap, n + 28, a->frame_len, a->pad_to);
}

static unsigned int h_payload_len(const struct h_ip *ip)
{
	if (ip->data && !ip->len)
		return (unsigned int)strlen(ip->data);
	return ip->len;
}

unsigned int h_build_ip(uint8_t *buf, size_t cap, const struct h_ip *ip)
{
	unsigned int plen = h_payload_len(ip);
	unsigned int l4 = ip->icmp ? 8u : 0u;
	unsigned int hlen = 20 + ip->opts_len;
	unsigned int ihl = ip->ihl == H_AUTO ? hlen / 4 : (unsigned int)ip->ihl;
	unsigned int tot = ip->tot_len == H_AUTO ? hlen + l4 + plen : (unsigned int)ip->tot_len;
	uint8_t *iph = buf + 14;
	uint8_t *p;

	cr_assert(ip->opts_len % 4 == 0, "IP options must be padded to 4 bytes");
	cr_assert(14 + hlen + l4 + plen <= cap, "frame too large for the buffer");
	h_eth(buf, &ip->eth_dst, &ip->eth_src, ip->eth_type);
	iph[0] = (uint8_t)((unsigned int)ip->version << 4 | (ihl & 15));
	iph[1] = (uint8_t)ip->tos;
	h_put16(iph + 2, tot);
	h_put16(iph + 4, (unsigned int)ip->ip_id);
	h_put16(iph + 6, (unsigned int)ip->frag_off);
	iph[8] = (uint8_t)ip->ttl;
	iph[9] = (uint8_t)ip->protocol;
	h_put16(iph + 10, 0);
	memcpy(iph + 12, &ip->saddr, 4);
	memcpy(iph + 16, &ip->daddr, 4);
	if (ip->opts_len)
		memcpy(iph + 20, ip->opts, ip->opts_len);
	h_put16(iph + 10, h_csum(iph, hlen) ^ (ip->bad_ip_csum ? 0x0101u : 0u));

	p = iph + hlen;
	if (ip->icmp) {
		p[0] = (uint8_t)ip->type;
		p[1] = (uint8_t)ip->code;
		h_put16(p + 2, 0);
		h_put16(p + 4, (unsigned int)ip->id);
		h_put16(p + 6, (unsigned int)ip->seq);
	}
	if (plen)
		memcpy(p + l4, ip->data, plen);
	if (ip->icmp)
		h_put16(p + 2, h_csum(p, l4 + plen) ^ (ip->bad_icmp_csum ? 0x0101u : 0u));
	return h_finish(buf, cap, 14 + hlen + l4 + plen, ip->frame_len, ip->pad_to);
}

/* --- sending ---------------------------------------------------------------------- */

void h_send_raw(struct harness *h, const void *frame, unsigned int len)
{
	int id = pkt_pool_data_take(&h->pool);
	struct pkt *pkt;

	/* The daemon's receive path: lend a buffer, let the link fill it with
	 * the Ethernet header at PKT_HEADROOM, wrap it (daemon/worker.c). */
	cr_assert(id >= 0, "pool has no data buffer left for a received frame");
	cr_assert(len <= h->pool.data_size - PKT_HEADROOM, "frame of %u bytes too large", len);
	memcpy(pkt_pool_data_ptr(&h->pool, (uint32_t)id) + PKT_HEADROOM, frame, len);
	pkt = pkt_pool_attach(&h->pool, (uint32_t)id, PKT_HEADROOM, len);
	cr_assert(pkt, "pkt_pool_attach failed");
	if (len <= sizeof(h->sent)) {
		memcpy(h->sent, frame, len);
		h->sent_len = len;
	}
	h->rx_frames++;
	stack_input(&h->st, pkt, h->now);
}

void h_send_arp(struct harness *h, struct h_arp a)
{
	uint8_t buf[H_FRAME_MAX];

	h_send_raw(h, buf, h_build_arp(buf, sizeof(buf), &a));
}

void h_send_ip(struct harness *h, struct h_ip ip)
{
	uint8_t buf[H_FRAME_MAX];

	h_send_raw(h, buf, h_build_ip(buf, sizeof(buf), &ip));
}

void h_send_icmp(struct harness *h, struct h_ip ip)
{
	cr_assert(ip.icmp, "h_send_icmp() wants an ICMP(...) representation");
	h_send_ip(h, ip);
}

int h_ip_output(struct harness *h, uint32_t daddr, uint8_t protocol, const void *data,
		unsigned int len)
{
	struct ipv4_tx tx = { .daddr = daddr, .protocol = protocol };
	struct pkt *pkt = pkt_alloc(&h->pool, PKT_HEADROOM);
	uint8_t *p;

	cr_assert(pkt, "pkt_alloc failed");
	p = pkt_put(pkt, len);
	cr_assert(p, "payload of %u bytes does not fit", len);
	if (len)
		memcpy(p, data, len);
	h->st.now = h->now;
	return ipv4_output(&h->st, pkt, &tx);
}

/* --- time ------------------------------------------------------------------------- */

void h_advance(struct harness *h, uint64_t ns)
{
	uint64_t target = h->now + ns;
	unsigned int rounds = 0;

	for (;;) {
		uint64_t next = stack_next_timer(&h->st);

		if (next > target)
			break;
		if (next > h->now) {
			h->now = next;
			rounds = 0;
		}
		stack_timers(&h->st, h->now);
		/* Every due timer re-arms in the future; a deadline that stays at
		 * or before now would spin the worker the same way. (Periodic
		 * timers over a long advance are fine: the clock moves.) */
		cr_assert(++rounds < 100000, "timers do not advance at %" PRIu64 " ns", h->now);
	}
	h->now = target;
	/* Owner calls (tcp_connect, tcp_close...) take the time from the
	 * stack: let them see the clock the test sees. */
	h->st.now = target;
}

/* --- expectations ----------------------------------------------------------------- */

bool h_pop(struct harness *h, struct h_frame *f)
{
	struct pkt *pkt = stack_tx_pop(&h->st);
	uint32_t len;

	if (!pkt)
		return false;
	len = pkt_len(pkt);
	cr_assert(len >= 14 && len <= sizeof(f->b), "transmitted frame of %" PRIu32 " bytes", len);
	memcpy(f->b, pkt->data, len);
	f->len = len;
	pkt_free(pkt);
	h->tx_frames++;
	return true;
}

unsigned int h_drain(struct harness *h)
{
	unsigned int n = 0;
	struct pkt *pkt;

	while ((pkt = stack_tx_pop(&h->st))) {
		pkt_free(pkt);
		n++;
	}
	h->tx_frames += n;
	return n;
}

void h_expect_nothing_at(struct harness *h, const char *file, int line)
{
	struct h_frame f;

	if (!h_pop(h, &f))
		return;
	cr_assert_fail("%s:%d: expected no frame, got %u bytes, ethertype 0x%04x", file, line,
		       f.len, h_get16(f.b + 12));
}

void h_expect_arp_at(struct harness *h, const struct h_arp *want, struct h_frame *out,
		     const char *file, int line)
{
	struct h_ctx c = { file, line, "arp" };
	struct h_frame f;
	const uint8_t *a = f.b + 14;

	cr_assert(h_pop(h, &f), "%s:%d: expected an ARP frame, nothing was sent", file, line);
	h_field(&c, "frame length", f.len, want->frame_len == H_AUTO ? 42 : want->frame_len);
	h_field_mac(&c, "eth dst", f.b, &want->eth_dst);
	h_field_mac(&c, "eth src", f.b + 6, &want->eth_src);
	h_field(&c, "ethertype", h_get16(f.b + 12), want->eth_type);
	cr_assert(f.len >= 42, "%s:%d: arp: frame of %u bytes too short", file, line, f.len);
	h_field(&c, "htype", h_get16(a), want->htype);
	h_field(&c, "ptype", h_get16(a + 2), want->ptype);
	h_field(&c, "hlen", a[4], want->hlen);
	h_field(&c, "plen", a[5], want->plen);
	h_field(&c, "op", h_get16(a + 6), want->op);
	h_field_mac(&c, "sha", a + 8, &want->sha);
	h_field_addr(&c, "spa", h_get_addr(a + 14), want->spa);
	h_field_mac(&c, "tha", a + 18, &want->tha);
	h_field_addr(&c, "tpa", h_get_addr(a + 24), want->tpa);
	if (out)
		*out = f;
}

void h_expect_ip_at(struct harness *h, const struct h_ip *want, struct h_frame *out,
		    const char *file, int line)
{
	struct h_ctx c = { file, line, want->icmp ? "icmp" : "ipv4" };
	unsigned int plen = h_payload_len(want);
	unsigned int l4 = want->icmp ? 8u : 0u;
	unsigned int ihl, tot;
	const uint8_t *ip = NULL;
	const uint8_t *p;
	struct h_frame f;

	cr_assert(h_pop(h, &f), "%s:%d: expected an IPv4 frame, nothing was sent", file, line);
	h_field_mac(&c, "eth dst", f.b, &want->eth_dst);
	h_field_mac(&c, "eth src", f.b + 6, &want->eth_src);
	h_field(&c, "ethertype", h_get16(f.b + 12), want->eth_type);
	cr_assert(f.len >= 34, "%s:%d: frame of %u bytes has no IPv4 header", file, line, f.len);
	ip = f.b + 14;
	ihl = (ip[0] & 15u) * 4;
	tot = h_get16(ip + 2);
	h_field(&c, "version", ip[0] >> 4, want->version);
	h_field(&c, "ihl", ip[0] & 15, want->ihl);
	cr_assert(ihl >= 20 && 14 + ihl <= f.len, "%s:%d: ihl %u does not fit the frame", file,
		  line, ihl);
	/* Frames usnet sends are not padded: the frame ends with the datagram. */
	h_field(&c, "frame length", f.len,
		want->frame_len != H_AUTO ? want->frame_len : (long long)(14 + tot));
	if (!want->any_payload)
		h_field(&c, "tot_len", tot,
			want->tot_len != H_AUTO ? want->tot_len : (long long)(ihl + l4 + plen));
	h_field(&c, "tos", ip[1], want->tos);
	h_field(&c, "id", h_get16(ip + 4), want->ip_id);
	h_field(&c, "frag_off", h_get16(ip + 6), want->frag_off);
	h_field(&c, "ttl", ip[8], want->ttl);
	h_field(&c, "protocol", ip[9], want->protocol);
	h_field(&c, "ip header checksum (sum over header)", h_csum(ip, ihl), 0);
	h_field_addr(&c, "saddr", h_get_addr(ip + 12), want->saddr);
	h_field_addr(&c, "daddr", h_get_addr(ip + 16), want->daddr);
	cr_assert(tot >= ihl + l4 && 14 + tot <= f.len, "%s:%d: tot_len %u does not fit", file,
		  line, tot);

	p = ip + ihl;
	if (want->icmp) {
		h_field(&c, "icmp type", p[0], want->type);
		h_field(&c, "icmp code", p[1], want->code);
		h_field(&c, "icmp checksum (sum over message)", h_csum(p, tot - ihl), 0);
		h_field(&c, "icmp id", h_get16(p + 4), want->id);
		h_field(&c, "icmp seq", h_get16(p + 6), want->seq);
	}
	if (!want->any_payload && plen)
		h_field_bytes(&c, "payload", p + l4, want->data, plen);
	if (out)
		*out = f;
}

void h_expect_drops_at(struct harness *h, enum drop_reason r, uint64_t n, const char *file,
		       int line)
{
	for (unsigned int i = 0; i < DROP__MAX; i++) {
		uint64_t moved = h->st.mib.drop[i] - h->drop_snap[i];
		uint64_t want = i == (unsigned int)r ? n : 0;

		cr_assert_eq(moved, want,
			     "%s:%d: drop counter %s moved by %" PRIu64 ", want %" PRIu64, file,
			     line, drop_reason_name(i), moved, want);
	}
	h_snapshot_drops(h);
}

/* --- neighbours ------------------------------------------------------------------- */

void h_arp_learn_at(struct harness *h, uint32_t ip, struct h_mac mac, const char *file, int line)
{
	struct h_arp want = ARP_OUT(.eth_dst = mac, .tha = mac, .tpa = ip);

	h_send_arp(h, ARP(.eth_src = mac, .sha = mac, .spa = ip));
	h_expect_arp_at(h, &want, NULL, file, line);
	h_expect_nothing_at(h, file, line);
}

void h_arp_resolve_at(struct harness *h, uint32_t ip, struct h_mac mac, const char *file, int line)
{
	struct h_arp want =
		ARP_OUT(.op = ARPOP_REQUEST, .eth_dst = H_BCAST_MAC, .tha = H_ZERO_MAC, .tpa = ip);

	h_expect_arp_at(h, &want, NULL, file, line);
	h_send_arp(h, ARP(.op = ARPOP_REPLY, .eth_dst = H_US_MAC, .eth_src = mac, .sha = mac,
			  .spa = ip, .tha = H_US_MAC, .tpa = H_US_IP));
	cr_assert_eq(h_neigh_state(h, ip), NUD_REACHABLE, "%s:%d: neighbour not REACHABLE", file,
		     line);
}

bool h_neigh(struct harness *h, uint32_t ip, struct neigh_info *out)
{
	struct neigh_info all[64];
	unsigned int n;

	h->st.now = h->now;
	n = neigh_dump(&h->st, all, 64);
	for (unsigned int i = 0; i < n; i++) {
		if (all[i].addr == ip) {
			if (out)
				*out = all[i];
			return true;
		}
	}
	return false;
}

int h_neigh_state(struct harness *h, uint32_t ip)
{
	struct neigh_info ni;

	return h_neigh(h, ip, &ni) ? ni.state : -1;
}

/* --- allocation failure ---------------------------------------------------------- */

#define H_COUNT_ALLOCS 1000000u

unsigned int h_fail_each_alloc_at(void (*scenario)(struct harness *), const char *file, int line)
{
	static struct harness fh; /* struct stack is large for a thread stack */
	unsigned int n;

	/* Count: a budget far above what the scenario needs, then look at
	 * what is left of it. */
	h_init(&fh);
	pkt_pool_fail_after(&fh.pool, H_COUNT_ALLOCS);
	scenario(&fh);
	n = H_COUNT_ALLOCS - fh.pool.fail_after;
	pkt_pool_fail_after(&fh.pool, PKT_POOL_NO_FAIL);
	cr_assert_eq(fh.pool.alloc_fails, 0, "%s:%d: allocation failed without the hook", file,
		     line);
	cr_assert_eq(h_drops(&fh, DROP_NOMEM), 0, "%s:%d: NOMEM drop without a failure", file,
		     line);
	h_drain(&fh);
	h_fini(&fh);
	cr_assert(n > 0, "%s:%d: the scenario allocates nothing", file, line);

	for (unsigned int i = 0; i < n; i++) {
		h_init(&fh);
		pkt_pool_fail_after(&fh.pool, i);
		scenario(&fh);
		cr_assert(fh.pool.alloc_fails >= 1, "%s:%d: run %u/%u: no allocation failed", file,
			  line, i, n);
		/* Every allocation proto could not make is visible as a drop. */
		cr_assert_eq(h_drops(&fh, DROP_NOMEM), fh.pool.alloc_fails,
			     "%s:%d: run %u/%u: %" PRIu64 " failed allocations, %" PRIu64
			     " NOMEM drops",
			     file, line, i, n, fh.pool.alloc_fails, h_drops(&fh, DROP_NOMEM));
		pkt_pool_fail_after(&fh.pool, PKT_POOL_NO_FAIL);
		h_drain(&fh);
		stack_fini(&fh.st);
		cr_assert(pkt_pool_full(&fh.pool),
			  "%s:%d: run %u/%u: packet leak: %" PRIu32 "/%" PRIu32
			  " metadata and %" PRIu32 "/%" PRIu32 " buffers free",
			  file, line, i, n, fh.pool.nfree_meta, fh.pool.nmeta, fh.pool.nfree_data,
			  fh.pool.ndata);
		pkt_pool_fini(&fh.pool);
		if (fh.ext_fini)
			fh.ext_fini(&fh);
	}
	return n;
}
