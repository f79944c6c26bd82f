// SPDX-License-Identifier: MIT
/*
 * Worker threads: the NAPI loop that moves frames between a link queue and
 * a struct stack through io_uring.
 *
 * Theory of operation. One round:
 *   1. reap completions: received frames go to stack_input() (at most
 *      `budget` per round; more pending is a time_squeeze) as one batch
 *      (stack_rx_begin/end: TCP ACKs a flow's batch once, like GRO),
 *      transmit completions free their packets, a doorbell re-arms its
 *      read;
 *   2. run due timers (stack_timers);
 *   3. execute control commands (snapshots for `usnet status`);
 *   4. move frames from the stack's transmit queue into write SQEs, give
 *      free buffers back to the provided-buffer ring, re-arm receive;
 *   5. submit once.
 * A round that found nothing spins for busy_poll_us (if set and the
 * previous round was busy), then sleeps in io_uring_wait_cqe_timeout()
 * until a frame, a doorbell or the next stack deadline: no periodic tick.
 *
 * Receive buffers are the pool's own data buffers, lent to the kernel by id
 * through the buffer ring, so a frame is read straight into the buffer the
 * stack processes (no copy); the Ethernet header lands at PKT_HEADROOM so
 * replies can be built in place.
 */
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sockdiag.h"
#include "vnet.h"
#include "shimsock.h"
#include "worker.h"

#define WORKER_RING_ENTRIES 512
#define WORKER_TX_SLOTS 256
#define WORKER_CMDQ 64
#define WORKER_RX_DEPTH_SINGLESHOT 32
#define WORKER_POOL_BYTES (64u << 20)
#define WORKER_POOL_MAX 32768
#define WORKER_EVENT_BUDGET 256

uint64_t worker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rx_offset(const struct worker *w)
{
	return PKT_HEADROOM - w->link->vnet_hdr_len;
}

static void worker_trace(void *arg, unsigned int cat, const char *fmt, ...)
{
	struct worker *w = arg;
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("worker %u: %s", w->id, buf);
}

struct io_uring_sqe *worker_get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static void worker_arm_wake(struct worker *w)
{
	struct io_uring_sqe *sqe;

	if (w->wake_armed)
		return;
	sqe = worker_get_sqe(w);
	if (!sqe)
		return;
	io_uring_prep_read(sqe, w->wake_fd, &w->wake_buf, sizeof(w->wake_buf), 0);
	io_uring_sqe_set_data64(sqe, uring_ud(UD_WAKE, 0));
	w->wake_armed = true;
}

/* Keep the buffer ring full, but never lend the kernel so many buffers that
 * the stack cannot allocate replies: a quarter of the pool stays home. */
static void worker_refill_rx(struct worker *w)
{
	uint32_t off = rx_offset(w);
	uint32_t reserve = w->pool.ndata / 4;

	while (w->rx_posted < w->rx_target && w->pool.nfree_data > reserve) {
		int id = pkt_pool_data_take(&w->pool);

		if (id < 0)
			break;
		uring_bufring_add(&w->br, pkt_pool_data_ptr(&w->pool, (uint32_t)id) + off,
				  w->pool.data_size - off, (uint16_t)id);
		w->rx_posted++;
	}
	uring_bufring_publish(&w->br);
}

static void worker_arm_rx(struct worker *w)
{
	/* Without buffers a read would fail at once with -ENOBUFS. */
	while (w->rx_armed < w->rx_depth && w->rx_posted > w->rx_armed) {
		struct io_uring_sqe *sqe = worker_get_sqe(w);

		if (!sqe)
			return;
		if (w->caps.read_multishot)
			uring_prep_read_multishot(sqe, w->link->fd, w->br.bgid);
		else
			uring_prep_read_select(sqe, w->link->fd, w->br.bgid);
		io_uring_sqe_set_data64(sqe, uring_ud(UD_RX, 0));
		w->rx_armed++;
		w->stats.rx_rearms++;
	}
}

static void worker_rx(struct worker *w, const struct io_uring_cqe *cqe, uint64_t now)
{
	const struct virtio_net_hdr *vh;
	uint32_t vlen = w->link->vnet_hdr_len;
	struct pkt *pkt;
	uint16_t bid;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		w->rx_armed--;
	if (cqe->res < 0) {
		if (cqe->res == -ENOBUFS)
			w->stats.rx_nobufs++;
		else if (cqe->res != -ECANCELED && cqe->res != -EINTR)
			log_ratelimited(LOG_LVL_WARN, "worker %u: link %s: read: %s", w->id,
					w->link->name, strerror(-cqe->res));
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	w->rx_posted--;
	pkt = pkt_pool_attach(&w->pool, bid, rx_offset(w), (uint32_t)cqe->res);
	if (!pkt) {
		w->lstats.rx_dropped++;
		pkt_drop(&w->st, NULL, DROP_NOMEM);
		return;
	}
	if ((uint32_t)cqe->res < vlen) {
		w->lstats.rx_dropped++;
		pkt_drop(&w->st, pkt, DROP_VNET_HDR_INVALID);
		return;
	}
	vh = (const struct virtio_net_hdr *)pkt->data;
	pkt_pull(pkt, vlen);
	if (!vnet_hdr_to_pkt(vh, pkt)) {
		w->lstats.rx_dropped++;
		pkt_drop(&w->st, pkt, DROP_VNET_HDR_INVALID);
		return;
	}
	w->lstats.rx_packets++;
	w->lstats.rx_bytes += pkt_len(pkt);
	stack_input(&w->st, pkt, now);
}

static void worker_tx_done(struct worker *w, const struct io_uring_cqe *cqe)
{
	uint32_t idx = uring_ud_idx(cqe->user_data);
	struct tx_slot *s;
	size_t want;

	if (idx >= w->ntx)
		return;
	s = &w->tx[idx];
	want = s->iov[0].iov_len + s->iov[1].iov_len;
	if (cqe->res == -EIO) {
		/* The TAP's kernel side is down: said once per outage, counted
		 * always. */
		w->lstats.tx_errors++;
		if (!w->link_down)
			log_notice(
				"link %s: kernel side is down; frames are dropped until it is up",
				w->link->name);
		w->link_down = true;
		pkt_drop(&w->st, s->pkt, DROP_LINK_TX_ERROR);
	} else if (cqe->res < 0 || (size_t)cqe->res != want) {
		w->lstats.tx_errors++;
		log_ratelimited(LOG_LVL_WARN, "worker %u: link %s: write: %s", w->id, w->link->name,
				cqe->res < 0 ? strerror(-cqe->res) : "short write");
		pkt_drop(&w->st, s->pkt, DROP_LINK_TX_ERROR);
	} else {
		if (w->link_down)
			log_notice("link %s: kernel side is up again", w->link->name);
		w->link_down = false;
		w->lstats.tx_packets++;
		w->lstats.tx_bytes += s->iov[1].iov_len;
		pkt_free(s->pkt);
	}
	s->pkt = NULL;
	w->tx_free[w->ntx_free++] = idx;
}

static void worker_tx_flush(struct worker *w)
{
	while (w->ntx_free && stack_tx_pending(&w->st)) {
		struct io_uring_sqe *sqe = worker_get_sqe(w);
		uint32_t idx;
		struct tx_slot *s;
		struct pkt *p;

		if (!sqe)
			return;
		p = stack_tx_pop(&w->st);
		idx = w->tx_free[--w->ntx_free];
		s = &w->tx[idx];
		s->pkt = p;
		vnet_hdr_from_pkt(p, &s->vh);
		s->iov[0].iov_base = &s->vh;
		s->iov[0].iov_len = w->link->vnet_hdr_len;
		s->iov[1].iov_base = p->data;
		s->iov[1].iov_len = pkt_len(p);
		if ((size_t)(p->data - p->head) >= w->link->vnet_hdr_len) {
			/* A plain write of one buffer skips the kernel's iovec
			 * import, a measurable share of a TAP write. The
			 * headroom is free: a frame is in flight only once
			 * (TCP copies a payload whose last transmission is
			 * still queued). */
			uint8_t *start = p->data - w->link->vnet_hdr_len;

			memcpy(start, &s->vh, w->link->vnet_hdr_len);
			io_uring_prep_write(sqe, w->link->fd, start,
					    (unsigned int)(w->link->vnet_hdr_len + pkt_len(p)), 0);
		} else {
			io_uring_prep_writev(sqe, w->link->fd, s->iov, 2, 0);
		}
		io_uring_sqe_set_data64(sqe, uring_ud(UD_TX, idx));
	}
}

static void worker_snapshot_fill(struct worker *w, struct worker_snapshot *s)
{
	s->now_ns = w->st.now;
	s->mib = w->st.mib;
	s->naddrs = w->st.naddrs;
	memcpy(s->addrs, w->st.addrs, sizeof(s->addrs));
	s->nroutes = w->st.fib.count < s->routes_cap ? w->st.fib.count : s->routes_cap;
	memcpy(s->routes, w->st.fib.entries, s->nroutes * sizeof(*s->routes));
	s->nneigh = neigh_dump(&w->st, s->neigh, s->neigh_cap);
	s->stats = w->stats;
	s->link = w->lstats;
	s->pool_free = w->pool.nfree_data;
	s->pool_size = w->pool.ndata;
	s->tcp_socks = w->st.tcp.nsocks - w->st.tcp.nfree_socks;
	s->tcp_tws = w->st.tcp.ntws - w->st.tcp.nfree_tws;
}

static void worker_commands(struct worker *w)
{
	struct worker_cmd *c;
	bool any = false;

	while ((c = spsc_ring_pop(&w->cmdq))) {
		w->stats.commands++;
		switch (c->type) {
		case WCMD_SNAPSHOT:
			worker_snapshot_fill(w, c->arg);
			c->status = 0;
			break;
		case WCMD_SOCKETS:
			c->status = sockdiag_tcp_dump(&w->st, c->arg);
			break;
		default:
			c->status = -EOPNOTSUPP;
			break;
		}
		/* worker_submit() keeps fewer commands in flight than doneq
		 * holds, so this push cannot fail. */
		spsc_ring_push(&w->doneq, c);
		any = true;
	}
	if (any && eventfd_write(w->done_fd, 1) < 0)
		log_ratelimited(LOG_LVL_ERR, "worker %u: eventfd_write: %s", w->id,
				strerror(errno));
}

/* Handle one completion. Return: its kind. */
static enum uring_ud_kind worker_complete(struct worker *w, const struct io_uring_cqe *cqe,
					  uint64_t now)
{
	enum uring_ud_kind kind = uring_ud_kind(cqe->user_data);

	switch (kind) {
	case UD_RX:
		worker_rx(w, cqe, now);
		break;
	case UD_TX:
		worker_tx_done(w, cqe);
		break;
	case UD_WAKE:
		w->wake_armed = false;
		break;
	case UD_CHAN:
		session_chan_ready(w, uring_ud_idx(cqe->user_data), cqe->res,
				   cqe->flags & IORING_CQE_F_MORE);
		break;
	case UD_PH:
		/* -ECANCELED at shutdown; otherwise the placeholder hung up. */
		if (cqe->res > 0)
			shimsock_hup(w, uring_ud_idx(cqe->user_data),
				     uring_ud_ext_of(cqe->user_data));
		break;
	default:
		break;
	}
	return kind;
}

/* One pass over the completion queue, at most @budget received frames. */
static unsigned int worker_reap(struct worker *w, uint64_t now, bool *squeezed)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0, rx = 0;

	*squeezed = false;
	stack_rx_begin(&w->st);
	io_uring_for_each_cqe (&w->ring, head, cqe) {
		if (rx == w->cfg->budget) {
			*squeezed = true;
			break;
		}
		seen++;
		if (worker_complete(w, cqe, now) == UD_RX)
			rx++;
	}
	io_uring_cq_advance(&w->ring, seen);
	stack_rx_end(&w->st, now);
	return seen;
}

/*
 * Cancel every request before the ring goes away. io_uring tears a ring
 * down asynchronously, and a read still queued on the TAP keeps the TAP's
 * file open until that work runs: the device would outlive usnetd by a
 * moment and an immediate restart would find it busy. Runs on the worker
 * thread, the ring's only submitter.
 */
static void worker_drain(struct worker *w)
{
	uint64_t deadline = worker_now_ns() + 1000000000ull;
	struct io_uring_sqe *sqe = worker_get_sqe(w);
	bool cancelled = false;

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, uring_ud(UD_CANCEL, 0));
	io_uring_submit(&w->ring);

	while ((!cancelled || w->rx_armed || w->wake_armed || w->ntx_free < w->ntx) &&
	       worker_now_ns() < deadline) {
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		io_uring_wait_cqe_timeout(&w->ring, &cqe, &ts);
		io_uring_for_each_cqe (&w->ring, head, cqe) {
			seen++;
			if (worker_complete(w, cqe, worker_now_ns()) == UD_CANCEL)
				cancelled = true;
		}
		io_uring_cq_advance(&w->ring, seen);
	}
	if (w->rx_armed || w->wake_armed)
		log_warn(
			"worker %u: requests still pending at exit; the TAP may outlive usnetd briefly",
			w->id);
}

/* Hand proto's socket events to their owners. */
static void worker_events(struct worker *w)
{
	unsigned int n = 0;
	struct sock *sk;

	while (n++ < WORKER_EVENT_BUDGET && (sk = stack_event_pop(&w->st))) {
		struct owner *o = sk->owner;
		uint32_t ev = sk->events;

		sk->events = 0;
		if (!o)
			continue;
		if (o->kind == OWNER_SHIM)
			shimsock_event(w, sk, ev);
		else
			service_event(w->services, &w->st, sk, ev);
	}
}

static void worker_loop(struct worker *w)
{
	uint64_t busy_ns = (uint64_t)w->cfg->busy_poll_us * 1000;
	bool last_busy = false;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		uint64_t now = worker_now_ns(), next;
		unsigned int done;
		bool squeezed;

		w->stats.rounds++;
		done = worker_reap(w, now, &squeezed);
		if (squeezed)
			w->stats.time_squeeze++;
		stack_poll(&w->st, now);
		if (now >= stack_next_timer(&w->st))
			stack_timers(&w->st, now);
		stack_loopback(&w->st, now);
		/* Applications (the built-in services, libusnet's clients)
		 * run between the stack's input and the transmit batch, so that
		 * their replies leave in the same round. */
		session_adopt_new(w);
		done += session_kicks(w);
		if (now >= w->shim_reclaim_at)
			shimsock_reclaim(w, now);
		worker_events(w);
		shimsock_wake_flush(w);
		worker_commands(w);
		worker_tx_flush(w);
		worker_refill_rx(w);
		worker_arm_rx(w);
		worker_arm_wake(w);
		/* Also runs deferred completions (DEFER_TASKRUN posts them only
		 * when the submitter enters the kernel). */
		io_uring_submit_and_get_events(&w->ring);

		if (done || squeezed || w->st.evq_head || stack_tx_pending(&w->st) ||
		    stack_loopback_pending(&w->st)) {
			last_busy = true;
			continue;
		}
		if (busy_ns && last_busy) {
			uint64_t until = now + busy_ns;
			struct io_uring_cqe *cqe;

			w->stats.busy_polls++;
			while (worker_now_ns() < until && io_uring_peek_cqe(&w->ring, &cqe) != 0)
				io_uring_get_events(&w->ring);
			last_busy = false;
			continue;
		}
		last_busy = false;
		/* Work that no client waits for, a piece at a time, so that a
		 * request arriving meanwhile waits for one piece at most. */
		if (ph_pool_idle(&w->ph))
			continue;

		/* Clients kick us through shared memory while we run; before
		 * sleeping, tell them to ring instead (doorbell.h). */
		if (session_set_sleeping(w, true))
			continue;
		next = stack_next_timer(&w->st);
		if (w->shim_reclaim_at < next)
			next = w->shim_reclaim_at;
		w->stats.sleeps++;
		if (next == UINT64_MAX) {
			struct io_uring_cqe *cqe;

			io_uring_wait_cqe(&w->ring, &cqe);
		} else {
			struct __kernel_timespec ts = { 0, 0 };
			struct io_uring_cqe *cqe;

			now = worker_now_ns();
			if (next > now) {
				ts.tv_sec = (long long)((next - now) / 1000000000ull);
				ts.tv_nsec = (long long)((next - now) % 1000000000ull);
				io_uring_wait_cqe_timeout(&w->ring, &cqe, &ts);
			}
		}
		session_set_sleeping(w, false);
		w->stats.wakeups++;
	}
}

static int worker_init(struct worker *w)
{
	const struct usnetd_config *cfg = w->cfg;
	uint32_t data_size = PKT_HEADROOM + 14 + 4 + cfg->mtu + 64;
	uint32_t ndata = WORKER_POOL_BYTES / data_size;
	struct stack_cfg scfg;
	uint8_t seed[16];
	int rc;

	if (ndata > WORKER_POOL_MAX)
		ndata = WORKER_POOL_MAX;
	if (ndata < 512)
		ndata = 512;
	rc = pkt_pool_init(&w->pool, ndata + ndata / 2, ndata, data_size);
	if (rc) {
		log_err("worker %u: packet pool: %s", w->id, strerror(-rc));
		return rc;
	}
	/* Fault the whole pool in now, as DPDK-style stacks do: the data
	 * path never takes a page fault, and usnetd's RSS no longer creeps
	 * up as traffic first touches buffers (which would hide a leak). */
	memset(w->pool.data, 0, (size_t)w->pool.ndata * w->pool.data_size);
	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
		rc = -errno;
		log_err("worker %u: getrandom: %s", w->id, strerror(errno));
		return rc;
	}
	stack_cfg_defaults(&scfg);
	memcpy(scfg.mac, w->link->mac, 6);
	scfg.mtu = cfg->mtu;
	rc = stack_init(&w->st, &scfg, &w->pool, seed);
	if (rc) {
		log_err("worker %u: stack: %s", w->id, strerror(-rc));
		return rc;
	}
	if (log_get_level() >= LOG_LVL_DEBUG) {
		w->st.trace = worker_trace;
		w->st.trace_arg = w;
		w->st.trace_mask = ~0u;
	}

	rc = session_table_init(&w->sessions);
	if (rc)
		return rc;
	rc = uring_setup(&w->ring, WORKER_RING_ENTRIES, &w->caps);
	if (rc) {
		log_err("worker %u: io_uring_queue_init: %s%s", w->id, strerror(-rc),
			rc == -EPERM ? " (io_uring disabled by kernel.io_uring_disabled?)" : "");
		return rc;
	}
	w->rx_target = ndata / 4;
	{
		uint32_t entries = 1;

		while (entries < w->rx_target)
			entries <<= 1;
		rc = uring_bufring_setup(&w->ring, &w->br, entries, 0);
	}
	if (rc) {
		log_err("worker %u: provided-buffer ring: %s (Linux 5.19 or later needed)", w->id,
			strerror(-rc));
		return rc;
	}
	w->rx_depth = w->caps.read_multishot ? 1 : WORKER_RX_DEPTH_SINGLESHOT;
	wheel_init(&w->st.wheel, worker_now_ns());
	snprintf(w->rx_mode, sizeof(w->rx_mode), "%s, buffer ring",
		 w->caps.read_multishot ? "multishot read" : "single-shot reads");
	log_info("worker %u: rx via %s%s; ring flags %s", w->id, w->rx_mode,
		 w->caps.read_multishot ? "" : " (multishot read needs Linux 6.7)",
		 w->caps.defer_taskrun ? "SINGLE_ISSUER|DEFER_TASKRUN" : "COOP_TASKRUN or none");

	w->ntx = WORKER_TX_SLOTS;
	w->tx = calloc(w->ntx, sizeof(*w->tx));
	w->tx_free = calloc(w->ntx, sizeof(*w->tx_free));
	if (!w->tx || !w->tx_free)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->ntx; i++)
		w->tx_free[i] = w->ntx - 1 - i;
	w->ntx_free = w->ntx;

	/* Addresses and routes enter the stack on its own thread. */
	for (unsigned int i = 0; i < cfg->naddrs; i++) {
		rc = stack_addr_add(&w->st, cfg->addrs[i].addr, cfg->addrs[i].plen,
				    worker_now_ns());
		if (rc) {
			char a[16];

			inet_ntop(AF_INET, &cfg->addrs[i].addr, a, sizeof(a));
			log_err("address %s/%u: %s", a, cfg->addrs[i].plen, strerror(-rc));
			return rc;
		}
	}
	if (cfg->nservices) {
		w->services = service_start(&w->st, cfg->services, cfg->nservices);
		if (!w->services)
			return -EADDRINUSE;
	}
	if (cfg->gateway) {
		rc = route_add(&w->st, 0, 0, cfg->gateway, 0, 0, RTPROT_STATIC);
		if (rc) {
			char a[16];

			inet_ntop(AF_INET, &cfg->gateway, a, sizeof(a));
			log_err("gateway %s: %s%s", a, strerror(-rc),
				rc == -ENETUNREACH ? " (not on a subnet of any --address)" : "");
			return rc;
		}
	}
	return 0;
}

static void worker_fini(struct worker *w)
{
	struct pkt *p;

	if (w->ring.ring_fd > 0) {
		uring_bufring_free(&w->ring, &w->br);
		io_uring_queue_exit(&w->ring);
		w->ring.ring_fd = -1;
	}
	for (uint32_t i = 0; w->tx && i < w->ntx; i++)
		pkt_free(w->tx[i].pkt);
	free(w->tx);
	free(w->tx_free);
	w->tx = NULL;
	w->tx_free = NULL;
	while ((p = stack_tx_pop(&w->st)))
		pkt_free(p);
	if (w->st.pool)
		stack_fini(&w->st);
	pkt_pool_fini(&w->pool);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];

	snprintf(name, sizeof(name), "usnetd-w%u", w->id);
	pthread_setname_np(pthread_self(), name);
	w->start_rc = worker_init(w);
	sem_post(&w->started);
	if (w->start_rc)
		return NULL;
	worker_loop(w);
	/* Connections end as a process's sockets do when it exits: FIN, or
	 * RST for unread data, sent before the link closes. */
	session_table_fini(w);
	ph_pool_fini(&w->ph);
	if (w->services) {
		service_stop(w->services, &w->st);
		w->services = NULL;
	}
	worker_tx_flush(w);
	io_uring_submit(&w->ring);
	worker_drain(w);
	return NULL;
}

int worker_start(struct worker *w, unsigned int id, const struct usnetd_config *cfg,
		 struct link *link)
{
	sigset_t all, old;
	int rc;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	w->link = link;
	w->ring.ring_fd = -1;
	w->wake_fd = eventfd(0, EFD_CLOEXEC);
	w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0 || w->done_fd < 0) {
		rc = -errno;
		log_err("worker %u: eventfd: %s", id, strerror(errno));
		goto err;
	}
	rc = spsc_ring_init(&w->cmdq, WORKER_CMDQ);
	if (!rc)
		rc = spsc_ring_init(&w->doneq, WORKER_CMDQ);
	if (rc)
		goto err;
	sem_init(&w->started, 0, 0);

	/* Signals belong to the control thread's libev loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		log_err("worker %u: pthread_create: %s", id, strerror(-rc));
		goto err;
	}
	sem_wait(&w->started);
	if (w->start_rc) {
		rc = w->start_rc;
		pthread_join(w->thread, NULL);
		worker_fini(w);
		goto err;
	}
	return 0;
err:
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	if (w->done_fd >= 0)
		close(w->done_fd);
	spsc_ring_fini(&w->cmdq);
	spsc_ring_fini(&w->doneq);
	w->wake_fd = w->done_fd = -1;
	return rc;
}

void worker_stop(struct worker *w)
{
	atomic_store(&w->stop, true);
	if (eventfd_write(w->wake_fd, 1) < 0)
		log_err("worker %u: eventfd_write: %s", w->id, strerror(errno));
	pthread_join(w->thread, NULL);
	worker_fini(w);
	close(w->wake_fd);
	close(w->done_fd);
	spsc_ring_fini(&w->cmdq);
	spsc_ring_fini(&w->doneq);
	sem_destroy(&w->started);
}

int worker_submit(struct worker *w, struct worker_cmd *c)
{
	if (w->cmds_inflight >= WORKER_CMDQ - 1 || !spsc_ring_push(&w->cmdq, c))
		return -EBUSY;
	w->cmds_inflight++;
	/* The command is in the ring: even if the doorbell fails, the worker
	 * finds it on its next round, so it counts as submitted. */
	if (eventfd_write(w->wake_fd, 1) < 0)
		log_ratelimited(LOG_LVL_ERR, "worker %u: eventfd_write: %s", w->id,
				strerror(errno));
	return 0;
}

struct worker_cmd *worker_done_pop(struct worker *w)
{
	struct worker_cmd *c = spsc_ring_pop(&w->doneq);

	if (c)
		w->cmds_inflight--;
	return c;
}

struct worker_snapshot *worker_snapshot_alloc(const struct worker *w)
{
	struct worker_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->routes_cap = w->st.fib.max;
	s->neigh_cap = w->st.neigh.size;
	s->routes = calloc(s->routes_cap, sizeof(*s->routes));
	s->neigh = calloc(s->neigh_cap, sizeof(*s->neigh));
	if (!s->routes || !s->neigh) {
		worker_snapshot_free(s);
		return NULL;
	}
	return s;
}

void worker_snapshot_free(struct worker_snapshot *s)
{
	if (!s)
		return;
	free(s->routes);
	free(s->neigh);
	free(s);
}
