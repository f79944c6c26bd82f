// SPDX-License-Identifier: MIT
/*
 * Privilege shedding after setup (chrony sys_linux.c SYS_Linux_DropRoot,
 * passt isolation.c). What usnetd needs privileges for, and when:
 *   CAP_NET_ADMIN  TUNSETIFF and rtnetlink configuration: start only;
 *   CAP_SYS_ADMIN  setns() into --host-netns: start only.
 * The running daemon reads and writes an already open TAP, serves a Unix
 * socket and closes the TAP at exit (which deletes it without privilege),
 * so it keeps no capability at all. Later features that must reconfigure
 * links at run time will add theirs here, each with its reason.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

int priv_lookup_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		log_err("user %s: no such user", user);
		return -ENOENT;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int priv_drop(const char *user, uid_t uid, gid_t gid)
{
	cap_t none;
	int rc;

	/* The bounding set can only shrink while CAP_SETPCAP is held, so it
	 * goes first; without the capability there is nothing to drop. */
	if (CAP_IS_SUPPORTED(CAP_SETPCAP)) {
		cap_flag_value_t have = CAP_CLEAR;
		cap_t cur = cap_get_proc();

		if (cur) {
			cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &have);
			cap_free(cur);
		}
		if (have == CAP_SET)
			for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
				if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0 &&
				    errno != EINVAL) {
					rc = -errno;
					log_err("privileges: dropping bounding set: %s",
						strerror(errno));
					return rc;
				}
	}
	if (user && *user) {
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			rc = -errno;
			log_err("privileges: switching to user %s: %s", user, strerror(errno));
			return rc;
		}
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL) {
		rc = -errno;
		log_err("privileges: clearing ambient capabilities: %s", strerror(errno));
		return rc;
	}
	none = cap_init();
	if (!none || cap_set_proc(none) < 0) {
		rc = -errno;
		log_err("privileges: clearing capabilities: %s", strerror(errno));
		if (none)
			cap_free(none);
		return rc;
	}
	cap_free(none);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		log_err("privileges: no_new_privs: %s", strerror(errno));
		return rc;
	}
	log_info("privileges: running as uid %u gid %u with no capabilities",
		 (unsigned int)getuid(), (unsigned int)getgid());
	return 0;
}
