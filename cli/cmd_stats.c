// SPDX-License-Identifier: MIT
/*
 * `usnet stats`: the stack's counters as nstat(8) prints the kernel's, one
 * "Name value rate" line each, the name being the MIB group and the
 * counter's nstat name run together (IpInReceives, TcpExtTCPTimeouts) and
 * the drop reasons under the group Drop (DropTCP_CSUM).
 *
 * Differences from nstat, because usnetd keeps no history per user: the
 * values are always absolute (nstat -a), nothing is remembered between
 * runs, and the rate column is the average per second since usnetd
 * started. Zero counters are left out unless -a (or nstat's -z) is given.
 * Arguments are shell patterns matched against the names, case
 * insensitively, as nstat matches them; `drops` is short for 'Drop*'.
 * -j prints {"Ip": {"InReceives": 5, ...}, ...}: the same counters, keyed
 * by group and name, without the rate.
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "out.h"
#include "parse.h"

#define CTX "usnet: stats"
#define MAX_PATTERNS 64

struct stats_opts {
	bool zeros;
	const char *patterns[MAX_PATTERNS];
	unsigned int npatterns;
};

static const char *const long_opts[] = { "all", "zeros", "help" };
static const char *const drops_word[] = { "drops" };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usnet stats [-a] [drops | PATTERN...]\n"
		"  -a, -z, --all, --zeros  zero counters too\n"
		"  PATTERN                 shell pattern on the names, any case (Tcp*, *Retrans*)\n"
		"  drops                   the drop reasons (Drop*)\n"
		"Values since usnetd started; the rate is their average per second.\n"
		"See usnet(8).\n");
}

/* Return: 0, 1 after printing the help, -1 after a usage error. */
static int parse_args(struct stats_opts *o, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (arg[0] == '-' && arg[1] == '-') {
			int k = parse_keyword(arg + 2, long_opts, 3, "option", CTX);

			if (k < 0)
				return -1;
			if (k == 2) {
				usage(stdout);
				return 1;
			}
			o->zeros = true;
			continue;
		}
		if (arg[0] == '-' && arg[1]) {
			for (const char *p = arg + 1; *p; p++) {
				if (*p == 'h') {
					usage(stdout);
					return 1;
				}
				if (*p != 'a' && *p != 'z') {
					fprintf(stderr, CTX ": unknown option '-%c' (-a, -z, -h)\n",
						*p);
					return -1;
				}
				o->zeros = true;
			}
			continue;
		}
		if (o->npatterns == MAX_PATTERNS) {
			fprintf(stderr, CTX ": more than %d patterns\n", MAX_PATTERNS);
			return -1;
		}
		/* Counter names start with a capital letter; a lower-case word
		 * that abbreviates "drops" is the keyword. */
		if (!strpbrk(arg, "*?[") && parse_keyword_quiet(arg, drops_word, 1) == 0)
			arg = "Drop*";
		o->patterns[o->npatterns++] = arg;
	}
	return 0;
}

static bool wanted(const struct stats_opts *o, const char *name, uint64_t v)
{
	if (!v && !o->zeros)
		return false;
	if (!o->npatterns)
		return true;
	for (unsigned int i = 0; i < o->npatterns; i++)
		if (!fnmatch(o->patterns[i], name, FNM_CASEFOLD))
			return true;
	return false;
}

int cmd_stats(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct stats_opts o = { 0 };
	char open_group[17] = "";
	double uptime_s = 0;
	struct reply r;
	int rc;

	rc = parse_args(&o, argc, argv);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	rc = client_request(ctx->control, ADMIN_STATS, NULL, &r);
	if (rc != EXIT_OK) {
		reply_free(&r);
		return rc;
	}
	for (size_t i = 0; i < r.n; i++)
		if (r.recs[i].type == ADMIN_REC_DAEMON) {
			const struct admin_rec_daemon *d = r.recs[i].body;

			uptime_s = (double)d->uptime_ns / 1e9;
		}

	/* nstat's header names where the numbers come from. */
	print_text("#usnetd\n");
	out_open_object(NULL);
	for (size_t i = 0; i < r.n; i++) {
		const struct admin_rec_counter *c = r.recs[i].body;
		char group[17], name[49], full[80];
		double rate;

		if (r.recs[i].type != ADMIN_REC_COUNTER)
			continue;
		snprintf(group, sizeof(group), "%.*s", (int)sizeof(c->group), c->group);
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(c->name), c->name);
		snprintf(full, sizeof(full), "%s%s", group, name);
		if (!wanted(&o, full, c->value))
			continue;
		/* Counters arrive grouped: one JSON object per group. */
		if (strcmp(group, open_group)) {
			if (open_group[0])
				out_close_object();
			out_open_object(group);
			snprintf(open_group, sizeof(open_group), "%s", group);
		}
		rate = uptime_s > 0 ? (double)c->value / uptime_s : 0;
		print_text("%-32s", full);
		print_u64(PRINT_ANY, name, "%-16llu", c->value);
		print_text("%6.1f\n", rate);
	}
	if (open_group[0])
		out_close_object();
	out_close_object();
	out_finish();
	reply_free(&r);
	return EXIT_OK;
}
