// SPDX-License-Identifier: MIT
/* Unambiguous-prefix keyword matching for every usnet command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int parse_keyword_quiet(const char *word, const char *const *words, size_t n)
{
	size_t len = strlen(word);
	int match = -1, count = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(words[i], word))
			return (int)i;
		if (!strncmp(words[i], word, len)) {
			match = (int)i;
			count++;
		}
	}
	if (count > 1)
		return -2;
	return match;
}

int parse_keyword(const char *word, const char *const *words, size_t n, const char *what,
		  const char *ctx)
{
	int i = parse_keyword_quiet(word, words, n);

	if (i >= 0)
		return i;
	fprintf(stderr, "%s: %s %s '%s'\n", ctx, i == -2 ? "ambiguous" : "unknown", what, word);
	fprintf(stderr, "%s: valid %ss:", ctx, what);
	for (size_t k = 0; k < n; k++)
		fprintf(stderr, " %s", words[k]);
	fprintf(stderr, "\n");
	return -1;
}

int parse_u32(const char *s, unsigned long max, unsigned int *v)
{
	unsigned long x;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*v = (unsigned int)x;
	return 0;
}
