// SPDX-License-Identifier: MIT
/*
 * Built-in services, each a TCP listener on the stack and, per accepted
 * connection, a struct sk_stream_ops that is the "application":
 *   echo (RFC 862)     one ring buffer is both the receive and the send
 *                      stream: what arrives is what leaves, and the window
 *                      closes while the peer does not read its echo;
 *   discard (RFC 863)  the receive stream takes everything and keeps
 *                      nothing, so the window is always the whole buffer;
 *   chargen (RFC 864)  the send stream generates the RFC's rotating
 *                      72-character lines on demand, with no copy into a
 *                      buffer; received data is thrown away.
 * Each connection ends when the peer closes its side: echo once its ring
 * has drained into TCP, the others at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/stack.h"
#include "owner.h"
#include "service.h"

#define ECHO_RING (64u * 1024)
#define ECHO_SLACK (1u << 14)
#define CHARGEN_LINE 72
#define CHARGEN_CHARS 95	/* printable ASCII, ' ' to '~' */
#define CHARGEN_PERIOD (CHARGEN_CHARS * (CHARGEN_LINE + 2))
#define CHARGEN_WRITE_AHEAD (256u * 1024)	/* what the "application" has written */

/* sock.owner of the services' sockets */
#define svc_obj owner

struct svc_listener {
	struct svc_obj hdr;
	enum service_kind kind;
	uint16_t port;
	struct tcp_sock *tp;
};

struct svc_conn {
	struct svc_obj hdr;
	enum service_kind kind;
	struct service_set *set;
	struct tcp_sock *tp;
	struct svc_conn *next;
	struct svc_conn **pprev;
	uint8_t *ring;		/* echo */
	size_t head, len;
	uint64_t off;		/* chargen position in the pattern */
};

struct service_set {
	struct svc_listener listeners[SERVICE_MAX];
	unsigned int n;
	struct svc_conn *conns;
	uint8_t pattern[CHARGEN_PERIOD];
};

static const struct {
	const char *name;
	enum service_kind kind;
	uint16_t port;
} service_table[] = {
	{ "echo", SERVICE_ECHO, 7 },
	{ "discard", SERVICE_DISCARD, 9 },
	{ "chargen", SERVICE_CHARGEN, 19 },
};

const char *service_name(enum service_kind kind)
{
	for (size_t i = 0; i < sizeof(service_table) / sizeof(service_table[0]); i++)
		if (service_table[i].kind == kind)
			return service_table[i].name;
	return "?";
}

int service_parse(const char *s, struct service_spec *out, unsigned int max, char *why,
		  unsigned int whylen)
{
	char buf[256], *save = NULL, *tok;
	unsigned int n = 0;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		size_t i;

		if (colon)
			*colon = '\0';
		for (i = 0; i < sizeof(service_table) / sizeof(service_table[0]); i++)
			if (!strcmp(tok, service_table[i].name))
				break;
		if (i == sizeof(service_table) / sizeof(service_table[0])) {
			snprintf(why, whylen, "unknown service '%s' (echo, discard or chargen)", tok);
			return -1;
		}
		if (n == max) {
			snprintf(why, whylen, "more than %u services", max);
			return -1;
		}
		out[n].kind = service_table[i].kind;
		out[n].port = service_table[i].port;
		if (colon) {
			char *end;
			long port = strtol(colon + 1, &end, 10);

			if (end == colon + 1 || *end || port < 1 || port > 65535) {
				snprintf(why, whylen, "bad port '%s' for %s", colon + 1, tok);
				return -1;
			}
			out[n].port = (uint16_t)port;
		}
		for (unsigned int k = 0; k < n; k++)
			if (out[k].port == out[n].port) {
				snprintf(why, whylen, "port %u given twice", out[n].port);
				return -1;
			}
		n++;
	}
	if (!n) {
		snprintf(why, whylen, "no service named");
		return -1;
	}
	return (int)n;
}

/* --- echo: one ring for both directions ------------------------------------------ */

static size_t echo_tx_avail(void *ctx)
{
	return ((struct svc_conn *)ctx)->len;
}

static size_t echo_tx_peek(void *ctx, void *buf, size_t len)
{
	struct svc_conn *c = ctx;
	size_t first;

	if (len > c->len)
		len = c->len;
	first = ECHO_RING - c->head < len ? ECHO_RING - c->head : len;
	memcpy(buf, c->ring + c->head, first);
	memcpy((uint8_t *)buf + first, c->ring, len - first);
	return len;
}

static void echo_tx_consume(void *ctx, size_t len)
{
	struct svc_conn *c = ctx;

	c->head = (c->head + len) % ECHO_RING;
	c->len -= len;
}

static size_t echo_rx_append(void *ctx, const void *buf, size_t len)
{
	struct svc_conn *c = ctx;
	size_t tail = (c->head + c->len) % ECHO_RING, first;

	if (len > ECHO_RING - c->len)
		len = ECHO_RING - c->len;
	first = ECHO_RING - tail < len ? ECHO_RING - tail : len;
	memcpy(c->ring + tail, buf, first);
	memcpy(c->ring, (const uint8_t *)buf + first, len - first);
	c->len += len;
	return len;
}

static size_t echo_rx_queued(void *ctx)
{
	return ((struct svc_conn *)ctx)->len;
}

static const struct sk_stream_ops echo_ops = {
	.tx_avail = echo_tx_avail,
	.tx_peek = echo_tx_peek,
	.tx_consume = echo_tx_consume,
	.rx_append = echo_rx_append,
	.rx_queued = echo_rx_queued,
};

/* --- discard and chargen ---------------------------------------------------------- */

static size_t none_tx_avail(void *ctx)
{
	return 0;
}

static size_t none_tx_peek(void *ctx, void *buf, size_t len)
{
	return 0;
}

static void none_tx_consume(void *ctx, size_t len)
{
}

static size_t sink_rx_append(void *ctx, const void *buf, size_t len)
{
	return len;
}

static size_t sink_rx_queued(void *ctx)
{
	return 0;
}

static const struct sk_stream_ops discard_ops = {
	.tx_avail = none_tx_avail,
	.tx_peek = none_tx_peek,
	.tx_consume = none_tx_consume,
	.rx_append = sink_rx_append,
	.rx_queued = sink_rx_queued,
};

static size_t chargen_tx_avail(void *ctx)
{
	return CHARGEN_WRITE_AHEAD;
}

static size_t chargen_tx_peek(void *ctx, void *buf, size_t len)
{
	struct svc_conn *c = ctx;
	size_t pos = (size_t)(c->off % CHARGEN_PERIOD), done = 0;

	while (done < len) {
		size_t n = CHARGEN_PERIOD - pos < len - done ? CHARGEN_PERIOD - pos : len - done;

		memcpy((uint8_t *)buf + done, c->set->pattern + pos, n);
		done += n;
		pos = 0;
	}
	return len;
}

static void chargen_tx_consume(void *ctx, size_t len)
{
	((struct svc_conn *)ctx)->off += len;
}

static const struct sk_stream_ops chargen_ops = {
	.tx_avail = chargen_tx_avail,
	.tx_peek = chargen_tx_peek,
	.tx_consume = chargen_tx_consume,
	.rx_append = sink_rx_append,
	.rx_queued = sink_rx_queued,
};

/* RFC 864: line i holds 72 characters starting at printable character
 * i mod 95, then CR LF. */
static void chargen_pattern(uint8_t *p)
{
	for (unsigned int line = 0; line < CHARGEN_CHARS; line++) {
		for (unsigned int i = 0; i < CHARGEN_LINE; i++)
			*p++ = (uint8_t)(' ' + (line + i) % CHARGEN_CHARS);
		*p++ = '\r';
		*p++ = '\n';
	}
}

/* --- lifecycle --------------------------------------------------------------------- */

struct service_set *service_start(struct stack *st, const struct service_spec *specs,
				  unsigned int n)
{
	struct service_set *set = calloc(1, sizeof(*set));

	if (!set) {
		log_err("services: out of memory");
		return NULL;
	}
	chargen_pattern(set->pattern);
	for (unsigned int i = 0; i < n && i < SERVICE_MAX; i++) {
		struct svc_listener *l = &set->listeners[set->n];
		struct tcp_sock *tp = tcp_open(st);
		int rc;

		if (!tp) {
			log_err("service %s: no free socket", service_name(specs[i].kind));
			goto err;
		}
		tcp_setopt(st, tp, TCP_OPT_REUSEADDR, 1);
		/* echo keeps what it received in its ring until TCP has sent it
		 * back: the window may offer no more than the ring holds, and
		 * receive autotuning must not grow it (children inherit this;
		 * SO_RCVBUF doubles its argument, as in Linux). The slack takes
		 * a window that may not shrink being rounded up to its scale
		 * unit (at most 2^14 bytes). */
		if (specs[i].kind == SERVICE_ECHO)
			tcp_setopt(st, tp, TCP_OPT_RCVBUF, (ECHO_RING - ECHO_SLACK) / 2);
		rc = tcp_bind(st, tp, 0, htons(specs[i].port));
		if (!rc)
			rc = tcp_listen(st, tp, (int)st->cfg.tun.somaxconn);
		if (rc) {
			log_err("service %s on port %u: %s", service_name(specs[i].kind), specs[i].port,
				strerror(-rc));
			tcp_close(st, tp);
			goto err;
		}
		l->hdr.kind = OWNER_SVC_LISTENER;
		tp->sk.uid = OWNER_UID_USNETD; /* its children inherit it */
		l->kind = specs[i].kind;
		l->port = specs[i].port;
		l->tp = tp;
		tp->sk.owner = l;
		set->n++;
		log_info("service %s listening on port %u", service_name(l->kind), l->port);
	}
	return set;
err:
	service_stop(set, st);
	return NULL;
}

static void conn_close(struct service_set *set, struct stack *st, struct svc_conn *c)
{
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->tp->sk.owner = NULL;
	tcp_close(st, c->tp);
	free(c->ring);
	free(c);
}

static void conn_accept(struct service_set *set, struct stack *st, struct svc_listener *l,
			struct tcp_sock *tp)
{
	struct svc_conn *c = calloc(1, sizeof(*c));
	const struct sk_stream_ops *ops;

	if (c && l->kind == SERVICE_ECHO) {
		c->ring = malloc(ECHO_RING);
		if (!c->ring) {
			free(c);
			c = NULL;
		}
	}
	if (!c) {
		log_ratelimited(LOG_LVL_WARN, "service %s: out of memory; connection reset",
				service_name(l->kind));
		tcp_abort(st, tp, ENOMEM);
		tcp_close(st, tp);
		return;
	}
	c->hdr.kind = OWNER_SVC_CONN;
	c->kind = l->kind;
	c->set = set;
	c->tp = tp;
	c->next = set->conns;
	if (set->conns)
		set->conns->pprev = &c->next;
	set->conns = c;
	c->pprev = &set->conns;
	tp->sk.owner = c;
	switch (l->kind) {
	case SERVICE_ECHO:
		/* Its receive buffer came from the listener (service_start). */
		ops = &echo_ops;
		break;
	case SERVICE_CHARGEN:
		ops = &chargen_ops;
		break;
	default:
		ops = &discard_ops;
		break;
	}
	tcp_attach(st, tp, ops, c);
	tcp_push(st, tp);
}

static void conn_event(struct service_set *set, struct stack *st, struct svc_conn *c, uint32_t ev)
{
	struct tcp_sock *tp = c->tp;

	if ((ev & SK_EV_ERROR) || tp->state == TCP_CLOSE) {
		conn_close(set, st, c);
		return;
	}
	if (ev & (SK_EV_READABLE | SK_EV_WRITABLE)) {
		tcp_push(st, tp);
		tcp_recved(st, tp);
	}
	/* The peer has closed its side (FIN received). */
	if (tp->shutdown & RCV_SHUTDOWN) {
		if (c->kind == SERVICE_ECHO && c->len)
			return;	/* close once the echo has drained into TCP */
		conn_close(set, st, c);
	}
}

void service_event(struct service_set *set, struct stack *st, struct sock *sk, uint32_t ev)
{
	struct svc_obj *obj = sk->owner;

	if (!obj || !set)
		return;
	if (obj->kind == OWNER_SVC_LISTENER) {
		struct svc_listener *l = (struct svc_listener *)obj;
		struct tcp_sock *child;

		while ((child = tcp_accept(st, l->tp)))
			conn_accept(set, st, l, child);
	} else {
		conn_event(set, st, (struct svc_conn *)obj, ev);
	}
}

void service_stop(struct service_set *set, struct stack *st)
{
	if (!set)
		return;
	while (set->conns)
		conn_close(set, st, set->conns);
	for (unsigned int i = 0; i < set->n; i++) {
		set->listeners[i].tp->sk.owner = NULL;
		tcp_close(st, set->listeners[i].tp);
	}
	free(set);
}
