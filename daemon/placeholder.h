/* SPDX-License-Identifier: MIT */
/*
 * Placeholders made ahead and closed late: the Unix socket pairs behind
 * libusnet's sockets (shimsock.c) cost the kernel two files each to make
 * and to drop, most of what a new connection costs usnetd. A worker makes
 * them while it has nothing else to do, keeps them ready for CTL_SOCKET
 * and CTL_ACCEPT, and closes its ends of dead ones at the same idle times,
 * so that neither lies on a client's round trip.
 */
#ifndef USNET_DAEMON_PLACEHOLDER_H
#define USNET_DAEMON_PLACEHOLDER_H

#include <stdbool.h>

#define PH_READY_MAX 64u /* pairs kept ready, at most */
#define PH_DEAD_MAX 256u /* our ends of dead pairs waiting to be closed */

struct ph_pool {
	int ready[PH_READY_MAX][2]; /* [0] usnetd's end, [1] the client's */
	unsigned int nready;
	/* How many to keep ready: doubles (up to PH_READY_MAX) each time a
	 * request finds none, so that a worker whose clients make no sockets
	 * keeps none. */
	unsigned int target;
	int dead[PH_DEAD_MAX];
	unsigned int ndead;
};

/**
 * ph_pool_get() - a connected, blocking, close-on-exec socket pair: a
 * ready one, else one made now. Return: 0, -errno (of socketpair()).
 */
int ph_pool_get(struct ph_pool *p, int sv[2]);

/** ph_pool_drop() - our end @fd of a pair whose client end is gone: closed now or when idle */
void ph_pool_drop(struct ph_pool *p, int fd);

/**
 * ph_pool_idle() - one piece of deferred work (close the dead, or make one
 * pair ready), a few microseconds at most.
 * Return: whether there was any (call again before sleeping).
 */
bool ph_pool_idle(struct ph_pool *p);

/** ph_pool_fini() - close everything */
void ph_pool_fini(struct ph_pool *p);

#endif
