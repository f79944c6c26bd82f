// SPDX-License-Identifier: MIT
/*
 * framegen: send hand-made Ethernet frames out of one interface through an
 * AF_PACKET raw socket, for the integration tests (tests/integration/
 * malformed.sh). Each KIND builds one kind of malformed frame (or a valid
 * one, for control), named after the drop reason it must land under at
 * usnetd. Frames are picked from the KINDs given at random with a fixed
 * seed, paced at a steady rate, and the count sent of each kind is printed
 * on stdout as "KIND COUNT" lines, so that a test can compute what every
 * counter must read afterwards.
 *
 *   framegen -i IFNAME -d DST_MAC -s SRC_IP -t DST_IP [-n COUNT] [-r RATE]
 *            [-S SEED] KIND[,KIND...]        ("all" names every kind)
 *   framegen -l                              (list the kinds)
 *
 * Every checksum is correct except where the kind says otherwise, and no
 * frame is shorter than the Ethernet header (AF_PACKET would pad it). The
 * kernel side of a TAP hands the daemon each frame exactly as written:
 * no padding to 60 bytes, no checksum fixing.
 *
 * Exit status: 0, 1 if a frame could not be sent, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 1514
#define ICMP_PAYLOAD 32
#define BURST 8

struct gen {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t sip, dip; /* network order */
	uint16_t ip_id;
	uint16_t seq;
};

/* --- wire helpers --------------------------------------------------------- */

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t put_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return ETH_HLEN;
}

struct iph {
	unsigned int version; /* 4 */
	unsigned int ihl_bytes; /* 20, or more with options */
	unsigned int tot_len; /* header + payload, as written in the header */
	uint16_t frag_off; /* flags and offset, host order */
	uint8_t ttl;
	uint8_t proto;
	uint32_t saddr, daddr; /* network order */
	bool bad_csum;
};

/* Writes the IPv4 header at @p (options, if any, must already be at
 * p + 20) and computes its checksum. */
static void put_ip(uint8_t *p, struct gen *g, const struct iph *h)
{
	uint16_t c;

	p[0] = (uint8_t)(h->version << 4 | ((h->ihl_bytes / 4) & 0xf));
	p[1] = 0;
	put16(p + 2, (uint16_t)h->tot_len);
	put16(p + 4, g->ip_id++);
	put16(p + 6, h->frag_off);
	p[8] = h->ttl;
	p[9] = h->proto;
	put16(p + 10, 0);
	memcpy(p + 12, &h->saddr, 4);
	memcpy(p + 16, &h->daddr, 4);
	/* The checksum covers what the header length field claims, capped at
	 * the 60 bytes an IHL can express (the buffer always holds them). */
	c = csum(p, h->ihl_bytes < 20 ? 20 : h->ihl_bytes);
	if (h->bad_csum)
		c ^= 0x5a5a;
	put16(p + 10, c);
}

/* ICMP echo request with a 32-byte payload; returns its length. */
static size_t put_icmp(uint8_t *p, struct gen *g, uint8_t type, bool bad_csum)
{
	size_t len = 8 + ICMP_PAYLOAD;
	uint16_t c;

	p[0] = type;
	p[1] = 0;
	put16(p + 2, 0);
	put16(p + 4, 0x7567); /* identifier "ug" */
	put16(p + 6, g->seq++);
	for (size_t i = 0; i < ICMP_PAYLOAD; i++)
		p[8 + i] = (uint8_t)(0x20 + i);
	c = csum(p, len);
	if (bad_csum)
		c ^= 0x5a5a;
	put16(p + 2, c);
	return len;
}

static struct iph ip_defaults(const struct gen *g, uint8_t proto)
{
	struct iph h = {
		.version = 4,
		.ihl_bytes = 20,
		.frag_off = 0x4000 /* DF */,
		.ttl = 64,
		.proto = proto,
		.saddr = g->sip,
		.daddr = g->dip,
	};
	return h;
}

/* Ethernet + IPv4 (header @h, tot_len filled in unless set) + ICMP. */
static size_t ip_icmp_frame(uint8_t *f, struct gen *g, struct iph *h, uint8_t icmp_type,
			    bool icmp_bad_csum)
{
	size_t off = put_eth(f, g->dst_mac, g->src_mac, ETH_P_IP);
	size_t ilen = put_icmp(f + off + h->ihl_bytes, g, icmp_type, icmp_bad_csum);

	if (!h->tot_len)
		h->tot_len = h->ihl_bytes + ilen;
	put_ip(f + off, g, h);
	return off + h->ihl_bytes + ilen;
}

/* --- the kinds ------------------------------------------------------------- */

static size_t k_echo(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	return ip_icmp_frame(f, g, &h, 8, false);
}

/* Ethernet + the first 10 bytes of a valid IPv4 header. */
static size_t k_ip_truncated_header(uint8_t *f, struct gen *g)
{
	k_echo(f, g);
	return ETH_HLEN + 10;
}

static size_t k_ip_bad_version(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	h.version = 6;
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* IHL 3: a header length shorter than the fixed header. The checksum is
 * computed over the 20 bytes present. */
static size_t k_ip_bad_ihl(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);
	size_t n;

	n = ip_icmp_frame(f, g, &h, 8, false);
	f[ETH_HLEN] = 0x43;
	put16(f + ETH_HLEN + 10, 0);
	put16(f + ETH_HLEN + 10, csum(f + ETH_HLEN, 20));
	return n;
}

/* IHL 15 (60 bytes) in a frame carrying 20 bytes of header and an 8-byte
 * ICMP header: the header runs past the end of the frame. */
static size_t k_ip_ihl_past_frame(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	ip_icmp_frame(f, g, &h, 8, false);
	f[ETH_HLEN] = 0x4f;
	put16(f + ETH_HLEN + 2, 28);
	put16(f + ETH_HLEN + 10, 0);
	put16(f + ETH_HLEN + 10, csum(f + ETH_HLEN, 20));
	return ETH_HLEN + 28;
}

static size_t k_ip_bad_csum(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	h.bad_csum = true;
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* Total length 100 bytes more than the frame holds. */
static size_t k_ip_totlen_past_frame(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	h.tot_len = 20 + 8 + ICMP_PAYLOAD + 100;
	return ip_icmp_frame(f, g, &h, 8, false);
}

static size_t k_ip_ttl_zero(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	h.ttl = 0;
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* First fragment: MF set, offset 0. */
static size_t k_ip_fragment(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	h.frag_off = 0x2000;
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* IHL 6: one option word holding a Timestamp option (68) whose length
 * (40) overruns the 4 bytes of option space. */
static size_t k_ip_bad_options(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);
	uint8_t *opt = f + ETH_HLEN + 20;

	h.ihl_bytes = 24;
	opt[0] = 68;
	opt[1] = 40;
	opt[2] = 5;
	opt[3] = 0;
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* A unicast destination on the same subnet that is not usnet's. */
static size_t k_ip_not_for_us(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);
	uint32_t d = ntohl(g->dip);
	uint32_t last = d & 0xff;

	last = last == 99 ? 98 : 99;
	h.daddr = htonl((d & ~0xffu) | last);
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* Multicast source 224.0.0.1. */
static size_t k_ip_bad_source(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	h.saddr = htonl(0xe0000001u);
	return ip_icmp_frame(f, g, &h, 8, false);
}

/* Protocol 253 (RFC 3692 experimentation): nobody handles it. The payload
 * is an echo-shaped 40 bytes, which is just bytes to IPv4. */
static size_t k_ip_unknown_proto(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, 253);

	return ip_icmp_frame(f, g, &h, 8, false);
}

static size_t k_icmp_bad_csum(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	return ip_icmp_frame(f, g, &h, 8, true);
}

/* 4 bytes of ICMP: type, code and a checksum valid over those 4 bytes,
 * but no room for the rest of the 8-byte header. */
static size_t k_icmp_truncated(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);
	uint8_t *ic = f + ETH_HLEN + 20;

	ip_icmp_frame(f, g, &h, 8, false);
	put16(ic + 2, 0);
	put16(ic + 2, csum(ic, 4));
	h.tot_len = 24;
	g->ip_id--;
	put_ip(f + ETH_HLEN, g, &h);
	return ETH_HLEN + 24;
}

static size_t k_icmp_bad_type(uint8_t *f, struct gen *g)
{
	struct iph h = ip_defaults(g, IPPROTO_ICMP);

	return ip_icmp_frame(f, g, &h, 200, false);
}

static size_t put_arp(uint8_t *f, struct gen *g, uint8_t hlen, uint32_t sip)
{
	size_t off = put_eth(f, g->dst_mac, g->src_mac, ETH_P_ARP);
	uint8_t *a = f + off;

	put16(a, 1); /* ARPHRD_ETHER */
	put16(a + 2, ETH_P_IP);
	a[4] = hlen;
	a[5] = 4;
	put16(a + 6, 1); /* request */
	memcpy(a + 8, g->src_mac, 6);
	memcpy(a + 14, &sip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &g->dip, 4);
	return off + 28;
}

/* Ethernet + the first 10 bytes of a valid ARP request. */
static size_t k_arp_truncated(uint8_t *f, struct gen *g)
{
	put_arp(f, g, 6, g->sip);
	return ETH_HLEN + 10;
}

static size_t k_arp_bad_hlen(uint8_t *f, struct gen *g)
{
	return put_arp(f, g, 5, g->sip);
}

/* A request whose sender protocol address is 224.0.0.5. */
static size_t k_arp_bad_sender(uint8_t *f, struct gen *g)
{
	return put_arp(f, g, 6, htonl(0xe0000005u));
}

/* A valid echo request in a frame unicast to another MAC (usnet's with
 * the last byte changed; the first byte, and so unicast, is kept). */
static size_t k_eth_other_host(uint8_t *f, struct gen *g)
{
	size_t n = k_echo(f, g);

	f[5] ^= 0x01;
	return n;
}

/* Ethertype 0x88b5 (IEEE 802 local experimental) with 46 bytes. */
static size_t k_eth_unknown_type(uint8_t *f, struct gen *g)
{
	size_t off = put_eth(f, g->dst_mac, g->src_mac, 0x88b5);

	for (size_t i = 0; i < 46; i++)
		f[off + i] = (uint8_t)i;
	return off + 46;
}

struct kind {
	const char *name;
	size_t (*build)(uint8_t *f, struct gen *g);
	const char *what;
};

static const struct kind kinds[] = {
	{ "ip-truncated-header", k_ip_truncated_header, "eth + 10 bytes of IPv4" },
	{ "ip-bad-version", k_ip_bad_version, "IPv4 header with version 6" },
	{ "ip-bad-ihl", k_ip_bad_ihl, "IHL 3" },
	{ "ip-ihl-past-frame", k_ip_ihl_past_frame, "IHL 15 in a 28-byte datagram" },
	{ "ip-bad-csum", k_ip_bad_csum, "IPv4 header checksum wrong" },
	{ "ip-totlen-past-frame", k_ip_totlen_past_frame, "total length 100 past the frame" },
	{ "ip-ttl-zero", k_ip_ttl_zero, "TTL 0" },
	{ "ip-fragment", k_ip_fragment, "first fragment (MF, offset 0)" },
	{ "ip-bad-options", k_ip_bad_options, "option length overruns the header" },
	{ "ip-not-for-us", k_ip_not_for_us, "destination .99 (or .98) of the subnet" },
	{ "ip-bad-source", k_ip_bad_source, "source 224.0.0.1" },
	{ "ip-unknown-proto", k_ip_unknown_proto, "protocol 253" },
	{ "icmp-bad-csum", k_icmp_bad_csum, "ICMP checksum wrong" },
	{ "icmp-truncated", k_icmp_truncated, "4 bytes of ICMP" },
	{ "icmp-bad-type", k_icmp_bad_type, "ICMP type 200" },
	{ "arp-truncated", k_arp_truncated, "eth + 10 bytes of ARP" },
	{ "arp-bad-hlen", k_arp_bad_hlen, "ARP hardware length 5" },
	{ "arp-bad-sender", k_arp_bad_sender, "ARP sender 224.0.0.5" },
	{ "eth-other-host", k_eth_other_host, "unicast to another MAC" },
	{ "eth-unknown-type", k_eth_unknown_type, "ethertype 0x88b5" },
	{ "echo", k_echo, "valid ICMP echo request (control)" },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* --- options and sending --------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: framegen -i IFNAME -d DST_MAC -s SRC_IP -t DST_IP [-n COUNT] [-r RATE]\n"
		   "                [-S SEED] KIND[,KIND...]\n"
		   "       framegen -l\n\n"
		   "  -n COUNT  frames to send (1000)\n"
		   "  -r RATE   frames per second, 0 for as fast as possible (4000)\n"
		   "  -S SEED   seed of the random mix (1)\n"
		   "  -l        list the kinds\n"
		   "KIND 'all' selects every kind. Prints \"KIND COUNT\" per kind on stdout.\n");
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out > max ? -1 : 0;
}

/* Adds the kinds named in @list (comma-separated) to @sel. */
static int select_kinds(char *list, unsigned int *sel, unsigned int *nsel)
{
	char *save = NULL;

	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (unsigned int k = 0; k < NKINDS; k++) {
			if (strcmp(w, "all") && strcmp(w, kinds[k].name))
				continue;
			found = true;
			for (unsigned int j = 0; j < *nsel; j++)
				if (sel[j] == k)
					goto next;
			sel[(*nsel)++] = k;
next:;
		}
		if (!found) {
			fprintf(stderr, "framegen: unknown kind '%s' (framegen -l lists them)\n",
				w);
			return -1;
		}
	}
	return 0;
}

/* xorshift64*: the same mix for the same seed on every machine. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* A full qdisc says ENOBUFS: wait for it to drain rather than lose the
 * frame, so that the counts printed are the frames that left. */
static int send_frame(int fd, const struct sockaddr_ll *sll, const uint8_t *f, size_t len)
{
	for (int tries = 0; tries < 2000; tries++) {
		ssize_t n = sendto(fd, f, len, 0, (const struct sockaddr *)sll, sizeof(*sll));

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0) {
			fprintf(stderr, "framegen: short send: %zd of %zu bytes\n", n, len);
			return -1;
		}
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "framegen: sendto: %s\n", strerror(errno));
			return -1;
		}
		sleep_until(now_ns() + 1000000);
	}
	fprintf(stderr, "framegen: sendto: no buffer space for 2 s\n");
	return -1;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *dst = NULL, *src = NULL, *tgt = NULL;
	unsigned long count = 1000, rate = 4000, seed = 1;
	unsigned int sel[NKINDS], nsel = 0;
	unsigned long sent[NKINDS] = { 0 }, total = 0;
	struct gen g = { .ip_id = 1, .seq = 1 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	uint64_t rng, t0;
	uint8_t frame[FRAME_MAX];
	int c, fd, rc = 0;

	while ((c = getopt(argc, argv, "i:d:s:t:n:r:S:lh")) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			dst = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 't':
			tgt = optarg;
			break;
		case 'n':
			if (parse_ulong(optarg, 100000000ul, &count) < 0) {
				fprintf(stderr, "framegen: -n %s: not a count\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (parse_ulong(optarg, 10000000ul, &rate) < 0) {
				fprintf(stderr, "framegen: -r %s: not a rate\n", optarg);
				return 2;
			}
			break;
		case 'S':
			if (parse_ulong(optarg, ULONG_MAX, &seed) < 0) {
				fprintf(stderr, "framegen: -S %s: not a seed\n", optarg);
				return 2;
			}
			break;
		case 'l':
			for (unsigned int k = 0; k < NKINDS; k++)
				printf("%-22s %s\n", kinds[k].name, kinds[k].what);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || !dst || !src || !tgt || optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (select_kinds(argv[i], sel, &nsel) < 0)
			return 2;
	if (!nsel) {
		fprintf(stderr, "framegen: no KIND given\n");
		return 2;
	}
	if (parse_mac(dst, g.dst_mac) < 0) {
		fprintf(stderr, "framegen: -d %s: not a MAC address\n", dst);
		return 2;
	}
	if (inet_pton(AF_INET, src, &g.sip) != 1 || inet_pton(AF_INET, tgt, &g.dip) != 1) {
		fprintf(stderr, "framegen: -s/-t: not IPv4 addresses\n");
		return 2;
	}
	if (strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "framegen: -i %s: name too long\n", ifname);
		return 2;
	}

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "framegen: socket(AF_PACKET): %s\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		fprintf(stderr, "framegen: interface %s: %s\n", ifname, strerror(errno));
		close(fd);
		return 1;
	}
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "framegen: interface %s: SIOCGIFHWADDR: %s\n", ifname,
			strerror(errno));
		close(fd);
		return 1;
	}
	memcpy(g.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, g.dst_mac, 6);

	rng = seed ? (uint64_t)seed : 1;
	t0 = now_ns();
	for (unsigned long i = 0; i < count; i++) {
		unsigned int k = sel[rng_next(&rng) % nsel];
		size_t len;

		if (rate && i % BURST == 0)
			sleep_until(t0 + (uint64_t)(i * (1000000000.0 / (double)rate)));
		memset(frame, 0, sizeof(frame));
		len = kinds[k].build(frame, &g);
		if (send_frame(fd, &sll, frame, len) < 0) {
			rc = 1;
			break;
		}
		sent[k]++;
		total++;
	}
	close(fd);
	for (unsigned int j = 0; j < nsel; j++)
		printf("%s %lu\n", kinds[sel[j]].name, sent[sel[j]]);
	fprintf(stderr, "framegen: %lu frames in %.2f s\n", total, (double)(now_ns() - t0) / 1e9);
	return rc;
}
