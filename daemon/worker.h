/* SPDX-License-Identifier: MIT */
/*
 * A worker: one thread owning one link queue, one io_uring, one packet pool
 * and one struct stack. The control thread talks to it only through two
 * SPSC rings of commands (cmdq in, doneq out) and two eventfds.
 */
#ifndef USNET_DAEMON_WORKER_H
#define USNET_DAEMON_WORKER_H

#include <linux/virtio_net.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "config.h"
#include "ipc/ring.h"
#include "link.h"
#include "placeholder.h"
#include "proto/stack.h"
#include "service.h"
#include "session.h"
#include "uring.h"

/* Per-worker counters, /proc/net/softnet_stat style plus the link's own. */
#define WORKER_STATS(X) \
	X(rounds)       \
	X(time_squeeze) \
	X(busy_polls)   \
	X(sleeps)       \
	X(wakeups)      \
	X(rx_nobufs)    \
	X(rx_rearms)    \
	X(commands)     \
	X(ctl_requests)

struct worker_stats {
#define WS_FIELD(n) uint64_t n;
	WORKER_STATS(WS_FIELD)
#undef WS_FIELD
};

struct link_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_dropped;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_errors;
};

/** What a worker reports to `usnet status`, copied on its own thread. */
struct worker_snapshot {
	uint64_t now_ns;
	struct mib mib;
	struct ifaddr addrs[STACK_MAX_ADDRS];
	unsigned int naddrs;
	struct fib_entry *routes;
	unsigned int nroutes, routes_cap;
	struct neigh_info *neigh;
	unsigned int nneigh, neigh_cap;
	struct worker_stats stats;
	struct link_stats link;
	uint32_t pool_free, pool_size; /* packet buffers: free now, in all */
	uint32_t tcp_socks, tcp_tws; /* sockets and TIME-WAIT entries in use */
};

enum worker_cmd_type {
	WCMD_SNAPSHOT = 1,
	WCMD_SOCKETS, /* `usnet sockets`: dump the TCP sockets (sockdiag.h) */
};

struct worker_cmd {
	enum worker_cmd_type type;
	int status; /* set by the worker: 0 or -errno */
	void *arg; /* WCMD_SNAPSHOT: struct worker_snapshot; WCMD_SOCKETS: struct sockdiag_dump */
	void *owner; /* control-thread bookkeeping */
};

struct tx_slot {
	struct pkt *pkt;
	struct virtio_net_hdr vh;
	struct iovec iov[2];
};

struct worker {
	unsigned int id;
	pthread_t thread;
	const struct usnetd_config *cfg;
	struct link *link;

	struct pkt_pool pool;
	struct stack st;
	struct io_uring ring;
	struct uring_caps caps;
	struct uring_bufring br;
	uint32_t rx_posted; /* buffers in the kernel's hands */
	uint32_t rx_target;
	uint32_t rx_armed; /* reads in flight (1 in multishot mode) */
	uint32_t rx_depth; /* reads wanted in flight */
	char rx_mode[48];

	struct tx_slot *tx;
	uint32_t *tx_free;
	uint32_t ntx, ntx_free;

	int wake_fd; /* control -> worker */
	uint64_t wake_buf;
	bool wake_armed;
	int done_fd; /* worker -> control */
	struct spsc_ring cmdq;
	struct spsc_ring doneq;
	unsigned int cmds_inflight; /* control thread only: submitted, not yet popped */
	_Atomic bool stop;

	struct service_set *services;
	struct session_table sessions; /* libusnet clients */
	struct shim_sock *shim_wake; /* sockets whose doorbells ring after this round */
	uint64_t shim_reclaim_at; /* ns: next look for idle rings (UINT64_MAX: none) */
	struct ph_pool ph; /* placeholders made ahead, dead ones to close */

	struct worker_stats stats;
	struct link_stats lstats;
	bool link_down; /* last write failed with EIO */

	sem_t started;
	int start_rc;
};

/**
 * worker_start() - start worker @id on @link; returns once the worker has
 * set up its ring, pool and stack (or failed, with the reason logged).
 * Return: 0, -errno.
 */
int worker_start(struct worker *w, unsigned int id, const struct usnetd_config *cfg,
		 struct link *link);

/** worker_stop() - ask the worker to finish, join it, free its resources */
void worker_stop(struct worker *w);

/**
 * worker_submit() - hand @c to the worker (control thread only). At most
 * one command less than the rings hold is in flight, so the worker's push
 * of a finished command onto doneq can never fail.
 * Return: 0, -EBUSY if that many are in flight already.
 */
int worker_submit(struct worker *w, struct worker_cmd *c);

/** worker_done_pop() - a finished command, or NULL (control thread only) */
struct worker_cmd *worker_done_pop(struct worker *w);

/** worker_snapshot_alloc() - sized for @w's tables. Return: NULL on ENOMEM. */
struct worker_snapshot *worker_snapshot_alloc(const struct worker *w);
void worker_snapshot_free(struct worker_snapshot *s);

/** worker_get_sqe() - an SQE of @w's ring (submitting if full), or NULL */
struct io_uring_sqe *worker_get_sqe(struct worker *w);

/** worker_now_ns() - CLOCK_MONOTONIC in ns, the clock every stack runs on */
uint64_t worker_now_ns(void);

#endif
