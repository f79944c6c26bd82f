// SPDX-License-Identifier: MIT
/* Drop reason names and the one function through which frames die. */
#include "drop.h"
#include "pkt.h"
#include "stack.h"

_Static_assert(DROP__MAX <= sizeof(((struct mib *)0)->drop) / sizeof(uint64_t),
	       "struct mib.drop too small for DROP_REASONS");

static const char *const drop_names[DROP__MAX] = {
#define DROP_NAME(name, desc) [DROP_##name] = #name,
	DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};

static const char *const drop_descs[DROP__MAX] = {
#define DROP_DESC(name, desc) [DROP_##name] = desc,
	DROP_REASONS(DROP_DESC)
#undef DROP_DESC
};

const char *drop_reason_name(enum drop_reason r)
{
	return (unsigned int)r < DROP__MAX ? drop_names[r] : NULL;
}

const char *drop_reason_desc(enum drop_reason r)
{
	return (unsigned int)r < DROP__MAX ? drop_descs[r] : NULL;
}

void pkt_drop(struct stack *st, struct pkt *pkt, enum drop_reason reason)
{
	if ((unsigned int)reason >= DROP__MAX)
		reason = DROP_NOT_SPECIFIED;
	st->mib.drop[reason]++;
	TRACE(st, TR_PKT, "drop %s len %u", drop_names[reason], pkt ? pkt_len(pkt) : 0);
	pkt_free(pkt);
}

void pkt_consume(struct stack *st, struct pkt *pkt)
{
	(void)st;
	pkt_free(pkt);
}
