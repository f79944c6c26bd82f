/* SPDX-License-Identifier: MIT */
/*
 * libusnet internals: the real libc entry points, the process's channel and
 * segments, the fd table, and blocking. Everything here returns 0 or a
 * negative errno; only the interposed functions set errno, and they
 * restore the caller's errno on success.
 */
#ifndef USNET_SHIM_SHIM_H
#define USNET_SHIM_SHIM_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "ipc/ctl_msg.h"
#include "ipc/seg.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_FD_MAX (1u << 17)
#define SHIM_SEGS_MAX 17 /* own + SESSION_INHERIT_MAX */

/* The real functions, resolved once in the constructor. */
struct shim_libc {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*close)(int);
	int (*shutdown)(int, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
			    const sigset_t *);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	pid_t (*fork)(void);
	long (*syscall)(long, ...);
};

extern struct shim_libc shim_libc;
extern _Atomic bool shim_ready; /* the constructor has run */
/** shim_resolve() - look the real functions up (once; safe before the constructor) */
struct shim_libc *shim_resolve(void);

/* A real function, also when another library's constructor calls us
 * before ours has run. */
#define SHIM_REAL(name) \
	(__builtin_expect(shim_libc.name != NULL, 1) ? shim_libc.name : shim_resolve()->name)

/* A mapped segment: the process's own, or one inherited across fork. */
struct shim_seg {
	struct ipc_seg_hdr *hdr;
	uint8_t *base;
	uint64_t size, slot_size, rx_size, tx_size;
	uint32_t session, nslots;
	int memfd;
};

/* One usnet socket as this process sees it: one per open file description
 * (dup'd fds share it, as they share O_NONBLOCK in the kernel). */
struct ep_item;

struct usock {
	_Atomic int refs; /* fd table entries and epoll items */
	_Atomic int nfds; /* fd table entries: 0 once the file is closed */
	struct ep_item *ep_items; /* epoll registrations (epoll.c's lock) */
	struct shim_seg *seg;
	struct ipc_sock *ss;
	struct ipc_fifo_ref rx, tx;
	uint32_t id, gen;
	int domain;
	_Atomic int nonblock;
	_Atomic int64_t rcvtimeo_us; /* 0: none */
	_Atomic int64_t sndtimeo_us;
	_Atomic int rcvlowat;
	_Atomic int v6only;
	_Atomic int listening;
	_Atomic uint32_t opts_set; /* options the program set (socket.c: loopback) */
	/* Options waiting to ride on the first request that names the
	 * socket (ctl_preopt); once one has, options go at once. */
	atomic_flag pre_lock;
	bool named;
	uint32_t npre;
	struct ctl_preopt pre[CTL_PREOPT_MAX];
};

/* Process state; rebuilt in a forked child. */
struct shim_proc {
	pthread_mutex_t lock; /* the channel, segments, doorbell allocation */
	int chan_fd; /* -1 until the first usnet socket */
	int wake_fd; /* the worker's eventfd */
	uint32_t seq;
	bool failed; /* usnetd unreachable: said once */
	_Atomic bool gone; /* usnetd hung up our channel: it exited (kept across fork) */
	struct shim_seg segs[SHIM_SEGS_MAX]; /* inherited ones first; see shim_own_seg() */
	unsigned int nsegs;
	unsigned int own; /* index of our own segment in segs[] (after hello) */
	uint64_t db_used[IPC_DOORBELLS / 64];
	pid_t pid;
	/* USNET_CONTROL as the program started: a forked child may meet
	 * usnetd after the program cleared its environment (nginx does). */
	char control[108];
};

extern struct shim_proc shim_proc;
extern _Atomic(struct usock *) shim_fds[SHIM_FD_MAX];
extern bool shim_fallback_kernel;

/** shim_fd() - the usnet socket behind @fd, or NULL (not ours) */
static inline struct usock *shim_fd(int fd)
{
	if (fd < 0 || (unsigned int)fd >= SHIM_FD_MAX)
		return NULL;
	return atomic_load_explicit(&shim_fds[fd], memory_order_acquire);
}

/**
 * shim_own_seg() - this process's own segment. A forked child maps its
 * own behind those it inherited, segments claimed after exec come after
 * it, and an entry never moves once mapped: usock.seg points at it.
 */
static inline struct shim_seg *shim_own_seg(void)
{
	return &shim_proc.segs[shim_proc.own];
}

/**
 * shim_usock_live() - is @u's socket still open in usnetd? A slot freed
 * behind a thread still blocked on it (another thread closed the fd) may
 * already hold a new socket: its generation tells them apart.
 */
static inline bool shim_usock_live(const struct usock *u)
{
	return atomic_load_explicit(&u->ss->state, memory_order_acquire) == IPC_SOCK_LIVE &&
	       __atomic_load_n(&u->ss->gen, __ATOMIC_RELAXED) == u->gen;
}

/** shim_interest() - what a waiter for poll/epoll @events waits for (IPC_W_*) */
static inline uint32_t shim_interest(uint32_t events)
{
	uint32_t w = 0;

	if (events & (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI | POLLRDHUP))
		w |= IPC_W_IN;
	if (events & (POLLOUT | POLLWRNORM | POLLWRBAND))
		w |= IPC_W_OUT;
	return w;
}

/** shim_now_ns() - CLOCK_MONOTONIC, for timeouts */
static inline int64_t shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* init.c */
void shim_init(void);
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* chan.c */
/**
 * shim_chan_ready() - connect to usnetd if not yet done.
 * Return: 0, -errno (message printed once).
 */
int shim_chan_ready(void);
/**
 * shim_request() - one request/reply on the channel; a descriptor in
 * @fd_in (or -1) goes along, one that comes back lands in *@fd_out.
 * Return: the reply's status (0 or -errno).
 */
int shim_request(uint16_t type, const void *req, size_t len, int fd_in, void *rep,
		 size_t replen, int *fd_out);
/**
 * shim_request_fds() - shim_request() whose reply may carry up to @max
 * descriptors (the rest are closed), into @fds[0..*@nfds).
 */
int shim_request_fds(uint16_t type, const void *req, size_t len, int fd_in, void *rep,
		     size_t replen, int *fds, unsigned int max, unsigned int *nfds);
struct shim_seg *shim_seg_by_session(uint32_t session);
/** shim_seg_map() - map segment @memfd with @rep's geometry into @g */
int shim_seg_map(struct shim_seg *g, const struct ctl_hello_rep *rep, int memfd);

/* stock.c */
/** shim_stock_init() - size the socket stock (constructor) */
void shim_stock_init(void);
/**
 * shim_stock_socket() - a new usnet socket for socket(): from the stock,
 * or from usnetd (restocking). Return: fd, -errno.
 */
int shim_stock_socket(int domain, int protocol, int flags);
/**
 * shim_stock_forget() - the program closes or replaces @fd, a number it
 * believes free: if a spare sits there, it is no longer ours.
 * Return: whether one did (close() then says EBADF).
 */
bool shim_stock_forget(int fd);
void shim_stock_fork_child(void);

/* socket.c */
/** shim_adopt() - take placeholder @fd of new socket @rep as the program's. Return: fd, -errno */
int shim_adopt(int fd, const struct ctl_sock_rep *rep, int domain, int flags);

/* exec.c */
/** shim_exec_adopt() - claim the usnet sockets this image inherited across exec */
void shim_exec_adopt(void);
void shim_fork_child(void);

/* fdtab.c */
struct usock *shim_usock_new(struct shim_seg *seg, uint32_t slot, uint32_t id, uint32_t gen,
			     int domain);
void shim_fd_set(int fd, struct usock *u);
/** shim_fd_drop() - forget @fd (its usock loses a reference) */
void shim_fd_drop(int fd);
void shim_usock_put(struct usock *u);

/* wait.c */
/* What a waiter wants of a socket. */
#define SHIM_W_IN 1u
#define SHIM_W_OUT 2u
/** shim_revents() - poll(2) bits for @u now (POLLIN, POLLOUT, POLLHUP...) */
uint32_t shim_revents(struct usock *u);
/**
 * shim_wait() - sleep until @u has one of @events (poll bits) or an error,
 * @timeout_us passes (-1 forever), or a signal arrives.
 * Return: 0, -EAGAIN on timeout, -EINTR, -ENETDOWN if usnetd is gone.
 */
int shim_wait(struct usock *u, uint32_t events, int64_t timeout_us);
/** shim_kick() - tell usnetd that @u needs attention */
void shim_kick(struct usock *u);
/** shim_thread_db() - this thread's doorbell index, or -errno */
int shim_thread_db(int *efd);
uint32_t shim_watch_entry(int db);
/** shim_db_alloc() - a doorbell index for eventfd @efd, registered with usnetd */
int shim_db_alloc(int efd);
void shim_db_free(int idx);
/** shim_db_drain() - doorbell.h step 5 after a sleep that @efd did not end */
void shim_db_drain(int efd);
/** shim_wait_fork_child() - forget the parent's thread doorbell */
void shim_wait_fork_child(void);

/* epoll.c */
/** shim_epoll_forget() - the last fd of @u is closing: drop its registrations */
void shim_epoll_forget(struct usock *u);
/**
 * shim_epoll_to_kernel() - @fd, which named @u, now names a kernel socket:
 * @u's registrations under @fd move into the kernel epolls they belong to.
 */
void shim_epoll_to_kernel(struct usock *u, int fd);
/** shim_epoll_fd() - is @fd one of our epoll instances? */
bool shim_epoll_fd(int fd);
/** shim_epoll_dup() - @newfd now names the epoll behind @oldfd */
void shim_epoll_dup(int oldfd, int newfd);
/** shim_epoll_close() - @fd (an epoll instance or nothing) is being closed */
void shim_epoll_close(int fd);
void shim_epoll_fork_child(void);

/* socket.c helpers shared with io.c */
int shim_sockaddr_in(const struct usock *u, const struct sockaddr *sa, socklen_t len,
		     struct ctl_addr *out);
void shim_sockaddr_out(const struct usock *u, const struct ctl_addr *a, struct sockaddr *sa,
		       socklen_t *len);
/**
 * shim_sock_req() - a request naming @u, carrying the options that waited
 * for one. Return: whether it is the first request to name @u.
 */
bool shim_sock_req(struct usock *u, struct ctl_sock_req *r);

/* io.c */
ssize_t shim_recv(struct usock *u, const struct iovec *iov, int iovcnt, int flags);
ssize_t shim_send(struct usock *u, const struct iovec *iov, int iovcnt, int flags);

/* glibc's _FORTIFY_SOURCE entry points we interpose (not in its headers). */
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *salen);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
		size_t fdslen);

/* Errno handling for the interposed functions. */
static inline long shim_ret(long rc, int saved_errno)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	errno = saved_errno;
	return rc;
}

#endif
