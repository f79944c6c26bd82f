// SPDX-License-Identifier: MIT
/*
 * Control message validation: a pure function over the received bytes, so
 * that usnetd never reads a body it has not sized (and a fuzzer can drive
 * it). The shim's requests are fixed-size per type.
 */
#include "ipc/ctl_msg.h"

#include <errno.h>
#include <string.h>

static const size_t req_size[CTL__MAX - CTL_HELLO] = {
	[CTL_HELLO - CTL_HELLO] = sizeof(struct ctl_hello),
	[CTL_DOORBELL - CTL_HELLO] = sizeof(struct ctl_doorbell),
	[CTL_SOCKET - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_BIND - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_LISTEN - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_CONNECT - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_ACCEPT - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_SHUTDOWN - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_SETSOCKOPT - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_GETSOCKOPT - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_GETNAME - CTL_HELLO] = sizeof(struct ctl_sock_req),
	[CTL_CLAIM - CTL_HELLO] = sizeof(struct ctl_sock_req),
};

size_t ctl_msg_req_size(unsigned int type)
{
	return type >= CTL_HELLO && type < CTL__MAX ? req_size[type - CTL_HELLO] : 0;
}

int ctl_msg_check(const void *msg, size_t len)
{
	struct ipc_hdr h;
	size_t body;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, msg, sizeof(h));
	if (h.magic != IPC_MAGIC || h.version != IPC_VERSION)
		return -EPROTONOSUPPORT;
	body = ctl_msg_req_size(h.type);
	if (!body || h.len != len || len != sizeof(h) + body)
		return -EINVAL;
	return 0;
}
