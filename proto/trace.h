/* SPDX-License-Identifier: MIT */
/*
 * Optional trace callback (ngtcp2 log_printf style). st->trace may be NULL;
 * TRACE() tests it and the category mask before anything is formatted, so a
 * disabled trace costs one branch.
 */
#ifndef USNET_PROTO_TRACE_H
#define USNET_PROTO_TRACE_H

enum trace_cat {
	TR_PKT = 1u << 0,
	TR_NEIGH = 1u << 1,
	TR_IP = 1u << 2,
	TR_ICMP = 1u << 3,
	TR_TIMER = 1u << 4,
	TR_TCP = 1u << 5,
};

typedef void (*trace_fn)(void *arg, unsigned int cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TRACE(st, cat, ...)                                               \
	do {                                                              \
		if ((st)->trace && ((st)->trace_mask & (cat)))            \
			(st)->trace((st)->trace_arg, (cat), __VA_ARGS__); \
	} while (0)

#endif
