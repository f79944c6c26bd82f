// SPDX-License-Identifier: MIT
/*
 * Network namespace switching (setns(2)) and rtnetlink configuration of the
 * TAP's kernel side: RTM_NEWLINK for MTU and IFF_UP, RTM_NEWADDR for the
 * address, each acknowledged (NLM_F_ACK) so that an error reaches the user
 * instead of a silently half-configured link.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

int netns_enter(const char *ns, int *saved)
{
	char path[4200];
	int fd, self;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT && !strchr(ns, '/'))
			log_err("host-netns %s: %s: %s (create it with 'ip netns add %s')", ns,
				path, strerror(e), ns);
		else
			log_err("host-netns %s: %s: %s", ns, path, strerror(e));
		return -e;
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		int e = errno;

		log_err("host-netns %s: /proc/self/ns/net: %s", ns, strerror(e));
		close(fd);
		return -e;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		int e = errno;

		log_err("host-netns %s: setns: %s%s", ns, strerror(e),
			e == EPERM  ? " (run as root or grant CAP_SYS_ADMIN)" :
			e == EINVAL ? " (not a network namespace)" :
				      "");
		close(fd);
		close(self);
		return -e;
	}
	close(fd);
	*saved = self;
	return 0;
}

int netns_leave(int saved)
{
	int rc = 0;

	if (setns(saved, CLONE_NEWNET) < 0) {
		rc = -errno;
		log_err("netns: returning to the original namespace: %s", strerror(errno));
	}
	close(saved);
	return rc;
}

/* Send one request and wait for its acknowledgement. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[8192];
	unsigned int portid = mnl_socket_get_portid(nl);
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	while (n > 0) {
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (rc <= MNL_CB_STOP)
			return rc < 0 ? -errno : 0;
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	}
	return n < 0 ? -errno : 0;
}

int netns_link_config(const char *name, int ifindex, uint32_t mtu, bool up, uint32_t addr,
		      unsigned int plen)
{
	char buf[8192];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct ifaddrmsg *ifa;
	uint32_t seq = (uint32_t)time(NULL);
	int rc;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		log_err("link %s: rtnetlink socket: %s", name, strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return rc;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = up ? IFF_UP : 0;
	ifi->ifi_flags = up ? IFF_UP : 0;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	rc = nl_talk(nl, nlh);
	if (rc) {
		log_err("link %s: setting MTU %u%s: %s", name, mtu, up ? " and up" : "",
			strerror(-rc));
		goto out;
	}

	if (addr) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_NEWADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
		nlh->nlmsg_seq = ++seq;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = (unsigned char)plen;
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		ifa->ifa_index = (unsigned int)ifindex;
		mnl_attr_put_u32(nlh, IFA_LOCAL, addr);
		mnl_attr_put_u32(nlh, IFA_ADDRESS, addr);
		rc = nl_talk(nl, nlh);
		if (rc) {
			char a[16];

			inet_ntop(AF_INET, &addr, a, sizeof(a));
			log_err("link %s: adding host address %s/%u: %s", name, a, plen,
				strerror(-rc));
		}
	}
out:
	mnl_socket_close(nl);
	return rc;
}
