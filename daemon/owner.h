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

/*
 * sock.uid, who owns a socket for `usnet sockets`: the uid of the session
 * it is homed in for the shim's, this value for usnetd's own (built-in
 * services), which every user sees, as ss shows root's sockets to all.
 * Accepted children and TIME-WAIT entries keep their listener's or
 * socket's (proto copies it).
 */
#define OWNER_UID_USNETD UINT32_MAX

#endif
