/* SPDX-License-Identifier: MIT */
/* systemd readiness notification (sd_notify(3) protocol, without libsystemd). */
#ifndef USNET_DAEMON_SDNOTIFY_H
#define USNET_DAEMON_SDNOTIFY_H

/**
 * sdnotify() - send @state ("READY=1", "STOPPING=1") to $NOTIFY_SOCKET
 * Return: 1 if sent, 0 if not running under a notify-aware manager, -errno.
 */
int sdnotify(const char *state);

#endif
