/* SPDX-License-Identifier: MIT */
/*
 * Built-in TCP services on usnet's own addresses: echo (RFC 862), discard
 * (RFC 863) and chargen (RFC 864). They stand in for applications until
 * the shim exists, and stay as diagnostics: a kernel peer can drive TCP
 * through usnetd with nothing but nc or iperf-like tools.
 */
#ifndef USNET_DAEMON_SERVICE_H
#define USNET_DAEMON_SERVICE_H

#include <stdint.h>

struct stack;
struct sock;

enum service_kind {
	SERVICE_ECHO = 1,
	SERVICE_DISCARD,
	SERVICE_CHARGEN,
};

#define SERVICE_MAX 8

struct service_spec {
	enum service_kind kind;
	uint16_t port;		/* host order */
};

/**
 * service_parse() - "echo:7,discard:9,chargen:19" (a name alone takes its
 * well-known port) into @out.
 * Return: the number parsed, or -1 with a reason in @why.
 */
int service_parse(const char *s, struct service_spec *out, unsigned int max, char *why,
		  unsigned int whylen);

const char *service_name(enum service_kind kind);

struct service_set;

/**
 * service_start() - open a listener per spec on @st.
 * Return: the set, or NULL with the reason logged.
 */
struct service_set *service_start(struct stack *st, const struct service_spec *specs,
				  unsigned int n);

/** service_event() - handle events @ev of @sk, a socket a service owns */
void service_event(struct service_set *set, struct stack *st, struct sock *sk, uint32_t ev);

/** service_stop() - close every listener and connection (at shutdown) */
void service_stop(struct service_set *set, struct stack *st);

#endif
