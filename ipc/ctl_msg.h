/* SPDX-License-Identifier: MIT */
/*
 * Control messages between libusnet and usnetd: the slow operations
 * (socket, bind, listen, connect, accept, options...). Each is one
 * SEQPACKET record, struct ipc_hdr then a fixed-size body, answered by one
 * record with the same seq; file descriptors (segment memfd, eventfds,
 * placeholders) travel with SCM_RIGHTS. Data never travels here: it moves
 * through the fifos of the shared segment (seg.h).
 *
 * Sockets are named by (id, gen) as usnetd wrote them into the slot; a
 * request may name only a socket homed in a segment the channel was given
 * at hello (its own, or those it inherited across fork).
 */
#ifndef USNET_IPC_CTL_MSG_H
#define USNET_IPC_CTL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/abi.h"

enum ctl_msg_type {
	CTL_HELLO = 100, /* req: ctl_hello (+ inherited segment memfds); rep: ctl_hello_rep + memfd, wake eventfd */
	CTL_DOORBELL, /* req: ctl_doorbell + its eventfd */
	CTL_SOCKET, /* req: ctl_sock_req (arg = how many, 0 as 1); rep: ctl_sock_rep
		     * (optval: ctl_sock_more for each beyond the first) + placeholders */
	CTL_BIND, /* req: ctl_sock_req (addr, tid) */
	CTL_LISTEN, /* req: ctl_sock_req (arg = backlog) */
	CTL_CONNECT, /* req: ctl_sock_req (addr); rep status 0 = in progress */
	CTL_ACCEPT, /* req: ctl_sock_req; rep: ctl_sock_rep (addr = peer) + placeholder */
	CTL_SHUTDOWN, /* req: ctl_sock_req (arg = SHUT_*) */
	CTL_SETSOCKOPT, /* req: ctl_sock_req (level, name, optval) */
	CTL_GETSOCKOPT, /* req: ctl_sock_req (level, name); rep: ctl_sock_rep (optval) */
	CTL_GETNAME, /* req: ctl_sock_req (arg 0 local, 1 peer); rep: ctl_sock_rep (addr) */
	CTL_CLAIM, /* req: ctl_sock_req + a placeholder fd; rep: ctl_sock_rep (optval:
		    * ctl_claim_info) + the memfd of the segment the socket lives in */
	CTL__MAX
};

#define CTL_OPTVAL_MAX 256u

/* An IPv4 endpoint in network byte order; the shim converts to and from
 * sockaddr_in and v4-mapped sockaddr_in6. */
struct ctl_addr {
	uint32_t addr;
	uint16_t port;
	uint16_t pad;
};

struct ctl_hello {
	uint32_t pid; /* informational; usnetd trusts SO_PEERCRED */
	uint32_t flags;
	char comm[16];
};

struct ctl_hello_rep {
	uint32_t session;
	uint32_t nslots;
	uint64_t seg_size;
	uint64_t rx_size;
	uint64_t tx_size;
	uint64_t slot_size;
	uint32_t inherited; /* how many of the passed memfds were recognised */
	uint32_t pad;
};

struct ctl_doorbell {
	uint32_t index; /* < IPC_DOORBELLS */
	uint32_t pad;
};

/*
 * Options a program set on a new socket before any request named it ride
 * on the first request that does, and usnetd applies them before that
 * request: a setsockopt() whose success the shim knows in advance (usnetd
 * took the same option and value on an earlier new socket of the process)
 * costs no round trip of its own.
 */
#define CTL_PREOPT_MAX 4u
#define CTL_PREOPT_VAL 16u
struct ctl_preopt {
	int32_t level, name;
	uint32_t len;
	uint8_t val[CTL_PREOPT_VAL];
};

struct ctl_sock_req {
	uint32_t id, gen; /* the socket (not for CTL_SOCKET) */
	int32_t domain, type, protocol; /* CTL_SOCKET */
	int32_t arg; /* backlog, SHUT_*, GETNAME side, accept flags, CTL_BIND_* */
	int32_t tid; /* the calling thread: CTL_BIND judges its capabilities */
	int32_t level, name; /* options */
	uint32_t optlen;
	struct ctl_addr addr;
	uint8_t optval[CTL_OPTVAL_MAX];
	uint32_t npre, pad;
	struct ctl_preopt pre[CTL_PREOPT_MAX]; /* applied first */
};

/*
 * CTL_CLAIM: a process that inherited a placeholder across exec (its
 * segment mappings did not survive) names the socket by what the
 * placeholder's peer address says (IPC_PH_NAME) and proves it holds it by
 * passing the fd. usnetd grants its session the socket's segment.
 */
#define IPC_PH_NAME "usnet-ph:%d:%x:%x" /* abstract: usnetd pid, socket id, gen */
struct ctl_claim_info {
	uint64_t seg_size, slot_size, rx_size, tx_size;
	uint32_t nslots;
	int32_t domain;
};

/*
 * CTL_SOCKET may make several sockets at once (a process that makes
 * sockets fast keeps a few in stock: one round trip instead of one per
 * socket()). The first is named by ctl_sock_rep, the others by these in
 * its optval, in the order of their placeholders; all live in one segment.
 */
struct ctl_sock_more {
	uint32_t id, gen, slot;
};
#define CTL_SOCKET_MAX 16u /* IPC_FDS_MAX: one placeholder each */

/* CTL_BIND arg: the socket is AF_INET6 with IPV6_V6ONLY set. */
#define CTL_BIND_V6ONLY 1

struct ctl_sock_rep {
	uint32_t id, gen;
	uint32_t session; /* segment the slot is in (its session id) */
	uint32_t slot;
	struct ctl_addr addr;
	uint32_t optlen;
	uint32_t pad;
	uint8_t optval[CTL_OPTVAL_MAX];
};

_Static_assert(sizeof(struct ctl_hello) == 24, "ctl_hello layout");
_Static_assert(sizeof(struct ctl_hello_rep) == 48, "ctl_hello_rep layout");
_Static_assert(sizeof(struct ctl_sock_req) ==
		       48 + CTL_OPTVAL_MAX + 8 + CTL_PREOPT_MAX * sizeof(struct ctl_preopt),
	       "ctl_sock_req layout");
_Static_assert(sizeof(struct ctl_sock_rep) == 32 + CTL_OPTVAL_MAX, "ctl_sock_rep layout");
_Static_assert((CTL_SOCKET_MAX - 1) * sizeof(struct ctl_sock_more) <= CTL_OPTVAL_MAX,
	       "the extra sockets of CTL_SOCKET fit optval");

/**
 * ctl_msg_req_size() - the body size a request of @type carries
 * Return: bytes, or 0 for an unknown type.
 */
size_t ctl_msg_req_size(unsigned int type);

/**
 * ctl_msg_check() - validate a request of @len bytes: header magic and
 * version, a known type, and the length its type needs.
 * Return: 0, -EPROTONOSUPPORT (magic/version), -EINVAL.
 */
int ctl_msg_check(const void *msg, size_t len);

#endif
