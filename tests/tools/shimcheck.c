// SPDX-License-Identifier: MIT
/*
 * Socket semantics a program sees under libusnet, each checked against
 * what the Linux kernel does: run as `usnet run -- shimcheck PEER PORT`
 * with an echo server at PEER:PORT (tests/integration/shim_calls.sh).
 * Every check prints "ok: ..." or "FAIL: ..."; the exit status is the
 * number of failures. "privport" mode only tries to bind port 80 and
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (cond) {                                               \
			printf("ok: ");                                   \
		} else {                                                  \
			printf("FAIL: ");                                 \
			failures++;                                       \
		}                                                         \
		printf(__VA_ARGS__);                                      \
		printf(" (errno %s)\n", strerror(errno));                 \
	} while (0)

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
static void *send_later(void *arg)
{
	int fd = *(int *)arg;

	sleep(1);
	send(fd, "hello", 5, 0);
	sleep(2);
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
	pthread_cancel(t);
	pthread_join(t, NULL);
	signal(SIGALRM, SIG_DFL);
	close(fd);
}

static void check_fcntl(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), fl, d;
	char c;

	fl = fcntl(fd, F_GETFL);
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

int main(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IONBF, 0);
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
	check_eintr();
	return failures;
}
