// SPDX-License-Identifier: MIT
/*
 * socket() without a round trip: a process that makes sockets fast keeps a
 * few that usnetd made ahead, as a stock per address family.
 *
 * A socket() is a request to usnetd and its reply, two wake-ups across
 * CPUs: most of a short connection's cost. Each time the stock runs dry,
 * CTL_SOCKET asks for twice as many as last time (up to STOCK_MAX): a
 * program that makes one socket holds none in stock, one that makes
 * thousands pays one round trip per STOCK_MAX sockets.
 *
 * A stocked socket's placeholder is a descriptor of ours. It waits at a
 * high number (from stock_base up, close-on-exec, so it is gone in an
 * exec'd image and a forked child drops it), out of the way of the
 * program's numbering, and socket() hands it out at the lowest free
 * number, as the kernel would have. What the program does to a number it
 * believes free is done as if it were free: close() says EBADF, dup2()
 * onto it replaces it (usnetd then sees the placeholder go). A descriptor
 * that changed behind our back (close_range(), a raw syscall) is
 * recognised by its inode and left alone.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define STOCK_MAX CTL_SOCKET_MAX

struct spare {
	int fd;
	uint32_t id, gen, slot, session;
	dev_t dev;
	ino_t ino;
};

struct stock {
	struct spare s[STOCK_MAX];
	unsigned int n;
	unsigned int batch; /* sockets the next CTL_SOCKET asks for */
};

static pthread_mutex_t stock_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stock stocks[2]; /* AF_INET, AF_INET6 */
static int stock_base = -1; /* lowest number a spare may have; -1: no stock */
static _Atomic int stock_low = INT32_MAX; /* lowest number a spare has now */

static struct stock *stock_of(int domain)
{
	return &stocks[domain == AF_INET6];
}

void shim_stock_init(void)
{
	struct rlimit rl;
	const char *e = getenv("USNET_SOCKET_STOCK");
	rlim_t top;

	/* USNET_SOCKET_STOCK=0: every socket() asks usnetd. */
	if (e && atoi(e) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	top = rl.rlim_cur < SHIM_FD_MAX ? rl.rlim_cur : SHIM_FD_MAX;
	/* The upper half of the numbers, but never so high that the
	 * kernel's fd table grows for them. */
	if (top < 4 * 2 * STOCK_MAX)
		return;
	stock_base = (int)(top / 2 < 1024 ? top / 2 : 1024);
}

/* Put @fd (just received) up where spares wait. Return: its number, -errno. */
static int stock_raise(int fd)
{
	int hi = SHIM_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, stock_base);

	SHIM_REAL(close)(fd);
	return hi < 0 ? -errno : hi;
}

/* Add the sockets beyond the first that a CTL_SOCKET reply made. */
static void stock_fill(int domain, const struct ctl_sock_rep *rep, const int *fds, unsigned int n)
{
	struct stock *st = stock_of(domain);

	for (unsigned int i = 0; i < n; i++) {
		struct ctl_sock_more m;
		struct spare sp = { .session = rep->session };
		struct stat sb;
		int fd = stock_raise(fds[i]);

		if (fd < 0)
			continue; /* closed: usnetd frees the socket */
		if ((size_t)(i + 1) * sizeof(m) > rep->optlen || fstat(fd, &sb) < 0) {
			SHIM_REAL(close)(fd);
			continue;
		}
		memcpy(&m, rep->optval + i * sizeof(m), sizeof(m));
		sp.fd = fd;
		sp.id = m.id;
		sp.gen = m.gen;
		sp.slot = m.slot;
		sp.dev = sb.st_dev;
		sp.ino = sb.st_ino;
		pthread_mutex_lock(&stock_lock);
		if (st->n < STOCK_MAX) {
			st->s[st->n++] = sp;
			if (fd < atomic_load(&stock_low))
				atomic_store(&stock_low, fd);
			fd = -1;
		}
		pthread_mutex_unlock(&stock_lock);
		if (fd >= 0)
			SHIM_REAL(close)(fd);
	}
}

/* Is @sp's descriptor still the placeholder we stocked? */
static bool spare_ours(const struct spare *sp)
{
	struct stat sb;

	return fstat(sp->fd, &sb) == 0 && sb.st_dev == sp->dev && sb.st_ino == sp->ino;
}

/* Take a spare for @domain into *@sp. Return: whether there was one. */
static bool stock_pop(int domain, struct spare *sp)
{
	struct stock *st = stock_of(domain);
	bool got = false;

	pthread_mutex_lock(&stock_lock);
	if (st->n) {
		*sp = st->s[--st->n];
		got = true;
	}
	pthread_mutex_unlock(&stock_lock);
	return got;
}

/*
 * Give spare @sp to the program: at the lowest free number (or where it
 * is, if none is free below it), as a socket of @flags. Return: the fd,
 * -EAGAIN if the spare is no longer ours, -errno.
 */
static int stock_give(const struct spare *sp, int domain, int flags)
{
	struct ctl_sock_rep rep = {
		.id = sp->id, .gen = sp->gen, .session = sp->session, .slot = sp->slot
	};
	int fd;

	if (!spare_ours(sp))
		return -EAGAIN; /* closed or replaced behind our back: not ours */
	/* Close-on-exec like every placeholder: shim_adopt() clears it. */
	fd = SHIM_REAL(fcntl)(sp->fd, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0 && fd < sp->fd) {
		SHIM_REAL(close)(sp->fd);
	} else {
		/* No number below it is free: it stays where it is. */
		if (fd >= 0)
			SHIM_REAL(close)(fd);
		fd = sp->fd;
	}
	return shim_adopt(fd, &rep, domain, flags);
}

int shim_stock_socket(int domain, int protocol, int flags)
{
	struct ctl_sock_req req = { .domain = domain, .type = SOCK_STREAM, .protocol = protocol };
	struct stock *st = stock_of(domain);
	int fds[CTL_SOCKET_MAX], rc;
	struct ctl_sock_rep rep;
	unsigned int nfds = 0;
	struct spare sp;

	while (stock_base >= 0 && stock_pop(domain, &sp)) {
		rc = stock_give(&sp, domain, flags);
		if (rc != -EAGAIN)
			return rc;
	}
	pthread_mutex_lock(&stock_lock);
	req.arg = stock_base < 0 ? 1 : (int)(st->batch ? st->batch : 1);
	if (stock_base >= 0 && st->batch < STOCK_MAX)
		st->batch = st->batch ? st->batch * 2 : 2;
	pthread_mutex_unlock(&stock_lock);
	rc = shim_request_fds(CTL_SOCKET, &req, sizeof(req), -1, &rep, sizeof(rep), fds,
			      CTL_SOCKET_MAX, &nfds);
	if (rc == 0 && nfds == 0)
		rc = -EPROTO;
	if (rc)
		return rc;
	if (nfds > 1)
		stock_fill(domain, &rep, fds + 1, nfds - 1);
	return shim_adopt(fds[0], &rep, domain, flags);
}

bool shim_stock_forget(int fd)
{
	bool found = false;

	if (fd < atomic_load_explicit(&stock_low, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&stock_lock);
	for (unsigned int d = 0; d < 2 && !found; d++) {
		struct stock *st = &stocks[d];

		for (unsigned int i = 0; i < st->n; i++) {
			if (st->s[i].fd == fd) {
				st->s[i] = st->s[--st->n];
				found = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&stock_lock);
	return found;
}

void shim_stock_fork_child(void)
{
	/* The parent's spares are the parent's: were both to hand out the
	 * same one, two processes would share a socket neither shared. */
	pthread_mutex_init(&stock_lock, NULL);
	for (unsigned int d = 0; d < 2; d++) {
		for (unsigned int i = 0; i < stocks[d].n; i++)
			if (spare_ours(&stocks[d].s[i]))
				SHIM_REAL(close)(stocks[d].s[i].fd);
		stocks[d].n = 0;
		stocks[d].batch = 0;
	}
	atomic_store(&stock_low, INT32_MAX);
}
