/* SPDX-License-Identifier: MIT */
/*
 * usnetd logging: stderr in the foreground, syslog (the journal) otherwise.
 * Messages are lowercase "subject: what failed: why", no trailing period.
 * Anything a client or a peer can trigger goes through log_ratelimited(),
 * which allows a burst per call site and then counts what it suppressed
 * (the kernel's net_ratelimit).
 */
#ifndef USNET_DAEMON_LOG_H
#define USNET_DAEMON_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

enum log_level {
	LOG_LVL_ERR = LOG_ERR,
	LOG_LVL_WARN = LOG_WARNING,
	LOG_LVL_NOTICE = LOG_NOTICE,
	LOG_LVL_INFO = LOG_INFO,
	LOG_LVL_DEBUG = LOG_DEBUG,
};

/** log_init() - @to_stderr: foreground; otherwise syslog with ident "usnetd" */
void log_init(bool to_stderr, int level);

/** log_set_level() - change the threshold (SIGHUP, admin) */
void log_set_level(int level);

int log_get_level(void);

/** log_level_parse() - "err".."debug" to a level. Return: the level, or -1. */
int log_level_parse(const char *s);

const char *log_level_name(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Per-call-site limiter state: 10 messages per 5 s window. */
struct log_rl {
	_Atomic uint64_t window_start_ns;
	_Atomic uint32_t printed;
	_Atomic uint32_t suppressed;
};

/** log_rl_allow() - true if this site may print now; reports suppressions */
bool log_rl_allow(struct log_rl *rl);

#define log_ratelimited(level, ...)                                            \
	do {                                                                   \
		static struct log_rl log_rl_site_;                             \
		if ((level) <= log_get_level() && log_rl_allow(&log_rl_site_)) \
			log_msg((level), __VA_ARGS__);                         \
	} while (0)

#endif
