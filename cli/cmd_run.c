// SPDX-License-Identifier: MIT
/*
 * `usnet run [--] CMD ARGS...`: run an unmodified program with libusnet
 * preloaded (as onload or torsocks do). Sets USNET_CONTROL to the control
 * socket and prepends libusnet to LD_PRELOAD, then execs CMD: the exit
 * status is CMD's own. USNET_LIB overrides where libusnet.so is (a build
 * tree's shim/.libs/libusnet.so, say).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"

#ifndef LIBDIR
#define LIBDIR "/usr/local/lib"
#endif

int cmd_run(const struct cli_ctx *ctx, int argc, char **argv)
{
	const char *lib = getenv("USNET_LIB"), *old = getenv("LD_PRELOAD");
	char *preload;
	size_t n;

	if (argc > 0 && !strcmp(argv[0], "--")) {
		argc--;
		argv++;
	}
	if (argc < 1) {
		fprintf(stderr, "usage: usnet run [--] COMMAND [ARGS...]\n");
		return EXIT_USAGE;
	}
	if (!lib || !*lib)
		lib = LIBDIR "/libusnet.so";
	if (access(lib, R_OK) < 0) {
		fprintf(stderr, "usnet: %s: %s (set USNET_LIB to libusnet.so)\n", lib,
			strerror(errno));
		return EXIT_FAIL;
	}
	n = strlen(lib) + (old ? strlen(old) + 1 : 0) + 1;
	preload = malloc(n);
	if (!preload) {
		fprintf(stderr, "usnet: out of memory\n");
		return EXIT_FAIL;
	}
	snprintf(preload, n, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
	if (setenv("LD_PRELOAD", preload, 1) < 0 || setenv("USNET_CONTROL", ctx->control, 1) < 0) {
		fprintf(stderr, "usnet: setenv: %s\n", strerror(errno));
		free(preload);
		return EXIT_FAIL;
	}
	free(preload);
	execvp(argv[0], argv);
	fprintf(stderr, "usnet: %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
