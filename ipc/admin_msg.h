/* SPDX-License-Identifier: MIT */
/*
 * Admin protocol (chrony candm style): a request is an ipc_hdr with a
 * command type; the reply is one or more messages (IPC_F_MORE on all but the
 * last) whose payload is a sequence of records. The daemon sends records,
 * never text: all formatting, human or JSON, happens in the client.
 *
 * A record is struct admin_rec followed by its body; rec.len counts both
 * and is a multiple of 8. Unknown record types are skipped by length, so a
 * newer daemon can add records without breaking an older client.
 */
#ifndef USNET_IPC_ADMIN_MSG_H
#define USNET_IPC_ADMIN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

enum admin_msg_type {
	ADMIN_STATUS = 1, /* daemon, link, addresses, routes, neighbours, counters */
	ADMIN_SOCKETS, /* request: optional ADMIN_REC_SOCK_FILTER; reply: ADMIN_REC_TCP_SOCK */
	ADMIN_STATS, /* reply: ADMIN_REC_DAEMON, then ADMIN_REC_COUNTER per counter */
	ADMIN__MAX
};

enum admin_rec_type {
	ADMIN_REC_DAEMON = 1,
	ADMIN_REC_LINK,
	ADMIN_REC_ADDR,
	ADMIN_REC_ROUTE,
	ADMIN_REC_NEIGH,
	ADMIN_REC_COUNTER,
	ADMIN_REC_SOCK_FILTER,
	ADMIN_REC_TCP_SOCK,
	ADMIN_REC__MAX
};

struct admin_rec {
	uint16_t type;
	uint16_t len;
	uint32_t reserved;
};

struct admin_rec_daemon {
	char version[32];
	uint64_t uptime_ns;
	uint32_t pid;
	uint32_t workers;
	char rx_mode[48]; /* how frames are read, as the daemon chose at start */
};

struct admin_rec_link {
	char name[16];
	char kind[8]; /* "tap" */
	char netns[64]; /* namespace holding the kernel side, "" = ours */
	uint8_t mac[6];
	uint16_t pad;
	uint32_t mtu;
	uint32_t ifindex;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_dropped; /* no buffer, or bad virtio-net header */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_errors;
};

struct admin_rec_addr {
	uint8_t family; /* AF_INET */
	uint8_t plen;
	uint8_t pad[2];
	uint8_t addr[16]; /* network order */
	uint8_t bcast[16];
	uint8_t pad2[4];
};

struct admin_rec_route {
	uint8_t family;
	uint8_t plen;
	uint8_t proto; /* 2 kernel (connected), 4 static */
	uint8_t pad;
	uint32_t metric;
	uint8_t dst[16];
	uint8_t gw[16]; /* all zero: on-link */
	uint8_t src[16];
};

struct admin_rec_neigh {
	uint8_t family;
	uint8_t state; /* NUD_* numbering of proto/neigh.h */
	uint8_t mac[6];
	uint8_t addr[16];
	uint32_t probes;
	uint32_t queued;
	uint64_t confirmed_ago_ms; /* UINT64_MAX: never confirmed */
	uint64_t used_ago_ms;
	char state_name[16];
};

struct admin_rec_counter {
	char group[16]; /* "Ip", "Icmp", "Arp", "Drop", "Link", "Worker" */
	char name[48]; /* nstat name, or the drop reason */
	uint64_t value;
};

/*
 * Request body of ADMIN_SOCKETS: which sockets to list, by state. Without
 * the record the daemon lists them all. Address and port filters are the
 * client's business (ss's expressions, cli/cmd_sockets.c); the state mask
 * is here so that `usnet sockets -l` on a daemon with 10,000 connections
 * moves three records, not 10,000.
 */
struct admin_rec_sock_filter {
	uint32_t states; /* bit (1 << tcp state), Linux's numbering; 0 = all */
	uint32_t reserved;
};

/* admin_rec_tcp_sock.timer: what ss -o calls the pending timer */
enum admin_tcp_timer {
	ADMIN_TIMER_OFF = 0,
	ADMIN_TIMER_ON, /* retransmission: RTO, TLP, RACK reordering, SYN */
	ADMIN_TIMER_KEEPALIVE, /* keepalive or FIN-WAIT-2 timeout */
	ADMIN_TIMER_TIMEWAIT,
	ADMIN_TIMER_PERSIST, /* zero-window probe */
};

/* admin_rec_tcp_sock.flags */
#define ADMIN_TCP_F_INFO 0x1 /* a full socket: the fields after daddr mean something */
#define ADMIN_TCP_F_APP_LIMITED 0x2 /* the last delivery-rate sample was app-limited */

/* admin_rec_tcp_sock.options: Linux's TCPI_OPT_* bits */
#define ADMIN_TCPI_OPT_TIMESTAMPS 1
#define ADMIN_TCPI_OPT_SACK 2
#define ADMIN_TCPI_OPT_WSCALE 4

#define ADMIN_TIME_NEVER UINT32_MAX /* a "last ..." time for an event that never happened */
#define ADMIN_UID_USNETD UINT32_MAX /* admin_rec_tcp_sock.uid of a built-in service's socket */

/*
 * One TCP socket, as ss -tanio shows it: the fields of Linux's struct
 * tcp_info that the engine keeps, with tcp_info's units (microseconds for
 * RTTs and timers, milliseconds for "how long ago"), plus the state of
 * entries that are not full sockets (SYN-RECV request socks and TIME-WAIT
 * buckets: addresses, ports, state and owner only, flags without
 * ADMIN_TCP_F_INFO, every other field 0). A caller other than root gets
 * only its own user's sockets and usnetd's.
 */
struct admin_rec_tcp_sock {
	uint8_t family; /* AF_INET */
	uint8_t state; /* Linux's numbering: 1 ESTABLISHED ... 10 LISTEN, 11 CLOSING */
	uint8_t ca_state; /* TCP_CA_Open 0, Disorder 1, CWR 2, Recovery 3, Loss 4 */
	uint8_t options; /* ADMIN_TCPI_OPT_* */
	uint8_t snd_wscale; /* the peer's shift, applied to its windows */
	uint8_t rcv_wscale; /* ours */
	uint8_t backoff; /* RTO doublings */
	uint8_t retransmits; /* RTOs without progress */
	uint8_t probes; /* zero-window or keepalive probes unanswered */
	uint8_t timer; /* enum admin_tcp_timer */
	uint8_t flags; /* ADMIN_TCP_F_* */
	uint8_t pad;
	uint16_t worker; /* the worker thread that owns the socket */
	uint16_t sport; /* host order */
	uint16_t dport; /* host order; 0 for a listener */
	uint16_t pad2;
	uint8_t saddr[16]; /* network order; all zero: any address */
	uint8_t daddr[16];
	uint32_t recv_q; /* bytes not yet read; listener: accept queue length */
	uint32_t send_q; /* bytes not yet acknowledged; listener: backlog */
	uint32_t timer_us; /* until the timer fires, 0 if due or off */
	uint32_t rto_us;
	uint32_t ato_us;
	uint32_t snd_mss;
	uint32_t rcv_mss;
	uint32_t advmss;
	uint32_t pmtu;
	uint32_t rtt_us; /* smoothed */
	uint32_t rttvar_us;
	uint32_t min_rtt_us; /* 0: none yet */
	uint32_t rcv_rtt_us; /* receiver-side estimate, 0: none yet */
	uint32_t snd_cwnd; /* packets */
	uint32_t snd_ssthresh; /* packets; >= 0x7fffffff: infinite (not printed) */
	uint32_t rcv_ssthresh; /* bytes */
	uint32_t rcv_space; /* bytes */
	uint32_t snd_wnd; /* bytes */
	uint32_t rcv_wnd; /* bytes */
	uint32_t unacked; /* packets in flight or in the retransmit queue */
	uint32_t sacked;
	uint32_t lost;
	uint32_t retrans; /* retransmitted and in flight */
	uint32_t total_retrans;
	uint32_t reordering;
	uint32_t reord_seen;
	uint32_t dsack_dups;
	uint32_t segs_out;
	uint32_t segs_in;
	uint32_t data_segs_out;
	uint32_t data_segs_in;
	uint32_t delivered;
	uint32_t notsent_bytes;
	uint32_t total_rto;
	uint32_t total_rto_recoveries;
	uint32_t last_data_sent_ms; /* ago; ADMIN_TIME_NEVER */
	uint32_t last_data_recv_ms;
	uint32_t last_ack_recv_ms;
	uint32_t uid; /* the owner's user; ADMIN_UID_USNETD: usnetd's own */
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint64_t pacing_rate; /* bytes/s; UINT64_MAX: unlimited */
	uint64_t delivery_rate; /* bytes/s, last sample */
	char ca_name[16]; /* congestion control: "cubic", "reno" */
};

#define ADMIN_REC_BODY_ASSERT(t, sz) \
	_Static_assert(sizeof(struct t) == (sz) && sizeof(struct t) % 8 == 0, #t " layout")
ADMIN_REC_BODY_ASSERT(admin_rec, 8);
ADMIN_REC_BODY_ASSERT(admin_rec_daemon, 96);
ADMIN_REC_BODY_ASSERT(admin_rec_link, 152);
ADMIN_REC_BODY_ASSERT(admin_rec_addr, 40);
ADMIN_REC_BODY_ASSERT(admin_rec_route, 56);
ADMIN_REC_BODY_ASSERT(admin_rec_neigh, 64);
ADMIN_REC_BODY_ASSERT(admin_rec_counter, 72);
ADMIN_REC_BODY_ASSERT(admin_rec_sock_filter, 8);
ADMIN_REC_BODY_ASSERT(admin_rec_tcp_sock, 256);
_Static_assert(offsetof(struct admin_rec_tcp_sock, saddr) == 20 &&
		       offsetof(struct admin_rec_tcp_sock, recv_q) == 52 &&
		       offsetof(struct admin_rec_tcp_sock, bytes_acked) == 208,
	       "admin_rec_tcp_sock layout");

/**
 * admin_rec_body_size() - the body size a record type must have at least
 * Return: the size, or 0 for an unknown type (to be skipped).
 */
size_t admin_rec_body_size(unsigned int type);

/** Writer over a caller's buffer. */
struct admin_buf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/**
 * admin_msg_init() - start a message of @type in @b with header fields set
 * Return: 0, -ENOSPC if @b cannot hold a header.
 */
int admin_msg_init(struct admin_buf *b, uint16_t type, uint32_t seq, uint16_t flags,
		   int32_t status);

/**
 * admin_msg_add() - append a record of @type with @len body bytes
 * Return: 0, -ENOSPC if it does not fit (the buffer is unchanged).
 */
int admin_msg_add(struct admin_buf *b, uint16_t type, const void *body, size_t len);

/** admin_msg_finish() - write the final length into the header */
void admin_msg_finish(struct admin_buf *b);

/**
 * admin_msg_check() - validate a received message of @len bytes
 * Return: 0, -EBADMSG if shorter than a header or the length field lies,
 * -EPROTO on a bad magic, -EPROTONOSUPPORT on another version.
 */
int admin_msg_check(const void *msg, size_t len);

/**
 * admin_msg_next() - iterate over records of a checked message
 * @off: in/out cursor, start at 0
 * Return: 1 with *@rec and *@body set, 0 at the end, -EBADMSG if a record
 * overruns the message, is misaligned, or is shorter than its type needs.
 */
int admin_msg_next(const void *msg, size_t len, size_t *off, const struct admin_rec **rec,
		   const void **body);

#endif
