// SPDX-License-Identifier: MIT
/*
 * usnetd: options, start-up in dependency order, shutdown in reverse
 * (chrony main.c):
 *   configuration -> (daemonize) -> file limit -> link (needs CAP_NET_ADMIN,
 *   and CAP_SYS_ADMIN for --host-netns) -> control socket -> drop
 *   privileges -> workers -> control loop -> ready.
 * SIGTERM or SIGINT stops the loop; then the control socket stops
 * accepting, workers finish, the TAP closes (and disappears), the socket
 * file is removed, and usnetd exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "link.h"
#include "log.h"
#include "priv.h"
#include "sdnotify.h"
#include "worker.h"

/* Fork into the background; the parent exits with the child's start-up
 * verdict, so `usnetd && echo up` means what it says. */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		char c = 1;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c == 0 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* DESIGN.md: every socket costs a descriptor in usnetd, so take all the
 * hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("raising the file limit to %llu: %s",
				 (unsigned long long)rl.rlim_max, strerror(errno));
	}
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_notice("SIG%s received, shutting down", sigabbrev_np(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_notice(
		"SIGHUP received: configuration reload is not supported yet; restart usnetd to apply changes");
}

int main(int argc, char **argv)
{
	static struct usnetd_config cfg;
	static struct link link;
	static struct ctl_server ctl;
	static struct worker workers[1];
	unsigned int nworkers = 1;
	ev_signal sig_term, sig_int, sig_hup;
	struct ev_loop *loop;
	uid_t uid = 0;
	gid_t gid = 0;
	int ready_fd = -1, rc;

	config_defaults(&cfg);
	rc = config_parse_args(&cfg, argc, argv);
	if (rc < 0)
		return 0;
	if (rc)
		return rc;
	log_init(true, cfg.log_level);
	if (cfg.user[0] && priv_lookup_user(cfg.user, &uid, &gid) < 0)
		return 1;
	if (cfg.check_only) {
		printf("usnetd: configuration OK\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!cfg.foreground && daemonize(&ready_fd) < 0) {
		log_err("daemonize: %s", strerror(errno));
		return 1;
	}
	raise_nofile();
	ctl.start_ns = worker_now_ns();
	ctl.lfd = -1;

	if (link_tap_open(&link, &cfg) < 0)
		return 1;
	if (ctl_open(&ctl, cfg.control) < 0)
		goto err_link;
	if (cfg.user[0])
		ctl_hand_over(&ctl, uid, gid);
	if (priv_drop(cfg.user, uid, gid) < 0)
		goto err_ctl;
	if (worker_start(&workers[0], 0, &cfg, &link) < 0)
		goto err_ctl;

	loop = ev_default_loop(EVFLAG_AUTO);
	ev_signal_init(&sig_term, stop_cb, SIGTERM);
	ev_signal_init(&sig_int, stop_cb, SIGINT);
	ev_signal_init(&sig_hup, hup_cb, SIGHUP);
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_int);
	ev_signal_start(loop, &sig_hup);
	ctl.cfg = &cfg;
	ctl.link = &link;
	if (ctl_start(&ctl, loop, workers, nworkers) < 0)
		goto err_workers;

	sdnotify("READY=1\nSTATUS=running");
	if (ready_fd >= 0) {
		char ok = 0;

		if (write(ready_fd, &ok, 1) != 1)
			log_warn("daemonize: telling the parent: %s", strerror(errno));
		close(ready_fd);
		log_init(false, cfg.log_level);
		detach_stdio();
	}
	{
		char a[INET_ADDRSTRLEN] = "none";

		if (cfg.naddrs)
			inet_ntop(AF_INET, &cfg.addrs[0].addr, a, sizeof(a));
		log_notice("usnetd %s started: link %s%s%s, address %s%s, control %s",
			   PACKAGE_VERSION, link.name, link.netns[0] ? " in netns " : "",
			   link.netns, a, cfg.naddrs > 1 ? " and more" : "", cfg.control);
	}
	if (!cfg.naddrs)
		log_warn("no --address given: usnet answers nothing until one is configured");
	if (!cfg.has_host_addr && !cfg.host_netns[0])
		log_notice(
			"link %s: its kernel side is left down for you to configure (ip link set %s up)",
			link.name, link.name);

	ev_run(loop, 0);

	sdnotify("STOPPING=1");
	ctl_stop(&ctl);
	for (unsigned int i = 0; i < nworkers; i++)
		worker_stop(&workers[i]);
	link_close(&link);
	ctl_close(&ctl);
	log_notice("stopped");
	return 0;

err_workers:
	ctl_stop(&ctl);
	for (unsigned int i = 0; i < nworkers; i++)
		worker_stop(&workers[i]);
err_ctl:
	ctl_close(&ctl);
err_link:
	link_close(&link);
	return 1;
}
