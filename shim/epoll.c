// SPDX-License-Identifier: MIT
/*
 * epoll over a mix of usnet and kernel fds.
 *
 * The fd the program holds is a real kernel epoll: kernel fds live in it
 * as usual, and it can be polled or nested in another epoll. usnet
 * sockets cannot be (their placeholders say nothing), so they are kept in
 * a user-space interest list, and the epoll gets a doorbell of its own:
 * an eventfd added to the kernel epoll, named in the watch[] of every
 * usnet socket registered. The doorbell stays ARMED while nobody has
 * consumed a ring (doorbell.h), so any change usnetd publishes makes the
 * kernel epoll readable, once: a thread sleeping in epoll_wait() in the
 * kernel wakes, and so does a poll() or an outer epoll watching this one.
 *
 * epoll_wait() first scans the usnet sockets; only when none is ready does
 * it re-arm the doorbell and scan again (the fence of doorbell.h between
 * the two), then sleep in the real epoll_pwait2() with the program's
 * timeout and signal mask. A busy program that always finds events makes
 * no syscall for its usnet sockets, and usnetd writes the eventfd at most
 * once while the program is busy. When usnet events keep the call from
 * sleeping, kernel fds are collected with a zero timeout, a syscall an
 * epoll that never held a kernel fd does without.
 *
 * Unlike a thread's doorbell, an epoll's has many waiters and is re-armed
 * without first reading the eventfd empty, so its count is taken with a
 * non-blocking read whenever the kernel reports it or the state says RUNG:
 * a ring whose write lands late costs one spurious wake-up, never a hang
 * or a count stuck above zero. A waiter's ARMED store and scan pair with
 * usnetd's publication and load as in doorbell.h, so no event is lost.
 *
 * Semantics follow fs/eventpoll.c: level-triggered by default; EPOLLET
 * reports a socket again only after usnetd published an event for it
 * (ipc_sock.seq moved); EPOLLONESHOT disables the entry until
 * EPOLL_CTL_MOD; EPOLLERR and EPOLLHUP always; a registration ends when
 * the last fd of its file closes; the ready list is served round-robin,
 * and a waiter that leaves events behind wakes the next one.
 *
 * Locks: reg_lock (every usock's ep_items list) before ep->lock (one
 * epoll's items); eps_lock guards the table of epoll fds. No lock is held
 * in a syscall that can block.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipc/doorbell.h"
#include "ipc/fdpass.h"
#include "shim.h"

#define EP_CHUNK 1024u /* fds per lazily allocated lookup chunk */
#define EP_UNWATCHED_NS 1000000 /* sleep bound when a socket has no watch room */

struct ep_item {
	struct usock *u;
	struct shim_epoll *ep;
	struct ep_item *u_next; /* the usock's registrations */
	int fd;
	uint32_t events;
	epoll_data_t data;
	uint32_t seq_seen; /* EPOLLET: ipc_sock.seq when last reported */
	unsigned int pos; /* index in ep->items */
	bool disabled; /* EPOLLONESHOT fired */
	bool watched; /* our entry is in the socket's watch[] */
};

struct shim_epoll {
	_Atomic int refs; /* fds naming it, and calls in progress */
	int nfds; /* fds naming it (eps_lock) */
	int kfd; /* the kernel epoll */
	pthread_mutex_t lock;
	struct ep_item **items;
	unsigned int n, cap, cursor, unwatched;
	_Atomic unsigned int nkernel; /* kernel fds added (closing one does not tell us) */
	struct ep_item **byfd[SHIM_FD_MAX / EP_CHUNK];
	/* The doorbell, from the first usnet socket on (db < 0 before). */
	int db, efd;
	uint32_t session, entry;
	struct ipc_seg_hdr *hdr;
	struct shim_epoll *all_next;
};

static pthread_mutex_t eps_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct shim_epoll *) shim_eps[SHIM_FD_MAX];
static struct shim_epoll *ep_all;

static uint64_t ep_marker(const struct shim_epoll *ep)
{
	/* Our own live object's address: no program's data names it. */
	return (uint64_t)(uintptr_t)ep;
}

/* --- the table of epoll fds ------------------------------------------------------ */

static struct shim_epoll *ep_new(int kfd)
{
	struct shim_epoll *ep;

	if (kfd < 0 || (unsigned int)kfd >= SHIM_FD_MAX)
		return NULL;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	pthread_mutex_init(&ep->lock, NULL);
	atomic_init(&ep->refs, 1);
	ep->nfds = 1;
	ep->kfd = kfd;
	ep->db = ep->efd = -1;
	pthread_mutex_lock(&eps_lock);
	ep->all_next = ep_all;
	ep_all = ep;
	atomic_store(&shim_eps[kfd], ep);
	pthread_mutex_unlock(&eps_lock);
	return ep;
}

static struct shim_epoll *ep_get(int fd)
{
	struct shim_epoll *ep;

	if (fd < 0 || (unsigned int)fd >= SHIM_FD_MAX || !atomic_load(&shim_eps[fd]))
		return NULL;
	pthread_mutex_lock(&eps_lock);
	ep = atomic_load(&shim_eps[fd]);
	if (ep)
		atomic_fetch_add(&ep->refs, 1);
	pthread_mutex_unlock(&eps_lock);
	return ep;
}

static void ep_put(struct shim_epoll *ep)
{
	if (atomic_fetch_sub(&ep->refs, 1) != 1)
		return;
	for (unsigned int i = 0; i < SHIM_FD_MAX / EP_CHUNK; i++)
		free(ep->byfd[i]);
	free(ep->items);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

bool shim_epoll_fd(int fd)
{
	return fd >= 0 && (unsigned int)fd < SHIM_FD_MAX && atomic_load(&shim_eps[fd]);
}

/* An epoll the program made without us (a raw syscall, or before we were
 * loaded) that it now gives a usnet socket: adopt it. */
static struct shim_epoll *ep_adopt(int fd)
{
	if (!ipc_fd_is_anon(fd, "eventpoll") || !ep_new(fd))
		return NULL;
	return ep_get(fd);
}

/* --- registrations ----------------------------------------------------------------- */

static struct ep_item **ep_slot(struct shim_epoll *ep, int fd, bool create)
{
	struct ep_item ***chunk = &ep->byfd[(unsigned int)fd / EP_CHUNK];

	if (!*chunk) {
		if (!create)
			return NULL;
		*chunk = calloc(EP_CHUNK, sizeof(**chunk));
		if (!*chunk)
			return NULL;
	}
	return &(*chunk)[(unsigned int)fd % EP_CHUNK];
}

static struct ep_item *ep_find(struct shim_epoll *ep, int fd)
{
	struct ep_item **s = ep_slot(ep, fd, false);

	return s ? *s : NULL;
}

static uint32_t ep_revents(const struct ep_item *it)
{
	/* The poll and epoll bits have the same values. */
	return shim_revents(it->u) & (it->events | EPOLLERR | EPOLLHUP) &
	       (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP);
}

/* Make the epoll readable for whoever waits on it (a sleeping thread, a
 * poll() of the epoll fd), if nobody was told already. */
static void ep_ring_self(struct shim_epoll *ep)
{
	uint64_t one = 1;

	if (ep->db >= 0 && ipc_db_ring(ep->hdr, (uint32_t)ep->db))
		if (SHIM_REAL(write)(ep->efd, &one, sizeof(one)) < 0)
			(void)0; /* cannot fail for a count of 1 */
}

static int ep_doorbell(struct shim_epoll *ep)
{
	struct epoll_event kev = { .events = EPOLLIN };
	int efd, db;

	if (ep->db >= 0)
		return 0;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	db = shim_db_alloc(efd);
	if (db < 0) {
		SHIM_REAL(close)(efd);
		return db;
	}
	kev.data.u64 = ep_marker(ep);
	if (SHIM_REAL(epoll_ctl)(ep->kfd, EPOLL_CTL_ADD, efd, &kev) < 0) {
		int rc = -errno;

		shim_db_free(db);
		SHIM_REAL(close)(efd);
		return rc;
	}
	ep->hdr = shim_own_seg()->hdr;
	ep->session = shim_own_seg()->session;
	ep->entry = shim_watch_entry(db);
	ep->efd = efd;
	ep->db = db;
	ipc_db_arm(ep->hdr, (uint32_t)db);
	return 0;
}

/* reg_lock and ep->lock held. */
static int ep_insert(struct shim_epoll *ep, int fd, struct usock *u, const struct epoll_event *ev)
{
	struct ep_item **slot, *it;
	int rc;

	rc = ep_doorbell(ep);
	if (rc)
		return rc;
	if (ep->n == ep->cap) {
		unsigned int cap = ep->cap ? ep->cap * 2 : 16;
		struct ep_item **items = realloc(ep->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		ep->items = items;
		ep->cap = cap;
	}
	slot = ep_slot(ep, fd, true);
	it = calloc(1, sizeof(*it));
	if (!slot || !it) {
		free(it);
		return -ENOMEM;
	}
	atomic_fetch_add(&u->refs, 1);
	it->u = u;
	it->ep = ep;
	it->fd = fd;
	it->events = ev->events;
	it->data = ev->data;
	it->seq_seen = atomic_load(&u->ss->seq) - 1; /* report a ready socket once */
	it->pos = ep->n;
	it->watched = ipc_watch_add(u->ss, ep->entry, shim_interest(ev->events));
	ep->unwatched += !it->watched;
	ep->items[ep->n++] = it;
	*slot = it;
	it->u_next = u->ep_items;
	u->ep_items = it;
	return 0;
}

/* reg_lock and ep->lock held. */
static void ep_remove(struct shim_epoll *ep, struct ep_item *it)
{
	struct usock *u = it->u;
	bool shared = false;

	ep->items[it->pos] = ep->items[--ep->n];
	ep->items[it->pos]->pos = it->pos;
	if (ep->cursor >= ep->n)
		ep->cursor = 0;
	*ep_slot(ep, it->fd, false) = NULL;
	for (struct ep_item **pp = &u->ep_items; *pp; pp = &(*pp)->u_next) {
		if (*pp == it) {
			*pp = it->u_next;
			break;
		}
	}
	/* The same file registered under another fd keeps the entry. */
	for (struct ep_item *o = u->ep_items; o; o = o->u_next)
		shared |= o->ep == ep && o->watched;
	if (it->watched && !shared)
		ipc_watch_del(u->ss, ep->entry);
	ep->unwatched -= !it->watched;
	shim_usock_put(u);
	free(it);
}

void shim_epoll_forget(struct usock *u)
{
	pthread_mutex_lock(&reg_lock);
	while (u->ep_items) {
		struct shim_epoll *ep = u->ep_items->ep;

		pthread_mutex_lock(&ep->lock);
		ep_remove(ep, u->ep_items);
		pthread_mutex_unlock(&ep->lock);
	}
	pthread_mutex_unlock(&reg_lock);
}

/* A registration made before connect() (nginx adds its upstream sockets
 * first) must go on reporting once the socket has gone to the kernel
 * (socket.c: loopback). A one-shot entry that already fired keeps only
 * EPOLLERR and EPOLLHUP, which the kernel cannot switch off. */
void shim_epoll_to_kernel(struct usock *u, int fd)
{
	const uint32_t interest = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND |
				  EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP;
	struct ep_item *it, *next;

	pthread_mutex_lock(&reg_lock);
	for (it = u->ep_items; it; it = next) {
		struct shim_epoll *ep = it->ep;
		struct epoll_event kev = { .events = it->events, .data = it->data };

		next = it->u_next;
		if (it->fd != fd)
			continue;
		if (it->disabled)
			kev.events &= ~interest;
		pthread_mutex_lock(&ep->lock);
		if (SHIM_REAL(epoll_ctl)(ep->kfd, EPOLL_CTL_ADD, fd, &kev) == 0)
			atomic_fetch_add(&ep->nkernel, 1);
		ep_remove(ep, it);
		pthread_mutex_unlock(&ep->lock);
	}
	pthread_mutex_unlock(&reg_lock);
}

/* The last fd of @ep closed: registrations end, the doorbell goes. */
static void ep_clear(struct shim_epoll *ep)
{
	pthread_mutex_lock(&reg_lock);
	pthread_mutex_lock(&ep->lock);
	while (ep->n)
		ep_remove(ep, ep->items[0]);
	pthread_mutex_unlock(&ep->lock);
	pthread_mutex_unlock(&reg_lock);
	if (ep->db < 0)
		return;
	atomic_store(&ep->hdr->doorbell[ep->db], IPC_DB_IDLE);
	/* A forked child's epoll rings its parent's doorbell: not ours to free. */
	if (shim_proc.chan_fd >= 0 && ep->session == shim_own_seg()->session)
		shim_db_free(ep->db);
	SHIM_REAL(close)(ep->efd);
	ep->db = ep->efd = -1;
}

void shim_epoll_close(int fd)
{
	struct shim_epoll *ep;
	bool last = false;

	if (!shim_epoll_fd(fd))
		return;
	pthread_mutex_lock(&eps_lock);
	ep = atomic_exchange(&shim_eps[fd], NULL);
	if (ep && ep->nfds > 1 && ep->kfd == fd) {
		/* The kernel epoll lives on under a dup: use that number. */
		for (unsigned int i = 0; i < SHIM_FD_MAX; i++) {
			if (atomic_load(&shim_eps[i]) == ep) {
				ep->kfd = (int)i;
				break;
			}
		}
	}
	if (ep && --ep->nfds == 0) {
		last = true;
		for (struct shim_epoll **pp = &ep_all; *pp; pp = &(*pp)->all_next) {
			if (*pp == ep) {
				*pp = ep->all_next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&eps_lock);
	if (!ep)
		return;
	if (last)
		ep_clear(ep);
	ep_put(ep);
}

void shim_epoll_dup(int oldfd, int newfd)
{
	struct shim_epoll *ep;

	if (oldfd == newfd || newfd < 0 || (unsigned int)newfd >= SHIM_FD_MAX)
		return;
	shim_epoll_close(newfd); /* dup2 over an epoll fd closed it */
	pthread_mutex_lock(&eps_lock);
	ep = oldfd >= 0 && (unsigned int)oldfd < SHIM_FD_MAX ? atomic_load(&shim_eps[oldfd]) : NULL;
	if (ep) {
		atomic_fetch_add(&ep->refs, 1);
		ep->nfds++;
		atomic_store(&shim_eps[newfd], ep);
	}
	pthread_mutex_unlock(&eps_lock);
}

void shim_epoll_fork_child(void)
{
	/* Another thread may have held any of these at fork. */
	pthread_mutex_init(&eps_lock, NULL);
	pthread_mutex_init(&reg_lock, NULL);
	for (struct shim_epoll *ep = ep_all; ep; ep = ep->all_next)
		pthread_mutex_init(&ep->lock, NULL);
}

/* --- the interposed calls ---------------------------------------------------------- */

SHIM_EXPORT int epoll_create1(int flags)
{
	int fd = SHIM_REAL(epoll_create1)(flags);

	/* Without memory for our half the epoll still serves kernel fds; a
	 * usnet socket added to it adopts it then. */
	if (fd >= 0)
		ep_new(fd);
	return fd;
}

SHIM_EXPORT int epoll_create(int size)
{
	int fd = SHIM_REAL(epoll_create)(size);

	if (fd >= 0)
		ep_new(fd);
	return fd;
}

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct usock *u = shim_fd(fd);
	struct shim_epoll *ep;
	struct ep_item *it;
	int saved = errno, rc = 0;
	bool ring = false;

	if (!u) {
		rc = SHIM_REAL(epoll_ctl)(epfd, op, fd, ev);
		if (rc == 0 && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL)) {
			ep = ep_get(epfd);
			if (ep) {
				unsigned int k = atomic_load(&ep->nkernel);

				if (op == EPOLL_CTL_ADD)
					atomic_fetch_add(&ep->nkernel, 1);
				else /* never below 0, whoever else adds or removes */
					while (k && !atomic_compare_exchange_weak(&ep->nkernel, &k,
										  k - 1))
						;
				ep_put(ep);
			}
		}
		return rc;
	}
	ep = ep_get(epfd);
	if (!ep)
		ep = ep_adopt(epfd);
	if (!ep) {
		/* Not an epoll, or not a descriptor: the kernel says which. */
		struct epoll_event probe = { 0 };

		if (SHIM_REAL(epoll_ctl)(epfd, EPOLL_CTL_DEL, epfd, &probe) < 0 && errno == EBADF)
			return (int)shim_ret(-EBADF, saved);
		return (int)shim_ret(-EINVAL, saved);
	}
	if (op != EPOLL_CTL_DEL && !ev) {
		ep_put(ep);
		return (int)shim_ret(-EFAULT, saved);
	}
	pthread_mutex_lock(&reg_lock);
	pthread_mutex_lock(&ep->lock);
	it = ep_find(ep, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			rc = -EEXIST;
		else
			rc = ep_insert(ep, fd, u, ev);
		ring = rc == 0;
		break;
	case EPOLL_CTL_MOD:
		if (!it) {
			rc = -ENOENT;
		} else if (ev->events & EPOLLEXCLUSIVE) {
			rc = -EINVAL;
		} else {
			it->events = ev->events;
			it->data = ev->data;
			it->disabled = false;
			/* Interest only grows: another fd of the file may
			 * still want what this one no longer does. */
			if (it->watched)
				ipc_watch_add(u->ss, ep->entry, shim_interest(ev->events));
			it->seq_seen = atomic_load(&u->ss->seq) - 1;
			ring = true;
		}
		break;
	case EPOLL_CTL_DEL:
		if (it)
			ep_remove(ep, it);
		else
			rc = -ENOENT;
		break;
	default:
		rc = -EINVAL;
	}
	/* A socket ready now makes the epoll readable now, as in the kernel. */
	if (ring && ep_revents(ep_find(ep, fd)))
		ep_ring_self(ep);
	pthread_mutex_unlock(&ep->lock);
	pthread_mutex_unlock(&reg_lock);
	ep_put(ep);
	return (int)shim_ret(rc, saved);
}

/* Ready usnet sockets into @ev, round-robin; *@more when some were left. */
static int ep_scan(struct shim_epoll *ep, struct epoll_event *ev, int max, bool *more)
{
	unsigned int start, i, k;
	int n = 0;

	pthread_mutex_lock(&ep->lock);
	start = ep->cursor;
	for (k = 0; k < ep->n; k++) {
		struct ep_item *it;
		uint32_t r, seq = 0;

		i = (start + k) % ep->n;
		it = ep->items[i];
		if (it->disabled)
			continue;
		r = ep_revents(it);
		if (!r)
			continue;
		if (it->events & EPOLLET) {
			seq = atomic_load_explicit(&it->u->ss->seq, memory_order_acquire);
			if (seq == it->seq_seen)
				continue;
		}
		if (n == max) {
			*more = true;
			break;
		}
		ev[n].events = r;
		ev[n].data = it->data;
		n++;
		if (it->events & EPOLLET)
			it->seq_seen = seq;
		if (it->events & EPOLLONESHOT)
			it->disabled = true;
		ep->cursor = (i + 1) % ep->n;
	}
	pthread_mutex_unlock(&ep->lock);
	return n;
}

/* Drop our doorbell's entry from what the kernel returned. */
static int ep_filter(struct shim_epoll *ep, struct epoll_event *ev, int n)
{
	int out = 0;

	for (int i = 0; i < n; i++)
		if (ev[i].data.u64 != ep_marker(ep) || ep->db < 0)
			ev[out++] = ev[i];
	return out;
}

/* The eventfd said something: take its count, whatever rang it. */
static void ep_drain(struct shim_epoll *ep)
{
	uint64_t v;

	if (SHIM_REAL(read)(ep->efd, &v, sizeof(v)) < 0)
		(void)0; /* EAGAIN: the write is still on its way */
}

/* The real wait; @left_ns < 0: forever. */
static int ep_kwait(struct shim_epoll *ep, struct epoll_event *ev, int max, int64_t left_ns,
		    const sigset_t *mask)
{
	static _Atomic int no_pwait2;
	int n;

	if (shim_libc.epoll_pwait2 && !atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
		struct timespec ts = { left_ns / 1000000000, left_ns % 1000000000 };

		n = SHIM_REAL(epoll_pwait2)(ep->kfd, ev, max, left_ns < 0 ? NULL : &ts, mask);
		if (n >= 0 || errno != ENOSYS)
			return n;
		atomic_store(&no_pwait2, 1);
	}
	return SHIM_REAL(epoll_pwait)(ep->kfd, ev, max,
				     left_ns < 0 ? -1 : (int)((left_ns + 999999) / 1000000), mask);
}

/* usnet events in ev[0..n): add the kernel's, without waiting. An epoll
 * that never had kernel fds skips the syscall. */
static int ep_with_kernel(struct shim_epoll *ep, struct epoll_event *ev, int n, int max)
{
	int k;

	if (n >= max || !atomic_load_explicit(&ep->nkernel, memory_order_relaxed))
		return n;
	k = SHIM_REAL(epoll_wait)(ep->kfd, ev + n, max - n, 0);
	return k > 0 ? n + ep_filter(ep, ev + n, k) : n;
}

static int ep_wait(struct shim_epoll *ep, struct epoll_event *ev, int max, int64_t timeout_ns,
		   const sigset_t *mask)
{
	int64_t deadline = timeout_ns < 0 ? -1 : shim_now_ns() + timeout_ns;
	bool more = false;
	int n;

	if (max <= 0)
		return -EINVAL;
	for (;;) {
		int64_t left = -1;
		int k;

		n = ep_scan(ep, ev, max, &more);
		if (!n && ep->db >= 0) {
			/* About to sleep: take a pending ring's count, re-arm,
			 * look again (doorbell.h steps 2-3). */
			if (atomic_load(&ep->hdr->doorbell[ep->db]) == IPC_DB_RUNG)
				ep_drain(ep);
			ipc_db_arm(ep->hdr, (uint32_t)ep->db);
			n = ep_scan(ep, ev, max, &more);
		}
		if (n) {
			n = ep_with_kernel(ep, ev, n, max);
			break;
		}
		if (deadline >= 0) {
			left = deadline - shim_now_ns();
			if (left < 0)
				left = 0;
		}
		if (ep->unwatched && (left < 0 || left > EP_UNWATCHED_NS))
			left = EP_UNWATCHED_NS;
		n = ep_kwait(ep, ev, max, left, mask);
		if (n < 0)
			return -errno;
		k = ep_filter(ep, ev, n);
		if (k < n)
			ep_drain(ep);
		n = k;
		if (n) {
			if (n < max)
				n += ep_scan(ep, ev + n, max - n, &more);
			break;
		}
		if (deadline >= 0 && shim_now_ns() >= deadline)
			return 0;
	}
	/* fs/eventpoll.c wakes another waiter when events remain. */
	if (more)
		ep_ring_self(ep);
	return n;
}

static int epoll_common(int epfd, struct epoll_event *ev, int max, int64_t timeout_ns,
			const sigset_t *mask, bool *handled)
{
	struct shim_epoll *ep = ep_get(epfd);
	int rc;

	*handled = ep != NULL;
	if (!ep)
		return 0;
	rc = ep_wait(ep, ev, max, timeout_ns, mask);
	ep_put(ep);
	return rc;
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	int saved = errno, rc;
	bool handled;

	rc = epoll_common(epfd, ev, max, timeout < 0 ? -1 : timeout * 1000000ll, NULL, &handled);
	if (!handled)
		return SHIM_REAL(epoll_wait)(epfd, ev, max, timeout);
	return (int)shim_ret(rc, saved);
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
			    const sigset_t *mask)
{
	int saved = errno, rc;
	bool handled;

	rc = epoll_common(epfd, ev, max, timeout < 0 ? -1 : timeout * 1000000ll, mask, &handled);
	if (!handled)
		return SHIM_REAL(epoll_pwait)(epfd, ev, max, timeout, mask);
	return (int)shim_ret(rc, saved);
}

SHIM_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			     const struct timespec *tmo, const sigset_t *mask)
{
	int saved = errno, rc;
	bool handled;

	if (tmo && (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000))
		return (int)shim_ret(-EINVAL, saved);
	rc = epoll_common(epfd, ev, max, tmo ? tmo->tv_sec * 1000000000ll + tmo->tv_nsec : -1,
			  mask, &handled);
	if (!handled) {
		if (!shim_libc.epoll_pwait2)
			return (int)shim_ret(-ENOSYS, saved);
		return SHIM_REAL(epoll_pwait2)(epfd, ev, max, tmo, mask);
	}
	return (int)shim_ret(rc, saved);
}
