/* SPDX-License-Identifier: MIT */
/*
 * The kernel's TCP-level socket option numbers and struct tcp_info, for the
 * shim's requests. <linux/tcp.h> and <netinet/tcp.h> cannot be included
 * next to proto/tcp.h (they define the same kernel names), so the numbers
 * the daemon needs are restated here (Linux UAPI, stable) and the struct
 * is filled in tcpinfo.c, which sees only <linux/tcp.h>.
 */
#ifndef USNET_DAEMON_TCPINFO_H
#define USNET_DAEMON_TCPINFO_H

#include <stddef.h>

#include "proto/tcp_info.h"

#define UAPI_TCP_NODELAY 1
#define UAPI_TCP_MAXSEG 2
#define UAPI_TCP_CORK 3
#define UAPI_TCP_KEEPIDLE 4
#define UAPI_TCP_KEEPINTVL 5
#define UAPI_TCP_KEEPCNT 6
#define UAPI_TCP_INFO 11
#define UAPI_TCP_QUICKACK 12
#define UAPI_TCP_CONGESTION 13
#define UAPI_TCP_USER_TIMEOUT 18
#define UAPI_TCP_CA_NAME_MAX 16

/**
 * tcpinfo_fill() - write struct tcp_info for @l into @out (@cap bytes).
 * Return: the bytes written.
 */
size_t tcpinfo_fill(const struct tcp_info_lite *l, void *out, size_t cap);

#endif
