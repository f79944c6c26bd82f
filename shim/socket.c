// SPDX-License-Identifier: MIT
/*
 * Socket calls: which sockets are usnet's (AF_INET and AF_INET6 stream
 * sockets; everything else goes to libc untouched), their creation,
 * addresses, connection set-up and tear-down, options, and the descriptor
 * calls (close, dup, fcntl, ioctl) that must keep the fd table true.
 *
 * Each interposed function classifies its descriptor, passes what is not
 * ours straight to libc, and converts a negative errno once at the end.
 *
 * Loopback is the kernel's. usnet has no loopback interface, so a socket
 * that connects to or binds a loopback address before usnet has given it
 * an address or a port becomes a kernel socket at the same descriptor
 * number, as Onload hands loopback connections to the kernel: a kernel
 * socket of the same kind, with the options the program set, is dup3()'d
 * over the placeholder (and over its dups), registrations in our epolls
 * move to the kernel epolls behind them, and the fd table forgets it.
 * From then on every call passes the descriptor to libc.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "shim.h"

static void pre_lock(struct usock *u)
{
	while (atomic_flag_test_and_set_explicit(&u->pre_lock, memory_order_acquire))
		;
}

static void pre_unlock(struct usock *u)
{
	atomic_flag_clear_explicit(&u->pre_lock, memory_order_release);
}

bool shim_sock_req(struct usock *u, struct ctl_sock_req *r)
{
	bool first;

	memset(r, 0, sizeof(*r));
	r->id = u->id;
	r->gen = u->gen;
	pre_lock(u);
	first = !u->named;
	u->named = true;
	r->npre = u->npre;
	memcpy(r->pre, u->pre, u->npre * sizeof(u->pre[0]));
	u->npre = 0;
	pre_unlock(u);
	return first;
}

/*
 * Options that may wait for the socket's first request (ctl_preopt): they
 * act on usnetd's TCP alone, whatever the socket's state. One of them
 * waits only with a value usnetd took before on a new socket of this
 * process (learned[]), so that its success is known: an unknown
 * congestion control, say, still fails at once.
 */
#define LEARNED_MAX 8
static struct {
	pthread_mutex_t lock;
	unsigned int n, next;
	struct ctl_preopt opt[LEARNED_MAX];
} learned = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool may_wait(int level, int name, socklen_t len)
{
	if (len > CTL_PREOPT_VAL)
		return false;
	if (level == SOL_SOCKET)
		return name == SO_REUSEADDR || name == SO_REUSEPORT || name == SO_KEEPALIVE ||
		       name == SO_LINGER || name == SO_SNDBUF || name == SO_RCVBUF;
	if (level == IPPROTO_TCP)
		return name == TCP_NODELAY || name == TCP_CORK || name == TCP_KEEPIDLE ||
		       name == TCP_KEEPINTVL || name == TCP_KEEPCNT || name == TCP_CONGESTION ||
		       name == TCP_MAXSEG || name == TCP_USER_TIMEOUT;
	return false;
}

static void preopt_fill(struct ctl_preopt *p, int level, int name, const void *val, socklen_t len)
{
	memset(p, 0, sizeof(*p));
	p->level = level;
	p->name = name;
	p->len = (uint32_t)len;
	if (len)
		memcpy(p->val, val, len);
}

static bool learned_has(const struct ctl_preopt *p)
{
	bool found = false;

	pthread_mutex_lock(&learned.lock);
	for (unsigned int i = 0; i < learned.n && !found; i++)
		found = !memcmp(&learned.opt[i], p, sizeof(*p));
	pthread_mutex_unlock(&learned.lock);
	return found;
}

static void learned_add(const struct ctl_preopt *p)
{
	if (learned_has(p))
		return;
	pthread_mutex_lock(&learned.lock);
	learned.opt[learned.next] = *p;
	learned.next = (learned.next + 1) % LEARNED_MAX;
	if (learned.n < LEARNED_MAX)
		learned.n++;
	pthread_mutex_unlock(&learned.lock);
}

/* Let option @p wait for @u's first request. Return: whether it does. */
static bool preopt_defer(struct usock *u, const struct ctl_preopt *p)
{
	bool ok = false;

	if (!learned_has(p))
		return false;
	pre_lock(u);
	if (!u->named) {
		uint32_t i = 0;

		while (i < u->npre && (u->pre[i].level != p->level || u->pre[i].name != p->name))
			i++;
		if (i < CTL_PREOPT_MAX) {
			u->pre[i] = *p;
			u->npre += i == u->npre;
			ok = true;
		}
	}
	pre_unlock(u);
	return ok;
}

int shim_sockaddr_in(const struct usock *u, const struct sockaddr *sa, socklen_t len,
		     struct ctl_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return -EFAULT;
	if (u->domain == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		if (len < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		out->addr = sin->sin_addr.s_addr;
		out->port = sin->sin_port;
		return 0;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (len < sizeof(*s6) || s6->sin6_family != AF_INET6)
			return -EINVAL;
		out->port = s6->sin6_port;
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			return 0;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && !atomic_load(&u->v6only)) {
			memcpy(&out->addr, &s6->sin6_addr.s6_addr[12], 4);
			return 0;
		}
		/* Native IPv6 is not there yet: no route to it. */
		return -ENETUNREACH;
	}
}

void shim_sockaddr_out(const struct usock *u, const struct ctl_addr *a, struct sockaddr *sa,
		       socklen_t *len)
{
	union {
		struct sockaddr_in sin;
		struct sockaddr_in6 s6;
	} buf;
	socklen_t n;

	if (!sa || !len)
		return;
	memset(&buf, 0, sizeof(buf));
	if (u->domain == AF_INET) {
		buf.sin.sin_family = AF_INET;
		buf.sin.sin_addr.s_addr = a->addr;
		buf.sin.sin_port = a->port;
		n = sizeof(buf.sin);
	} else {
		buf.s6.sin6_family = AF_INET6;
		buf.s6.sin6_port = a->port;
		if (a->addr) {
			buf.s6.sin6_addr.s6_addr[10] = 0xff;
			buf.s6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&buf.s6.sin6_addr.s6_addr[12], &a->addr, 4);
		}
		n = sizeof(buf.s6);
	}
	memcpy(sa, &buf, *len < n ? *len : n);
	*len = n;
}

/* Take ownership of placeholder @fd for a new socket; Return: fd, -errno. */
int shim_adopt(int fd, const struct ctl_sock_rep *rep, int domain, int flags)
{
	struct shim_seg *seg = shim_seg_by_session(rep->session);
	struct usock *u;

	if (!seg || (unsigned int)fd >= SHIM_FD_MAX) {
		SHIM_REAL(close)(fd);
		return seg ? -EMFILE : -EPROTO;
	}
	u = shim_usock_new(seg, rep->slot, rep->id, rep->gen, domain);
	if (!u) {
		SHIM_REAL(close)(fd);
		return -ENOMEM;
	}
	if (flags & SOCK_NONBLOCK) {
		atomic_store(&u->nonblock, 1);
		SHIM_REAL(fcntl)(fd, F_SETFL, O_RDWR | O_NONBLOCK);
	}
	if (!(flags & SOCK_CLOEXEC))
		SHIM_REAL(fcntl)(fd, F_SETFD, 0);
	shim_fd_set(fd, u);
	return fd;
}

static bool ours(int domain, int type, int protocol)
{
	int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	return (domain == AF_INET || domain == AF_INET6) && t == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int saved = errno, rc;

	/* Before our constructor ran, nothing is configured: the kernel's. */
	if (!atomic_load_explicit(&shim_ready, memory_order_relaxed) || !ours(domain, type, protocol))
		return SHIM_REAL(socket)(domain, type, protocol);
	rc = shim_stock_socket(domain, protocol, type);
	if (rc < 0 && shim_fallback_kernel && shim_proc.chan_fd < 0)
		return SHIM_REAL(socket)(domain, type, protocol);
	if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENETDOWN)
		rc = -EACCES; /* the socket cannot be had: as a denied one */
	return (int)shim_ret(rc, saved);
}

/* --- loopback: handed to the kernel ------------------------------------------------ */

/* The options a kernel socket takes over from a usnet one when the
 * program set them: usock.opts_set has a bit per entry. The values come
 * from usnetd, or from the usock for those we answer ourselves. */
static const struct {
	int level, name;
} kopts[] = {
	{ SOL_SOCKET, SO_REUSEADDR },	   { SOL_SOCKET, SO_REUSEPORT },
	{ SOL_SOCKET, SO_KEEPALIVE },	   { SOL_SOCKET, SO_SNDBUF },
	{ SOL_SOCKET, SO_RCVBUF },	   { SOL_SOCKET, SO_LINGER },
	{ IPPROTO_TCP, TCP_NODELAY },	   { IPPROTO_TCP, TCP_CORK },
	{ IPPROTO_TCP, TCP_MAXSEG },	   { IPPROTO_TCP, TCP_KEEPIDLE },
	{ IPPROTO_TCP, TCP_KEEPINTVL },	   { IPPROTO_TCP, TCP_KEEPCNT },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT }, { IPPROTO_TCP, TCP_CONGESTION },
	{ IPPROTO_IPV6, IPV6_V6ONLY },
};
_Static_assert(sizeof(kopts) / sizeof(kopts[0]) <= 32, "usock.opts_set has 32 bits");

static void opt_remember(struct usock *u, int level, int name)
{
	if (level == SOL_SOCKET && name == SO_SNDBUFFORCE)
		name = SO_SNDBUF;
	if (level == SOL_SOCKET && name == SO_RCVBUFFORCE)
		name = SO_RCVBUF;
	for (size_t i = 0; i < sizeof(kopts) / sizeof(kopts[0]); i++)
		if (kopts[i].level == level && kopts[i].name == name)
			atomic_fetch_or(&u->opts_set, 1u << i);
}

/* What the program set on @u, set again on kernel socket @k. The program
 * was told each worked: where the kernel refuses one (a value above
 * net.core.wmem_max, a congestion control it does not allow), the kernel
 * socket goes on without it. */
static void opts_to_kernel(struct usock *u, int k)
{
	uint32_t set = atomic_load(&u->opts_set);
	struct ctl_sock_req req;
	struct ctl_sock_rep rep;
	int v;

	if (atomic_load(&u->nonblock))
		SHIM_REAL(fcntl)(k, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 2; i++) {
		int64_t us = atomic_load(i ? &u->sndtimeo_us : &u->rcvtimeo_us);
		struct timeval tv = { us / 1000000, us % 1000000 };

		if (us)
			SHIM_REAL(setsockopt)(k, SOL_SOCKET, i ? SO_SNDTIMEO : SO_RCVTIMEO, &tv,
					     sizeof(tv));
	}
	v = atomic_load(&u->rcvlowat);
	if (v > 1)
		SHIM_REAL(setsockopt)(k, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	for (size_t i = 0; i < sizeof(kopts) / sizeof(kopts[0]); i++) {
		int level = kopts[i].level, name = kopts[i].name;
		socklen_t len;

		if (!(set & (1u << i)))
			continue;
		if (level == IPPROTO_IPV6) {
			v = atomic_load(&u->v6only);
			SHIM_REAL(setsockopt)(k, level, name, &v, sizeof(v));
			continue;
		}
		shim_sock_req(u, &req);
		req.level = level;
		req.name = name;
		if (shim_request(CTL_GETSOCKOPT, &req, sizeof(req), -1, &rep, sizeof(rep), NULL))
			continue;
		len = rep.optlen < CTL_OPTVAL_MAX ? rep.optlen : CTL_OPTVAL_MAX;
		if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF) &&
		    len >= sizeof(v)) {
			/* Read back doubled, as the kernel keeps it: set half. */
			memcpy(&v, rep.optval, sizeof(v));
			v /= 2;
			memcpy(rep.optval, &v, sizeof(v));
		} else if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
			len = (socklen_t)strnlen((const char *)rep.optval, len);
		}
		SHIM_REAL(setsockopt)(k, level, name, rep.optval, len);
	}
}

/* Is @sa a loopback address for a socket of @domain? With @any the
 * unspecified address is one too: Linux connects to it over loopback
 * (ip_route_output_key_hash_rcu, tcp_v6_connect). */
static bool loopback(int domain, const struct sockaddr *sa, socklen_t len, bool any)
{
	static const uint8_t zero4[4];

	if (!sa || len < sizeof(sa_family_t) || sa->sa_family != domain)
		return false;
	if (domain == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;
		uint32_t a;

		if (len < sizeof(*sin))
			return false;
		a = ntohl(sin->sin_addr.s_addr);
		return (a >> IN_CLASSA_NSHIFT) == IN_LOOPBACKNET || (any && a == INADDR_ANY);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const struct in6_addr *a = &s6->sin6_addr;

		/* The kernel's minimum (SIN6_LEN_RFC2133): no scope id. */
		if (len < offsetof(struct sockaddr_in6, sin6_scope_id))
			return false;
		if (IN6_IS_ADDR_LOOPBACK(a) || (any && IN6_IS_ADDR_UNSPECIFIED(a)))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && (a->s6_addr[12] == IN_LOOPBACKNET ||
						   (any && !memcmp(&a->s6_addr[12], zero4, 4)));
	}
}

/* Has usnet given @u an address or a port (bind, listen, connect)?
 * Return: 1 yes, 0 no, -errno. */
static int usnet_tied(struct usock *u)
{
	struct ctl_sock_req req;
	struct ctl_sock_rep rep;
	int rc;

	if (atomic_load(&u->listening))
		return 1;
	shim_sock_req(u, &req);
	req.arg = 0;
	rc = shim_request(CTL_GETNAME, &req, sizeof(req), -1, &rep, sizeof(rep), NULL);
	if (rc)
		return rc;
	return rep.addr.addr || rep.addr.port;
}

/* Kernel socket @k takes @fd's number, keeping @fd's close-on-exec flag;
 * @u loses @fd. */
static int fd_to_kernel(struct usock *u, int k, int fd)
{
	int fdfl = SHIM_REAL(fcntl)(fd, F_GETFD);

	if (fdfl < 0 || SHIM_REAL(dup3)(k, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		return -errno;
	shim_epoll_to_kernel(u, fd);
	shim_fd_drop(fd);
	return 0;
}

/*
 * A kernel socket in place of usnet socket @u at @fd and at every other
 * descriptor of this process that names it (a dup is the same socket).
 * The placeholder's last reference goes with them, and usnetd frees the
 * socket it stood for. A copy held by another process (a forked child)
 * stays a usnet socket there.
 * Return: 1 done, 0 usnet has tied @u to an address (it stays usnet's),
 * -errno (it stays usnet's).
 */
static int to_kernel(int fd, struct usock *u)
{
	int k, others, rc;

	rc = usnet_tied(u);
	if (rc)
		return rc < 0 ? rc : 0;
	k = SHIM_REAL(socket)(u->domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (k < 0)
		return -errno;
	atomic_fetch_add(&u->refs, 1); /* until we are done with it */
	opts_to_kernel(u, k);
	others = atomic_load(&u->nfds) - 1;
	rc = fd_to_kernel(u, k, fd);
	if (rc)
		goto out;
	rc = 1;
	for (unsigned int i = 0; others > 0 && i < SHIM_FD_MAX; i++) {
		if (shim_fd((int)i) != u)
			continue;
		others--;
		/* Failing (EBADF: closed meanwhile), it stays usnet's. */
		fd_to_kernel(u, k, (int)i);
	}
out:
	SHIM_REAL(close)(k);
	shim_usock_put(u);
	return rc;
}

SHIM_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	int saved = errno, rc;

	if (!u)
		return SHIM_REAL(bind)(fd, sa, len);
	if (loopback(u->domain, sa, len, false)) {
		rc = to_kernel(fd, u);
		if (rc > 0) {
			errno = saved;
			return SHIM_REAL(bind)(fd, sa, len);
		}
		if (rc < 0)
			return (int)shim_ret(rc, saved);
	}
	shim_sock_req(u, &req);
	req.tid = (int32_t)gettid(); /* usnetd judges this thread's capabilities */
	if (u->domain == AF_INET6 && atomic_load(&u->v6only))
		req.arg = CTL_BIND_V6ONLY;
	rc = shim_sockaddr_in(u, sa, len, &req.addr);
	if (rc == -ENETUNREACH)
		rc = -EADDRNOTAVAIL;
	if (!rc)
		rc = shim_request(CTL_BIND, &req, sizeof(req), -1, NULL, 0, NULL);
	return (int)shim_ret(rc, saved);
}

SHIM_EXPORT int listen(int fd, int backlog)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	int saved = errno, rc;

	if (!u)
		return SHIM_REAL(listen)(fd, backlog);
	shim_sock_req(u, &req);
	req.arg = backlog;
	rc = shim_request(CTL_LISTEN, &req, sizeof(req), -1, NULL, 0, NULL);
	if (!rc)
		atomic_store(&u->listening, 1);
	return (int)shim_ret(rc, saved);
}

static int do_accept(struct usock *u, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct ctl_sock_req req;
	struct ctl_sock_rep rep;
	int fd, rc;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (!atomic_load(&u->listening))
		return -EINVAL;
	for (;;) {
		fd = -1;
		shim_sock_req(u, &req);
		rc = shim_request(CTL_ACCEPT, &req, sizeof(req), -1, &rep, sizeof(rep), &fd);
		if (rc != -EAGAIN)
			break;
		if (atomic_load(&u->nonblock))
			return -EAGAIN;
		rc = shim_wait(u, POLLIN, atomic_load(&u->rcvtimeo_us) ?: -1);
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	if (fd < 0)
		return -EPROTO;
	shim_sockaddr_out(u, &rep.addr, sa, len);
	return shim_adopt(fd, &rep, u->domain, flags);
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct usock *u = shim_fd(fd);
	int saved = errno;

	if (!u)
		return SHIM_REAL(accept4)(fd, sa, len, flags);
	return (int)shim_ret(do_accept(u, sa, len, flags), saved);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct usock *u = shim_fd(fd);
	int saved = errno;

	if (!u)
		return SHIM_REAL(accept)(fd, sa, len);
	return (int)shim_ret(do_accept(u, sa, len, 0), saved);
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	int saved = errno, rc;

	if (!u)
		return SHIM_REAL(connect)(fd, sa, len);
	if (loopback(u->domain, sa, len, true)) {
		rc = to_kernel(fd, u);
		if (rc > 0) {
			errno = saved;
			return SHIM_REAL(connect)(fd, sa, len);
		}
		if (rc < 0)
			return (int)shim_ret(rc, saved);
	}
	shim_sock_req(u, &req);
	rc = shim_sockaddr_in(u, sa, len, &req.addr);
	if (!rc)
		rc = shim_request(CTL_CONNECT, &req, sizeof(req), -1, NULL, 0, NULL);
	if (!rc) {
		if (atomic_load(&u->nonblock)) {
			rc = -EINPROGRESS;
		} else {
			rc = shim_wait(u, POLLOUT, atomic_load(&u->sndtimeo_us) ?: -1);
			if (rc == -EAGAIN)
				rc = -EINPROGRESS;
			if (!rc) {
				int err = atomic_exchange(&u->ss->err, 0);

				rc = err ? -err : 0;
			}
		}
	}
	return (int)shim_ret(rc, saved);
}

static int getname(int fd, struct sockaddr *sa, socklen_t *len, int peer)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	struct ctl_sock_rep rep;
	int rc;

	shim_sock_req(u, &req);
	req.arg = peer;
	rc = shim_request(CTL_GETNAME, &req, sizeof(req), -1, &rep, sizeof(rep), NULL);
	if (!rc)
		shim_sockaddr_out(u, &rep.addr, sa, len);
	return rc;
}

SHIM_EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	int saved = errno;

	if (!shim_fd(fd))
		return SHIM_REAL(getsockname)(fd, sa, len);
	return (int)shim_ret(getname(fd, sa, len, 0), saved);
}

SHIM_EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	int saved = errno;

	if (!shim_fd(fd))
		return SHIM_REAL(getpeername)(fd, sa, len);
	return (int)shim_ret(getname(fd, sa, len, 1), saved);
}

static int64_t tv_us(const void *v, socklen_t len)
{
	struct timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, v, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0)
		return 0;
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	struct ctl_preopt pre;
	int saved = errno, rc = 0, iv = 0;
	bool first;
	int64_t us;

	if (!u)
		return SHIM_REAL(setsockopt)(fd, level, name, val, len);
	if (len >= sizeof(int) && val)
		memcpy(&iv, val, sizeof(iv));
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		us = tv_us(val, len);
		if (us < 0)
			return (int)shim_ret(us, saved);
		atomic_store(name == SO_RCVTIMEO ? &u->rcvtimeo_us : &u->sndtimeo_us, us);
		return (int)shim_ret(0, saved);
	}
	if (level == SOL_SOCKET && name == SO_RCVLOWAT) {
		if (len < sizeof(int))
			return (int)shim_ret(-EINVAL, saved);
		atomic_store(&u->rcvlowat, iv < 1 ? 1 : iv);
		return (int)shim_ret(0, saved);
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && u->domain == AF_INET6) {
		if (len < sizeof(int))
			return (int)shim_ret(-EINVAL, saved);
		atomic_store(&u->v6only, iv != 0);
		opt_remember(u, level, name);
		return (int)shim_ret(0, saved);
	}
	if (!val && len)
		return (int)shim_ret(-EFAULT, saved);
	if (may_wait(level, name, len)) {
		preopt_fill(&pre, level, name, val, len);
		if (preopt_defer(u, &pre)) {
			opt_remember(u, level, name);
			return (int)shim_ret(0, saved);
		}
	}
	first = shim_sock_req(u, &req);
	req.level = level;
	req.name = name;
	req.optlen = len < CTL_OPTVAL_MAX ? len : CTL_OPTVAL_MAX;
	if (req.optlen)
		memcpy(req.optval, val, req.optlen);
	rc = shim_request(CTL_SETSOCKOPT, &req, sizeof(req), -1, NULL, 0, NULL);
	if (!rc)
		opt_remember(u, level, name);
	if (!rc && first && may_wait(level, name, len))
		learned_add(&pre);
	return (int)shim_ret(rc, saved);
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	struct ctl_sock_rep rep;
	int saved = errno, rc;

	if (!u)
		return SHIM_REAL(getsockopt)(fd, level, name, val, len);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			return (int)shim_ret(put_int(val, len, atomic_exchange(&u->ss->err, 0)),
					     saved);
		case SO_TYPE:
			return (int)shim_ret(put_int(val, len, SOCK_STREAM), saved);
		case SO_DOMAIN:
			return (int)shim_ret(put_int(val, len, u->domain), saved);
		case SO_PROTOCOL:
			return (int)shim_ret(put_int(val, len, IPPROTO_TCP), saved);
		case SO_ACCEPTCONN:
			return (int)shim_ret(put_int(val, len, atomic_load(&u->listening)), saved);
		case SO_RCVLOWAT:
			return (int)shim_ret(put_int(val, len, atomic_load(&u->rcvlowat) ?: 1),
					     saved);
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			int64_t us = atomic_load(name == SO_RCVTIMEO ? &u->rcvtimeo_us
								       : &u->sndtimeo_us);
			struct timeval tv = { us / 1000000, us % 1000000 };

			if (!val || !len || *len < (socklen_t)sizeof(tv))
				return (int)shim_ret(-EINVAL, saved);
			memcpy(val, &tv, sizeof(tv));
			*len = sizeof(tv);
			return (int)shim_ret(0, saved);
		}
		}
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && u->domain == AF_INET6)
		return (int)shim_ret(put_int(val, len, atomic_load(&u->v6only)), saved);
	if (!val || !len)
		return (int)shim_ret(-EFAULT, saved);
	shim_sock_req(u, &req);
	req.level = level;
	req.name = name;
	rc = shim_request(CTL_GETSOCKOPT, &req, sizeof(req), -1, &rep, sizeof(rep), NULL);
	if (!rc) {
		socklen_t n = *len < rep.optlen ? *len : rep.optlen;

		memcpy(val, rep.optval, n);
		*len = n;
	}
	return (int)shim_ret(rc, saved);
}

SHIM_EXPORT int shutdown(int fd, int how)
{
	struct usock *u = shim_fd(fd);
	struct ctl_sock_req req;
	int saved = errno, rc;

	if (!u)
		return SHIM_REAL(shutdown)(fd, how);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return (int)shim_ret(-EINVAL, saved);
	shim_sock_req(u, &req);
	req.arg = how;
	rc = shim_request(CTL_SHUTDOWN, &req, sizeof(req), -1, NULL, 0, NULL);
	if (!rc)
		atomic_fetch_or(&u->ss->shut, how == SHUT_RD ? IPC_SHUT_RD :
					      how == SHUT_WR ? IPC_SHUT_WR : IPC_SHUT_RD | IPC_SHUT_WR);
	return (int)shim_ret(rc, saved);
}

SHIM_EXPORT int close(int fd)
{
	/* The kernel counts the placeholder's references; usnetd sees the
	 * last one go. */
	if (shim_fd(fd)) {
		shim_fd_drop(fd);
	} else if (shim_stock_forget(fd)) {
		/* A spare sat at a number the program holds free. */
		SHIM_REAL(close)(fd);
		errno = EBADF;
		return -1;
	} else {
		shim_epoll_close(fd);
	}
	return SHIM_REAL(close)(fd);
}

/* dup family: the new descriptor shares the socket (one open file). */
static int dup_done(int oldfd, int newfd)
{
	struct usock *u = shim_fd(oldfd);

	if (newfd < 0)
		return newfd;
	shim_epoll_dup(oldfd, newfd);
	if (u && newfd != oldfd) {
		atomic_fetch_add(&u->refs, 1);
		shim_fd_set(newfd, u);
	} else if (!u && newfd != oldfd) {
		shim_fd_drop(newfd);
	}
	return newfd;
}

SHIM_EXPORT int dup(int fd)
{
	return dup_done(fd, SHIM_REAL(dup)(fd));
}

/* A spare at @newfd is replaced, as a free number would be filled. */
SHIM_EXPORT int dup2(int fd, int newfd)
{
	int rc = SHIM_REAL(dup2)(fd, newfd);

	if (rc >= 0 && fd != newfd)
		shim_stock_forget(newfd);
	return dup_done(fd, rc);
}

SHIM_EXPORT int dup3(int fd, int newfd, int flags)
{
	int rc = SHIM_REAL(dup3)(fd, newfd, flags);

	if (rc >= 0)
		shim_stock_forget(newfd);
	return dup_done(fd, rc);
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	struct usock *u = shim_fd(fd);
	va_list ap;
	long arg;
	int rc;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	rc = SHIM_REAL(fcntl)(fd, cmd, arg);
	if (!u && rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		shim_epoll_dup(fd, rc);
	if (!u || rc < 0)
		return rc;
	switch (cmd) {
	case F_SETFL:
		atomic_store(&u->nonblock, (arg & O_NONBLOCK) != 0);
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		dup_done(fd, rc);
		break;
	}
	return rc;
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

SHIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct usock *u = shim_fd(fd);
	int saved = errno;
	va_list ap;
	void *arg;
	int64_t n;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!u)
		return SHIM_REAL(ioctl)(fd, req, arg);
	switch (req) {
	case FIONBIO: {
		int on;

		if (!arg)
			return (int)shim_ret(-EFAULT, saved);
		memcpy(&on, arg, sizeof(on));
		if (SHIM_REAL(ioctl)(fd, FIONBIO, arg) < 0)
			return -1;
		atomic_store(&u->nonblock, on != 0);
		return (int)shim_ret(0, saved);
	}
	case FIONREAD:
		n = atomic_load(&u->listening) ? -EINVAL : ipc_fifo_used(&u->rx);
		break;
	case SIOCOUTQ:
		n = atomic_load(&u->listening) ? -EINVAL : ipc_fifo_used(&u->tx);
		break;
	default:
		return (int)shim_ret(-ENOTTY, saved);
	}
	if (n < 0)
		return (int)shim_ret(n, saved);
	if (!arg)
		return (int)shim_ret(-EFAULT, saved);
	{
		int v = (int)n;

		memcpy(arg, &v, sizeof(v));
	}
	return (int)shim_ret(0, saved);
}
