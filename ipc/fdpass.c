// SPDX-License-Identifier: MIT
/* SCM_RIGHTS helpers shared by usnetd and libusnet (fdpass.h). */
#include "ipc/fdpass.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ipc_fds_attach(struct msghdr *mh, union ipc_fds_cmsg *cm, const int *fds, unsigned int n)
{
	if (!n || n > IPC_FDS_MAX)
		return;
	memset(cm, 0, sizeof(*cm));
	mh->msg_control = cm->b;
	mh->msg_controllen = CMSG_SPACE(sizeof(int) * n);
	cm->h.cmsg_level = SOL_SOCKET;
	cm->h.cmsg_type = SCM_RIGHTS;
	cm->h.cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(&cm->h), fds, sizeof(int) * n);
}

unsigned int ipc_fds_take(struct msghdr *mh, int *fds, unsigned int max)
{
	unsigned int n = 0;

	for (struct cmsghdr *ch = CMSG_FIRSTHDR(mh); ch; ch = CMSG_NXTHDR(mh, ch)) {
		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(ch) + i * sizeof(int), sizeof(fd));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

void ipc_fds_close(const int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
}

bool ipc_fd_is_anon(int fd, const char *kind)
{
	char path[32], link[64], want[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "anon_inode:[%s]", kind);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, want) == 0;
}
