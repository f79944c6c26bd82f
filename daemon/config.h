/* SPDX-License-Identifier: MIT */
/*
 * usnetd configuration: one directive table serves the command line
 * (--name VALUE) and the configuration file (name VALUE), so both accept
 * the same words with the same checks. Errors name the option, or
 * file:line, and the offending word.
 */
#ifndef USNET_DAEMON_CONFIG_H
#define USNET_DAEMON_CONFIG_H

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "service.h"

#define CONFIG_MAX_ADDRS 16
#define CONFIG_DEFAULT_FILE SYSCONFDIR "/usnet/usnetd.conf"
#define CONFIG_DEFAULT_TAP "usnet0"

struct config_addr {
	uint32_t addr; /* network order */
	uint8_t plen;
};

struct usnetd_config {
	char config_file[PATH_MAX];
	bool config_explicit; /* -c given: a missing file is an error */
	bool foreground;
	bool check_only;
	char tap[16];
	struct config_addr addrs[CONFIG_MAX_ADDRS];
	unsigned int naddrs;
	uint32_t gateway; /* network order, 0 = none */
	uint32_t mtu;
	char control[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host_netns[64];
	struct config_addr host_addr;
	bool has_host_addr;
	int log_level;
	char user[64];
	uint32_t budget;
	uint32_t busy_poll_us;
	struct service_spec services[SERVICE_MAX];
	unsigned int nservices;
};

/** config_defaults() - built-in defaults (see usnetd(8)) */
void config_defaults(struct usnetd_config *cfg);

/**
 * config_parse_args() - read the configuration file named by -c (or the
 * default one if it exists), then apply command-line options over it.
 * Prints one line to stderr for the first error.
 * Return: 0, 1 on a configuration error, 2 on a usage error, -1 when the
 * caller should exit 0 (--help, --version).
 */
int config_parse_args(struct usnetd_config *cfg, int argc, char **argv);

/**
 * config_parse_file() - apply the directives of @path to @cfg
 * Return: 0, or 1 after printing "FILE:LINE: problem" to stderr.
 */
int config_parse_file(struct usnetd_config *cfg, const char *path);

/**
 * config_parse_prefix() - "A.B.C.D/N" (N defaults to 32 without a slash
 * only when @allow_bare)
 * Return: 0, -EINVAL.
 */
int config_parse_prefix(const char *s, struct config_addr *out, bool allow_bare);

void config_usage(FILE *f);

#endif
