// SPDX-License-Identifier: MIT
/*
 * fd -> usnet socket. A usnet socket is a real descriptor (the placeholder
 * usnetd made), so fd numbers never collide with files; this table only
 * says which descriptors are ours. Lookups are one atomic load; a slot
 * changes only in socket/accept/dup/close paths.
 */
#include <stdlib.h>

#include "shim.h"

_Atomic(struct usock *) shim_fds[SHIM_FD_MAX];

struct usock *shim_usock_new(struct shim_seg *seg, uint32_t slot, uint32_t id, uint32_t gen,
			     int domain)
{
	struct usock *u;

	if (slot >= seg->nslots)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	atomic_init(&u->refs, 1);
	u->seg = seg;
	u->ss = ipc_seg_slot_map(seg->base, seg->slot_size, seg->rx_size, seg->tx_size, slot,
				 &u->rx, &u->tx);
	u->id = id;
	u->gen = gen;
	u->domain = domain;
	return u;
}

void shim_usock_put(struct usock *u)
{
	if (u && atomic_fetch_sub(&u->refs, 1) == 1)
		free(u);
}

void shim_fd_set(int fd, struct usock *u)
{
	struct usock *old;

	if (fd < 0 || (unsigned int)fd >= SHIM_FD_MAX)
		return;
	if (u)
		atomic_fetch_add(&u->nfds, 1);
	old = atomic_exchange(&shim_fds[fd], u);
	/* The kernel removes a file from its epolls when its last fd closes;
	 * so do we. */
	if (old && atomic_fetch_sub(&old->nfds, 1) == 1)
		shim_epoll_forget(old);
	shim_usock_put(old);
}

void shim_fd_drop(int fd)
{
	shim_fd_set(fd, NULL);
}
