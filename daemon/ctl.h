/* SPDX-License-Identifier: MIT */
/*
 * Control server: the SOCK_SEQPACKET Unix socket that usnet (and later
 * libusnet) talks to, served by the control thread's libev loop. Each
 * client is identified by SO_PEERCRED when it connects.
 */
#ifndef USNET_DAEMON_CTL_H
#define USNET_DAEMON_CTL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "link.h"
#include "worker.h"

#define CTL_MAX_CLIENTS 1024
#define CTL_MAX_WORKERS 64

struct ctl_outmsg {
	struct ctl_outmsg *next;
	size_t len;
	uint8_t data[];
};

struct ctl_client {
	struct ctl_client *next;
	struct ctl_server *srv;
	int fd;
	ev_io rio;
	ev_io wio;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	struct ctl_outmsg *out_head;
	struct ctl_outmsg *out_tail;
	unsigned int inflight;
	bool dead; /* failed; closed from the loop, never mid-callback */
	ev_timer reap;
};

struct ctl_server {
	struct ev_loop *loop;
	const struct usnetd_config *cfg;
	struct link *link;
	struct worker *workers;
	unsigned int nworkers;
	uint64_t start_ns;
	int lfd;
	ev_io lio;
	ev_io done_io[CTL_MAX_WORKERS];
	char path[108];
	bool created_dir;
	struct ctl_client *clients;
	unsigned int nclients;
	struct admin_req *reqs; /* oldest first */
	unsigned int nreqs;
};

/**
 * ctl_client_detach() - forget @c without closing its socket, which the
 * caller takes over (a libusnet channel moving to a worker).
 * Return: the socket.
 */
int ctl_client_detach(struct ctl_server *srv, struct ctl_client *c);

/**
 * ctl_open() - create and bind the control socket at @path (its directory
 * too, if missing); refuse if another usnetd answers there.
 * Return: 0, -errno (message printed).
 */
int ctl_open(struct ctl_server *srv, const char *path);

/**
 * ctl_hand_over() - give the socket (and a directory usnetd created for it)
 * to the user usnetd is about to become, so that it can remove them at exit;
 * warn if the directory still will not let it.
 */
void ctl_hand_over(struct ctl_server *srv, uid_t uid, gid_t gid);

/**
 * ctl_start() - attach the socket and the workers' completion eventfds to
 * @loop. Return: 0, -errno.
 */
int ctl_start(struct ctl_server *srv, struct ev_loop *loop, struct worker *workers,
	      unsigned int nworkers);

/**
 * ctl_stop() - disconnect clients and detach from the loop; call before the
 * workers stop, since it watches their eventfds
 */
void ctl_stop(struct ctl_server *srv);

/** ctl_close() - ctl_stop(), then free requests, close and unlink the socket */
void ctl_close(struct ctl_server *srv);

/**
 * ctl_client_send() - queue one message for @c and send what the socket
 * takes. Return: 0, -ENOMEM.
 */
int ctl_client_send(struct ctl_client *c, const void *msg, size_t len);

#endif
