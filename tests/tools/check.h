/* SPDX-License-Identifier: MIT */
/*
 * CHECK() for the semantics checkers (shimcheck, epollcheck): each check
 * prints "ok: ..." or "FAIL: ..." with errno as it was, and counts the
 * failures the program exits with. Output is flushed, so that a check
 * that hangs is the one after the last line printed.
 */
#ifndef USNET_TESTS_TOOLS_CHECK_H
#define USNET_TESTS_TOOLS_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                      \
	do {                                                  \
		if (cond) {                                   \
			printf("ok: ");                       \
		} else {                                      \
			printf("FAIL: ");                     \
			failures++;                           \
		}                                             \
		printf(__VA_ARGS__);                          \
		printf(" (errno %s)\n", strerror(errno));     \
		fflush(stdout);                               \
	} while (0)

#endif
