// SPDX-License-Identifier: MIT
/*
 * usnet: the admin tool. Global options, then an object word matched by
 * unambiguous prefix against a table (OpenBSD relayctl parser: table order
 * never decides; "ambiguous" and "unknown" are errors listing the valid
 * words).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "ipc/abi.h"
#include "out.h"

struct command {
	const char *name;
	int (*fn)(const struct cli_ctx *ctx, int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
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
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nSee usnet(8).\n");
}

static void list_commands(FILE *f)
{
	fprintf(f, "usnet: valid commands:");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, " %s", commands[i].name);
	fprintf(f, "\n");
}

static const struct command *find_command(const char *word)
{
	const struct command *match = NULL;
	size_t len = strlen(word);
	int n = 0;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(commands[i].name, word))
			return &commands[i];
		if (!strncmp(commands[i].name, word, len)) {
			match = &commands[i];
			n++;
		}
	}
	if (n == 1)
		return match;
	fprintf(stderr, "usnet: %s command '%s'\n", n ? "ambiguous" : "unknown", word);
	list_commands(stderr);
	return NULL;
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
