/* SPDX-License-Identifier: MIT */
/*
 * Stack configuration: fixed at stack_init (struct stack_cfg) and tunables
 * named after the Linux sysctls they mirror (struct stack_tunables). proto
 * only reads tunables; the daemon changes them between calls.
 */
#ifndef USNET_PROTO_CFG_H
#define USNET_PROTO_CFG_H

#include <stdint.h>

struct stack_tunables {
	uint32_t ip_default_ttl; /* net.ipv4.ip_default_ttl */
	uint32_t drop_unicast_in_l2_multicast; /* net.ipv4.conf.*.drop_unicast_in_l2_multicast */
	uint32_t icmp_echo_ignore_all; /* net.ipv4.icmp_echo_ignore_all */
	uint32_t icmp_echo_ignore_broadcasts; /* net.ipv4.icmp_echo_ignore_broadcasts */
	uint32_t icmp_ratelimit_ms; /* net.ipv4.icmp_ratelimit (ms) */
	uint32_t icmp_ratemask; /* net.ipv4.icmp_ratemask */
	uint32_t icmp_msgs_per_sec; /* net.ipv4.icmp_msgs_per_sec */
	uint32_t icmp_msgs_burst; /* net.ipv4.icmp_msgs_burst */
	/* net.ipv4.neigh.default.* */
	uint32_t neigh_base_reachable_time_ms;
	uint32_t neigh_retrans_time_ms;
	uint32_t neigh_delay_first_probe_time_ms;
	uint32_t neigh_gc_stale_time_ms;
	uint32_t neigh_locktime_ms;
	uint32_t neigh_mcast_solicit;
	uint32_t neigh_ucast_solicit;
	uint32_t neigh_unres_qlen_bytes;
};

struct stack_cfg {
	uint8_t mac[6];
	uint32_t mtu; /* link MTU: largest IP datagram */
	uint32_t neigh_max; /* net.ipv4.neigh.default.gc_thresh3 */
	uint32_t route_max;
	struct stack_tunables tun;
};

/** stack_cfg_defaults() - Linux's defaults; MAC zero, MTU 1500 */
void stack_cfg_defaults(struct stack_cfg *cfg);

#endif
