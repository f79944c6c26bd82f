/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the TCP data-path tests (test_tcp_input.c, test_tcp_output.c,
 * test_tcp_timer.c, test_tcp_recovery.c), on top of harness_tcp.h:
 *
 *  - a passive handshake whose final ACK arrives a chosen time after the
 *    SYN-ACK, so that the connection starts with a real RTT sample (Linux
 *    tcp_synack_rtt_meas) instead of the zero the instantaneous handshake
 *    of h_establish() gives; RTO, RACK and TLP tests need one;
 *  - socket options and TCP_INFO as the owner would see them;
 *  - application data with a recognisable pattern, and the peer's bulk
 *    data and ACKs in a line each.
 *
 * Sequence numbers are relative, as everywhere in the harness. A "segment
 * index" i stands for [1 + i * mss, 1 + (i + 1) * mss).
 */
#ifndef USNET_TESTS_PROTO_HARNESS_TCP_DATA_H
#define USNET_TESTS_PROTO_HARNESS_TCP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness_tcp.h"
#include "proto/wheel.h"

/* Timers run at most one wheel tick after they are due (proto/wheel.h):
 * a test advances to just before a deadline, then by this much. */
#define HD_TICK (1ull << WHEEL_TICK_SHIFT)

/**
 * hd_establish_rtt() - h_establish() for a passive connection whose third
 * handshake segment reaches usnet @rtt_ns after its SYN-ACK: srtt starts
 * at @rtt_ns. The clock has moved by @rtt_ns when it returns.
 */
struct h_conn hd_establish_rtt_at(struct harness *h, unsigned int flags, uint64_t rtt_ns,
				  const char *file, int line);
#define hd_establish_rtt(h, flags, rtt) hd_establish_rtt_at((h), (flags), (rtt), __FILE__, __LINE__)

/**
 * hd_wait_frame() - advance the clock, timer deadline by timer deadline,
 * until usnet has a frame to send or @max_ns have passed
 * Return: the time that took (the clock stops there), or UINT64_MAX if no
 * frame came within @max_ns (the clock has then moved by @max_ns).
 */
uint64_t hd_wait_frame(struct harness *h, uint64_t max_ns);

/** hd_setopt() - tcp_setopt() at the harness clock; fails the test unless it returns 0 */
void hd_setopt(struct harness *h, struct h_conn *c, enum tcp_opt opt, int value);

/** hd_info() - TCP_INFO for @c at the harness clock */
struct tcp_info_lite hd_info(struct harness *h, const struct h_conn *c);

/** hd_pattern() - fill @buf with @len bytes of the application pattern from offset @off */
void hd_pattern(uint8_t *buf, size_t len, size_t off);

/**
 * hd_write() - the application writes @len bytes of hd_pattern() starting
 * at stream offset @off (= relative sequence number - 1)
 */
void hd_write(struct harness *h, struct h_conn *c, size_t off, size_t len);

/**
 * hd_expect_data() - the next frame is usnet's data segment [seq, seq +
 * len) carrying hd_pattern() bytes, with flags @flags (H_ANY: ACK with or
 * without PSH) and ACK @ack; its window and options are not compared
 */
void hd_expect_data_at(struct harness *h, struct h_conn *c, int flags, uint32_t seq, uint32_t len,
		       uint32_t ack, struct h_frame *out, const char *file, int line);
#define hd_expect_data(h, c, flags, seq, len, ack) \
	hd_expect_data_at((h), (c), (flags), (seq), (len), (ack), NULL, __FILE__, __LINE__)

/**
 * hd_expect_acks() - pop every frame usnet sent and check that each is a
 * pure ACK; Return: how many there were, and the last one's ack field
 * (relative) in *@last_ack if it is not NULL
 */
unsigned int hd_expect_acks_at(struct harness *h, struct h_conn *c, uint32_t *last_ack,
			       const char *file, int line);
#define hd_expect_acks(h, c, last) hd_expect_acks_at((h), (c), (last), __FILE__, __LINE__)

/**
 * hd_pop_tcp() - pop the next frame and parse it as @c's segment: seq and
 * ack made relative; false if nothing was sent
 */
bool hd_pop_tcp_at(struct harness *h, struct h_conn *c, struct h_tcp_info *t, const char *file,
		   int line);
#define hd_pop_tcp(h, c, t) hd_pop_tcp_at((h), (c), (t), __FILE__, __LINE__)

#endif
