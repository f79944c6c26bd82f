/* SPDX-License-Identifier: MIT */
/*
 * rawlink: what the TCP test tools (synflood, tcpframe) share: an AF_PACKET
 * socket on one interface, a TCP/IPv4 frame builder that can get every field
 * wrong on purpose, a frame parser for replies, and pacing. Header-only so
 * that each tool stays one program; everything is static inline.
 *
 * Frames leave exactly as built (no padding, no checksum fixing by the
 * kernel side of a TAP), and a receiving socket sees every frame the
 * interface carries in both directions, so a tool filters replies itself.
 */
#ifndef USNET_TESTS_RAWLINK_H
#define USNET_TESTS_RAWLINK_H

#include <arpa/inet.h>
#include <errno.h>
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

#define RL_FRAME_MAX 1514
#define RL_TCP_HDR 20
#define RL_IP_HDR 20

/* TCP flag bits, as on the wire. */
#define RL_FIN 0x01
#define RL_SYN 0x02
#define RL_RST 0x04
#define RL_PSH 0x08
#define RL_ACK 0x10
#define RL_URG 0x20
#define RL_ECE 0x40
#define RL_CWR 0x80

struct rawlink {
	int fd;
	int ifindex;
	uint8_t mac[6];
	const char *prog; /* for messages */
};

/* One TCP segment to build. Lengths and fields the caller leaves at zero
 * get their correct value; the *_set flags and overrides make them wrong. */
struct rl_seg {
	uint8_t dst_mac[6], src_mac[6];
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opts; /* raw option bytes */
	unsigned int optlen;
	unsigned int datalen; /* payload bytes ('x') */
	int doff; /* data offset in 32-bit words; 0: computed */
	bool bad_csum; /* TCP checksum off by one bit pattern */
	int tcp_len; /* cut the TCP segment to this many bytes; -1: no cut */
	uint16_t ip_id;
	uint8_t ttl;
};

static inline void rl_die(const struct rawlink *rl, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", rl->prog, what, strerror(errno));
	exit(1);
}

static inline bool rl_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return false;
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

/* Open @ifname. With @rx the socket also receives every frame the
 * interface carries (ETH_P_ALL). */
static inline void rl_open(struct rawlink *rl, const char *prog, const char *ifname, bool rx)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	rl->prog = prog;
	rl->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, rx ? htons(ETH_P_ALL) : 0);
	if (rl->fd < 0)
		rl_die(rl, "socket(AF_PACKET)");
	rl->ifindex = (int)if_nametoindex(ifname);
	if (!rl->ifindex)
		rl_die(rl, ifname);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(rl->fd, SIOCGIFHWADDR, &ifr) < 0)
		rl_die(rl, "SIOCGIFHWADDR");
	memcpy(rl->mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_protocol = rx ? htons(ETH_P_ALL) : 0;
	sll.sll_ifindex = rl->ifindex;
	if (bind(rl->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		rl_die(rl, "bind");
}

/* Send one frame; a full transmit queue is waited out (up to 2 s), not
 * counted as sent. */
static inline void rl_send(const struct rawlink *rl, const uint8_t *f, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = rl->ifindex,
		.sll_halen = 6,
	};

	memcpy(sll.sll_addr, f, 6);
	for (int i = 0; i < 2000; i++) {
		ssize_t n = sendto(rl->fd, f, len, 0, (const struct sockaddr *)&sll, sizeof(sll));

		if (n == (ssize_t)len)
			return;
		if (n >= 0 || (errno != ENOBUFS && errno != EAGAIN && errno != EINTR))
			rl_die(rl, "sendto");
		usleep(1000);
	}
	rl_die(rl, "sendto (no buffer space for 2 s)");
}

static inline uint32_t rl_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t rl_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void rl_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void rl_put32(uint8_t *p, uint32_t v)
{
	rl_put16(p, (uint16_t)(v >> 16));
	rl_put16(p + 2, (uint16_t)v);
}

static inline uint16_t rl_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rl_get32(const uint8_t *p)
{
	return (uint32_t)rl_get16(p) << 16 | rl_get16(p + 2);
}

/* TCP checksum over the pseudo header and @len bytes at @tcp. */
static inline uint16_t rl_tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *tcp, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = IPPROTO_TCP;
	rl_put16(ph + 10, (uint16_t)len);
	return rl_fold(rl_sum(rl_sum(0, ph, sizeof(ph)), tcp, len));
}

/* Build @s into @f (RL_FRAME_MAX bytes). Return: the frame length. The
 * checksum covers the segment as cut (tcp_len), so that a short segment is
 * wrong only in its length. */
static inline size_t rl_build(uint8_t *f, const struct rl_seg *s)
{
	uint8_t *ip = f + ETH_HLEN, *th = ip + RL_IP_HDR;
	unsigned int optroom = (s->optlen + 3) & ~3u;
	unsigned int hdr = RL_TCP_HDR + optroom;
	unsigned int seglen = hdr + s->datalen, doff;
	uint16_t c;

	if (seglen > RL_FRAME_MAX - ETH_HLEN - RL_IP_HDR)
		seglen = RL_FRAME_MAX - ETH_HLEN - RL_IP_HDR;
	if (s->tcp_len >= 0 && (unsigned int)s->tcp_len < seglen)
		seglen = (unsigned int)s->tcp_len;
	doff = s->doff ? (unsigned int)s->doff : hdr / 4;
	memset(f, 0, ETH_HLEN + RL_IP_HDR + RL_TCP_HDR + optroom);
	memcpy(f, s->dst_mac, 6);
	memcpy(f + 6, s->src_mac, 6);
	rl_put16(f + 12, ETH_P_IP);
	ip[0] = 0x45;
	rl_put16(ip + 2, (uint16_t)(RL_IP_HDR + seglen));
	rl_put16(ip + 4, s->ip_id);
	rl_put16(ip + 6, 0x4000); /* DF */
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &s->saddr, 4);
	memcpy(ip + 16, &s->daddr, 4);
	rl_put16(ip + 10, rl_fold(rl_sum(0, ip, RL_IP_HDR)));
	rl_put16(th, s->sport);
	rl_put16(th + 2, s->dport);
	rl_put32(th + 4, s->seq);
	rl_put32(th + 8, s->ack);
	th[12] = (uint8_t)((doff & 0xf) << 4);
	th[13] = s->flags;
	rl_put16(th + 14, s->win);
	if (s->optlen)
		memcpy(th + RL_TCP_HDR, s->opts, s->optlen);
	for (unsigned int i = 0; i < s->datalen && hdr + i < RL_FRAME_MAX - ETH_HLEN - RL_IP_HDR;
	     i++)
		th[hdr + i] = 'x';
	c = rl_tcp_csum(s->saddr, s->daddr, th, seglen);
	if (s->bad_csum)
		c ^= 0x5a5a;
	rl_put16(th + 16, c);
	return ETH_HLEN + RL_IP_HDR + seglen;
}

/* A received TCP/IPv4 segment, fields in host order. */
struct rl_rx {
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	unsigned int doff; /* bytes */
	unsigned int len; /* payload */
	const uint8_t *opts;
	unsigned int optlen;
	uint8_t mac_src[6];
};

/* Parse @f as an Ethernet/IPv4/TCP frame. Return: false if it is not one. */
static inline bool rl_parse_tcp(const uint8_t *f, size_t n, struct rl_rx *r)
{
	const uint8_t *ip = f + ETH_HLEN, *th;
	unsigned int ihl, tot;

	if (n < ETH_HLEN + RL_IP_HDR || rl_get16(f + 12) != ETH_P_IP)
		return false;
	ihl = (ip[0] & 0xf) * 4u;
	tot = rl_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP || ihl < RL_IP_HDR || tot > n - ETH_HLEN ||
	    tot < ihl + RL_TCP_HDR)
		return false;
	th = ip + ihl;
	memcpy(&r->saddr, ip + 12, 4);
	memcpy(&r->daddr, ip + 16, 4);
	memcpy(r->mac_src, f + 6, 6);
	r->sport = rl_get16(th);
	r->dport = rl_get16(th + 2);
	r->seq = rl_get32(th + 4);
	r->ack = rl_get32(th + 8);
	r->doff = (th[12] >> 4) * 4u;
	r->flags = th[13];
	r->win = rl_get16(th + 14);
	if (r->doff < RL_TCP_HDR || r->doff > tot - ihl)
		return false;
	r->len = tot - ihl - r->doff;
	r->opts = th + RL_TCP_HDR;
	r->optlen = r->doff - RL_TCP_HDR;
	return true;
}

static inline double rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pace: sleep until frame @i of a run that started at @t0 is due at
 * @rate frames a second (0: no pacing). */
static inline void rl_pace(double t0, uint64_t i, double rate)
{
	double due, now;

	if (rate <= 0)
		return;
	due = t0 + (double)i / rate;
	now = rl_now();
	if (due > now)
		usleep((useconds_t)((due - now) * 1e6));
}

#endif
