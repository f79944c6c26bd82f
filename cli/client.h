/* SPDX-License-Identifier: MIT */
/* The usnet tool's side of the admin protocol: connect, ask, collect records. */
#ifndef USNET_CLI_CLIENT_H
#define USNET_CLI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/admin_msg.h"

/* Exit statuses (usnet(8)): unbound-control's convention for "not running". */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,
};

/** All records of one reply, in order. */
struct reply {
	int32_t status;
	size_t n;
	size_t cap;
	struct {
		uint16_t type;
		uint16_t len; /* body bytes */
		const void *body;
	} * recs;
	uint8_t **msgs; /* the messages the bodies point into */
	size_t nmsgs;
};

/** A record to send with a request (a filter, say). */
struct client_rec {
	uint16_t type;
	const void *body;
	size_t len;
};

/**
 * client_request() - send admin request @type, with the record @req_rec if it
 * is not NULL, to the daemon at @path and collect its reply into @r.
 * Prints one line to stderr on failure.
 * Return: EXIT_OK, EXIT_FAIL, EXIT_USAGE (a control path too long), or
 * EXIT_NOT_RUNNING.
 */
int client_request(const char *path, uint16_t type, const struct client_rec *req_rec,
		   struct reply *r);

void reply_free(struct reply *r);

#endif
