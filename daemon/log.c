// SPDX-License-Identifier: MIT
/* usnetd logging backends and the per-site rate limiter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define LOG_RL_WINDOW_NS (5ull * 1000000000ull)
#define LOG_RL_BURST 10

static bool log_stderr = true;
static _Atomic int log_level = LOG_LVL_NOTICE;

static const char *const level_names[] = {
	[LOG_ERR] = "err",   [LOG_WARNING] = "warn", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_init(bool to_stderr, int level)
{
	log_stderr = to_stderr;
	atomic_store(&log_level, level);
	if (!to_stderr)
		openlog("usnetd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
	atomic_store(&log_level, level);
}

int log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

int log_level_parse(const char *s)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (level_names[i] && !strcmp(s, level_names[i]))
			return i;
	if (!strcmp(s, "error"))
		return LOG_ERR;
	if (!strcmp(s, "warning"))
		return LOG_WARNING;
	return -1;
}

const char *log_level_name(int level)
{
	return level >= LOG_ERR && level <= LOG_DEBUG ? level_names[level] : "?";
}

void log_msg(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_stderr)
		fprintf(stderr, "usnetd: %s\n", buf);
	else
		syslog(level, "%s", buf);
}

bool log_rl_allow(struct log_rl *rl)
{
	struct timespec ts;
	uint64_t now, start;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	start = atomic_load_explicit(&rl->window_start_ns, memory_order_relaxed);
	if (now - start >= LOG_RL_WINDOW_NS &&
	    atomic_compare_exchange_strong(&rl->window_start_ns, &start, now)) {
		uint32_t missed = atomic_exchange(&rl->suppressed, 0);

		atomic_store(&rl->printed, 0);
		if (missed)
			log_msg(LOG_LVL_WARN, "%u similar messages suppressed", missed);
	}
	if (atomic_fetch_add_explicit(&rl->printed, 1, memory_order_relaxed) < LOG_RL_BURST)
		return true;
	atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
	return false;
}
