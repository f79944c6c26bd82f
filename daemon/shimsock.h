/* SPDX-License-Identifier: MIT */
/*
 * The daemon's half of a libusnet socket: a proto TCP socket whose payload
 * streams are the fifos of a slot in a session's segment, whose readiness
 * is published in that slot, and whose life is tied to a placeholder: one
 * end of an AF_UNIX socketpair is the application's file descriptor, the
 * other stays here. When the kernel reports hang-up on our end, the last
 * reference in any process is gone (close, exit, crash, SIGKILL) and the
 * connection is closed as the kernel would close it: FIN after the queued
 * data, or RST when received data was never read.
 */
#ifndef USNET_DAEMON_SHIMSOCK_H
#define USNET_DAEMON_SHIMSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/ctl_msg.h"
#include "ipc/fifo.h"
#include "owner.h"

struct worker;
struct session;
struct sock;
struct tcp_sock;
struct ipc_hdr;

struct shim_sock {
	struct owner hdr; /* OWNER_SHIM */
	struct tcp_sock *tp;
	struct session *home; /* holds a reference */
	uint32_t id; /* home session id << 16 | slot */
	uint32_t gen;
	struct ipc_sock *ss;
	struct ipc_fifo_ref rx, tx;
	int ph_fd; /* our end of the placeholder */
	dev_t ph_dev; /* the client's end: how CTL_CLAIM recognises it */
	ino_t ph_ino;
	uint8_t domain; /* AF_INET or AF_INET6, as the application asked */
	bool connected; /* reached ESTABLISHED once: may send, has a peer */
	bool wake_queued;
	struct shim_sock *wake_next;
	uint64_t idle_since; /* ns; both fifos empty since (0: in use) */
	bool rings_punched; /* idle: the rings' pages went back to the kernel */
};

/* Requests that name a socket: the worker's dispatch for session.c. */

/**
 * shimsock_socket() - CTL_SOCKET: req->arg (at least 1, at most
 * CTL_SOCKET_MAX) new TCP sockets homed in @s, fewer if slots or
 * descriptors run out after the first.
 * Return: 0 with @ph[0..*@nph) set to the application's ends, -errno.
 */
int shimsock_socket(struct worker *w, struct session *s, const struct ctl_sock_req *req,
		    struct ctl_sock_rep *rep, int *ph, unsigned int *nph);

/**
 * shimsock_reclaim() - give the ring pages of sockets idle (both fifos
 * empty) for SHIMSOCK_IDLE_NS back to the kernel, so that an idle
 * connection costs a page. Sets w->shim_reclaim_at for the next look.
 */
#define SHIMSOCK_IDLE_NS 1000000000ull
void shimsock_reclaim(struct worker *w, uint64_t now);

/**
 * shimsock_claim() - CTL_CLAIM: @sess holds placeholder @ph of the socket
 * @req names; grant it the socket's segment, whose memfd (a new
 * descriptor) lands in *@memfd.
 * Return: 0, -EBADF (no such socket, or @ph is not its placeholder),
 * -EMFILE (too many segments).
 */
int shimsock_claim(struct worker *w, struct session *sess, const struct ctl_sock_req *req,
		   int ph, struct ctl_sock_rep *rep, int *memfd);

/**
 * shimsock_request() - every other per-socket request of @s; CTL_ACCEPT
 * may set *@ph to the new connection's placeholder. @sender is the pid
 * the kernel stamped on the request (0 if none), for CTL_BIND's check.
 * Return: 0, -errno (the reply's status).
 */
int shimsock_request(struct worker *w, struct session *s, unsigned int type,
		     const struct ctl_sock_req *req, struct ctl_sock_rep *rep, int *ph,
		     pid_t sender);

/** shimsock_event() - proto reported @ev on @sk, which the shim owns */
void shimsock_event(struct worker *w, struct sock *sk, uint32_t ev);

/** shimsock_kick() - the application kicked slot @slot of @s */
void shimsock_kick(struct worker *w, struct session *s, uint32_t slot);

/** shimsock_hup() - the placeholder of socket @id/@gen hung up */
void shimsock_hup(struct worker *w, uint32_t id, uint32_t gen);

/** shimsock_wake_flush() - ring the doorbells of sockets whose readiness changed */
void shimsock_wake_flush(struct worker *w);

/** shimsock_close_all() - at shutdown: close every socket of @s (reset) */
void shimsock_close_all(struct worker *w, struct session *s);

#endif
