/* SPDX-License-Identifier: MIT */
/*
 * The ABI between usnetd and its clients (the usnet tool now, libusnet
 * later): every message on the control socket starts with struct ipc_hdr.
 * Both sides check magic and version first; a mismatch is answered with
 * -EPROTONOSUPPORT and the version the daemon speaks, never with a crash.
 * Layouts are fixed-size, little-endian host order (both ends run on the
 * same machine), and pinned by _Static_assert.
 */
#ifndef USNET_IPC_ABI_H
#define USNET_IPC_ABI_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAGIC 0x544e5355u /* "USNT" */
#define IPC_VERSION 2u
#define IPC_MSG_MAX 65536u /* largest message either side sends */
#define IPC_DEFAULT_CONTROL "/run/usnet/usnetd.sock"

/* ipc_hdr.flags */
#define IPC_F_REPLY 0x1u /* sent by the daemon */
#define IPC_F_MORE 0x2u /* more reply messages follow for this seq */

struct ipc_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type; /* enum admin_msg_type, later ctl types */
	uint32_t seq; /* chosen by the client, echoed in replies */
	uint32_t len; /* whole message, header included */
	int32_t status; /* replies: 0 or -errno */
	uint16_t flags;
	uint16_t reserved;
};

_Static_assert(sizeof(struct ipc_hdr) == 24, "ipc_hdr layout");
_Static_assert(offsetof(struct ipc_hdr, status) == 16, "ipc_hdr layout");

#endif
