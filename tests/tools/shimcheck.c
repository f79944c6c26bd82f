// SPDX-License-Identifier: MIT
/*
 * Socket semantics a program sees under libusnet, each checked against
 * what the Linux kernel does: run as `usnet run -- shimcheck PEER PORT`
 * with an echo server at PEER:PORT (tests/integration/shim_calls.sh).
 * Every check prints "ok: ..." or "FAIL: ..."; the exit status is the
 * number of failures. The loopback checks need no server: they listen on
 * 127.0.0.1 themselves, which under usnet is the kernel's loopback of the
 * namespace the program runs in (libusnet(7): Loopback). "privport" mode only tries to bind port 80 and
 * expects EACCES (run as an unprivileged user); "privport granted" expects
 * the bind to work (run with CAP_NET_BIND_SERVICE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static struct sockaddr_in peer;

static int connected(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
		printf("FAIL: connect: %s\n", strerror(errno));
		exit(100);
	}
	return fd;
}

static void check_nonblocking_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1, rc;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(err);

	rc = connect(fd, (struct sockaddr *)&peer, sizeof(peer));
	CHECK(rc < 0 && errno == EINPROGRESS, "non-blocking connect gives EINPROGRESS");
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "poll reports POLLOUT once connected");
	rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK(rc == 0 && err == 0, "SO_ERROR is 0 after the connect");
	close(fd);
}

static void check_refused(const char *port)
{
	struct sockaddr_in sa = peer;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	sa.sin_port = htons((uint16_t)atoi(port));
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	CHECK(rc < 0 && errno == ECONNREFUSED, "connect to a closed port gives ECONNREFUSED");
	close(fd);
}

static void check_names_and_options(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int v = 1, got = 0, rc;

	rc = getpeername(fd, (struct sockaddr *)&a, &len);
	CHECK(rc == 0 && a.sin_addr.s_addr == peer.sin_addr.s_addr && a.sin_port == peer.sin_port,
	      "getpeername gives the peer");
	len = sizeof(a);
	rc = getsockname(fd, (struct sockaddr *)&a, &len);
	CHECK(rc == 0 && a.sin_family == AF_INET && a.sin_port != 0, "getsockname gives a bound port");
	rc = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
	len = sizeof(got);
	rc |= getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &len);
	CHECK(rc == 0 && got == 1, "TCP_NODELAY set and read back");
	len = sizeof(got);
	rc = getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &len);
	CHECK(rc == 0 && got == SOCK_STREAM, "SO_TYPE is SOCK_STREAM");
	rc = setsockopt(fd, SOL_SOCKET, 9999, &v, sizeof(v));
	CHECK(rc < 0 && errno == ENOPROTOOPT, "an unknown option gives ENOPROTOOPT");
}

static void check_data(int fd)
{
	struct timeval tv = { 0, 200000 };
	char buf[64] = { 0 };
	fd_set r;
	int n = -1, rc;

	rc = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rc |= (int)recv(fd, buf, sizeof(buf), 0);
	CHECK(rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	      "recv with SO_RCVTIMEO times out with EAGAIN");
	rc = (int)recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(rc < 0 && errno == EAGAIN, "MSG_DONTWAIT on an empty socket gives EAGAIN");
	CHECK(send(fd, "hello", 5, 0) == 5, "send 5 bytes");
	FD_ZERO(&r);
	FD_SET(fd, &r);
	tv.tv_sec = 5;
	CHECK(select(fd + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &r), "select sees the echo");
	usleep(50000);
	CHECK(ioctl(fd, FIONREAD, &n) == 0 && n == 5, "FIONREAD counts 5 bytes (got %d)", n);
	CHECK(recv(fd, buf, sizeof(buf), MSG_PEEK) == 5 && !memcmp(buf, "hello", 5),
	      "MSG_PEEK sees them");
	memset(buf, 0, sizeof(buf));
	CHECK(recv(fd, buf, 2, 0) == 2 && recv(fd, buf + 2, sizeof(buf) - 2, 0) == 3 &&
		      !strcmp(buf, "hello"),
	      "they are still there to read after the peek");
	CHECK(shutdown(fd, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	rc = (int)send(fd, "x", 1, MSG_NOSIGNAL);
	CHECK(rc < 0 && errno == EPIPE, "send after SHUT_WR gives EPIPE");
	tv.tv_sec = 5;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(recv(fd, buf, sizeof(buf), 0) == 0, "the peer's FIN reads as end of stream");
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* The echo comes back 1 s after the start; 2 s later the end of the
 * stream ends any recv() that would otherwise wait forever. */
static int eintr_done[2]; /* a pipe: the checks are over */

static void *send_later(void *arg)
{
	struct pollfd p = { .fd = eintr_done[0], .events = POLLIN };
	int fd = *(int *)arg;

	sleep(1);
	send(fd, "hello", 5, 0);
	/* Not pthread_cancel(): unwinding a cancelled thread confuses the
	 * sanitizers' stack bookkeeping (a false stack-buffer-underflow). */
	poll(&p, 1, 2000);
	shutdown(fd, SHUT_WR);
	return NULL;
}

/* A signal handler during a blocking recv() with no timeout: EINTR, or,
 * with SA_RESTART, the recv() goes on and returns what comes later. */
static void check_eintr(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 0, 100000 } };
	char buf[16];
	pthread_t t;
	int fd = connected();
	ssize_t n;

	if (pipe(eintr_done) < 0)
		exit(100);
	pthread_create(&t, NULL, send_later, &fd);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n < 0 && errno == EINTR && alarms == 1,
	      "a handler without SA_RESTART interrupts a blocking recv with EINTR");
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n == 5 && alarms == 2, "a handler with SA_RESTART does not end a blocking recv");
	if (write(eintr_done[1], "x", 1) != 1)
		exit(100);
	pthread_join(t, NULL);
	close(eintr_done[0]);
	close(eintr_done[1]);
	signal(SIGALRM, SIG_DFL);
	close(fd);
}

/* More pollers than a socket can name in its watch list (8): each is
 * still woken, as the kernel wakes every poller. */
#define POLLERS 10

/* Woken (1) only if poll() saw the data well before its own timeout: it
 * also reports the data if it merely timed out and looked again. */
static void *poll_one(void *arg)
{
	struct pollfd p = { .fd = *(int *)arg, .events = POLLIN };
	struct timespec t0, t1;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = poll(&p, 1, 3000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (void *)(intptr_t)(n == 1 && t1.tv_sec - t0.tv_sec < 2);
}

static void check_many_pollers(void)
{
	pthread_t t[POLLERS];
	int fd = connected(), woken = 0;
	char c;

	for (int i = 0; i < POLLERS; i++)
		pthread_create(&t[i], NULL, poll_one, &fd);
	usleep(200000);
	send(fd, "m", 1, 0);
	for (int i = 0; i < POLLERS; i++) {
		void *rc;

		pthread_join(t[i], &rc);
		woken += (intptr_t)rc == 1;
	}
	CHECK(woken == POLLERS, "%d of %d threads polling one socket are woken by its data",
	      woken, POLLERS);
	recv(fd, &c, 1, 0);
	close(fd);
}

static void check_fcntl(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), fl, d;
	char c;

	fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0 && !(fl & O_NONBLOCK), "F_GETFL: a new socket is blocking");
	CHECK(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
		      (fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "O_NONBLOCK through fcntl");
	d = dup(fd);
	CHECK(d >= 0 && (fcntl(d, F_GETFL) & O_NONBLOCK), "a dup shares O_NONBLOCK");
	CHECK(connect(d, (struct sockaddr *)&peer, sizeof(peer)) < 0 && errno == EINPROGRESS,
	      "the dup is the same socket (non-blocking connect)");
	close(fd);
	{
		struct pollfd p = { .fd = d, .events = POLLOUT };

		poll(&p, 1, 5000);
	}
	CHECK(send(d, "z", 1, 0) == 1, "the dup still sends after the original is closed");
	{
		struct pollfd p = { .fd = d, .events = POLLIN };

		CHECK(poll(&p, 1, 5000) == 1 && recv(d, &c, 1, 0) == 1 && c == 'z',
		      "... and receives the echo");
	}
	close(d);
}

/* Descriptors open when main() began (inherited): not ours to close. */
static bool open_at_start[1 << 15];

static int lowest_free(void)
{
	int fd = 0;

	while (fcntl(fd, F_GETFD) >= 0)
		fd++;
	return fd;
}

/*
 * libusnet keeps sockets in stock at numbers the program believes free:
 * socket() must still give the lowest free number, and what the program
 * does to a free number (close: EBADF; dup2 onto it) must act as if it
 * were free. Many sockets in a row, so that the stock runs dry and refills.
 */
static void check_numbering(void)
{
	int fds[40], bad = 0, n, lo, hi;
	struct rlimit rl;

	for (unsigned int i = 0; i < 40; i++) {
		int want = lowest_free();

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		bad += fds[i] != want;
	}
	CHECK(!bad, "40 sockets in a row each take the lowest free number (%d wrong)", bad);
	for (unsigned int i = 0; i < 40; i += 3)
		close(fds[i]);
	bad = 0;
	for (unsigned int i = 0; i < 40; i += 3)
		bad += socket(AF_INET, SOCK_STREAM, 0) != fds[i];
	CHECK(!bad, "new sockets take the numbers closed, lowest first (%d wrong)", bad);
	/* Where libusnet's stock waits (half the limit, at most 1024, and a
	 * few dozen up): numbers the program never opened. */
	getrlimit(RLIMIT_NOFILE, &rl);
	lo = rl.rlim_cur / 2 < 1024 ? (int)(rl.rlim_cur / 2) : 1024;
	hi = lo + 64 < (int)rl.rlim_cur ? lo + 64 : (int)rl.rlim_cur;
	bad = 0;
	for (int fd = lo; fd < hi; fd++)
		if (!open_at_start[fd] && (close(fd) == 0 || errno != EBADF))
			bad++;
	CHECK(!bad, "close() of numbers %d-%d, never opened, says EBADF (%d did not)", lo, hi - 1,
	      bad);
	n = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(n >= 0 && n < lo, "after that, socket() still works, below %d (got %d)", lo, n);
	close(n);
	for (unsigned int i = 0; i < 40; i++)
		close(fds[i]);
	/* The stock refills; a dup2() onto each of those numbers replaces
	 * whatever is there, and the sockets made afterwards all work. */
	for (unsigned int i = 0; i < 20; i++)
		close(socket(AF_INET, SOCK_STREAM, 0));
	bad = 0;
	for (int fd = lo; fd < hi; fd++)
		if (!open_at_start[fd] && dup2(1, fd) != fd)
			bad++;
	CHECK(!bad, "dup2() onto numbers %d-%d gives each of them (%d did not)", lo, hi - 1, bad);
	for (int fd = lo; fd < hi; fd++)
		if (!open_at_start[fd])
			close(fd);
	bad = 0;
	for (unsigned int i = 0; i < 20; i++) {
		n = connected();
		if (n < 0 || send(n, "s", 1, MSG_NOSIGNAL) != 1)
			bad++;
		close(n);
	}
	CHECK(!bad, "20 sockets made after that connect and send (%d did not)", bad);
}

/*
 * Options set on a new socket: after the first time, libusnet lets them
 * wait for the socket's connect(); they must still take effect, and an
 * option usnetd would refuse must still fail at once.
 */
static void check_early_options(void)
{
	int bad = 0, got, one = 1, idle = 77;
	char cc[16];
	socklen_t len;

	for (unsigned int i = 0; i < 3; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) < 0 ||
		    connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
			bad++;
			close(fd);
			continue;
		}
		len = sizeof(got);
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &len) < 0 || got != 1)
			bad++;
		len = sizeof(got);
		if (getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &got, &len) < 0 || got != 77)
			bad++;
		len = sizeof(cc);
		memset(cc, 0, sizeof(cc));
		if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) < 0 || strcmp(cc, "reno"))
			bad++;
		close(fd);
	}
	CHECK(!bad, "TCP_NODELAY, TCP_KEEPIDLE and TCP_CONGESTION set before connect hold after it, 3 sockets in a row");
	bad = 0;
	for (unsigned int i = 0; i < 2; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "nosuchcc", 8) == 0 || errno != ENOENT)
			bad++;
		close(fd);
	}
	CHECK(bad == 0, "an unknown TCP_CONGESTION fails with ENOENT at once, every time");
}

static bool is_lo(const struct sockaddr_in *a)
{
	return a->sin_family == AF_INET && a->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/* A listener on 127.0.0.1 and clients of it, all in this process: under
 * usnet each becomes a kernel socket at its bind() or connect(), keeping
 * the options, flags, dups and epoll registrations it had. Return: the
 * listener (for check_loopback_v4mapped), its address in *@lo. */
static int check_loopback(struct sockaddr_in *lo)
{
	struct timeval tv = { 5, 0 }, tv2 = { 0, 0 };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	struct pollfd p;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char buf[16] = { 0 };
	int l, c, d, s, ep, v = 1, got = 0, rc;

	memset(lo, 0, sizeof(*lo));
	lo->sin_family = AF_INET;
	lo->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	/* Every wait is bounded: a check that fails must not hang. */
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(bind(l, (struct sockaddr *)lo, sizeof(*lo)) == 0, "bind to 127.0.0.1");
	CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0 && is_lo(&a) && a.sin_port,
	      "getsockname of the listener gives 127.0.0.1:%u", ntohs(a.sin_port));
	lo->sin_port = a.sin_port;
	len = sizeof(got);
	CHECK(getsockopt(l, SOL_SOCKET, SO_REUSEADDR, &got, &len) == 0 && got == 1,
	      "SO_REUSEADDR set before that bind is still set");
	CHECK(listen(l, 8) == 0, "listen on 127.0.0.1");

	/* Blocking, with options set and a dup made before the connect. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
	got = 32768;
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &got, sizeof(got));
	d = dup(c);
	CHECK(connect(c, (struct sockaddr *)lo, sizeof(*lo)) == 0, "connect to 127.0.0.1");
	len = sizeof(a);
	CHECK(getsockname(c, (struct sockaddr *)&a, &len) == 0 && is_lo(&a),
	      "getsockname of the client gives 127.0.0.1");
	len = sizeof(a);
	CHECK(getpeername(d, (struct sockaddr *)&a, &len) == 0 && a.sin_port == lo->sin_port,
	      "a dup made before the connect is connected too");
	got = 0;
	len = sizeof(got);
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &got, &len) == 0 && got == 1,
	      "TCP_NODELAY set before the connect is still set");
	len = sizeof(tv2);
	CHECK(getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv2, &len) == 0 && tv2.tv_sec == 5,
	      "SO_RCVTIMEO set before the connect is still set");
	got = 0;
	len = sizeof(got);
	CHECK(getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &got, &len) == 0 && got == 1,
	      "SO_KEEPALIVE set before the connect is still set");
	got = 0;
	len = sizeof(got);
	CHECK(getsockopt(c, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0 && got == 65536,
	      "SO_SNDBUF set to 32768 before the connect still reads 65536 (got %d)", got);
	CHECK((fcntl(c, F_GETFD) & FD_CLOEXEC) && !(fcntl(d, F_GETFD) & FD_CLOEXEC),
	      "each descriptor keeps its own close-on-exec flag");
	s = accept(l, NULL, NULL);
	CHECK(s >= 0, "the 127.0.0.1 listener accepts it");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(send(c, "ping", 4, MSG_NOSIGNAL) == 4 && recv(s, buf, sizeof(buf), 0) == 4 &&
		      !memcmp(buf, "ping", 4),
	      "data goes from the client to the server");
	CHECK(send(s, "pong", 4, MSG_NOSIGNAL) == 4 && recv(d, buf, sizeof(buf), 0) == 4 &&
		      !memcmp(buf, "pong", 4),
	      "and back, read through the dup");
	close(d);
	close(c);
	close(s);

	/* Non-blocking, in an epoll before its connect, as nginx does it. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.u64 = 7;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == 0, "an unconnected socket joins an epoll");
	rc = connect(c, (struct sockaddr *)lo, sizeof(*lo));
	CHECK(rc == 0 || errno == EINPROGRESS, "non-blocking connect to 127.0.0.1");
	CHECK(fcntl(c, F_GETFL) & O_NONBLOCK, "the socket is still non-blocking");
	memset(&ev, 0, sizeof(ev));
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 7 && (ev.events & EPOLLOUT),
	      "the epoll reports it writable once connected");
	s = accept(l, NULL, NULL);
	CHECK(s >= 0 && send(s, "x", 1, MSG_NOSIGNAL) == 1, "accepted; the server sends a byte");
	memset(&ev, 0, sizeof(ev));
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 7 && (ev.events & EPOLLIN),
	      "the epoll reports it readable");
	p.fd = c;
	p.events = POLLIN;
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN) && recv(c, buf, 1, 0) == 1 &&
		      buf[0] == 'x',
	      "poll reports it readable and the byte is there");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, c, NULL) == 0, "EPOLL_CTL_DEL finds its registration");
	close(ep);
	close(c);
	close(s);
	return l;
}

/* An AF_INET6 socket reaches the IPv4 listener at ::ffff:127.0.0.1. */
static void check_loopback_v4mapped(int l, const struct sockaddr_in *lo)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = lo->sin_port };
	struct timeval tv = { 5, 0 };
	struct sockaddr_in a;
	socklen_t len = sizeof(s6);
	int c, s, rc;

	c = socket(AF_INET6, SOCK_STREAM, 0);
	if (c < 0 && errno == EAFNOSUPPORT)
		return; /* a kernel without IPv6: neither run checks it */
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr);
	rc = connect(c, (struct sockaddr *)&s6, sizeof(s6));
	CHECK(rc == 0, "an AF_INET6 socket connects to ::ffff:127.0.0.1");
	memset(&s6, 0, sizeof(s6));
	CHECK(getsockname(c, (struct sockaddr *)&s6, &len) == 0 && s6.sin6_family == AF_INET6 &&
		      IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr) && s6.sin6_addr.s6_addr[12] == 127,
	      "its getsockname gives ::ffff:127.0.0.1");
	len = sizeof(a);
	s = accept(l, (struct sockaddr *)&a, &len);
	CHECK(s >= 0 && is_lo(&a), "the IPv4 listener accepts it from 127.0.0.1");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(send(c, "v6", 2, MSG_NOSIGNAL) == 2 && recv(s, &a, sizeof(a), 0) == 2, "data goes through");
	close(s);
	close(c);
}

/* Nothing listens any more: the kernel refuses, as for a usnet peer. */
static void check_loopback_refused(int l, const struct sockaddr_in *lo)
{
	int c = socket(AF_INET, SOCK_STREAM, 0), rc;

	close(l);
	rc = connect(c, (const struct sockaddr *)lo, sizeof(*lo));
	CHECK(rc < 0 && errno == ECONNREFUSED,
	      "connect to a closed 127.0.0.1 port gives ECONNREFUSED");
	close(c);
}

int main(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < (int)(sizeof(open_at_start) / sizeof(open_at_start[0])); i++)
		open_at_start[i] = fcntl(i, F_GETFD) >= 0;
	if ((argc == 2 || argc == 3) && !strcmp(argv[1], "privport")) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
		bool granted = argc == 3 && !strcmp(argv[2], "granted");
		socklen_t len = sizeof(sa);
		int rc;

		fd = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(fd >= 0, "socket as uid %d", (int)getuid());
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (granted) {
			CHECK(rc == 0, "bind to port 80 with CAP_NET_BIND_SERVICE works");
			CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
				      ntohs(sa.sin_port) == 80,
			      "getsockname says port %u", ntohs(sa.sin_port));
			CHECK(listen(fd, 4) == 0, "listen on port 80");
			return failures;
		}
		CHECK(rc < 0 && errno == EACCES, "bind to port 80 without privileges gives EACCES");
		sa.sin_port = htons(8080);
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind to port 8080 works");
		return failures;
	}
	if (argc != 4) {
		fprintf(stderr,
			"usage: shimcheck PEER PORT CLOSED-PORT | shimcheck privport [granted]\n");
		return 100;
	}
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &peer.sin_addr) != 1) {
		fprintf(stderr, "shimcheck: bad address %s\n", argv[1]);
		return 100;
	}
	check_nonblocking_connect();
	check_refused(argv[3]);
	fd = connected();
	check_names_and_options(fd);
	check_data(fd);
	close(fd);
	check_fcntl();
	check_numbering();
	check_early_options();
	check_many_pollers();
	check_eintr();
	{
		struct sockaddr_in lo;
		int l = check_loopback(&lo);

		check_loopback_v4mapped(l, &lo);
		check_loopback_refused(l, &lo);
	}
	return failures;
}
