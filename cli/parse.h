/* SPDX-License-Identifier: MIT */
/*
 * Keyword matching for the usnet command line (OpenBSD relayctl's parser
 * idea): a word names the keyword it equals, or else the only keyword it is
 * a prefix of. Table order never decides; an ambiguous or unknown word is
 * an error that lists the valid words.
 */
#ifndef USNET_CLI_PARSE_H
#define USNET_CLI_PARSE_H

#include <stddef.h>

/**
 * parse_keyword() - find @word among the @n strings of @words
 * @what: what the words are, for the error message ("command", "state")
 * @ctx: prefix of the error message ("usnet" or "usnet: sockets")
 *
 * An exact match wins; otherwise @word must be a prefix of exactly one
 * word. On failure one line "CTX: ambiguous|unknown WHAT 'WORD'" and one
 * line "CTX: valid WHATs: ..." go to stderr.
 * Return: the index, or -1.
 */
int parse_keyword(const char *word, const char *const *words, size_t n, const char *what,
		  const char *ctx);

/**
 * parse_keyword_quiet() - parse_keyword() without messages
 * Return: the index, -1 if unknown, -2 if ambiguous.
 */
int parse_keyword_quiet(const char *word, const char *const *words, size_t n);

/**
 * parse_u32() - a decimal number from 0 to @max, the whole of @s
 * Return: 0 with *@v set, -1.
 */
int parse_u32(const char *s, unsigned long max, unsigned int *v);

#endif
