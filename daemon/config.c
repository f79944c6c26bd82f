// SPDX-License-Identifier: MIT
/*
 * usnetd.conf(5) and usnetd(8) options from one directive table (chrony
 * conf.c's CNF_ParseLine shape). A directive handler checks its value and
 * stores it; the callers only add where the word came from to the message.
 */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "ipc/abi.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* The value is in @v; on failure a handler writes why into @why. */
typedef int (*directive_fn)(struct usnetd_config *cfg, const char *v, char *why, size_t n);

struct directive {
	const char *name;
	int has_arg; /* getopt: no_argument or required_argument */
	int short_opt; /* 0 = long only */
	bool file_ok; /* may appear in usnetd.conf */
	directive_fn set;
	const char *arg_name;
	const char *help;
};

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out, char *why, size_t n)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
		snprintf(why, n, "not a number from %u to %u", lo, hi);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

int config_parse_prefix(const char *s, struct config_addr *out, bool allow_bare)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long plen = 32;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (slash) {
		buf[slash - s] = '\0';
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || plen < 0 || plen > 32)
			return -EINVAL;
	} else if (!allow_bare) {
		return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	out->addr = a.s_addr;
	out->plen = (uint8_t)plen;
	return 0;
}

static int unicast_ok(uint32_t a, char *why, size_t n)
{
	uint32_t h = ntohl(a);

	if (h == 0 || h == 0xffffffffu || (h >> 28) == 0xe || (h >> 24) == 127 || (h >> 24) == 0) {
		snprintf(why, n, "not a unicast host address");
		return -1;
	}
	return 0;
}

static int set_foreground(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	cfg->foreground = true;
	return 0;
}

static int set_config(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	return 0; /* handled before the other options */
}

static int set_check_config(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	cfg->check_only = true;
	return 0;
}

static int set_tap(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	size_t len = strlen(v);

	/* IFNAMSIZ - 1 characters; no '/' or whitespace (dev_valid_name). */
	if (len == 0 || len >= sizeof(cfg->tap) || strpbrk(v, "/ \t:") || !strcmp(v, ".") ||
	    !strcmp(v, "..")) {
		snprintf(why, n,
			 "not a valid interface name (1 to 15 characters, no '/', ':' or spaces)");
		return -1;
	}
	memcpy(cfg->tap, v, len + 1);
	return 0;
}

static int set_address(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	struct config_addr a;

	if (config_parse_prefix(v, &a, false) < 0) {
		snprintf(why, n, "not an IPv4 address with prefix length (A.B.C.D/N)");
		return -1;
	}
	if (unicast_ok(a.addr, why, n) < 0)
		return -1;
	/* The stack refuses these too (RFC 3021 exempts /31 and /32); say so
	 * now, so that --check-config catches it. */
	if (a.plen < 31) {
		uint32_t host = ntohl(a.addr) & (0xffffffffu >> a.plen);

		if (host == 0 || host == (0xffffffffu >> a.plen)) {
			snprintf(why, n, "the %s address of its subnet, not a host address",
				 host ? "broadcast" : "network");
			return -1;
		}
	}
	for (unsigned int i = 0; i < cfg->naddrs; i++)
		if (cfg->addrs[i].addr == a.addr) {
			snprintf(why, n, "address given twice");
			return -1;
		}
	if (cfg->naddrs == CONFIG_MAX_ADDRS) {
		snprintf(why, n, "more than %d addresses", CONFIG_MAX_ADDRS);
		return -1;
	}
	cfg->addrs[cfg->naddrs++] = a;
	return 0;
}

static int set_gateway(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1) {
		snprintf(why, n, "not an IPv4 address (A.B.C.D)");
		return -1;
	}
	if (unicast_ok(a.s_addr, why, n) < 0)
		return -1;
	cfg->gateway = a.s_addr;
	return 0;
}

static int set_mtu(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	return parse_u32(v, 68, 65520, &cfg->mtu, why, n);
}

static int set_control(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	if (!*v || strlen(v) >= sizeof(cfg->control)) {
		snprintf(why, n, "path empty or longer than %zu bytes", sizeof(cfg->control) - 1);
		return -1;
	}
	strcpy(cfg->control, v);
	return 0;
}

static int set_host_netns(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	if (!*v || strlen(v) >= sizeof(cfg->host_netns) ||
	    (!strchr(v, '/') && (!strcmp(v, ".") || !strcmp(v, "..")))) {
		snprintf(why, n, "not a namespace name or path");
		return -1;
	}
	strcpy(cfg->host_netns, v);
	return 0;
}

static int set_host_address(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	if (config_parse_prefix(v, &cfg->host_addr, false) < 0) {
		snprintf(why, n, "not an IPv4 address with prefix length (A.B.C.D/N)");
		return -1;
	}
	if (unicast_ok(cfg->host_addr.addr, why, n) < 0)
		return -1;
	cfg->has_host_addr = true;
	return 0;
}

static int set_log_level(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	int l = log_level_parse(v);

	if (l < 0) {
		snprintf(why, n, "not one of err, warn, notice, info, debug");
		return -1;
	}
	cfg->log_level = l;
	return 0;
}

static int set_user(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	if (!*v || strlen(v) >= sizeof(cfg->user)) {
		snprintf(why, n, "not a user name");
		return -1;
	}
	strcpy(cfg->user, v);
	return 0;
}

static int set_budget(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	return parse_u32(v, 1, 4096, &cfg->budget, why, n);
}

static int set_busy_poll(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	return parse_u32(v, 0, 1000000, &cfg->busy_poll_us, why, n);
}

static int set_service(struct usnetd_config *cfg, const char *v, char *why, size_t n)
{
	struct service_spec specs[SERVICE_MAX];
	int k = service_parse(v, specs, SERVICE_MAX, why, (unsigned int)n);

	if (k < 0)
		return -1;
	for (int i = 0; i < k; i++) {
		for (unsigned int j = 0; j < cfg->nservices; j++)
			if (cfg->services[j].port == specs[i].port) {
				snprintf(why, n, "port %u already has a service", specs[i].port);
				return -1;
			}
		if (cfg->nservices == SERVICE_MAX) {
			snprintf(why, n, "more than %d services", SERVICE_MAX);
			return -1;
		}
		cfg->services[cfg->nservices++] = specs[i];
	}
	return 0;
}

enum { OPT_HELP = 'h', OPT_VERSION = 'V' };

static const struct directive directives[] = {
	{ "foreground", no_argument, 'f', false, set_foreground, NULL,
	  "stay in the foreground and log to stderr" },
	{ "config", required_argument, 'c', false, set_config, "FILE",
	  "read FILE instead of " CONFIG_DEFAULT_FILE },
	{ "check-config", no_argument, 0, false, set_check_config, NULL,
	  "check the configuration and exit" },
	{ "tap", required_argument, 0, true, set_tap, "NAME", "TAP device to create (usnet0)" },
	{ "address", required_argument, 0, true, set_address, "A/P",
	  "usnet's IPv4 address and prefix length (repeatable)" },
	{ "gateway", required_argument, 0, true, set_gateway, "G", "default gateway" },
	{ "mtu", required_argument, 0, true, set_mtu, "N", "link MTU, 68 to 65520 (1500)" },
	{ "control", required_argument, 0, true, set_control, "PATH",
	  "control socket (" IPC_DEFAULT_CONTROL ")" },
	{ "host-netns", required_argument, 0, true, set_host_netns, "NS",
	  "put the TAP's kernel side into network namespace NS" },
	{ "host-address", required_argument, 0, true, set_host_address, "A/P",
	  "address of the TAP's kernel side" },
	{ "log-level", required_argument, 0, true, set_log_level, "LEVEL",
	  "err, warn, notice, info or debug (notice)" },
	{ "user", required_argument, 0, true, set_user, "USER",
	  "run as USER once the link is open" },
	{ "budget", required_argument, 0, true, set_budget, "N",
	  "frames a worker handles per round (64)" },
	{ "busy-poll-us", required_argument, 0, true, set_busy_poll, "US",
	  "spin this long after a busy round before sleeping (0)" },
	{ "service", required_argument, 0, true, set_service, "LIST",
	  "built-in TCP services, e.g. echo:7,discard:9,chargen:19 (repeatable)" },
	{ "help", no_argument, OPT_HELP, false, NULL, NULL, "show this help" },
	{ "version", no_argument, OPT_VERSION, false, NULL, NULL, "show the version" },
};

#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

void config_defaults(struct usnetd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->config_file, CONFIG_DEFAULT_FILE);
	strcpy(cfg->tap, CONFIG_DEFAULT_TAP);
	strcpy(cfg->control, IPC_DEFAULT_CONTROL);
	cfg->mtu = 1500;
	cfg->log_level = LOG_LVL_NOTICE;
	cfg->budget = 64;
	cfg->busy_poll_us = 0;
}

void config_usage(FILE *f)
{
	fprintf(f, "usage: usnetd [options]\n\n");
	for (size_t i = 0; i < NDIRECTIVES; i++) {
		const struct directive *d = &directives[i];
		char left[48];

		if (d->short_opt && d->short_opt != OPT_HELP && d->short_opt != OPT_VERSION)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->short_opt, d->name,
				 d->arg_name ? " " : "", d->arg_name ? d->arg_name : "");
		else if (d->short_opt)
			snprintf(left, sizeof(left), "-%c, --%s", d->short_opt, d->name);
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->name,
				 d->arg_name ? " " : "", d->arg_name ? d->arg_name : "");
		fprintf(f, "  %-28s %s\n", left, d->help);
	}
	fprintf(f, "\nSee usnetd(8) and usnetd.conf(5).\n");
}

/* Levenshtein distance, for "did you mean" on a mistyped directive. */
static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int prev[64], cur[64];
	size_t la = strlen(a), lb = strlen(b);

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned int del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

static const char *closest(const char *word, bool file_only)
{
	const char *best = NULL;
	unsigned int bestd = 3;

	for (size_t i = 0; i < NDIRECTIVES; i++) {
		unsigned int d;

		if (file_only && !directives[i].file_ok)
			continue;
		d = edit_distance(word, directives[i].name);
		if (d < bestd) {
			bestd = d;
			best = directives[i].name;
		}
	}
	/* A prefix ("work" for "workers") is as good a hint as a typo. */
	if (!best)
		for (size_t i = 0; i < NDIRECTIVES; i++)
			if ((!file_only || directives[i].file_ok) && strlen(word) >= 3 &&
			    !strncmp(directives[i].name, word, strlen(word)))
				return directives[i].name;
	return best;
}

static const struct directive *find_directive(const char *name)
{
	for (size_t i = 0; i < NDIRECTIVES; i++)
		if (!strcmp(directives[i].name, name))
			return &directives[i];
	return NULL;
}

int config_parse_file(struct usnetd_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	unsigned int lineno = 0;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "usnetd: config %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *words[3], *save = NULL, *p, why[160];
		const struct directive *d;
		int nw = 0;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "usnetd: %s:%u: line longer than %zu bytes\n", path, lineno,
				sizeof(line) - 2);
			rc = 1;
			break;
		}
		if ((p = strchr(line, '#')))
			*p = '\0';
		for (p = strtok_r(line, " \t\r\n", &save); p && nw < 3;
		     p = strtok_r(NULL, " \t\r\n", &save))
			words[nw++] = p;
		if (nw == 0)
			continue;
		d = find_directive(words[0]);
		if (d && !d->file_ok) {
			fprintf(stderr, "usnetd: %s:%u: '%s' is a command-line option only\n", path,
				lineno, words[0]);
			rc = 1;
			break;
		}
		if (!d) {
			const char *hint = closest(words[0], true);

			if (hint)
				fprintf(stderr,
					"usnetd: %s:%u: unknown directive '%s'; did you mean '%s'?\n",
					path, lineno, words[0], hint);
			else
				fprintf(stderr, "usnetd: %s:%u: unknown directive '%s'\n", path,
					lineno, words[0]);
			rc = 1;
			break;
		}
		if (d->has_arg == required_argument && nw < 2) {
			fprintf(stderr, "usnetd: %s:%u: '%s' needs a value (%s)\n", path, lineno,
				words[0], d->arg_name);
			rc = 1;
			break;
		}
		if (nw > (d->has_arg == required_argument ? 2 : 1)) {
			fprintf(stderr, "usnetd: %s:%u: unexpected '%s' after '%s'\n", path, lineno,
				words[nw - 1], words[0]);
			rc = 1;
			break;
		}
		if (d->set(cfg, nw > 1 ? words[1] : NULL, why, sizeof(why)) < 0) {
			fprintf(stderr, "usnetd: %s:%u: %s '%s': %s\n", path, lineno, words[0],
				words[1], why);
			rc = 1;
			break;
		}
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "usnetd: config %s: read error\n", path);
		rc = 1;
	}
	fclose(f);
	return rc;
}

int config_parse_args(struct usnetd_config *cfg, int argc, char **argv)
{
	struct option longopts[NDIRECTIVES + 1];
	char shortopts[2 * NDIRECTIVES + 2];
	size_t k = 0;
	bool cli_addrs = false, cli_services = false;
	int c, idx;

	memset(longopts, 0, sizeof(longopts));
	shortopts[k++] = ':'; /* report a missing value as ':' */
	for (size_t i = 0; i < NDIRECTIVES; i++) {
		longopts[i].name = directives[i].name;
		longopts[i].has_arg = directives[i].has_arg;
		longopts[i].val = 256 + (int)i;
		if (directives[i].short_opt) {
			shortopts[k++] = (char)directives[i].short_opt;
			if (directives[i].has_arg == required_argument)
				shortopts[k++] = ':';
		}
	}
	shortopts[k] = '\0';

	/* Pass 1: find -c, so the file is read before the options that
	 * override it. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		if (c == 'c' || (c >= 256 && !strcmp(directives[c - 256].name, "config"))) {
			if (strlen(optarg) >= sizeof(cfg->config_file)) {
				fprintf(stderr, "usnetd: --config: path too long\n");
				return 2;
			}
			strcpy(cfg->config_file, optarg);
			cfg->config_explicit = true;
		}
	}
	if (cfg->config_explicit || access(cfg->config_file, F_OK) == 0) {
		int rc = config_parse_file(cfg, cfg->config_file);

		if (rc)
			return rc;
	}

	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct directive *d = NULL;
		char why[160];

		if (c == '?' || c == ':') {
			const char *arg = argv[optind - 1];
			const char *word = arg;

			while (*word == '-')
				word++;
			if (c == ':') {
				fprintf(stderr, "usnetd: option '%s' needs a value\n", arg);
			} else if (optopt && optopt < 256) {
				fprintf(stderr,
					"usnetd: unknown option '-%c' (see usnetd --help)\n",
					optopt);
			} else {
				const char *hint;
				char name[64], matches[256] = "";
				int nmatch = 0;

				snprintf(name, sizeof(name), "%.*s", (int)strcspn(word, "="), word);
				for (size_t i = 0; i < NDIRECTIVES; i++)
					if (!strncmp(directives[i].name, name, strlen(name))) {
						size_t used = strlen(matches);

						snprintf(matches + used, sizeof(matches) - used,
							 "%s--%s", nmatch++ ? ", " : "",
							 directives[i].name);
					}
				if (nmatch > 1) {
					fprintf(stderr, "usnetd: ambiguous option '--%s' (%s)\n",
						name, matches);
					return 2;
				}
				hint = closest(name, false);
				if (hint)
					fprintf(stderr,
						"usnetd: unknown option '--%s'; did you mean '--%s'?\n",
						name, hint);
				else
					fprintf(stderr,
						"usnetd: unknown option '%s' (see usnetd --help)\n",
						arg);
			}
			return 2;
		}
		if (c >= 256) {
			d = &directives[c - 256];
		} else {
			for (size_t i = 0; i < NDIRECTIVES; i++)
				if (directives[i].short_opt == c)
					d = &directives[i];
		}
		if (!d)
			return 2;
		if (d->short_opt == OPT_HELP) {
			config_usage(stdout);
			return -1;
		}
		if (d->short_opt == OPT_VERSION) {
			printf("usnetd %s\n", PACKAGE_VERSION);
			return -1;
		}
		if (!strcmp(d->name, "address") && !cli_addrs) {
			/* Addresses on the command line replace the file's. */
			cfg->naddrs = 0;
			cli_addrs = true;
		}
		if (!strcmp(d->name, "service") && !cli_services) {
			/* So do services. */
			cfg->nservices = 0;
			cli_services = true;
		}
		if (d->set(cfg, optarg, why, sizeof(why)) < 0) {
			fprintf(stderr, "usnetd: --%s %s: %s\n", d->name, optarg, why);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usnetd: unexpected argument '%s' (see usnetd --help)\n",
			argv[optind]);
		return 2;
	}
	if (cfg->gateway) {
		bool onlink = false;

		for (unsigned int i = 0; i < cfg->naddrs; i++) {
			uint32_t m =
				cfg->addrs[i].plen ? htonl(~0u << (32 - cfg->addrs[i].plen)) : 0;

			if ((cfg->gateway & m) == (cfg->addrs[i].addr & m) &&
			    cfg->gateway != cfg->addrs[i].addr)
				onlink = true;
		}
		if (!onlink) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &cfg->gateway, a, sizeof(a));
			fprintf(stderr, "usnetd: gateway %s: not on the subnet of any address\n",
				a);
			return 1;
		}
	}
	if (cfg->has_host_addr) {
		for (unsigned int i = 0; i < cfg->naddrs; i++)
			if (cfg->addrs[i].addr == cfg->host_addr.addr) {
				char a[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &cfg->host_addr.addr, a, sizeof(a));
				fprintf(stderr, "usnetd: host-address %s is also a usnet address\n",
					a);
				return 1;
			}
	}
	return 0;
}
