// SPDX-License-Identifier: MIT
/*
 * `usnet sockets`: usnet's TCP sockets, as `ss -tn` shows the kernel's.
 * The options mean what they mean to ss: without -a or -l only connections
 * are listed (no listeners, no TIME-WAIT or SYN-RECV entries), -a lists
 * everything, -l only listeners, -i adds the tcp_info line in ss's
 * key:value words, -o the timer. ss's filters work too, ANDed: `state
 * NAME`, `exclude NAME`, `sport|dport [OP] [:]PORT`, `src|dst
 * ADDR[/PLEN][:PORT]`. The state filter travels to the daemon, the
 * address and port filters are applied here.
 *
 * -j prints everything the daemon sent, whatever -i and -o say: an array
 * of objects with numbers in the key's unit (_us, _ms, _bps; bytes and
 * packets unmarked).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "out.h"
#include "parse.h"

#define CTX "usnet: sockets"

/* Linux's TCP states (include/net/tcp_states.h), as ss names them. */
enum {
	ST_ESTABLISHED = 1,
	ST_SYN_SENT,
	ST_SYN_RECV,
	ST_FIN_WAIT1,
	ST_FIN_WAIT2,
	ST_TIME_WAIT,
	ST_CLOSE,
	ST_CLOSE_WAIT,
	ST_LAST_ACK,
	ST_LISTEN,
	ST_CLOSING,
	ST_NEW_SYN_RECV,
	ST_MAX
};

#define SF(s) (1u << (s))
#define SS_ALL ((SF(ST_MAX) - 1) & ~1u)
/* ss's default: connections only (iproute2 ss.c SS_CONN) */
#define SS_CONN (SS_ALL & ~(SF(ST_LISTEN) | SF(ST_CLOSE) | SF(ST_TIME_WAIT) | SF(ST_SYN_RECV)))

static const char *const state_label[ST_MAX] = {
	[0] = "UNKNOWN",
	[ST_ESTABLISHED] = "ESTAB",
	[ST_SYN_SENT] = "SYN-SENT",
	[ST_SYN_RECV] = "SYN-RECV",
	[ST_FIN_WAIT1] = "FIN-WAIT-1",
	[ST_FIN_WAIT2] = "FIN-WAIT-2",
	[ST_TIME_WAIT] = "TIME-WAIT",
	[ST_CLOSE] = "UNCONN",
	[ST_CLOSE_WAIT] = "CLOSE-WAIT",
	[ST_LAST_ACK] = "LAST-ACK",
	[ST_LISTEN] = "LISTEN",
	[ST_CLOSING] = "CLOSING",
	[ST_NEW_SYN_RECV] = "SYN-RECV",
};

/* `state NAME` and `exclude NAME`: ss's names (scan_state()). */
static const char *const state_words[] = {
	"established", "syn-sent",     "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait",
	"closed",      "close-wait",   "last-ack", "listening",	 "closing",    "all",
	"connected",   "synchronized", "bucket",   "big",
};

static const uint32_t state_masks[] = {
	SF(ST_ESTABLISHED),
	SF(ST_SYN_SENT),
	SF(ST_SYN_RECV) | SF(ST_NEW_SYN_RECV),
	SF(ST_FIN_WAIT1),
	SF(ST_FIN_WAIT2),
	SF(ST_TIME_WAIT),
	SF(ST_CLOSE),
	SF(ST_CLOSE_WAIT),
	SF(ST_LAST_ACK),
	SF(ST_LISTEN),
	SF(ST_CLOSING),
	SS_ALL,
	SS_ALL & ~(SF(ST_CLOSE) | SF(ST_LISTEN)),
	SS_ALL & ~(SF(ST_CLOSE) | SF(ST_LISTEN) | SF(ST_SYN_SENT)),
	SF(ST_SYN_RECV) | SF(ST_NEW_SYN_RECV) | SF(ST_TIME_WAIT),
	SS_ALL & ~(SF(ST_SYN_RECV) | SF(ST_NEW_SYN_RECV) | SF(ST_TIME_WAIT)),
};

_Static_assert(sizeof(state_words) / sizeof(state_words[0]) ==
		       sizeof(state_masks) / sizeof(state_masks[0]),
	       "one mask per state word");

static const char *const ca_state_names[] = { "open", "disorder", "cwr", "recovery", "loss" };
static const char *const timer_names[] = { "off", "on", "keepalive", "timewait", "persist" };

enum term_kind { T_SPORT, T_DPORT, T_SRC, T_DST };
enum term_op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

static const char *const term_words[] = { "sport", "dport", "src", "dst", "state", "exclude" };
static const char *const op_words[] = { "=",  "==", "eq", "!=", "ne", "neq", "<",
					"lt", ">",  "gt", "<=", "le", ">=",  "ge" };
static const enum term_op op_values[] = { OP_EQ, OP_EQ, OP_EQ, OP_NE, OP_NE, OP_NE, OP_LT,
					  OP_LT, OP_GT, OP_GT, OP_LE, OP_LE, OP_GE, OP_GE };

#define MAX_TERMS 32

struct term {
	enum term_kind kind;
	enum term_op op;
	bool has_addr, has_port;
	uint32_t addr, mask; /* network order */
	unsigned int port;
};

struct sockets_opts {
	bool info, timers;
	bool states_given; /* -a, -l or `state`: replaces the default */
	uint32_t states, excluded;
	struct term terms[MAX_TERMS];
	unsigned int nterms;
};

static const char *const long_opts[] = { "all",	    "listening", "info", "options",
					 "numeric", "tcp",	 "help" };
static const char long_to_short[] = { 'a', 'l', 'i', 'o', 'n', 't', 'h' };

static void usage(FILE *f)
{
	fprintf(f, "usage: usnet sockets [-a|-l] [-i] [-o] [FILTER...]\n"
		   "  -a, --all        all sockets, listeners, SYN-RECV and TIME-WAIT included\n"
		   "  -l, --listening  listeners only\n"
		   "  -i, --info       tcp_info line (rto, rtt, mss, cwnd, ssthresh, retrans...)\n"
		   "  -o, --options    timers\n"
		   "  -n, -t           accepted for ss compatibility\n"
		   "filters (all must match):\n"
		   "  state NAME | exclude NAME\n"
		   "  sport|dport [=|!=|<|>|<=|>=] [:]PORT\n"
		   "  src|dst [=|!=] ADDR[/PLEN][:PORT]\n"
		   "states: established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed\n"
		   "  close-wait last-ack listening closing all connected synchronized bucket big\n"
		   "Without -a, -l or state: connections only, as ss. See usnet(8).\n");
}

static int set_option(struct sockets_opts *o, char c)
{
	switch (c) {
	case 'a':
		o->states |= SS_ALL;
		o->states_given = true;
		return 0;
	case 'l':
		o->states |= SF(ST_LISTEN);
		o->states_given = true;
		return 0;
	case 'i':
		o->info = true;
		return 0;
	case 'o':
		o->timers = true;
		return 0;
	case 'n': /* ss compatibility: addresses and ports are always numeric */
	case 't': /* ss compatibility: TCP is all there is */
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	default:
		fprintf(stderr, CTX ": unknown option '-%c' (-a, -l, -i, -o, -n, -t, -h)\n", c);
		return -1;
	}
}

static int parse_option(struct sockets_opts *o, const char *arg)
{
	if (arg[1] == '-') {
		int i = parse_keyword(arg + 2, long_opts, sizeof(long_opts) / sizeof(long_opts[0]),
				      "option", CTX);

		return i < 0 ? -1 : set_option(o, long_to_short[i]);
	}
	for (const char *p = arg + 1; *p; p++) {
		int rc = set_option(o, *p);

		if (rc)
			return rc;
	}
	return 0;
}

/* [:]PORT, or "*" for any */
static int parse_port(const char *s, struct term *t)
{
	if (*s == ':')
		s++;
	if (!strcmp(s, "*"))
		return 0;
	if (parse_u32(s, 65535, &t->port) < 0)
		return -1;
	t->has_port = true;
	return 0;
}

/* ADDR[/PLEN][:PORT], "*", "*:PORT" or ":PORT" */
static int parse_host(const char *s, struct term *t)
{
	char buf[64], *colon, *slash;
	unsigned int plen = 32;
	struct in_addr a;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (parse_port(colon + 1, t) < 0)
			return -1;
	}
	if (!buf[0] || !strcmp(buf, "*"))
		return 0;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (parse_u32(slash + 1, 32, &plen) < 0)
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	t->has_addr = true;
	t->mask = plen ? htonl(~0u << (32 - plen)) : 0;
	t->addr = a.s_addr & t->mask;
	return 0;
}

/* An optional operator before a term's value. Return: the words used (0 or 1). */
static int parse_op(char **argv, int argc, int i, struct term *t)
{
	for (size_t k = 0; i < argc && k < sizeof(op_words) / sizeof(op_words[0]); k++)
		if (!strcmp(argv[i], op_words[k])) {
			t->op = op_values[k];
			return 1;
		}
	t->op = OP_EQ;
	return 0;
}

/* Return: 0, 1 after printing the help, -1 after a usage error. */
static int parse_args(struct sockets_opts *o, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		struct term *t;
		int kw;

		if (arg[0] == '-' && arg[1]) {
			int rc = parse_option(o, arg);

			if (rc)
				return rc;
			continue;
		}
		kw = parse_keyword(arg, term_words, sizeof(term_words) / sizeof(term_words[0]),
				   "filter", CTX);
		if (kw < 0)
			return -1;
		if (i + 1 >= argc) {
			fprintf(stderr, CTX ": '%s' needs a value\n", term_words[kw]);
			return -1;
		}
		if (kw == 4 || kw == 5) { /* state, exclude */
			int s = parse_keyword(argv[++i], state_words,
					      sizeof(state_words) / sizeof(state_words[0]), "state",
					      CTX);

			if (s < 0)
				return -1;
			if (kw == 4) {
				o->states |= state_masks[s];
				o->states_given = true;
			} else {
				o->excluded |= state_masks[s];
			}
			continue;
		}
		if (o->nterms == MAX_TERMS) {
			fprintf(stderr, CTX ": more than %d filters\n", MAX_TERMS);
			return -1;
		}
		t = &o->terms[o->nterms++];
		memset(t, 0, sizeof(*t));
		t->kind = (enum term_kind)kw;
		i += parse_op(argv, argc, i + 1, t);
		if (i + 1 >= argc) {
			fprintf(stderr, CTX ": '%s' needs a value\n", term_words[kw]);
			return -1;
		}
		arg = argv[++i];
		if (t->kind == T_SPORT || t->kind == T_DPORT) {
			if (parse_port(arg, t) < 0) {
				fprintf(stderr, CTX ": %s: bad port '%s' ([:]0-65535)\n",
					term_words[kw], arg);
				return -1;
			}
		} else {
			if (t->op != OP_EQ && t->op != OP_NE) {
				fprintf(stderr, CTX ": %s: only = and != compare addresses\n",
					term_words[kw]);
				return -1;
			}
			if (parse_host(arg, t) < 0) {
				fprintf(stderr, CTX ": %s: bad address '%s' (ADDR[/PLEN][:PORT])\n",
					term_words[kw], arg);
				return -1;
			}
		}
	}
	return 0;
}

static bool cmp_port(enum term_op op, unsigned int have, unsigned int want)
{
	switch (op) {
	case OP_EQ:
		return have == want;
	case OP_NE:
		return have != want;
	case OP_LT:
		return have < want;
	case OP_GT:
		return have > want;
	case OP_LE:
		return have <= want;
	case OP_GE:
		return have >= want;
	}
	return false;
}

static bool term_match(const struct term *t, const struct admin_rec_tcp_sock *s)
{
	bool local = t->kind == T_SPORT || t->kind == T_SRC;
	unsigned int port = local ? s->sport : s->dport;
	uint32_t addr;
	bool eq = true;

	if (t->kind == T_SPORT || t->kind == T_DPORT)
		return !t->has_port || cmp_port(t->op, port, t->port);
	memcpy(&addr, local ? s->saddr : s->daddr, 4);
	if (t->has_addr && (addr & t->mask) != t->addr)
		eq = false;
	if (t->has_port && port != t->port)
		eq = false;
	return t->op == OP_NE ? !eq : eq;
}

static bool sock_match(const struct sockets_opts *o, const struct admin_rec_tcp_sock *s)
{
	if (s->state >= 32 || !(o->states & SF(s->state)))
		return false;
	for (unsigned int i = 0; i < o->nterms; i++)
		if (!term_match(&o->terms[i], s))
			return false;
	return true;
}

static const char *state_name(uint8_t st)
{
	return st < ST_MAX ? state_label[st] : state_label[0];
}

/* ss's print_ms_timer(): "204ms", "1.500ms", "59sec", "1min19sec", "10min" */
static void fmt_timer(char *buf, size_t n, uint32_t ms)
{
	unsigned int minutes = ms / 60000, secs = ms / 1000 % 60, msecs = ms % 1000;
	size_t l = 0;

	buf[0] = '\0';
	if (minutes) {
		msecs = 0;
		l += (size_t)snprintf(buf + l, n - l, "%umin", minutes);
		if (minutes > 9)
			secs = 0;
	}
	if (secs && l < n) {
		if (secs > 9)
			msecs = 0;
		l += (size_t)snprintf(buf + l, n - l, "%u%s", secs, msecs ? "." : "sec");
	}
	if (msecs && l < n)
		snprintf(buf + l, n - l, "%03ums", msecs);
	if (!buf[0])
		snprintf(buf, n, "0ms");
}

/* One " word:value" of the info line in text, a number under @key in JSON. */
static void kv_u64(const char *word, const char *key, uint64_t v)
{
	char fmt[64];

	snprintf(fmt, sizeof(fmt), " %s:%%llu", word);
	print_u64(PRINT_ANY, key, fmt, v);
}

/* A time kept in microseconds: milliseconds with %g in text (as ss), µs in JSON. */
static void kv_ms(const char *word, const char *key, uint32_t us)
{
	char txt[64];

	snprintf(txt, sizeof(txt), " %s:%g", word, us / 1000.0);
	print_string(PRINT_FP, NULL, "%s", txt);
	print_u64(PRINT_JSON, key, NULL, us);
}

/* A rate: bits per second, numeric as ss -n prints it. */
static void kv_bps(const char *word, const char *key, uint64_t bits)
{
	char fmt[64];

	snprintf(fmt, sizeof(fmt), " %s %%llubps", word);
	print_u64(PRINT_ANY, key, fmt, bits);
}

static uint64_t rate_bits(uint64_t bytes_per_s)
{
	return bytes_per_s > UINT64_MAX / 8 ? UINT64_MAX : bytes_per_s * 8;
}

/* The info line, in the order of ss's tcp_stats_print(). */
static void print_info(const struct admin_rec_tcp_sock *s)
{
	char ca[sizeof(s->ca_name) + 1];

	snprintf(ca, sizeof(ca), "%.*s", (int)sizeof(s->ca_name), s->ca_name);
	print_text("\n\t");
	print_bool(PRINT_JSON, "ts", NULL, s->options & ADMIN_TCPI_OPT_TIMESTAMPS);
	print_bool(PRINT_JSON, "sack", NULL, s->options & ADMIN_TCPI_OPT_SACK);
	if (s->options & ADMIN_TCPI_OPT_TIMESTAMPS)
		print_text(" ts");
	if (s->options & ADMIN_TCPI_OPT_SACK)
		print_text(" sack");
	print_string(PRINT_ANY, "congestion", " %s", ca);
	if (s->options & ADMIN_TCPI_OPT_WSCALE) {
		print_u64(PRINT_ANY, "snd_wscale", " wscale:%llu", s->snd_wscale);
		print_u64(PRINT_ANY, "rcv_wscale", ",%llu", s->rcv_wscale);
	}
	if (s->rto_us)
		kv_ms("rto", "rto_us", s->rto_us);
	if (s->backoff)
		kv_u64("backoff", "backoff", s->backoff);
	if (s->rtt_us) {
		char txt[64];

		snprintf(txt, sizeof(txt), " rtt:%g/%g", s->rtt_us / 1000.0, s->rttvar_us / 1000.0);
		print_string(PRINT_FP, NULL, "%s", txt);
	}
	print_u64(PRINT_JSON, "rtt_us", NULL, s->rtt_us);
	print_u64(PRINT_JSON, "rttvar_us", NULL, s->rttvar_us);
	if (s->ato_us)
		kv_ms("ato", "ato_us", s->ato_us);
	if (s->snd_mss)
		kv_u64("mss", "mss", s->snd_mss);
	if (s->pmtu)
		kv_u64("pmtu", "pmtu", s->pmtu);
	if (s->rcv_mss)
		kv_u64("rcvmss", "rcvmss", s->rcv_mss);
	if (s->advmss)
		kv_u64("advmss", "advmss", s->advmss);
	if (s->snd_cwnd)
		kv_u64("cwnd", "cwnd", s->snd_cwnd);
	/* ss leaves out an infinite (initial) ssthresh */
	if (s->snd_ssthresh < 0xFFFF)
		kv_u64("ssthresh", "ssthresh", s->snd_ssthresh);
	if (s->bytes_acked)
		kv_u64("bytes_acked", "bytes_acked", s->bytes_acked);
	if (s->bytes_received)
		kv_u64("bytes_received", "bytes_received", s->bytes_received);
	if (s->segs_out)
		kv_u64("segs_out", "segs_out", s->segs_out);
	if (s->segs_in)
		kv_u64("segs_in", "segs_in", s->segs_in);
	if (s->data_segs_out)
		kv_u64("data_segs_out", "data_segs_out", s->data_segs_out);
	if (s->data_segs_in)
		kv_u64("data_segs_in", "data_segs_in", s->data_segs_in);
	/* ss's "send": cwnd * mss per srtt */
	if (s->rtt_us && s->snd_mss && s->snd_cwnd)
		kv_bps("send", "send_bps",
		       (uint64_t)s->snd_cwnd * s->snd_mss * 8000000ull / s->rtt_us);
	if (s->last_data_sent_ms && s->last_data_sent_ms != ADMIN_TIME_NEVER)
		kv_u64("lastsnd", "lastsnd_ms", s->last_data_sent_ms);
	if (s->last_data_recv_ms && s->last_data_recv_ms != ADMIN_TIME_NEVER)
		kv_u64("lastrcv", "lastrcv_ms", s->last_data_recv_ms);
	if (s->last_ack_recv_ms && s->last_ack_recv_ms != ADMIN_TIME_NEVER)
		kv_u64("lastack", "lastack_ms", s->last_ack_recv_ms);
	/* UINT64_MAX: no RTT yet, so no rate limit (Linux's ~0UL) */
	if (s->pacing_rate && s->pacing_rate != UINT64_MAX)
		kv_bps("pacing_rate", "pacing_rate_bps", rate_bits(s->pacing_rate));
	if (s->delivery_rate)
		kv_bps("delivery_rate", "delivery_rate_bps", rate_bits(s->delivery_rate));
	if (s->delivered)
		kv_u64("delivered", "delivered", s->delivered);
	print_bool(PRINT_JSON, "app_limited", NULL, s->flags & ADMIN_TCP_F_APP_LIMITED);
	if (s->flags & ADMIN_TCP_F_APP_LIMITED)
		print_text(" app_limited");
	if (s->unacked)
		kv_u64("unacked", "unacked", s->unacked);
	if (s->retrans || s->total_retrans) {
		print_u64(PRINT_ANY, "retrans", " retrans:%llu", s->retrans);
		print_u64(PRINT_ANY, "retrans_total", "/%llu", s->total_retrans);
	} else {
		print_u64(PRINT_JSON, "retrans", NULL, 0);
		print_u64(PRINT_JSON, "retrans_total", NULL, 0);
	}
	if (s->lost)
		kv_u64("lost", "lost", s->lost);
	if (s->sacked && s->state != ST_LISTEN)
		kv_u64("sacked", "sacked", s->sacked);
	if (s->dsack_dups)
		kv_u64("dsack_dups", "dsack_dups", s->dsack_dups);
	/* ss prints reordering only when it left the default of 3 */
	if (s->reordering != 3)
		kv_u64("reordering", "reordering", s->reordering);
	else
		print_u64(PRINT_JSON, "reordering", NULL, s->reordering);
	if (s->reord_seen)
		kv_u64("reord_seen", "reord_seen", s->reord_seen);
	if (s->rcv_rtt_us)
		kv_ms("rcv_rtt", "rcv_rtt_us", s->rcv_rtt_us);
	if (s->rcv_space)
		kv_u64("rcv_space", "rcv_space", s->rcv_space);
	if (s->rcv_ssthresh)
		kv_u64("rcv_ssthresh", "rcv_ssthresh", s->rcv_ssthresh);
	if (s->notsent_bytes)
		kv_u64("notsent", "notsent", s->notsent_bytes);
	if (s->min_rtt_us)
		kv_ms("minrtt", "minrtt_us", s->min_rtt_us);
	if (s->snd_wnd)
		kv_u64("snd_wnd", "snd_wnd", s->snd_wnd);
	if (s->rcv_wnd)
		kv_u64("rcv_wnd", "rcv_wnd", s->rcv_wnd);

	/* Not in ss's line: tcp_info fields ss shows only elsewhere or not at all. */
	print_string(PRINT_JSON, "ca_state", NULL,
		     s->ca_state < 5 ? ca_state_names[s->ca_state] : "unknown");
	print_u64(PRINT_JSON, "retransmits", NULL, s->retransmits);
	print_u64(PRINT_JSON, "probes", NULL, s->probes);
	print_u64(PRINT_JSON, "total_rto", NULL, s->total_rto);
	print_u64(PRINT_JSON, "total_rto_recoveries", NULL, s->total_rto_recoveries);
}

/* ss -o: " timer:(NAME,WHEN,RETRANS)" */
static void print_timer(const struct admin_rec_tcp_sock *s, bool text)
{
	const char *name = s->timer < 5 ? timer_names[s->timer] : "unknown";
	unsigned int retrans = s->timer == ADMIN_TIMER_ON	? s->retransmits :
			       s->timer == ADMIN_TIMER_TIMEWAIT ? 0 :
								  s->probes;
	char when[32];

	if (s->timer == ADMIN_TIMER_OFF)
		return;
	fmt_timer(when, sizeof(when), s->timer_us / 1000);
	out_open_object("timer");
	if (text)
		print_string(PRINT_FP, NULL, " timer:(%s", name);
	print_string(PRINT_JSON, "name", NULL, name);
	if (text)
		print_string(PRINT_FP, NULL, ",%s", when);
	print_u64(PRINT_JSON, "expires_us", NULL, s->timer_us);
	print_u64(text ? PRINT_ANY : PRINT_JSON, "retrans", ",%llu)", retrans);
	out_close_object();
}

struct widths {
	int state, laddr, lport, paddr, pport;
};

static void fmt_endpoint(const uint8_t *addr, uint16_t port, bool wild, char *a, size_t an, char *p,
			 size_t pn)
{
	inet_ntop(AF_INET, addr, a, (socklen_t)an);
	if (wild)
		snprintf(p, pn, "*");
	else
		snprintf(p, pn, "%u", port);
}

static void print_sock(const struct sockets_opts *o, const struct widths *w,
		       const struct admin_rec_tcp_sock *s)
{
	bool listener = s->state == ST_LISTEN;
	char la[INET_ADDRSTRLEN], lp[8], pa[INET_ADDRSTRLEN], pp[8], fmt[32];

	fmt_endpoint(s->saddr, s->sport, false, la, sizeof(la), lp, sizeof(lp));
	fmt_endpoint(s->daddr, s->dport, listener, pa, sizeof(pa), pp, sizeof(pp));
	out_open_object(NULL);
	snprintf(fmt, sizeof(fmt), "%%-%ds ", w->state);
	print_string(PRINT_ANY, "state", fmt, state_name(s->state));
	print_u64(PRINT_ANY, "recv_q", "%-6llu ", s->recv_q);
	print_u64(PRINT_ANY, "send_q", "%-6llu ", s->send_q);
	snprintf(fmt, sizeof(fmt), "%%%ds", w->laddr);
	print_string(PRINT_ANY, "local_address", fmt, la);
	snprintf(fmt, sizeof(fmt), ":%%-%ds ", w->lport);
	print_string(PRINT_FP, NULL, fmt, lp);
	print_u64(PRINT_JSON, "local_port", NULL, s->sport);
	snprintf(fmt, sizeof(fmt), "%%%ds", w->paddr);
	print_string(PRINT_ANY, "peer_address", fmt, pa);
	/* Padded only when the timer follows: no trailing blanks. */
	snprintf(fmt, sizeof(fmt), ":%%-%ds", o->timers && s->timer ? w->pport : 0);
	print_string(PRINT_FP, NULL, fmt, pp);
	print_u64(PRINT_JSON, "peer_port", NULL, s->dport);
	print_u64(PRINT_JSON, "worker", NULL, s->worker);
	if (s->uid != ADMIN_UID_USNETD)
		print_u64(PRINT_JSON, "uid", NULL, s->uid);
	print_timer(s, o->timers);
	if (s->flags & ADMIN_TCP_F_INFO) {
		if (o->info || out_is_json())
			print_info(s);
	} else if (o->info) {
		print_text("\n\t"); /* ss prints an empty info line for minisocks */
	}
	print_text("\n");
	out_close_object();
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void measure(const struct admin_rec_tcp_sock *s, struct widths *w)
{
	char la[INET_ADDRSTRLEN], lp[8], pa[INET_ADDRSTRLEN], pp[8];

	fmt_endpoint(s->saddr, s->sport, false, la, sizeof(la), lp, sizeof(lp));
	fmt_endpoint(s->daddr, s->dport, s->state == ST_LISTEN, pa, sizeof(pa), pp, sizeof(pp));
	w->state = max_int(w->state, (int)strlen(state_name(s->state)));
	w->laddr = max_int(w->laddr, (int)strlen(la));
	w->lport = max_int(w->lport, (int)strlen(lp));
	w->paddr = max_int(w->paddr, (int)strlen(pa));
	w->pport = max_int(w->pport, (int)strlen(pp));
}

int cmd_sockets(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct sockets_opts o = { 0 };
	struct admin_rec_sock_filter f = { 0 };
	struct client_rec rec = { ADMIN_REC_SOCK_FILTER, &f, sizeof(f) };
	struct widths w = { 5, 13, 4, 12, 4 }; /* the headings' widths */
	struct reply r;
	int rc;

	rc = parse_args(&o, argc, argv);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (!o.states_given)
		o.states = SS_CONN;
	o.states &= ~o.excluded;
	/* A mask of 0 asks for everything; bit 0 is no state, so it asks
	 * for nothing. */
	f.states = o.states ? o.states : 1u;
	rc = client_request(ctx->control, ADMIN_SOCKETS, &rec, &r);
	if (rc != EXIT_OK) {
		reply_free(&r);
		return rc;
	}
	for (size_t i = 0; i < r.n; i++)
		if (r.recs[i].type == ADMIN_REC_TCP_SOCK && sock_match(&o, r.recs[i].body))
			measure(r.recs[i].body, &w);
	{
		char head[160];

		snprintf(head, sizeof(head), "%-*s %-6s %-6s %*s:%-*s %*s:Port\n", w.state, "State",
			 "Recv-Q", "Send-Q", w.laddr, "Local Address", w.lport, "Port", w.paddr,
			 "Peer Address");
		print_text("%s", head);
	}
	out_open_array(NULL);
	for (size_t i = 0; i < r.n; i++)
		if (r.recs[i].type == ADMIN_REC_TCP_SOCK && sock_match(&o, r.recs[i].body))
			print_sock(&o, &w, r.recs[i].body);
	out_close_array();
	out_finish();
	reply_free(&r);
	return EXIT_OK;
}
