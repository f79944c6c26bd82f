// SPDX-License-Identifier: MIT
/*
 * Admin request handling (chrony cmdmon.c read_from_cmd_socket shape):
 * check the header, look the command up in a table, then either answer at
 * once or ask every worker for its part and answer when all have replied
 * or the deadline passes (unbound server_stats_obtain). Counters are
 * summed across workers by one loop over the MIB tables, never field by
 * field.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "ipc/admin_msg.h"
#include "log.h"
#include "proto/drop.h"
#include "proto/mib.h"
#include "sockdiag.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Reply writer: fills messages of IPC_MSG_MAX and sends each full one
 * with IPC_F_MORE, the last one without. */
struct admin_out {
	struct ctl_client *c;
	struct admin_buf b;
	uint16_t type;
	uint32_t seq;
	int err;
	uint64_t buf[IPC_MSG_MAX / sizeof(uint64_t)];
};

static void out_begin(struct admin_out *o, struct ctl_client *c, uint16_t type, uint32_t seq)
{
	o->c = c;
	o->type = type;
	o->seq = seq;
	o->err = 0;
	o->b.buf = (uint8_t *)o->buf;
	o->b.cap = sizeof(o->buf);
	admin_msg_init(&o->b, type, seq, IPC_F_REPLY, 0);
}

static void out_flush(struct admin_out *o, uint16_t flags)
{
	struct ipc_hdr *h = (struct ipc_hdr *)o->b.buf;

	h->flags = (uint16_t)(IPC_F_REPLY | flags);
	admin_msg_finish(&o->b);
	if (ctl_client_send(o->c, o->b.buf, o->b.len) < 0)
		o->err = -ENOMEM;
	admin_msg_init(&o->b, o->type, o->seq, IPC_F_REPLY, 0);
}

static void out_rec(struct admin_out *o, uint16_t type, const void *body, size_t len)
{
	if (admin_msg_add(&o->b, type, body, len) == 0)
		return;
	out_flush(o, IPC_F_MORE);
	admin_msg_add(&o->b, type, body, len);
}

static void out_end(struct admin_out *o)
{
	out_flush(o, 0);
}

static void reply_error(struct ctl_client *c, uint16_t type, uint32_t seq, int status)
{
	uint64_t buf[sizeof(struct ipc_hdr) / 8];
	struct admin_buf b = { .buf = (uint8_t *)buf, .cap = sizeof(buf) };

	admin_msg_init(&b, type, seq, IPC_F_REPLY, status);
	admin_msg_finish(&b);
	ctl_client_send(c, b.buf, b.len);
}

static void put_counter(struct admin_out *o, const char *group, const char *name, uint64_t v)
{
	struct admin_rec_counter r;

	memset(&r, 0, sizeof(r));
	snprintf(r.group, sizeof(r.group), "%s", group);
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.value = v;
	out_rec(o, ADMIN_REC_COUNTER, &r, sizeof(r));
}

static void put_daemon(struct admin_out *o, struct ctl_server *srv)
{
	struct admin_rec_daemon d;

	memset(&d, 0, sizeof(d));
	snprintf(d.version, sizeof(d.version), "%s", PACKAGE_VERSION);
	d.uptime_ns = worker_now_ns() - srv->start_ns;
	d.pid = (uint32_t)getpid();
	d.workers = srv->nworkers;
	snprintf(d.rx_mode, sizeof(d.rx_mode), "%s", srv->workers[0].rx_mode);
	out_rec(o, ADMIN_REC_DAEMON, &d, sizeof(d));
}

/* The workers' MIBs summed by one loop over struct mib, never field by
 * field, so that a counter added to a MIB needs no change here. */
static void sum_mibs(const struct ctl_server *srv, const struct admin_req *req, struct mib *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < srv->nworkers; i++) {
		const struct worker_snapshot *s = req->cmds[i].arg;
		const uint64_t *src = (const uint64_t *)&s->mib;
		uint64_t *dst = (uint64_t *)sum;

		for (size_t k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

/* Every MIB counter with its nstat name, then one per drop reason. */
static void put_counters(struct admin_out *o, const struct mib *sum)
{
	for (unsigned int g = 0; g < MIB__GROUPS; g++)
		for (unsigned int i = 0; i < mib_group_size(g); i++)
			put_counter(o, mib_group_name(g), mib_counter_name(g, i),
				    mib_counter(sum, g, i));
	for (unsigned int r = 0; r < DROP__MAX; r++)
		put_counter(o, "Drop", drop_reason_name(r), sum->drop[r]);
}

/*
 * Levels rather than events, summed over the workers: what
 * /proc/net/sockstat would show (sockets, TIME-WAIT entries, packet
 * buffers). Once every connection has closed they return to where they
 * started, which is how a leak shows.
 */
static void put_gauges(struct admin_out *o, struct ctl_server *srv, struct admin_req *req)
{
	uint64_t socks = 0, tws = 0, pfree = 0, psize = 0;

	for (unsigned int i = 0; i < srv->nworkers; i++) {
		const struct worker_snapshot *s = req->cmds[i].arg;

		socks += s->tcp_socks;
		tws += s->tcp_tws;
		pfree += s->pool_free;
		psize += s->pool_size;
	}
	put_counter(o, "Sockstat", "tcp_inuse", socks);
	put_counter(o, "Sockstat", "tcp_tw", tws);
	put_counter(o, "Sockstat", "pool_free", pfree);
	put_counter(o, "Sockstat", "pool_size", psize);
}

static void encode_status(struct admin_out *o, struct ctl_server *srv, struct admin_req *req)
{
	struct worker_snapshot *s0 = req->cmds[0].arg;
	struct admin_rec_link l;
	struct link_stats ls = { 0 };
	struct worker_stats ws = { 0 };
	struct mib sum;

	put_daemon(o, srv);
	sum_mibs(srv, req, &sum);
	for (unsigned int i = 0; i < srv->nworkers; i++) {
		const struct worker_snapshot *s = req->cmds[i].arg;

		ls.rx_packets += s->link.rx_packets;
		ls.rx_bytes += s->link.rx_bytes;
		ls.rx_dropped += s->link.rx_dropped;
		ls.tx_packets += s->link.tx_packets;
		ls.tx_bytes += s->link.tx_bytes;
		ls.tx_errors += s->link.tx_errors;
#define WS_SUM(n) ws.n += s->stats.n;
		WORKER_STATS(WS_SUM)
#undef WS_SUM
	}
	memset(&l, 0, sizeof(l));
	snprintf(l.name, sizeof(l.name), "%s", srv->link->name);
	snprintf(l.kind, sizeof(l.kind), "%s", srv->link->kind);
	snprintf(l.netns, sizeof(l.netns), "%s", srv->link->netns);
	memcpy(l.mac, srv->link->mac, 6);
	l.mtu = srv->link->mtu;
	l.ifindex = (uint32_t)srv->link->ifindex;
	l.rx_packets = ls.rx_packets;
	l.rx_bytes = ls.rx_bytes;
	l.rx_dropped = ls.rx_dropped;
	l.tx_packets = ls.tx_packets;
	l.tx_bytes = ls.tx_bytes;
	l.tx_errors = ls.tx_errors;
	out_rec(o, ADMIN_REC_LINK, &l, sizeof(l));

	/* Addresses, routes and neighbours: worker 0's view (every worker
	 * holds the same addresses and routes; neighbours are per worker
	 * until the tables are shared). */
	for (unsigned int i = 0; i < s0->naddrs; i++) {
		struct admin_rec_addr a;

		memset(&a, 0, sizeof(a));
		a.family = AF_INET;
		a.plen = s0->addrs[i].plen;
		memcpy(a.addr, &s0->addrs[i].addr, 4);
		memcpy(a.bcast, &s0->addrs[i].bcast, 4);
		out_rec(o, ADMIN_REC_ADDR, &a, sizeof(a));
	}
	for (unsigned int i = 0; i < s0->nroutes; i++) {
		const struct fib_entry *e = &s0->routes[i];
		struct admin_rec_route r;

		memset(&r, 0, sizeof(r));
		r.family = AF_INET;
		r.plen = e->plen;
		r.proto = e->proto;
		r.metric = e->metric;
		memcpy(r.dst, &e->dst, 4);
		memcpy(r.gw, &e->gw, 4);
		memcpy(r.src, &e->src, 4);
		out_rec(o, ADMIN_REC_ROUTE, &r, sizeof(r));
	}
	for (unsigned int w = 0; w < srv->nworkers; w++) {
		const struct worker_snapshot *s = req->cmds[w].arg;

		for (unsigned int i = 0; i < s->nneigh; i++) {
			const struct neigh_info *n = &s->neigh[i];
			struct admin_rec_neigh r;

			memset(&r, 0, sizeof(r));
			r.family = AF_INET;
			r.state = n->state;
			memcpy(r.mac, n->mac, 6);
			memcpy(r.addr, &n->addr, 4);
			r.probes = n->probes;
			r.queued = n->queued;
			r.confirmed_ago_ms = n->confirmed_ago_ns == UINT64_MAX ?
						     UINT64_MAX :
						     n->confirmed_ago_ns / 1000000;
			r.used_ago_ms = n->used_ago_ns / 1000000;
			snprintf(r.state_name, sizeof(r.state_name), "%s",
				 neigh_state_name(n->state));
			out_rec(o, ADMIN_REC_NEIGH, &r, sizeof(r));
		}
	}

	put_counters(o, &sum);
	put_gauges(o, srv, req);
#define WS_PUT(n) put_counter(o, "Worker", #n, ws.n);
	WORKER_STATS(WS_PUT)
#undef WS_PUT
}

/* `usnet stats`: the daemon record (for the uptime) and the counters. */
static void encode_stats(struct admin_out *o, struct ctl_server *srv, struct admin_req *req)
{
	struct mib sum;

	put_daemon(o, srv);
	sum_mibs(srv, req, &sum);
	put_counters(o, &sum);
}

/* `usnet sockets`: every worker's dump, one record per socket; out_rec()
 * splits them into as many messages as they need. */
static void encode_sockets(struct admin_out *o, struct ctl_server *srv, struct admin_req *req)
{
	for (unsigned int w = 0; w < srv->nworkers; w++) {
		const struct sockdiag_dump *d = req->cmds[w].arg;

		for (size_t i = 0; i < d->n; i++)
			out_rec(o, ADMIN_REC_TCP_SOCK, &d->recs[i], sizeof(d->recs[i]));
	}
}

static void cmd_arg_free(struct worker_cmd *cmd)
{
	switch (cmd->type) {
	case WCMD_SNAPSHOT:
		worker_snapshot_free(cmd->arg);
		break;
	case WCMD_SOCKETS:
		sockdiag_dump_free(cmd->arg);
		free(cmd->arg);
		break;
	default:
		break;
	}
	cmd->arg = NULL;
}

static void req_free(struct admin_req *req)
{
	struct ctl_server *srv = req->srv;
	struct admin_req **pp = &srv->reqs;

	while (*pp && *pp != req)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = req->next;
		srv->nreqs--;
	}
	if (req->loop)
		ev_timer_stop(req->loop, &req->timer);
	for (unsigned int i = 0; i < srv->nworkers; i++)
		cmd_arg_free(&req->cmds[i]);
	free(req);
}

static void req_answer(struct admin_req *req)
{
	struct ctl_server *srv = req->srv;
	struct admin_out *o;
	int status = 0;

	req->answered = true;
	ev_timer_stop(srv->loop, &req->timer);
	if (!req->client)
		return;
	req->client->inflight--;
	for (unsigned int i = 0; i < srv->nworkers; i++)
		if (req->cmds[i].status)
			status = req->cmds[i].status;
	if (status) {
		reply_error(req->client, req->type, req->seq, status);
		return;
	}
	o = malloc(sizeof(*o));
	if (!o) {
		reply_error(req->client, req->type, req->seq, -ENOMEM);
		return;
	}
	out_begin(o, req->client, req->type, req->seq);
	switch (req->type) {
	case ADMIN_STATUS:
		encode_status(o, srv, req);
		break;
	case ADMIN_STATS:
		encode_stats(o, srv, req);
		break;
	case ADMIN_SOCKETS:
		encode_sockets(o, srv, req);
		break;
	default:
		break;
	}
	out_end(o);
	free(o);
}

static void req_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct admin_req *req = t->data;

	log_ratelimited(LOG_LVL_WARN, "admin: %u worker(s) did not answer within %.0f s",
			req->pending, ADMIN_WORKER_TIMEOUT);
	for (unsigned int i = 0; i < req->srv->nworkers; i++)
		if (req->cmds[i].status == -EINPROGRESS || req->cmds[i].status == -EAGAIN)
			req->cmds[i].status = -ETIMEDOUT;
	req_answer(req);
	/* Commands never handed over will not come back: nothing else frees
	 * a request whose only outstanding commands were waiting. */
	if (!req->pending)
		req_free(req);
}

static bool req_complete(const struct admin_req *req)
{
	if (req->pending)
		return false;
	for (unsigned int i = 0; i < req->srv->nworkers; i++)
		if (req->cmds[i].status == -EAGAIN)
			return false;
	return true;
}

void admin_cmd_done(struct ctl_server *srv, struct worker_cmd *cmd)
{
	struct admin_req *req = cmd->owner;

	req->pending--;
	if (req_complete(req)) {
		if (!req->answered)
			req_answer(req);
		req_free(req);
	}
}

/* Commands the worker could not take yet (status -EAGAIN) go in as room
 * frees up, so a burst of clients waits instead of failing. */
static void req_submit_waiting(struct admin_req *req)
{
	struct ctl_server *srv = req->srv;

	for (unsigned int i = 0; i < srv->nworkers; i++) {
		if (req->cmds[i].status != -EAGAIN)
			continue;
		req->cmds[i].status = -EINPROGRESS;
		if (worker_submit(&srv->workers[i], &req->cmds[i]) < 0) {
			req->cmds[i].status = -EAGAIN;
			continue;
		}
		req->pending++;
	}
}

/* A request that asks every worker, or NULL after replying with the error. */
static struct admin_req *req_new(struct ctl_client *c, const struct ipc_hdr *h)
{
	struct ctl_server *srv = c->srv;
	struct admin_req *req;

	if (srv->nreqs >= ADMIN_MAX_REQS) {
		reply_error(c, h->type, h->seq, -EBUSY);
		return NULL;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		reply_error(c, h->type, h->seq, -ENOMEM);
		return NULL;
	}
	req->srv = srv;
	req->loop = srv->loop;
	req->client = c;
	req->seq = h->seq;
	req->type = h->type;
	return req;
}

/* Hand @req's commands (their args set) to the workers, with a deadline. */
static void req_start(struct admin_req *req)
{
	struct ctl_server *srv = req->srv;
	struct admin_req **pp = &srv->reqs;

	for (unsigned int i = 0; i < srv->nworkers; i++) {
		req->cmds[i].owner = req;
		req->cmds[i].status = -EAGAIN;
	}
	req->client->inflight++;
	/* Appended, so that requests waiting for room go in oldest first. */
	while (*pp)
		pp = &(*pp)->next;
	*pp = req;
	srv->nreqs++;
	req_submit_waiting(req);
	ev_timer_init(&req->timer, req_timeout_cb, ADMIN_WORKER_TIMEOUT, 0.);
	req->timer.data = req;
	ev_timer_start(srv->loop, &req->timer);
}

/* ADMIN_STATUS, ADMIN_STATS: a snapshot of each worker's tables and counters. */
static void start_snapshot(struct ctl_client *c, const struct ipc_hdr *h, const void *msg,
			   size_t len)
{
	struct ctl_server *srv = c->srv;
	struct admin_req *req = req_new(c, h);

	if (!req)
		return;
	for (unsigned int i = 0; i < srv->nworkers; i++) {
		req->cmds[i].type = WCMD_SNAPSHOT;
		req->cmds[i].arg = worker_snapshot_alloc(&srv->workers[i]);
		if (!req->cmds[i].arg) {
			req_free(req);
			reply_error(c, h->type, h->seq, -ENOMEM);
			return;
		}
	}
	req_start(req);
}

/* ADMIN_SOCKETS: each worker dumps its TCP sockets, filtered by state and
 * by owner: root sees them all, another user its own and usnetd's
 * (SO_PEERCRED names the caller; sockdiag.c). */
static void start_sockets(struct ctl_client *c, const struct ipc_hdr *h, const void *msg,
			  size_t len)
{
	struct ctl_server *srv = c->srv;
	const struct admin_rec *rec;
	struct admin_req *req;
	uint32_t states = 0;
	const void *body;
	size_t off = 0;
	int k;

	while ((k = admin_msg_next(msg, len, &off, &rec, &body)) > 0)
		if (rec->type == ADMIN_REC_SOCK_FILTER)
			memcpy(&states, body, sizeof(states));
	if (k < 0) {
		reply_error(c, h->type, h->seq, k);
		return;
	}
	req = req_new(c, h);
	if (!req)
		return;
	for (unsigned int i = 0; i < srv->nworkers; i++) {
		struct sockdiag_dump *d = calloc(1, sizeof(*d));

		req->cmds[i].type = WCMD_SOCKETS;
		req->cmds[i].arg = d;
		if (!d) {
			req_free(req);
			reply_error(c, h->type, h->seq, -ENOMEM);
			return;
		}
		d->states = states;
		d->uid = (uint32_t)c->uid;
		d->all = c->uid == 0;
		d->worker = (uint16_t)i;
	}
	req_start(req);
}

struct admin_cmd {
	uint16_t type;
	bool mutating; /* needs root or the admin group (none yet) */
	void (*start)(struct ctl_client *c, const struct ipc_hdr *h, const void *msg, size_t len);
};

/* Every command so far only reads: any user may run it (DESIGN.md). */
static const struct admin_cmd admin_cmds[] = {
	{ ADMIN_STATUS, false, start_snapshot },
	{ ADMIN_SOCKETS, false, start_sockets },
	{ ADMIN_STATS, false, start_snapshot },
};

void admin_handle(struct ctl_client *c, const void *msg, size_t len)
{
	struct ipc_hdr h;
	int rc = admin_msg_check(msg, len);

	if (rc == -EBADMSG || rc == -EPROTO) {
		log_ratelimited(LOG_LVL_INFO,
				"control: client pid %d uid %u: malformed message (%s)",
				(int)c->pid, (unsigned int)c->uid, strerror(-rc));
		reply_error(c, 0, 0, rc);
		return;
	}
	memcpy(&h, msg, sizeof(h));
	if (rc == -EPROTONOSUPPORT) {
		/* Tell the client which version we speak: the reply header
		 * carries ours (admin_msg_init fills IPC_VERSION). */
		reply_error(c, h.type, h.seq, rc);
		return;
	}
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		if (admin_cmds[i].type != h.type)
			continue;
		if (admin_cmds[i].mutating && c->uid != 0) {
			reply_error(c, h.type, h.seq, -EPERM);
			return;
		}
		admin_cmds[i].start(c, &h, msg, len);
		return;
	}
	reply_error(c, h.type, h.seq, -EOPNOTSUPP);
}

void admin_client_gone(struct ctl_server *srv, struct ctl_client *c)
{
	for (struct admin_req *r = srv->reqs; r; r = r->next)
		if (r->client == c)
			r->client = NULL;
}

void admin_fini(struct ctl_server *srv)
{
	while (srv->reqs)
		req_free(srv->reqs);
}

void admin_submit_waiting(struct ctl_server *srv)
{
	struct admin_req *r, *next;

	for (r = srv->reqs; r; r = next) {
		next = r->next;
		if (!r->answered)
			req_submit_waiting(r);
	}
}
