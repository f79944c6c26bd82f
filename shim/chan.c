// SPDX-License-Identifier: MIT
/*
 * The control channel to usnetd: connect and hello (version check, the
 * segment and the worker's eventfd arrive with SCM_RIGHTS), requests and
 * replies, and the fork hand-over: a child opens its own channel and
 * names the segments it inherited by passing their memfds, so that usnetd
 * lets it act on the sockets it inherited.
 *
 * Requests are serialised by shim_proc.lock: they are the slow path. No
 * lock is held across fork (the child re-initialises it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/fdpass.h"
#include "shim.h"

struct shim_proc shim_proc;

static const char *control_path(void)
{
	return shim_proc.control[0] ? shim_proc.control : IPC_DEFAULT_CONTROL;
}

int shim_seg_map(struct shim_seg *g, const struct ctl_hello_rep *rep, int memfd)
{
	void *base = mmap(NULL, rep->seg_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);

	if (base == MAP_FAILED)
		return -errno;
	g->base = base;
	g->hdr = base;
	g->size = rep->seg_size;
	g->slot_size = rep->slot_size;
	g->rx_size = rep->rx_size;
	g->tx_size = rep->tx_size;
	g->session = rep->session;
	g->nslots = rep->nslots;
	g->memfd = memfd;
	return 0;
}

/* One message out (with @fds), one reply in (with up to @maxr fds). */
static int xfer(int chan, const void *msg, size_t len, const int *fds, unsigned int nfds,
		void *reply, size_t rlen, int *rfds, unsigned int maxr, unsigned int *nrfds)
{
	union ipc_fds_cmsg cm;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	ipc_fds_attach(&mh, &cm, fds, nfds);
	do
		n = SHIM_REAL(sendmsg)(chan, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	iov.iov_base = reply;
	iov.iov_len = rlen;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	do
		n = SHIM_REAL(recvmsg)(chan, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	*nrfds = ipc_fds_take(&mh, rfds, maxr);
	return (int)n;
}

static int hello(void)
{
	struct {
		struct ipc_hdr h;
		struct ctl_hello b;
	} req = { 0 };
	struct {
		struct ipc_hdr h;
		struct ctl_hello_rep b;
	} rep;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fds[SHIM_SEGS_MAX], rfds[2], chan, rc;
	unsigned int nfds = 0, nr = 0;
	const char *path = control_path();

	chan = SHIM_REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (chan < 0)
		return -errno;
	/* A child keeps its descriptor numbers out of the program's way. */
	if (chan < 100) {
		int hi = SHIM_REAL(fcntl)(chan, F_DUPFD_CLOEXEC, 100);

		if (hi >= 0) {
			SHIM_REAL(close)(chan);
			chan = hi;
		}
	}
	memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
	if (SHIM_REAL(connect)(chan, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto err;
	}
	req.h.magic = IPC_MAGIC;
	req.h.version = IPC_VERSION;
	req.h.type = CTL_HELLO;
	req.h.seq = ++shim_proc.seq;
	req.h.len = sizeof(req);
	req.b.pid = (uint32_t)getpid();
	strncpy(req.b.comm, program_invocation_short_name, sizeof(req.b.comm) - 1);
	/* usnetd grants at most IPC_FDS_MAX inherited segments. */
	for (unsigned int i = 0; i < shim_proc.nsegs && nfds < IPC_FDS_MAX; i++)
		fds[nfds++] = shim_proc.segs[i].memfd;
	rc = xfer(chan, &req, sizeof(req), fds, nfds, &rep, sizeof(rep), rfds, 2, &nr);
	if (rc < 0)
		goto err;
	if ((size_t)rc < sizeof(rep.h) || rep.h.magic != IPC_MAGIC) {
		rc = -EPROTO;
		goto err_fds;
	}
	if (rep.h.version != IPC_VERSION || rep.h.status == -EPROTONOSUPPORT) {
		shim_log("usnetd speaks protocol version %u, this libusnet %u: upgrade one of them",
			 rep.h.version, IPC_VERSION);
		rc = -EPROTONOSUPPORT;
		goto err_fds;
	}
	if (rep.h.status) {
		rc = rep.h.status;
		goto err_fds;
	}
	if ((size_t)rc != sizeof(rep) || nr != 2) {
		rc = -EPROTO;
		goto err_fds;
	}
	/* Our own segment goes last, behind the inherited ones, which stay
	 * where they are: the sockets we inherited point at their entries
	 * (shim_own_seg()). */
	if (shim_proc.nsegs == SHIM_SEGS_MAX) {
		rc = -EMFILE;
		goto err_fds;
	}
	rc = shim_seg_map(&shim_proc.segs[shim_proc.nsegs], &rep.b, rfds[0]);
	if (rc)
		goto err_fds;
	shim_proc.own = shim_proc.nsegs++;
	memset(shim_proc.db_used, 0, sizeof(shim_proc.db_used));
	if (shim_proc.wake_fd >= 0)
		SHIM_REAL(close)(shim_proc.wake_fd);
	shim_proc.wake_fd = rfds[1];
	shim_proc.chan_fd = chan;
	return 0;
err_fds:
	for (unsigned int i = 0; i < nr; i++)
		SHIM_REAL(close)(rfds[i]);
err:
	SHIM_REAL(close)(chan);
	return rc;
}

int shim_chan_ready(void)
{
	int rc = 0;

	if (shim_proc.chan_fd >= 0)
		return 0;
	pthread_mutex_lock(&shim_proc.lock);
	if (shim_proc.chan_fd < 0) {
		rc = hello();
		if (rc && !shim_proc.failed) {
			shim_proc.failed = true;
			if (rc == -ENOENT || rc == -ECONNREFUSED)
				shim_log("usnetd is not running (no control socket at %s)",
					 control_path());
			else if (rc != -EPROTONOSUPPORT)
				shim_log("cannot reach usnetd at %s: %s", control_path(),
					 strerror(-rc));
		}
	}
	pthread_mutex_unlock(&shim_proc.lock);
	return rc;
}

int shim_request_fds(uint16_t type, const void *body, size_t len, int fd_in, void *rep,
		     size_t replen, int *fds, unsigned int max, unsigned int *nfds)
{
	struct {
		struct ipc_hdr h;
		uint8_t b[sizeof(struct ctl_sock_req)];
	} req;
	struct {
		struct ipc_hdr h;
		uint8_t b[sizeof(struct ctl_sock_rep)];
	} r;
	int rc;

	*nfds = 0;
	if (len > sizeof(req.b) || replen > sizeof(r.b) || max > IPC_FDS_MAX)
		return -EINVAL;
	rc = shim_chan_ready();
	if (rc)
		return rc;
	memset(&req.h, 0, sizeof(req.h));
	req.h.magic = IPC_MAGIC;
	req.h.version = IPC_VERSION;
	req.h.type = type;
	req.h.len = (uint32_t)(sizeof(req.h) + len);
	memcpy(req.b, body, len);
	pthread_mutex_lock(&shim_proc.lock);
	req.h.seq = ++shim_proc.seq;
	rc = xfer(shim_proc.chan_fd, &req, sizeof(req.h) + len, &fd_in, fd_in >= 0, &r, sizeof(r),
		  fds, max, nfds);
	pthread_mutex_unlock(&shim_proc.lock);
	if (rc < 0) {
		/* usnetd went away: sockets fail as if the network had. */
		if (rc == -ECONNRESET || rc == -EPIPE) {
			atomic_store(&shim_proc.gone, true);
			rc = -ENETDOWN;
		}
		return rc;
	}
	if ((size_t)rc < sizeof(r.h) || r.h.seq != req.h.seq)
		rc = -EPROTO;
	else
		rc = r.h.status;
	if (rc) {
		for (unsigned int i = 0; i < *nfds; i++)
			SHIM_REAL(close)(fds[i]);
		*nfds = 0;
		return rc;
	}
	if (rep)
		memcpy(rep, r.b, replen);
	return 0;
}

int shim_request(uint16_t type, const void *body, size_t len, int fd_in, void *rep,
		 size_t replen, int *fd_out)
{
	unsigned int nr;
	int fd, rc;

	rc = shim_request_fds(type, body, len, fd_in, rep, replen, &fd, fd_out ? 1 : 0, &nr);
	if (fd_out && nr)
		*fd_out = fd;
	return rc;
}

struct shim_seg *shim_seg_by_session(uint32_t session)
{
	for (unsigned int i = 0; i < shim_proc.nsegs; i++)
		if (shim_proc.segs[i].session == session)
			return &shim_proc.segs[i];
	return NULL;
}

/*
 * pthread_atfork child handler: the child shares the parent's channel
 * (the same connection) and must not speak on it; it opens its own at its
 * next request, passing the segments it inherited. The parent's doorbell
 * eventfds are the parent's: the child's threads make their own.
 */
void shim_fork_child(void)
{
	pthread_mutex_init(&shim_proc.lock, NULL);
	if (shim_proc.chan_fd >= 0)
		SHIM_REAL(close)(shim_proc.chan_fd);
	shim_proc.chan_fd = -1;
	shim_proc.pid = getpid();
	shim_proc.failed = false;
	shim_wait_fork_child();
	shim_epoll_fork_child();
	shim_stock_fork_child();
}
