/* SPDX-License-Identifier: MIT */
/*
 * What TCP tells its owner about a connection (TCP_INFO, `usnet sockets`).
 * Apart from proto/tcp.h so that the daemon's translation into the kernel's
 * struct tcp_info can include <linux/tcp.h>, whose names clash with proto's
 * kernel-named states.
 */
#ifndef USNET_PROTO_TCP_INFO_H
#define USNET_PROTO_TCP_INFO_H

#include <stdint.h>

#define TCP_CC_NAME_MAX 16

/** tcp_info for `usnet sockets` and TCP_INFO (Linux struct tcp_info subset). */
struct tcp_info_lite {
	uint8_t state;
	uint8_t ca_state;
	uint8_t retransmits;
	uint8_t probes;
	uint8_t backoff;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t options;	/* TCPI_OPT_TIMESTAMPS 1, SACK 2, WSCALE 4 */
	uint32_t rto_us;
	uint32_t ato_us;
	uint32_t snd_mss;
	uint32_t rcv_mss;
	uint32_t unacked;	/* packets_out */
	uint32_t sacked;
	uint32_t lost;
	uint32_t retrans;
	uint32_t rtt_us;
	uint32_t rttvar_us;
	uint32_t min_rtt_us;
	uint32_t snd_ssthresh;
	uint32_t snd_cwnd;
	uint32_t rcv_space;
	uint32_t total_retrans;
	uint32_t reordering;
	uint32_t snd_wnd;
	uint32_t rcv_wnd;
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint32_t segs_out, segs_in, data_segs_out, data_segs_in;
	uint64_t delivery_rate;	/* bytes/s, last sample */
	uint64_t pacing_rate;
	uint32_t delivered;
	uint32_t send_q;	/* bytes in flight or unsent held by TCP */
	uint32_t recv_q;	/* bytes received, not yet read by the owner */
	uint32_t last_data_recv_ms;
	char ca_name[TCP_CC_NAME_MAX];
};

#endif
