/* SPDX-License-Identifier: MIT */
/*
 * Descriptors carried with SCM_RIGHTS on the control socket, for both
 * usnetd and libusnet: attaching them to a message and taking them out of
 * a received one, where every descriptor beyond what the receiver can
 * hold is closed rather than leaked.
 */
#ifndef USNET_IPC_FDPASS_H
#define USNET_IPC_FDPASS_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>

#define IPC_FDS_MAX 16u /* descriptors one message may carry */

/* Control-message room for IPC_FDS_MAX descriptors, suitably aligned. */
union ipc_fds_cmsg {
	struct cmsghdr h;
	uint8_t b[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
};

/**
 * ipc_fds_attach() - make @mh carry @n (<= IPC_FDS_MAX) descriptors, using
 * @cm for the control data. Nothing is attached when @n is 0.
 */
void ipc_fds_attach(struct msghdr *mh, union ipc_fds_cmsg *cm, const int *fds, unsigned int n);

/**
 * ipc_fds_take() - the SCM_RIGHTS descriptors of received @mh into @fds
 * (at most @max); the rest are closed.
 * Return: how many are in @fds.
 */
unsigned int ipc_fds_take(struct msghdr *mh, int *fds, unsigned int max);

/** ipc_fds_close() - close @n descriptors */
void ipc_fds_close(const int *fds, unsigned int n);

/**
 * ipc_fd_is_anon() - is @fd an anonymous-inode file of @kind ("eventfd",
 * "eventpoll"), as /proc/self/fd says? For a descriptor that came from
 * elsewhere and must be of one kind.
 */
bool ipc_fd_is_anon(int fd, const char *kind);

#endif
