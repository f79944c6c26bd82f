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
 * Options:
 *   -t SECONDS  a transfer that makes no progress for this long fails (30)
 *   -F          chargen: after BYTES, shut down our side and keep reading
 *               (and checking) until the service's FIN, so that the
 *               connection ends with FINs both ways instead of the RST a
 *               close with unread data sends; the bytes after BYTES are
 *               counted too
 *   -s BYTES    conns and churn: each connection echoes BYTES of the seeded
 *               pattern (all connections at once for conns), then shuts
 *               down its side and waits for the service's FIN before it
 *               closes, so that every connection is seen to end cleanly
 *   -p FILE     conns: once all N connections are established, create FILE
 *               and wait until it is removed before moving any data
 *
 * Prints one line: mode, bytes or connections, seconds, Gbit/s or rate, and
 * "ok", or a reason and exit status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define CHARGEN_LINE 72
#define CHARGEN_CHARS 95
#define CHARGEN_PERIOD (CHARGEN_CHARS * (CHARGEN_LINE + 2))

static int timeout_s = 30;
static bool chargen_finish;
static uint64_t conn_bytes;

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
	bool shut = false;

	for (int line = 0, k = 0; line < CHARGEN_CHARS; line++) {
		for (int i = 0; i < CHARGEN_LINE; i++)
			pat[k++] = (uint8_t)(' ' + (line + i) % CHARGEN_CHARS);
		pat[k++] = '\r';
		pat[k++] = '\n';
	}
	for (;;) {
		ssize_t r;

		if (got >= total) {
			if (!chargen_finish)
				break;
			if (!shut) {
				/* The service closes once it sees our FIN. */
				if (shutdown(fd, SHUT_WR) < 0)
					die("shutdown");
				shut = true;
			}
		}
		wait_io(fd, POLLIN);
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN)
				continue;
			die("recv");
		}
		if (r == 0) {
			if (shut)
				break;
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
			fprintf(stderr, "tcpclient: connection %u: %s\n", i,
				r ? strerror(errno) : "closed");
			exit(1);
		}
		got += r;
	}
	if (memcmp(msg, back, (size_t)len)) {
		fprintf(stderr, "tcpclient: connection %u: wrong echo\n", i);
		exit(1);
	}
}

/* A connection of conns/churn with -s: echoes conn_bytes of its own stream
 * of the pattern (offset by its index, so that bytes crossing from one
 * connection to another are caught), then shuts down and waits for EOF. */
struct conn {
	int fd;
	unsigned int idx;
	uint64_t sent, got;
	bool shut, eof;
};

static uint64_t conn_off(const struct conn *c, uint64_t off)
{
	return ((uint64_t)c->idx << 40) + off;
}

/* Make progress on @c as far as it goes without blocking. Return: true
 * once the echo is complete and the service's FIN has arrived. */
static bool conn_step(struct conn *c, short revents)
{
	static uint8_t buf[CHUNK];

	if ((revents & POLLOUT) && c->sent < conn_bytes) {
		size_t n = conn_bytes - c->sent < CHUNK ? (size_t)(conn_bytes - c->sent) : CHUNK;
		ssize_t w;

		fill(buf, n, conn_off(c, c->sent));
		w = send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN) {
			fprintf(stderr, "tcpclient: connection %u: send: %s\n", c->idx,
				strerror(errno));
			exit(1);
		}
		if (w > 0)
			c->sent += (uint64_t)w;
	}
	if (c->sent == conn_bytes && !c->shut) {
		if (shutdown(c->fd, SHUT_WR) < 0) {
			fprintf(stderr, "tcpclient: connection %u: shutdown: %s\n", c->idx,
				strerror(errno));
			exit(1);
		}
		c->shut = true;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0 && errno != EAGAIN) {
			fprintf(stderr,
				"tcpclient: connection %u: recv after %llu of %llu bytes: %s\n",
				c->idx, (unsigned long long)c->got, (unsigned long long)conn_bytes,
				strerror(errno));
			exit(1);
		}
		if (r == 0) {
			if (c->got != conn_bytes) {
				fprintf(stderr,
					"tcpclient: connection %u: EOF after %llu of %llu bytes\n",
					c->idx, (unsigned long long)c->got,
					(unsigned long long)conn_bytes);
				exit(1);
			}
			c->eof = true;
		}
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern_byte(conn_off(c, c->got + (uint64_t)i))) {
				fprintf(stderr,
					"tcpclient: connection %u: echo byte %llu differs\n",
					c->idx, (unsigned long long)(c->got + (uint64_t)i));
				exit(1);
			}
		if (r > 0)
			c->got += (uint64_t)r;
		if (c->got > conn_bytes) {
			fprintf(stderr, "tcpclient: connection %u: more echoed than sent\n",
				c->idx);
			exit(1);
		}
	}
	return c->eof;
}

/* Drive @n connections until each has echoed everything and seen EOF. */
static void conns_run(struct conn *cs, unsigned int n)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	unsigned int left = n;

	if (!p)
		die("calloc");
	while (left) {
		unsigned int k = 0;
		int r;

		for (unsigned int i = 0; i < n; i++) {
			if (cs[i].eof)
				continue;
			p[k].fd = cs[i].fd;
			p[k].events = (short)(POLLIN | (cs[i].sent < conn_bytes ? POLLOUT : 0));
			p[k].revents = 0;
			k++;
		}
		r = poll(p, k, timeout_s * 1000);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (r == 0) {
			fprintf(stderr,
				"tcpclient: %u of %u connections made no progress for %d s\n", left,
				n, timeout_s);
			exit(1);
		}
		k = 0;
		for (unsigned int i = 0; i < n; i++) {
			if (cs[i].eof)
				continue;
			if (p[k].revents && conn_step(&cs[i], p[k].revents))
				left--;
			k++;
		}
	}
	free(p);
}

/* Wait while @path exists: the caller looks at the connections meanwhile. */
static void pause_at(const char *path)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f)
		die(path);
	fclose(f);
	while (access(path, F_OK) == 0)
		usleep(10000);
}

static void do_conns(const char *host, int port, unsigned int n, const char *pause)
{
	int *fds = calloc(n, sizeof(int));
	double t0 = now_s();

	if (!fds)
		die("calloc");
	for (unsigned int i = 0; i < n; i++)
		fds[i] = dial(host, port);
	pause_at(pause);
	if (conn_bytes) {
		struct conn *cs = calloc(n, sizeof(*cs));

		if (!cs)
			die("calloc");
		for (unsigned int i = 0; i < n; i++) {
			cs[i].fd = fds[i];
			cs[i].idx = i;
		}
		conns_run(cs, n);
		free(cs);
	} else {
		for (unsigned int i = 0; i < n; i++)
			echo_line(fds[i], i);
	}
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

		if (conn_bytes) {
			struct conn c = { .fd = fd, .idx = i };

			conns_run(&c, 1);
		} else {
			echo_line(fd, i);
		}
		close(fd);
	}
	printf("churn %u connections %.3f s %.0f conn/s ok\n", n, now_s() - t0, n / (now_s() - t0));
}

/* conns holds N descriptors at once: raise the soft limit as far as the
 * hard one allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	const char *pause = NULL;
	int opt;
	uint64_t n;

	while ((opt = getopt(argc, argv, "t:Fs:p:")) != -1) {
		if (opt == 't')
			timeout_s = atoi(optarg);
		else if (opt == 'F')
			chargen_finish = true;
		else if (opt == 's')
			conn_bytes = strtoull(optarg, NULL, 0);
		else if (opt == 'p')
			pause = optarg;
		else
			return 2;
	}
	if (argc - optind != 4) {
		fprintf(stderr, "usage: tcpclient [-t SECONDS] [-F] [-s BYTES] [-p FILE] "
				"discard|chargen|echo|conns|churn HOST PORT N\n");
		return 2;
	}
	raise_nofile();
	n = strtoull(argv[optind + 3], NULL, 0);
	if (!strcmp(argv[optind], "discard"))
		do_discard(argv[optind + 1], atoi(argv[optind + 2]), n);
	else if (!strcmp(argv[optind], "chargen"))
		do_chargen(argv[optind + 1], atoi(argv[optind + 2]), n);
	else if (!strcmp(argv[optind], "echo"))
		do_echo(argv[optind + 1], atoi(argv[optind + 2]), n);
	else if (!strcmp(argv[optind], "conns"))
		do_conns(argv[optind + 1], atoi(argv[optind + 2]), (unsigned int)n, pause);
	else if (!strcmp(argv[optind], "churn"))
		do_churn(argv[optind + 1], atoi(argv[optind + 2]), (unsigned int)n);
	else
		return 2;
	return 0;
}
