/* SPDX-License-Identifier: MIT */
/* Dropping privileges once links and sockets are open (libcap). */
#ifndef USNET_DAEMON_PRIV_H
#define USNET_DAEMON_PRIV_H

#include <sys/types.h>

/**
 * priv_lookup_user() - resolve @user before anything is set up, so that a
 * typo fails at start. Return: 0 with @uid and @gid filled in, -ENOENT.
 */
int priv_lookup_user(const char *user, uid_t *uid, gid_t *gid);

/**
 * priv_drop() - switch to @uid/@gid if @user is non-empty, then give up
 * every capability (effective, permitted, inheritable, ambient and the
 * bounding set) and set no_new_privs. Must run before other threads start:
 * capability sets are per thread and new threads inherit them.
 * Return: 0, -errno (message printed).
 */
int priv_drop(const char *user, uid_t uid, gid_t gid);

#endif
