// SPDX-License-Identifier: MIT
/*
 * synflood: SYNs from spoofed source ports and addresses, out of one
 * interface through an AF_PACKET socket, for tests/integration/
 * tcp_synflood.sh. Each SYN carries the options a Linux client sends (MSS,
 * SACK permitted, timestamps, window scale), so that SYN cookies have
 * something to encode, and a fresh pseudo-random ISN. Sources walk the
 * address range and, for each address, the port range, so that no 4-tuple
 * repeats before COUNT exceeds their product.
 *
 *   synflood -i IFNAME -d DST_MAC -s SRC_IP[-SRC_IP] -t DST_IP -p DST_PORT
 *            [-P PORT-PORT] [-n COUNT] [-r RATE] [-m SRC_MAC] [-S SEED]
 *
 * -P is the source port range (default 1024-65535), -n the number of SYNs
 * (default 10000), -r frames a second (default 10000; 0 as fast as the
 * link takes them), -m the source MAC (default the interface's).
 * Prints "sent N SYNs in T s" on stdout. Exit status: 0, 1 if sending
 * failed, 2 on a usage error.
 */
#include <getopt.h>

#include "rawlink.h"

static void usage(void)
{
	fprintf(stderr, "usage: synflood -i IFNAME -d DST_MAC -s SRC_IP[-SRC_IP] -t DST_IP "
			"-p DST_PORT [-P PORT-PORT] [-n COUNT] [-r RATE] [-m SRC_MAC] [-S SEED]\n");
	exit(2);
}

/* "a-b" or "a" into a host-order range. */
static bool parse_range_ip(const char *s, uint32_t *lo, uint32_t *hi)
{
	char buf[64], *dash;
	struct in_addr a, b;

	snprintf(buf, sizeof(buf), "%s", s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	b = a;
	if (dash && inet_pton(AF_INET, dash + 1, &b) != 1)
		return false;
	*lo = ntohl(a.s_addr);
	*hi = ntohl(b.s_addr);
	return *lo <= *hi;
}

static bool parse_range_port(const char *s, uint32_t *lo, uint32_t *hi)
{
	char *end;

	*lo = (uint32_t)strtoul(s, &end, 10);
	*hi = *lo;
	if (*end == '-')
		*hi = (uint32_t)strtoul(end + 1, &end, 10);
	return !*end && *lo >= 1 && *lo <= *hi && *hi <= 65535;
}

/* xorshift64*: ISNs and timestamps that differ from SYN to SYN. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

int main(int argc, char **argv)
{
	uint32_t src_lo = 0, src_hi = 0, port_lo = 1024, port_hi = 65535, dport = 0;
	const char *ifname = NULL, *dmac = NULL, *smac = NULL;
	uint64_t count = 10000, seed = 0x5eed5eed;
	struct in_addr dst = { 0 };
	struct rawlink rl;
	struct rl_seg s;
	uint8_t f[RL_FRAME_MAX], opts[20];
	double rate = 10000, t0;
	int opt;

	while ((opt = getopt(argc, argv, "i:d:s:t:p:P:n:r:m:S:")) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			dmac = optarg;
			break;
		case 's':
			if (!parse_range_ip(optarg, &src_lo, &src_hi))
				usage();
			break;
		case 't':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				usage();
			break;
		case 'p':
			dport = (uint32_t)atoi(optarg);
			break;
		case 'P':
			if (!parse_range_port(optarg, &port_lo, &port_hi))
				usage();
			break;
		case 'n':
			count = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'm':
			smac = optarg;
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0) | 1;
			break;
		default:
			usage();
		}
	}
	if (!ifname || !dmac || !src_lo || !dst.s_addr || !dport || dport > 65535 || optind != argc)
		usage();
	memset(&s, 0, sizeof(s));
	rl_open(&rl, "synflood", ifname, false);
	if (!rl_parse_mac(dmac, s.dst_mac) || (smac && !rl_parse_mac(smac, s.src_mac)))
		usage();
	if (!smac)
		memcpy(s.src_mac, rl.mac, 6);
	s.daddr = dst.s_addr;
	s.dport = (uint16_t)dport;
	s.flags = RL_SYN;
	s.win = 64240;
	s.tcp_len = -1;
	/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7: Linux's
	 * order and layout. */
	memcpy(opts, "\x02\x04\x05\xb4\x04\x02\x08\x0a\0\0\0\0\0\0\0\0\x01\x03\x03\x07", 20);
	s.opts = opts;
	s.optlen = sizeof(opts);

	t0 = rl_now();
	for (uint64_t i = 0; i < count; i++) {
		uint64_t nports = port_hi - port_lo + 1, naddrs = (uint64_t)src_hi - src_lo + 1;
		uint64_t r = rnd(&seed);

		s.saddr = htonl(src_lo + (uint32_t)((i / nports) % naddrs));
		s.sport = (uint16_t)(port_lo + i % nports);
		s.seq = (uint32_t)r;
		s.ip_id = (uint16_t)i;
		rl_put32(opts + 8, (uint32_t)(r >> 32)); /* TSval */
		rl_pace(t0, i, rate);
		rl_send(&rl, f, rl_build(f, &s));
	}
	printf("sent %llu SYNs in %.3f s\n", (unsigned long long)count, rl_now() - t0);
	return 0;
}
