// SPDX-License-Identifier: MIT
/*
 * TCP timers on the stack's timing wheel (Linux net/ipv4/tcp_timer.c,
 * OpenBSD tcp_timer.c for the shape). One "retransmit" timer per socket
 * stands, as in Linux, for whichever of RTO (RFC 6298), zero-window probe
 * (RFC 9293 §3.8.6.1), tail loss probe or RACK reordering timer (RFC 8985)
 * is due first; separate timers for delayed ACKs, keepalive (RFC 1122
 * §4.2.3.6) and pacing.
 */
#include <errno.h>
#include <stddef.h>

#include "stack.h"
#include "tcp.h"

#define TCP_RESOURCE_PROBE_US 500000u	/* Linux TCP_RESOURCE_PROBE_INTERVAL */

#define tcp_of(t, member) ((struct tcp_sock *)((char *)(t) - offsetof(struct tcp_sock, member)))

static uint64_t us_to_ns(uint64_t us)
{
	return us * 1000ull;
}

void tcp_reset_rtx_timer(struct stack *st, struct tcp_sock *tp, enum tcp_rtx_timer kind,
			 uint64_t delay_us)
{
	if (delay_us > TCP_RTO_MAX_US)
		delay_us = TCP_RTO_MAX_US;
	tp->rtx_timer_kind = (uint8_t)kind;
	wheel_arm(&st->wheel, &tp->rtx_timer, st->now + us_to_ns(delay_us));
}

void tcp_clear_rtx_timer(struct stack *st, struct tcp_sock *tp)
{
	tp->rtx_timer_kind = TCP_TIMER_NONE;
	wheel_cancel(&st->wheel, &tp->rtx_timer);
}

/* Linux tcp_rto_delta_us(): how far in the future the RTO of the oldest
 * outstanding segment lies. */
static int64_t tcp_rto_delta_us(const struct stack *st, const struct tcp_sock *tp)
{
	const struct pkt *head = tp->rtx_q.head;
	uint64_t sent = head ? tcp_cb((struct pkt *)head)->tx_ns : st->now;

	return (int64_t)tp->rto_us - (int64_t)((st->now - sent) / 1000);
}

/* Linux tcp_rearm_rto(). */
void tcp_rearm_rto(struct stack *st, struct tcp_sock *tp)
{
	uint64_t rto = tp->rto_us;

	if (!tp->packets_out) {
		if (tp->rtx_timer_kind != TCP_TIMER_PROBE0)
			tcp_clear_rtx_timer(st, tp);
		return;
	}
	if (tp->rtx_timer_kind == TCP_TIMER_REO || tp->rtx_timer_kind == TCP_TIMER_LOSS_PROBE) {
		int64_t delta = tcp_rto_delta_us(st, tp);

		rto = delta > 1 ? (uint64_t)delta : 1;
	}
	tcp_reset_rtx_timer(st, tp, TCP_TIMER_RETRANS, rto);
}

uint64_t tcp_probe0_when(const struct tcp_sock *tp)
{
	uint64_t base = tp->rto_us > TCP_RTO_MIN_US ? tp->rto_us : TCP_RTO_MIN_US;
	uint64_t when = base << (tp->backoff > 20 ? 20 : tp->backoff);

	return when > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : when;
}

/* Linux tcp_check_probe_timer(): data waits for a window that is closed
 * and nothing is in flight to bring an update: probe. */
void tcp_check_probe_timer(struct stack *st, struct tcp_sock *tp)
{
	if (tp->packets_out || !tcp_has_unsent(tp))
		return;
	if (tp->rtx_timer_kind == TCP_TIMER_NONE ||
	    !wheel_timer_armed(&tp->rtx_timer))
		tcp_reset_rtx_timer(st, tp, TCP_TIMER_PROBE0, tcp_probe0_when(tp));
}

/* RFC 8985 §7.2 with Linux's tcp_schedule_loss_probe() choices.
 * @advancing_rto: an ACK is about to restart the RTO from now, so the
 * probe must come no later than a full RTO from now. */
bool tcp_schedule_loss_probe(struct stack *st, struct tcp_sock *tp, bool advancing_rto)
{
	uint64_t timeout;
	int64_t rto_delta;

	if (st->cfg.tun.tcp_early_retrans != 3 && st->cfg.tun.tcp_early_retrans != 4)
		return false;
	if (!tp->packets_out || !tp->sack_ok ||
	    (tp->cc.ca_state != TCP_CA_Open && tp->cc.ca_state != TCP_CA_CWR))
		return false;
	/* New data would serve as a probe anyway. */
	if (tcp_snd_cwnd(tp) > tcp_packets_in_flight(tp) && tcp_has_unsent(tp))
		return false;
	if (tp->srtt_us) {
		timeout = tp->srtt_us >> 2;	/* 2 * SRTT */
		/* RFC 8985 §7.2: a lone segment may wait for a delayed ACK. */
		timeout += tp->packets_out == 1 ? st->cfg.tun.tcp_rto_min_us : TCP_TIMEOUT_MIN_US;
	} else {
		timeout = TCP_TIMEOUT_INIT_US;
	}
	rto_delta = advancing_rto ? (int64_t)tp->rto_us : tcp_rto_delta_us(st, tp);
	if (rto_delta > 0 && (uint64_t)rto_delta < timeout)
		timeout = (uint64_t)rto_delta;
	tcp_reset_rtx_timer(st, tp, TCP_TIMER_LOSS_PROBE, timeout);
	return true;
}

/* Linux tcp_set_xmit_timer(): after an ACK of new data, RFC 8985 §7.2
 * restarts the probe timer; if no probe is allowed, the RTO restarts
 * (RFC 6298 §5.3). */
void tcp_set_xmit_timer(struct stack *st, struct tcp_sock *tp)
{
	if (!tcp_schedule_loss_probe(st, tp, true))
		tcp_rearm_rto(st, tp);
}

/* Linux tcp_model_timeout(): how long @boundary exponential backoffs from
 * @rto_base take, with the RTO capped at TCP_RTO_MAX. */
static uint64_t tcp_model_timeout_us(uint32_t boundary, uint64_t rto_base)
{
	uint32_t thresh = 0;
	uint64_t t;

	while ((rto_base << (thresh + 1)) <= TCP_RTO_MAX_US)
		thresh++;
	if (boundary <= thresh)
		t = ((2ull << boundary) - 1) * rto_base;
	else
		t = ((2ull << thresh) - 1) * rto_base + (uint64_t)(boundary - thresh) * TCP_RTO_MAX_US;
	return t;
}

static void tcp_write_err(struct stack *st, struct tcp_sock *tp)
{
	int err = tp->sk.err ? tp->sk.err : ETIMEDOUT;

	TCPEXT_INC(st, TCP_ABORT_ON_TIMEOUT);
	tp->sk.err = err;
	if (!tp->sk.orphan)
		sock_event(st, &tp->sk, SK_EV_ERROR);
	tcp_done(st, tp);
}

/* Linux tcp_write_timeout(): give up? SYNs count retries; established
 * connections compare the time since the first retransmission with what
 * tcp_retries2 exponential backoffs would take (about 924 s for 15). */
static bool tcp_write_timeout(struct stack *st, struct tcp_sock *tp)
{
	const struct stack_tunables *tun = &st->cfg.tun;
	uint32_t retry_until;
	uint64_t elapsed_us;

	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV) {
		if (tp->retransmits < tun->tcp_syn_retries)
			return false;
		tcp_write_err(st, tp);
		return true;
	}
	retry_until = tun->tcp_retries2;
	if (tp->sk.orphan)
		retry_until = tun->tcp_orphan_retries ? tun->tcp_orphan_retries : TCP_ORPHAN_RETRIES;
	if (!tp->retrans_stamp_ns)
		return false;
	elapsed_us = (st->now - tp->retrans_stamp_ns) / 1000;
	if (tp->user_timeout_ms) {
		if (elapsed_us < (uint64_t)tp->user_timeout_ms * 1000)
			return false;
	} else if (elapsed_us < tcp_model_timeout_us(retry_until, TCP_RTO_MIN_US)) {
		return false;
	}
	tcp_write_err(st, tp);
	return true;
}

/* Linux tcp_retransmit_timer(). */
static void tcp_retransmit_timer(struct stack *st, struct tcp_sock *tp)
{
	struct pkt *head = tp->rtx_q.head;

	if (!tp->packets_out || !head)
		return;
	if (!tp->snd_wnd && !tp->sk.orphan && tp->state != TCP_SYN_SENT &&
	    tp->state != TCP_SYN_RECV) {
		/* The receiver shrank its window under our data: these
		 * retransmissions are probes, and time out only if the peer
		 * stops answering altogether. */
		if (st->now - tp->rcv_tstamp_ns > us_to_ns(TCP_RTO_MAX_US)) {
			tcp_write_err(st, tp);
			return;
		}
		tcp_enter_loss(st, tp);
		tcp_retransmit_pkt(st, tp, head);
		goto out_reset_timer;
	}
	/* Linux counts every expiry, the one that gives up included. */
	TCPEXT_INC(st, TCP_TIMEOUTS);
	if (tcp_write_timeout(st, tp))
		return;
	tp->total_rto++;
	tcp_enter_loss(st, tp);
	tp->retransmits++;
	if (tcp_retransmit_pkt(st, tp, head) < 0) {
		/* Out of buffers locally: try again soon, without backoff. */
		tcp_reset_rtx_timer(st, tp, TCP_TIMER_RETRANS, TCP_RESOURCE_PROBE_US);
		return;
	}
	tp->backoff++;
out_reset_timer:
	tp->rto_us = tp->rto_us << 1 > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : tp->rto_us << 1;
	tcp_reset_rtx_timer(st, tp, TCP_TIMER_RETRANS, tp->rto_us);
}

/* Linux tcp_probe_timer(). */
static void tcp_probe_timer(struct stack *st, struct tcp_sock *tp)
{
	uint32_t max_probes = st->cfg.tun.tcp_retries2;

	if (tp->packets_out || !tcp_has_unsent(tp)) {
		tp->probes_out = 0;
		tp->backoff = 0;
		return;
	}
	if (tp->sk.orphan)
		max_probes = st->cfg.tun.tcp_orphan_retries ? st->cfg.tun.tcp_orphan_retries
							   : TCP_ORPHAN_RETRIES;
	if (tp->user_timeout_ms && tp->rcv_tstamp_ns &&
	    st->now - tp->rcv_tstamp_ns >= (uint64_t)tp->user_timeout_ms * 1000000ull) {
		tcp_write_err(st, tp);
		return;
	}
	if (tp->probes_out >= max_probes) {
		tcp_write_err(st, tp);
		return;
	}
	tcp_send_probe0(st, tp);
}

static void tcp_rtx_timer_fn(void *ctx, struct wheel_timer *t)
{
	struct stack *st = ctx;
	struct tcp_sock *tp = tcp_of(t, rtx_timer);
	uint8_t kind = tp->rtx_timer_kind;

	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN) {
		tp->rtx_timer_kind = TCP_TIMER_NONE;
		return;
	}
	/* Linux tcp_write_timer_handler(): the loss probe and RACK handlers
	 * run with their kind still pending, so that tcp_rearm_rto() puts
	 * the RTO where the oldest segment's transmission says, instead of
	 * a full RTO from now. */
	switch (kind) {
	case TCP_TIMER_RETRANS:
		tp->rtx_timer_kind = TCP_TIMER_NONE;
		tcp_retransmit_timer(st, tp);
		break;
	case TCP_TIMER_PROBE0:
		tp->rtx_timer_kind = TCP_TIMER_NONE;
		tcp_probe_timer(st, tp);
		break;
	case TCP_TIMER_LOSS_PROBE:
		tcp_send_loss_probe(st, tp);
		break;
	case TCP_TIMER_REO:
		tcp_rack_reo_timeout(st, tp);
		break;
	default:
		tp->rtx_timer_kind = TCP_TIMER_NONE;
		break;
	}
}

void tcp_delack_timer_arm(struct stack *st, struct tcp_sock *tp)
{
	wheel_arm(&st->wheel, &tp->delack_timer, st->now + us_to_ns(tp->ack.ato_us));
}

/* Linux tcp_delack_timer_handler(). */
static void tcp_delack_timer_fn(void *ctx, struct wheel_timer *t)
{
	struct stack *st = ctx;
	struct tcp_sock *tp = tcp_of(t, delack_timer);

	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN)
		return;
	tp->ack.pending &= (uint8_t)~TCP_ACK_TIMER;
	if (!(tp->ack.pending & TCP_ACK_SCHED))
		return;
	if (!tp->ack.pingpong) {
		/* The delayed ACK was not piggybacked: the peer is slower than
		 * we guessed, so wait longer next time. */
		tp->ack.ato_us = tp->ack.ato_us << 1 < tp->rto_us ? tp->ack.ato_us << 1 : tp->rto_us;
	} else {
		tp->ack.pingpong = 0;
		tp->ack.ato_us = TCP_ATO_MIN_US;
	}
	tcp_send_ack(st, tp);
	TCPEXT_INC(st, DELAYED_ACKS);
}

uint32_t tcp_keepalive_time(const struct stack *st, const struct tcp_sock *tp)
{
	return tp->keepalive_time_s ? tp->keepalive_time_s : st->cfg.tun.tcp_keepalive_time_s;
}

static uint32_t tcp_keepalive_intvl(const struct stack *st, const struct tcp_sock *tp)
{
	return tp->keepalive_intvl_s ? tp->keepalive_intvl_s : st->cfg.tun.tcp_keepalive_intvl_s;
}

static uint32_t tcp_keepalive_probes(const struct stack *st, const struct tcp_sock *tp)
{
	return tp->keepalive_probes ? tp->keepalive_probes : st->cfg.tun.tcp_keepalive_probes;
}

void tcp_reset_keepalive_timer(struct stack *st, struct tcp_sock *tp, uint64_t delay_ns)
{
	wheel_arm(&st->wheel, &tp->ka_timer, st->now + delay_ns);
}

/* Linux tcp_keepalive_timer(): RFC 1122 §4.2.3.6 probes after
 * tcp_keepalive_time of silence, every tcp_keepalive_intvl, giving up
 * after tcp_keepalive_probes unanswered ones. */
static void tcp_ka_timer_fn(void *ctx, struct wheel_timer *t)
{
	struct stack *st = ctx;
	struct tcp_sock *tp = tcp_of(t, ka_timer);
	uint64_t when = (uint64_t)tcp_keepalive_time(st, tp) * 1000000000ull;
	uint64_t last, elapsed;

	if (!(tp->sk.opts & SK_OPT_KEEPALIVE) ||
	    !(TCPF(tp->state) & (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) |
				 TCPF(TCP_FIN_WAIT1) | TCPF(TCP_FIN_WAIT2))))
		return;
	if (tp->packets_out || tcp_has_unsent(tp))
		goto resched;	/* alive without keepalive */
	last = tp->ack.lrcv_ns > tp->rcv_tstamp_ns ? tp->ack.lrcv_ns : tp->rcv_tstamp_ns;
	elapsed = st->now - last;
	if (elapsed >= when) {
		if ((tp->user_timeout_ms && elapsed >= (uint64_t)tp->user_timeout_ms * 1000000ull &&
		     tp->probes_out > 0) ||
		    (!tp->user_timeout_ms && tp->probes_out >= tcp_keepalive_probes(st, tp))) {
			tcp_send_active_reset(st, tp);
			tcp_write_err(st, tp);
			return;
		}
		if (tcp_write_wakeup(st, tp) >= 0) {
			TCPEXT_INC(st, TCP_KEEP_ALIVE);
			tp->probes_out++;
			when = (uint64_t)tcp_keepalive_intvl(st, tp) * 1000000000ull;
		} else {
			when = us_to_ns(TCP_RESOURCE_PROBE_US);
		}
	} else {
		when -= elapsed;
	}
resched:
	tcp_reset_keepalive_timer(st, tp, when);
}

static void tcp_pace_timer_fn(void *ctx, struct wheel_timer *t)
{
	struct stack *st = ctx;
	struct tcp_sock *tp = tcp_of(t, pace_timer);

	tcp_write_xmit(st, tp);
}

void tcp_timers_init(struct tcp_sock *tp)
{
	wheel_timer_init(&tp->rtx_timer, tcp_rtx_timer_fn);
	wheel_timer_init(&tp->delack_timer, tcp_delack_timer_fn);
	wheel_timer_init(&tp->ka_timer, tcp_ka_timer_fn);
	wheel_timer_init(&tp->pace_timer, tcp_pace_timer_fn);
	tp->rtx_timer_kind = TCP_TIMER_NONE;
}

void tcp_clear_timers(struct stack *st, struct tcp_sock *tp)
{
	tcp_clear_rtx_timer(st, tp);
	wheel_cancel(&st->wheel, &tp->delack_timer);
	wheel_cancel(&st->wheel, &tp->ka_timer);
	wheel_cancel(&st->wheel, &tp->pace_timer);
	tp->ack.pending = 0;
}
