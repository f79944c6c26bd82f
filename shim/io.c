// SPDX-License-Identifier: MIT
/*
 * Data calls on usnet sockets: copies between the program's buffers and
 * the slot's fifos, with no syscall while data and room are there. A
 * thread sleeps (wait.c) only when the fifo is empty or full and the call
 * may block; a per-direction lock in the slot serialises the threads and
 * processes that share a socket, as the kernel's socket lock does.
 */
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

static void slot_lock(_Atomic uint32_t *l)
{
	uint32_t z = 0;

	if (atomic_compare_exchange_strong(l, &z, 1))
		return;
	while (atomic_exchange(l, 2) != 0)
		SHIM_REAL(syscall)(SYS_futex, l, FUTEX_WAIT, 2, NULL, NULL, 0);
}

static void slot_unlock(_Atomic uint32_t *l)
{
	if (atomic_exchange(l, 0) == 2)
		SHIM_REAL(syscall)(SYS_futex, l, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* @iov advanced by @done bytes into @tmp (at most IOV_MAX entries). */
static int iov_advance(const struct iovec *iov, int n, size_t done, struct iovec *tmp)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		tmp[k].iov_base = (char *)iov[i].iov_base + done;
		tmp[k].iov_len = iov[i].iov_len - done;
		done = 0;
		k++;
	}
	return k;
}

static int take_err(struct usock *u)
{
	int err = atomic_exchange(&u->ss->err, 0);

	return err ? -err : 0;
}

ssize_t shim_recv(struct usock *u, const struct iovec *iov, int iovcnt, int flags)
{
	size_t want = iov_total(iov, iovcnt), done = 0;
	bool block = !(flags & MSG_DONTWAIT) && !atomic_load(&u->nonblock);
	struct iovec tmp[64];
	ssize_t rc = 0;

	if (flags & ~(MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC))
		return -EOPNOTSUPP;
	if (atomic_load(&u->listening))
		return -ENOTCONN;
	if (iovcnt < 0 || iovcnt > 64)
		return -EINVAL;
	if (!want)
		return 0;
	for (;;) {
		uint32_t r;
		ssize_t n;

		slot_lock(&u->ss->rx_lock);
		n = ipc_fifo_peekv(&u->rx, 0, tmp, iov_advance(iov, iovcnt, done, tmp));
		if (n > 0 && !(flags & MSG_PEEK))
			ipc_fifo_consume(&u->rx, (uint64_t)n);
		slot_unlock(&u->ss->rx_lock);
		if (n < 0)
			return -EIO;
		if (n > 0) {
			done += (size_t)n;
			if (!(flags & MSG_PEEK) &&
			    atomic_load_explicit(&u->ss->rx_kick, memory_order_relaxed))
				shim_kick(u);
			if (!(flags & MSG_WAITALL) || (flags & MSG_PEEK) || done == want || !block)
				return (ssize_t)done;
			continue;
		}
		r = atomic_load(&u->ss->ready);
		if (r & IPC_R_ERR) {
			rc = take_err(u);
			if (rc)
				return done ? (ssize_t)done : rc;
		}
		if (!shim_usock_live(u))
			return done ? (ssize_t)done : -ECONNRESET;
		/* usnetd has exited: what the fifo held was read, and nothing
		 * more will come (the socket reports POLLERR, never EAGAIN). */
		if (atomic_load(&shim_proc.gone))
			return done ? (ssize_t)done : -ENETDOWN;
		if (r & (IPC_R_RDHUP | IPC_R_HUP) || (atomic_load(&u->ss->shut) & IPC_SHUT_RD))
			return (ssize_t)done;
		if (!(r & (IPC_R_CONNECTED | IPC_R_CONNECTING)))
			return done ? (ssize_t)done : -ENOTCONN;
		if (!block)
			return done ? (ssize_t)done : -EAGAIN;
		rc = shim_wait(u, POLLIN, atomic_load(&u->rcvtimeo_us) ?: -1);
		if (rc)
			return done ? (ssize_t)done : rc;
	}
}

static ssize_t epipe(int flags)
{
	if (!(flags & MSG_NOSIGNAL))
		pthread_kill(pthread_self(), SIGPIPE);
	return -EPIPE;
}

ssize_t shim_send(struct usock *u, const struct iovec *iov, int iovcnt, int flags)
{
	size_t want = iov_total(iov, iovcnt), done = 0;
	bool block = !(flags & MSG_DONTWAIT) && !atomic_load(&u->nonblock);
	struct iovec tmp[64];
	ssize_t rc;

	if (iovcnt < 0 || iovcnt > 64)
		return -EINVAL;
	for (;;) {
		uint32_t r = atomic_load(&u->ss->ready);
		ssize_t n;

		if (r & IPC_R_ERR) {
			rc = take_err(u);
			if (rc)
				return done ? (ssize_t)done : rc;
		}
		if (!shim_usock_live(u))
			return done ? (ssize_t)done : epipe(flags);
		if (atomic_load(&shim_proc.gone))
			return done ? (ssize_t)done : -ENETDOWN;
		if ((r & IPC_R_WRHUP) || (atomic_load(&u->ss->shut) & IPC_SHUT_WR))
			return done ? (ssize_t)done : epipe(flags);
		if (!(r & IPC_R_CONNECTED)) {
			if (!(r & IPC_R_CONNECTING))
				return done ? (ssize_t)done : epipe(flags);
			n = 0;
		} else {
			uint64_t limit = atomic_load_explicit(&u->ss->tx_limit,
							      memory_order_relaxed);

			slot_lock(&u->ss->tx_lock);
			n = ipc_fifo_writev(&u->tx, limit ? limit : u->tx.size, tmp,
					    iov_advance(iov, iovcnt, done, tmp));
			slot_unlock(&u->ss->tx_lock);
			if (n < 0)
				return -EIO;
			if (n > 0) {
				shim_kick(u);
				done += (size_t)n;
			}
		}
		if (done == want || (done && !block))
			return (ssize_t)done;
		if (!block)
			return -EAGAIN;
		rc = shim_wait(u, POLLOUT, atomic_load(&u->sndtimeo_us) ?: -1);
		if (rc)
			return done ? (ssize_t)done : rc;
	}
}

#define WRAP_RET(expr) \
	({ int saved_ = errno; (ssize_t)shim_ret((expr), saved_); })

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct usock *u = shim_fd(fd);
	struct iovec v = { buf, len };

	if (!u)
		return SHIM_REAL(recv)(fd, buf, len, flags);
	return WRAP_RET(shim_recv(u, &v, 1, flags));
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__builtin_trap();
	return recv(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
			     socklen_t *salen)
{
	struct usock *u = shim_fd(fd);
	struct iovec v = { buf, len };

	if (!u)
		return SHIM_REAL(recvfrom)(fd, buf, len, flags, sa, salen);
	/* TCP leaves the address alone and says it is empty, as Linux. */
	if (salen)
		*salen = 0;
	return WRAP_RET(shim_recv(u, &v, 1, flags));
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				   struct sockaddr *sa, socklen_t *salen)
{
	if (len > buflen)
		__builtin_trap();
	return recvfrom(fd, buf, len, flags, sa, salen);
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	struct usock *u = shim_fd(fd);
	ssize_t rc;

	if (!u)
		return SHIM_REAL(recvmsg)(fd, m, flags);
	rc = WRAP_RET(shim_recv(u, m->msg_iov, (int)m->msg_iovlen, flags));
	if (rc >= 0) {
		m->msg_namelen = 0;
		m->msg_controllen = 0;
		m->msg_flags = 0;
	}
	return rc;
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
			 struct timespec *timeout)
{
	struct usock *u = shim_fd(fd);
	unsigned int i;

	if (!u)
		return SHIM_REAL(recvmmsg)(fd, v, n, flags, timeout);
	for (i = 0; i < n; i++) {
		ssize_t r = recvmsg(fd, &v[i].msg_hdr, i ? flags | MSG_DONTWAIT : flags);

		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
		if (!r)
			return (int)i + 1;
	}
	return (int)i;
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct usock *u = shim_fd(fd);
	struct iovec v = { buf, len };

	if (!u)
		return SHIM_REAL(read)(fd, buf, len);
	return WRAP_RET(shim_recv(u, &v, 1, 0));
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__builtin_trap();
	return read(fd, buf, len);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	struct usock *u = shim_fd(fd);

	if (!u)
		return SHIM_REAL(readv)(fd, iov, n);
	return WRAP_RET(shim_recv(u, iov, n, 0));
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct usock *u = shim_fd(fd);
	struct iovec v = { (void *)buf, len };

	if (!u)
		return SHIM_REAL(send)(fd, buf, len, flags);
	return WRAP_RET(shim_send(u, &v, 1, flags));
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *sa, socklen_t salen)
{
	struct usock *u = shim_fd(fd);
	struct iovec v = { (void *)buf, len };

	if (!u)
		return SHIM_REAL(sendto)(fd, buf, len, flags, sa, salen);
	return WRAP_RET(shim_send(u, &v, 1, flags));
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct usock *u = shim_fd(fd);

	if (!u)
		return SHIM_REAL(sendmsg)(fd, m, flags);
	return WRAP_RET(shim_send(u, m->msg_iov, (int)m->msg_iovlen, flags));
}

SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct usock *u = shim_fd(fd);
	unsigned int i;

	if (!u)
		return SHIM_REAL(sendmmsg)(fd, v, n, flags);
	for (i = 0; i < n; i++) {
		ssize_t r = sendmsg(fd, &v[i].msg_hdr, flags);

		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct usock *u = shim_fd(fd);
	struct iovec v = { (void *)buf, len };

	if (!u)
		return SHIM_REAL(write)(fd, buf, len);
	return WRAP_RET(shim_send(u, &v, 1, 0));
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	struct usock *u = shim_fd(fd);

	if (!u)
		return SHIM_REAL(writev)(fd, iov, n);
	return WRAP_RET(shim_send(u, iov, n, 0));
}

/* sendfile to a usnet socket: read the file through a buffer (no
 * zero-copy path into the fifo yet). */
SHIM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	struct usock *u = shim_fd(out);
	char buf[65536];
	size_t done = 0;
	int saved = errno;

	if (!u)
		return SHIM_REAL(sendfile)(out, in, off, count);
	while (done < count) {
		size_t want = count - done < sizeof(buf) ? count - done : sizeof(buf);
		ssize_t n = off ? pread(in, buf, want, *off) : SHIM_REAL(read)(in, buf, want);
		struct iovec v = { buf, 0 };
		ssize_t w;

		if (n < 0)
			return done ? (ssize_t)done : -1;
		if (n == 0)
			break;
		v.iov_len = (size_t)n;
		w = shim_send(u, &v, 1, 0);
		if (w < 0) {
			if (done)
				break;
			return (ssize_t)shim_ret(w, saved);
		}
		if (off)
			*off += w;
		else if (w < n)
			lseek(in, w - n, SEEK_CUR);
		done += (size_t)w;
		if (w < n)
			break;
	}
	errno = saved;
	return (ssize_t)done;
}

SHIM_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
	__attribute__((alias("sendfile")));
