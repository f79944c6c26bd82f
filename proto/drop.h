/* SPDX-License-Identifier: MIT */
/*
 * Drop reasons: every way a frame can die, from one X-macro list (Linux
 * include/net/dropreason-core.h). Names keep the kernel's
 * SKB_DROP_REASON_* suffix where the kernel has the same reason; the others
 * are finer splits of a kernel reason, noted in the comment and in
 * usnet(8).
 */
#ifndef USNET_PROTO_DROP_H
#define USNET_PROTO_DROP_H

#include <stdint.h>

struct stack;
struct pkt;

#define DROP_REASONS(X)                                                                        \
	X(NOT_SPECIFIED, "reason not specified")                                               \
	X(NOMEM, "packet pool exhausted")                                                      \
	X(PKT_TOO_SMALL, "frame shorter than its link or ARP header")                          \
	X(PKT_TOO_BIG, "datagram larger than the link MTU and may not be fragmented")          \
	X(OTHERHOST, "Ethernet destination is neither ours nor broadcast")                     \
	X(UNHANDLED_PROTO, "ethertype not handled")                                            \
	X(VNET_HDR_INVALID, "virtio-net header invalid or asks for an offload not negotiated") \
	X(ARP_INVALID, "ARP header is not Ethernet/IPv4 or has an unknown opcode")             \
	X(ARP_INVALID_SENDER, "ARP sender address is multicast, broadcast or ours")            \
	X(ARP_NOT_FOR_US,                                                                      \
	  "ARP for a target that is not local (a known sender is still refreshed)")            \
	X(IP_INHDR, "IPv4 header length or options invalid (kernel: IP_INHDR)")                \
	X(IP_VERSION, "IP version field is not 4 (kernel: IP_INHDR)")                          \
	X(IP_CSUM, "IPv4 header checksum error")                                               \
	X(IP_TRUNCATED, "IPv4 total length past the end of the frame (kernel: PKT_TOO_SMALL)") \
	X(IP_TTL_ZERO, "IPv4 datagram arrived with TTL 0")                                     \
	X(IP_INVALID_SOURCE, "IPv4 source is multicast, broadcast, loopback or zero")          \
	X(IP_INADDRERRORS, "IPv4 destination is not a local address")                          \
	X(UNICAST_IN_L2_MULTICAST, "IPv4 unicast datagram in a broadcast or multicast frame")  \
	X(IP_FRAG_UNSUPPORTED, "IPv4 fragment (reassembly not implemented yet)")               \
	X(IP_NOPROTO, "IPv4 protocol not handled")                                             \
	X(IP_OUTNOROUTES, "no route to the destination")                                       \
	X(ICMP_CSUM, "ICMP checksum error")                                                    \
	X(ICMP_INVALID, "ICMP message shorter than its header or of an unknown type")          \
	X(ICMP_BROADCAST,                                                                      \
	  "ICMP echo to a broadcast address ignored (icmp_echo_ignore_broadcasts)")            \
	X(ICMP_ECHO_IGNORED, "ICMP echo ignored (icmp_echo_ignore_all)")                       \
	X(NO_SOCKET, "no socket for the datagram")                                             \
	X(NEIGH_FAILED, "neighbour resolution failed")                                         \
	X(NEIGH_QUEUEFULL, "neighbour pending queue full")                                     \
	X(NEIGH_TABLEFULL, "neighbour table full")                                             \
	X(LINK_TX_ERROR, "link refused the frame on transmit")                                     \
	X(TCP_CSUM, "TCP checksum error")                                                          \
	X(TCP_HDR, "TCP header shorter than 20 bytes or data offset invalid")                      \
	X(TCP_NOT_UNICAST, "TCP segment to a broadcast address")                                   \
	X(TCP_FLAGS, "TCP flags invalid for the state (SYN+FIN, no ACK, ...)")                     \
	X(TCP_RFC7323_PAWS, "TCP timestamp older than TS.Recent (PAWS)")                           \
	X(TCP_INVALID_SEQUENCE, "TCP segment outside the receive window")                          \
	X(TCP_OLD_SEQUENCE, "TCP segment entirely before the receive window")                      \
	X(TCP_OLD_DATA, "TCP data already received")                                               \
	X(TCP_ZEROWINDOW, "TCP data while our window is zero")                                     \
	X(TCP_OVERWINDOW, "TCP data beyond the receive window")                                    \
	X(TCP_OFO_DROP, "TCP out-of-order data with no room")                                      \
	X(TCP_RESET, "TCP RST accepted")                                                           \
	X(TCP_INVALID_SYN, "TCP SYN in a synchronized state")                                      \
	X(TCP_CLOSE, "TCP segment for a closed socket")                                            \
	X(TCP_TOO_OLD_ACK, "TCP ACK older than the send window")                                   \
	X(TCP_ACK_UNSENT_DATA, "TCP ACK for data not yet sent")                                    \
	X(TCP_INVALID_ACK_SEQUENCE, "TCP ACK not acceptable in SYN-SENT or SYN-RECEIVED")          \
	X(TCP_LISTEN_OVERFLOW, "TCP connection refused: accept queue or SYN queue full")           \
	X(TCP_COOKIE_INVALID, "TCP ACK to a listener carries no valid SYN cookie")                 \
	X(TCP_ABORT_ON_DATA, "TCP data after the owner closed")                                    \
	X(TCP_TIMEWAIT, "TCP segment absorbed by TIME-WAIT")

enum drop_reason {
#define DROP_ENUM(name, desc) DROP_##name,
	DROP_REASONS(DROP_ENUM)
#undef DROP_ENUM
		DROP__MAX
};

/** drop_reason_name() - "IP_CSUM" for DROP_IP_CSUM; NULL if out of range */
const char *drop_reason_name(enum drop_reason r);

/** drop_reason_desc() - one-line description */
const char *drop_reason_desc(enum drop_reason r);

/**
 * pkt_drop() - free @pkt and count it under @reason. Consumes @pkt.
 */
void pkt_drop(struct stack *st, struct pkt *pkt, enum drop_reason reason);

/**
 * pkt_consume() - free @pkt that was processed successfully (Linux
 * consume_skb): not a drop, nothing counted. Consumes @pkt.
 */
void pkt_consume(struct stack *st, struct pkt *pkt);

#endif
