// SPDX-License-Identifier: MIT
/*
 * Sessions of libusnet clients (see session.h): the hello on the control
 * thread (segment creation and sealing, version check, inherited segments)
 * and, on the worker, the channel's requests, the kick bitmaps and the
 * doorbells.
 *
 * A client can write anything into its segment and send anything on its
 * channel: every index read from shared memory is bounded by usnetd's own
 * copy of the geometry, every request is sized by ctl_msg_check() before
 * it is read, and any fd it passes is checked for what it must be.
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl.h"
#include "ipc/ctl_msg.h"
#include "ipc/doorbell.h"
#include "ipc/fdpass.h"
#include "log.h"
#include "shimsock.h"
#include "worker.h"

/* --- replies ---------------------------------------------------------------------- */

static int send_reply(int fd, const struct ipc_hdr *req, int status, const void *body,
		      size_t blen, const int *fds, unsigned int nfds)
{
	uint8_t buf[sizeof(struct ipc_hdr) + sizeof(struct ctl_sock_rep)];
	union ipc_fds_cmsg cm;
	struct ipc_hdr h = {
		.magic = IPC_MAGIC,
		.version = IPC_VERSION,
		.type = req->type,
		.seq = req->seq,
		.len = (uint32_t)(sizeof(h) + blen),
		.status = status,
		.flags = IPC_F_REPLY,
	};
	struct iovec iov = { buf, sizeof(h) + blen };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &h, sizeof(h));
	if (blen)
		memcpy(buf + sizeof(h), body, blen);
	ipc_fds_attach(&mh, &cm, fds, nfds);
	/* The client waits for this reply: its socket buffer has room unless
	 * it misbehaves, and then it loses its channel. */
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

/* --- the session table -------------------------------------------------------------- */

int session_table_init(struct session_table *t)
{
	memset(t->sess, 0, sizeof(t->sess));
	memset(t->reserved, 0, sizeof(t->reserved));
	t->nsess = 0;
	t->new_head = NULL;
	return -pthread_mutex_init(&t->new_lock, NULL);
}

struct session *session_get(struct worker *w, uint32_t id)
{
	return id && id < SESSION_MAX ? w->sessions.sess[id] : NULL;
}

bool session_may_use(const struct session *s, const struct session *home)
{
	if (s == home)
		return true;
	for (unsigned int i = 0; i < s->ninherit; i++)
		if (s->inherit[i] == home)
			return true;
	return false;
}

bool session_is_caller(const struct session *s, pid_t sender)
{
	struct pollfd p = { .fd = s->pidfd, .events = POLLIN };

	/* A pidfd polls readable once its process has exited: from then on
	 * its pid may belong to another process. */
	return sender > 0 && sender == s->pid && s->pidfd >= 0 && poll(&p, 1, 0) == 0;
}

static void session_free(struct session *s)
{
	if (s->base)
		munmap(s->base, s->seg_size);
	if (s->memfd >= 0)
		close(s->memfd);
	if (s->pidfd >= 0)
		close(s->pidfd);
	for (unsigned int i = 0; s->db_fd && i < IPC_DOORBELLS; i++)
		if (s->db_fd[i] >= 0)
			close(s->db_fd[i]);
	if (s->chan_fd >= 0)
		close(s->chan_fd);
	free(s->db_fd);
	free(s->slots);
	free(s->slot_gen);
	free(s->free_slots);
	free(s->slot_warm);
	free(s);
}

/*
 * The last reference is dropped under new_lock, so that the control thread,
 * which takes references to inherited sessions under the same lock, never
 * revives one that is being freed. Only the worker drops references of a
 * session in the table; the control thread drops only the one reference of
 * a session it never handed over (whose id is merely reserved).
 */
void session_put(struct worker *w, struct session *s)
{
	struct session_table *t = &w->sessions;
	struct session *inh[SESSION_INHERIT_MAX];
	unsigned int ninh;

	pthread_mutex_lock(&t->new_lock);
	if (atomic_fetch_sub(&s->refs, 1) != 1) {
		pthread_mutex_unlock(&t->new_lock);
		return;
	}
	if (t->sess[s->id] == s) {
		t->sess[s->id] = NULL;
		t->nsess--;
	}
	t->reserved[s->id] = false;
	pthread_mutex_unlock(&t->new_lock);
	log_debug("session %u (pid %d %s) ended", s->id, (int)s->pid, s->comm);
	ninh = s->ninherit;
	memcpy(inh, s->inherit, sizeof(inh));
	s->ninherit = 0;
	session_free(s);
	for (unsigned int i = 0; i < ninh; i++)
		session_put(w, inh[i]);
}

void session_table_fini(struct worker *w)
{
	struct session_table *t = &w->sessions;

	for (uint32_t id = 1; id < SESSION_MAX; id++) {
		struct session *s = t->sess[id];

		if (!s)
			continue;
		/* Releasing its last socket would free a session whose channel
		 * went first, under close_all's feet. */
		atomic_fetch_add(&s->refs, 1);
		shimsock_close_all(w, s);
		if (s->chan_fd >= 0) {
			close(s->chan_fd);
			s->chan_fd = -1;
			session_put(w, s);
		}
		session_put(w, s);
	}
	pthread_mutex_lock(&t->new_lock);
	while (t->new_head) {
		struct session *s = t->new_head;

		t->new_head = s->next_new;
		pthread_mutex_unlock(&t->new_lock);
		session_put(w, s);
		pthread_mutex_lock(&t->new_lock);
	}
	pthread_mutex_unlock(&t->new_lock);
	pthread_mutex_destroy(&t->new_lock);
}

/* --- hello (control thread) ------------------------------------------------------- */

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = IPC_PAGE;

	while (p < v)
		p <<= 1;
	return p;
}

static int seg_create(struct session *s, const struct worker *w)
{
	char name[32];
	struct stat stb;

	s->rx_size = pow2_at_least(w->st.cfg.tun.tcp_rmem[2]);
	s->tx_size = pow2_at_least(w->st.cfg.tun.tcp_wmem[2]);
	s->nslots = SESSION_SLOTS;
	s->slot_size = IPC_PAGE + s->rx_size + s->tx_size;
	s->seg_size = ipc_seg_size(s->nslots, s->rx_size, s->tx_size);
	snprintf(name, sizeof(name), "usnet-%d", (int)s->pid);
	s->memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0)
		return -errno;
	if (ftruncate(s->memfd, (off_t)s->seg_size) < 0)
		return -errno;
	/* The client may never shrink the file under our mapping (SIGBUS in
	 * usnetd) nor change the seals; punching holes stays possible. */
	if (fcntl(s->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	/* A memfd is made 0777. Its only path is /proc/PID/fd/N of a holder,
	 * which the kernel lets whoever may read-ptrace that holder open
	 * (yama's ptrace_scope does not restrict read access): with 0777,
	 * any other process of the client's user could map the data of the
	 * client's connections. 0600 leaves that to usnetd's user. */
	if (fchmod(s->memfd, 0600) < 0)
		return -errno;
	if (fstat(s->memfd, &stb) < 0)
		return -errno;
	s->dev = stb.st_dev;
	s->ino = stb.st_ino;
	s->base = mmap(NULL, s->seg_size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		return -errno;
	}
	s->hdr = (struct ipc_seg_hdr *)s->base;
	s->hdr->magic = IPC_SEG_MAGIC;
	s->hdr->version = IPC_VERSION;
	s->hdr->session = s->id;
	s->hdr->nslots = s->nslots;
	s->hdr->slot_size = s->slot_size;
	s->hdr->rx_size = s->rx_size;
	s->hdr->tx_size = s->tx_size;
	s->hdr->seg_size = s->seg_size;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	s->slot_gen = calloc(s->nslots, sizeof(*s->slot_gen));
	s->db_fd = malloc(IPC_DOORBELLS * sizeof(int));
	s->free_slots = malloc(s->nslots * sizeof(*s->free_slots));
	s->slot_warm = calloc(s->nslots, sizeof(*s->slot_warm));
	if (!s->slots || !s->slot_gen || !s->db_fd || !s->free_slots || !s->slot_warm)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nslots; i++)
		s->free_slots[i] = s->nslots - 1 - i; /* slot 0 on top */
	s->nfree = s->nslots;
	for (unsigned int i = 0; i < IPC_DOORBELLS; i++)
		s->db_fd[i] = -1;
	return 0;
}

/*
 * Take a reference to the session whose segment @fd is, if it is one. The
 * file is named by device and inode together: memfds' inode numbers are
 * small and sequential, and any user can make a file with a chosen one on
 * another file system (create files in a tmpfs until the counter gets
 * there); by inode number alone, that file would open the sockets of the
 * session it collides with. While usnetd holds the memfd its inode stays
 * allocated, so (dev, ino) names it and nothing else.
 */
static struct session *find_inherited(struct session_table *t, int fd)
{
	struct session *found = NULL;
	struct stat stb;

	if (fstat(fd, &stb) < 0)
		return NULL;
	pthread_mutex_lock(&t->new_lock);
	for (uint32_t id = 1; id < SESSION_MAX && !found; id++) {
		struct session *s = t->sess[id];

		if (s && s->dev == stb.st_dev && s->ino == stb.st_ino &&
		    atomic_load(&s->refs) > 0) {
			atomic_fetch_add(&s->refs, 1);
			found = s;
		}
	}
	pthread_mutex_unlock(&t->new_lock);
	return found;
}

/* An id is reserved at hello and the session enters the table only when the
 * worker adopts it: the worker never sees a half-built session. */
static uint32_t session_id_alloc(struct session_table *t)
{
	uint32_t id = 0;

	pthread_mutex_lock(&t->new_lock);
	for (uint32_t i = 1; i < SESSION_MAX; i++) {
		if (!t->reserved[i]) {
			t->reserved[i] = true;
			id = i;
			break;
		}
	}
	pthread_mutex_unlock(&t->new_lock);
	return id;
}

int session_hello(struct ctl_server *srv, struct ctl_client *c, struct worker *w,
		  const void *msg, size_t len, int *fds, unsigned int nfds)
{
	struct session_table *t = &w->sessions;
	struct ctl_hello_rep rep = { 0 };
	struct ctl_hello hello;
	struct ipc_hdr h;
	struct session *s;
	int rc, out[2];

	memcpy(&h, msg, sizeof(h));
	rc = ctl_msg_check(msg, len);
	if (rc) {
		/* The reply's header carries the version usnetd speaks. */
		send_reply(c->fd, &h, rc, NULL, 0, NULL, 0);
		goto err_fds;
	}
	memcpy(&hello, (const uint8_t *)msg + sizeof(h), sizeof(hello));
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto err_reply;
	}
	s->chan_fd = -1;
	s->memfd = -1;
	s->pid = c->pid;
	s->uid = c->uid;
	s->gid = c->gid;
	s->pidfd = -1;
	memcpy(s->comm, hello.comm, sizeof(s->comm) - 1);
	for (size_t i = 0; i < sizeof(s->comm) && s->comm[i]; i++)
		if (s->comm[i] < ' ' || s->comm[i] > '~')
			s->comm[i] = '?';
	atomic_init(&s->refs, 1); /* the channel */
	s->id = session_id_alloc(t);
	if (!s->id) {
		rc = -EMFILE;
		free(s);
		goto err_reply;
	}
	/* The process that connected, pinned: requests judged on the caller
	 * (a bind below 1024) need it alive, so that its pid is still its
	 * own (session_is_caller()). If it is gone already, nothing is. */
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	/* From the reply on, the kernel stamps every request with its
	 * sender's pid (SCM_CREDENTIALS), which the channel alone does not
	 * tell: it may be inherited by, or passed to, another process. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0) {
		rc = -errno;
		goto err_sess;
	}
	rc = seg_create(s, w);
	if (rc)
		goto err_sess;
	for (unsigned int i = 0; i < nfds && s->ninherit < SESSION_INHERIT_MAX; i++) {
		struct session *inh = find_inherited(t, fds[i]);

		if (inh)
			s->inherit[s->ninherit++] = inh;
	}
	rep.session = s->id;
	rep.nslots = s->nslots;
	rep.seg_size = s->seg_size;
	rep.rx_size = s->rx_size;
	rep.tx_size = s->tx_size;
	rep.slot_size = s->slot_size;
	rep.inherited = s->ninherit;
	out[0] = s->memfd;
	out[1] = w->wake_fd;
	/* From here on only the worker may drop the session (it may hold
	 * inherited references): it adopts it even if the reply is lost, and
	 * then drops it at once. */
	rc = send_reply(c->fd, &h, 0, &rep, sizeof(rep), out, 2);
	if (!rc)
		s->chan_fd = ctl_client_detach(srv, c);
	log_debug("session %u: pid %d uid %u %s, %u inherited segment(s)", s->id, (int)s->pid,
		  (unsigned int)s->uid, s->comm, s->ninherit);
	pthread_mutex_lock(&t->new_lock);
	s->next_new = t->new_head;
	t->new_head = s;
	pthread_mutex_unlock(&t->new_lock);
	if (eventfd_write(w->wake_fd, 1) < 0)
		log_ratelimited(LOG_LVL_ERR, "session: eventfd_write: %s", strerror(errno));
	goto err_fds;
err_sess:
	log_ratelimited(LOG_LVL_WARN, "session for pid %d uid %u: %s", (int)c->pid,
			(unsigned int)c->uid, strerror(-rc));
	session_put(w, s);
err_reply:
	send_reply(c->fd, &h, rc, NULL, 0, NULL, 0);
err_fds:
	ipc_fds_close(fds, nfds);
	return rc;
}

/* --- the channel (worker) --------------------------------------------------------- */

static void chan_arm(struct worker *w, struct session *s)
{
	struct io_uring_sqe *sqe;

	if (s->chan_armed || s->chan_fd < 0)
		return;
	sqe = worker_get_sqe(w);
	if (!sqe)
		return;
	io_uring_prep_poll_multishot(sqe, s->chan_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, uring_ud(UD_CHAN, s->id));
	s->chan_armed = true;
}

void session_adopt_new(struct worker *w)
{
	struct session_table *t = &w->sessions;
	struct session *list;

	if (!atomic_load_explicit((_Atomic(struct session *) *)&t->new_head,
				  memory_order_relaxed))
		return;
	pthread_mutex_lock(&t->new_lock);
	list = t->new_head;
	t->new_head = NULL;
	pthread_mutex_unlock(&t->new_lock);
	while (list) {
		struct session *s = list;

		list = s->next_new;
		pthread_mutex_lock(&t->new_lock);
		t->sess[s->id] = s;
		t->nsess++;
		pthread_mutex_unlock(&t->new_lock);
		if (s->chan_fd < 0)
			session_put(w, s);
		else
			chan_arm(w, s);
	}
}

static void chan_close(struct worker *w, struct session *s)
{
	if (s->chan_fd < 0)
		return;
	close(s->chan_fd);
	s->chan_fd = -1;
	/* Its doorbells go with the process; sockets homed here stay while
	 * other processes (forked children) hold them. */
	for (unsigned int i = 0; i < IPC_DOORBELLS; i++) {
		if (s->db_fd[i] >= 0) {
			close(s->db_fd[i]);
			s->db_fd[i] = -1;
		}
	}
	session_put(w, s);
}

static int req_doorbell(struct session *s, const struct ctl_doorbell *d, int *fds,
			unsigned int *nfds)
{
	int fd;

	if (d->index >= IPC_DOORBELLS || *nfds != 1 || !ipc_fd_is_anon(fds[0], "eventfd"))
		return -EINVAL;
	fd = fds[0];
	*nfds = 0;
	/* Writes must never block the worker (the counter could be near
	 * its maximum); the flag is the client's too, and it polls anyway. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (s->db_fd[d->index] >= 0)
		close(s->db_fd[d->index]);
	s->db_fd[d->index] = fd;
	return 0;
}

static void chan_request(struct worker *w, struct session *s, const uint8_t *msg, size_t len,
			 int *fds, unsigned int nfds, pid_t sender)
{
	struct ctl_sock_rep rep;
	struct ctl_sock_req req;
	struct ipc_hdr h;
	int rc, ph[CTL_SOCKET_MAX];
	unsigned int nph = 0;
	size_t blen = 0;

	_Static_assert(CTL_SOCKET_MAX <= IPC_FDS_MAX, "one message carries CTL_SOCKET's fds");

	w->stats.ctl_requests++;
	if (len < sizeof(h)) {
		rc = -EINVAL;
		goto out_close;
	}
	memcpy(&h, msg, sizeof(h));
	rc = ctl_msg_check(msg, len);
	if (rc)
		goto reply;
	memset(&rep, 0, sizeof(rep));
	switch (h.type) {
	case CTL_DOORBELL: {
		struct ctl_doorbell d;

		memcpy(&d, msg + sizeof(h), sizeof(d));
		rc = req_doorbell(s, &d, fds, &nfds);
		break;
	}
	case CTL_HELLO:
		rc = -EISCONN;
		break;
	case CTL_SOCKET:
		memcpy(&req, msg + sizeof(h), sizeof(req));
		rc = shimsock_socket(w, s, &req, &rep, ph, &nph);
		blen = sizeof(rep);
		break;
	case CTL_CLAIM:
		memcpy(&req, msg + sizeof(h), sizeof(req));
		ph[0] = -1;
		rc = shimsock_claim(w, s, &req, nfds == 1 ? fds[0] : -1, &rep, &ph[0]);
		nph = ph[0] >= 0;
		blen = sizeof(rep);
		break;
	default:
		memcpy(&req, msg + sizeof(h), sizeof(req));
		ph[0] = -1;
		rc = shimsock_request(w, s, h.type, &req, &rep, &ph[0], sender);
		nph = ph[0] >= 0;
		blen = sizeof(rep);
		break;
	}
reply:
	if (send_reply(s->chan_fd, &h, rc, &rep, rc < 0 ? 0 : blen, ph, nph) < 0) {
		log_ratelimited(LOG_LVL_INFO, "session %u (pid %d): reply lost: %s", s->id,
				(int)s->pid, strerror(errno));
		chan_close(w, s);
	}
	ipc_fds_close(ph, nph);
out_close:
	ipc_fds_close(fds, nfds);
}

/* Control data of one request: its descriptors and its sender's credentials. */
union chan_cmsg {
	struct cmsghdr h;
	uint8_t b[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX) + CMSG_SPACE(sizeof(struct ucred))];
};

/* The pid the kernel stamped on @mh (SCM_CREDENTIALS), or 0. */
static pid_t msg_sender(struct msghdr *mh)
{
	for (struct cmsghdr *ch = CMSG_FIRSTHDR(mh); ch; ch = CMSG_NXTHDR(mh, ch)) {
		struct ucred uc;

		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_CREDENTIALS ||
		    ch->cmsg_len < CMSG_LEN(sizeof(uc)))
			continue;
		memcpy(&uc, CMSG_DATA(ch), sizeof(uc));
		return uc.pid;
	}
	return 0;
}

void session_chan_ready(struct worker *w, uint32_t id, int res, bool more)
{
	struct session *s = session_get(w, id);
	uint64_t buf[(sizeof(struct ipc_hdr) + sizeof(struct ctl_sock_req)) / 8 + 8];

	if (!s)
		return;
	if (!more)
		s->chan_armed = false;
	if (res < 0)
		return; /* cancelled at shutdown */
	for (unsigned int n = 0; s->chan_fd >= 0 && n < 64; n++) {
		union chan_cmsg cm;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
				     .msg_controllen = sizeof(cm.b) };
		int fds[IPC_FDS_MAX];
		unsigned int nfds;
		ssize_t r;

		r = recvmsg(s->chan_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r <= 0) {
			chan_close(w, s);
			return;
		}
		nfds = ipc_fds_take(&mh, fds, IPC_FDS_MAX);
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
			ipc_fds_close(fds, nfds);
			log_ratelimited(LOG_LVL_WARN, "session %u (pid %d): oversized request; closed",
					s->id, (int)s->pid);
			chan_close(w, s);
			return;
		}
		chan_request(w, s, (const uint8_t *)buf, (size_t)r, fds, nfds, msg_sender(&mh));
	}
	s = session_get(w, id);
	if (s)
		chan_arm(w, s);
}

/* --- kicks, sleeping, doorbells (worker) ------------------------------------------ */

unsigned int session_kicks(struct worker *w)
{
	struct session_table *t = &w->sessions;
	unsigned int n = 0;

	for (uint32_t id = 1, seen = 0; id < SESSION_MAX && seen < t->nsess; id++) {
		struct session *s = t->sess[id];
		uint64_t sum;

		if (!s || !s->hdr)
			continue;
		seen++;
		if (!atomic_load_explicit(&s->hdr->kick_summary, memory_order_relaxed))
			continue;
		sum = atomic_exchange(&s->hdr->kick_summary, 0);
		while (sum) {
			unsigned int wi = (unsigned int)__builtin_ctzll(sum);
			uint64_t bits;

			sum &= sum - 1;
			if (wi >= (s->nslots + 63) / 64)
				continue;
			bits = atomic_exchange(&s->hdr->kick[wi], 0);
			while (bits) {
				uint32_t slot = wi * 64 + (uint32_t)__builtin_ctzll(bits);

				bits &= bits - 1;
				if (slot < s->nslots && s->slots[slot]) {
					shimsock_kick(w, s, slot);
					n++;
				}
			}
		}
	}
	return n;
}

bool session_set_sleeping(struct worker *w, bool sleeping)
{
	struct session_table *t = &w->sessions;
	bool kicked = false;

	for (uint32_t id = 1, seen = 0; id < SESSION_MAX && seen < t->nsess; id++) {
		struct session *s = t->sess[id];

		if (!s || !s->hdr)
			continue;
		seen++;
		atomic_store(&s->hdr->worker_sleeping, sleeping ? 1u : 0u);
	}
	if (!sleeping)
		return false;
	/* doorbell.h: the flag is set before the last look at the kicks. */
	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t id = 1, seen = 0; id < SESSION_MAX && seen < t->nsess && !kicked; id++) {
		struct session *s = t->sess[id];

		if (!s || !s->hdr)
			continue;
		seen++;
		kicked = atomic_load(&s->hdr->kick_summary) != 0;
	}
	if (kicked)
		session_set_sleeping(w, false);
	return kicked;
}

void session_ring_doorbell(struct session *s, uint32_t db)
{
	if (db >= IPC_DOORBELLS || s->db_fd[db] < 0 || !ipc_db_ring(s->hdr, db))
		return;
	if (eventfd_write(s->db_fd[db], 1) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_LVL_INFO, "session %u: doorbell %u: %s", s->id, db,
				strerror(errno));
}

/* --- slots ------------------------------------------------------------------------- */

int session_slot_alloc(struct session *s)
{
	struct ipc_sock *ss;
	uint32_t i;

	if (!s->nfree)
		return -EMFILE;
	i = s->free_slots[--s->nfree];
	s->slot_warm[i] = SLOT_COLD; /* a live socket's rings: shimsock_reclaim() */
	ss = session_slot(s, i);
	memset(ss, 0, sizeof(*ss));
	ss->id = s->id << 16 | i;
	ss->gen = ++s->slot_gen[i];
	s->slots_used++;
	return (int)i;
}

int session_slot_punch(struct session *s, uint32_t slot)
{
	uint64_t off = ipc_seg_slot_off(s->slot_size, slot);
	int rc;

	if (fallocate(s->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(off + IPC_PAGE),
		      (off_t)(s->slot_size - IPC_PAGE)) == 0)
		return 0;
	rc = -errno;
	log_ratelimited(LOG_LVL_WARN, "session %u: punching slot %u: %s", s->id, slot,
			strerror(-rc));
	return rc;
}

void session_slot_free(struct session *s, uint32_t slot)
{
	s->slots[slot] = NULL;
	s->slots_used--;
	s->free_slots[s->nfree++] = slot;
	/* The page with the state stays, so that a process still holding a
	 * stale handle reads GONE; the rings' pages go back to the kernel
	 * once the slot has stayed free a while (session_slots_cool()). */
	atomic_store(&session_slot(s, slot)->state, IPC_SOCK_GONE);
	s->slot_warm[slot] = SLOT_WARM;
}

bool session_slots_cool(struct session *s)
{
	bool warm = false;

	for (uint32_t n = 0; n < s->nfree; n++) {
		uint32_t i = s->free_slots[n];

		if (s->slot_warm[i] == SLOT_WARM) {
			s->slot_warm[i] = SLOT_COOLING;
			warm = true;
		} else if (s->slot_warm[i] == SLOT_COOLING) {
			if (session_slot_punch(s, i) == 0)
				s->slot_warm[i] = SLOT_COLD;
			else
				warm = true;
		}
	}
	return warm;
}
