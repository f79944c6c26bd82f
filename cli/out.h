/* SPDX-License-Identifier: MIT */
/*
 * Output for every usnet command, after iproute2's json_print.h: each field
 * is printed by one call that knows both its human format and its JSON key,
 * so text and -j output cannot drift apart.
 */
#ifndef USNET_CLI_OUT_H
#define USNET_CLI_OUT_H

#include <stdbool.h>
#include <stdint.h>

enum print_type {
	PRINT_ANY, /* both text and JSON */
	PRINT_FP, /* text only */
	PRINT_JSON, /* JSON only */
};

void out_init(bool json, bool pretty);
bool out_is_json(void);
void out_finish(void);

void out_open_object(const char *key);
void out_close_object(void);
void out_open_array(const char *key);
void out_close_array(void);

void print_string(enum print_type t, const char *key, const char *fmt, const char *v);
void print_u64(enum print_type t, const char *key, const char *fmt, uint64_t v);
void print_bool(enum print_type t, const char *key, const char *fmt, bool v);
/** print_text() - literal text in human output only */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
