// SPDX-License-Identifier: MIT
/*
 * `usnet status`: daemon, link, addresses, routes, neighbours and every
 * counter including each drop reason. JSON keys follow `ip -j` where ip
 * has the same object (addresses: local/prefixlen/broadcast; routes:
 * dst/gateway/protocol/prefsrc/metric; neighbours: dst/lladdr/state).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "out.h"

static void fmt_mac(char *buf, size_t n, const uint8_t *m)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void fmt_duration(char *buf, size_t n, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;

	if (s >= 86400)
		snprintf(buf, n, "%llud %lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, n, "%lluh %llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, n, "%llum %llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, n, "%llu.%03llus", (unsigned long long)s,
			 (unsigned long long)(ns / 1000000 % 1000));
}

static void print_daemon(const struct admin_rec_daemon *d)
{
	char up[32];

	fmt_duration(up, sizeof(up), d->uptime_ns);
	print_string(PRINT_ANY, "version", "usnetd %s", d->version);
	print_u64(PRINT_ANY, "pid", ", pid %llu", d->pid);
	print_string(PRINT_FP, NULL, ", up %s", up);
	print_u64(PRINT_JSON, "uptime_ms", NULL, d->uptime_ns / 1000000);
	print_u64(PRINT_ANY, "workers", ", %llu worker(s)", d->workers);
	print_string(PRINT_ANY, "rx_mode", " (rx: %s)\n", d->rx_mode);
}

static void print_link(const struct admin_rec_link *l)
{
	char mac[18];

	fmt_mac(mac, sizeof(mac), l->mac);
	out_open_object("link");
	print_string(PRINT_ANY, "name", "link %s", l->name);
	print_string(PRINT_ANY, "kind", " (%s", l->kind);
	if (l->netns[0])
		print_string(PRINT_ANY, "netns", ", kernel side in netns %s", l->netns);
	else
		print_string(PRINT_JSON, "netns", NULL, "");
	print_u64(PRINT_ANY, "ifindex", ", ifindex %llu)", l->ifindex);
	print_string(PRINT_ANY, "address", " address %s", mac);
	print_u64(PRINT_ANY, "mtu", " mtu %llu\n", l->mtu);
	out_open_object("stats");
	print_u64(PRINT_ANY, "rx_packets", "    rx %llu packets", l->rx_packets);
	print_u64(PRINT_ANY, "rx_bytes", " %llu bytes", l->rx_bytes);
	print_u64(PRINT_ANY, "rx_dropped", " %llu dropped", l->rx_dropped);
	print_u64(PRINT_ANY, "tx_packets", "   tx %llu packets", l->tx_packets);
	print_u64(PRINT_ANY, "tx_bytes", " %llu bytes", l->tx_bytes);
	print_u64(PRINT_ANY, "tx_errors", " %llu errors\n", l->tx_errors);
	out_close_object();
	out_close_object();
}

static void print_addr(const struct admin_rec_addr *a)
{
	char ip[INET_ADDRSTRLEN], bc[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
	inet_ntop(AF_INET, a->bcast, bc, sizeof(bc));
	out_open_object(NULL);
	print_string(PRINT_JSON, "family", NULL, "inet");
	print_string(PRINT_ANY, "local", "    inet %s", ip);
	print_u64(PRINT_ANY, "prefixlen", "/%llu", a->plen);
	if (memcmp(a->bcast, "\0\0\0\0", 4))
		print_string(PRINT_ANY, "broadcast", " brd %s", bc);
	print_text("\n");
	out_close_object();
}

static void print_route(const struct admin_rec_route *r)
{
	char dst[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN];

	if (r->plen == 0) {
		snprintf(dst, sizeof(dst), "default");
	} else {
		inet_ntop(AF_INET, r->dst, dst, sizeof(dst));
		snprintf(dst + strlen(dst), sizeof(dst) - strlen(dst), "/%u", r->plen);
	}
	out_open_object(NULL);
	print_string(PRINT_ANY, "dst", "    %s", dst);
	if (memcmp(r->gw, "\0\0\0\0", 4)) {
		inet_ntop(AF_INET, r->gw, gw, sizeof(gw));
		print_string(PRINT_ANY, "gateway", " via %s", gw);
	}
	print_string(PRINT_ANY, "protocol", " proto %s", r->proto == 2 ? "kernel" : "static");
	if (memcmp(r->src, "\0\0\0\0", 4)) {
		inet_ntop(AF_INET, r->src, src, sizeof(src));
		print_string(PRINT_ANY, "prefsrc", " src %s", src);
	}
	print_u64(PRINT_ANY, "metric", " metric %llu\n", r->metric);
	out_close_object();
}

static void print_neigh(const struct admin_rec_neigh *n)
{
	char ip[INET_ADDRSTRLEN], mac[18], state[16];

	inet_ntop(AF_INET, n->addr, ip, sizeof(ip));
	fmt_mac(mac, sizeof(mac), n->mac);
	snprintf(state, sizeof(state), "%.*s", (int)sizeof(n->state_name), n->state_name);
	out_open_object(NULL);
	print_string(PRINT_ANY, "dst", "    %s", ip);
	if (n->state != 1 && n->state != 6) /* INCOMPLETE and FAILED have no address */
		print_string(PRINT_ANY, "lladdr", " lladdr %s", mac);
	out_open_array("state");
	print_string(PRINT_ANY, NULL, " %s", state);
	out_close_array();
	if (n->confirmed_ago_ms != UINT64_MAX)
		print_u64(PRINT_ANY, "confirmed_ms", " confirmed %llums ago", n->confirmed_ago_ms);
	print_u64(PRINT_ANY, "used_ms", " used %llums ago", n->used_ago_ms);
	print_u64(PRINT_ANY, "probes", " probes %llu", n->probes);
	print_u64(PRINT_ANY, "queued", " queued %llu\n", n->queued);
	out_close_object();
}

/* Records of one type, in arrival order, under @title / @key. */
static void print_section(const struct reply *r, uint16_t type, const char *title, const char *key,
			  void (*fn)(const void *))
{
	out_open_array(key);
	print_text("%s\n", title);
	for (size_t i = 0; i < r->n; i++)
		if (r->recs[i].type == type)
			fn(r->recs[i].body);
	out_close_array();
}

static void print_counters(const struct reply *r)
{
	char open_group[17] = "";

	/* Counters arrive grouped; drops go under their own key. */
	out_open_object("counters");
	for (size_t i = 0; i < r->n; i++) {
		const struct admin_rec_counter *c = r->recs[i].body;
		char group[17], name[49], line[128];

		if (r->recs[i].type != ADMIN_REC_COUNTER)
			continue;
		snprintf(group, sizeof(group), "%.*s", (int)sizeof(c->group), c->group);
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(c->name), c->name);
		if (strcmp(group, open_group)) {
			if (open_group[0])
				out_close_object();
			out_open_object(group);
			snprintf(open_group, sizeof(open_group), "%s", group);
			print_text("%s\n", !strcmp(group, "Drop") ? "drops (reason count)" : group);
		}
		/* nstat prints IpInReceives; drops, levels and worker
		 * counters print their name alone. */
		if (!strcmp(group, "Drop") || !strcmp(group, "Sockstat") || !strcmp(group, "Worker"))
			snprintf(line, sizeof(line), "    %-30s", name);
		else
			snprintf(line, sizeof(line), "    %s%-*s", group,
				 strlen(group) < 30 ? (int)(30 - strlen(group)) : 1, name);
		print_text("%s", line);
		print_u64(PRINT_ANY, name, " %llu\n", c->value);
	}
	if (open_group[0])
		out_close_object();
	out_close_object();
}

static void p_addr(const void *b)
{
	print_addr(b);
}
static void p_route(const void *b)
{
	print_route(b);
}
static void p_neigh(const void *b)
{
	print_neigh(b);
}

int cmd_status(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct reply r;
	int rc;

	if (argc > 0) {
		fprintf(stderr, "usnet: status: unexpected argument '%s'\n", argv[0]);
		return EXIT_USAGE;
	}
	rc = client_request(ctx->control, ADMIN_STATUS, NULL, &r);
	if (rc != EXIT_OK) {
		reply_free(&r);
		return rc;
	}
	out_open_object(NULL);
	for (size_t i = 0; i < r.n; i++)
		if (r.recs[i].type == ADMIN_REC_DAEMON)
			print_daemon(r.recs[i].body);
	for (size_t i = 0; i < r.n; i++)
		if (r.recs[i].type == ADMIN_REC_LINK)
			print_link(r.recs[i].body);
	print_section(&r, ADMIN_REC_ADDR, "addresses", "addresses", p_addr);
	print_section(&r, ADMIN_REC_ROUTE, "routes", "routes", p_route);
	print_section(&r, ADMIN_REC_NEIGH, "neighbours (ARP)", "neighbours", p_neigh);
	print_counters(&r);
	out_close_object();
	out_finish();
	reply_free(&r);
	return EXIT_OK;
}
