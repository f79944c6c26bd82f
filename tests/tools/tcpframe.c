// SPDX-License-Identifier: MIT
/*
 * tcpframe: a small scripted TCP peer on a raw link, for tests/integration/
 * tcp_malformed.sh and for reproductions. It sends hand-built TCP/IPv4
 * segments out of one interface (AF_PACKET), any field as wrong as asked,
 * and checks the segments that come back, in the spirit of packetdrill but
 * with absolute fields and no kernel socket behind it.
 *
 *   tcpframe -i IFNAME -d DST_MAC -s SRC_IP -t DST_IP [-m SRC_MAC] [-a]
 *            [-r RATE] < SCRIPT
 *
 * -m sets the source MAC (default: the interface's), -a answers ARP
 * requests for SRC_IP while the script waits for replies (so SRC_IP can be
 * an address no kernel owns, and no kernel answers usnet's segments with
 * RSTs), -r paces repeated sends (frames a second, default 5000).
 *
 * SCRIPT has one command a line ('#' starts a comment):
 *   arp                          ask DST_IP for its MAC from SRC_IP, so that
 *                                it learns ours; wait for the reply
 *   send KEY=VALUE...            one segment (or count=N of them)
 *   expect KEY=VALUE...          the next segment of the flow from DST_IP
 *                                must match every KEY given
 *   expect none [any] [timeout=MS]
 *                                no segment of the flow (with any: no TCP
 *                                segment for SRC_IP at all, including
 *                                any already waiting) may arrive
 *   sleep ms=N                   wait, printing what arrives (answering ARP)
 * send keys: sport dport seq ack win flags (letters FSRPAUEC, or "none"),
 *   opts (option bytes in hex), data (payload bytes), doff (data offset in
 *   words, overriding the computed one), tcplen (cut the TCP segment to
 *   this many bytes; the IP length follows), csum=bad, count, sportinc=1
 *   (each repeat from the next source port).
 * expect keys: flags seq ack win len optlen (option bytes), timeout (ms,
 *   default 1000).
 * A number may also be sent.seq, sent.ack, sent.end (the last segment
 * sent: its sequence, acknowledgment, sequence + length + SYN + FIN) or
 * got.seq, got.ack (the last segment received), each with +N or -N.
 *
 * Every segment received for the flow is printed as "got flags=... seq=
 * ack= win= len=" on stdout; "sent N" at the end counts the frames sent.
 * Exit status: 0, 1 when an expectation fails (with the reason on
 * stderr), 2 on a usage or script error.
 */
#include <ctype.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>

#include "rawlink.h"

struct state {
	struct rawlink rl;
	uint8_t src_mac[6], dst_mac[6];
	uint32_t saddr, daddr; /* network order */
	bool answer_arp;
	double rate;
	unsigned int line;
	uint64_t sent;
	uint16_t ip_id;
	/* the last segment sent and received */
	uint16_t sport, dport;
	uint32_t sseq, sack, send_seq;
	bool have_got;
	uint32_t gseq, gack;
};

static void script_error(const struct state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void script_error(const struct state *st, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcpframe: script line %u: ", st->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void fail(const struct state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(const struct state *st, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcpframe: line %u: ", st->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A number, or sent.X / got.X with an optional +N / -N. */
static uint32_t parse_num(const struct state *st, const char *v)
{
	static const struct {
		const char *name;
		size_t off;
		bool got;
	} refs[] = {
		{ "sent.seq", offsetof(struct state, sseq), false },
		{ "sent.ack", offsetof(struct state, sack), false },
		{ "sent.end", offsetof(struct state, send_seq), false },
		{ "got.seq", offsetof(struct state, gseq), true },
		{ "got.ack", offsetof(struct state, gack), true },
	};
	char *end;

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		size_t n = strlen(refs[i].name);
		uint32_t base;

		if (strncmp(v, refs[i].name, n))
			continue;
		if (refs[i].got && !st->have_got)
			script_error(st, "%s used before any segment was received", refs[i].name);
		memcpy(&base, (const char *)st + refs[i].off, sizeof(base));
		if (!v[n])
			return base;
		if (v[n] != '+' && v[n] != '-')
			script_error(st, "bad reference '%s'", v);
		return v[n] == '+' ? base + (uint32_t)strtoul(v + n + 1, NULL, 0) :
				     base - (uint32_t)strtoul(v + n + 1, NULL, 0);
	}
	errno = 0;
	{
		unsigned long long x = strtoull(v, &end, 0);

		if (errno || *end || end == v || x > 0xffffffffull)
			script_error(st, "bad number '%s'", v);
		return (uint32_t)x;
	}
}

static int parse_flags(const struct state *st, const char *v)
{
	static const char letters[] = "FSRPAUEC";
	int f = 0;

	if (!strcmp(v, "none"))
		return 0;
	for (const char *p = v; *p; p++) {
		const char *l = strchr(letters, toupper((unsigned char)*p));

		if (!l)
			script_error(st, "bad flags '%s'", v);
		f |= 1 << (l - letters);
	}
	return f;
}

static void format_flags(uint8_t f, char *out)
{
	static const char letters[] = "FSRPAUEC";
	char *p = out;

	for (int i = 0; i < 8; i++)
		if (f & (1 << i))
			*p++ = letters[i];
	if (p == out)
		*p++ = '.';
	*p = '\0';
}

static unsigned int parse_hex(const struct state *st, const char *v, uint8_t *out, size_t cap)
{
	size_t n = strlen(v);

	if (n % 2 || n / 2 > cap)
		script_error(st, "bad option bytes '%s'", v);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			script_error(st, "bad option bytes '%s'", v);
		out[i] = (uint8_t)b;
	}
	return (unsigned int)(n / 2);
}

static void answer_arp(struct state *st, const uint8_t *f, size_t n)
{
	uint8_t r[42];

	/* Ethernet/IPv4 ARP request whose target is our address. */
	if (!st->answer_arp || n < 42 || rl_get16(f + 12) != ETH_P_ARP || rl_get16(f + 14) != 1 ||
	    rl_get16(f + 16) != ETH_P_IP || f[18] != 6 || f[19] != 4 || rl_get16(f + 20) != 1 ||
	    memcmp(f + 38, &st->saddr, 4))
		return;
	memcpy(r, f + 6, 6);
	memcpy(r + 6, st->src_mac, 6);
	rl_put16(r + 12, ETH_P_ARP);
	memcpy(r + 14, f + 14, 6);
	rl_put16(r + 20, 2);
	memcpy(r + 22, st->src_mac, 6);
	memcpy(r + 28, &st->saddr, 4);
	memcpy(r + 32, f + 22, 10); /* the asker's MAC and address */
	rl_send(&st->rl, r, sizeof(r));
}

static void print_seg(const struct rl_rx *r)
{
	char fl[16];

	format_flags(r->flags, fl);
	printf("got flags=%s seq=%u ack=%u win=%u len=%u optlen=%u\n", fl, r->seq, r->ack, r->win,
	       r->len, r->optlen);
	fflush(stdout);
}

/* Wait up to @ms for the next TCP segment of the flow (answering ARP
 * meanwhile). Return: true with @r filled, false on timeout. */
static bool recv_seg(struct state *st, int ms, bool any, struct rl_rx *r)
{
	double until = rl_now() + ms / 1000.0;
	static uint8_t f[65536];

	for (;;) {
		struct pollfd p = { .fd = st->rl.fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		double left = until - rl_now();
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = recvfrom(st->rl.fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		answer_arp(st, f, (size_t)n);
		if (!rl_parse_tcp(f, (size_t)n, r) || r->saddr != st->daddr ||
		    r->daddr != st->saddr)
			continue;
		if (!any && (r->sport != st->dport || r->dport != st->sport)) {
			/* Only this program uses SRC_IP: a segment of another
			 * flow answers something sent earlier, unexpectedly. */
			print_seg(r);
			fail(st, "a segment of another flow (%u -> %u) arrived", r->sport,
			     r->dport);
		}
		return true;
	}
}

static void do_arp(struct state *st)
{
	uint8_t f[42];
	double until = rl_now() + 2;
	static uint8_t in[65536];

	memset(f, 0xff, 6);
	memcpy(f + 6, st->src_mac, 6);
	rl_put16(f + 12, ETH_P_ARP);
	rl_put16(f + 14, 1);
	rl_put16(f + 16, ETH_P_IP);
	f[18] = 6;
	f[19] = 4;
	rl_put16(f + 20, 1);
	memcpy(f + 22, st->src_mac, 6);
	memcpy(f + 28, &st->saddr, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, &st->daddr, 4);
	rl_send(&st->rl, f, sizeof(f));
	while (rl_now() < until) {
		struct pollfd p = { .fd = st->rl.fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(st->rl.fd, in, sizeof(in), MSG_DONTWAIT);
		if (n >= 42 && rl_get16(in + 12) == ETH_P_ARP && rl_get16(in + 20) == 2 &&
		    !memcmp(in + 28, &st->daddr, 4) && !memcmp(in + 38, &st->saddr, 4))
			return;
	}
	fail(st, "no ARP reply from the target within 2 s");
}

static void do_send(struct state *st, char **kv, int n)
{
	uint8_t opts[40], f[RL_FRAME_MAX];
	struct rl_seg s;
	uint32_t count = 1;
	bool sportinc = false;
	double t0;

	memset(&s, 0, sizeof(s));
	memcpy(s.dst_mac, st->dst_mac, 6);
	memcpy(s.src_mac, st->src_mac, 6);
	s.saddr = st->saddr;
	s.daddr = st->daddr;
	s.sport = st->sport;
	s.dport = st->dport;
	s.win = 65535;
	s.tcp_len = -1;
	for (int i = 0; i < n; i++) {
		char *k = kv[i], *v = strchr(k, '=');

		if (!v)
			script_error(st, "'%s' is not KEY=VALUE", k);
		*v++ = '\0';
		if (!strcmp(k, "sport"))
			s.sport = (uint16_t)parse_num(st, v);
		else if (!strcmp(k, "dport"))
			s.dport = (uint16_t)parse_num(st, v);
		else if (!strcmp(k, "seq"))
			s.seq = parse_num(st, v);
		else if (!strcmp(k, "ack"))
			s.ack = parse_num(st, v);
		else if (!strcmp(k, "win"))
			s.win = (uint16_t)parse_num(st, v);
		else if (!strcmp(k, "flags"))
			s.flags = (uint8_t)parse_flags(st, v);
		else if (!strcmp(k, "opts"))
			s.optlen = parse_hex(st, v, opts, sizeof(opts));
		else if (!strcmp(k, "data"))
			s.datalen = parse_num(st, v);
		else if (!strcmp(k, "doff"))
			s.doff = (int)parse_num(st, v);
		else if (!strcmp(k, "tcplen"))
			s.tcp_len = (int)parse_num(st, v);
		else if (!strcmp(k, "csum") && !strcmp(v, "bad"))
			s.bad_csum = true;
		else if (!strcmp(k, "count"))
			count = parse_num(st, v);
		else if (!strcmp(k, "sportinc"))
			sportinc = parse_num(st, v) != 0;
		else
			script_error(st, "unknown send key '%s'", k);
	}
	s.opts = opts;
	st->sport = s.sport;
	st->dport = s.dport;
	st->sseq = s.seq;
	st->sack = s.ack;
	st->send_seq = s.seq + s.datalen + !!(s.flags & RL_SYN) + !!(s.flags & RL_FIN);
	t0 = rl_now();
	for (uint32_t i = 0; i < count; i++) {
		s.ip_id = st->ip_id++;
		if (count > 1)
			rl_pace(t0, i, st->rate);
		rl_send(&st->rl, f, rl_build(f, &s));
		st->sent++;
		if (sportinc)
			s.sport++;
	}
}

static void do_expect(struct state *st, char **kv, int n)
{
	struct rl_rx r;
	int timeout = 1000;
	bool none = false, any = false;

	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i], "none"))
			none = true;
		else if (!strcmp(kv[i], "any"))
			any = true;
		else if (!strncmp(kv[i], "timeout=", 8))
			timeout = (int)parse_num(st, kv[i] + 8);
	if (none) {
		if (recv_seg(st, timeout, any, &r)) {
			print_seg(&r);
			fail(st, "a segment arrived where none was expected");
		}
		return;
	}
	if (any)
		script_error(st, "'any' goes with 'expect none' only");
	if (!recv_seg(st, timeout, false, &r))
		fail(st, "no segment from %u within %d ms", st->dport, timeout);
	print_seg(&r);
	st->have_got = true;
	st->gseq = r.seq;
	st->gack = r.ack;
	for (int i = 0; i < n; i++) {
		char *k = kv[i], *v = strchr(k, '=');
		uint32_t want, got;

		if (!v)
			script_error(st, "'%s' is not KEY=VALUE", k);
		*v++ = '\0';
		if (!strcmp(k, "timeout") || !strcmp(k, "none"))
			continue;
		if (!strcmp(k, "flags")) {
			char a[16], b[16];

			want = (uint32_t)parse_flags(st, v);
			if (want != r.flags) {
				format_flags((uint8_t)want, a);
				format_flags(r.flags, b);
				fail(st, "flags: got %s, want %s", b, a);
			}
			continue;
		}
		want = parse_num(st, v);
		if (!strcmp(k, "seq"))
			got = r.seq;
		else if (!strcmp(k, "ack"))
			got = r.ack;
		else if (!strcmp(k, "win"))
			got = r.win;
		else if (!strcmp(k, "len"))
			got = r.len;
		else if (!strcmp(k, "optlen"))
			got = r.optlen;
		else
			script_error(st, "unknown expect key '%s'", k);
		if (got != want)
			fail(st, "%s: got %u, want %u", k, got, want);
	}
}

static void do_sleep(struct state *st, char **kv, int n)
{
	struct rl_rx r;
	double until;

	if (n != 1 || strncmp(kv[0], "ms=", 3))
		script_error(st, "sleep wants ms=N");
	until = rl_now() + parse_num(st, kv[0] + 3) / 1000.0;
	while (rl_now() < until)
		if (recv_seg(st, (int)((until - rl_now()) * 1000) + 1, true, &r))
			print_seg(&r);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tcpframe -i IFNAME -d DST_MAC -s SRC_IP -t DST_IP [-m SRC_MAC] [-a] "
		"[-r RATE] < SCRIPT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *dmac = NULL, *smac = NULL;
	struct in_addr a;
	struct state st;
	char line[1024];
	int opt;

	memset(&st, 0, sizeof(st));
	st.rate = 5000;
	st.sport = 40000;
	while ((opt = getopt(argc, argv, "i:d:s:t:m:ar:")) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			dmac = optarg;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			st.saddr = a.s_addr;
			break;
		case 't':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			st.daddr = a.s_addr;
			break;
		case 'm':
			smac = optarg;
			break;
		case 'a':
			st.answer_arp = true;
			break;
		case 'r':
			st.rate = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (!ifname || !dmac || !st.saddr || !st.daddr || optind != argc)
		usage();
	rl_open(&st.rl, "tcpframe", ifname, true);
	if (!rl_parse_mac(dmac, st.dst_mac) || (smac && !rl_parse_mac(smac, st.src_mac)))
		usage();
	if (!smac)
		memcpy(st.src_mac, st.rl.mac, 6);

	while (fgets(line, sizeof(line), stdin)) {
		char *kv[32], *save = NULL, *tok, *hash = strchr(line, '#');
		int n = 0;

		st.line++;
		if (hash)
			*hash = '\0';
		tok = strtok_r(line, " \t\r\n", &save);
		if (!tok)
			continue;
		while (n < 32 && (kv[n] = strtok_r(NULL, " \t\r\n", &save)))
			n++;
		if (!strcmp(tok, "arp"))
			do_arp(&st);
		else if (!strcmp(tok, "send"))
			do_send(&st, kv, n);
		else if (!strcmp(tok, "expect"))
			do_expect(&st, kv, n);
		else if (!strcmp(tok, "sleep"))
			do_sleep(&st, kv, n);
		else
			script_error(&st, "unknown command '%s'", tok);
	}
	printf("sent %llu\n", (unsigned long long)st.sent);
	return 0;
}
