// SPDX-License-Identifier: MIT
/* Human and JSON output behind one set of print calls. */
#include <stdarg.h>
#include <stdio.h>

#include "json.h"
#include "out.h"

static struct json_writer jw;
static bool json_mode;

void out_init(bool json, bool pretty)
{
	json_mode = json;
	if (json)
		json_init(&jw, stdout, pretty);
}

bool out_is_json(void)
{
	return json_mode;
}

void out_finish(void)
{
	if (json_mode)
		json_finish(&jw);
}

void out_open_object(const char *key)
{
	if (json_mode)
		json_begin_object(&jw, key);
}

void out_close_object(void)
{
	if (json_mode)
		json_end_object(&jw);
}

void out_open_array(const char *key)
{
	if (json_mode)
		json_begin_array(&jw, key);
}

void out_close_array(void)
{
	if (json_mode)
		json_end_array(&jw);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void print_string(enum print_type t, const char *key, const char *fmt, const char *v)
{
	if (json_mode) {
		if (t != PRINT_FP)
			json_string(&jw, key, v);
	} else if (t != PRINT_JSON && fmt) {
		printf(fmt, v);
	}
}

void print_u64(enum print_type t, const char *key, const char *fmt, uint64_t v)
{
	if (json_mode) {
		if (t != PRINT_FP)
			json_u64(&jw, key, v);
	} else if (t != PRINT_JSON && fmt) {
		printf(fmt, (unsigned long long)v);
	}
}

void print_bool(enum print_type t, const char *key, const char *fmt, bool v)
{
	if (json_mode) {
		if (t != PRINT_FP)
			json_bool(&jw, key, v);
	} else if (t != PRINT_JSON && fmt) {
		printf(fmt, v ? "yes" : "no");
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (json_mode)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
#pragma GCC diagnostic pop
