/* SPDX-License-Identifier: MIT */
/*
 * MIB counters with the names nstat prints (Linux /proc/net/snmp and
 * /proc/net/stat/arp_cache), one X-macro per group. Counters are plain
 * uint64_t arrays in struct stack (one per worker); the admin server sums
 * them across workers.
 */
#ifndef USNET_PROTO_MIB_H
#define USNET_PROTO_MIB_H

#include <stdint.h>

/* RFC 4293 ipSystemStats, as Linux names them in /proc/net/snmp "Ip:". */
#define IP_MIB(X)                               \
	X(IN_RECEIVES, "InReceives")            \
	X(IN_HDR_ERRORS, "InHdrErrors")         \
	X(IN_ADDR_ERRORS, "InAddrErrors")       \
	X(IN_UNKNOWN_PROTOS, "InUnknownProtos") \
	X(IN_DELIVERS, "InDelivers")            \
	X(OUT_REQUESTS, "OutRequests")          \
	X(OUT_DISCARDS, "OutDiscards")          \
	X(OUT_NO_ROUTES, "OutNoRoutes")         \
	X(REASM_REQDS, "ReasmReqds")            \
	X(REASM_FAILS, "ReasmFails")            \
	X(IN_TRUNCATED_PKTS, "InTruncatedPkts") \
	X(IN_CSUM_ERRORS, "InCsumErrors")       \
	X(IN_BCAST_PKTS, "InBcastPkts")         \
	X(OUT_BCAST_PKTS, "OutBcastPkts")       \
	X(IN_OCTETS, "InOctets")                \
	X(OUT_OCTETS, "OutOctets")

/* RFC 2011 icmp group, Linux "Icmp:". */
#define ICMP_MIB(X)                                    \
	X(IN_MSGS, "InMsgs")                           \
	X(IN_ERRORS, "InErrors")                       \
	X(IN_CSUM_ERRORS, "InCsumErrors")              \
	X(IN_DEST_UNREACHS, "InDestUnreachs")          \
	X(IN_TIME_EXCDS, "InTimeExcds")                \
	X(IN_PARM_PROBS, "InParmProbs")                \
	X(IN_SRC_QUENCHS, "InSrcQuenchs")              \
	X(IN_REDIRECTS, "InRedirects")                 \
	X(IN_ECHOS, "InEchos")                         \
	X(IN_ECHO_REPS, "InEchoReps")                  \
	X(IN_TIMESTAMPS, "InTimestamps")               \
	X(IN_ADDR_MASKS, "InAddrMasks")                \
	X(OUT_MSGS, "OutMsgs")                         \
	X(OUT_ERRORS, "OutErrors")                     \
	X(OUT_RATE_LIMIT_GLOBAL, "OutRateLimitGlobal") \
	X(OUT_RATE_LIMIT_HOST, "OutRateLimitHost")     \
	X(OUT_DEST_UNREACHS, "OutDestUnreachs")        \
	X(OUT_ECHO_REPS, "OutEchoReps")

/* The fields of Linux's /proc/net/stat/arp_cache (in nstat's CamelCase:
 * res_failed is ResFailed), plus the requests and replies that arp(7)
 * users ask about. */
#define ARP_MIB(X)                                   \
	X(ALLOCS, "Allocs")                          \
	X(DESTROYS, "Destroys")                      \
	X(LOOKUPS, "Lookups")                        \
	X(HITS, "Hits")                              \
	X(RES_FAILED, "ResFailed")                   \
	X(RCV_PROBES_MCAST, "RcvProbesMcast")        \
	X(RCV_PROBES_UCAST, "RcvProbesUcast")        \
	X(PERIODIC_GC_RUNS, "PeriodicGcRuns")        \
	X(FORCED_GC_RUNS, "ForcedGcRuns")            \
	X(UNRESOLVED_DISCARDS, "UnresolvedDiscards") \
	X(TABLE_FULLS, "TableFulls")                 \
	X(IN_REQUESTS, "InRequests")                 \
	X(IN_REPLIES, "InReplies")                   \
	X(OUT_REQUESTS, "OutRequests")               \
	X(OUT_REPLIES, "OutReplies")                 \
	X(OUT_GRATUITOUS, "OutGratuitous")

enum ip_mib {
#define X(id, name) IP_MIB_##id,
	IP_MIB(X)
#undef X
		IP_MIB__MAX
};

enum icmp_mib {
#define X(id, name) ICMP_MIB_##id,
	ICMP_MIB(X)
#undef X
		ICMP_MIB__MAX
};

enum arp_mib {
#define X(id, name) ARP_MIB_##id,
	ARP_MIB(X)
#undef X
		ARP_MIB__MAX
};

enum mib_group { MIB_IP, MIB_ICMP, MIB_TCP, MIB_TCPEXT, MIB_ARP, MIB__GROUPS };

/* Room for the TCP groups, whose X-macros live in tcp.h (checked there). */
#define MIB_TCP_MAX 16
#define MIB_TCPEXT_MAX 96

struct mib {
	uint64_t ip[IP_MIB__MAX];
	uint64_t icmp[ICMP_MIB__MAX];
	uint64_t tcp[MIB_TCP_MAX];
	uint64_t tcpext[MIB_TCPEXT_MAX];
	uint64_t arp[ARP_MIB__MAX];
	uint64_t drop[64]; /* indexed by enum drop_reason */
};

/** mib_group_name() - "Ip", "Icmp", "Tcp", "TcpExt", "Arp" */
const char *mib_group_name(enum mib_group g);

/** mib_group_size() - number of counters in group @g */
unsigned int mib_group_size(enum mib_group g);

/** mib_counter_name() - nstat name of counter @i of group @g; NULL if out of range */
const char *mib_counter_name(enum mib_group g, unsigned int i);

/** mib_counter() - value of counter @i of group @g in @m */
uint64_t mib_counter(const struct mib *m, enum mib_group g, unsigned int i);

#define IP_INC(st, id) ((st)->mib.ip[IP_MIB_##id]++)
#define IP_ADD(st, id, n) ((st)->mib.ip[IP_MIB_##id] += (n))
#define ICMP_INC(st, id) ((st)->mib.icmp[ICMP_MIB_##id]++)
#define ARP_INC(st, id) ((st)->mib.arp[ARP_MIB_##id]++)

#endif
