/* SPDX-License-Identifier: MIT */
/*
 * The proto test harness (STYLE.md, "The proto harness"): one real struct
 * stack on a fixed link, driven frame by frame with a manual clock.
 *
 *   usnet  10.77.0.2/24  02:00:00:00:00:02
 *   peer   10.77.0.1     02:00:00:00:00:01
 *   other on-link hosts 10.77.0.n with MAC 02:00:00:00:00:n (H_NET, H_MAC)
 *
 * Frames are described, not written as hex: ARP(...), IP(...) and ICMP(...)
 * expand to compound literals with defaults for a frame the peer sends to
 * usnet, followed by the caller's designated initialisers, which override
 * them (hence -Wno-override-init). ARP_OUT(...), IP_OUT(...) and
 * ICMP_OUT(...) carry the defaults of a frame usnet sends to the peer, for
 * h_expect_*(). Checksums are computed and verified by the harness's own
 * routine (h_csum), never by proto's, so one bug cannot cancel itself.
 *
 * Every h_expect_*() pops the next transmitted frame, compares fields one at
 * a time and names the one that differs ("test_icmp.c:40: ttl: got 0, want
 * 64"). h_fini() fails the test if a transmitted frame was left unchecked or
 * a packet leaked out of the pool.
 */
#ifndef USNET_TESTS_PROTO_HARNESS_H
#define USNET_TESTS_PROTO_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ipv4.h"
#include "proto/stack.h"
#include "proto/wire.h"

/* The representations below put defaults first and let the caller's
 * designated initialisers override them; the build already passes
 * -Wno-override-init, and GCC's separate warning for overriding an
 * initialiser that is a compound literal or a call (H_MAC(), h_ip4()) is
 * the same idiom. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Woverride-init-side-effects"
#endif

#define NS 1ull
#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

/* Where the harness clock starts: one second after boot, as a daemon started
 * early by systemd sees CLOCK_MONOTONIC. Nothing in proto may assume that
 * "now" is large. */
#define H_T0 (1 * SEC)

/* A field value meaning "compute it" (input) or "do not compare" (expect). */
#define H_AUTO (-1)
#define H_ANY (-1)

#define H_FRAME_MAX 2048u
#define H_POOL_META 384u
#define H_POOL_DATA 256u
/* As daemon/worker.c sizes its buffers for a 1500-byte MTU. */
#define H_POOL_DATA_SIZE (PKT_HEADROOM + 14u + 4u + 1500u + 64u)

struct h_mac {
	uint8_t a[6];
};

#define H_MAC(n) ((struct h_mac){ { 0x02, 0, 0, 0, 0, (n) } })
#define H_US_MAC H_MAC(2)
#define H_PEER_MAC H_MAC(1)
#define H_BCAST_MAC ((struct h_mac){ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } })
#define H_ZERO_MAC ((struct h_mac){ { 0 } })

/** h_ip4() - a.b.c.d in network order, as proto keeps addresses */
static inline uint32_t h_ip4(unsigned int a, unsigned int b, unsigned int c, unsigned int d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

#define H_NET(n) h_ip4(10, 77, 0, (n))
#define H_US_IP H_NET(2)
#define H_PEER_IP H_NET(1)
#define H_SUBNET_BCAST H_NET(255)

/*
 * An Ethernet + ARP frame. Fields are ints so that an expectation can say
 * H_ANY; the builder writes their low bits.
 */
struct h_arp {
	struct h_mac eth_dst, eth_src;
	int eth_type;
	int htype, ptype, hlen, plen, op;
	struct h_mac sha, tha;
	uint32_t spa, tpa; /* network order */
	int frame_len; /* H_AUTO: 42; else cut (or expect) this length */
	unsigned int pad_to; /* input: pad the frame with 0xa5 up to this */
};

/* A request from the peer for usnet's address, broadcast. */
#define ARP(...)                                 \
	((struct h_arp){ .eth_dst = H_BCAST_MAC, \
			 .eth_src = H_PEER_MAC,  \
			 .eth_type = ETH_P_ARP,  \
			 .htype = ARPHRD_ETHER,  \
			 .ptype = ETH_P_IP,      \
			 .hlen = 6,              \
			 .plen = 4,              \
			 .op = ARPOP_REQUEST,    \
			 .sha = H_PEER_MAC,      \
			 .spa = H_PEER_IP,       \
			 .tha = H_ZERO_MAC,      \
			 .tpa = H_US_IP,         \
			 .frame_len = H_AUTO,    \
			 __VA_ARGS__ })

/* usnet's reply to the peer. */
#define ARP_OUT(...)                            \
	((struct h_arp){ .eth_dst = H_PEER_MAC, \
			 .eth_src = H_US_MAC,   \
			 .eth_type = ETH_P_ARP, \
			 .htype = ARPHRD_ETHER, \
			 .ptype = ETH_P_IP,     \
			 .hlen = 6,             \
			 .plen = 4,             \
			 .op = ARPOP_REPLY,     \
			 .sha = H_US_MAC,       \
			 .spa = H_US_IP,        \
			 .tha = H_PEER_MAC,     \
			 .tpa = H_PEER_IP,      \
			 .frame_len = H_AUTO,   \
			 __VA_ARGS__ })

/*
 * An Ethernet + IPv4 frame, optionally with an ICMP header (.icmp). The
 * payload (.data, .len) follows the ICMP header, or the IP header when
 * .icmp is false. If .data is a string and .len is 0, strlen() is used.
 */
struct h_ip {
	struct h_mac eth_dst, eth_src;
	int eth_type;
	/* IPv4 */
	int version; /* 4 */
	int ihl; /* H_AUTO: 5 plus the options, in 32-bit words */
	int tos;
	int tot_len; /* H_AUTO: header + ICMP header + payload */
	int ip_id;
	int frag_off; /* host order, flags included */
	int ttl;
	int protocol;
	bool bad_ip_csum; /* input: store a wrong header checksum */
	uint32_t saddr, daddr; /* network order */
	const void *opts; /* IP options, padded by the caller to 4 bytes */
	unsigned int opts_len;
	/* ICMP */
	bool icmp;
	int type, code;
	int id, seq; /* echo identifier and sequence; errors: the "rest" word */
	bool bad_icmp_csum; /* input: store a wrong ICMP checksum */
	/* payload */
	const void *data;
	unsigned int len;
	bool any_payload; /* expect: do not compare the payload or lengths */
	/* framing */
	int frame_len; /* input: cut the frame to this length; expect: its length */
	unsigned int pad_to; /* input: Ethernet padding (0xa5 bytes) up to this length */
};

#define IP(...)                                \
	((struct h_ip){ .eth_dst = H_US_MAC,   \
			.eth_src = H_PEER_MAC, \
			.eth_type = ETH_P_IP,  \
			.version = 4,          \
			.ihl = H_AUTO,         \
			.tot_len = H_AUTO,     \
			.ip_id = 0x1234,       \
			.ttl = 64,             \
			.protocol = 253,       \
			.saddr = H_PEER_IP,    \
			.daddr = H_US_IP,      \
			.frame_len = H_AUTO,   \
			__VA_ARGS__ })

/* An echo request from the peer (id 0x4242, seq 1, no payload). */
#define ICMP(...)                                                                               \
	IP(.protocol = IPPROTO_ICMP_, .icmp = true, .type = ICMP_ECHO, .code = 0, .id = 0x4242, \
	   .seq = 1, __VA_ARGS__)

/* A datagram from usnet to the peer: IHL 5, TTL 64, no fragment bits, any ID. */
#define IP_OUT(...)                            \
	((struct h_ip){ .eth_dst = H_PEER_MAC, \
			.eth_src = H_US_MAC,   \
			.eth_type = ETH_P_IP,  \
			.version = 4,          \
			.ihl = 5,              \
			.tos = 0,              \
			.tot_len = H_AUTO,     \
			.ip_id = H_ANY,        \
			.frag_off = 0,         \
			.ttl = 64,             \
			.protocol = 253,       \
			.saddr = H_US_IP,      \
			.daddr = H_PEER_IP,    \
			.frame_len = H_AUTO,   \
			__VA_ARGS__ })

/* An echo reply from usnet to the peer. */
#define ICMP_OUT(...)                                                                      \
	IP_OUT(.protocol = IPPROTO_ICMP_, .icmp = true, .type = ICMP_ECHOREPLY, .code = 0, \
	       .id = 0x4242, .seq = 1, __VA_ARGS__)

/* A transmitted frame, copied out of the pool so the test can look at it. */
struct h_frame {
	uint8_t b[H_FRAME_MAX];
	unsigned int len;
};

struct harness {
	struct stack st;
	struct pkt_pool pool;
	uint64_t now; /* ns */
	uint64_t drop_snap[DROP__MAX]; /* drop counters at the last drop check */
	uint8_t sent[H_FRAME_MAX]; /* the last frame h_send*() handed to the stack */
	unsigned int sent_len;
	unsigned int rx_frames; /* frames given to stack_input */
	unsigned int tx_frames; /* frames popped from the transmit queue */
	/* State of harness extensions (harness_tcp.c), released by h_fini()
	 * through ext_fini. */
	struct h_tcp *tcp;
	void (*ext_fini)(struct harness *h);
	bool finished; /* h_fini() has run */
};

/* --- setup ----------------------------------------------------------------- */

/**
 * h_init() - stack with stack_cfg_defaults(), our MAC, 10.77.0.2/24 added at
 * H_T0 and its gratuitous ARP checked and consumed: the transmit queue is
 * empty and every drop counter is zero when the test starts.
 */
void h_init(struct harness *h);

/** h_init_cfg() - h_init() with @cfg (its MAC is replaced by ours) */
void h_init_cfg(struct harness *h, const struct stack_cfg *cfg);

/**
 * h_fini() - fail if a transmitted frame was not checked, free everything and
 * fail if a packet leaked (the pool is not full again). A second call does
 * nothing.
 */
void h_fini(struct harness *h);

/*
 * HTest(suite, name) - a Criterion Test whose body ends with h_fini(&h) (h
 * being the test file's struct harness). Criterion 2.4 reports a failed
 * assertion in a suite's .fini but still counts the test as passed, so the
 * checks of h_fini() only fail a test from inside its body; the suite's
 * .fini still calls h_fini() for a body that stopped at a failed assertion
 * (and then does nothing more).
 */
#define HTest(suite, name, ...)                  \
	static void suite##_##name##_body(void); \
	Test(suite, name, ##__VA_ARGS__)         \
	{                                        \
		suite##_##name##_body();         \
		h_fini(&h);                      \
	}                                        \
	static void suite##_##name##_body(void)

/* --- building and sending frames ------------------------------------------ */

/** h_csum() - RFC 1071 checksum, written independently of proto/csum.c; host order */
uint16_t h_csum(const void *buf, size_t len);

/** h_build_arp() - serialise @a into @buf. Return: the frame length. */
unsigned int h_build_arp(uint8_t *buf, size_t cap, const struct h_arp *a);

/**
 * h_build_ip() - serialise @ip into @buf (Ethernet header first)
 * Return: the frame length.
 */
unsigned int h_build_ip(uint8_t *buf, size_t cap, const struct h_ip *ip);

/** h_send_raw() - give @len bytes to stack_input() as one received frame */
void h_send_raw(struct harness *h, const void *frame, unsigned int len);

void h_send_arp(struct harness *h, struct h_arp a);
void h_send_ip(struct harness *h, struct h_ip ip);
/** h_send_icmp() - h_send_ip() for an ICMP(...) representation */
void h_send_icmp(struct harness *h, struct h_ip ip);

/**
 * h_ip_output() - call ipv4_output() with a fresh packet holding @len bytes of
 * @data as payload, to @daddr with @protocol
 * Return: what ipv4_output() returned.
 */
int h_ip_output(struct harness *h, uint32_t daddr, uint8_t protocol, const void *data,
		unsigned int len);

/* --- time -------------------------------------------------------------------- */

/**
 * h_advance() - move the clock by @ns, running stack_timers() at every
 * deadline crossed, in order (stack_next_timer() drives it)
 */
void h_advance(struct harness *h, uint64_t ns);

/* --- expectations ------------------------------------------------------------ */

/** h_pop() - pop the next transmitted frame into @f; false if there is none */
bool h_pop(struct harness *h, struct h_frame *f);

/** h_drain() - free every transmitted frame. Return: how many there were. */
unsigned int h_drain(struct harness *h);

void h_expect_arp_at(struct harness *h, const struct h_arp *want, struct h_frame *out,
		     const char *file, int line);
void h_expect_ip_at(struct harness *h, const struct h_ip *want, struct h_frame *out,
		    const char *file, int line);
void h_expect_nothing_at(struct harness *h, const char *file, int line);
void h_expect_drops_at(struct harness *h, enum drop_reason r, uint64_t n, const char *file,
		       int line);

/* Macros only to report the caller's file and line in a failure. */
#define h_expect_arp(h, ...)                                              \
	do {                                                              \
		struct h_arp h_want_ = __VA_ARGS__;                       \
		h_expect_arp_at((h), &h_want_, NULL, __FILE__, __LINE__); \
	} while (0)
#define h_expect_ip(h, ...)                                              \
	do {                                                             \
		struct h_ip h_want_ = __VA_ARGS__;                       \
		h_expect_ip_at((h), &h_want_, NULL, __FILE__, __LINE__); \
	} while (0)
#define h_expect_icmp h_expect_ip
/* The same, keeping a copy of the frame in *@f for further checks. */
#define h_expect_ip_frame(h, f, ...)                                    \
	do {                                                            \
		struct h_ip h_want_ = __VA_ARGS__;                      \
		h_expect_ip_at((h), &h_want_, (f), __FILE__, __LINE__); \
	} while (0)
#define h_expect_nothing(h) h_expect_nothing_at((h), __FILE__, __LINE__)

/**
 * h_expect_drop() - since the previous drop check, exactly one packet was
 * dropped, under @r, and no other drop counter moved
 */
#define h_expect_drop(h, r) h_expect_drops_at((h), (r), 1, __FILE__, __LINE__)
#define h_expect_drops(h, r, n) h_expect_drops_at((h), (r), (n), __FILE__, __LINE__)
#define h_expect_no_drop(h) h_expect_drops_at((h), DROP__MAX, 0, __FILE__, __LINE__)

/* --- neighbours ----------------------------------------------------------- */

/**
 * h_arp_learn() - @ip (@mac) asks for usnet's address; check the reply. The
 * neighbour entry is then STALE (or keeps a stronger state).
 */
void h_arp_learn_at(struct harness *h, uint32_t ip, struct h_mac mac, const char *file, int line);
#define h_arp_learn(h, ip, mac) h_arp_learn_at((h), (ip), (mac), __FILE__, __LINE__)

/** h_expect_arp_request() - next frame is usnet's request for @target, sent to @dst */
#define h_expect_arp_request(h, target, dst)                                                \
	h_expect_arp((h), ARP_OUT(.op = ARPOP_REQUEST, .eth_dst = (dst), .tha = H_ZERO_MAC, \
				  .tpa = (target)))

/**
 * h_arp_resolve() - expect a broadcast request for @ip and answer it with a
 * unicast reply from @mac: the entry becomes REACHABLE
 */
void h_arp_resolve_at(struct harness *h, uint32_t ip, struct h_mac mac, const char *file, int line);
#define h_arp_resolve(h, ip, mac) h_arp_resolve_at((h), (ip), (mac), __FILE__, __LINE__)

/** h_neigh() - snapshot of the entry for @ip; false if there is none */
bool h_neigh(struct harness *h, uint32_t ip, struct neigh_info *out);

/** h_neigh_state() - enum neigh_state of @ip's entry, or -1 if there is none */
int h_neigh_state(struct harness *h, uint32_t ip);

/* --- counters ------------------------------------------------------------- */

static inline uint64_t h_ip_mib(const struct harness *h, enum ip_mib i)
{
	return h->st.mib.ip[i];
}

static inline uint64_t h_icmp_mib(const struct harness *h, enum icmp_mib i)
{
	return h->st.mib.icmp[i];
}

static inline uint64_t h_arp_mib(const struct harness *h, enum arp_mib i)
{
	return h->st.mib.arp[i];
}

static inline uint64_t h_drops(const struct harness *h, enum drop_reason r)
{
	return h->st.mib.drop[r];
}

/* --- allocation failure ------------------------------------------------------ */

/**
 * h_fail_each_alloc() - run @scenario on a fresh harness once to count the
 * pool allocations it makes (n), then n more times with allocation i (and
 * every later one) failing. Every run must end with the pool full and with
 * each failed allocation counted as a DROP_NOMEM. Return: n.
 * @scenario must not expect frames (it runs under failures): it sends,
 * advances time and drains.
 */
unsigned int h_fail_each_alloc_at(void (*scenario)(struct harness *), const char *file, int line);
#define H_FAIL_EACH_ALLOC(scenario) h_fail_each_alloc_at((scenario), __FILE__, __LINE__)

/* The protocol-unreachable usnet owes for the last frame sent from the
 * peer (struct harness h in the test file): ICMP quotes the IP datagram,
 * i.e. the frame minus its 14-byte Ethernet header. */
#define PROT_UNREACH_FOR_LAST_SENT(...)                                                   \
	ICMP_OUT(.type = ICMP_DEST_UNREACH, .code = ICMP_PROT_UNREACH, .id = 0, .seq = 0, \
		 .tos = 0xc0, .data = h.sent + 14, .len = h.sent_len - 14, __VA_ARGS__)

#endif
