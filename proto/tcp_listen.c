// SPDX-License-Identifier: MIT
/*
 * Passive open (Linux net/ipv4/tcp_input.c tcp_conn_request,
 * tcp_minisocks.c tcp_check_req, syncookies.c cookie_v4_check,
 * inet_connection_sock.c): a SYN to a listener becomes a request sock in
 * the SYN queue and a SYN-ACK; the ACK that completes the handshake turns
 * it into a full socket in the accept queue. When the SYN queue is full
 * (as many requests as the backlog allows) and tcp_syncookies is on, the
 * SYN-ACK carries a cookie instead and nothing is stored (RFC 4987 §3.6).
 *
 * Linux's backlog semantics: backlog = min(listen() backlog, somaxconn);
 * the accept queue is full when it holds more than backlog connections
 * (so backlog + 1 fit); a SYN that arrives while it is full is dropped
 * (ListenOverflows, ListenDrops), as is a completing ACK, which leaves the
 * request in place so that the handshake finishes once the owner accepts.
 */
#include <errno.h>
#include <string.h>

#include "ipv4.h"
#include "stack.h"
#include "tcp.h"

static struct tcp_request **tcp_rhash_head(struct stack *st, uint32_t saddr, uint16_t sport,
					   uint32_t daddr, uint16_t dport)
{
	return &st->tcp.rhash[tcp_hash4(st, saddr, sport, daddr, dport)];
}

struct tcp_request *tcp_request_lookup(struct stack *st, uint32_t saddr, uint16_t sport,
				       uint32_t daddr, uint16_t dport)
{
	for (struct tcp_request *r = *tcp_rhash_head(st, saddr, sport, daddr, dport); r;
	     r = r->hash_next)
		if (r->saddr == saddr && r->sport == sport && r->daddr == daddr && r->dport == dport)
			return r;
	return NULL;
}

static void tcp_req_free(struct stack *st, struct tcp_request *req)
{
	if (req->hash_pprev) {
		*req->hash_pprev = req->hash_next;
		if (req->hash_next)
			req->hash_next->hash_pprev = req->hash_pprev;
	}
	wheel_cancel(&st->wheel, &req->timer);
	if (req->listener && req->listener->lq.synq_len)
		req->listener->lq.synq_len--;
	memset(req, 0, sizeof(*req));
	req->hash_next = st->tcp.free_reqs;
	st->tcp.free_reqs = req;
	st->tcp.nfree_reqs++;
}

/* The window we offer in a SYN-ACK and the scale we announce: a pure
 * function of the listener's buffers, so that a cookie's ACK finds the
 * same values (Linux tcp_select_initial_window). */
static void tcp_initial_window(const struct stack *st, const struct tcp_sock *lt, uint16_t mss,
			       bool wscale_ok, bool tstamp_ok, uint32_t *rcv_wnd,
			       uint8_t *rcv_wscale)
{
	uint32_t space = lt->sk.rcvbuf > 65535 ? 65535 : lt->sk.rcvbuf;
	uint32_t max = st->cfg.tun.tcp_rmem[2] > lt->sk.rcvbuf ? st->cfg.tun.tcp_rmem[2]
							      : lt->sk.rcvbuf;
	uint8_t ws = 0;

	if (wscale_ok)
		while (max > 65535 && ws < TCP_MAX_WSCALE) {
			max >>= 1;
			ws++;
		}
	*rcv_wscale = ws;
	/* Whole segments of what the peer will send: the MSS less the
	 * timestamp option every segment carries (Linux
	 * tcp_openreq_init_rwin(): 65160 rather than 64240 for MSS 1460). */
	if (tstamp_ok && mss > TCPOLEN_TIMESTAMP + 2)
		mss -= TCPOLEN_TIMESTAMP + 2;
	*rcv_wnd = mss ? space - space % mss : space;
}

/* The MSS a listener announces: the route's, lowered by TCP_MAXSEG (Linux
 * tcp_mss_clamp() on the listener). Every SYN-ACK of a request announces
 * the same, and a cookie's ACK finds it again. */
static uint16_t tcp_req_advmss(struct stack *st, const struct tcp_sock *lt, uint32_t daddr)
{
	uint16_t advmss = tcp_route_mss(st, daddr);

	if (lt->user_mss && advmss > lt->user_mss)
		advmss = lt->user_mss;
	return advmss;
}

static void tcp_send_synack(struct stack *st, const struct tcp_request *req, uint16_t advmss)
{
	struct tcp_opts_tx o;

	memset(&o, 0, sizeof(o));
	o.mss = advmss;
	o.wscale = req->wscale_ok ? (int8_t)req->rcv_wscale : -1;
	o.sack_ok = req->sack_ok;
	if (req->tstamp_ok) {
		o.tstamp = true;
		o.tsval = tcp_ts_now(st) + req->ts_off;
		o.tsecr = req->ts_recent;
	}
	tcp_send_ack_raw(st, req->saddr, req->sport, req->daddr, req->dport, req->iss, req->irs + 1,
			 req->rcv_wnd, TH_SYN | TH_ACK, &o);
}

/* Linux reqsk_timer_handler(): resend the SYN-ACK with exponential backoff,
 * up to tcp_synack_retries. */
static void tcp_req_timer_fn(void *ctx, struct wheel_timer *t)
{
	struct stack *st = ctx;
	struct tcp_request *req =
		(struct tcp_request *)((char *)t - offsetof(struct tcp_request, timer));
	uint64_t timeo;

	if (req->retrans >= st->cfg.tun.tcp_synack_retries) {
		tcp_req_free(st, req);
		return;
	}
	req->retrans++;
	TCP_INC(st, RETRANS_SEGS);
	TCPEXT_INC(st, TCP_SYN_RETRANS);
	tcp_send_synack(st, req, tcp_req_advmss(st, req->listener, req->daddr));
	timeo = (uint64_t)TCP_TIMEOUT_INIT_US << req->retrans;
	if (timeo > TCP_RTO_MAX_US)
		timeo = TCP_RTO_MAX_US;
	wheel_arm(&st->wheel, &req->timer, st->now + timeo * 1000);
}

static bool tcp_acceptq_full(const struct tcp_sock *lt)
{
	return lt->lq.acceptq_len > lt->lq.backlog;
}

static void tcp_acceptq_add(struct stack *st, struct tcp_sock *lt, struct tcp_sock *child)
{
	child->listener = lt;
	child->aq_next = NULL;
	if (lt->lq.acceptq_tail)
		lt->lq.acceptq_tail->aq_next = child;
	else
		lt->lq.acceptq_head = child;
	lt->lq.acceptq_tail = child;
	lt->lq.acceptq_len++;
	sock_event(st, &lt->sk, SK_EV_ACCEPT | SK_EV_READABLE);
}

void tcp_acceptq_unlink(struct stack *st, struct tcp_sock *tp)
{
	struct tcp_sock *lt = tp->listener, *prev = NULL;

	(void)st;
	if (!lt)
		return;
	for (struct tcp_sock *c = lt->lq.acceptq_head; c; prev = c, c = c->aq_next) {
		if (c != tp)
			continue;
		if (prev)
			prev->aq_next = c->aq_next;
		else
			lt->lq.acceptq_head = c->aq_next;
		if (lt->lq.acceptq_tail == c)
			lt->lq.acceptq_tail = prev;
		lt->lq.acceptq_len--;
		break;
	}
	tp->listener = NULL;
	tp->aq_next = NULL;
}

/* What a full socket is made of: the request's negotiation (Linux
 * tcp_create_openreq_child). */
struct tcp_child_params {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t iss, irs;
	uint16_t mss;
	uint8_t wscale_ok, snd_wscale, rcv_wscale, sack_ok, tstamp_ok;
	uint32_t ts_recent, ts_off, rcv_wnd;
	uint64_t synack_ns;
};

static struct tcp_sock *tcp_create_child(struct stack *st, struct tcp_sock *lt,
					 const struct tcp_child_params *cp, const struct tcp_hdr *th,
					 const struct tcp_opts *opts)
{
	struct tcp_sock *tp = tcp_sock_alloc(st);

	if (!tp)
		return NULL;
	/* Inherit what the owner set on the listener. */
	tp->sk.opts = lt->sk.opts;
	tp->sk.sndbuf = lt->sk.sndbuf;
	tp->sk.rcvbuf = lt->sk.rcvbuf;
	tp->sk.linger_s = lt->sk.linger_s;
	tp->sk.uid = lt->sk.uid;
	tp->rcvbuf_locked = lt->rcvbuf_locked;
	tp->window_clamp = lt->window_clamp;
	tp->nodelay = lt->nodelay;
	tp->user_mss = lt->user_mss;
	tp->keepalive_time_s = lt->keepalive_time_s;
	tp->keepalive_intvl_s = lt->keepalive_intvl_s;
	tp->keepalive_probes = lt->keepalive_probes;
	tp->user_timeout_ms = lt->user_timeout_ms;
	tp->ca_ops = lt->ca_ops;

	tp->saddr = cp->saddr;
	tp->daddr = cp->daddr;
	tp->sport = cp->sport;
	tp->dport = cp->dport;
	tp->bound = 1;
	tcp_port_get(st, tp->sport);
	tp->iss = cp->iss;
	tp->irs = cp->irs;
	tp->snd_una = tp->snd_nxt = tp->write_seq = cp->iss + 1;
	tp->snd_sml = tp->snd_una;
	tp->rcv_nxt = tp->rcv_wup = tp->copied_seq = cp->irs + 1;
	tp->rcv_wnd = cp->rcv_wnd;
	tp->wscale_ok = cp->wscale_ok;
	tp->snd_wscale = cp->wscale_ok ? cp->snd_wscale : 0;
	tp->rcv_wscale = cp->wscale_ok ? cp->rcv_wscale : 0;
	tp->sack_ok = cp->sack_ok;
	tp->tstamp_ok = cp->tstamp_ok;
	tp->tcp_header_len = TCP_HDR_LEN + (cp->tstamp_ok ? 12 : 0);
	tp->ts_recent = cp->ts_recent;
	tp->ts_recent_stamp = (uint32_t)(st->now / 1000000000ull);
	tp->ts_off = cp->ts_off;
	tp->mss_clamp = cp->mss;
	tp->advmss = tcp_route_mss(st, cp->daddr);
	if (tp->user_mss && tp->advmss > tp->user_mss)
		tp->advmss = tp->user_mss;
	if (!tp->window_clamp)
		tp->window_clamp = st->cfg.tun.tcp_rmem[2] > tp->sk.rcvbuf ? st->cfg.tun.tcp_rmem[2]
									  : tp->sk.rcvbuf;
	if (!cp->wscale_ok && tp->window_clamp > 65535)
		tp->window_clamp = 65535;
	tp->snd_wnd = (uint32_t)ntohs(th->window) << tp->snd_wscale;
	tp->snd_wl1 = cp->irs + 1;
	tp->max_window = tp->snd_wnd;
	tcp_sync_mss(st, tp);
	tp->ack.rcv_mss = tp->mss_cache < TCP_MSS_DEFAULT ? tp->mss_cache : TCP_MSS_DEFAULT;
	if (cp->synack_ns) {
		/* RTT of the handshake: the first sample (Linux
		 * tcp_synack_rtt_meas); Karn's rule leaves it out after a
		 * SYN-ACK was resent, and the timestamp echo serves then. */
		int64_t rtt_us = (int64_t)((st->now - cp->synack_ns) / 1000);

		/* Also the first minimum RTT, which RACK's reordering window
		 * starts from (Linux tcp_ack_update_rtt). */
		tcp_update_rtt_min(st, tp, rtt_us);
		tcp_rtt_estimator(tp, rtt_us);
		tcp_set_rto(tp);
	} else if (opts->saw_tstamp && opts->tsecr && cp->tstamp_ok) {
		uint32_t delta = tcp_ts_now(st) - (opts->tsecr - cp->ts_off);

		if (delta < 60000) {
			tcp_update_rtt_min(st, tp, (int64_t)(delta ? delta : 1) * 1000);
			tcp_rtt_estimator(tp, (int64_t)(delta ? delta : 1) * 1000);
			tcp_set_rto(tp);
		}
	}
	tcp_init_rto(tp);
	tcp_set_state(st, tp, TCP_ESTABLISHED);
	tcp_ehash_add(st, tp);
	tp->lsndtime_ns = st->now;
	tp->rcv_tstamp_ns = st->now;
	tp->cc.snd_cwnd = TCP_INIT_CWND;
	tp->cc.snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tcp_cc_init(st, tp);
	if (tp->sk.opts & SK_OPT_KEEPALIVE)
		tcp_reset_keepalive_timer(st, tp,
					  (uint64_t)tcp_keepalive_time(st, tp) * 1000000000ull);
	TCP_INC(st, PASSIVE_OPENS);
	return tp;
}

/* The ACK completed the handshake: the child gets the segment's data and
 * the listener a connection to accept. */
static void tcp_child_process(struct stack *st, struct tcp_sock *lt, struct tcp_sock *child,
			      struct pkt *pkt, const struct tcp_opts *opts)
{
	tcp_acceptq_add(st, lt, child);
	/* Feed the segment to the new socket: it may carry data and a FIN
	 * (Linux tcp_child_process). */
	tcp_rcv_established(st, child, pkt, opts);
}

static void tcp_send_reset_pkt(struct stack *st, const struct pkt *pkt)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	const struct tcp_skb_cb *cb = tcp_cb((struct pkt *)pkt);

	tcp_send_reset(st, pkt, th,
		       cb->end_seq - cb->seq - !!(th->flags & TH_SYN) - !!(th->flags & TH_FIN));
}

/* Linux cookie_v4_check(). Return: true if @pkt was used. */
static bool tcp_cookie_ack(struct stack *st, struct tcp_sock *lt, struct pkt *pkt,
			   const struct tcp_opts *opts)
{
	const struct ipv4_hdr *ip = (const struct ipv4_hdr *)pkt_l3(pkt);
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_child_params cp;
	struct tcp_sock *child;
	uint64_t recent = 2ull << SYNCOOKIE_PERIOD_SHIFT;
	int wscale = -1;
	bool sack = false;
	uint16_t mss;

	if (!st->cfg.tun.tcp_syncookies || !(th->flags & TH_ACK) || (th->flags & TH_RST))
		return false;
	/* Linux tcp_synq_no_recent_overflow(): without a recent overflow no
	 * cookie was sent, so nothing is worth checking. */
	if (!lt->lq.synflood_warned || st->now - lt->lq.last_overflow_ns > recent)
		return false;
	mss = syncookie_check(&st->tcp.secret, ip->daddr, ip->saddr, th->dest, th->source,
			      ntohl(th->seq) - 1, ntohl(th->ack_seq) - 1, st->now);
	if (!mss) {
		TCPEXT_INC(st, SYNCOOKIES_FAILED);
		return false;
	}
	TCPEXT_INC(st, SYNCOOKIES_RECV);
	if (tcp_acceptq_full(lt)) {
		TCPEXT_INC(st, LISTEN_OVERFLOWS);
		TCPEXT_INC(st, LISTEN_DROPS);
		pkt_drop(st, pkt, DROP_TCP_LISTEN_OVERFLOW);
		return true;
	}
	memset(&cp, 0, sizeof(cp));
	cp.saddr = ip->daddr;
	cp.daddr = ip->saddr;
	cp.sport = th->dest;
	cp.dport = th->source;
	cp.iss = ntohl(th->ack_seq) - 1;
	cp.irs = ntohl(th->seq) - 1;
	cp.mss = mss;
	if (opts->saw_tstamp && st->cfg.tun.tcp_timestamps) {
		syncookie_ts_decode(opts->tsecr, &wscale, &sack);
		cp.tstamp_ok = 1;
		cp.ts_recent = opts->tsval;
		cp.ts_off = tcp_ts_offset(&st->tcp.secret, ip->daddr, ip->saddr);
	}
	cp.wscale_ok = wscale >= 0 && st->cfg.tun.tcp_window_scaling;
	cp.snd_wscale = cp.wscale_ok ? (uint8_t)wscale : 0;
	cp.sack_ok = sack && st->cfg.tun.tcp_sack;
	tcp_initial_window(st, lt, tcp_req_advmss(st, lt, ip->saddr), cp.wscale_ok, cp.tstamp_ok,
			   &cp.rcv_wnd, &cp.rcv_wscale);
	child = tcp_create_child(st, lt, &cp, th, opts);
	if (!child) {
		TCPEXT_INC(st, LISTEN_DROPS);
		pkt_drop(st, pkt, DROP_NOMEM);
		return true;
	}
	tcp_child_process(st, lt, child, pkt, opts);
	return true;
}

/* Linux tcp_conn_request(). @isn: non-zero when a TIME_WAIT entry handed
 * this SYN over (RFC 1122 §4.2.2.13: higher than the old connection's). */
static void tcp_conn_request(struct stack *st, struct tcp_sock *lt, struct pkt *pkt,
			     const struct tcp_opts *opts, uint32_t isn)
{
	const struct stack_tunables *tun = &st->cfg.tun;
	const struct ipv4_hdr *ip = (const struct ipv4_hdr *)pkt_l3(pkt);
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_request tmp, *req = NULL;
	bool want_cookie = false;
	uint16_t advmss = tcp_req_advmss(st, lt, ip->saddr), peer_mss;

	if ((tun->tcp_syncookies == 2 || lt->lq.synq_len >= lt->lq.backlog || !st->tcp.free_reqs) &&
	    !isn) {
		if (!tun->tcp_syncookies) {
			TCPEXT_INC(st, TCP_REQQ_FULL_DROP);
			TCPEXT_INC(st, LISTEN_DROPS);
			pkt_drop(st, pkt, DROP_TCP_LISTEN_OVERFLOW);
			return;
		}
		want_cookie = true;
		TCPEXT_INC(st, TCP_REQQ_FULL_DO_COOKIES);
		lt->lq.synflood_warned = 1;
		lt->lq.last_overflow_ns = st->now;
	}
	if (tcp_acceptq_full(lt)) {
		TCPEXT_INC(st, LISTEN_OVERFLOWS);
		TCPEXT_INC(st, LISTEN_DROPS);
		pkt_drop(st, pkt, DROP_TCP_LISTEN_OVERFLOW);
		return;
	}

	memset(&tmp, 0, sizeof(tmp));
	tmp.listener = lt;
	tmp.saddr = ip->daddr;
	tmp.daddr = ip->saddr;
	tmp.sport = th->dest;
	tmp.dport = th->source;
	tmp.irs = tcp_cb(pkt)->seq;
	peer_mss = opts->saw_mss && opts->mss ? opts->mss : TCP_MSS_DEFAULT;
	if (peer_mss < TCP_MIN_MSS)
		peer_mss = TCP_MIN_MSS;
	tmp.mss = peer_mss;
	tmp.wscale_ok = tun->tcp_window_scaling && opts->saw_wscale;
	tmp.snd_wscale = opts->wscale;
	tmp.sack_ok = tun->tcp_sack && opts->sack_ok;
	tmp.tstamp_ok = tun->tcp_timestamps && opts->saw_tstamp;
	tmp.ts_recent = opts->saw_tstamp ? opts->tsval : 0;
	tmp.ts_off = tcp_ts_offset(&st->tcp.secret, tmp.saddr, tmp.daddr);
	if (want_cookie && !tmp.tstamp_ok) {
		/* Only the timestamp can carry window scale and SACK through
		 * a cookie: without it, do not offer them (Linux
		 * tcp_clear_options()); the peer would scale a window we
		 * then read unscaled, and ours too. */
		tmp.wscale_ok = 0;
		tmp.sack_ok = 0;
	}
	tcp_initial_window(st, lt, advmss, tmp.wscale_ok, tmp.tstamp_ok, &tmp.rcv_wnd,
			   &tmp.rcv_wscale);

	if (want_cookie) {
		uint16_t cmss;

		tmp.iss = syncookie_make(&st->tcp.secret, tmp.saddr, tmp.daddr, tmp.sport, tmp.dport,
					 tmp.irs, peer_mss, st->now, &cmss);
		if (tmp.tstamp_ok) {
			/* The peer's options ride in our TSval (Linux
			 * cookie_init_timestamp); without timestamps the
			 * connection will have no window scale and no SACK. */
			uint32_t tsval = syncookie_ts_encode(tcp_ts_now(st) + tmp.ts_off,
							     tmp.wscale_ok ? tmp.snd_wscale : -1,
							     tmp.sack_ok);

			tmp.ts_off = tsval - tcp_ts_now(st);
		}
		TCPEXT_INC(st, SYNCOOKIES_SENT);
		tcp_send_synack(st, &tmp, advmss);
		pkt_consume(st, pkt);
		return;
	}

	req = st->tcp.free_reqs;
	st->tcp.free_reqs = req->hash_next;
	st->tcp.nfree_reqs--;
	*req = tmp;
	req->iss = isn ? isn : tcp_isn(&st->tcp.secret, req->saddr, req->daddr, req->sport,
					 req->dport, st->now);
	req->synack_ns = st->now;
	wheel_timer_init(&req->timer, tcp_req_timer_fn);
	{
		struct tcp_request **head = tcp_rhash_head(st, req->saddr, req->sport, req->daddr,
							   req->dport);

		req->hash_next = *head;
		if (*head)
			(*head)->hash_pprev = &req->hash_next;
		*head = req;
		req->hash_pprev = head;
	}
	lt->lq.synq_len++;
	wheel_arm(&st->wheel, &req->timer, st->now + (uint64_t)TCP_TIMEOUT_INIT_US * 1000);
	tcp_send_synack(st, req, advmss);
	pkt_consume(st, pkt);
}

void tcp_listen_rcv_isn(struct stack *st, struct tcp_sock *lt, struct pkt *pkt,
			const struct tcp_opts *opts, uint32_t isn)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);

	/* RFC 9293 §3.10.7.2, LISTEN. */
	if (th->flags & TH_RST) {
		pkt_drop(st, pkt, DROP_TCP_RESET);
		return;
	}
	if (th->flags & TH_ACK) {
		if (!(th->flags & TH_SYN) && tcp_cookie_ack(st, lt, pkt, opts))
			return;
		tcp_send_reset_pkt(st, pkt);
		pkt_drop(st, pkt, (th->flags & TH_SYN) ? DROP_TCP_FLAGS : DROP_TCP_COOKIE_INVALID);
		return;
	}
	/* Linux drops SYN+FIN here; a connection gets a challenge ACK for
	 * it in tcp_validate_incoming() like any other SYN. */
	if (!(th->flags & TH_SYN) || (th->flags & TH_FIN)) {
		pkt_drop(st, pkt, DROP_TCP_FLAGS);
		return;
	}
	tcp_conn_request(st, lt, pkt, opts, isn);
}

void tcp_listen_rcv(struct stack *st, struct tcp_sock *lt, struct pkt *pkt,
		    const struct tcp_opts *opts)
{
	tcp_listen_rcv_isn(st, lt, pkt, opts, 0);
}

/* Linux tcp_check_req(): a segment for a request sock (SYN_RECV). */
void tcp_request_rcv(struct stack *st, struct tcp_request *req, struct pkt *pkt,
		     const struct tcp_opts *opts)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)pkt_l4(pkt);
	struct tcp_skb_cb *cb = tcp_cb(pkt);
	struct tcp_sock *lt = req->listener;
	struct tcp_child_params cp;
	struct tcp_sock *child;
	uint8_t flg = th->flags;
	bool paws_reject = false;

	if (opts->saw_tstamp && req->tstamp_ok && req->ts_recent &&
	    (int32_t)(req->ts_recent - opts->tsval) > (int32_t)TCP_PAWS_WINDOW)
		paws_reject = true;

	/* A retransmitted SYN: the SYN-ACK was lost. */
	if (cb->seq == req->irs && (flg & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN && !paws_reject) {
		tcp_send_synack(st, req, tcp_req_advmss(st, lt, req->daddr));
		pkt_consume(st, pkt);
		return;
	}
	/* RFC 9293 §3.10.7.4, SYN-RECEIVED: an unacceptable ACK gets a RST. */
	if ((flg & TH_ACK) && ntohl(th->ack_seq) != req->iss + 1) {
		tcp_send_reset_pkt(st, pkt);
		pkt_drop(st, pkt, DROP_TCP_INVALID_ACK_SEQUENCE);
		return;
	}
	if (paws_reject || tcp_before(cb->end_seq, req->irs + 1) ||
	    tcp_after(cb->seq, req->irs + 1 + req->rcv_wnd)) {
		if (!(flg & TH_RST))
			tcp_send_ack_raw(st, req->saddr, req->sport, req->daddr, req->dport,
					 req->iss + 1, req->irs + 1, req->rcv_wnd >> req->rcv_wscale,
					 TH_ACK, NULL);
		if (paws_reject)
			TCPEXT_INC(st, PAWS_ESTAB);
		pkt_drop(st, pkt, paws_reject ? DROP_TCP_RFC7323_PAWS : DROP_TCP_INVALID_SEQUENCE);
		return;
	}
	if (opts->saw_tstamp && !tcp_after(cb->seq, req->irs + 1))
		req->ts_recent = opts->tsval;
	if (cb->seq == req->irs)
		flg &= (uint8_t)~TH_SYN;
	if (flg & (TH_RST | TH_SYN)) {
		TCP_INC(st, ATTEMPT_FAILS);
		if (!(flg & TH_RST))
			tcp_send_reset_pkt(st, pkt);
		TCPEXT_INC(st, EMBRYONIC_RSTS);
		tcp_req_free(st, req);
		pkt_drop(st, pkt, DROP_TCP_RESET);
		return;
	}
	if (!(flg & TH_ACK)) {
		pkt_drop(st, pkt, DROP_TCP_FLAGS);
		return;
	}
	if (tcp_acceptq_full(lt)) {
		/* Linux: keep the request; the peer will retransmit its ACK
		 * (or data) and may find room then. */
		TCPEXT_INC(st, LISTEN_OVERFLOWS);
		TCPEXT_INC(st, LISTEN_DROPS);
		if (st->cfg.tun.tcp_abort_on_overflow) {
			/* Linux tcp_check_req(): embryonic_reset */
			tcp_send_reset_pkt(st, pkt);
			tcp_req_free(st, req);
			TCPEXT_INC(st, EMBRYONIC_RSTS);
		}
		pkt_drop(st, pkt, DROP_TCP_LISTEN_OVERFLOW);
		return;
	}
	memset(&cp, 0, sizeof(cp));
	cp.saddr = req->saddr;
	cp.daddr = req->daddr;
	cp.sport = req->sport;
	cp.dport = req->dport;
	cp.iss = req->iss;
	cp.irs = req->irs;
	cp.mss = req->mss;
	cp.wscale_ok = req->wscale_ok;
	cp.snd_wscale = req->snd_wscale;
	cp.rcv_wscale = req->rcv_wscale;
	cp.sack_ok = req->sack_ok;
	cp.tstamp_ok = req->tstamp_ok;
	cp.ts_recent = req->ts_recent;
	cp.ts_off = req->ts_off;
	cp.rcv_wnd = req->rcv_wnd;
	cp.synack_ns = req->retrans ? 0 : req->synack_ns;	/* Karn: no sample after a resend */
	tcp_req_free(st, req);
	child = tcp_create_child(st, lt, &cp, th, opts);
	if (!child) {
		TCPEXT_INC(st, LISTEN_DROPS);
		pkt_drop(st, pkt, DROP_NOMEM);
		return;
	}
	tcp_child_process(st, lt, child, pkt, opts);
}

void tcp_listen_stop(struct stack *st, struct tcp_sock *lt)
{
	struct tcp_sock *child;

	for (uint32_t i = 0; i < st->tcp.nreqs; i++)
		if (st->tcp.reqs[i].listener == lt)
			tcp_req_free(st, &st->tcp.reqs[i]);
	/* Connections nobody accepted are reset (Linux inet_csk_listen_stop). */
	while ((child = lt->lq.acceptq_head)) {
		tcp_acceptq_unlink(st, child);
		child->sk.orphan = 1;
		tcp_abort(st, child, ECONNRESET);
	}
	lt->lq.synq_len = 0;
}
