/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer (iproute2 json_writer shape). */
#ifndef USNET_CLI_JSON_H
#define USNET_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *jw, FILE *f, bool pretty);

/* @key is the member name inside an object, NULL inside an array or at top level. */
void json_begin_object(struct json_writer *jw, const char *key);
void json_end_object(struct json_writer *jw);
void json_begin_array(struct json_writer *jw, const char *key);
void json_end_array(struct json_writer *jw);
void json_string(struct json_writer *jw, const char *key, const char *v);
void json_u64(struct json_writer *jw, const char *key, uint64_t v);
void json_bool(struct json_writer *jw, const char *key, bool v);
void json_null(struct json_writer *jw, const char *key);

/** json_finish() - newline after the top-level value */
void json_finish(struct json_writer *jw);

#endif
