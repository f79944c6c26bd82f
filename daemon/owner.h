/* SPDX-License-Identifier: MIT */
/*
 * Who owns a proto socket in usnetd: every object stored in sock.owner
 * starts with a struct owner, so that the worker can hand each socket
 * event to the built-in services or to the shim's socket glue.
 */
#ifndef USNET_DAEMON_OWNER_H
#define USNET_DAEMON_OWNER_H

#include <stdint.h>

enum owner_kind {
	OWNER_SVC_LISTENER = 1,
	OWNER_SVC_CONN,
	OWNER_SHIM,
};

struct owner {
	uint8_t kind; /* enum owner_kind */
};

#endif
