// SPDX-License-Identifier: MIT
/*
 * epoll semantics (and socket calls made through syscall()) a program sees
 * under libusnet, each checked against what
 * the Linux kernel does: run as `usnet run -- epollcheck PEER PORT SELF`
 * with an echo server at PEER:PORT; SELF is an address of this side, for
 * a listener the checks connect to (tests/integration/shim_calls.sh runs
 * it on kernel sockets first, then under usnet). Every check prints
 * "ok: ..." or "FAIL: ..."; the exit status is the number of failures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static struct sockaddr_in peer, self;

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		printf("FAIL: connect: %s\n", strerror(errno));
		exit(100);
	}
	return fd;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Read what the echo returns for @n bytes sent; Return: bytes read. */
static int drain(int fd, int n)
{
	char buf[256];
	int got = 0;

	while (got < n) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r <= 0)
			break;
		got += (int)r;
	}
	return got;
}

static void check_level(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), fd = connect_to(&peer), n;
	struct epoll_event ev[4];
	struct timespec t0;

	CHECK(ep >= 0 && add(ep, fd, EPOLLIN, 42) == 0, "EPOLL_CTL_ADD of a socket");
	CHECK(add(ep, fd, EPOLLIN, 42) < 0 && errno == EEXIST, "a second ADD gives EEXIST");
	CHECK(epoll_wait(ep, ev, 4, 0) == 0, "nothing to read: no event");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send(fd, "ping", 4, 0);
	n = epoll_wait(ep, ev, 4, 5000);
	CHECK(n == 1 && ev[0].events == EPOLLIN && ev[0].data.u64 == 42 && ms_since(&t0) < 1000,
	      "a sleeping epoll_wait wakes for the echo (%d events, %#x)", n,
	      n > 0 ? ev[0].events : 0);
	CHECK(epoll_wait(ep, ev, 4, 0) == 1, "level-triggered: reported again while unread");
	CHECK(drain(fd, 4) == 4 && epoll_wait(ep, ev, 4, 50) == 0, "read empty: no event");
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &(struct epoll_event){ .events = EPOLLOUT,
								       .data.u64 = 7 }) == 0 &&
		      epoll_wait(ep, ev, 4, 1000) == 1 && ev[0].events == EPOLLOUT &&
		      ev[0].data.u64 == 7,
	      "EPOLL_CTL_MOD to EPOLLOUT: a connected socket is writable");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0 && epoll_wait(ep, ev, 4, 0) == 0,
	      "EPOLL_CTL_DEL: no more events");
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev[0]) < 0 && errno == ENOENT,
	      "MOD of an fd not registered gives ENOENT");
	close(fd);
	close(ep);
}

static void check_edge(void)
{
	int ep = epoll_create1(0), fd = connect_to(&peer), n;
	struct epoll_event ev[4];

	fcntl(fd, F_SETFL, O_NONBLOCK);
	add(ep, fd, EPOLLIN | EPOLLET, 1);
	send(fd, "a", 1, 0);
	n = epoll_wait(ep, ev, 4, 5000);
	CHECK(n == 1 && ev[0].events == EPOLLIN, "EPOLLET: the first byte is reported");
	CHECK(epoll_wait(ep, ev, 4, 100) == 0, "EPOLLET: not again while nothing new arrives");
	send(fd, "b", 1, 0);
	n = epoll_wait(ep, ev, 4, 5000);
	CHECK(n == 1 && ev[0].events == EPOLLIN, "EPOLLET: reported when more arrives");
	drain(fd, 2);
	close(fd);
	close(ep);
}

static void check_oneshot(void)
{
	int ep = epoll_create1(0), fd = connect_to(&peer);
	struct epoll_event ev[4], mod = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 5 };

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &mod);
	send(fd, "a", 1, 0);
	CHECK(epoll_wait(ep, ev, 4, 5000) == 1 && ev[0].data.u64 == 5, "EPOLLONESHOT: reported once");
	CHECK(epoll_wait(ep, ev, 4, 100) == 0, "EPOLLONESHOT: then disabled although unread");
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &mod) == 0 && epoll_wait(ep, ev, 4, 1000) == 1,
	      "EPOLLONESHOT: re-enabled by EPOLL_CTL_MOD");
	drain(fd, 1);
	close(fd);
	close(ep);
}

static void check_mixed_and_nested(void)
{
	int ep = epoll_create1(0), outer = epoll_create1(0), fd = connect_to(&peer), pfd[2];
	struct epoll_event ev[4];
	struct pollfd p;
	int n, seen = 0;

	if (pipe(pfd) < 0)
		exit(100);
	add(ep, fd, EPOLLIN, 1);
	add(ep, pfd[0], EPOLLIN, 2);
	add(outer, ep, EPOLLIN, 3);
	if (write(pfd[1], "k", 1) != 1)
		exit(100);
	n = epoll_wait(ep, ev, 4, 1000);
	CHECK(n == 1 && ev[0].data.u64 == 2, "a pipe in the same epoll is reported");
	if (read(pfd[0], ev, 1) != 1)
		exit(100);

	p.fd = ep;
	p.events = POLLIN;
	CHECK(poll(&p, 1, 0) == 0, "poll() on the epoll fd: nothing ready");
	send(fd, "x", 1, 0);
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN),
	      "poll() on the epoll fd wakes when the socket becomes readable");
	n = epoll_wait(outer, ev, 4, 5000);
	CHECK(n == 1 && ev[0].data.u64 == 3, "an outer epoll reports the inner one");
	/* The epoll fd may also have woken for the ACK of "x" (see
	 * libusnet(7)): wait for the echo itself before counting. */
	if (recv(fd, &n, 1, MSG_PEEK) != 1 || write(pfd[1], "k", 1) != 1)
		exit(100);
	n = epoll_wait(ep, ev, 4, 1000);
	for (int i = 0; i < n; i++)
		seen |= 1 << ev[i].data.u64;
	CHECK(n == 2 && seen == 6, "socket and pipe reported by one epoll_wait (%d, %#x)", n, seen);
	drain(fd, 1);
	close(fd);
	close(pfd[0]);
	close(pfd[1]);
	close(outer);
	close(ep);
}

static void check_close_and_dup(void)
{
	int ep = epoll_create1(0), fd = connect_to(&peer), d;
	struct epoll_event ev[4];

	add(ep, fd, EPOLLIN, 9);
	d = dup(fd);
	close(fd);
	send(d, "y", 1, 0);
	CHECK(epoll_wait(ep, ev, 4, 5000) == 1 && ev[0].data.u64 == 9,
	      "the registration outlives its fd while a dup keeps the socket open");
	drain(d, 1);
	send(d, "z", 1, 0);
	usleep(100000);
	close(d);
	CHECK(epoll_wait(ep, ev, 4, 100) == 0, "closing the last fd ends the registration");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL) < 0 && errno == EBADF,
	      "DEL of a closed fd gives EBADF");
	close(ep);
}

static void check_listener_and_hup(void)
{
	int ep = epoll_create1(0), l = socket(AF_INET, SOCK_STREAM, 0), c, a, one = 1;
	struct sockaddr_in sa = self;
	socklen_t len = sizeof(sa);
	struct epoll_event ev[4];
	char buf[8];

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = 0;
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 8) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0) {
		printf("FAIL: listener: %s\n", strerror(errno));
		exit(100);
	}
	add(ep, l, EPOLLIN, 11);
	CHECK(epoll_wait(ep, ev, 4, 0) == 0, "an idle listener: no event");
	c = connect_to(&sa);
	CHECK(epoll_wait(ep, ev, 4, 5000) == 1 && ev[0].data.u64 == 11 && ev[0].events == EPOLLIN,
	      "a listener with a connection to accept: EPOLLIN");
	a = accept(l, NULL, NULL);
	CHECK(a >= 0 && epoll_wait(ep, ev, 4, 0) == 0, "accepted: the listener is quiet again");
	add(ep, a, EPOLLIN | EPOLLRDHUP, 12);
	shutdown(c, SHUT_WR);
	CHECK(epoll_wait(ep, ev, 4, 5000) == 1 && ev[0].data.u64 == 12 &&
		      (ev[0].events & (EPOLLIN | EPOLLRDHUP)) == (EPOLLIN | EPOLLRDHUP),
	      "the peer's FIN: EPOLLIN|EPOLLRDHUP (%#x)", ev[0].events);
	CHECK(recv(a, buf, sizeof(buf), 0) == 0, "and read gives end of stream");
	close(c);
	close(a);
	close(l);
	close(ep);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void check_timeouts_and_signals(void)
{
	int ep = epoll_create1(0), fd = connect_to(&peer), n;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct timespec t0, tmo = { 0, 60 * 1000000 };
	struct epoll_event ev[2];

	add(ep, fd, EPOLLIN, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = epoll_pwait2(ep, ev, 2, &tmo, NULL);
	CHECK(n == 0 && ms_since(&t0) >= 59 && ms_since(&t0) < 1000,
	      "epoll_pwait2 times out after 60 ms (%ld ms)", ms_since(&t0));
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	errno = 0;
	n = epoll_wait(ep, ev, 2, 5000);
	CHECK(n < 0 && errno == EINTR, "a signal interrupts epoll_wait with EINTR, SA_RESTART or not");
	CHECK(epoll_wait(ep, ev, 0, 0) < 0 && errno == EINVAL, "maxevents 0 gives EINVAL");
	close(fd);
	close(ep);
}

static void check_round_robin(void)
{
	int ep = epoll_create1(0), fds[3], seen = 0;
	struct epoll_event ev;

	for (int i = 0; i < 3; i++) {
		fds[i] = connect_to(&peer);
		add(ep, fds[i], EPOLLIN, (uint64_t)i);
		send(fds[i], "r", 1, 0);
	}
	usleep(200000);
	for (int i = 0; i < 3; i++)
		if (epoll_wait(ep, &ev, 1, 1000) == 1)
			seen |= 1 << ev.data.u64;
	CHECK(seen == 7, "maxevents 1 three times: each ready socket gets a turn (%#x)", seen);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(ep);
}

/* An epoll dup'd and its first fd closed keeps working. */
static void check_epoll_dup(void)
{
	int ep = epoll_create1(0), fd = connect_to(&peer), d;
	struct epoll_event ev;

	add(ep, fd, EPOLLIN, 21);
	d = dup(ep);
	close(ep);
	send(fd, "d", 1, 0);
	CHECK(epoll_wait(d, &ev, 1, 5000) == 1 && ev.data.u64 == 21,
	      "a dup of an epoll fd works after the original is closed");
	drain(fd, 1);
	close(fd);
	close(d);
}

/* Socket calls by number through libc's syscall(): under usnet they must
 * reach usnet, since the kernel has no route to the peer from here. */
static void check_syscall(void)
{
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	char buf[8] = { 0 };

	CHECK(fd >= 0 && syscall(SYS_connect, fd, &peer, sizeof(peer)) == 0,
	      "syscall(SYS_socket) and syscall(SYS_connect) reach the peer");
	CHECK(syscall(SYS_sendto, fd, "sys", 3, 0, NULL, 0) == 3 &&
		      syscall(SYS_recvfrom, fd, buf, 3, MSG_WAITALL, NULL, NULL) == 3 &&
		      !memcmp(buf, "sys", 3),
	      "syscall(SYS_sendto) and syscall(SYS_recvfrom) round-trip through the echo");
	CHECK(syscall(SYS_close, fd) == 0, "syscall(SYS_close)");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: epollcheck PEER PORT SELF\n");
		return 100;
	}
	signal(SIGPIPE, SIG_IGN);
	peer.sin_family = self.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &peer.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &self.sin_addr) != 1) {
		fprintf(stderr, "epollcheck: bad address\n");
		return 100;
	}
	check_level();
	check_edge();
	check_oneshot();
	check_mixed_and_nested();
	check_close_and_dup();
	check_listener_and_hup();
	check_timeouts_and_signals();
	check_round_robin();
	check_syscall();
	check_epoll_dup();
	return failures;
}
