/* SPDX-License-Identifier: MIT */
/*
 * Admin requests on the control socket: validation, dispatch, gathering
 * data from the workers (asynchronously, with a deadline), and encoding the
 * reply as records (ipc/admin_msg.h).
 */
#ifndef USNET_DAEMON_ADMIN_H
#define USNET_DAEMON_ADMIN_H

#include <ev.h>
#include <stddef.h>

#include "ctl.h"

#define ADMIN_WORKER_TIMEOUT 2.0 /* seconds a worker has to answer */
#define ADMIN_MAX_REQS 4096 /* requests in flight before new ones get -EBUSY */

struct admin_req {
	struct admin_req *next;
	struct ctl_server *srv;
	struct ev_loop *loop;
	struct ctl_client *client; /* NULL once the client has gone */
	uint32_t seq;
	uint16_t type;
	bool answered;
	unsigned int pending; /* commands still with workers */
	ev_timer timer;
	struct worker_cmd cmds[CTL_MAX_WORKERS];
};

/**
 * admin_handle() - serve one message of @len bytes from @c. Replies (now or
 * when the workers answer) go through ctl_client_send().
 */
void admin_handle(struct ctl_client *c, const void *msg, size_t len);

/** admin_cmd_done() - a worker finished @cmd (control thread) */
void admin_cmd_done(struct ctl_server *srv, struct worker_cmd *cmd);

/** admin_submit_waiting() - hand over commands that waited for room */
void admin_submit_waiting(struct ctl_server *srv);

/** admin_client_gone() - forget @c in requests still in flight */
void admin_client_gone(struct ctl_server *srv, struct ctl_client *c);

/** admin_fini() - free requests at shutdown */
void admin_fini(struct ctl_server *srv);

#endif
