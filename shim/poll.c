// SPDX-License-Identifier: MIT
/*
 * poll, ppoll, select and pselect over a mix of usnet and kernel fds. usnet
 * sockets answer from shared memory; when nothing is ready the thread
 * names its doorbell in each usnet socket and makes one real ppoll() over
 * the kernel fds plus its doorbell's eventfd, with the program's timeout
 * and signal mask, so that signals interrupt it as they would without
 * usnet. The control channel is in the set too, for its hang-up alone:
 * usnetd has exited, and every usnet socket reports POLLERR|POLLHUP.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/doorbell.h"
#include "shim.h"

/* usnet entries' revents; Return: how many are ready. */
static int scan(struct pollfd *fds, nfds_t n, struct usock **us)
{
	int ready = 0;

	for (nfds_t i = 0; i < n; i++) {
		if (!us[i])
			continue;
		fds[i].revents = (short)(shim_revents(us[i]) &
					 ((uint32_t)fds[i].events | POLLERR | POLLHUP));
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

static int do_poll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		   const sigset_t *mask)
{
	struct usock *ustack[64], **us = ustack;
	struct pollfd kstack[66], *k = kstack;
	int64_t deadline = tmo ? shim_now_ns() + tmo->tv_sec * 1000000000ll + tmo->tv_nsec : -1;
	int efd = -1, db = -1, rc, ready;
	struct ipc_seg_hdr *own = NULL;
	uint32_t entry = 0;
	nfds_t nkernel = 0;
	bool unnamed = false;

	if (n > 64) {
		us = calloc(n, sizeof(*us));
		k = calloc(n + 2, sizeof(*k));
		if (!us || !k) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (nfds_t i = 0; i < n; i++) {
		us[i] = shim_fd(fds[i].fd);
		nkernel += !us[i] && fds[i].fd >= 0; /* poll ignores a negative fd */
		k[i] = fds[i];
		if (us[i])
			k[i].fd = -1; /* the placeholder says nothing */
	}
	/* Only usnet sockets, one ready: shared memory said all there is
	 * to say, without a syscall. */
	if (!nkernel) {
		ready = scan(fds, n, us);
		if (ready) {
			for (nfds_t i = 0; i < n; i++)
				if (!us[i])
					fds[i].revents = 0;
			rc = ready;
			goto out;
		}
	}
	db = shim_thread_db(&efd);
	if (db < 0) {
		rc = db;
		goto out;
	}
	own = shim_own_seg()->hdr;
	entry = shim_watch_entry(db);
	for (nfds_t i = 0; i < n; i++)
		if (us[i] && !ipc_watch_add(us[i]->ss, entry, shim_interest((uint16_t)fds[i].events)))
			unnamed = true; /* no room in its watch[]: look every ms */
	k[n].fd = efd;
	k[n].events = POLLIN;
	k[n + 1].fd = shim_proc.chan_fd;
	k[n + 1].events = 0;
	for (;;) {
		struct timespec left, *lp = NULL;
		uint64_t v;
		int kn;

		ipc_db_arm(own, (uint32_t)db);
		ready = scan(fds, n, us);
		if (ready) {
			/* Kernel fds may be ready too: look without waiting. */
			left.tv_sec = left.tv_nsec = 0;
			lp = &left;
		} else if (deadline >= 0) {
			int64_t l = deadline - shim_now_ns();

			if (l < 0)
				l = 0;
			left.tv_sec = l / 1000000000;
			left.tv_nsec = l % 1000000000;
			lp = &left;
		}
		if (!ready && unnamed && (!lp || left.tv_sec || left.tv_nsec > 1000000)) {
			left.tv_sec = 0;
			left.tv_nsec = 1000000;
			lp = &left;
		}
		kn = SHIM_REAL(ppoll)(k, n + 2, lp, mask);
		if (kn < 0)
			rc = -errno;
		else if (k[n + 1].revents & (POLLHUP | POLLERR))
			atomic_store(&shim_proc.gone, true);
		if (ipc_db_disarm(own, (uint32_t)db)) {
			if (kn > 0 && (k[n].revents & POLLIN))
				SHIM_REAL(read)(efd, &v, sizeof(v));
			else
				shim_db_drain(efd);
		}
		if (kn < 0)
			goto out;
		ready = scan(fds, n, us);
		for (nfds_t i = 0; i < n; i++) {
			if (us[i])
				continue;
			fds[i].revents = k[i].revents;
			ready += k[i].revents != 0;
		}
		if (ready || (lp && !lp->tv_sec && !lp->tv_nsec && deadline >= 0 &&
			      shim_now_ns() >= deadline)) {
			rc = ready;
			goto out;
		}
		if (deadline >= 0 && shim_now_ns() >= deadline) {
			rc = 0;
			goto out;
		}
	}
out:
	for (nfds_t i = 0; own && i < n; i++)
		if (us[i])
			ipc_watch_del(us[i]->ss, entry);
	if (us != ustack)
		free(us);
	if (k != kstack)
		free(k);
	return rc;
}

static bool any_ours(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (shim_fd(fds[i].fd))
			return true;
	return false;
}

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };
	int saved = errno;

	if (!any_ours(fds, n))
		return SHIM_REAL(poll)(fds, n, timeout);
	return (int)shim_ret(do_poll(fds, n, timeout < 0 ? NULL : &ts, NULL), saved);
}

SHIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__builtin_trap();
	return poll(fds, n, timeout);
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		      const sigset_t *mask)
{
	int saved = errno;

	if (!any_ours(fds, n))
		return SHIM_REAL(ppoll)(fds, n, tmo, mask);
	return (int)shim_ret(do_poll(fds, n, tmo, mask), saved);
}

SHIM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
			    const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__builtin_trap();
	return ppoll(fds, n, tmo, mask);
}

/* select through poll when a usnet fd is in a set. */
static int do_select(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
		     const sigset_t *mask, bool *handled)
{
	struct pollfd *p;
	int n = 0, rc, out = 0;
	bool ours = false;

	*handled = false;
	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	for (int fd = 0; fd < nfds; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) &&
		    shim_fd(fd))
			ours = true;
	if (!ours)
		return 0;
	*handled = true;
	p = calloc((size_t)nfds + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (e && FD_ISSET(fd, e))
			ev |= POLLPRI;
		if (!ev)
			continue;
		p[n].fd = fd;
		p[n].events = ev;
		n++;
	}
	rc = do_poll(p, (nfds_t)n, tmo, mask);
	if (rc < 0)
		goto done;
	for (int i = 0; i < n; i++) {
		if (p[i].revents & POLLNVAL) {
			rc = -EBADF;
			goto done;
		}
	}
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (e)
		FD_ZERO(e);
	for (int i = 0; i < n; i++) {
		short re = p[i].revents;

		if (r && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, r);
			out++;
		}
		if (w && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, w);
			out++;
		}
		if (e && (p[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(p[i].fd, e);
			out++;
		}
	}
	rc = out;
done:
	free(p);
	return rc;
}

SHIM_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct timespec ts;
	int saved = errno, rc;
	bool handled;

	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
	}
	rc = do_select(nfds, r, w, e, tv ? &ts : NULL, NULL, &handled);
	if (!handled && rc == 0)
		return SHIM_REAL(select)(nfds, r, w, e, tv);
	return (int)shim_ret(rc, saved);
}

SHIM_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
			const sigset_t *mask)
{
	int saved = errno, rc;
	bool handled;

	rc = do_select(nfds, r, w, e, tmo, mask, &handled);
	if (!handled && rc == 0)
		return SHIM_REAL(pselect)(nfds, r, w, e, tmo, mask);
	return (int)shim_ret(rc, saved);
}
