// SPDX-License-Identifier: MIT
/*
 * The daemon's half of libusnet sockets (see shimsock.h): proto's stream
 * operations over the slot's fifos, readiness published to the slot after
 * every event, doorbells rung once per worker round, placeholders watched
 * for hang-up through io_uring, and the per-socket control requests.
 *
 * Readiness. usnetd publishes what only it knows (ipc_sock.ready: state,
 * FIN received, error, accept queue) and bumps ipc_sock.seq on every event,
 * as the kernel's wakeups do; the client derives POLLIN and POLLOUT from
 * the fifos themselves. Doorbells of the sockets that changed in a round
 * are rung after the round (shimsock_wake_flush()), with a full fence
 * between the publication and the look at the waiters (doorbell.h).
 */
#include "shimsock.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/doorbell.h"
#include "log.h"
#include "proto/tcp.h"
#include "session.h"
#include "tcpinfo.h"
#include "worker.h"

#define CAP_NET_BIND_SERVICE_BIT 10
#define PORT_PRIVILEGED_BELOW 1024 /* net.ipv4.ip_unprivileged_port_start */

/* --- payload streams over the slot's fifos ----------------------------------------- */

static size_t ss_tx_avail(void *ctx)
{
	struct shim_sock *s = ctx;
	int64_t used = ipc_fifo_used(&s->tx);

	return used < 0 ? 0 : (size_t)used;
}

static size_t ss_tx_peek(void *ctx, void *buf, size_t len)
{
	struct shim_sock *s = ctx;
	ssize_t n = ipc_fifo_peek(&s->tx, 0, buf, len);

	return n < 0 ? 0 : (size_t)n;
}

static void ss_tx_consume(void *ctx, size_t len)
{
	struct shim_sock *s = ctx;

	ipc_fifo_consume(&s->tx, len);
}

static size_t ss_rx_queued(void *ctx)
{
	struct shim_sock *s = ctx;
	int64_t used = ipc_fifo_used(&s->rx);

	return used < 0 ? 0 : (size_t)used;
}

static size_t ss_rx_append(void *ctx, const void *buf, size_t len)
{
	struct shim_sock *s = ctx;
	ssize_t n = ipc_fifo_write(&s->rx, s->rx.size, buf, len);

	if (n <= 0)
		return 0;
	/* Half the buffer queued: the window the peer sees has shrunk enough
	 * that the client's next read should tell us (tcp_recved()). */
	if (s->tp && ss_rx_queued(s) * 2 >= s->tp->sk.rcvbuf)
		atomic_store_explicit(&s->ss->rx_kick, 1, memory_order_relaxed);
	return (size_t)n;
}

static const struct sk_stream_ops ss_ops = {
	.tx_avail = ss_tx_avail,
	.tx_peek = ss_tx_peek,
	.tx_consume = ss_tx_consume,
	.rx_append = ss_rx_append,
	.rx_queued = ss_rx_queued,
};

/* --- readiness and wakeups --------------------------------------------------------- */

static void ss_publish(struct worker *w, struct shim_sock *s)
{
	struct tcp_sock *tp = s->tp;
	uint32_t r = 0;

	if (!tp)
		return;
	switch (tp->state) {
	case TCP_LISTEN:
		r |= IPC_R_LISTENING;
		if (tp->lq.acceptq_len)
			r |= IPC_R_ACCEPT;
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		r |= IPC_R_CONNECTING;
		break;
	case TCP_CLOSE:
		break;
	default:
		s->connected = true;
		break;
	}
	if (s->connected)
		r |= IPC_R_CONNECTED;
	if (tp->shutdown & RCV_SHUTDOWN)
		r |= IPC_R_RDHUP;
	if (tp->shutdown & SEND_SHUTDOWN)
		r |= IPC_R_WRHUP;
	if (tp->state == TCP_CLOSE || tp->shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN))
		r |= IPC_R_HUP | IPC_R_WRHUP;
	if (tp->sk.err) {
		atomic_store(&s->ss->err, tp->sk.err);
		tp->sk.err = 0;
	}
	if (atomic_load_explicit(&s->ss->err, memory_order_relaxed))
		r |= IPC_R_ERR;
	atomic_store_explicit(&s->ss->tx_limit, tp->sk.sndbuf, memory_order_relaxed);
	/* An ACK owed while data waits unread (the window would shrink):
	 * Linux sends it when the reader takes the data (tcp_cleanup_rbuf());
	 * so must we, or the peer waits for the delayed-ACK timer. */
	if ((tp->ack.pending & TCP_ACK_SCHED) && ss_rx_queued(s))
		atomic_store_explicit(&s->ss->rx_kick, 1, memory_order_relaxed);
	atomic_store_explicit(&s->ss->ready, r, memory_order_release);
	atomic_fetch_add_explicit(&s->ss->seq, 1, memory_order_release);
	/* Something moved: the rings may go idle later (shimsock_reclaim()). */
	s->idle_since = 0;
	s->rings_punched = false;
	if (w->shim_reclaim_at == UINT64_MAX)
		w->shim_reclaim_at = w->st.now + SHIMSOCK_IDLE_NS;
	if (!s->wake_queued) {
		s->wake_queued = true;
		s->wake_next = w->shim_wake;
		w->shim_wake = s;
	}
}

void shimsock_wake_flush(struct worker *w)
{
	struct shim_sock *s = w->shim_wake;

	if (!s)
		return;
	w->shim_wake = NULL;
	/* doorbell.h step a: the publications above before the waiters. */
	atomic_thread_fence(memory_order_seq_cst);
	while (s) {
		struct shim_sock *next = s->wake_next;
		uint32_t have;

		s->wake_queued = false;
		s->wake_next = NULL;
		have = ipc_ready_events(atomic_load(&s->ss->ready), ipc_fifo_used(&s->rx),
				       ipc_fifo_used(&s->tx),
				       atomic_load_explicit(&s->ss->tx_limit, memory_order_relaxed));
		for (unsigned int i = 0; i < IPC_WATCH; i++) {
			uint32_t e = atomic_load(&s->ss->watch[i]);
			struct session *ws;

			if (!e || !ipc_watch_wants(atomic_load(&s->ss->watch_ev[i]), have))
				continue;
			/* The watch list is the client's to write, and it may
			 * name any session: ring only a session that may use
			 * this socket (its home, or a process that inherited
			 * it), never another process's doorbells. */
			ws = session_get(w, e >> 16);
			if (ws && session_may_use(ws, s->home))
				session_ring_doorbell(ws, (e & 0xffffu) - 1);
		}
		s = next;
	}
}

void shimsock_event(struct worker *w, struct sock *sk, uint32_t ev)
{
	struct shim_sock *s = sk->owner;

	ss_publish(w, s);
}

void shimsock_kick(struct worker *w, struct session *sess, uint32_t slot)
{
	struct shim_sock *s = sess->slots[slot];
	struct tcp_sock *tp = s->tp;

	if (!tp)
		return;
	if (ss_tx_avail(s))
		tcp_push(&w->st, tp);
	if (atomic_exchange_explicit(&s->ss->rx_kick, 0, memory_order_relaxed)) {
		tcp_recved(&w->st, tp);
		if (ss_rx_queued(s) * 2 >= tp->sk.rcvbuf ||
		    ((tp->ack.pending & TCP_ACK_SCHED) && ss_rx_queued(s)))
			atomic_store_explicit(&s->ss->rx_kick, 1, memory_order_relaxed);
	}
}

/* --- creation and release ---------------------------------------------------------- */

static void ph_arm(struct worker *w, struct shim_sock *s)
{
	struct io_uring_sqe *sqe = worker_get_sqe(w);

	if (!sqe) {
		log_ratelimited(LOG_LVL_ERR, "shim: no SQE to watch socket %#x", s->id);
		return;
	}
	/* Hang-up is reported whatever the mask; POLLIN is left out so that
	 * bytes a client writes into its placeholder do not end the socket. */
	io_uring_prep_poll_add(sqe, s->ph_fd, POLLRDHUP);
	io_uring_sqe_set_data64(sqe, uring_ud_ext(UD_PH, s->id, s->gen));
}

/*
 * Name our end of the placeholder (an abstract address the client's end
 * reports as its peer), so that a program that exec'd with the socket can
 * tell which of its descriptors are usnet's; remember the client end's
 * identity to check its claim (CTL_CLAIM). Without a name the socket works
 * but does not survive exec.
 */
static void ph_name(struct shim_sock *s, int client_end)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int n;

	if (fstat(client_end, &st) == 0) {
		s->ph_dev = st.st_dev;
		s->ph_ino = st.st_ino;
	}
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, IPC_PH_NAME, (int)getpid(), s->id,
		     s->gen);
	if (bind(s->ph_fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0)
		log_ratelimited(LOG_LVL_WARN, "shim: cannot name placeholder %#x: %s", s->id,
				strerror(errno));
}

static int ss_create(struct worker *w, struct session *sess, struct tcp_sock *tp, int domain,
		     struct shim_sock **out, int *ph)
{
	struct shim_sock *s;
	int slot, sv[2], rc;

	slot = session_slot_alloc(sess);
	if (slot < 0)
		return slot;
	s = calloc(1, sizeof(*s));
	if (!s) {
		session_slot_free(sess, (uint32_t)slot);
		return -ENOMEM;
	}
	rc = ph_pool_get(&w->ph, sv);
	if (rc) {
		log_ratelimited(LOG_LVL_WARN, "shim: placeholder for pid %d: %s%s", (int)sess->pid,
				strerror(-rc),
				rc == -EMFILE ? " (usnetd is out of file descriptors)" : "");
		free(s);
		session_slot_free(sess, (uint32_t)slot);
		return rc == -EMFILE ? -ENFILE : rc;
	}
	s->hdr.kind = OWNER_SHIM;
	s->tp = tp;
	s->home = sess;
	s->ss = ipc_seg_slot_map(sess->base, sess->slot_size, sess->rx_size, sess->tx_size,
				 (uint32_t)slot, &s->rx, &s->tx);
	s->id = s->ss->id;
	s->gen = s->ss->gen;
	s->domain = (uint8_t)domain;
	s->ph_fd = sv[0];
	*ph = sv[1];
	ph_name(s, sv[1]);
	sess->slots[slot] = s;
	atomic_fetch_add(&sess->refs, 1);
	tp->sk.owner = s;
	/* Who sees it in `usnet sockets`: the process it is homed with, as
	 * for the connections an nginx worker accepts on its master's
	 * listener (sockdiag.c). */
	tp->sk.uid = (uint32_t)sess->uid;
	tcp_attach(&w->st, tp, &ss_ops, s);
	atomic_store(&s->ss->state, IPC_SOCK_LIVE);
	ph_arm(w, s);
	ss_publish(w, s);
	*out = s;
	return 0;
}

/* @hup: the client's end is gone, nobody sees when ours closes. */
static void ss_release(struct worker *w, struct shim_sock *s, bool hup)
{
	struct session *home = s->home;

	if (s->tp) {
		s->tp->sk.owner = NULL;
		tcp_close(&w->st, s->tp);
		s->tp = NULL;
	}
	if (s->wake_queued) {
		for (struct shim_sock **pp = &w->shim_wake; *pp; pp = &(*pp)->wake_next) {
			if (*pp == s) {
				*pp = s->wake_next;
				break;
			}
		}
	}
	session_slot_free(home, s->id & 0xffffu);
	if (w->shim_reclaim_at == UINT64_MAX)
		w->shim_reclaim_at = w->st.now + SHIMSOCK_IDLE_NS;
	if (hup)
		ph_pool_drop(&w->ph, s->ph_fd);
	else
		close(s->ph_fd);
	free(s);
	session_put(w, home);
}

void shimsock_hup(struct worker *w, uint32_t id, uint32_t gen)
{
	struct session *home = session_get(w, id >> 16);
	struct shim_sock *s;

	if (!home || (id & 0xffffu) >= home->nslots)
		return;
	s = home->slots[id & 0xffffu];
	if (!s || s->gen != gen)
		return;
	ss_release(w, s, true);
}

void shimsock_close_all(struct worker *w, struct session *sess)
{
	for (uint32_t i = 0; i < sess->nslots; i++) {
		struct shim_sock *s = sess->slots[i];

		if (!s)
			continue;
		/* usnetd is going away: no FIN handshake can finish. */
		if (s->tp && s->tp->state != TCP_LISTEN && s->tp->state != TCP_CLOSE)
			tcp_abort(&w->st, s->tp, ECONNRESET);
		ss_release(w, s, false);
	}
}

/* --- requests ---------------------------------------------------------------------- */

int shimsock_socket(struct worker *w, struct session *sess, const struct ctl_sock_req *req,
		    struct ctl_sock_rep *rep, int *ph, unsigned int *nph)
{
	unsigned int want = req->arg > 0 ? (unsigned int)req->arg : 1;
	struct ctl_sock_more more;

	*nph = 0;
	if (req->domain != AF_INET && req->domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (req->type != SOCK_STREAM || (req->protocol && req->protocol != IPPROTO_TCP))
		return -EPROTONOSUPPORT;
	if (want > CTL_SOCKET_MAX)
		return -EINVAL;
	while (*nph < want) {
		struct tcp_sock *tp = tcp_open(&w->st);
		struct shim_sock *s;
		int rc;

		if (!tp)
			rc = -ENOBUFS;
		else if ((rc = ss_create(w, sess, tp, req->domain, &s, &ph[*nph])) != 0)
			tcp_close(&w->st, tp);
		if (rc)
			return *nph ? 0 : rc; /* those made so far */
		if (*nph == 0) {
			rep->id = s->id;
			rep->gen = s->gen;
			rep->session = sess->id;
			rep->slot = s->id & 0xffffu;
		} else {
			more = (struct ctl_sock_more){ s->id, s->gen, s->id & 0xffffu };
			memcpy(rep->optval + (*nph - 1) * sizeof(more), &more, sizeof(more));
			rep->optlen = (uint32_t)(*nph * sizeof(more));
		}
		(*nph)++;
	}
	return 0;
}

/* @path's contents into @buf (NUL-terminated). Return: bytes, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return (ssize_t)n;
}

/*
 * May thread @tid of the process that sent this request bind below 1024?
 * The kernel asks whether the calling thread has CAP_NET_BIND_SERVICE in
 * the user namespace that owns the network namespace, at the time of the
 * call. usnetd reads the same from /proc, now (not at hello: programs drop
 * privileges after they start), with guards against borrowing capabilities
 * the caller does not have:
 *  - the request must come from the session's own process, still alive
 *    (session_is_caller(): @sender is what the kernel stamped on the
 *    message). A channel can be inherited by a child that then dropped
 *    privileges, or outlive its process while another one gets its pid;
 *    neither may be judged on that process's capabilities. @tid is
 *    looked up among the sender's threads only;
 *  - the thread must be in usnetd's user namespace: one that made its own
 *    (unshare -r) has every capability there and none here. Its uid_map
 *    reads as ours only then (comparing the ns links themselves needs
 *    ptrace access, which usnetd does not keep after dropping privileges);
 *  - a set-user-ID image (effective uid 0, real uid not) never runs
 *    libusnet, since the loader ignores LD_PRELOAD for it: it is a process
 *    that exec'd one with its channel open, around its request, to have
 *    the image's capabilities judged in its place.
 * What remains open: a process that sends the request and then execs a
 * program with file capabilities (no uid change) before usnetd reads
 * /proc. Closing that needs the kernel to stamp capabilities on the
 * message, which it does not.
 */
static bool may_bind_privileged(const struct session *sess, pid_t sender, int tid)
{
	char path[64], status[4096], map[512], ours[512];
	unsigned long long caps = 0;
	unsigned int ruid = 0, euid = 0;
	const char *l;
	ssize_t n;

	if (!session_is_caller(sess, sender))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)sender, tid);
	if (tid <= 0 || read_small(path, status, sizeof(status)) < 0) {
		tid = (int)sender;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)sender);
		if (read_small(path, status, sizeof(status)) < 0)
			return false;
	}
	l = strstr(status, "\nUid:");
	if (!l || sscanf(l, "\nUid: %u %u", &ruid, &euid) != 2 || (euid == 0 && ruid != 0))
		return false;
	l = strstr(status, "\nCapEff:");
	if (!l || sscanf(l, "\nCapEff: %llx", &caps) != 1 ||
	    !((caps >> CAP_NET_BIND_SERVICE_BIT) & 1))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/uid_map", (int)sender, tid);
	n = read_small(path, map, sizeof(map));
	if (n < 0 || read_small("/proc/self/uid_map", ours, sizeof(ours)) != n ||
	    memcmp(map, ours, (size_t)n) != 0)
		return false;
	/* Still the same process after the reads: its pid was its own. */
	return session_is_caller(sess, sender);
}

/* Option @level/@name set to @len bytes at @val (a request's optval). */
static int ss_setopt(struct worker *w, struct shim_sock *s, int level, int name, const void *val,
		     uint32_t len)
{
	struct tcp_sock *tp = s->tp;
	int v = 0;

	if (level == IPPROTO_TCP && name == UAPI_TCP_CONGESTION) {
		char cc[TCP_CC_NAME_MAX];
		size_t n = len < sizeof(cc) - 1 ? len : sizeof(cc) - 1;

		memcpy(cc, val, n);
		cc[n] = 0;
		return tcp_set_congestion(&w->st, tp, cc);
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;

		if (len < sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		return tcp_setopt(&w->st, tp, TCP_OPT_LINGER, l.l_onoff ? l.l_linger : -1);
	}
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			return tcp_setopt(&w->st, tp, TCP_OPT_REUSEADDR, v);
		case SO_REUSEPORT:
			if (v)
				tp->sk.opts |= SK_OPT_REUSEPORT;
			else
				tp->sk.opts &= (uint16_t)~SK_OPT_REUSEPORT;
			return 0;
		case SO_KEEPALIVE:
			return tcp_setopt(&w->st, tp, TCP_OPT_KEEPALIVE, v);
		case SO_SNDBUF:
		case SO_SNDBUFFORCE: {
			int rc = tcp_setopt(&w->st, tp, TCP_OPT_SNDBUF, v);

			ss_publish(w, s);
			return rc;
		}
		case SO_RCVBUF:
		case SO_RCVBUFFORCE:
			return tcp_setopt(&w->st, tp, TCP_OPT_RCVBUF, v);
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case UAPI_TCP_NODELAY:
			return tcp_setopt(&w->st, tp, TCP_OPT_NODELAY, v);
		case UAPI_TCP_CORK:
			return tcp_setopt(&w->st, tp, TCP_OPT_CORK, v);
		case UAPI_TCP_MAXSEG:
			return tcp_setopt(&w->st, tp, TCP_OPT_MAXSEG, v);
		case UAPI_TCP_KEEPIDLE:
			return tcp_setopt(&w->st, tp, TCP_OPT_KEEPIDLE, v);
		case UAPI_TCP_KEEPINTVL:
			return tcp_setopt(&w->st, tp, TCP_OPT_KEEPINTVL, v);
		case UAPI_TCP_KEEPCNT:
			return tcp_setopt(&w->st, tp, TCP_OPT_KEEPCNT, v);
		case UAPI_TCP_USER_TIMEOUT:
			return tcp_setopt(&w->st, tp, TCP_OPT_USER_TIMEOUT, v);
		case UAPI_TCP_QUICKACK:
			return tcp_setopt(&w->st, tp, TCP_OPT_QUICKACK, v);
		}
	}
	return -ENOPROTOOPT;
}

/* The options that ride on @req (ctl_preopt): the shim has seen each
 * taken before, so a failure now is only logged. */
static void ss_preopts(struct worker *w, struct shim_sock *s, const struct ctl_sock_req *req)
{
	for (uint32_t i = 0; i < req->npre && i < CTL_PREOPT_MAX; i++) {
		const struct ctl_preopt *p = &req->pre[i];
		int rc = ss_setopt(w, s, p->level, p->name, p->val,
				   p->len < CTL_PREOPT_VAL ? p->len : CTL_PREOPT_VAL);

		if (rc)
			log_ratelimited(LOG_LVL_INFO, "shim: socket %#x: option %d/%d: %s", s->id,
					p->level, p->name, strerror(-rc));
	}
}

static int ss_getopt(struct worker *w, struct shim_sock *s, const struct ctl_sock_req *req,
		     struct ctl_sock_rep *rep)
{
	static const struct {
		int level, name;
		enum tcp_opt opt;
	} map[] = {
		{ SOL_SOCKET, SO_REUSEADDR, TCP_OPT_REUSEADDR },
		{ SOL_SOCKET, SO_KEEPALIVE, TCP_OPT_KEEPALIVE },
		{ SOL_SOCKET, SO_SNDBUF, TCP_OPT_SNDBUF },
		{ SOL_SOCKET, SO_RCVBUF, TCP_OPT_RCVBUF },
		{ IPPROTO_TCP, UAPI_TCP_NODELAY, TCP_OPT_NODELAY },
		{ IPPROTO_TCP, UAPI_TCP_CORK, TCP_OPT_CORK },
		{ IPPROTO_TCP, UAPI_TCP_MAXSEG, TCP_OPT_MAXSEG },
		{ IPPROTO_TCP, UAPI_TCP_KEEPIDLE, TCP_OPT_KEEPIDLE },
		{ IPPROTO_TCP, UAPI_TCP_KEEPINTVL, TCP_OPT_KEEPINTVL },
		{ IPPROTO_TCP, UAPI_TCP_KEEPCNT, TCP_OPT_KEEPCNT },
		{ IPPROTO_TCP, UAPI_TCP_USER_TIMEOUT, TCP_OPT_USER_TIMEOUT },
		{ IPPROTO_TCP, UAPI_TCP_QUICKACK, TCP_OPT_QUICKACK },
	};
	struct tcp_sock *tp = s->tp;
	int v, rc;

	if (req->level == IPPROTO_TCP && req->name == UAPI_TCP_INFO) {
		struct tcp_info_lite l;

		tcp_get_info(&w->st, tp, &l);
		rep->optlen = (uint32_t)tcpinfo_fill(&l, rep->optval, CTL_OPTVAL_MAX);
		return 0;
	}
	if (req->level == IPPROTO_TCP && req->name == UAPI_TCP_CONGESTION) {
		struct tcp_info_lite l;

		tcp_get_info(&w->st, tp, &l);
		rep->optlen = UAPI_TCP_CA_NAME_MAX;
		memset(rep->optval, 0, UAPI_TCP_CA_NAME_MAX);
		memcpy(rep->optval, l.ca_name, strnlen(l.ca_name, sizeof(l.ca_name)));
		return 0;
	}
	if (req->level == SOL_SOCKET && req->name == SO_LINGER) {
		struct linger l = { 0 };

		rc = tcp_getopt(&w->st, tp, TCP_OPT_LINGER, &v);
		if (rc)
			return rc;
		l.l_onoff = v >= 0;
		l.l_linger = v >= 0 ? v : 0;
		rep->optlen = sizeof(l);
		memcpy(rep->optval, &l, sizeof(l));
		return 0;
	}
	if (req->level == SOL_SOCKET && req->name == SO_REUSEPORT) {
		v = !!(tp->sk.opts & SK_OPT_REUSEPORT);
		goto out;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].level == req->level && map[i].name == req->name) {
			rc = tcp_getopt(&w->st, tp, map[i].opt, &v);
			if (rc)
				return rc;
			goto out;
		}
	}
	return -ENOPROTOOPT;
out:
	rep->optlen = sizeof(v);
	memcpy(rep->optval, &v, sizeof(v));
	return 0;
}

static int ss_accept(struct worker *w, struct session *sess, struct shim_sock *ls,
		     struct ctl_sock_rep *rep, int *ph)
{
	struct tcp_sock *child;
	struct shim_sock *s;
	int rc;

	if (ls->tp->state != TCP_LISTEN)
		return -EINVAL;
	child = tcp_accept(&w->st, ls->tp);
	ss_publish(w, ls);
	if (!child)
		return -EAGAIN;
	/* The connection is homed with the process that accepts it (an
	 * nginx worker, not the master that opened the listener). */
	rc = ss_create(w, sess, child, ls->domain, &s, ph);
	if (rc) {
		tcp_abort(&w->st, child, ECONNABORTED);
		tcp_close(&w->st, child);
		return rc;
	}
	rep->id = s->id;
	rep->gen = s->gen;
	rep->session = sess->id;
	rep->slot = s->id & 0xffffu;
	rep->addr.addr = child->daddr;
	rep->addr.port = child->dport;
	tcp_push(&w->st, child);
	return 0;
}

/* usnetd's half of the client's tx_lock (ipc/seg.h): only a try-lock. */
static bool ss_tx_trylock(struct shim_sock *s)
{
	uint32_t free_ = 0;

	return atomic_compare_exchange_strong(&s->ss->tx_lock, &free_, 1);
}

static void ss_tx_unlock(struct shim_sock *s)
{
	/* A client that found it held waits on the futex (state 2). */
	if (atomic_exchange(&s->ss->tx_lock, 0) == 2)
		syscall(SYS_futex, &s->ss->tx_lock, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/*
 * The rx ring is ours to write: empty, the client reads nothing of it, so
 * its pages can go at any time. The tx ring is the client's to write: only
 * with its lock held (the client is not between copying and publishing),
 * and still empty then. A fifo's next bytes land in fresh zero pages.
 */
static bool ss_punch(struct shim_sock *s)
{
	bool ok;

	if (!ss_tx_trylock(s))
		return false;
	ok = ipc_fifo_used(&s->tx) == 0 && ipc_fifo_used(&s->rx) == 0 &&
	     session_slot_punch(s->home, s->id & 0xffffu) == 0;
	ss_tx_unlock(s);
	return ok;
}

void shimsock_reclaim(struct worker *w, uint64_t now)
{
	bool waiting = false;

	w->shim_reclaim_at = UINT64_MAX;
	for (uint32_t id = 1; id < SESSION_MAX; id++) {
		struct session *sess = w->sessions.sess[id];

		if (sess && session_slots_cool(sess))
			waiting = true;
		for (uint32_t i = 0; sess && i < sess->nslots; i++) {
			struct shim_sock *s = sess->slots[i];

			if (!s || !s->tp)
				continue;
			if (ipc_fifo_used(&s->rx) != 0 || ipc_fifo_used(&s->tx) != 0) {
				s->idle_since = 0;
				s->rings_punched = false;
				waiting = true; /* look again when it has gone quiet */
				continue;
			}
			if (s->rings_punched)
				continue;
			if (!s->idle_since)
				s->idle_since = now;
			if (now - s->idle_since >= SHIMSOCK_IDLE_NS && ss_punch(s))
				s->rings_punched = true;
			else
				waiting = true;
		}
	}
	if (waiting)
		w->shim_reclaim_at = now + SHIMSOCK_IDLE_NS;
}

int shimsock_claim(struct worker *w, struct session *sess, const struct ctl_sock_req *req,
		   int ph, struct ctl_sock_rep *rep, int *memfd)
{
	struct session *home = session_get(w, req->id >> 16);
	struct ctl_claim_info info = { 0 };
	struct shim_sock *s;
	struct stat st;

	if (!home || (req->id & 0xffffu) >= home->nslots)
		return -EBADF;
	s = home->slots[req->id & 0xffffu];
	if (!s || s->gen != req->gen || !s->tp || !s->ph_ino)
		return -EBADF;
	/* Holding the placeholder is the right to the socket; without it,
	 * the socket might as well not exist. */
	if (ph < 0 || fstat(ph, &st) < 0 || st.st_dev != s->ph_dev || st.st_ino != s->ph_ino)
		return -EBADF;
	if (!session_may_use(sess, home)) {
		if (sess->ninherit == SESSION_INHERIT_MAX)
			return -EMFILE;
		atomic_fetch_add(&home->refs, 1);
		sess->inherit[sess->ninherit++] = home;
	}
	*memfd = fcntl(home->memfd, F_DUPFD_CLOEXEC, 0);
	if (*memfd < 0)
		return -errno;
	rep->id = s->id;
	rep->gen = s->gen;
	rep->session = home->id;
	rep->slot = s->id & 0xffffu;
	info.seg_size = home->seg_size;
	info.slot_size = home->slot_size;
	info.rx_size = home->rx_size;
	info.tx_size = home->tx_size;
	info.nslots = home->nslots;
	info.domain = s->domain;
	memcpy(rep->optval, &info, sizeof(info));
	rep->optlen = sizeof(info);
	return 0;
}

int shimsock_request(struct worker *w, struct session *sess, unsigned int type,
		     const struct ctl_sock_req *req, struct ctl_sock_rep *rep, int *ph,
		     pid_t sender)
{
	struct session *home = session_get(w, req->id >> 16);
	struct shim_sock *s;
	struct tcp_sock *tp;
	int rc;

	if (!home || (req->id & 0xffffu) >= home->nslots || !session_may_use(sess, home))
		return -EBADF;
	s = home->slots[req->id & 0xffffu];
	if (!s || s->gen != req->gen || !s->tp)
		return -EBADF;
	tp = s->tp;
	rep->id = s->id;
	rep->gen = s->gen;
	if (req->npre)
		ss_preopts(w, s, req);
	switch (type) {
	case CTL_BIND:
		if (req->addr.port && ntohs(req->addr.port) < PORT_PRIVILEGED_BELOW &&
		    !may_bind_privileged(sess, sender, req->tid))
			return -EACCES;
		/* Not on a bound socket: its port reference follows the flag. */
		if ((req->arg & CTL_BIND_V6ONLY) && s->domain == AF_INET6 && !tp->bound)
			tp->sk.opts |= SK_OPT_V6ONLY;
		return tcp_bind(&w->st, tp, req->addr.addr, req->addr.port);
	case CTL_LISTEN:
		/* Linux binds an unbound socket to an ephemeral port. */
		if (!tp->bound && tp->state == TCP_CLOSE) {
			rc = tcp_bind(&w->st, tp, 0, 0);
			if (rc)
				return rc;
		}
		rc = tcp_listen(&w->st, tp, req->arg);
		ss_publish(w, s);
		return rc;
	case CTL_CONNECT:
		rc = tcp_connect(&w->st, tp, req->addr.addr, req->addr.port);
		ss_publish(w, s);
		return rc;
	case CTL_ACCEPT:
		return ss_accept(w, sess, s, rep, ph);
	case CTL_SHUTDOWN: {
		int how = 0;

		if (req->arg == SHUT_RD || req->arg == SHUT_RDWR)
			how |= RCV_SHUTDOWN;
		if (req->arg == SHUT_WR || req->arg == SHUT_RDWR)
			how |= SEND_SHUTDOWN;
		if (!how)
			return -EINVAL;
		rc = tcp_shutdown(&w->st, tp, how);
		ss_publish(w, s);
		return rc;
	}
	case CTL_SETSOCKOPT:
		return ss_setopt(w, s, req->level, req->name, req->optval,
				 req->optlen < CTL_OPTVAL_MAX ? req->optlen : CTL_OPTVAL_MAX);
	case CTL_GETSOCKOPT:
		return ss_getopt(w, s, req, rep);
	case CTL_GETNAME:
		if (req->arg) {
			if (tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT ||
			    (tp->state == TCP_CLOSE && !s->connected) || !tp->dport)
				return -ENOTCONN;
			rep->addr.addr = tp->daddr;
			rep->addr.port = tp->dport;
		} else {
			rep->addr.addr = tp->saddr;
			rep->addr.port = tp->sport;
		}
		return 0;
	}
	return -EINVAL;
}
