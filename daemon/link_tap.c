// SPDX-License-Identifier: MIT
/*
 * TAP link: /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR. Every
 * frame in either direction is preceded by a struct virtio_net_hdr (10
 * bytes) carrying checksum and segmentation metadata; no offload is
 * negotiated yet (TUNSETOFFLOAD 0), so the kernel sends plain, checksummed
 * frames, but the header is in place for when offloads arrive.
 *
 * The device is non-persistent: it disappears when usnetd's descriptor
 * closes, whichever namespace its kernel side lives in.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "netns.h"
#include "proto/rng.h"

/*
 * usnet's MAC: locally administered unicast (02:...), derived from
 * /etc/machine-id and the link name so that it survives restarts and
 * neighbours' caches stay right (systemd's MACAddressPolicy=persistent).
 */
static void link_derive_mac(struct link *l)
{
	uint64_t key[2] = { 0x75736e6574646d61ull, 0x6361646472657373ull };
	char id[64] = "";
	uint64_t h;
	FILE *f = fopen("/etc/machine-id", "r");

	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		fclose(f);
	}
	key[0] ^= siphash24(key, id, strlen(id));
	h = siphash24(key, l->name, strlen(l->name));
	l->mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		l->mac[i] = (uint8_t)(h >> (8 * i));
}

static int tap_create(struct link *l)
{
	struct ifreq ifr;
	int fd, hdrlen = sizeof(struct virtio_net_hdr), rc;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		log_err("link %s: /dev/net/tun: %s%s", l->name, strerror(errno),
			errno == ENOENT ? " (load the tun module: modprobe tun)" :
			errno == EACCES || errno == EPERM ?
					  " (run as root or grant CAP_NET_ADMIN)" :
					  "");
		return rc;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		if (errno == EPERM)
			log_err("link %s: TUNSETIFF: %s (run as root or grant CAP_NET_ADMIN)",
				l->name, strerror(errno));
		else if (errno == EBUSY)
			log_err("link %s: TUNSETIFF: %s (the TAP is in use, another usnetd?)",
				l->name, strerror(errno));
		else if (errno == EINVAL)
			log_err("link %s: TUNSETIFF: %s (a device that is not a TAP has this name)",
				l->name, strerror(errno));
		else
			log_err("link %s: TUNSETIFF: %s", l->name, strerror(errno));
		goto err;
	}
	/* Explicit sizes and offloads, so nothing depends on the defaults of
	 * whoever created a persistent device of this name before. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrlen) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		rc = -errno;
		log_err("link %s: virtio-net header setup: %s", l->name, strerror(errno));
		goto err;
	}
	l->vnet_hdr_len = (uint32_t)hdrlen;
	l->ifindex = (int)if_nametoindex(l->name);
	if (!l->ifindex) {
		rc = -errno;
		log_err("link %s: if_nametoindex: %s", l->name, strerror(errno));
		goto err;
	}
	l->fd = fd;
	return 0;
err:
	close(fd);
	return rc;
}

int link_tap_open(struct link *l, const struct usnetd_config *cfg)
{
	int saved = -1, rc, rc2;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	snprintf(l->name, sizeof(l->name), "%s", cfg->tap);
	snprintf(l->kind, sizeof(l->kind), "tap");
	snprintf(l->netns, sizeof(l->netns), "%s", cfg->host_netns);
	l->mtu = cfg->mtu;

	/* The device is created from inside the namespace, so its kernel side
	 * is born there and never appears in ours. */
	if (cfg->host_netns[0]) {
		rc = netns_enter(cfg->host_netns, &saved);
		if (rc)
			return rc;
	}
	rc = tap_create(l);
	if (!rc)
		rc = netns_link_config(
			l->name, l->ifindex, l->mtu, cfg->has_host_addr || cfg->host_netns[0],
			cfg->has_host_addr ? cfg->host_addr.addr : 0, cfg->host_addr.plen);
	if (saved >= 0) {
		rc2 = netns_leave(saved);
		if (!rc)
			rc = rc2;
	}
	if (rc) {
		link_close(l);
		return rc;
	}
	link_derive_mac(l);
	return 0;
}

void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
