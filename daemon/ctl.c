// SPDX-License-Identifier: MIT
/*
 * Control server on the libev loop of the control thread. Messages are
 * whole SEQPACKET records; a record larger than IPC_MSG_MAX, or a client
 * that sends while it has too much unread output, is disconnected with a
 * rate-limited log line naming its pid and uid. Replies are queued per
 * client and written as the socket accepts them, so a slow reader never
 * blocks the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "ipc/ctl_msg.h"
#include "ipc/fdpass.h"
#include "session.h"
#include "ctl.h"
#include "ipc/abi.h"
#include "log.h"

#define CTL_MAX_QUEUED 64 /* reply messages a client may leave unread */

static void client_purge(struct ctl_client *c)
{
	struct ctl_outmsg *m;

	while ((m = c->out_head)) {
		c->out_head = m->next;
		free(m);
	}
	c->out_tail = NULL;
}

static void client_close(struct ctl_client *c)
{
	struct ctl_server *srv = c->srv;
	struct ctl_client **pp = &srv->clients;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	srv->nclients--;
	admin_client_gone(srv, c);
	ev_io_stop(srv->loop, &c->rio);
	ev_io_stop(srv->loop, &c->wio);
	ev_timer_stop(srv->loop, &c->reap);
	if (c->fd >= 0)
		close(c->fd);
	client_purge(c);
	free(c);
}

static void client_reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	client_close(t->data);
}

/*
 * A client that failed is only marked here: whoever is sending to it (an
 * admin reply in the middle of a multi-message answer, say) still holds the
 * pointer, so it is freed from its own loop iteration.
 */
static void client_kill(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	client_purge(c);
	ev_io_stop(c->srv->loop, &c->rio);
	ev_io_stop(c->srv->loop, &c->wio);
	ev_timer_start(c->srv->loop, &c->reap);
}

static unsigned int client_queued(const struct ctl_client *c)
{
	unsigned int n = 0;

	for (const struct ctl_outmsg *m = c->out_head; m; m = m->next)
		n++;
	return n;
}

static void client_flush(struct ctl_client *c)
{
	struct ctl_outmsg *m;

	while (!c->dead && (m = c->out_head)) {
		ssize_t n = send(c->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_start(c->srv->loop, &c->wio);
				return;
			}
			log_ratelimited(LOG_LVL_INFO, "control: client pid %d uid %u: send: %s",
					(int)c->pid, (unsigned int)c->uid, strerror(errno));
			client_kill(c);
			return;
		}
		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = NULL;
		free(m);
	}
	ev_io_stop(c->srv->loop, &c->wio);
}

int ctl_client_send(struct ctl_client *c, const void *msg, size_t len)
{
	struct ctl_outmsg *m;

	if (c->dead)
		return -EPIPE;
	m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	client_flush(c);
	return 0;
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	client_flush(w->data);
}

int ctl_client_detach(struct ctl_server *srv, struct ctl_client *c)
{
	int fd = c->fd;

	c->fd = -1;
	client_kill(c);
	return fd;
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = w->data;
	uint64_t buf[IPC_MSG_MAX / sizeof(uint64_t)];
	union ipc_fds_cmsg cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	int fds[IPC_FDS_MAX];
	unsigned int nfds = 0;
	struct ipc_hdr h;
	ssize_t n;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n >= 0)
		nfds = ipc_fds_take(&mh, fds, IPC_FDS_MAX);
	if (n > 0 && (size_t)n >= sizeof(h) && (size_t)n <= sizeof(buf)) {
		memcpy(&h, buf, sizeof(h));
		if (h.type == CTL_HELLO && c->srv->nworkers) {
			/* libusnet: the channel moves to the worker. */
			session_hello(c->srv, c, &c->srv->workers[0], buf, (size_t)n, fds, nfds);
			return;
		}
	}
	ipc_fds_close(fds, nfds);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		client_kill(c);
		return;
	}
	if (n == 0) {
		client_kill(c);
		return;
	}
	if ((size_t)n > sizeof(buf)) {
		log_ratelimited(
			LOG_LVL_WARN,
			"control: client pid %d uid %u: message of %zd bytes exceeds %u; disconnected",
			(int)c->pid, (unsigned int)c->uid, n, IPC_MSG_MAX);
		client_kill(c);
		return;
	}
	if (client_queued(c) >= CTL_MAX_QUEUED) {
		log_ratelimited(
			LOG_LVL_WARN,
			"control: client pid %d uid %u: does not read its replies; disconnected",
			(int)c->pid, (unsigned int)c->uid);
		client_kill(c);
		return;
	}
	admin_handle(c, buf, (size_t)n);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_server *srv = w->data;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_client *c;
	int fd;

	fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_ratelimited(LOG_LVL_WARN, "control: accept: %s%s", strerror(errno),
					errno == EMFILE ? " (out of file descriptors)" : "");
		return;
	}
	if (srv->nclients >= CTL_MAX_CLIENTS) {
		log_ratelimited(LOG_LVL_WARN, "control: %u clients connected; refusing another",
				srv->nclients);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->gid = cred.gid;
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->reap, client_reap_cb, 0., 0.);
	c->rio.data = c->wio.data = c->reap.data = c;
	ev_io_start(loop, &c->rio);
	c->next = srv->clients;
	srv->clients = c;
	srv->nclients++;
	log_debug("control: client pid %d uid %u connected", (int)c->pid, (unsigned int)c->uid);
}

static void done_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_server *srv = w->data;
	unsigned int id = (unsigned int)(w - srv->done_io);
	struct worker *wk = &srv->workers[id];
	struct worker_cmd *cmd;
	eventfd_t v;

	if (eventfd_read(wk->done_fd, &v) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_LVL_ERR, "control: worker %u eventfd: %s", id, strerror(errno));
	while ((cmd = worker_done_pop(wk)))
		admin_cmd_done(srv, cmd);
	admin_submit_waiting(srv);
}

/* Another daemon is alive on @path if it accepts a connection. */
static bool ctl_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	strcpy(sa.sun_path, path);
	used = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return used;
}

int ctl_open(struct ctl_server *srv, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(srv->path)];
	struct stat stb;
	int rc;

	srv->lfd = -1;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (stat(dir, &stb) < 0) {
		if (errno != ENOENT || mkdir(dir, 0755) < 0) {
			rc = -errno;
			log_err("control %s: directory %s: %s", path, dir, strerror(errno));
			return rc;
		}
		srv->created_dir = true;
	}
	if (lstat(path, &stb) == 0) {
		if (!S_ISSOCK(stb.st_mode)) {
			log_err("control %s: exists and is not a socket", path);
			return -EEXIST;
		}
		if (ctl_in_use(path)) {
			log_err("control %s: another usnetd is running there", path);
			return -EADDRINUSE;
		}
		unlink(path); /* stale, from a daemon that did not exit cleanly */
	}
	srv->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->lfd < 0) {
		rc = -errno;
		log_err("control %s: socket: %s", path, strerror(errno));
		return rc;
	}
	strcpy(sa.sun_path, path);
	if (bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(srv->lfd, 128) < 0) {
		rc = -errno;
		log_err("control %s: bind: %s", path, strerror(errno));
		close(srv->lfd);
		srv->lfd = -1;
		return rc;
	}
	/* Every user may connect: programs of any uid run under the shim.
	 * Commands that change state check the caller's credentials. */
	if (chmod(path, 0666) < 0) {
		rc = -errno;
		log_err("control %s: chmod: %s", path, strerror(errno));
		ctl_close(srv);
		return rc;
	}
	return 0;
}

void ctl_hand_over(struct ctl_server *srv, uid_t uid, gid_t gid)
{
	char dir[sizeof(srv->path)];
	struct stat stb;
	bool writable;

	snprintf(dir, sizeof(dir), "%s", srv->path);
	dirname(dir);
	if (chown(srv->path, uid, gid) < 0)
		log_warn("control %s: chown: %s", srv->path, strerror(errno));
	if (srv->created_dir && chown(dir, uid, gid) < 0)
		log_warn("control %s: chown %s: %s", srv->path, dir, strerror(errno));
	if (stat(dir, &stb) < 0)
		return;
	/* Removing the socket needs write access to its directory (and, in a
	 * sticky one like /tmp, owning the socket, which it now does). */
	writable = (stb.st_uid == uid && (stb.st_mode & S_IWUSR)) ||
		   (stb.st_gid == gid && (stb.st_mode & S_IWGRP)) || (stb.st_mode & S_IWOTH);
	if (!writable)
		log_warn(
			"control %s: directory %s is not writable by uid %u; the socket will be left behind at exit",
			srv->path, dir, (unsigned int)uid);
}

int ctl_start(struct ctl_server *srv, struct ev_loop *loop, struct worker *workers,
	      unsigned int nworkers)
{
	if (nworkers > CTL_MAX_WORKERS)
		return -EINVAL;
	srv->loop = loop;
	srv->workers = workers;
	srv->nworkers = nworkers;
	ev_io_init(&srv->lio, accept_cb, srv->lfd, EV_READ);
	srv->lio.data = srv;
	ev_io_start(loop, &srv->lio);
	for (unsigned int i = 0; i < nworkers; i++) {
		ev_io_init(&srv->done_io[i], done_cb, workers[i].done_fd, EV_READ);
		srv->done_io[i].data = srv;
		ev_io_start(loop, &srv->done_io[i]);
	}
	return 0;
}

void ctl_stop(struct ctl_server *srv)
{
	while (srv->clients)
		client_close(srv->clients);
	if (srv->loop) {
		ev_io_stop(srv->loop, &srv->lio);
		for (unsigned int i = 0; i < srv->nworkers; i++)
			ev_io_stop(srv->loop, &srv->done_io[i]);
		srv->loop = NULL;
	}
}

void ctl_close(struct ctl_server *srv)
{
	ctl_stop(srv);
	admin_fini(srv);
	if (srv->lfd >= 0) {
		close(srv->lfd);
		srv->lfd = -1;
		unlink(srv->path);
		if (srv->created_dir) {
			char dir[sizeof(srv->path)];

			snprintf(dir, sizeof(dir), "%s", srv->path);
			rmdir(dirname(dir));
		}
	}
}
