// SPDX-License-Identifier: MIT
/*
 * TCP_INFO for libusnet: proto's struct tcp_info_lite in the layout of the
 * kernel's struct tcp_info, truncated to what the caller's buffer holds as
 * the kernel does.
 */
#include "tcpinfo.h"

#include <linux/tcp.h>
#include <string.h>

_Static_assert(TCP_INFO == UAPI_TCP_INFO && TCP_CONGESTION == UAPI_TCP_CONGESTION &&
		       TCP_USER_TIMEOUT == UAPI_TCP_USER_TIMEOUT && TCP_QUICKACK == UAPI_TCP_QUICKACK,
	       "UAPI option numbers");

size_t tcpinfo_fill(const struct tcp_info_lite *l, void *out, size_t cap)
{
	struct tcp_info ti;

	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = l->state;
	ti.tcpi_ca_state = l->ca_state;
	ti.tcpi_retransmits = l->retransmits;
	ti.tcpi_probes = l->probes;
	ti.tcpi_backoff = l->backoff;
	ti.tcpi_options = l->options;
	ti.tcpi_snd_wscale = l->snd_wscale & 0xf;
	ti.tcpi_rcv_wscale = l->rcv_wscale & 0xf;
	ti.tcpi_rto = l->rto_us;
	ti.tcpi_ato = l->ato_us;
	ti.tcpi_snd_mss = l->snd_mss;
	ti.tcpi_rcv_mss = l->rcv_mss;
	ti.tcpi_unacked = l->unacked;
	ti.tcpi_sacked = l->sacked;
	ti.tcpi_lost = l->lost;
	ti.tcpi_retrans = l->retrans;
	ti.tcpi_rtt = l->rtt_us;
	ti.tcpi_rttvar = l->rttvar_us;
	ti.tcpi_snd_ssthresh = l->snd_ssthresh;
	ti.tcpi_snd_cwnd = l->snd_cwnd;
	ti.tcpi_advmss = l->snd_mss;
	ti.tcpi_reordering = l->reordering;
	ti.tcpi_rcv_space = l->rcv_space;
	ti.tcpi_total_retrans = l->total_retrans;
	ti.tcpi_pacing_rate = l->pacing_rate;
	ti.tcpi_bytes_acked = l->bytes_acked;
	ti.tcpi_bytes_received = l->bytes_received;
	ti.tcpi_segs_out = l->segs_out;
	ti.tcpi_segs_in = l->segs_in;
	ti.tcpi_data_segs_out = l->data_segs_out;
	ti.tcpi_data_segs_in = l->data_segs_in;
	ti.tcpi_min_rtt = l->min_rtt_us;
	ti.tcpi_delivery_rate = l->delivery_rate;
	ti.tcpi_delivered = l->delivered;
	ti.tcpi_snd_wnd = l->snd_wnd;
	ti.tcpi_last_data_recv = l->last_data_recv_ms;
	if (cap > sizeof(ti))
		cap = sizeof(ti);
	memcpy(out, &ti, cap);
	return cap;
}
