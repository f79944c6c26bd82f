// SPDX-License-Identifier: MIT
/*
 * Admin client: one SOCK_SEQPACKET connection per command. A missing or
 * refusing socket means usnetd is not running (exit 3, as unbound-control's
 * checkconnecterr); everything the daemon sends is checked with the same
 * validators the daemon uses before a byte of it is believed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"

#define CLIENT_TIMEOUT_S 5

static int reply_add(struct reply *r, uint16_t type, uint16_t len, const void *body)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		void *p = realloc(r->recs, cap * sizeof(*r->recs));

		if (!p)
			return -ENOMEM;
		r->recs = p;
		r->cap = cap;
	}
	r->recs[r->n].type = type;
	r->recs[r->n].len = len;
	r->recs[r->n].body = body;
	r->n++;
	return 0;
}

void reply_free(struct reply *r)
{
	for (size_t i = 0; i < r->nmsgs; i++)
		free(r->msgs[i]);
	free(r->msgs);
	free(r->recs);
	memset(r, 0, sizeof(*r));
}

int client_request(const char *path, uint16_t type, const struct client_rec *req_rec,
		   struct reply *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
	uint64_t req[256 / 8];
	struct admin_buf b = { .buf = (uint8_t *)req, .cap = sizeof(req) };
	uint32_t seq = (uint32_t)getpid();
	int fd, rc = EXIT_FAIL;

	memset(r, 0, sizeof(*r));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usnet: control socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "usnet: socket: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			fprintf(stderr,
				"usnet: cannot reach usnetd at %s: %s (is usnetd running?)\n", path,
				strerror(e));
		else
			fprintf(stderr, "usnet: cannot reach usnetd at %s: %s\n", path,
				strerror(e));
		close(fd);
		/* Only "nobody listens there" means not running; a full backlog
		 * (EAGAIN) or a permission problem is a failure of this command. */
		return e == ENOENT || e == ECONNREFUSED || e == ENOTDIR ? EXIT_NOT_RUNNING :
									  EXIT_FAIL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	admin_msg_init(&b, type, seq, 0, 0);
	if (req_rec && admin_msg_add(&b, req_rec->type, req_rec->body, req_rec->len) < 0) {
		fprintf(stderr, "usnet: request record too large\n");
		goto out;
	}
	admin_msg_finish(&b);
	if (send(fd, b.buf, b.len, MSG_NOSIGNAL) != (ssize_t)b.len) {
		fprintf(stderr, "usnet: sending to usnetd: %s\n", strerror(errno));
		goto out;
	}

	for (;;) {
		uint8_t *msg = aligned_alloc(8, IPC_MSG_MAX);
		const struct admin_rec *rec;
		const void *body;
		struct ipc_hdr h;
		size_t off = 0;
		ssize_t n;
		int k, c;
		void *p;

		if (!msg) {
			fprintf(stderr, "usnet: out of memory\n");
			goto out;
		}
		p = realloc(r->msgs, (r->nmsgs + 1) * sizeof(*r->msgs));
		if (!p) {
			free(msg);
			fprintf(stderr, "usnet: out of memory\n");
			goto out;
		}
		r->msgs = p;
		r->msgs[r->nmsgs++] = msg;
		n = recv(fd, msg, IPC_MSG_MAX, MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fprintf(stderr, "usnet: usnetd did not answer within %d s\n",
					CLIENT_TIMEOUT_S);
			else
				fprintf(stderr, "usnet: reading from usnetd: %s\n",
					strerror(errno));
			goto out;
		}
		if (n == 0) {
			fprintf(stderr, "usnet: usnetd closed the connection\n");
			goto out;
		}
		if (n > IPC_MSG_MAX) {
			fprintf(stderr, "usnet: usnetd sent an oversized message (%zd bytes)\n", n);
			goto out;
		}
		c = admin_msg_check(msg, (size_t)n);
		if (c == -EPROTONOSUPPORT) {
			memcpy(&h, msg, sizeof(h));
			fprintf(stderr,
				"usnet: usnet %s talks admin protocol %u; usnetd speaks %u\n",
				PACKAGE_VERSION, IPC_VERSION, h.version);
			goto out;
		}
		if (c < 0) {
			fprintf(stderr, "usnet: malformed reply from usnetd: %s\n", strerror(-c));
			goto out;
		}
		memcpy(&h, msg, sizeof(h));
		if (h.seq != seq || !(h.flags & IPC_F_REPLY)) {
			fprintf(stderr, "usnet: unexpected message from usnetd\n");
			goto out;
		}
		if (h.status) {
			r->status = h.status;
			if (h.status == -EOPNOTSUPP)
				fprintf(stderr,
					"usnet: usnetd does not know this command (an older usnetd than usnet %s?)\n",
					PACKAGE_VERSION);
			else
				fprintf(stderr, "usnet: usnetd: %s\n", strerror(-h.status));
			goto out;
		}
		while ((k = admin_msg_next(msg, (size_t)n, &off, &rec, &body)) > 0)
			if (reply_add(r, rec->type, (uint16_t)(rec->len - sizeof(*rec)), body) <
			    0) {
				fprintf(stderr, "usnet: out of memory\n");
				goto out;
			}
		if (k < 0) {
			fprintf(stderr, "usnet: malformed record from usnetd\n");
			goto out;
		}
		if (!(h.flags & IPC_F_MORE))
			break;
	}
	rc = EXIT_OK;
out:
	close(fd);
	return rc;
}
