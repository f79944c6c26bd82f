/* SPDX-License-Identifier: MIT */
/*
 * Socket dumps for `usnet sockets` (Linux inet_diag's job): a worker turns
 * the TCP sockets of its stack into admin records on its own thread, and
 * the control thread sends them. The dump is sized when it is taken, so it
 * holds every socket the stack has, however many.
 */
#ifndef USNET_DAEMON_SOCKDIAG_H
#define USNET_DAEMON_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/admin_msg.h"

struct stack;

/** One worker's part of an ADMIN_SOCKETS request. */
struct sockdiag_dump {
	uint32_t states; /* in: bit (1 << Linux TCP state); 0 = all */
	uint32_t uid; /* in: the caller's user: it sees its own sockets and usnetd's */
	bool all; /* in: the caller is root and sees every socket */
	uint16_t worker; /* in: stored in every record */
	struct admin_rec_tcp_sock *recs; /* out: malloc'd by the worker */
	size_t n; /* out */
};

/**
 * sockdiag_tcp_dump() - fill @d with a record for every TCP socket of @st
 * whose state is in @d->states and that the caller may see (@d->uid's own,
 * usnetd's, or all of them with @d->all): full sockets with their
 * tcp_info, SYN-RECV request socks and TIME-WAIT buckets with their
 * addresses and timer.
 * Runs on the thread that owns @st.
 * Return: 0, -ENOMEM (@d->recs is then NULL).
 */
int sockdiag_tcp_dump(struct stack *st, struct sockdiag_dump *d);

/** sockdiag_dump_free() - free @d's records (any thread); @d itself is the caller's */
void sockdiag_dump_free(struct sockdiag_dump *d);

#endif
