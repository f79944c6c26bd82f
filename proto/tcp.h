/* SPDX-License-Identifier: MIT */
/*
 * TCP (RFC 9293) for one stack instance: struct tcp_sock and the interfaces
 * between the tcp_*.c files. The owner-facing calls (open, bind, listen,
 * connect, accept, send/recv notifications, shutdown, close, options, info)
 * are the tcp_* functions in the "socket interface" block below; the rest
 * is internal to proto/.
 *
 * Files: tcp.c (socket interface, tables, ports), tcp_input.c (segment
 * arrival), tcp_output.c (what to send and building it), tcp_timer.c,
 * tcp_listen.c (SYN queue, accept queue, SYN cookies), tcp_timewait.c,
 * tcp_recovery.c (SACK scoreboard, RFC 6675, RACK-TLP, undo), tcp_rate.c
 * (delivery-rate samples), tcp_cc*.c (congestion control), tcp_wire.c,
 * tcp_isn.c, tcp_syncookie.c.
 *
 * Units: sequence numbers and timestamps host order; addresses and ports
 * network order (as in the packet); times ns (uint64_t) unless named _us.
 */
#ifndef USNET_PROTO_TCP_H
#define USNET_PROTO_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "sock.h"
#include "tcp_cc.h"
#include "tcp_info.h"
#include "tcp_isn.h"
#include "tcp_wire.h"
#include "wheel.h"

struct stack;

/* Linux's numbering (include/net/tcp_states.h), so that tools agree. */
enum tcp_state {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_TIME_WAIT,
	TCP_CLOSE,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_LISTEN,
	TCP_CLOSING,
	TCP_NEW_SYN_RECV,
	TCP_MAX_STATES
};

#define TCPF(state) (1u << (state))

/* tcp_sock.shutdown */
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2

/* Linux's constants (include/net/tcp.h). */
#define TCP_MSS_DEFAULT 536u
#define TCP_MIN_MSS 88u
#define TCP_MAX_MSS 65495u
#define TCP_RTO_MIN_US 200000u
#define TCP_RTO_MAX_US 120000000u
#define TCP_TIMEOUT_INIT_US 1000000u
#define TCP_TIMEOUT_FALLBACK_US 3000000u	/* RFC 6298 §5.7 */
#define TCP_TIMEOUT_MIN_US 2000u	/* two jiffies of HZ=1000 */
#define TCP_ATO_MIN_US 40000u
#define TCP_DELACK_MAX_US 200000u
#define TCP_MAX_QUICKACKS 16u
#define TCP_TIMEWAIT_NS (60ull * 1000000000ull)
#define TCP_PAWS_24DAYS (60u * 60u * 24u * 24u)	/* seconds */
#define TCP_PAWS_MSL 60u			/* seconds */
#define TCP_PAWS_WINDOW 1u
#define TCP_SYN_RETRIES 6u
#define TCP_SYNACK_RETRIES 5u
#define TCP_RETRIES2 15u
#define TCP_ORPHAN_RETRIES 8u			/* Linux: 0 means 8 */
#define TCP_KEEPALIVE_TIME_S 7200u
#define TCP_KEEPALIVE_INTVL_S 75u
#define TCP_KEEPALIVE_PROBES 9u
#define TCP_FIN_TIMEOUT_S 60u
#define TCP_REORDERING 3u			/* dupthresh */
#define TCP_MAX_REORDERING 300u
#define TCP_DEFAULT_WSCALE 7u

/* Per-segment control block, in pkt->cb (Linux struct tcp_skb_cb). */
struct tcp_skb_cb {
	uint32_t seq;		/* first sequence number */
	uint32_t end_seq;	/* seq + payload + SYN + FIN */
	uint64_t tx_ns;		/* last (re)transmission */
	uint8_t tcp_flags;	/* TH_* */
	uint8_t sacked;		/* TCPCB_* state in the retransmit queue */
	uint8_t txcount;	/* transmissions so far */
	uint8_t is_app_limited;	/* rate sampling: sent while app-limited */
	uint32_t tx_delivered;	/* rate sampling: tp->delivered at send */
	uint64_t first_tx_ns;	/* rate sampling: tp->first_tx_ns at send */
	uint64_t delivered_ns;	/* rate sampling: tp->delivered_ns at send */
	uint32_t tx_order;	/* tp->tx_order when last (re)transmitted */
};

_Static_assert(sizeof(struct tcp_skb_cb) <= sizeof(((struct pkt *)0)->cb), "tcp_skb_cb too big");

static inline struct tcp_skb_cb *tcp_cb(struct pkt *p)
{
	return (struct tcp_skb_cb *)p->cb;
}

#define TCPCB_SACKED_ACKED 0x01		/* covered by a SACK block */
#define TCPCB_SACKED_RETRANS 0x02	/* retransmitted, retransmission in flight */
#define TCPCB_LOST 0x04			/* marked lost, not yet retransmitted */
#define TCPCB_TAGBITS 0x07
#define TCPCB_EVER_RETRANS 0x80

/* RACK (RFC 8985 §6.1). */
struct tcp_rack {
	uint64_t xmit_ns;	/* send time of the most recently delivered segment */
	uint32_t tx_order;	/* its place in transmission order */
	uint32_t rtt_us;	/* its RTT */
	uint32_t last_delivered;	/* tp->delivered when reo_wnd last grew */
	uint8_t reo_wnd_steps;	/* reo_wnd multiplier (RFC 8985 §6.2 step 4) */
	uint8_t reo_wnd_persist;	/* rounds left before steps resets */
	uint8_t dsack_seen;	/* a D-SACK arrived since the last reo_wnd change */
	uint8_t advanced;	/* xmit_ns moved on this ACK */
};

/* Receive-buffer autotuning (Linux tcp_rcv_space_adjust, DRS). */
struct tcp_rcv_space {
	uint32_t space;		/* bytes the application took in the last RTT */
	uint32_t seq;		/* copied_seq at the start of the measurement */
	uint64_t time_ns;
};

/* Delayed-ACK state (Linux icsk_ack). */
struct tcp_ack_state {
	uint8_t pending;	/* TCP_ACK_* */
	uint8_t quick;		/* segments to ack at once (quick-ACK mode) */
	uint8_t pingpong;	/* interactive: ACKs ride on replies */
	uint32_t ato_us;	/* predicted delay before ACKing */
	uint32_t rcv_mss;	/* estimate of the peer's MSS */
	uint64_t lrcv_ns;	/* last data segment received */
};

#define TCP_ACK_SCHED 1		/* an ACK is owed */
#define TCP_ACK_TIMER 2		/* the delack timer is armed */
#define TCP_ACK_PUSHED 4	/* the peer pushed: ACK soon */
#define TCP_ACK_NOW 8		/* ACK with the next segment out, no delay */
#define TCP_ACK_PUSHED2 16 /* pushed again before we ACKed */
/* Most in-order data one coalesced ACK may cover (Linux's GRO limit). */
#define TCP_ACK_COALESCE_MAX 65536u

/* Which event the retransmit timer stands for (Linux ICSK_TIME_*). */
enum tcp_rtx_timer {
	TCP_TIMER_NONE = 0,
	TCP_TIMER_RETRANS,	/* RTO */
	TCP_TIMER_PROBE0,	/* zero-window probe (persist) */
	TCP_TIMER_LOSS_PROBE,	/* TLP (RFC 8985 §7) */
	TCP_TIMER_REO,		/* RACK reordering timer */
};

/* Listener state. */
struct tcp_listen {
	uint32_t backlog;	/* min(listen() backlog, somaxconn) */
	uint32_t acceptq_len;
	struct tcp_sock *acceptq_head;	/* established, not yet accepted */
	struct tcp_sock *acceptq_tail;
	uint32_t synq_len;	/* request socks (SYN_RECV) */
	uint8_t synflood_warned;	/* cookies have been sent */
	uint64_t last_overflow_ns;	/* last time the SYN queue overflowed */
};

/* A connection in SYN_RECV before it is accepted (Linux request_sock): a
 * fraction of a full socket, so that a SYN flood costs little. */
struct tcp_request {
	struct tcp_request *hash_next;
	struct tcp_request **hash_pprev;
	struct tcp_sock *listener;
	uint32_t saddr, daddr;	/* ours, theirs */
	uint16_t sport, dport;
	uint32_t iss;
	uint32_t irs;
	uint32_t ts_recent;
	uint32_t ts_off;
	uint16_t mss;		/* the peer's, clamped */
	uint8_t snd_wscale;	/* the peer's shift, if wscale_ok */
	uint8_t rcv_wscale;	/* ours */
	uint8_t wscale_ok, sack_ok, tstamp_ok;
	uint8_t retrans;	/* SYN-ACKs resent */
	uint32_t rcv_wnd;	/* the window offered in the SYN-ACK */
	uint64_t synack_ns;	/* first SYN-ACK, for the RTT */
	struct wheel_timer timer;
};

/* TIME_WAIT minisocket (Linux inet_timewait_sock + tcp_timewait_sock). */
struct tcp_tw {
	struct tcp_tw *hash_next;
	struct tcp_tw **hash_pprev;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t state;		/* TCP_TIME_WAIT, or TCP_FIN_WAIT2 for an orphan's timeout */
	uint8_t tstamp_ok;
	uint8_t rcv_wscale;
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t rcv_wnd;
	uint32_t ts_recent;
	uint32_t ts_recent_stamp;	/* seconds */
	uint32_t ts_off;
	struct wheel_timer timer;
	uint64_t last_oow_ack_ns;	/* tcp_invalid_ratelimit of our ACKs */
	uint32_t uid;			/* the socket's sk.uid */
};

struct tcp_sock {
	struct sock sk;

	/* identity and tables */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	struct tcp_sock *hash_next;	/* established or listener chain */
	struct tcp_sock **hash_pprev;
	struct tcp_sock *aq_next;	/* accept queue of our listener */
	struct tcp_sock *listener;	/* while in that accept queue */
	struct tcp_listen lq;		/* LISTEN only */
	uint8_t state;
	uint8_t shutdown;		/* RCV_SHUTDOWN | SEND_SHUTDOWN from either side */
	uint8_t bound;			/* holds a reference on its local port */
	uint8_t nodelay;		/* TCP_NODELAY */
	uint8_t cork;			/* TCP_CORK */
	uint8_t fin_pending;		/* the owner shut down writing: FIN after the data */
	uint8_t fin_sent;
	uint8_t is_cwnd_limited;

	/* send sequence space (RFC 9293 §3.3.1) */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_wnd;		/* the peer's window, already scaled */
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t max_window;		/* largest window the peer offered */
	uint32_t snd_sml;		/* end of the last small segment (Nagle) */
	uint32_t write_seq;		/* after the last byte taken from the owner */
	uint64_t lsndtime_ns;		/* last data sent */

	/* receive sequence space */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_wnd;		/* the window last advertised, unscaled bytes */
	uint32_t rcv_wup;		/* rcv_nxt when rcv_wnd was advertised */
	uint32_t copied_seq;		/* after the last byte handed to the owner */
	uint64_t bytes_received;
	uint64_t bytes_acked;

	/* negotiated options */
	uint16_t mss_cache;		/* current send MSS (payload, options excluded) */
	uint16_t advmss;		/* MSS we advertised */
	uint16_t mss_clamp;		/* the peer's MSS option, or 536 */
	uint16_t user_mss;		/* TCP_MAXSEG, 0 = none */
	uint8_t snd_wscale;		/* shift for the peer's windows */
	uint8_t rcv_wscale;		/* shift for ours */
	uint8_t wscale_ok;
	uint8_t sack_ok;
	uint8_t tstamp_ok;
	uint8_t tcp_header_len;		/* with the options every segment carries */
	uint32_t ts_recent;		/* RFC 7323 TS.Recent */
	uint32_t ts_recent_stamp;	/* when ts_recent was taken, seconds */
	uint32_t ts_off;		/* added to our clock for TSval */
	uint32_t rcv_tsecr;		/* TSecr of the last segment */

	/* RTT and RTO (RFC 6298; Linux keeps srtt and mdev scaled by 8 and 4) */
	uint32_t srtt_us;		/* <<3 */
	uint32_t mdev_us;		/* <<2 */
	uint32_t mdev_max_us;
	uint32_t rttvar_us;
	uint32_t rtt_seq;		/* ends the current rttvar measurement round */
	uint32_t rto_us;
	uint32_t min_rtt_us;		/* windowed minimum, 0 = none yet */
	uint64_t min_rtt_ns;		/* when min_rtt was taken */
	uint8_t backoff;		/* RTO doublings so far */
	uint8_t retransmits;		/* RTOs without progress */
	uint8_t probes_out;		/* zero-window or keepalive probes unanswered */
	uint8_t syn_retries;
	uint32_t total_retrans;
	uint64_t retrans_stamp_ns;	/* first retransmission of the head, 0 = none */

	/* congestion control and loss recovery */
	struct tcp_cc_state cc;
	const struct tcp_cc_ops *ca_ops;
	uint32_t packets_out;		/* segments in the retransmit queue */
	uint32_t retrans_out;		/* of which retransmitted and in flight */
	uint32_t sacked_out;		/* of which SACKed (or dupACKed, without SACK) */
	uint32_t lost_out;		/* of which marked lost */
	uint32_t high_seq;		/* snd_nxt when recovery began */
	uint32_t undo_marker;		/* snd_una when recovery began, 0 = no undo */
	int32_t undo_retrans;		/* retransmissions not yet D-SACKed */
	uint32_t prior_ssthresh;
	uint32_t reordering;		/* dupthresh in use */
	uint8_t reord_seen;		/* reordering was observed */
	uint32_t prr_delivered;		/* RFC 6937 */
	uint32_t prr_out;
	uint32_t tlp_high_seq;		/* snd_nxt when a TLP was sent, 0 = none */
	uint8_t tlp_retrans;		/* that TLP was a retransmission */
	struct tcp_rack rack;
	/* Counts transmissions. Segments sent in one call share a clock
	 * reading, and RACK needs to know which left first: sequence
	 * numbers cannot tell a retransmission from new data sent before
	 * it (RFC 8985 §6.2 step 2 assumes distinct times). */
	uint32_t tx_order;
	uint32_t snd_cwnd_used;		/* packets used while not cwnd limited */
	uint64_t snd_cwnd_stamp_ns;
	uint64_t next_send_ns;		/* pacing: earliest next transmission */

	/* delivery rate (draft-cheng-iccrg-delivery-rate-estimation) */
	uint32_t delivered;
	uint64_t delivered_ns;
	uint64_t first_tx_ns;
	uint32_t app_limited;		/* delivered count that ends an app-limited period, 0 = none */

	/* SACK blocks we report (RFC 2018 §4) and a D-SACK (RFC 2883) */
	uint8_t num_sacks;
	uint8_t dsack;
	struct tcp_sack_block selective_acks[TCP_NUM_SACKS];
	struct tcp_sack_block duplicate_sack;

	/* queues */
	struct pkt_queue write_q;	/* unsent data TCP owns (taken from the owner at close) */
	struct pkt_queue rtx_q;		/* sent, not yet cumulatively acked, in order */
	struct pkt_queue ofo_q;		/* out-of-order data, sorted, not overlapping */
	struct pkt_queue rx_hold;	/* in-order data before the owner attaches streams */
	struct pkt *sack_hint;		/* rtx_q walk start for SACK processing */
	struct pkt *tsorted_head;	/* rtx_q by last transmission time (RACK) */
	struct pkt *tsorted_tail;
	uint64_t last_oow_ack_ns;	/* RFC 5961 / tcp_invalid_ratelimit */
	uint32_t rcv_rtt_us;		/* receiver-side RTT estimate (autotuning) */
	uint32_t rcv_rtt_seq;
	uint64_t rcv_rtt_time_ns;
	uint32_t rate_delivered;	/* last delivery-rate sample */
	uint32_t rate_interval_us;
	uint8_t rate_app_limited;
	uint8_t is_sack_reneg;
	uint8_t rcvbuf_locked;		/* SO_RCVBUF set: no autotuning */
	uint32_t lost;			/* packets ever marked lost */
	uint16_t gen;			/* bumped each time the pool hands this socket out */
	uint8_t tsq_throttled;		/* stopped by TCP small queues, resume on free */
	uint8_t poll_listed;
	uint8_t ack_deferred;		/* ACK owed at the end of the receive batch */
	uint32_t tsq_bytes;		/* bytes of ours below TCP (stack queue, link ring) */
	struct tcp_sock *poll_next;
	uint64_t sk_pacing_rate;	/* bytes/s, Linux tcp_update_pacing_rate */

	/* timers */
	struct wheel_timer rtx_timer;	/* RTO, persist, TLP or RACK reordering */
	uint8_t rtx_timer_kind;		/* enum tcp_rtx_timer */
	struct wheel_timer delack_timer;
	struct wheel_timer ka_timer;	/* keepalive, SYN retransmit, FIN_WAIT2 timeout */
	struct wheel_timer pace_timer;	/* pacing */
	struct tcp_ack_state ack;

	/* keepalive (SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT overrides, 0 = default) */
	uint32_t keepalive_time_s;
	uint32_t keepalive_intvl_s;
	uint8_t keepalive_probes;
	uint32_t user_timeout_ms;	/* TCP_USER_TIMEOUT, 0 = none */
	uint64_t rcv_tstamp_ns;		/* last ACK received (keepalive, user timeout) */

	struct tcp_rcv_space rcvq_space;
	uint32_t window_clamp;		/* largest window we will offer */
	uint32_t rcv_ssthresh;		/* current window clamp while growing */

	/* counters for tcp_info */
	uint32_t segs_in, segs_out, data_segs_in, data_segs_out;
	uint32_t total_rto, total_rto_recoveries;
	uint32_t dsack_dups;
	uint32_t reord_seen_count;
};

/* Sequence-number comparison modulo 2^32 (RFC 9293 §3.4). */
static inline bool tcp_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool tcp_after(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) < 0;
}

/* lo <= x <= hi, modulo 2^32 */
static inline bool tcp_between(uint32_t x, uint32_t lo, uint32_t hi)
{
	return hi - lo >= x - lo;
}

static inline struct tcp_sock *tcp_sk(struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

/* packets the network holds (RFC 6675 pipe; Linux tcp_packets_in_flight) */
/* Our FIN went out and everything up to it is acknowledged. Unlike Linux,
 * write_seq counts the FIN only once it is sent (it waits in fin_pending
 * for window and cwnd), so equality alone is not enough. */
static inline bool tcp_fin_acked(const struct tcp_sock *tp)
{
	return tp->fin_sent && tp->snd_una == tp->write_seq;
}

static inline uint32_t tcp_packets_in_flight(const struct tcp_sock *tp)
{
	return tp->packets_out - (tp->sacked_out + tp->lost_out) + tp->retrans_out;
}

static inline uint32_t tcp_snd_cwnd(const struct tcp_sock *tp)
{
	return tp->cc.snd_cwnd;
}

/* The stack-wide TCP state, embedded in struct stack. */
struct tcp_table {
	struct tcp_sock *socks;		/* pool */
	struct tcp_sock *free_socks;	/* linked through hash_next */
	uint32_t nsocks, nfree_socks;
	struct tcp_request *reqs;
	struct tcp_request *free_reqs;
	uint32_t nreqs, nfree_reqs;
	struct tcp_tw *tws;
	struct tcp_tw *free_tws;
	uint32_t ntws, nfree_tws;

	struct tcp_sock **ehash;	/* established and connecting, by 4-tuple */
	struct tcp_request **rhash;	/* request socks, by 4-tuple */
	struct tcp_tw **twhash;		/* TIME_WAIT, by 4-tuple */
	uint32_t ehash_mask;
	struct tcp_sock **lhash;	/* listeners, by local port */
	uint32_t lhash_mask;
	uint64_t hash_key[2];
	uint16_t *port_refs;		/* sockets holding each local port */
	uint32_t port_hint;		/* ephemeral search start */
	struct tcp_secret secret;
	struct tcp_sock *poll_head;	/* sockets with work for tcp_poll() */
};

/* TCP MIBs: Tcp (RFC 4022) and TcpExt (Linux), with nstat names. */
#define TCP_MIB(X)                                                                                 \
	X(ACTIVE_OPENS, "ActiveOpens")                                                             \
	X(PASSIVE_OPENS, "PassiveOpens")                                                           \
	X(ATTEMPT_FAILS, "AttemptFails")                                                           \
	X(ESTAB_RESETS, "EstabResets")                                                             \
	X(CURR_ESTAB, "CurrEstab")                                                                 \
	X(IN_SEGS, "InSegs")                                                                       \
	X(OUT_SEGS, "OutSegs")                                                                     \
	X(RETRANS_SEGS, "RetransSegs")                                                             \
	X(IN_ERRS, "InErrs")                                                                       \
	X(OUT_RSTS, "OutRsts")                                                                     \
	X(IN_CSUM_ERRORS, "InCsumErrors")

#define TCPEXT_MIB(X)                                                                              \
	X(SYNCOOKIES_SENT, "SyncookiesSent")                                                       \
	X(SYNCOOKIES_RECV, "SyncookiesRecv")                                                       \
	X(SYNCOOKIES_FAILED, "SyncookiesFailed")                                                   \
	X(EMBRYONIC_RSTS, "EmbryonicRsts")                                                         \
	X(TW, "TW")                                                                                \
	X(TW_RECYCLED, "TWRecycled")                                                               \
	X(PAWS_ESTAB, "PAWSEstab")                                                                 \
	X(DELAYED_ACKS, "DelayedACKs")                                                             \
	X(DELAYED_ACK_LOST, "DelayedACKLost")                                                      \
	X(LISTEN_OVERFLOWS, "ListenOverflows")                                                     \
	X(LISTEN_DROPS, "ListenDrops")                                                             \
	X(TCP_HP_HITS, "TCPHPHits")                                                                \
	X(TCP_PURE_ACKS, "TCPPureAcks")                                                            \
	X(TCP_HP_ACKS, "TCPHPAcks")                                                                \
	X(TCP_RENO_RECOVERY, "TCPRenoRecovery")                                                    \
	X(TCP_SACK_RECOVERY, "TCPSackRecovery")                                                    \
	X(TCP_SACK_RENEGING, "TCPSACKReneging")                                                    \
	X(TCP_SACK_REORDER, "TCPSACKReorder")                                                      \
	X(TCP_TS_REORDER, "TCPTSReorder")                                                          \
	X(TCP_FULL_UNDO, "TCPFullUndo")                                                            \
	X(TCP_DSACK_UNDO, "TCPDSACKUndo")                                                          \
	X(TCP_LOSS_UNDO, "TCPLossUndo")                                                            \
	X(TCP_LOST_RETRANSMIT, "TCPLostRetransmit")                                                \
	X(TCP_FAST_RETRANS, "TCPFastRetrans")                                                      \
	X(TCP_SLOW_START_RETRANS, "TCPSlowStartRetrans")                                           \
	X(TCP_TIMEOUTS, "TCPTimeouts")                                                             \
	X(TCP_LOSS_PROBES, "TCPLossProbes")                                                        \
	X(TCP_LOSS_PROBE_RECOVERY, "TCPLossProbeRecovery")                                         \
	X(TCP_DSACK_OLD_SENT, "TCPDSACKOldSent")                                                   \
	X(TCP_DSACK_OFO_SENT, "TCPDSACKOfoSent")                                                   \
	X(TCP_DSACK_RECV, "TCPDSACKRecv")                                                          \
	X(TCP_DSACK_OFO_RECV, "TCPDSACKOfoRecv")                                                   \
	X(TCP_ABORT_ON_DATA, "TCPAbortOnData")                                                     \
	X(TCP_ABORT_ON_CLOSE, "TCPAbortOnClose")                                                   \
	X(TCP_ABORT_ON_MEMORY, "TCPAbortOnMemory")                                                 \
	X(TCP_ABORT_ON_TIMEOUT, "TCPAbortOnTimeout")                                               \
	X(TCP_ABORT_ON_LINGER, "TCPAbortOnLinger")                                                 \
	X(TCP_SPURIOUS_RTOS, "TCPSpuriousRTOs")                                                    \
	X(TCP_REQQ_FULL_DO_COOKIES, "TCPReqQFullDoCookies")                                        \
	X(TCP_REQQ_FULL_DROP, "TCPReqQFullDrop")                                                   \
	X(TCP_OFO_QUEUE, "TCPOFOQueue")                                                            \
	X(TCP_OFO_DROP, "TCPOFODrop")                                                              \
	X(TCP_OFO_MERGE, "TCPOFOMerge")                                                            \
	X(TCP_CHALLENGE_ACK, "TCPChallengeACK")                                                    \
	X(TCP_SYN_CHALLENGE, "TCPSYNChallenge")                                                    \
	X(TCP_FROM_ZERO_WINDOW_ADV, "TCPFromZeroWindowAdv")                                        \
	X(TCP_TO_ZERO_WINDOW_ADV, "TCPToZeroWindowAdv")                                            \
	X(TCP_WANT_ZERO_WINDOW_ADV, "TCPWantZeroWindowAdv")                                        \
	X(TCP_SYN_RETRANS, "TCPSynRetrans")                                                        \
	X(TCP_ORIG_DATA_SENT, "TCPOrigDataSent")                                                   \
	X(TCP_ACK_SKIPPED_PAWS, "TCPACKSkippedPAWS")                                               \
	X(TCP_ACK_SKIPPED_SEQ, "TCPACKSkippedSeq")                                                 \
	X(TCP_ACK_SKIPPED_TIME_WAIT, "TCPACKSkippedTimeWait")                                      \
	X(TCP_ACK_SKIPPED_CHALLENGE, "TCPACKSkippedChallenge")                                     \
	X(TCP_WIN_PROBE, "TCPWinProbe")                                                            \
	X(TCP_KEEP_ALIVE, "TCPKeepAlive")                                                          \
	X(TCP_DELIVERED, "TCPDelivered")                                                           \
	X(TCP_ZERO_WINDOW_DROP, "TCPZeroWindowDrop")                                               \
	X(TCP_RCV_Q_DROP, "TCPRcvQDrop")                                                           \
	X(TCP_TIMEWAIT_OVERFLOW, "TCPTimeWaitOverflow")                                            \
	X(TCP_RETRANS_FAIL, "TCPRetransFail")                                                      \
	X(TCP_SPURIOUS_RTX_HOST_QUEUES, "TCPSpuriousRtxHostQueues")                                \
	X(TCP_HYSTART_DELAY_DETECT, "TCPHystartDelayDetect")                                       \
	X(PAWS_ACTIVE, "PAWSActive")

enum tcp_mib {
#define X(id, name) TCP_MIB_##id,
	TCP_MIB(X)
#undef X
	TCP_MIB__MAX
};

enum tcpext_mib {
#define X(id, name) TCPEXT_##id,
	TCPEXT_MIB(X)
#undef X
	TCPEXT_MIB__MAX
};

#define TCP_INC(st, id) ((st)->mib.tcp[TCP_MIB_##id]++)
/* Only CurrEstab, a level that Linux keeps among the events too. */
#define TCP_DEC(st, id) ((st)->mib.tcp[TCP_MIB_##id]--)
#define TCPEXT_INC(st, id) ((st)->mib.tcpext[TCPEXT_##id]++)
#define TCPEXT_ADD(st, id, n) ((st)->mib.tcpext[TCPEXT_##id] += (n))

/* ------------------------------------------------------------------------ */
/* Socket interface (for the owner: usnetd, and the shim through ipc/).     */


/**
 * tcp_open() - a new socket in CLOSE
 * Return: it, or NULL if the stack's socket pool is exhausted (-ENOBUFS).
 */
struct tcp_sock *tcp_open(struct stack *st);

/**
 * tcp_attach() - give @tp its payload streams. A socket from tcp_accept()
 * has none until then: received data waits in TCP (and counts against the
 * window) and moves to @ops when they arrive.
 */
void tcp_attach(struct stack *st, struct tcp_sock *tp, const struct sk_stream_ops *ops, void *ctx);

/**
 * tcp_bind() - local address (0 = any) and port (0 = ephemeral, chosen now)
 * Return: 0, -EINVAL if already bound or not in CLOSE, -EADDRINUSE,
 * -EADDRNOTAVAIL for an address that is not ours.
 */
int tcp_bind(struct stack *st, struct tcp_sock *tp, uint32_t addr, uint16_t port);

/**
 * tcp_listen() - start accepting; @backlog is clamped to somaxconn as Linux
 * does. Return: 0, -EINVAL if not bound/not in CLOSE or LISTEN.
 */
int tcp_listen(struct stack *st, struct tcp_sock *tp, int backlog);

/**
 * tcp_accept() - the oldest established connection of listener @lt
 * Return: it (owned by the caller from now on), or NULL if none (-EAGAIN).
 */
struct tcp_sock *tcp_accept(struct stack *st, struct tcp_sock *lt);

/**
 * tcp_connect() - active open to @daddr:@dport; binds an ephemeral port
 * first if needed. Completion is reported with SK_EV_CONNECTED, failure
 * with SK_EV_ERROR (sk.err ECONNREFUSED, ETIMEDOUT, ...).
 * Return: 0 (in progress), -EISCONN, -EALREADY, -ENETUNREACH,
 * -EADDRNOTAVAIL (no port), -EINVAL.
 */
int tcp_connect(struct stack *st, struct tcp_sock *tp, uint32_t daddr, uint16_t dport);

/** tcp_push() - the owner wrote data (tx_avail grew): send what may go */
void tcp_push(struct stack *st, struct tcp_sock *tp);

/** tcp_recved() - the owner read data (rx_queued shrank): maybe reopen the window */
void tcp_recved(struct stack *st, struct tcp_sock *tp);

/**
 * tcp_shutdown() - @how: RCV_SHUTDOWN and/or SEND_SHUTDOWN (the latter
 * queues a FIN after the pending data).
 * Return: 0, -ENOTCONN.
 */
int tcp_shutdown(struct stack *st, struct tcp_sock *tp, int how);

/**
 * tcp_close() - the owner is done with @tp (see sock.h for the lifetime).
 * Linux tcp_close(): unread received data, or SO_LINGER with timeout 0,
 * means RST; otherwise a FIN after the pending data, and the socket
 * finishes the handshake alone.
 */
void tcp_close(struct stack *st, struct tcp_sock *tp);

/** tcp_abort() - send RST and close at once (SO_LINGER 0 semantics) */
void tcp_abort(struct stack *st, struct tcp_sock *tp, int err);

/* Options (setsockopt levels SOL_TCP and SOL_SOCKET). */
enum tcp_opt {
	TCP_OPT_NODELAY,
	TCP_OPT_CORK,
	TCP_OPT_MAXSEG,
	TCP_OPT_KEEPIDLE,
	TCP_OPT_KEEPINTVL,
	TCP_OPT_KEEPCNT,
	TCP_OPT_USER_TIMEOUT,
	TCP_OPT_KEEPALIVE,	/* SO_KEEPALIVE */
	TCP_OPT_SNDBUF,		/* SO_SNDBUF */
	TCP_OPT_RCVBUF,		/* SO_RCVBUF */
	TCP_OPT_LINGER,		/* SO_LINGER: value < 0 off, else seconds */
	TCP_OPT_REUSEADDR,
	TCP_OPT_QUICKACK,
};

/** tcp_setopt() - Return: 0, -EINVAL for a value out of range. */
int tcp_setopt(struct stack *st, struct tcp_sock *tp, enum tcp_opt opt, int value);

/** tcp_getopt() - Return: 0 with *@value set, -ENOPROTOOPT. */
int tcp_getopt(struct stack *st, const struct tcp_sock *tp, enum tcp_opt opt, int *value);

/** tcp_set_congestion() - TCP_CONGESTION. Return: 0, -ENOENT for an unknown name. */
int tcp_set_congestion(struct stack *st, struct tcp_sock *tp, const char *name);

/** tcp_get_info() - TCP_INFO */
void tcp_get_info(struct stack *st, const struct tcp_sock *tp, struct tcp_info_lite *info);

/**
 * tcp_foreach() - call @fn for every socket the stack holds, listeners and
 * TIME_WAIT entries included (for `usnet sockets`): @tp is NULL for a
 * TIME_WAIT or SYN_RECV entry, whose addresses and state are passed.
 */
typedef void (*tcp_foreach_fn)(void *arg, const struct tcp_sock *tp, uint8_t state,
			       uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport);
void tcp_foreach(struct stack *st, tcp_foreach_fn fn, void *arg);

/* ------------------------------------------------------------------------ */
/* Internal to proto/.                                                      */

/* tcp.c */
int tcp_init(struct stack *st);
void tcp_fini(struct stack *st);
void tcp_set_state(struct stack *st, struct tcp_sock *tp, int state);
void tcp_done(struct stack *st, struct tcp_sock *tp);
void tcp_reset_sock(struct stack *st, struct tcp_sock *tp, int err);
void tcp_ehash_add(struct stack *st, struct tcp_sock *tp);
void tcp_ehash_del(struct stack *st, struct tcp_sock *tp);
struct tcp_sock *tcp_ehash_lookup(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
				  uint16_t dport);
struct tcp_sock *tcp_listener_lookup(struct stack *st, uint32_t daddr, uint16_t dport);
uint32_t tcp_hash4(const struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
		   uint16_t dport);
void tcp_port_get(struct stack *st, uint16_t port);
void tcp_port_put(struct stack *st, uint16_t port);
struct tcp_sock *tcp_sock_alloc(struct stack *st);
void tcp_init_sock_defaults(struct stack *st, struct tcp_sock *tp);
void tcp_sync_mss(struct stack *st, struct tcp_sock *tp);
uint16_t tcp_route_mss(struct stack *st, uint32_t daddr);
uint32_t tcp_ts_now(const struct stack *st);
uint32_t tcp_rx_space(const struct tcp_sock *tp);
void tcp_deliver_held(struct stack *st, struct tcp_sock *tp);
void tcp_cc_init(struct stack *st, struct tcp_sock *tp);
void tcp_cc_sync(struct stack *st, struct tcp_sock *tp);

/* tcp_input.c */
void tcp_v4_rcv(struct stack *st, struct pkt *pkt);
void tcp_rcv_established(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
			 const struct tcp_opts *opts);
void tcp_rcv_state_process(struct stack *st, struct tcp_sock *tp, struct pkt *pkt,
			   const struct tcp_opts *opts);
void tcp_rtt_estimator(struct tcp_sock *tp, int64_t rtt_us);
void tcp_set_rto(struct tcp_sock *tp);
void tcp_init_rto(struct tcp_sock *tp);
void tcp_update_rtt_min(struct stack *st, struct tcp_sock *tp, int64_t rtt_us);
void tcp_enter_quickack_mode(struct tcp_sock *tp, unsigned int max_quickacks);
void tcp_rcv_space_adjust(struct stack *st, struct tcp_sock *tp);
bool tcp_sequence_ok(const struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);

void tcp_tsq_release(struct stack *st, struct pkt *p);
/* Sockets with work for the end of the round (TSQ resume, coalesced ACK). */
void tcp_poll_add(struct stack *st, struct tcp_sock *tp);
void tcp_poll(struct stack *st);
void tcp_update_pacing_rate(struct tcp_sock *tp);

/* tcp_output.c */
void tcp_write_xmit(struct stack *st, struct tcp_sock *tp);
int tcp_transmit_pkt(struct stack *st, struct tcp_sock *tp, struct pkt *pkt, bool clone);
int tcp_retransmit_pkt(struct stack *st, struct tcp_sock *tp, struct pkt *pkt);
void tcp_send_ack(struct stack *st, struct tcp_sock *tp);
void tcp_send_delayed_ack(struct stack *st, struct tcp_sock *tp);
void tcp_send_syn(struct stack *st, struct tcp_sock *tp);
void tcp_send_fin(struct stack *st, struct tcp_sock *tp);
void tcp_send_active_reset(struct stack *st, struct tcp_sock *tp);
void tcp_send_reset(struct stack *st, const struct pkt *in, const struct tcp_hdr *th,
		    uint32_t seg_len);
void tcp_send_ack_raw(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint32_t win, uint8_t flags,
		      const struct tcp_opts_tx *opts);
void tcp_send_probe0(struct stack *st, struct tcp_sock *tp);
int tcp_write_wakeup(struct stack *st, struct tcp_sock *tp);
void tcp_send_loss_probe(struct stack *st, struct tcp_sock *tp);
uint32_t tcp_select_window(struct stack *st, struct tcp_sock *tp);
uint32_t tcp_raw_window(struct tcp_sock *tp); /* the window to offer, before "never shrink" */
uint32_t tcp_current_mss(struct tcp_sock *tp);
bool tcp_should_send_fin_now(const struct tcp_sock *tp);
bool tcp_has_unsent(const struct tcp_sock *tp);
void tcp_push_pending(struct stack *st, struct tcp_sock *tp);
void tcp_cwnd_restart_check(struct stack *st, struct tcp_sock *tp);
void tcp_build_sack_opts(const struct tcp_sock *tp, struct tcp_opts_tx *o);
void tcp_fill_ts(struct stack *st, const struct tcp_sock *tp, struct tcp_opts_tx *o);

/* tcp_timer.c */
void tcp_timers_init(struct tcp_sock *tp);
void tcp_clear_timers(struct stack *st, struct tcp_sock *tp);
void tcp_reset_rtx_timer(struct stack *st, struct tcp_sock *tp, enum tcp_rtx_timer kind,
			 uint64_t delay_us);
void tcp_rearm_rto(struct stack *st, struct tcp_sock *tp);
void tcp_clear_rtx_timer(struct stack *st, struct tcp_sock *tp);
void tcp_reset_keepalive_timer(struct stack *st, struct tcp_sock *tp, uint64_t delay_ns);
void tcp_delack_timer_arm(struct stack *st, struct tcp_sock *tp);
void tcp_check_probe_timer(struct stack *st, struct tcp_sock *tp);
uint64_t tcp_probe0_when(const struct tcp_sock *tp);
bool tcp_schedule_loss_probe(struct stack *st, struct tcp_sock *tp, bool advancing_rto);
void tcp_set_xmit_timer(struct stack *st, struct tcp_sock *tp);
uint32_t tcp_keepalive_time(const struct stack *st, const struct tcp_sock *tp);

/* tcp_listen.c */
void tcp_listen_rcv(struct stack *st, struct tcp_sock *lt, struct pkt *pkt,
		    const struct tcp_opts *opts);
void tcp_listen_rcv_isn(struct stack *st, struct tcp_sock *lt, struct pkt *pkt,
			const struct tcp_opts *opts, uint32_t isn);
void tcp_request_rcv(struct stack *st, struct tcp_request *req, struct pkt *pkt,
		     const struct tcp_opts *opts);
struct tcp_request *tcp_request_lookup(struct stack *st, uint32_t saddr, uint16_t sport,
				       uint32_t daddr, uint16_t dport);
void tcp_listen_stop(struct stack *st, struct tcp_sock *lt);
void tcp_acceptq_unlink(struct stack *st, struct tcp_sock *tp);

/* tcp_timewait.c */
void tcp_time_wait(struct stack *st, struct tcp_sock *tp, int state, uint64_t timeo_ns);
struct tcp_tw *tcp_tw_lookup(struct stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
			     uint16_t dport);
/* Return: true if @pkt was consumed; false if it is a SYN that may reuse
 * the tuple: the TIME_WAIT entry is gone and *@isn is the ISN the new
 * connection must use. */
bool tcp_tw_rcv(struct stack *st, struct tcp_tw *tw, struct pkt *pkt, const struct tcp_opts *opts,
		uint32_t *isn);
bool tcp_tw_may_reuse(struct stack *st, struct tcp_tw *tw);
void tcp_tw_kill(struct stack *st, struct tcp_tw *tw);

/* tcp_recovery.c */
int tcp_sacktag(struct stack *st, struct tcp_sock *tp, const struct tcp_opts *opts,
		uint32_t prior_snd_una, struct tcp_rate_sample *rs);
uint32_t tcp_highest_sack_seq(const struct tcp_sock *tp);
void tcp_check_sack_reordering(struct stack *st, struct tcp_sock *tp, uint32_t low_seq);
void tcp_rack_advance(struct tcp_sock *tp, uint8_t sacked, uint32_t tx_order, uint64_t xmit_ns,
		      uint64_t now_ns);
bool tcp_rack_mark_lost(struct stack *st, struct tcp_sock *tp);
void tcp_rack_reo_timeout(struct stack *st, struct tcp_sock *tp);
void tcp_rack_update_reo_wnd(struct tcp_sock *tp, const struct tcp_rate_sample *rs);
void tcp_fastretrans_alert(struct stack *st, struct tcp_sock *tp, uint32_t prior_snd_una,
			   int *ack_flag, int num_dupack, struct tcp_rate_sample *rs);
void tcp_enter_loss(struct stack *st, struct tcp_sock *tp);
void tcp_xmit_retransmit_queue(struct stack *st, struct tcp_sock *tp);
void tcp_mark_skb_lost(struct tcp_sock *tp, struct pkt *p);
void tcp_tsorted_sent(struct tcp_sock *tp, struct pkt *p);
void tcp_tsorted_del(struct tcp_sock *tp, struct pkt *p);
void tcp_tsorted_insert_after(struct tcp_sock *tp, struct pkt *p, struct pkt *n);
void tcp_cwnd_reduction(struct tcp_sock *tp, int newly_acked_sacked, int newly_lost, int flag);
void tcp_process_tlp_ack(struct stack *st, struct tcp_sock *tp, uint32_t ack, int flag);
void tcp_try_undo_spurious(struct stack *st, struct tcp_sock *tp);
void tcp_update_sack_list(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);
void tcp_sack_remove(struct tcp_sock *tp);
void tcp_dsack_set(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);
void tcp_dsack_extend(struct stack *st, struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);

/* flags for an ACK's processing (Linux FLAG_*) */
#define FLAG_DATA 0x01
#define FLAG_WIN_UPDATE 0x02
#define FLAG_DATA_ACKED 0x04
#define FLAG_RETRANS_DATA_ACKED 0x08
#define FLAG_SYN_ACKED 0x10
#define FLAG_DATA_SACKED 0x20
#define FLAG_SLOWPATH 0x100
#define FLAG_SND_UNA_ADVANCED 0x400
#define FLAG_DSACKING_ACK 0x800
#define FLAG_SET_XMIT_TIMER 0x1000 /* re-arm TLP or RTO after this ACK */
#define FLAG_SACK_RENEGING 0x2000
#define FLAG_UPDATE_TS_RECENT 0x4000
#define FLAG_NO_CHALLENGE_ACK 0x8000
#define FLAG_ACK_MAYBE_DELAYED 0x10000
#define FLAG_DSACK_TLP 0x20000
#define FLAG_LOST_RETRANS 0x80000
#define FLAG_ACKED (FLAG_DATA_ACKED | FLAG_SYN_ACKED)
#define FLAG_NOT_DUP (FLAG_DATA | FLAG_WIN_UPDATE | FLAG_ACKED)
#define FLAG_FORWARD_PROGRESS (FLAG_ACKED | FLAG_DATA_SACKED)

/* tcp_rate.c */
void tcp_rate_pkt_sent(struct tcp_sock *tp, struct pkt *p, uint64_t now_ns);
void tcp_rate_pkt_delivered(struct tcp_sock *tp, struct pkt *p, struct tcp_rate_sample *rs);
void tcp_rate_gen(struct tcp_sock *tp, uint32_t delivered, uint32_t lost, bool is_sack_reneg,
		  struct tcp_rate_sample *rs, uint64_t now_ns);
void tcp_rate_check_app_limited(struct stack *st, struct tcp_sock *tp);

#endif
