// SPDX-License-Identifier: MIT
/* MIB counter name tables, generated from the X-macros in mib.h. */
#include <stddef.h>

#include "mib.h"
#include "tcp.h"

_Static_assert(TCP_MIB__MAX <= MIB_TCP_MAX, "struct mib.tcp too small");
_Static_assert(TCPEXT_MIB__MAX <= MIB_TCPEXT_MAX, "struct mib.tcpext too small");

static const char *const ip_names[] = {
#define X(id, name) [IP_MIB_##id] = name,
	IP_MIB(X)
#undef X
};

static const char *const icmp_names[] = {
#define X(id, name) [ICMP_MIB_##id] = name,
	ICMP_MIB(X)
#undef X
};

static const char *const tcp_names[] = {
#define X(id, name) [TCP_MIB_##id] = name,
	TCP_MIB(X)
#undef X
};

static const char *const tcpext_names[] = {
#define X(id, name) [TCPEXT_##id] = name,
	TCPEXT_MIB(X)
#undef X
};

static const char *const arp_names[] = {
#define X(id, name) [ARP_MIB_##id] = name,
	ARP_MIB(X)
#undef X
};

static const struct {
	const char *name;
	const char *const *names;
	unsigned int n;
} groups[MIB__GROUPS] = {
	[MIB_IP] = { "Ip", ip_names, IP_MIB__MAX },
	[MIB_ICMP] = { "Icmp", icmp_names, ICMP_MIB__MAX },
	[MIB_TCP] = { "Tcp", tcp_names, TCP_MIB__MAX },
	[MIB_TCPEXT] = { "TcpExt", tcpext_names, TCPEXT_MIB__MAX },
	[MIB_ARP] = { "Arp", arp_names, ARP_MIB__MAX },
};

const char *mib_group_name(enum mib_group g)
{
	return (unsigned int)g < MIB__GROUPS ? groups[g].name : NULL;
}

unsigned int mib_group_size(enum mib_group g)
{
	return (unsigned int)g < MIB__GROUPS ? groups[g].n : 0;
}

const char *mib_counter_name(enum mib_group g, unsigned int i)
{
	if ((unsigned int)g >= MIB__GROUPS || i >= groups[g].n)
		return NULL;
	return groups[g].names[i];
}

uint64_t mib_counter(const struct mib *m, enum mib_group g, unsigned int i)
{
	switch (g) {
	case MIB_IP:
		return i < IP_MIB__MAX ? m->ip[i] : 0;
	case MIB_ICMP:
		return i < ICMP_MIB__MAX ? m->icmp[i] : 0;
	case MIB_TCP:
		return i < TCP_MIB__MAX ? m->tcp[i] : 0;
	case MIB_TCPEXT:
		return i < TCPEXT_MIB__MAX ? m->tcpext[i] : 0;
	case MIB_ARP:
		return i < ARP_MIB__MAX ? m->arp[i] : 0;
	default:
		return 0;
	}
}
