/* SPDX-License-Identifier: MIT */
/* usnet subcommands and their shared context. */
#ifndef USNET_CLI_CMD_H
#define USNET_CLI_CMD_H

struct cli_ctx {
	const char *control;
	int json;
	int pretty;
};

/** cmd_status() - `usnet status`. Return: an exit status (client.h). */
int cmd_status(const struct cli_ctx *ctx, int argc, char **argv);

/** cmd_sockets() - `usnet sockets`, ss style. Return: an exit status. */
int cmd_sockets(const struct cli_ctx *ctx, int argc, char **argv);

/** cmd_stats() - `usnet stats`, nstat style. Return: an exit status. */
int cmd_stats(const struct cli_ctx *ctx, int argc, char **argv);

/** cmd_run() - `usnet run -- CMD`: exec CMD with libusnet. Return: exit status on failure. */
int cmd_run(const struct cli_ctx *ctx, int argc, char **argv);

#endif
