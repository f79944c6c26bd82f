// SPDX-License-Identifier: MIT
/*
 * tcpclient: drives usnetd's built-in services from the kernel side and
 * checks every byte.
 *
 *   tcpclient discard HOST PORT BYTES     send BYTES of a seeded pattern
 *   tcpclient chargen HOST PORT BYTES     receive BYTES, check the RFC 864 pattern
 *   tcpclient echo HOST PORT BYTES        send and receive at once, compare
 *   tcpclient conns HOST PORT N           N connections open at once, echo a line each
 *   tcpclient churn HOST PORT N           N connections one after another
 *
 * Prints one line: mode, bytes or connections, seconds, Gbit/s or rate, and
 * "ok", or a reason and exit status 1. A transfer that stalls for more than
 * -t SECONDS (default 30) fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define CHARGEN_LINE 72
#define CHARGEN_CHARS 95
#define CHARGEN_PERIOD (CHARGEN_CHARS * (CHARGEN_LINE + 2))

static int timeout_s = 30;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "tcpclient: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int dial(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcpclient: bad address %s\n", host);
		exit(2);
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	return fd;
}

/* A byte stream any two runs agree on: xorshift over 64-bit words. */
static uint8_t pattern_byte(uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + 0x1234567;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	return (uint8_t)(x >> (8 * (off & 7)));
}

static void fill(uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

static void wait_io(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r = poll(&p, 1, timeout_s * 1000);

	if (r == 0) {
		fprintf(stderr, "tcpclient: no progress for %d s\n", timeout_s);
		exit(1);
	}
	if (r < 0 && errno != EINTR)
		die("poll");
}

static void report(const char *mode, uint64_t bytes, double t0)
{
	double dt = now_s() - t0;

	printf("%s %llu bytes %.3f s %.3f Gbit/s ok\n", mode, (unsigned long long)bytes, dt,
	       (double)bytes * 8 / dt / 1e9);
}

static void do_discard(const char *host, int port, uint64_t total)
{
	static uint8_t buf[CHUNK];
	int fd = dial(host, port);
	uint64_t sent = 0;
	double t0 = now_s();
	char c;

	while (sent < total) {
		size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
		ssize_t w;

		fill(buf, n, sent);
		wait_io(fd, POLLOUT);
		w = send(fd, buf, n, MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN)
				continue;
			die("send");
		}
		sent += (uint64_t)w;
	}
	shutdown(fd, SHUT_WR);
	/* The service closes after our FIN: everything has been taken. */
	wait_io(fd, POLLIN);
	if (recv(fd, &c, 1, 0) != 0) {
		fprintf(stderr, "tcpclient: discard answered with data or an error\n");
		exit(1);
	}
	report("discard", sent, t0);
	close(fd);
}

static void do_chargen(const char *host, int port, uint64_t total)
{
	static uint8_t buf[CHUNK], pat[CHARGEN_PERIOD];
	int fd = dial(host, port);
	uint64_t got = 0;
	double t0 = now_s();

	for (int line = 0, k = 0; line < CHARGEN_CHARS; line++) {
		for (int i = 0; i < CHARGEN_LINE; i++)
			pat[k++] = (uint8_t)(' ' + (line + i) % CHARGEN_CHARS);
		pat[k++] = '\r';
		pat[k++] = '\n';
	}
	while (got < total) {
		ssize_t r;

		wait_io(fd, POLLIN);
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN)
				continue;
			die("recv");
		}
		if (r == 0) {
			fprintf(stderr, "tcpclient: chargen closed after %llu bytes\n",
				(unsigned long long)got);
			exit(1);
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pat[(got + (uint64_t)i) % CHARGEN_PERIOD]) {
				fprintf(stderr, "tcpclient: chargen byte %llu is %u, want %u\n",
					(unsigned long long)(got + (uint64_t)i), buf[i],
					pat[(got + (uint64_t)i) % CHARGEN_PERIOD]);
				exit(1);
			}
		got += (uint64_t)r;
	}
	report("chargen", got, t0);
	close(fd);
}

static void do_echo(const char *host, int port, uint64_t total)
{
	static uint8_t out[CHUNK], in[CHUNK];
	int fd = dial(host, port);
	uint64_t sent = 0, got = 0;
	double t0 = now_s();
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (got < total) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
		int r = poll(&p, 1, timeout_s * 1000);

		if (r == 0) {
			fprintf(stderr, "tcpclient: echo stalled at %llu sent %llu received\n",
				(unsigned long long)sent, (unsigned long long)got);
			exit(1);
		}
		if (r < 0)
			die("poll");
		if ((p.revents & POLLOUT) && sent < total) {
			size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
			ssize_t w;

			fill(out, n, sent);
			w = send(fd, out, n, 0);
			if (w < 0 && errno != EAGAIN)
				die("send");
			if (w > 0)
				sent += (uint64_t)w;
			if (sent == total)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t rr = recv(fd, in, sizeof(in), 0);

			if (rr < 0 && errno != EAGAIN)
				die("recv");
			if (rr == 0) {
				fprintf(stderr, "tcpclient: echo closed after %llu of %llu bytes\n",
					(unsigned long long)got, (unsigned long long)total);
				exit(1);
			}
			for (ssize_t i = 0; i < rr; i++)
				if (in[i] != pattern_byte(got + (uint64_t)i)) {
					fprintf(stderr, "tcpclient: echo byte %llu differs\n",
						(unsigned long long)(got + (uint64_t)i));
					exit(1);
				}
			if (rr > 0)
				got += (uint64_t)rr;
		}
	}
	report("echo", got, t0);
	close(fd);
}

static void echo_line(int fd, unsigned int i)
{
	char msg[64], back[64];
	int len = snprintf(msg, sizeof(msg), "hello %u\n", i);
	ssize_t got = 0;

	if (send(fd, msg, (size_t)len, 0) != len)
		die("send");
	while (got < len) {
		ssize_t r;

		wait_io(fd, POLLIN);
		r = recv(fd, back + got, (size_t)(len - got), 0);
		if (r <= 0) {
			fprintf(stderr, "tcpclient: connection %u: %s\n", i, r ? strerror(errno) : "closed");
			exit(1);
		}
		got += r;
	}
	if (memcmp(msg, back, (size_t)len)) {
		fprintf(stderr, "tcpclient: connection %u: wrong echo\n", i);
		exit(1);
	}
}

static void do_conns(const char *host, int port, unsigned int n)
{
	int *fds = calloc(n, sizeof(int));
	double t0 = now_s();

	if (!fds)
		die("calloc");
	for (unsigned int i = 0; i < n; i++)
		fds[i] = dial(host, port);
	for (unsigned int i = 0; i < n; i++)
		echo_line(fds[i], i);
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
	printf("conns %u open at once %.3f s ok\n", n, now_s() - t0);
	free(fds);
}

static void do_churn(const char *host, int port, unsigned int n)
{
	double t0 = now_s();

	for (unsigned int i = 0; i < n; i++) {
		int fd = dial(host, port);

		echo_line(fd, i);
		close(fd);
	}
	printf("churn %u connections %.3f s %.0f conn/s ok\n", n, now_s() - t0,
	       n / (now_s() - t0));
}

int main(int argc, char **argv)
{
	int opt;
	uint64_t n;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt == 't')
			timeout_s = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 4) {
		fprintf(stderr, "usage: tcpclient [-t SECONDS] discard|chargen|echo|conns|churn HOST PORT N\n");
		return 2;
	}
	n = strtoull(argv[optind + 3], NULL, 0);
	if (!strcmp(argv[optind], "discard"))
		do_discard(argv[optind + 1], atoi(argv[optind + 2]), n);
	else if (!strcmp(argv[optind], "chargen"))
		do_chargen(argv[optind + 1], atoi(argv[optind + 2]), n);
	else if (!strcmp(argv[optind], "echo"))
		do_echo(argv[optind + 1], atoi(argv[optind + 2]), n);
	else if (!strcmp(argv[optind], "conns"))
		do_conns(argv[optind + 1], atoi(argv[optind + 2]), (unsigned int)n);
	else if (!strcmp(argv[optind], "churn"))
		do_churn(argv[optind + 1], atoi(argv[optind + 2]), (unsigned int)n);
	else
		return 2;
	return 0;
}
