// SPDX-License-Identifier: MIT
/*
 * forge: a hostile libusnet client. It speaks usnetd's control protocol
 * (ipc/ctl_msg.h, ipc/seg.h) directly, without libusnet, and tries what
 * usnetd must refuse: requests naming sockets of other sessions, stale
 * generations, garbage identifiers, malformed records, segments that are
 * not its own, watch entries that name another process's doorbell, and a
 * privileged bind judged on someone else's capabilities
 * (tests/integration/shim_security.sh).
 *
 *   forge CONTROL ids          forged, stale and garbage socket identifiers,
 *                              malformed requests, on two sessions of its own
 *   forge CONTROL sweep N      from a fresh session, every (session, slot,
 *                              gen) with session <= N that is not its own:
 *                              all refused (reaches other processes' sockets)
 *   forge CONTROL segs DIR     hello passing segments that are not ours: our
 *                              own memfd dressed as a segment, descriptors of
 *                              other kinds, and a file in DIR (another
 *                              file system) with the inode number of a real
 *                              segment
 *   forge CONTROL doorbell     a watch entry naming another session's doorbell
 *   forge CONTROL bindas UID   (as root) a child that became UID sends a bind
 *                              below 1024 on its parent's channel; then the
 *                              parent, with real uid UID and effective uid 0
 *                              (a set-user-ID image), sends one
 *   forge openfd PID FD        open /proc/PID/fd/FD (another process's segment)
 *
 * Each check prints "ok: ..." or "FAIL: ...", with what usnetd answered.
 * A FAIL is either something accepted that must be refused, or a positive
 * control that did not work (so that a refusal is not mistaken for the
 * protocol simply being spoken wrong). Exit status: 0 when every check
 * passed, 1 when one failed, 2 when the tool could not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ctl_msg.h"
#include "ipc/doorbell.h"
#include "ipc/fdpass.h"
#include "ipc/seg.h"

#define NO_REPLY 1000 /* req(): usnetd closed the channel or said nothing */

static int failures;
static const char *control;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf(cond ? "ok: " : "FAIL: ");
	if (!cond)
		failures++;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "forge: %s: %s\n", what, strerror(errno));
	exit(2);
}

static const char *err_name(int rc)
{
	static char buf[64];

	if (rc == 0)
		return "accepted";
	if (rc == -NO_REPLY)
		return "no reply";
	snprintf(buf, sizeof(buf), "%s", strerror(-rc));
	return buf;
}

/* --- one control channel, as libusnet opens it ------------------------------------ */

struct chan {
	int fd;
	uint32_t seq;
	struct ctl_hello_rep rep;
	int memfd, wake_fd;
	uint8_t *base;
};

static struct ipc_seg_hdr *seg_hdr(const struct chan *c)
{
	return (struct ipc_seg_hdr *)c->base;
}

static struct ipc_sock *seg_slot(const struct chan *c, uint32_t slot)
{
	return (struct ipc_sock *)(c->base + ipc_seg_slot_off(c->rep.slot_size, slot));
}

/* Send @len bytes of @msg (with @fds); wait up to 2 s for one reply into
 * @rep. Return: the reply's length, 0 if the channel closed, -1 if no
 * reply came. */
static ssize_t xfer(struct chan *c, const void *msg, size_t len, const int *fds, unsigned int nfds,
		    void *rep, size_t rlen, int *rfds, unsigned int *nrfds)
{
	union ipc_fds_cmsg cm;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	ipc_fds_attach(&mh, &cm, fds, nfds);
	if (sendmsg(c->fd, &mh, MSG_NOSIGNAL) < 0)
		return 0;
	if (poll(&p, 1, 2000) != 1)
		return -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = rep;
	iov.iov_len = rlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return 0;
	*nrfds = ipc_fds_take(&mh, rfds, 2);
	return n;
}

static void hdr_init(struct chan *c, struct ipc_hdr *h, uint16_t type, size_t body)
{
	memset(h, 0, sizeof(*h));
	h->magic = IPC_MAGIC;
	h->version = IPC_VERSION;
	h->type = type;
	h->seq = ++c->seq;
	h->len = (uint32_t)(sizeof(*h) + body);
}

/* Connect and say hello, passing @fds as inherited segments. Return: 0 or
 * -errno (the hello's status); the reply is in c->rep. */
static int chan_open(struct chan *c, const int *fds, unsigned int nfds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct {
		struct ipc_hdr h;
		struct ctl_hello b;
	} req;
	struct {
		struct ipc_hdr h;
		struct ctl_hello_rep b;
	} rep;
	int rfds[2];
	unsigned int nr = 0;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	c->memfd = c->wake_fd = -1;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", control);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(control);
	memset(&req, 0, sizeof(req));
	hdr_init(c, &req.h, CTL_HELLO, sizeof(req.b));
	req.b.pid = (uint32_t)getpid();
	snprintf(req.b.comm, sizeof(req.b.comm), "forge");
	n = xfer(c, &req, sizeof(req), fds, nfds, &rep, sizeof(rep), rfds, &nr);
	if (n < (ssize_t)sizeof(rep.h)) {
		ipc_fds_close(rfds, nr);
		return -NO_REPLY;
	}
	if (rep.h.status) {
		ipc_fds_close(rfds, nr);
		return rep.h.status;
	}
	if (n != sizeof(rep) || nr != 2) {
		fprintf(stderr, "forge: hello reply of %zd bytes, %u fds\n", n, nr);
		exit(2);
	}
	c->rep = rep.b;
	c->memfd = rfds[0];
	c->wake_fd = rfds[1];
	c->base = mmap(NULL, c->rep.seg_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->base == MAP_FAILED)
		die("mmap of the segment");
	return 0;
}

static void chan_close(struct chan *c)
{
	if (c->base)
		munmap(c->base, c->rep.seg_size);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = c->memfd = c->wake_fd = -1;
}

/* A raw record: @len bytes of @msg, its header already filled. Return: the
 * reply's status, or -NO_REPLY. */
static int raw(struct chan *c, const void *msg, size_t len, int fd_in)
{
	struct {
		struct ipc_hdr h;
		uint8_t b[sizeof(struct ctl_sock_rep)];
	} r;
	int rfds[2];
	unsigned int nr = 0;
	ssize_t n = xfer(c, msg, len, &fd_in, fd_in >= 0, &r, sizeof(r), rfds, &nr);

	ipc_fds_close(rfds, nr);
	if (n < (ssize_t)sizeof(r.h))
		return -NO_REPLY;
	return r.h.status;
}

/* One well-formed request of @type. Return: its status, or -NO_REPLY; a
 * reply's placeholder goes to *@ph (closed when @ph is NULL). */
static int req(struct chan *c, uint16_t type, const struct ctl_sock_req *body, int fd_in,
	       struct ctl_sock_rep *out, int *ph)
{
	struct {
		struct ipc_hdr h;
		struct ctl_sock_req b;
	} m;
	struct {
		struct ipc_hdr h;
		struct ctl_sock_rep b;
	} r;
	int rfds[2];
	unsigned int nr = 0;
	ssize_t n;

	hdr_init(c, &m.h, type, sizeof(m.b));
	m.b = *body;
	n = xfer(c, &m, sizeof(m), &fd_in, fd_in >= 0, &r, sizeof(r), rfds, &nr);
	if (n < (ssize_t)sizeof(r.h) || r.h.seq != m.h.seq) {
		ipc_fds_close(rfds, nr);
		return -NO_REPLY;
	}
	if (!r.h.status && out && (size_t)n >= sizeof(r))
		*out = r.b;
	if (ph && nr) {
		*ph = rfds[0];
		rfds[0] = rfds[1];
		nr--;
	}
	ipc_fds_close(rfds, nr);
	return r.h.status;
}

static int req_on(struct chan *c, uint16_t type, uint32_t id, uint32_t gen)
{
	struct ctl_sock_req b = { .id = id, .gen = gen };

	return req(c, type, &b, -1, NULL, NULL);
}

struct sock_h {
	uint32_t id, gen, slot;
	int ph;
};

static struct sock_h new_socket(struct chan *c)
{
	struct ctl_sock_req b = { .domain = AF_INET, .type = SOCK_STREAM };
	struct ctl_sock_rep r;
	struct sock_h s = { .ph = -1 };
	int rc = req(c, CTL_SOCKET, &b, -1, &r, &s.ph);

	if (rc || s.ph < 0) {
		fprintf(stderr, "forge: CTL_SOCKET: %s\n", err_name(rc));
		exit(2);
	}
	s.id = r.id;
	s.gen = r.gen;
	s.slot = r.slot;
	return s;
}

/* --- ids ----------------------------------------------------------------------------- */

static const struct {
	uint16_t type;
	const char *name;
} sock_reqs[] = {
	{ CTL_GETNAME, "GETNAME" },
	{ CTL_GETSOCKOPT, "GETSOCKOPT" },
	{ CTL_SETSOCKOPT, "SETSOCKOPT" },
	{ CTL_SHUTDOWN, "SHUTDOWN" },
	{ CTL_ACCEPT, "ACCEPT" },
	{ CTL_CLAIM, "CLAIM" },
	{ CTL_BIND, "BIND" },
	{ CTL_LISTEN, "LISTEN" },
	{ CTL_CONNECT, "CONNECT" },
};

/* A plausible body for each request, so that only the identifier is wrong. */
static struct ctl_sock_req body_for(uint16_t type, uint32_t id, uint32_t gen)
{
	struct ctl_sock_req b = { .id = id, .gen = gen };
	int one = 1;

	switch (type) {
	case CTL_SETSOCKOPT:
	case CTL_GETSOCKOPT:
		b.level = SOL_SOCKET;
		b.name = SO_REUSEADDR;
		b.optlen = sizeof(one);
		memcpy(b.optval, &one, sizeof(one));
		break;
	case CTL_SHUTDOWN:
		b.arg = SHUT_RDWR;
		break;
	case CTL_LISTEN:
		b.arg = 16;
		break;
	case CTL_BIND:
		b.addr.port = htons(40999);
		b.tid = (int32_t)getpid();
		break;
	case CTL_CONNECT:
		b.addr.addr = htonl(0x0a4d0001); /* 10.77.0.1 */
		b.addr.port = htons(9);
		break;
	}
	return b;
}

static void expect_ebadf(struct chan *c, uint16_t type, const char *tname, uint32_t id,
			 uint32_t gen, const char *what)
{
	struct ctl_sock_req b = body_for(type, id, gen);
	int ph = -1, rc = req(c, type, &b, -1, NULL, &ph);

	if (ph >= 0)
		close(ph);
	check(rc == -EBADF, "%s naming %s (id %#x gen %u): %s", tname, what, id, gen, err_name(rc));
}

/* Wait until (id, gen) is refused on @c: usnetd frees a slot when it sees
 * the placeholder hang up, asynchronously. */
static int wait_gone(struct chan *c, uint32_t id, uint32_t gen)
{
	int rc = 0;

	for (int i = 0; i < 200; i++) {
		rc = req_on(c, CTL_GETNAME, id, gen);
		if (rc == -EBADF)
			break;
		usleep(10000);
	}
	return rc;
}

static void mode_ids(void)
{
	struct chan v, a;
	struct sock_h s, s2 = { .ph = -1 };
	uint32_t vs, as, nslots;
	char what[96];
	int rc;

	if ((rc = chan_open(&v, NULL, 0)) || (rc = chan_open(&a, NULL, 0))) {
		fprintf(stderr, "forge: hello: %s\n", err_name(rc));
		exit(2);
	}
	vs = v.rep.session;
	as = a.rep.session;
	nslots = v.rep.nslots;
	printf("sessions: victim %u, attacker %u, %u slots\n", vs, as, nslots);
	s = new_socket(&v);

	/* Positive controls: the victim's own requests on its socket work. */
	rc = req_on(&v, CTL_GETNAME, s.id, s.gen);
	check(rc == 0, "victim's GETNAME on its own socket %#x gen %u: %s", s.id, s.gen,
	      err_name(rc));
	{
		struct ctl_sock_req b = body_for(CTL_GETSOCKOPT, s.id, s.gen);

		rc = req(&v, CTL_GETSOCKOPT, &b, -1, NULL, NULL);
		check(rc == 0, "victim's GETSOCKOPT on its own socket: %s", err_name(rc));
	}

	/* Another session names the victim's live socket, exactly. */
	for (size_t i = 0; i < sizeof(sock_reqs) / sizeof(sock_reqs[0]); i++)
		expect_ebadf(&a, sock_reqs[i].type, sock_reqs[i].name, s.id, s.gen,
			     "another session's live socket");

	/* Wrong generations of a live socket, from its own session and another. */
	{
		const uint32_t gens[] = { s.gen + 1, s.gen - 1, 0, UINT32_MAX,
					  s.gen ^ 0x80000000u };

		for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
			expect_ebadf(&v, CTL_GETNAME, "GETNAME", s.id, gens[i],
				     "its own live socket with a wrong gen");
			expect_ebadf(&a, CTL_SETSOCKOPT, "SETSOCKOPT", s.id, gens[i],
				     "another session's socket with a wrong gen");
		}
	}

	/* Garbage identifiers. */
	{
		const uint32_t ids[] = {
			0,
			UINT32_MAX,
			0xffffu << 16,
			4096u << 16 | s.slot, /* session id SESSION_MAX */
			vs << 16 | 0xffffu,
			vs << 16 | nslots,
			vs << 16 | (s.slot + 1), /* a free slot of the victim */
			as << 16 | s.slot, /* a free slot of our own */
			(vs ^ as) << 16 | s.slot,
		};

		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			snprintf(what, sizeof(what), "garbage %zu", i);
			expect_ebadf(&a, CTL_GETNAME, "GETNAME", ids[i], 1, what);
			expect_ebadf(&a, CTL_LISTEN, "LISTEN", ids[i], s.gen, what);
		}
	}

	/* Stale: the victim closes its socket; its handle dies with it... */
	close(s.ph);
	rc = wait_gone(&v, s.id, s.gen);
	check(rc == -EBADF, "GETNAME on a closed socket's old handle: %s", err_name(rc));
	/* ...and stays dead when the slot is given to a new socket. */
	s2.slot = UINT32_MAX;
	for (uint32_t n = 0; n < 2 * nslots && s2.slot != s.slot; n++) {
		s2 = new_socket(&v);
		if (s2.slot != s.slot)
			close(s2.ph);
	}
	if (s2.slot == s.slot) {
		rc = req_on(&v, CTL_GETNAME, s2.id, s2.gen);
		check(rc == 0 && s2.gen != s.gen,
		      "slot %u reused: new socket gen %u (old %u) answers: %s", s2.slot, s2.gen,
		      s.gen, err_name(rc));
		expect_ebadf(&v, CTL_GETNAME, "GETNAME", s.id, s.gen,
			     "a reused slot with the old gen (own session)");
		expect_ebadf(&v, CTL_SETSOCKOPT, "SETSOCKOPT", s.id, s.gen,
			     "a reused slot with the old gen (own session)");
		expect_ebadf(&a, CTL_GETNAME, "GETNAME", s2.id, s2.gen,
			     "another session's reused slot, current gen");
		close(s2.ph);
	} else {
		check(false, "slot %u was not reused within %u sockets", s.slot, 2 * nslots);
	}

	/* Malformed records: refused with an error, and the channel goes on. */
	{
		struct {
			struct ipc_hdr h;
			struct ctl_sock_req b;
		} m;
		uint8_t runt[4] = { 1, 2, 3, 4 };
		int efd;

		memset(&m, 0, sizeof(m));
		hdr_init(&a, &m.h, CTL_GETNAME, sizeof(m.b));
		m.h.magic = 0xdeadbeef;
		rc = raw(&a, &m, sizeof(m), -1);
		check(rc == -EPROTONOSUPPORT, "bad magic: %s", err_name(rc));
		hdr_init(&a, &m.h, CTL_GETNAME, sizeof(m.b));
		m.h.version = IPC_VERSION + 1;
		rc = raw(&a, &m, sizeof(m), -1);
		check(rc == -EPROTONOSUPPORT, "another version: %s", err_name(rc));
		{
			const uint16_t types[] = { 0, 1, CTL_HELLO - 1, CTL__MAX, 0xffff };

			for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
				hdr_init(&a, &m.h, types[i], sizeof(m.b));
				rc = raw(&a, &m, sizeof(m), -1);
				check(rc == -EINVAL, "unknown type %u: %s", types[i], err_name(rc));
			}
		}
		hdr_init(&a, &m.h, CTL_GETNAME, sizeof(m.b));
		m.h.len = 40;
		rc = raw(&a, &m, sizeof(m), -1);
		check(rc == -EINVAL, "a length field that lies: %s", err_name(rc));
		hdr_init(&a, &m.h, CTL_GETNAME, 8);
		rc = raw(&a, &m, sizeof(m.h) + 8, -1);
		check(rc == -EINVAL, "a body too short for its type: %s", err_name(rc));
		hdr_init(&a, &m.h, CTL_HELLO, sizeof(struct ctl_hello));
		rc = raw(&a, &m, sizeof(m.h) + sizeof(struct ctl_hello), -1);
		check(rc == -EISCONN, "a second hello: %s", err_name(rc));
		{
			struct {
				struct ipc_hdr h;
				struct ctl_doorbell b;
			} d;

			memset(&d, 0, sizeof(d));
			efd = eventfd(0, EFD_CLOEXEC);
			hdr_init(&a, &d.h, CTL_DOORBELL, sizeof(d.b));
			d.b.index = IPC_DOORBELLS;
			rc = raw(&a, &d, sizeof(d), efd);
			check(rc == -EINVAL, "doorbell index %u: %s", d.b.index, err_name(rc));
			hdr_init(&a, &d.h, CTL_DOORBELL, sizeof(d.b));
			d.b.index = 1;
			rc = raw(&a, &d, sizeof(d), a.memfd);
			check(rc == -EINVAL, "doorbell that is a memfd, not an eventfd: %s",
			      err_name(rc));
			hdr_init(&a, &d.h, CTL_DOORBELL, sizeof(d.b));
			rc = raw(&a, &d, sizeof(d), -1);
			check(rc == -EINVAL, "doorbell without its eventfd: %s", err_name(rc));
			close(efd);
		}
		/* A runt gets no answer (there is no seq to answer); the next
		 * request does. */
		hdr_init(&a, &m.h, 0, 0);
		rc = raw(&a, runt, sizeof(runt), -1);
		check(rc == -NO_REPLY, "a 4-byte record: %s", err_name(rc));
		{
			struct sock_h t = new_socket(&a);

			rc = req_on(&a, CTL_GETNAME, t.id, t.gen);
			check(rc == 0, "the attacker's channel still works after all that: %s",
			      err_name(rc));
			close(t.ph);
		}
	}
	chan_close(&a);
	chan_close(&v);
}

/* --- sweep ------------------------------------------------------------------------- */

static void mode_sweep(uint32_t max_session)
{
	unsigned int tried = 0, taken = 0;
	struct chan a;
	int rc = chan_open(&a, NULL, 0);

	if (rc) {
		fprintf(stderr, "forge: hello: %s\n", err_name(rc));
		exit(2);
	}
	for (uint32_t sess = 0; sess <= max_session; sess++) {
		if (sess == a.rep.session)
			continue;
		for (uint32_t slot = 0; slot < 16; slot++) {
			for (uint32_t gen = 0; gen < 4; gen++) {
				uint32_t id = sess << 16 | slot;

				rc = req_on(&a, CTL_GETSOCKOPT, id, gen);
				tried++;
				if (rc != -EBADF) {
					taken++;
					printf("FAIL: GETSOCKOPT on session %u slot %u gen %u: %s\n",
					       sess, slot, gen, err_name(rc));
				}
			}
		}
	}
	failures += taken;
	check(!taken, "%u identifiers of sessions 0..%u that are not ours: %u accepted", tried,
	      max_session, taken);
	chan_close(&a);
}

/* --- segs -------------------------------------------------------------------------- */

/* A file in @dir on another file system whose inode number is @ino, made by
 * creating files until the counter gets there. Return: its fd, or -1. */
static int file_with_ino(const char *dir, ino_t ino, dev_t not_dev)
{
	char path[512];
	int found = -1;

	for (unsigned int i = 0; i < 200000 && found < 0; i++) {
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die(path);
		if (fstat(fd, &st) < 0)
			die("fstat");
		if (st.st_ino == ino && st.st_dev != not_dev) {
			found = fd;
			printf("made %s with inode %lu (device %#lx, the segment's %#lx)\n", path,
			       (unsigned long)st.st_ino, (unsigned long)st.st_dev,
			       (unsigned long)not_dev);
			break;
		}
		close(fd);
		if (st.st_ino > ino)
			break; /* this file system's counter is already past it */
	}
	return found;
}

/* Hello passing @fds; then the victim's socket must stay out of reach. */
static void hello_with(const char *what, const int *fds, unsigned int n, const struct sock_h *vs)
{
	struct chan c;
	int rc = chan_open(&c, fds, n);

	if (rc) {
		check(false, "hello with %s: %s", what, err_name(rc));
		return;
	}
	check(c.rep.inherited == 0, "hello with %s: %u segment(s) recognised", what,
	      c.rep.inherited);
	expect_ebadf(&c, CTL_GETNAME, "GETNAME", vs->id, vs->gen, what);
	expect_ebadf(&c, CTL_LISTEN, "LISTEN", vs->id, vs->gen, what);
	chan_close(&c);
}

static void mode_segs(const char *dir)
{
	struct chan v, c;
	struct sock_h s;
	struct stat st;
	int rc, fake, fds[4];

	if ((rc = chan_open(&v, NULL, 0))) {
		fprintf(stderr, "forge: hello: %s\n", err_name(rc));
		exit(2);
	}
	s = new_socket(&v);

	/* Positive control: the segment itself, as a forked child passes it. */
	rc = chan_open(&c, &v.memfd, 1);
	check(!rc && c.rep.inherited == 1, "hello with the victim's own memfd: %u recognised (%s)",
	      c.rep.inherited, err_name(rc));
	if (!rc) {
		rc = req_on(&c, CTL_GETNAME, s.id, s.gen);
		check(rc == 0, "...and its socket answers, as for a forked child: %s",
		      err_name(rc));
		chan_close(&c);
	}

	/* Our own memfd, the segment's size and seals, its header copied. */
	fake = memfd_create("usnet-fake", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fake < 0 || ftruncate(fake, (off_t)IPC_SEG_HDR_SIZE) < 0 ||
	    pwrite(fake, v.base, sizeof(struct ipc_seg_hdr), 0) < 0 ||
	    fcntl(fake, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		die("fake segment");
	hello_with("a memfd of our own with a copy of the victim's header", &fake, 1, &s);

	/* Descriptors of other kinds. */
	fds[0] = v.wake_fd;
	fds[1] = s.ph;
	fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[3] = v.fd;
	hello_with("the worker's eventfd, a placeholder, /dev/null and a channel", fds, 4, &s);
	close(fds[2]);

	/* A file with the segment's inode number on another file system. */
	if (fstat(v.memfd, &st) < 0)
		die("fstat");
	if (dir) {
		int fd = file_with_ino(dir, st.st_ino, st.st_dev);

		if (fd < 0) {
			printf("skip: could not make a file with inode %lu in %s\n",
			       (unsigned long)st.st_ino, dir);
		} else {
			hello_with("another file system's file with the segment's inode number",
				   &fd, 1, &s);
			close(fd);
		}
	}
	close(fake);
	close(s.ph);
	chan_close(&v);
}

/* --- doorbell ---------------------------------------------------------------------- */

static bool readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static int register_doorbell(struct chan *c, uint32_t index, int efd)
{
	struct {
		struct ipc_hdr h;
		struct ctl_doorbell b;
	} d;

	memset(&d, 0, sizeof(d));
	hdr_init(c, &d.h, CTL_DOORBELL, sizeof(d.b));
	d.b.index = index;
	return raw(c, &d, sizeof(d), efd);
}

/* Any event on the socket makes usnetd publish it and ring its watchers. */
static int poke(struct chan *c, const struct sock_h *s)
{
	struct ctl_sock_req b = { .id = s->id,
				  .gen = s->gen,
				  .level = SOL_SOCKET,
				  .name = SO_SNDBUF,
				  .optlen = sizeof(int) };
	int v = 65536;

	memcpy(b.optval, &v, sizeof(v));
	return req(c, CTL_SETSOCKOPT, &b, -1, NULL, NULL);
}

static void mode_doorbell(void)
{
	struct chan v, a;
	struct sock_h s;
	struct ipc_sock *ss;
	int efv, efa, rc;

	if ((rc = chan_open(&v, NULL, 0)) || (rc = chan_open(&a, NULL, 0))) {
		fprintf(stderr, "forge: hello: %s\n", err_name(rc));
		exit(2);
	}
	efv = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efa = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = register_doorbell(&v, 3, efv);
	check(rc == 0, "victim registers doorbell 3: %s", err_name(rc));
	rc = register_doorbell(&a, 1, efa);
	check(rc == 0, "attacker registers doorbell 1: %s", err_name(rc));
	s = new_socket(&a);
	ss = seg_slot(&a, s.slot);

	/* Positive control: our own doorbell, named in our socket's watch list. */
	atomic_store(&ss->watch[0], ipc_watch_entry(a.rep.session, 1));
	ipc_db_arm(seg_hdr(&a), 1);
	rc = poke(&a, &s);
	check(rc == 0 && readable_within(efa, 2000),
	      "an event on our socket rings our own doorbell (%s)", err_name(rc));

	/* The victim sleeps on doorbell 3; our socket's watch list names it. */
	ipc_db_arm(seg_hdr(&v), 3);
	atomic_store(&ss->watch[0], ipc_watch_entry(v.rep.session, 3));
	atomic_store(&ss->watch[1], ipc_watch_entry(v.rep.session, 3));
	rc = poke(&a, &s);
	check(rc == 0, "event on our socket: %s", err_name(rc));
	check(!readable_within(efv, 500) && atomic_load(&seg_hdr(&v)->doorbell[3]) == IPC_DB_ARMED,
	      "the victim's doorbell is not rung by our socket's events (state %u)",
	      atomic_load(&seg_hdr(&v)->doorbell[3]));
	close(s.ph);
	close(efv);
	close(efa);
	chan_close(&a);
	chan_close(&v);
}

/* --- bindas ------------------------------------------------------------------------ */

static int bind_req(struct chan *c, const struct sock_h *s, uint16_t port, pid_t tid)
{
	struct ctl_sock_req b = { .id = s->id, .gen = s->gen, .tid = (int32_t)tid };

	b.addr.port = htons(port);
	return req(c, CTL_BIND, &b, -1, NULL, NULL);
}

static void mode_bindas(uid_t uid)
{
	struct chan p;
	struct sock_h s1, s2, s3, s4, s5;
	pid_t child, parent = getpid();
	int rc, st;

	if (geteuid() != 0) {
		fprintf(stderr, "forge: bindas needs root\n");
		exit(2);
	}
	if ((rc = chan_open(&p, NULL, 0))) {
		fprintf(stderr, "forge: hello: %s\n", err_name(rc));
		exit(2);
	}
	s1 = new_socket(&p);
	s2 = new_socket(&p);
	s3 = new_socket(&p);
	s4 = new_socket(&p);
	s5 = new_socket(&p);
	rc = bind_req(&p, &s1, 81, parent);
	check(rc == 0, "root binds port 81 on its own channel: %s", err_name(rc));

	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		/* Became someone else, holding the parent's channel (as after a
		 * fork without libusnet's handler, or with its pid reused). */
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			die("dropping to the uid");
		failures = 0;
		rc = bind_req(&p, &s2, 82, parent);
		check(rc == -EACCES,
		      "uid %u binds port 82 on root's channel, naming root's thread: %s",
		      (unsigned int)uid, err_name(rc));
		rc = bind_req(&p, &s3, 82, getpid());
		check(rc == -EACCES, "uid %u binds port 82 on root's channel, naming its own: %s",
		      (unsigned int)uid, err_name(rc));
		rc = bind_req(&p, &s4, 8082, getpid());
		check(rc == 0, "uid %u binds port 8082 on root's channel: %s", (unsigned int)uid,
		      err_name(rc));
		_exit(failures ? 1 : 0);
	}
	if (waitpid(child, &st, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		failures++;

	/* The session's own process, with a set-user-ID image's credentials
	 * (real uid UID, effective root, every capability), as after it
	 * exec'd one with its channel open. */
	if (setresuid(uid, 0, 0) < 0)
		die("setresuid");
	rc = bind_req(&p, &s5, 83, parent);
	check(rc == -EACCES, "real uid %u, effective uid 0 (a set-user-ID image) binds port 83: %s",
	      (unsigned int)uid, err_name(rc));
	close(s1.ph);
	close(s2.ph);
	close(s3.ph);
	close(s4.ph);
	close(s5.ph);
	chan_close(&p);
}

/* --- openfd ------------------------------------------------------------------------ */

static void mode_openfd(const char *pid, const char *fd)
{
	char path[64];
	int flags[] = { O_RDWR, O_RDONLY };

	snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, fd);
	for (size_t i = 0; i < 2; i++) {
		int f = open(path, flags[i] | O_CLOEXEC);

		check(f < 0, "uid %u opens %s %s: %s", (unsigned int)geteuid(), path,
		      flags[i] == O_RDWR ? "read-write" : "read-only",
		      f < 0 ? strerror(errno) : "opened");
		if (f >= 0)
			close(f);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: forge CONTROL ids | sweep N | segs [DIR] | doorbell | bindas UID\n"
			"       forge openfd PID FD\n");
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "openfd")) {
		mode_openfd(argv[2], argv[3]);
		return failures ? 1 : 0;
	}
	if (argc < 3)
		usage();
	control = argv[1];
	if (!strcmp(argv[2], "ids") && argc == 3)
		mode_ids();
	else if (!strcmp(argv[2], "sweep") && argc == 4)
		mode_sweep((uint32_t)strtoul(argv[3], NULL, 0));
	else if (!strcmp(argv[2], "segs") && argc <= 4)
		mode_segs(argc == 4 ? argv[3] : NULL);
	else if (!strcmp(argv[2], "doorbell") && argc == 3)
		mode_doorbell();
	else if (!strcmp(argv[2], "bindas") && argc == 4)
		mode_bindas((uid_t)strtoul(argv[3], NULL, 0));
	else
		usage();
	printf("%s: %d failure(s)\n", argv[2], failures);
	return failures ? 1 : 0;
}
