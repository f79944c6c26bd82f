// SPDX-License-Identifier: MIT
/*
 * Neighbour cache: the NUD state machine of Linux net/core/neighbour.c,
 * reduced to what an Ethernet host needs (see neigh.h for the diagram).
 *
 * Theory of operation: entries live in a fixed array allocated at init,
 * chained into a keyed hash by index. Each entry has at most one deadline;
 * the table caches the earliest one (next_timer) so that the worker can ask
 * for the next wake-up in O(1). When a deadline passes, neigh_timers() walks
 * the array once, fires what is due and recomputes the minimum: that walk
 * happens once per expiry, not once per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eth.h"
#include "stack.h"
#include "wire.h"

#define NS_PER_MS 1000000ull
#define NEIGH_REROLL_NS (300ull * 1000 * NS_PER_MS) /* Linux: every 300 s */
#define NEIGH_FORCED_GC_AGE_NS (5000ull * NS_PER_MS) /* Linux neigh_forced_gc: 5 s */

static uint64_t ms_to_ns(uint32_t ms)
{
	return (uint64_t)ms * NS_PER_MS;
}

static uint32_t neigh_hash(const struct neigh_table *t, uint32_t addr)
{
	uint64_t h = ((uint64_t)addr + t->hash_key) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & (t->nbuckets - 1);
}

/* Linux neigh_rand_reach_time(): uniform in [base/2, 3*base/2). */
static void neigh_reroll(struct stack *st)
{
	uint64_t base = ms_to_ns(st->cfg.tun.neigh_base_reachable_time_ms);
	uint64_t jitter = base ? (rng_u64(&st->rng) % base) : 0;

	st->neigh.reachable_time_ns = base / 2 + jitter;
	st->neigh.next_reroll = st->now + NEIGH_REROLL_NS;
}

int neigh_init(struct stack *st, uint32_t size)
{
	struct neigh_table *t = &st->neigh;
	uint32_t nb = 16;

	memset(t, 0, sizeof(*t));
	if (size == 0 || size > (1u << 20))
		return -EINVAL;
	while (nb < size)
		nb <<= 1;
	t->entries = calloc(size, sizeof(*t->entries));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->entries || !t->buckets) {
		free(t->entries);
		free(t->buckets);
		memset(t, 0, sizeof(*t));
		return -ENOMEM;
	}
	t->size = size;
	t->nbuckets = nb;
	for (uint32_t i = 0; i < size; i++)
		t->entries[i].hnext = i + 2 <= size ? i + 2 : 0;
	t->free = 1;
	t->hash_key = rng_u64(&st->rng);
	neigh_reroll(st);
	t->next_gc = UINT64_MAX;
	t->next_timer = UINT64_MAX;
	return 0;
}

/*
 * Like Linux, which charges skb->truesize to unres_qlen_bytes, a queued
 * packet costs the whole pool buffer it holds, not its length: a 54-byte
 * SYN-ACK pins a full MTU-sized buffer until the neighbour answers.
 */
static uint32_t neigh_truesize(const struct pkt *p)
{
	return p->pool->data_size;
}

static struct pkt *neigh_pending_pop(struct neigh_table *t, struct neigh *n)
{
	struct pkt *p = pkt_queue_pop(&n->pending);

	if (p)
		t->pending_bufs--;
	return p;
}

/*
 * Linux bounds each neighbour's queue only, its memory being the whole
 * machine's. Ours is the fixed pool the worker also reads the link into:
 * packets waiting for unanswered ARP (a SYN flood from spoofed, absent
 * sources answers every SYN) may hold at most an eighth of it, so that
 * reading never starves (Worker rx_nobufs).
 */
static bool neigh_pool_share_full(const struct neigh_table *t, const struct pkt *p)
{
	return t->pending_bufs >= p->pool->ndata / 8;
}

void neigh_fini(struct stack *st)
{
	struct neigh_table *t = &st->neigh;

	for (uint32_t i = 0; t->entries && i < t->size; i++)
		pkt_queue_purge(&t->entries[i].pending);
	free(t->entries);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

struct neigh *neigh_lookup(struct stack *st, uint32_t addr)
{
	struct neigh_table *t = &st->neigh;
	uint32_t i = t->buckets[neigh_hash(t, addr)];

	while (i) {
		struct neigh *n = &t->entries[i - 1];

		if (n->addr == addr)
			return n;
		i = n->hnext;
	}
	return NULL;
}

static void neigh_arm(struct stack *st, struct neigh *n, uint64_t when)
{
	n->timer = when;
	if (when && when < st->neigh.next_timer)
		st->neigh.next_timer = when;
}

static void neigh_destroy(struct stack *st, struct neigh *n, enum drop_reason why)
{
	struct neigh_table *t = &st->neigh;
	uint32_t idx = (uint32_t)(n - t->entries) + 1;
	uint32_t *pp = &t->buckets[neigh_hash(t, n->addr)];
	struct pkt *p;

	while (*pp && *pp != idx)
		pp = &t->entries[*pp - 1].hnext;
	if (*pp)
		*pp = n->hnext;
	while ((p = neigh_pending_pop(t, n)))
		pkt_drop(st, p, why);
	memset(n, 0, sizeof(*n));
	n->hnext = t->free;
	t->free = idx;
	t->count--;
	ARP_INC(st, DESTROYS);
}

/* Linux neigh_forced_gc(): evict the least recently used entry that is not
 * being resolved and has not changed in the last five seconds. */
static bool neigh_forced_gc(struct stack *st)
{
	struct neigh_table *t = &st->neigh;
	struct neigh *victim = NULL;

	ARP_INC(st, FORCED_GC_RUNS);
	for (uint32_t i = 0; i < t->size; i++) {
		struct neigh *n = &t->entries[i];

		if (n->state == NUD_NONE || n->state == NUD_PERMANENT || n->state == NUD_INCOMPLETE)
			continue;
		if (n->state != NUD_FAILED && st->now - n->updated < NEIGH_FORCED_GC_AGE_NS)
			continue;
		if (!victim || n->used < victim->used)
			victim = n;
	}
	if (!victim)
		return false;
	neigh_destroy(st, victim, DROP_NEIGH_FAILED);
	return true;
}

static struct neigh *neigh_create(struct stack *st, uint32_t addr)
{
	struct neigh_table *t = &st->neigh;
	struct neigh *n;
	uint32_t b;

	if (!t->free && !neigh_forced_gc(st)) {
		ARP_INC(st, TABLE_FULLS);
		return NULL;
	}
	n = &t->entries[t->free - 1];
	t->free = n->hnext;
	memset(n, 0, sizeof(*n));
	pkt_queue_init(&n->pending);
	n->addr = addr;
	n->state = NUD_NONE;
	n->used = n->updated = st->now;
	b = neigh_hash(t, addr);
	n->hnext = t->buckets[b];
	t->buckets[b] = (uint32_t)(n - t->entries) + 1;
	t->count++;
	ARP_INC(st, ALLOCS);
	if (t->next_gc == UINT64_MAX) {
		t->next_gc = st->now + ms_to_ns(st->cfg.tun.neigh_base_reachable_time_ms / 2);
		if (t->next_gc < t->next_timer)
			t->next_timer = t->next_gc;
	}
	return n;
}

static int neigh_queue(struct stack *st, struct neigh *n, struct pkt *pkt)
{
	struct neigh_table *t = &st->neigh;
	uint32_t limit = st->cfg.tun.neigh_unres_qlen_bytes;
	uint32_t truesize = neigh_truesize(pkt);

	/* A packet that can never fit must not flush the queue first. */
	if (truesize > limit || (!n->pending.len && neigh_pool_share_full(t, pkt))) {
		ARP_INC(st, UNRESOLVED_DISCARDS);
		pkt_drop(st, pkt, DROP_NEIGH_QUEUEFULL);
		return -ENOBUFS;
	}
	/* Linux __neigh_event_send(): make room by dropping the oldest. */
	while (n->pending.len &&
	       ((n->pending.len + 1) * truesize > limit || neigh_pool_share_full(t, pkt))) {
		ARP_INC(st, UNRESOLVED_DISCARDS);
		pkt_drop(st, neigh_pending_pop(t, n), DROP_NEIGH_QUEUEFULL);
	}
	pkt_queue_push(&n->pending, pkt);
	t->pending_bufs++;
	return 0;
}

static void neigh_start_resolution(struct stack *st, struct neigh *n)
{
	n->state = NUD_INCOMPLETE;
	n->probes = 1;
	arp_solicit(st, n->addr, NULL);
	neigh_arm(st, n, st->now + ms_to_ns(st->cfg.tun.neigh_retrans_time_ms));
}

int neigh_output(struct stack *st, struct pkt *pkt, uint32_t nexthop)
{
	struct neigh *n;
	int rc;

	ARP_INC(st, LOOKUPS);
	n = neigh_lookup(st, nexthop);
	if (n) {
		ARP_INC(st, HITS);
	} else {
		n = neigh_create(st, nexthop);
		if (!n) {
			pkt_drop(st, pkt, DROP_NEIGH_TABLEFULL);
			return -ENOBUFS;
		}
	}
	n->used = st->now;

	switch (n->state) {
	case NUD_STALE:
		/* RFC 4861 §7.3.3 (Linux applies it to ARP too): the first use of
		 * a stale entry starts the delay before a unicast probe. */
		n->state = NUD_DELAY;
		n->probes = 0;
		neigh_arm(st, n, st->now + ms_to_ns(st->cfg.tun.neigh_delay_first_probe_time_ms));
		/* fall through */
	case NUD_PERMANENT:
	case NUD_REACHABLE:
	case NUD_DELAY:
	case NUD_PROBE:
		eth_output(st, pkt, n->mac, ETH_P_IP);
		return 0;
	case NUD_INCOMPLETE:
		return neigh_queue(st, n, pkt);
	case NUD_NONE:
	case NUD_FAILED:
	default:
		/* Linux: a FAILED entry starts resolving again on new traffic. */
		rc = neigh_queue(st, n, pkt);
		neigh_start_resolution(st, n);
		return rc;
	}
}

static bool neigh_valid(unsigned int state)
{
	return state == NUD_REACHABLE || state == NUD_STALE || state == NUD_DELAY ||
	       state == NUD_PROBE || state == NUD_PERMANENT;
}

void neigh_update(struct stack *st, uint32_t addr, const uint8_t mac[6], enum neigh_state state,
		  unsigned int flags)
{
	struct neigh *n = neigh_lookup(st, addr);
	unsigned int old;
	bool changed;
	struct pkt *p;

	if (!n) {
		if (!(flags & NEIGH_F_CREATE))
			return;
		n = neigh_create(st, addr);
		if (!n)
			return;
	}
	old = n->state;
	if (old == NUD_PERMANENT)
		return;
	changed = neigh_valid(old) && memcmp(n->mac, mac, ETH_ALEN) != 0;

	if (changed && !(flags & NEIGH_F_OVERRIDE)) {
		/* Linux neigh_update(): a different address without override
		 * does not replace ours, but a connected entry loses its
		 * confidence. */
		if (old == NUD_REACHABLE) {
			n->state = NUD_STALE;
			neigh_arm(st, n, 0);
		}
		return;
	}
	if (!changed && state == NUD_STALE && neigh_valid(old))
		return; /* same address, nothing learnt: keep the stronger state */

	if (changed || !neigh_valid(old))
		n->updated = st->now;
	memcpy(n->mac, mac, ETH_ALEN);
	n->state = (uint8_t)state;
	n->probes = 0;
	if (state == NUD_REACHABLE) {
		n->confirmed = st->now;
		neigh_arm(st, n, st->now + st->neigh.reachable_time_ns);
	} else {
		neigh_arm(st, n, 0);
	}
	TRACE(st, TR_NEIGH, "neigh %08x %s -> %s", ntohl(addr), neigh_state_name(old),
	      neigh_state_name(state));

	while ((p = neigh_pending_pop(&st->neigh, n)))
		eth_output(st, p, n->mac, ETH_P_IP);
}

static void neigh_fail(struct stack *st, struct neigh *n)
{
	struct pkt *p;

	ARP_INC(st, RES_FAILED);
	TRACE(st, TR_NEIGH, "neigh %08x %s -> FAILED", ntohl(n->addr), neigh_state_name(n->state));
	n->state = NUD_FAILED;
	n->updated = st->now;
	neigh_arm(st, n, 0);
	while ((p = neigh_pending_pop(&st->neigh, n)))
		pkt_drop(st, p, DROP_NEIGH_FAILED);
}

static void neigh_timer_fire(struct stack *st, struct neigh *n)
{
	const struct stack_tunables *tun = &st->cfg.tun;
	uint64_t retrans = ms_to_ns(tun->neigh_retrans_time_ms);

	n->timer = 0;
	switch (n->state) {
	case NUD_INCOMPLETE:
		if (n->probes >= tun->neigh_mcast_solicit) {
			neigh_fail(st, n);
			return;
		}
		n->probes++;
		arp_solicit(st, n->addr, NULL);
		neigh_arm(st, n, st->now + retrans);
		break;
	case NUD_REACHABLE:
		if (st->now >= n->confirmed + st->neigh.reachable_time_ns)
			n->state = NUD_STALE;
		else
			neigh_arm(st, n, n->confirmed + st->neigh.reachable_time_ns);
		break;
	case NUD_DELAY:
		/* confirmed == 0: never confirmed (learnt from a request), which
		 * must not pass for "confirmed at boot" on a young clock. */
		if (n->confirmed && st->now < n->confirmed + st->neigh.reachable_time_ns) {
			n->state = NUD_REACHABLE;
			neigh_arm(st, n, n->confirmed + st->neigh.reachable_time_ns);
			break;
		}
		n->state = NUD_PROBE;
		n->probes = 0;
		/* fall through */
	case NUD_PROBE:
		if (n->probes >= tun->neigh_ucast_solicit) {
			neigh_fail(st, n);
			return;
		}
		n->probes++;
		arp_solicit(st, n->addr, n->mac);
		neigh_arm(st, n, st->now + retrans);
		break;
	default:
		break;
	}
}

/* Linux neigh_periodic_work(): drop FAILED entries and those unused for
 * gc_stale_time, unless a timer still runs for them. */
static void neigh_periodic_gc(struct stack *st)
{
	struct neigh_table *t = &st->neigh;
	uint64_t stale = ms_to_ns(st->cfg.tun.neigh_gc_stale_time_ms);

	ARP_INC(st, PERIODIC_GC_RUNS);
	if (st->now >= t->next_reroll)
		neigh_reroll(st);
	for (uint32_t i = 0; i < t->size; i++) {
		struct neigh *n = &t->entries[i];

		if (n->state == NUD_NONE && n->addr == 0)
			continue;
		if (n->state == NUD_PERMANENT || n->timer)
			continue;
		if (n->state == NUD_FAILED || n->state == NUD_NONE || st->now - n->used >= stale)
			neigh_destroy(st, n, DROP_NEIGH_FAILED);
	}
	t->next_gc = t->count ? st->now + ms_to_ns(st->cfg.tun.neigh_base_reachable_time_ms / 2) :
				UINT64_MAX;
}

void neigh_timers(struct stack *st)
{
	struct neigh_table *t = &st->neigh;
	uint64_t next;

	if (st->now < t->next_timer)
		return;
	for (uint32_t i = 0; i < t->size; i++) {
		struct neigh *n = &t->entries[i];

		if (n->timer && n->timer <= st->now)
			neigh_timer_fire(st, n);
	}
	if (st->now >= t->next_gc)
		neigh_periodic_gc(st);

	next = t->next_gc;
	for (uint32_t i = 0; i < t->size; i++)
		if (t->entries[i].timer && t->entries[i].timer < next)
			next = t->entries[i].timer;
	t->next_timer = next;
}

uint64_t neigh_next_timer(const struct stack *st)
{
	return st->neigh.next_timer;
}

unsigned int neigh_dump(const struct stack *st, struct neigh_info *out, unsigned int max)
{
	const struct neigh_table *t = &st->neigh;
	unsigned int k = 0;

	for (uint32_t i = 0; i < t->size && k < max; i++) {
		const struct neigh *n = &t->entries[i];

		if (!n->addr)
			continue;
		out[k].addr = n->addr;
		memcpy(out[k].mac, n->mac, ETH_ALEN);
		out[k].state = n->state;
		out[k].probes = n->probes;
		out[k].confirmed_ago_ns = n->confirmed ? st->now - n->confirmed : UINT64_MAX;
		out[k].used_ago_ns = st->now - n->used;
		out[k].queued = n->pending.len;
		k++;
	}
	return k;
}

const char *neigh_state_name(unsigned int state)
{
	static const char *const names[] = {
		[NUD_NONE] = "NONE",	       [NUD_INCOMPLETE] = "INCOMPLETE",
		[NUD_REACHABLE] = "REACHABLE", [NUD_STALE] = "STALE",
		[NUD_DELAY] = "DELAY",	       [NUD_PROBE] = "PROBE",
		[NUD_FAILED] = "FAILED",       [NUD_PERMANENT] = "PERMANENT",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}
