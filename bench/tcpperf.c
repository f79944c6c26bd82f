// SPDX-License-Identifier: MIT
/*
 * tcpperf: the kernel-side load tool of the TCP benchmarks. Its client
 * drives usnetd's built-in services and, over a veth pair, its own server,
 * which behaves like those services, so that usnet and the Linux kernel are
 * measured by the same program doing the same work.
 *
 *   tcpperf server [-a ADDR] [-p PORT] [-C CC] discard|chargen|echo
 *   tcpperf client [-C CC] [-t SECONDS | -n COUNT] [-P PAR] [-T TIMEOUT] [-V]
 *                  [-l LEN] [-b] [-w PID]... send|recv|conns HOST PORT
 *   tcpperf watch [-w PID]... -- COMMAND [ARGS...]
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
 *          next. With -P 1 they come one after another. One poll() over
 *          the PAR sockets, not epoll, so that the client also runs under
 *          libusnet (bench/shim_connrate.sh).
 * send and recv move at most -l LEN bytes (default 256 KiB) per call,
 * nonblocking after a poll() that says the socket is ready; -b makes plain
 * blocking calls instead, without poll(), so that every call is one send()
 * or recv() (bench/shim_syscalls.sh counts the system calls they make).
 * and prints one line of key=value pairs: the mode, bytes or connections,
 * seconds, Gbit/s (payload) or connections per second, the congestion
 * control, and "other", the share of all CPUs (percent) that work other
 * than this client and the -w processes took meanwhile: both ends are
 * CPU-bound, so a run that other work disturbed is to be repeated.
 * Softirq time is not counted as other work: with tick-based accounting
 * the kernel's network processing on our behalf is charged there and not
 * to our processes. -C sets TCP_CONGESTION on every socket. A transfer or
 * connection that makes no progress for -T seconds (default 30) fails.
 *
 * watch runs COMMAND (no shell) and, once it has exited, prints one line
 * with its duration, the read- and write-family system calls it made
 * (syscr, syscw of /proc/PID/io: counted by the kernel, without tracing;
 * send/recv calls are not among them) and the same "other" share,
 * counting COMMAND (with the children it waited for) and the -w processes
 * as ours: the other-work check for load tools that do not make it
 * themselves (iperf3, sockperf). Its exit status is COMMAND's.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
	size_t len; /* send, recv: bytes per call */
	unsigned int par;
	bool verify;
	bool blocking; /* send, recv: blocking calls, no poll() */
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

static int dial(const struct client_opts *o)
{
	struct timeval tv = { .tv_sec = timeout_s };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		errx(1, "socket: %s", strerror(errno));
	set_cc(fd);
	if (connect(fd, (const struct sockaddr *)&o->sa, sizeof(o->sa)) < 0)
		errx(1, "connect: %s", strerror(errno));
	/* Blocking calls give up after -T seconds without progress. */
	if (o->blocking && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
			    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0))
		errx(1, "SO_SNDTIMEO/SO_RCVTIMEO: %s", strerror(errno));
	return fd;
}

/* Waits for @fd to be ready for @ev unless the calls block; Return: the
 * flags for the send() or recv() that follows. */
static int ready_io(const struct client_opts *o, int fd, short ev, const char *what)
{
	if (o->blocking)
		return 0;
	wait_io(fd, ev, what);
	return MSG_DONTWAIT;
}

/* A blocking call that timed out made no progress for -T seconds. */
static void io_failed(const struct client_opts *o, const char *what)
{
	if (o->blocking && errno == EAGAIN)
		errx(1, "%s: no progress for %d s", what, timeout_s);
	errx(1, "%s: %s", what, strerror(errno));
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
	int fd = dial(o);
	uint64_t sent = 0;
	double t0, t1;
	char c;

	cpu_sample_take(&a, watch, nwatch);
	t0 = now_s();
	while (!finished(o, t0, sent)) {
		size_t n = o->len;
		int fl = ready_io(o, fd, POLLOUT, "send");
		ssize_t w;

		if (o->count && o->count - sent < n)
			n = (size_t)(o->count - sent);
		/* The data does not matter to a discard service: the pattern
		 * buffer serves, at a moving offset. */
		w = send(fd, pattern + sent % CHARGEN_PERIOD, n, fl | MSG_NOSIGNAL);
		if (w < 0) {
			if ((errno == EAGAIN && !o->blocking) || errno == EINTR)
				continue;
			io_failed(o, "send");
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
	int fd = dial(o);
	uint64_t got = 0;
	double t0, t1;

	cpu_sample_take(&a, watch, nwatch);
	t0 = now_s();
	while (!finished(o, t0, got)) {
		size_t n = o->len;
		int fl = ready_io(o, fd, POLLIN, "recv");
		ssize_t r;

		if (o->count && o->count - got < n)
			n = (size_t)(o->count - got);
		r = recv(fd, buf, n, fl);
		if (r < 0) {
			if ((errno == EAGAIN && !o->blocking) || errno == EINTR)
				continue;
			io_failed(o, "recv");
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
	bool connected;
	double t_start;
};

static void conn_start(const struct client_opts *o, struct pollfd *p, struct cslot *s)
{
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (p->fd < 0)
		errx(1, "socket: %s", strerror(errno));
	set_cc(p->fd);
	if (connect(p->fd, (const struct sockaddr *)&o->sa, sizeof(o->sa)) < 0 &&
	    errno != EINPROGRESS)
		errx(1, "connect: %s", strerror(errno));
	p->events = POLLOUT;
	s->connected = false;
	s->t_start = now_s();
}

/* Moves connection @s (@p in the poll set) on; returns true when it has
 * finished (closed). */
static bool conn_step(struct pollfd *p, struct cslot *s)
{
	char c = 'x';
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t r;

	if (!s->connected) {
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			errx(1, "connect: %s", strerror(err ? err : errno));
		if (send(p->fd, &c, 1, MSG_NOSIGNAL) != 1)
			errx(1, "send: %s", strerror(errno));
		s->connected = true;
		p->events = POLLIN;
		return false;
	}
	r = recv(p->fd, &c, 1, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r != 1 || c != 'x')
		errx(1, "echo: %s", r < 0 ? strerror(errno) : r == 0 ? "closed" : "wrong byte");
	close(p->fd);
	p->fd = -1; /* poll() skips it */
	return true;
}

static void client_conns(const struct client_opts *o)
{
	struct cpu_sample a, b;
	struct cslot *slots = calloc(o->par, sizeof(*slots));
	struct pollfd *pfd = calloc(o->par, sizeof(*pfd));
	uint64_t started = 0, done = 0;
	unsigned int open = 0;
	double t0, t1, checked;
	char used[32];

	if (!slots || !pfd)
		errx(1, "out of memory");
	for (unsigned int i = 0; i < o->par; i++)
		pfd[i].fd = -1;
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
		conn_start(o, &pfd[i], &slots[i]);
	while (open) {
		int n = poll(pfd, o->par, 1000);
		double now = now_s();

		if (n < 0 && errno != EINTR)
			errx(1, "poll: %s", strerror(errno));
		for (unsigned int i = 0; n > 0 && i < o->par; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n--;
			if (!conn_step(&pfd[i], &slots[i]))
				continue;
			done++;
			open--;
			if (!finished(o, t0, started)) {
				conn_start(o, &pfd[i], &slots[i]);
				started++;
				open++;
			}
		}
		if (now - checked < 1)
			continue;
		checked = now;
		for (unsigned int i = 0; i < o->par; i++)
			if (pfd[i].fd >= 0 && now - slots[i].t_start > timeout_s)
				errx(1, "a connection made no progress for %d s (%s)", timeout_s,
				     slots[i].connected ? "no echo" : "connect");
	}
	t1 = now_s();
	cpu_sample_take(&b, watch, nwatch);
	printf("tcpperf conns conns=%llu par=%u secs=%.3f rate=%.0f cc=%s other=%.0f%%\n",
	       (unsigned long long)done, o->par, t1 - t0, (double)done / (t1 - t0), used,
	       cpu_other_percent(&a, &b));
	free(pfd);
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
		"                      [-l LEN] [-b] [-w PID]... send|recv|conns HOST PORT\n"
		"       tcpperf watch [-w PID]... -- COMMAND [ARGS...]\n");
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

/* --- watch ---------------------------------------------------------------------- */

static uint64_t rusage_ticks(const struct rusage *ru)
{
	uint64_t us = (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000 +
		      (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);

	return us * (uint64_t)sysconf(_SC_CLK_TCK) / 1000000;
}

/* The read- and write-family system calls (read, write, readv, writev,
 * pread, sendfile..., not send/recv) process @pid made, from /proc/PID/io
 * ("syscr", "syscw"); both 0 if it cannot be read. */
static void proc_syscalls(pid_t pid, unsigned long long *r, unsigned long long *w)
{
	char path[64], line[128];
	FILE *f;

	*r = *w = 0;
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "syscr: %llu", r) == 1)
			continue;
		sscanf(line, "syscw: %llu", w);
	}
	fclose(f);
}

static int watch_main(int argc, char **argv)
{
	struct cpu_sample a, b;
	unsigned long long syscr, syscw;
	struct rusage ru;
	siginfo_t si;
	double t0, t1;
	int opt, status;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+w:h")) != -1) {
		switch (opt) {
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
	if (optind >= argc)
		usage(2);
	fflush(stdout);
	cpu_sample_take(&a, watch, nwatch);
	t0 = now_s();
	pid = fork();
	if (pid < 0)
		errx(1, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[optind], argv + optind);
		err(127, "%s", argv[optind]);
	}
	/* Exited but not yet reaped, its I/O counters are still there. */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			errx(1, "waitid: %s", strerror(errno));
	proc_syscalls(pid, &syscr, &syscw);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			errx(1, "wait4: %s", strerror(errno));
	t1 = now_s();
	cpu_sample_take(&b, watch, nwatch);
	b.ours += rusage_ticks(&ru); /* the command's time, now that it has gone */
	printf("tcpperf watch secs=%.3f syscr=%llu syscw=%llu other=%.0f%%\n", t1 - t0, syscr,
	       syscw, cpu_other_percent(&a, &b));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
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
	struct client_opts o = { .secs = 5, .len = CHUNK, .par = 1 };
	int opt;

	while ((opt = getopt(argc, argv, "C:t:n:P:T:Vl:bw:h")) != -1) {
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
		case 'l':
			o.len = (size_t)num(optarg, 1, CHUNK, "length");
			break;
		case 'b':
			o.blocking = true;
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
	if (!strcmp(argv[1], "watch"))
		return watch_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage(0);
	usage(2);
}
