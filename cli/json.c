// SPDX-License-Identifier: MIT
/* Streaming JSON writer: RFC 8259 string escaping, optional indentation. */
#include "json.h"

void json_init(struct json_writer *jw, FILE *f, bool pretty)
{
	jw->f = f;
	jw->pretty = pretty;
	jw->depth = 0;
	jw->first[0] = true;
}

static void json_indent(struct json_writer *jw)
{
	if (!jw->pretty)
		return;
	fputc('\n', jw->f);
	for (int i = 0; i < jw->depth; i++)
		fputs("  ", jw->f);
}

static void json_quote(struct json_writer *jw, const char *s)
{
	fputc('"', jw->f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", jw->f);
			break;
		case '\\':
			fputs("\\\\", jw->f);
			break;
		case '\n':
			fputs("\\n", jw->f);
			break;
		case '\r':
			fputs("\\r", jw->f);
			break;
		case '\t':
			fputs("\\t", jw->f);
			break;
		default:
			if (*p < 0x20)
				fprintf(jw->f, "\\u%04x", *p);
			else
				fputc(*p, jw->f);
		}
	}
	fputc('"', jw->f);
}

/* Separator, indentation and member name before any value. */
static void json_member(struct json_writer *jw, const char *key)
{
	if (!jw->first[jw->depth])
		fputc(',', jw->f);
	jw->first[jw->depth] = false;
	if (jw->depth > 0)
		json_indent(jw);
	if (key) {
		json_quote(jw, key);
		fputs(jw->pretty ? ": " : ":", jw->f);
	}
}

static void json_open(struct json_writer *jw, const char *key, char c)
{
	json_member(jw, key);
	fputc(c, jw->f);
	if (jw->depth + 1 < JSON_MAX_DEPTH)
		jw->depth++;
	jw->first[jw->depth] = true;
}

static void json_close(struct json_writer *jw, char c)
{
	bool empty = jw->first[jw->depth];

	if (jw->depth > 0)
		jw->depth--;
	if (!empty)
		json_indent(jw);
	fputc(c, jw->f);
}

void json_begin_object(struct json_writer *jw, const char *key)
{
	json_open(jw, key, '{');
}
void json_end_object(struct json_writer *jw)
{
	json_close(jw, '}');
}
void json_begin_array(struct json_writer *jw, const char *key)
{
	json_open(jw, key, '[');
}
void json_end_array(struct json_writer *jw)
{
	json_close(jw, ']');
}

void json_string(struct json_writer *jw, const char *key, const char *v)
{
	json_member(jw, key);
	json_quote(jw, v);
}

void json_u64(struct json_writer *jw, const char *key, uint64_t v)
{
	json_member(jw, key);
	fprintf(jw->f, "%llu", (unsigned long long)v);
}

void json_bool(struct json_writer *jw, const char *key, bool v)
{
	json_member(jw, key);
	fputs(v ? "true" : "false", jw->f);
}

void json_null(struct json_writer *jw, const char *key)
{
	json_member(jw, key);
	fputs("null", jw->f);
}

void json_finish(struct json_writer *jw)
{
	fputc('\n', jw->f);
}
