// SPDX-License-Identifier: MIT
/*
 * Readiness and blocking. A socket's poll bits come from shared memory:
 * usnetd's ready word plus what the fifos hold. A thread that must sleep
 * uses its own doorbell (an eventfd registered with usnetd) and the
 * protocol of ipc/doorbell.h, and it sleeps only inside a real syscall
 * that carries the program's signal mask: poll() on the eventfd and on
 * the control channel, whose hang-up is how a sleeper learns that usnetd
 * has exited or was killed (nothing would ever ring its doorbell again).
 * The eventfd is read only after poll() said it is readable: usnetd made
 * it non-blocking (session.c), and the flag is on the file both hold.
 * A signal handler ends the sleep with EINTR when the socket has a
 * timeout, as SO_RCVTIMEO sockets give; without one, the call goes on
 * sleeping if the handler has SA_RESTART, as recv() would be restarted.
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipc/doorbell.h"
#include "shim.h"

static __thread int db_idx = -1;
static __thread int db_efd = -1;
static pthread_key_t db_key;
static pthread_once_t db_once = PTHREAD_ONCE_INIT;

static void db_release(void *arg)
{
	int idx = db_idx;

	if (idx < 0)
		return;
	/* The slot may be reused by another thread once usnetd has the new
	 * eventfd; until then our closed one only makes writes fail. */
	shim_db_free(idx);
	SHIM_REAL(close)(db_efd);
	db_idx = db_efd = -1;
}

static void db_key_init(void)
{
	pthread_key_create(&db_key, db_release);
}

void shim_wait_fork_child(void)
{
	/* The forking thread's doorbell is registered with the parent. */
	if (db_efd >= 0)
		SHIM_REAL(close)(db_efd);
	db_idx = db_efd = -1;
}

int shim_db_alloc(int efd)
{
	struct ctl_doorbell d = { 0 };
	int idx = -1, rc;

	pthread_mutex_lock(&shim_proc.lock);
	for (unsigned int i = 0; i < IPC_DOORBELLS && idx < 0; i++) {
		if (!(shim_proc.db_used[i / 64] & (1ull << (i % 64)))) {
			shim_proc.db_used[i / 64] |= 1ull << (i % 64);
			idx = (int)i;
		}
	}
	pthread_mutex_unlock(&shim_proc.lock);
	if (idx < 0)
		return -EMFILE;
	d.index = (uint32_t)idx;
	rc = shim_request(CTL_DOORBELL, &d, sizeof(d), efd, NULL, 0, NULL);
	if (rc) {
		shim_db_free(idx);
		return rc;
	}
	return idx;
}

void shim_db_free(int idx)
{
	pthread_mutex_lock(&shim_proc.lock);
	shim_proc.db_used[idx / 64] &= ~(1ull << (idx % 64));
	pthread_mutex_unlock(&shim_proc.lock);
}

int shim_thread_db(int *efd)
{
	int idx, fd, rc;

	if (db_idx >= 0) {
		*efd = db_efd;
		return db_idx;
	}
	rc = shim_chan_ready();
	if (rc)
		return rc;
	pthread_once(&db_once, db_key_init);
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	idx = shim_db_alloc(fd);
	if (idx < 0) {
		SHIM_REAL(close)(fd);
		return idx;
	}
	db_idx = idx;
	db_efd = fd;
	pthread_setspecific(db_key, &db_idx);
	*efd = fd;
	return idx;
}

uint32_t shim_watch_entry(int db)
{
	return ipc_watch_entry(shim_own_seg()->session, (uint32_t)db);
}

uint32_t shim_revents(struct usock *u)
{
	uint32_t r = atomic_load(&u->ss->ready);

	if (!shim_usock_live(u) ||
	    atomic_load_explicit(&shim_proc.gone, memory_order_relaxed))
		return POLLERR | POLLHUP | POLLIN;
	return ipc_ready_events(r, ipc_fifo_used(&u->rx), ipc_fifo_used(&u->tx),
				atomic_load_explicit(&u->ss->tx_limit, memory_order_relaxed));
}

void shim_kick(struct usock *u)
{
	uint32_t slot = (uint32_t)(u->id & 0xffffu);

	if (ipc_kick(u->seg->hdr, slot) && shim_proc.wake_fd >= 0) {
		uint64_t one = 1;

		if (SHIM_REAL(write)(shim_proc.wake_fd, &one, sizeof(one)) < 0)
			(void)0; /* usnetd gone: the socket reports it */
	}
}

static int64_t now_us(void)
{
	return shim_now_ns() / 1000;
}

/* One sleep on @efd and on the channel (events 0: only its hang-up, which
 * poll() always reports); a hang-up marks usnetd gone. Return: poll's. */
static int sleep_on(struct pollfd p[2], int efd, int timeout_ms)
{
	int n;

	p[0] = (struct pollfd){ .fd = efd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = shim_proc.chan_fd };
	n = SHIM_REAL(poll)(p, 2, timeout_ms);
	if (n > 0 && (p[1].revents & (POLLHUP | POLLERR)))
		atomic_store(&shim_proc.gone, true);
	return n;
}

void shim_db_drain(int efd)
{
	struct pollfd p[2];
	uint64_t v;

	/* usnetd has set RUNG but may not have written the eventfd yet; it
	 * may also die in between, and then only the channel tells. */
	while (!atomic_load(&shim_proc.gone)) {
		if (sleep_on(p, efd, -1) > 0 && (p[0].revents & POLLIN)) {
			SHIM_REAL(read)(efd, &v, sizeof(v));
			return;
		}
	}
}

/*
 * A handler ran while we slept in poll(), which the kernel never restarts.
 * A blocking recv() or send() without a timeout would have been restarted
 * if that handler had SA_RESTART. Which signal it was is not known here:
 * restart only if every handler the program has installed has SA_RESTART,
 * those of the signals a fault raises aside (the sanitizers' have none,
 * and such a signal does not arrive during a sleep).
 */
static bool sig_restarts(void)
{
	sigset_t faults;

	sigemptyset(&faults);
	sigaddset(&faults, SIGSEGV);
	sigaddset(&faults, SIGBUS);
	sigaddset(&faults, SIGFPE);
	sigaddset(&faults, SIGILL);
	sigaddset(&faults, SIGTRAP);
	sigaddset(&faults, SIGSYS);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigismember(&faults, sig) || sigaction(sig, NULL, &sa) < 0 ||
		    sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

int shim_wait(struct usock *u, uint32_t events, int64_t timeout_us)
{
	int64_t deadline = timeout_us >= 0 ? now_us() + timeout_us : -1;
	struct ipc_seg_hdr *own;
	struct pollfd p[2];
	uint32_t entry;
	int efd, db, rc = 0;
	bool named;
	uint64_t v;

	db = shim_thread_db(&efd);
	if (db < 0)
		return db;
	own = shim_own_seg()->hdr;
	entry = shim_watch_entry(db);
	/* No room to be named in the socket: nobody rings for us; look again
	 * every millisecond. */
	named = ipc_watch_add(u->ss, entry, shim_interest(events));
	for (;;) {
		int64_t left = -1;
		int n;

		ipc_db_arm(own, (uint32_t)db);
		if (shim_revents(u) & (events | POLLERR | POLLHUP))
			break;
		if (deadline >= 0) {
			left = deadline - now_us();
			if (left <= 0) {
				rc = -EAGAIN;
				break;
			}
		}
		if (!named && (left < 0 || left > 1000))
			left = 1000;
		n = sleep_on(p, efd, left < 0 ? -1 : (int)((left + 999) / 1000));
		if (n < 0 && errno == EINTR && (deadline >= 0 || !sig_restarts())) {
			rc = -EINTR;
			break;
		}
		if (ipc_db_disarm(own, (uint32_t)db)) {
			if (n > 0 && (p[0].revents & POLLIN))
				SHIM_REAL(read)(efd, &v, sizeof(v));
			else
				shim_db_drain(efd);
		}
	}
	if (ipc_db_disarm(own, (uint32_t)db))
		shim_db_drain(efd);
	ipc_watch_del(u->ss, entry);
	/* Nothing of the socket is left to wait for (connect, accept). */
	if (!rc && atomic_load(&shim_proc.gone))
		rc = -ENETDOWN;
	return rc;
}
