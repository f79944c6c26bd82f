// SPDX-License-Identifier: MIT
/*
 * usnet: the admin tool. Global options, then a command word matched by
 * unambiguous prefix (parse.c: table order never decides; "ambiguous" and
 * "unknown" are errors listing the valid words); each command parses the
 * rest of the line itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "ipc/abi.h"
#include "out.h"
#include "parse.h"

struct command {
	const char *name;
	int (*fn)(const struct cli_ctx *ctx, int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "run a program with its TCP sockets on usnet (-- CMD ARGS...)" },
	{ "sockets", cmd_sockets, "TCP sockets, as ss -tn shows them (-a, -l, -i, -o, filters)" },
	{ "stats", cmd_stats, "counters, as nstat shows them (-a, PATTERN...)" },
	{ "status", cmd_status, "daemon, link, addresses, routes, neighbours and counters" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: usnet [-j] [-p] [--control PATH] COMMAND [ARGS]\n\n"
		   "options:\n"
		   "  -j, --json            JSON output\n"
		   "  -p, --pretty          indent JSON output\n"
		   "      --control PATH    usnetd's control socket (" IPC_DEFAULT_CONTROL ")\n"
		   "  -h, --help            this help\n"
		   "  -V, --version         show the version\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nSee usnet(8).\n");
}

static const struct command *find_command(const char *word)
{
	const char *names[NCOMMANDS];
	int i;

	for (size_t k = 0; k < NCOMMANDS; k++)
		names[k] = commands[k].name;
	i = parse_keyword(word, names, NCOMMANDS, "command", "usnet");
	return i < 0 ? NULL : &commands[i];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	     { "pretty", no_argument, NULL, 'p' },
		{ "control", required_argument, NULL, 'C' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	     { NULL, 0, NULL, 0 },
	};
	struct cli_ctx ctx = { .control = IPC_DEFAULT_CONTROL };
	const struct command *cmd;
	int c;

	opterr = 0;
	/* '+': options end at the command word, so each command parses its own. */
	while ((c = getopt_long(argc, argv, "+:jphV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctx.json = 1;
			break;
		case 'p':
			ctx.pretty = 1;
			break;
		case 'C':
			ctx.control = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("usnet %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "usnet: option '%s' needs a value\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "usnet: unknown option '%s' (see usnet --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return EXIT_USAGE;
	out_init(ctx.json, ctx.pretty);
	return cmd->fn(&ctx, argc - optind - 1, argv + optind + 1);
}
