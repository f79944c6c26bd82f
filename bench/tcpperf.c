// SPDX-License-Identifier: MIT
/*
 * tcpperf: the kernel-side load tool of the TCP benchmarks. Its client
 * drives usnetd's built-in services and, over a veth pair, its own server,
 * which behaves like those services, so that usnet and the Linux kernel are
 * measured by the same program doing the same work.
 *
 *   tcpperf server [-a ADDR] [-p PORT] [-C CC] discard|chargen|echo
 *   tcpperf client [-C CC] [-t SECONDS | -n COUNT] [-P PAR] [-T TIMEOUT] [-V]
 *                  [-w PID]... send|recv|conns HOST PORT
 *
 * The server is one thread on epoll, as usnetd's worker is one thread:
 *   discard  reads and drops everything, closes on the peer's FIN;
 *   chargen  writes the RFC 864 rotating 72-character lines forever, from
 *            the same first line as usnetd's chargen, closes when the peer
 *            does;
 *   echo     writes back what it reads, closes after the peer's FIN once
 *            everything has been written back.
 * It prints the congestion control of its first connection.
 *
 * The client runs for -t SECONDS (default 5) or until -n COUNT bytes or
 * connections:
 *   send   one connection to a discard service; writes, then shuts down
 *          its side and waits for the service's FIN, so that the time
 *          covers every byte having been taken;
 *   recv   one connection to a chargen service; reads (-V checks every
 *          byte against the pattern), then closes;
 *   conns  connections to an echo service, PAR (-P, default 1) open at a
 *          time: connect, send one byte, read it back, close, start the
 *          next. With -P 1 they come one after another.
 * and prints one line of key=value pairs: the mode, bytes or connections,
 * seconds, Gbit/s (payload) or connections per second, the congestion
 * control, and "other", the share of all CPUs (percent) that work other
 * than this client and the -w processes took meanwhile: both ends are
 * CPU-bound, so a run that other work disturbed is to be repeated.
 * Softirq time is not counted as other work: with tick-based accounting
 * the kernel's network processing on our behalf is charged there and not
 * to our processes. -C sets TCP_CONGESTION on every socket. A transfer or
 * connection that makes no progress for -T seconds (default 30) fails.
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cpuload.h"

#define CHUNK (256u * 1024)
#define ECHO_BUF (64u * 1024)
#define CHARGEN_LINE 72
#define CHARGEN_CHARS 95 /* printable ASCII, ' ' to '~' */
#define CHARGEN_PERIOD (CHARGEN_CHARS * (CHARGEN_LINE + 2))
#define MAX_WATCH 8
#define MAX_EVENTS 64

/* The chargen pattern, repeated so that any CHUNK starting in the first
 * period is one contiguous slice. */
static uint8_t pattern[CHARGEN_PERIOD + CHUNK];

static const char *cc;
static int timeout_s = 30;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pattern_init(void)
{
	size_t k = 0;

	for (int line = 0; line < CHARGEN_CHARS; line++) {
		for (int i = 0; i < CHARGEN_LINE; i++)
			pattern[k++] = (uint8_t)(' ' + (line + i) % CHARGEN_CHARS);
		pattern[k++] = '\r';
		pattern[k++] = '\n';
	}
	for (; k < sizeof(pattern); k++)
		pattern[k] = pattern[k - CHARGEN_PERIOD];
}

static void set_cc(int fd)
{
	if (cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
		errx(1, "TCP_CONGESTION %s: %s", cc, strerror(errno));
}

/* The congestion control @fd actually uses (a route's congctl can
 * override the socket's default). */
static const char *get_cc(int fd)
{
	static char name[32];
	socklen_t len = sizeof(name) - 1;

	memset(name, 0, sizeof(name));
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) < 0)
		return "?";
	return name;
}

static struct sockaddr_in parse_addr(const char *host, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char *end;
	long p = strtol(port, &end, 10);

	if (*end || end == port || p < 1 || p > 65535)
		errx(1, "bad port '%s'", port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		errx(1, "bad IPv4 address '%s'", host);
	sa.sin_port = htons((uint16_t)p);
	return sa;
}

/* --- CPU accounting ------------------------------------------------------------- */

static pid_t watch[MAX_WATCH];
static unsigned int nwatch;

/* --- client --------------------------------------------------------------------- */

struct client_opts {
	double secs;
	uint64_t count;
	unsigned int par;
	bool verify;
	struct sockaddr_in sa;
};

static void wait_io(int fd, short ev, const char *what)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r = poll(&p, 1, timeout_s * 1000);

	if (r == 0)
		errx(1, "%s: no progress for %d s", what, timeout_s);
	if (r < 0 && errno != EINTR)
		errx(1, "poll: %s", strerror(errno));
}

static int dial(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		errx(1, "socket: %s", strerror(errno));
	set_cc(fd);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		errx(1, "connect: %s", strerror(errno));
	return fd;
}

/* Has the run reached its end, by time or by @done of the count? */
static bool finished(const struct client_opts *o, double t0, uint64_t done)
{
	if (o->count)
		return done >= o->count;
	return now_s() - t0 >= o->secs;
}

static void report_bulk(const char *mode, uint64_t bytes, double secs, const char *used,
			const struct cpu_sample *a, const struct cpu_sample *b)
{
	printf("tcpperf %s bytes=%llu secs=%.3f gbps=%.3f cc=%s other=%.0f%%\n", mode,
	       (unsigned long long)bytes, secs, (double)bytes * 8 / secs / 1e9, used,
	       cpu_other_percent(a, b));
}

static void client_send(const struct client_opts *o)
{
	struct cpu_sample a, b;
	int fd = dial(&o->sa);
	uint64_t sent = 0;
	double t0, t1;
	char c;

	cpu_sample_take(&a, watch, nwatch);
	t0 = now_s();
	while (!finished(o, t0, sent)) {
		size_t n = CHUNK;
		ssize_t w;

		if (o->count && o->count - sent < n)
			n = (size_t)(o->count - sent);
		wait_io(fd, POLLOUT, "send");
		/* The data does not matter to a discard service: the pattern
		 * buffer serves, at a moving offset. */
		w = send(fd, pattern + sent % CHARGEN_PERIOD, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			errx(1, "send: %s", strerror(errno));
		}
		sent += (uint64_t)w;
	}
	shutdown(fd, SHUT_WR);
	/* The service closes after our FIN: then every byte has been taken. */
	wait_io(fd, POLLIN, "waiting for the discard service's FIN");
	if (recv(fd, &c, 1, 0) != 0)
		errx(1, "the discard service answered with data or an error");
	t1 = now_s();
	cpu_sample_take(&b, watch, nwatch);
	report_bulk("send", sent, t1 - t0, get_cc(fd), &a, &b);
	close(fd);
}

static void client_recv(const struct client_opts *o)
{
	static uint8_t buf[CHUNK];
	struct cpu_sample a, b;
	int fd = dial(&o->sa);
	uint64_t got = 0;
	double t0, t1;

	cpu_sample_take(&a, watch, nwatch);
	t0 = now_s();
	while (!finished(o, t0, got)) {
		size_t n = sizeof(buf);
		ssize_t r;

		if (o->count && o->count - got < n)
			n = (size_t)(o->count - got);
		wait_io(fd, POLLIN, "recv");
		r = recv(fd, buf, n, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			errx(1, "recv: %s", strerror(errno));
		}
		if (r == 0)
			errx(1, "the chargen service closed after %llu bytes",
			     (unsigned long long)got);
		if (o->verify && memcmp(buf, pattern + got % CHARGEN_PERIOD, (size_t)r)) {
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != pattern[(got + (uint64_t)i) % CHARGEN_PERIOD])
					errx(1, "chargen byte %llu is %u, want %u",
					     (unsigned long long)(got + (uint64_t)i), buf[i],
					     pattern[(got + (uint64_t)i) % CHARGEN_PERIOD]);
		}
		got += (uint64_t)r;
	}
	t1 = now_s();
	cpu_sample_take(&b, watch, nwatch);
	report_bulk("recv", got, t1 - t0, get_cc(fd), &a, &b);
	close(fd);
}

/* One connection of the conns mode: connecting, then waiting for the echo. */
struct cslot {
	int fd;
	bool connected;
	double t_start;
};

static void conn_start(const struct client_opts *o, int ep, struct cslot *s)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = s };

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		errx(1, "socket: %s", strerror(errno));
	set_cc(s->fd);
	if (connect(s->fd, (const struct sockaddr *)&o->sa, sizeof(o->sa)) < 0 &&
	    errno != EINPROGRESS)
		errx(1, "connect: %s", strerror(errno));
	s->connected = false;
	s->t_start = now_s();
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		errx(1, "epoll_ctl: %s", strerror(errno));
}

/* Moves connection @s on; returns true when it has finished (closed). */
static bool conn_step(int ep, struct cslot *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	char c = 'x';
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t r;

	if (!s->connected) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			errx(1, "connect: %s", strerror(err ? err : errno));
		if (send(s->fd, &c, 1, MSG_NOSIGNAL) != 1)
			errx(1, "send: %s", strerror(errno));
		s->connected = true;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) < 0)
			errx(1, "epoll_ctl: %s", strerror(errno));
		return false;
	}
	r = recv(s->fd, &c, 1, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r != 1 || c != 'x')
		errx(1, "echo: %s", r < 0 ? strerror(errno) : r == 0 ? "closed" : "wrong byte");
	close(s->fd); /* also takes it out of the epoll set */
	s->fd = -1;
	return true;
}

static void client_conns(const struct client_opts *o)
{
	struct epoll_event evs[MAX_EVENTS];
	struct cpu_sample a, b;
	struct cslot *slots = calloc(o->par, sizeof(*slots));
	uint64_t started = 0, done = 0;
	unsigned int open = 0;
	double t0, t1, checked;
	char used[32];
	int ep = epoll_create1(0);

	if (!slots || ep < 0)
		errx(1, "setup: %s", strerror(errno));
	for (unsigned int i = 0; i < o->par; i++)
		slots[i].fd = -1;
	/* The congestion control is the same on every connection: ask one. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			errx(1, "socket: %s", strerror(errno));
		set_cc(fd);
		snprintf(used, sizeof(used), "%s", get_cc(fd));
		close(fd);
	}
	cpu_sample_take(&a, watch, nwatch);
	t0 = checked = now_s();
	for (unsigned int i = 0; i < o->par && !finished(o, t0, started); i++, started++, open++)
		conn_start(o, ep, &slots[i]);
	while (open) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 1000);
		double now = now_s();

		if (n < 0 && errno != EINTR)
			errx(1, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct cslot *s = evs[i].data.ptr;

			if (!conn_step(ep, s))
				continue;
			done++;
			open--;
			if (!finished(o, t0, started)) {
				conn_start(o, ep, s);
				started++;
				open++;
			}
		}
		if (now - checked < 1)
			continue;
		checked = now;
		for (unsigned int i = 0; i < o->par; i++)
			if (slots[i].fd >= 0 && now - slots[i].t_start > timeout_s)
				errx(1, "a connection made no progress for %d s (%s)", timeout_s,
				     slots[i].connected ? "no echo" : "connect");
	}
	t1 = now_s();
	cpu_sample_take(&b, watch, nwatch);
	printf("tcpperf conns conns=%llu par=%u secs=%.3f rate=%.0f cc=%s other=%.0f%%\n",
	       (unsigned long long)done, o->par, t1 - t0, (double)done / (t1 - t0), used,
	       cpu_other_percent(&a, &b));
	close(ep);
	free(slots);
}

/* --- server --------------------------------------------------------------------- */

enum svc { SVC_DISCARD, SVC_CHARGEN, SVC_ECHO };

struct sconn {
	int fd;
	uint64_t off; /* chargen: position in the pattern */
	uint8_t *buf; /* echo: what is still to be written back */
	size_t head, len;
	bool out; /* echo: waiting for room to write, not for data */
};

static void sconn_close(struct sconn *c)
{
	close(c->fd);
	free(c->buf);
	free(c);
}

static void sconn_watch(int ep, struct sconn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		errx(1, "epoll_ctl: %s", strerror(errno));
}

/* Reads and drops; returns false once the connection is to be closed. */
static bool serve_discard(struct sconn *c)
{
	static uint8_t sink[CHUNK];

	for (;;) {
		ssize_t r = recv(c->fd, sink, sizeof(sink), 0);

		if (r > 0)
			continue;
		return r < 0 && (errno == EAGAIN || errno == EINTR);
	}
}

static bool serve_chargen(struct sconn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		uint8_t sink[4096];
		ssize_t r = recv(c->fd, sink, sizeof(sink), 0);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return false;
	}
	for (;;) {
		ssize_t w = send(c->fd, pattern + c->off % CHARGEN_PERIOD, CHUNK, MSG_NOSIGNAL);

		if (w > 0) {
			c->off += (uint64_t)w;
			continue;
		}
		return w < 0 && (errno == EAGAIN || errno == EINTR);
	}
}

static bool serve_echo(int ep, struct sconn *c)
{
	for (;;) {
		ssize_t r;

		while (c->len) {
			ssize_t w = send(c->fd, c->buf + c->head, c->len, MSG_NOSIGNAL);

			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				/* Stop reading while the peer does not take its
				 * echo, as usnet's echo closes its window. */
				if (!c->out)
					sconn_watch(ep, c, EPOLLOUT);
				c->out = true;
				return true;
			}
			if (w <= 0)
				return false;
			c->head += (size_t)w;
			c->len -= (size_t)w;
		}
		c->head = 0;
		r = recv(c->fd, c->buf, ECHO_BUF, 0);
		if (r > 0) {
			c->len = (size_t)r;
			continue;
		}
		/* The peer's FIN with everything written back: close. */
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			return false;
		if (c->out)
			sconn_watch(ep, c, EPOLLIN);
		c->out = false;
		return true;
	}
}

static void server(const struct sockaddr_in *sa, enum svc kind)
{
	struct epoll_event evs[MAX_EVENTS], ev = { .events = EPOLLIN, .data.ptr = NULL };
	bool first = true;
	int one = 1;
	int ep = epoll_create1(0);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (ep < 0 || lfd < 0)
		errx(1, "setup: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_cc(lfd);
	if (bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		errx(1, "bind: %s", strerror(errno));
	if (listen(lfd, 4096) < 0)
		errx(1, "listen: %s", strerror(errno));
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		errx(1, "epoll_ctl: %s", strerror(errno));
	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			errx(1, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;
			bool keep = true;

			if (!c) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (!c ||
					    (kind == SVC_ECHO && !(c->buf = malloc(ECHO_BUF))))
						errx(1, "out of memory");
					c->fd = fd;
					if (first) {
						printf("tcpperf server: first connection cc %s\n",
						       get_cc(fd));
						first = false;
					}
					ev.events =
						kind == SVC_CHARGEN ? EPOLLIN | EPOLLOUT : EPOLLIN;
					ev.data.ptr = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
						errx(1, "epoll_ctl: %s", strerror(errno));
				}
				if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
					errx(1, "accept: %s", strerror(errno));
				continue;
			}
			switch (kind) {
			case SVC_DISCARD:
				keep = serve_discard(c);
				break;
			case SVC_CHARGEN:
				keep = serve_chargen(c, evs[i].events);
				break;
			case SVC_ECHO:
				keep = serve_echo(ep, c);
				break;
			}
			if (!keep)
				sconn_close(c);
		}
	}
}

/* --- options -------------------------------------------------------------------- */

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: tcpperf server [-a ADDR] [-p PORT] [-C CC] discard|chargen|echo\n"
		"       tcpperf client [-C CC] [-t SECONDS | -n COUNT] [-P PAR] [-T TIMEOUT] [-V]\n"
		"                      [-w PID]... send|recv|conns HOST PORT\n");
	exit(rc);
}

static unsigned long long num(const char *s, unsigned long long min, unsigned long long max,
			      const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		errx(1, "bad %s '%s'", what, s);
	return v;
}

static int server_main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	int port = -1, opt;
	enum svc kind;

	while ((opt = getopt(argc, argv, "a:p:C:h")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &sa.sin_addr) != 1)
				errx(1, "bad IPv4 address '%s'", optarg);
			break;
		case 'p':
			port = (int)num(optarg, 1, 65535, "port");
			break;
		case 'C':
			cc = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (argc - optind != 1)
		usage(2);
	if (!strcmp(argv[optind], "discard"))
		kind = SVC_DISCARD;
	else if (!strcmp(argv[optind], "chargen"))
		kind = SVC_CHARGEN;
	else if (!strcmp(argv[optind], "echo"))
		kind = SVC_ECHO;
	else
		usage(2);
	if (port < 0)
		port = kind == SVC_DISCARD ? 9 : kind == SVC_CHARGEN ? 19 : 7;
	sa.sin_port = htons((uint16_t)port);
	setvbuf(stdout, NULL, _IOLBF, 0);
	server(&sa, kind);
	return 0;
}

static int client_main(int argc, char **argv)
{
	struct client_opts o = { .secs = 5, .par = 1 };
	int opt;

	while ((opt = getopt(argc, argv, "C:t:n:P:T:Vw:h")) != -1) {
		switch (opt) {
		case 'C':
			cc = optarg;
			break;
		case 't':
			o.secs = strtod(optarg, NULL);
			if (!(o.secs > 0 && o.secs < 86400))
				errx(1, "bad duration '%s'", optarg);
			break;
		case 'n':
			o.count = num(optarg, 1, UINT64_MAX, "count");
			break;
		case 'P':
			o.par = (unsigned int)num(optarg, 1, 65536, "parallelism");
			break;
		case 'T':
			timeout_s = (int)num(optarg, 1, 86400, "timeout");
			break;
		case 'V':
			o.verify = true;
			break;
		case 'w':
			if (nwatch == MAX_WATCH)
				errx(1, "at most %d -w", MAX_WATCH);
			watch[nwatch++] = (pid_t)num(optarg, 1, INT32_MAX, "pid");
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (argc - optind != 3)
		usage(2);
	o.sa = parse_addr(argv[optind + 1], argv[optind + 2]);
	if (!strcmp(argv[optind], "send"))
		client_send(&o);
	else if (!strcmp(argv[optind], "recv"))
		client_recv(&o);
	else if (!strcmp(argv[optind], "conns"))
		client_conns(&o);
	else
		usage(2);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage(2);
	pattern_init();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "server"))
		return server_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "client"))
		return client_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage(0);
	usage(2);
}
