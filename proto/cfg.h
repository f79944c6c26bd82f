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
	/* net.ipv4.tcp_* and net.core.somaxconn */
	uint32_t tcp_syncookies;		/* 0 off, 1 when the SYN queue overflows, 2 always */
	uint32_t tcp_sack;
	uint32_t tcp_timestamps;
	uint32_t tcp_window_scaling;
	uint32_t tcp_rmem[3];			/* min, default, max receive buffer */
	uint32_t tcp_wmem[3];			/* min, default, max send buffer */
	char tcp_congestion_control[16];
	uint32_t tcp_fin_timeout_s;
	uint32_t tcp_keepalive_time_s;
	uint32_t tcp_keepalive_intvl_s;
	uint32_t tcp_keepalive_probes;
	uint32_t tcp_syn_retries;
	uint32_t tcp_synack_retries;
	uint32_t tcp_retries2;
	uint32_t tcp_orphan_retries;
	uint32_t tcp_max_syn_backlog;
	uint32_t tcp_abort_on_overflow;
	uint32_t tcp_slow_start_after_idle;
	uint32_t tcp_moderate_rcvbuf;
	uint32_t tcp_recovery;			/* bit 0: RACK loss detection */
	uint32_t tcp_early_retrans;		/* 3: TLP */
	uint32_t tcp_reordering;
	uint32_t tcp_max_reordering;
	uint32_t tcp_min_rtt_wlen_s;
	uint32_t tcp_invalid_ratelimit_ms;
	uint32_t tcp_challenge_ack_limit;	/* per second, stack-wide; INT_MAX: no limit */
	uint32_t tcp_rto_min_us;
	uint32_t tcp_limit_output_bytes;	/* TCP small queues cap per socket */
	/* ACK in-order data once per receive batch (stack_rx_begin/end), at
	 * most every 64 KB, as Linux does for a GRO packet; 0: every second
	 * segment even within a batch. */
	uint32_t tcp_ack_coalesce;
	uint32_t somaxconn;
	uint32_t ip_local_port_range[2];
};

struct stack_cfg {
	uint8_t mac[6];
	uint32_t mtu; /* link MTU: largest IP datagram */
	uint32_t neigh_max; /* net.ipv4.neigh.default.gc_thresh3 */
	uint32_t route_max;
	uint32_t tcp_max_socks; /* full TCP sockets (pool size) */
	uint32_t tcp_max_reqs; /* SYN_RECV request socks, all listeners */
	uint32_t tcp_max_tw_buckets; /* net.ipv4.tcp_max_tw_buckets */
	uint32_t tcp_ehash_buckets; /* power of two */
	struct stack_tunables tun;
};

/** stack_cfg_defaults() - Linux's defaults; MAC zero, MTU 1500 */
void stack_cfg_defaults(struct stack_cfg *cfg);

#endif
