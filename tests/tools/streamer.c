// SPDX-License-Identifier: MIT
/*
 * A TCP stream that only an error ends, for the fault tests
 * (tests/integration/shim_faults.sh): `streamer MODE HOST PORT` connects
 * and moves bytes until a call fails, then prints
 *
 *     streamer: MODE: CALL: ERRNO_NAME (message)
 *
 * on stderr and exits 1. The end of the peer's stream is not an error
 * here: it prints "streamer: MODE: end of stream" and exits 2. Once
 * 256 KiB have moved it prints "streaming" on stdout, so that the test
 * knows it is in the middle of a transfer. Modes:
 *   send     blocking send() (MSG_NOSIGNAL: the errno, not SIGPIPE)
 *   recv     blocking recv()
 *   pollin   non-blocking socket, poll() for POLLIN with a pipe that never
 *            becomes readable in the same set (the shim merges kernel
 *            fds), then recv()
 *   pollout  the same for POLLOUT and send()
 * A poll() that keeps reporting readiness to a call that keeps saying
 * EAGAIN would spin forever: that is reported as an error too (exit 3).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAMER_MARK (256u << 10)
#define STREAMER_SPIN_MAX 100000

static const char *mode;

static void die_errno(const char *call)
{
	int e = errno;

	fprintf(stderr, "streamer: %s: %s: %s (%s)\n", mode, call, strerrorname_np(e) ?: "?",
		strerror(e));
	exit(1);
}

static void moved(size_t *total, size_t n)
{
	if (*total < STREAMER_MARK && *total + n >= STREAMER_MARK) {
		printf("streaming\n");
		fflush(stdout);
	}
	*total += n;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	bool in, polled;
	size_t total = 0;
	long spins = 0;
	int fd, pipefd[2];

	if (argc != 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: streamer send|recv|pollin|pollout HOST PORT\n");
		return 99;
	}
	mode = argv[1];
	in = !strcmp(mode, "recv") || !strcmp(mode, "pollin");
	polled = !strncmp(mode, "poll", 4);
	if (!in && strcmp(mode, "send") && strcmp(mode, "pollout")) {
		fprintf(stderr, "streamer: unknown mode %s\n", mode);
		return 99;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[3]));
	memset(buf, 'u', sizeof(buf));
	if (pipe(pipefd) < 0)
		die_errno("pipe");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die_errno("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die_errno("connect");
	if (polled && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die_errno("fcntl");
	for (;;) {
		ssize_t n;

		if (polled) {
			struct pollfd p[2] = {
				{ .fd = pipefd[0], .events = POLLIN },
				{ .fd = fd, .events = in ? POLLIN : POLLOUT },
			};

			if (poll(p, 2, -1) < 0)
				die_errno("poll");
			if (p[0].revents) {
				fprintf(stderr, "streamer: %s: the idle pipe woke poll()\n", mode);
				return 3;
			}
		}
		n = in ? recv(fd, buf, sizeof(buf), 0) : send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n > 0) {
			moved(&total, (size_t)n);
			spins = 0;
			continue;
		}
		if (n == 0) {
			fprintf(stderr, "streamer: %s: end of stream after %zu bytes\n", mode, total);
			return 2;
		}
		if (polled && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (++spins < STREAMER_SPIN_MAX)
				continue;
			fprintf(stderr, "streamer: %s: poll() says ready, %s says EAGAIN, %ld times\n",
				mode, in ? "recv" : "send", spins);
			return 3;
		}
		die_errno(in ? "recv" : "send");
	}
}
