// SPDX-License-Identifier: MIT
/*
 * taplimit: the raw TAP limit. How many frames and bytes per second a
 * trivial io_uring endpoint moves through a TAP, in one direction, at one
 * MTU. It is the yardstick for usnetd's throughput: usnetd reads and writes
 * its TAP the same way (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, no offloads, a
 * provided-buffer ring with multishot reads, batched writev SQEs), so
 * whatever usnet's TCP reaches is to be compared with what this tool
 * reaches doing no protocol work at all.
 *
 *   taplimit rx|tx -i TAP [-n NETNS] [-s SECONDS] [-w SECONDS] [-m MTU]
 *                  [-a ADDR] [-P PORT] [-b BATCH] [-c CPU] [-k CPU] [-B] [-G] [-S] [-x|-X]
 *
 * The tool creates the TAP itself (inside NETNS when given, entering it with
 * setns() as usnetd does), configures the kernel side with the classic
 * ioctls (MTU, ADDR/24, up, IPv6 off, a permanent ARP entry for the tool's
 * address ADDR+1), and forks a peer on the kernel side:
 *
 * rx (kernel -> user): the peer is a UDP sender aiming at ADDR+1 through
 *   the TAP, loading the kernel's transmit path as a kernel TCP sender
 *   would. TCP always builds GSO packets (since Linux 4.17, "tcp: switch to
 *   GSO being always on"); a TAP without offloads lacks TSO, scatter-gather
 *   and checksum offload, so the device layer cuts them into MTU-sized
 *   frames and checksums each in software. The sender does the same with
 *   UDP GSO (UDP_SEGMENT, 64 KB sends): socket, route, IPv4 and UDP
 *   headers once per send, then per frame segmentation, checksum, the
 *   static neighbour entry (no waiting for ARP), qdisc and tun_net_xmit().
 *   -G sends one datagram per frame with sendmmsg() instead: per frame
 *   socket and IP work, which a TCP sender does not pay; it is slower than
 *   the reader. The tool reads with one multishot read into a
 *   provided-buffer ring (single-shot buffer-select reads when the kernel
 *   lacks IORING_OP_READ_MULTISHOT, or with -S). The sender is not paced:
 *   frames the tool does not read in time are dropped when the TAP's queue
 *   (txqueuelen) is full, shown as the TAP's tx_dropped.
 *
 * tx (user -> kernel): the tool writes vnet header + Ethernet + IPv4 + UDP
 *   frames (correct checksums) to the kernel side's MAC and ADDR, port PORT,
 *   with BATCH writev SQEs per submit. A write to a TAP runs the kernel's
 *   whole receive path (IPv4, UDP, socket queueing) inside the write, so
 *   the count of completed writes is what the TAP accepted. The peer is a
 *   UDP socket bound to ADDR:PORT that drains with recvmmsg(), as a TCP
 *   receiver's application would; what it received and what the kernel
 *   dropped (UDP receive buffer errors, the TAP's rx_dropped) are printed.
 *   -x sends to a closed port instead: the kernel verifies the checksum,
 *   finds no socket and drops the datagram (counted as UDP NoPorts). -X
 *   sends to another MAC: the kernel drops the frame on entry to IPv4, so
 *   this is the cost of the TAP write alone.
 *
 * Byte counts are Ethernet frames (header included, virtio-net header,
 * FCS and preamble excluded): 14 + MTU bytes per full frame.
 *
 * Counters are sampled after a warm-up (-w, default 1 s) and again after
 * the measurement (-s, default 3 s). The endpoint sleeps in io_uring_enter()
 * when there is nothing to do, as usnetd does by default; -B busy-polls.
 * Both sides are CPU-bound, so the line also says how much of the CPUs
 * other work took during the measurement (bench/cpuload.h: softirq time is
 * not counted as other work). Root (CAP_NET_ADMIN) required.
 * bench/taplimit.sh runs both directions in a namespace of its own and
 * prints medians.
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpuload.h"

#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
/* Linux 6.7 opcode, newer than liburing 2.3's headers (as daemon/uring.c). */
#define OP_READ_MULTISHOT 49

#define RING_ENTRIES 512
#define RX_BUFS_MAX 4096
#define RX_BUF_BYTES (64u << 20)
#define RX_DEPTH_SINGLESHOT 32
#define PEER_BATCH 64
#define VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))

static const uint8_t tool_mac[6] = { 0x02, 0x00, 0x00, 0x74, 0x61, 0x70 };

struct opts {
	bool tx;
	const char *ifname;
	const char *netns;
	double secs, warm;
	unsigned int mtu;
	struct in_addr kaddr, uaddr; /* kernel side, tool */
	uint16_t port;
	unsigned int batch;
	int cpu, peer_cpu;
	bool busy, singleshot, closed_port, otherhost, no_gso;
};

/* Counters of the forked peer, in shared memory. */
struct peer_stats {
	pid_t pid;
	atomic_uint_fast64_t frames;
	atomic_uint_fast64_t errors;
	atomic_int stop;
};

/* One sample of everything counted. */
struct sample {
	uint64_t ns;
	uint64_t frames, bytes, errors, nobufs; /* the io_uring endpoint */
	uint64_t peer_frames, peer_errors;
	uint64_t tap_rx_packets, tap_rx_drop, tap_tx_drop; /* /proc/net/dev */
	uint64_t udp_rcvbuf_err, udp_noports;
	struct cpu_sample cpu;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu, const char *who)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		errx(1, "%s: pinning to CPU %d: %s", who, cpu, strerror(errno));
}

static void enter_netns(const char *ns)
{
	char path[4200];
	int fd;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		errx(1, "netns %s: %s: %s", ns, path, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		errx(1, "netns %s: setns: %s", ns, strerror(errno));
	close(fd);
}

static int tap_open(const char *name)
{
	int fd, hdrlen = VNET_HDR_LEN;
	struct ifreq ifr;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		errx(1, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		errx(1, "TUNSETIFF %s: %s", name, strerror(errno));
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrlen) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		errx(1, "%s: virtio-net header setup: %s", name, strerror(errno));
	return fd;
}

static void ifreq_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *what)
{
	if (ioctl(s, req, ifr) < 0)
		errx(1, "%s: %s: %s", ifr->ifr_name, what, strerror(errno));
}

static void set_inaddr(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof(sin));
}

/* Kernel side: IPv6 off (no ND or MLD chatter), MTU, ADDR/24, up, and a
 * permanent ARP entry for the tool. Return: the kernel side's MAC. */
static void tap_config(const struct opts *o, uint8_t kmac[6])
{
	struct arpreq arp;
	struct ifreq ifr;
	char path[128];
	int s, fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", o->ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			fprintf(stderr, "taplimit: %s: %s (IPv6 stays on)\n", path,
				strerror(errno));
		close(fd);
	}

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		errx(1, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	ifr.ifr_mtu = (int)o->mtu;
	ifreq_ioctl(s, SIOCSIFMTU, &ifr, "setting the MTU");
	set_inaddr(&ifr.ifr_addr, o->kaddr);
	ifreq_ioctl(s, SIOCSIFADDR, &ifr, "setting the address");
	set_inaddr(&ifr.ifr_netmask, (struct in_addr){ htonl(0xffffff00u) });
	ifreq_ioctl(s, SIOCSIFNETMASK, &ifr, "setting the netmask");
	ifreq_ioctl(s, SIOCGIFFLAGS, &ifr, "reading flags");
	ifr.ifr_flags |= IFF_UP;
	ifreq_ioctl(s, SIOCSIFFLAGS, &ifr, "setting it up");
	ifreq_ioctl(s, SIOCGIFHWADDR, &ifr, "reading the MAC");
	memcpy(kmac, ifr.ifr_hwaddr.sa_data, 6);

	memset(&arp, 0, sizeof(arp));
	set_inaddr(&arp.arp_pa, o->uaddr);
	arp.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(arp.arp_ha.sa_data, tool_mac, 6);
	arp.arp_flags = ATF_PERM | ATF_COM;
	snprintf(arp.arp_dev, sizeof(arp.arp_dev), "%s", o->ifname);
	if (ioctl(s, SIOCSARP, &arp) < 0)
		errx(1, "%s: static ARP entry: %s", o->ifname, strerror(errno));
	close(s);
}

/* The kernel side's drop counters, from /proc/net/dev of our namespace. */
static void read_tap_drops(const char *ifname, struct sample *s)
{
	char line[512];
	size_t n = strlen(ifname);
	FILE *f = fopen("/proc/net/dev", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		unsigned long long v[16];

		while (*p == ' ')
			p++;
		if (strncmp(p, ifname, n) || p[n] != ':')
			continue;
		if (sscanf(p + n + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) == 12) {
			s->tap_rx_packets = v[1];
			s->tap_rx_drop = v[3];
			s->tap_tx_drop = v[11];
		}
	}
	fclose(f);
}

/* UDP RcvbufErrors and NoPorts, from /proc/net/snmp of our namespace. */
static void read_udp_mib(struct sample *s)
{
	char names[1024], vals[1024];
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return;
	while (fgets(names, sizeof(names), f)) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, "Udp: ", 5) || !fgets(vals, sizeof(vals), f))
			continue;
		n = strtok_r(names + 5, " \n", &sn);
		v = strtok_r(vals + 5, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, "RcvbufErrors"))
				s->udp_rcvbuf_err = strtoull(v, NULL, 10);
			else if (!strcmp(n, "NoPorts"))
				s->udp_noports = strtoull(v, NULL, 10);
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
}

/* A sample of the kernel-side counters and of the endpoint's. */
static void sample_take(const struct opts *o, const struct peer_stats *ps, struct sample *s,
			uint64_t frames, uint64_t bytes, uint64_t errors, uint64_t nobufs)
{
	s->ns = now_ns();
	s->frames = frames;
	s->bytes = bytes;
	s->errors = errors;
	s->nobufs = nobufs;
	s->peer_frames = atomic_load_explicit(&ps->frames, memory_order_relaxed);
	s->peer_errors = atomic_load_explicit(&ps->errors, memory_order_relaxed);
	read_tap_drops(o->ifname, s);
	read_udp_mib(s);
	cpu_sample_take(&s->cpu, &ps->pid, ps->pid > 0 ? 1 : 0);
}

/* rx peer: MTU-sized UDP datagrams to the tool through the TAP, as UDP GSO
 * sends of up to 64 KB (one datagram per frame with -G). */
static void peer_sender(const struct opts *o, struct peer_stats *ps)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(o->port),
				   .sin_addr = o->uaddr };
	size_t seg = o->mtu - sizeof(struct iphdr) - sizeof(struct udphdr);
	/* As many segments as fit a UDP datagram, at most UDP_MAX_SEGMENTS. */
	unsigned int nseg = o->no_gso ? 1 : (unsigned int)(65507 / seg);
	unsigned int nmsg;
	struct mmsghdr msgs[PEER_BATCH];
	struct iovec iov;
	char *buf;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), gso = (int)seg;

	if (nseg > 64)
		nseg = 64;
	nmsg = nseg > 1 ? 1 : PEER_BATCH;
	buf = calloc(nseg, seg);
	if (!buf || s < 0 || connect(s, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		errx(1, "sender: %s", strerror(errno));
	if (nseg > 1 && setsockopt(s, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)) < 0)
		errx(1, "sender: UDP_SEGMENT: %s (try -G)", strerror(errno));
	iov.iov_base = buf;
	iov.iov_len = seg * nseg;
	memset(msgs, 0, sizeof(msgs));
	for (unsigned int i = 0; i < nmsg; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&ps->stop, memory_order_relaxed)) {
		int n = sendmmsg(s, msgs, nmsg, 0);

		if (n > 0)
			atomic_fetch_add_explicit(&ps->frames, (uint64_t)n * nseg,
						  memory_order_relaxed);
		else if (n < 0 && errno != EINTR)
			atomic_fetch_add_explicit(&ps->errors, 1, memory_order_relaxed);
	}
}

/* tx peer: drain the bound socket @s as fast as it can. */
static void peer_sink(const struct opts *o, struct peer_stats *ps, int s)
{
	struct mmsghdr msgs[PEER_BATCH];
	struct iovec iov[PEER_BATCH];
	size_t len = o->mtu;
	char *buf = malloc(len * PEER_BATCH);

	if (!buf)
		errx(1, "sink: %s", strerror(errno));
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < PEER_BATCH; i++) {
		iov[i].iov_base = buf + (size_t)i * len;
		iov[i].iov_len = len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&ps->stop, memory_order_relaxed)) {
		int n = recvmmsg(s, msgs, PEER_BATCH, MSG_WAITFORONE, NULL);

		if (n > 0)
			atomic_fetch_add_explicit(&ps->frames, (uint64_t)n, memory_order_relaxed);
		else if (n < 0 && errno != EINTR && errno != EAGAIN)
			atomic_fetch_add_explicit(&ps->errors, 1, memory_order_relaxed);
	}
}

static int sink_socket(const struct opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(o->port),
				 .sin_addr = o->kaddr };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	int sz = 8 << 20;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		errx(1, "sink: binding port %u: %s", o->port, strerror(errno));
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		fprintf(stderr, "taplimit: sink: SO_RCVBUFFORCE: %s\n", strerror(errno));
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		errx(1, "sink: SO_RCVTIMEO: %s", strerror(errno));
	return s;
}

/* Fork the kernel-side peer. It dies with us (PR_SET_PDEATHSIG). */
static pid_t peer_start(const struct opts *o, struct peer_stats *ps, int tapfd, int sinkfd)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		errx(1, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	close(tapfd);
	pin(o->peer_cpu, o->tx ? "sink" : "sender");
	if (o->tx)
		peer_sink(o, ps, sinkfd);
	else
		peer_sender(o, ps);
	_exit(0);
}

static void peer_stop(struct peer_stats *ps, pid_t pid)
{
	int status;

	atomic_store(&ps->stop, 1);
	if (waitpid(pid, &status, 0) < 0)
		errx(1, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		errx(1, "the kernel-side peer failed");
}

static void uring_init(struct io_uring *ring, bool *multishot)
{
	static const unsigned int flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_probe *probe;
	int rc = -EINVAL;

	for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		rc = io_uring_queue_init_params(RING_ENTRIES, ring, &p);
		if (rc != -EINVAL)
			break;
	}
	if (rc)
		errx(1, "io_uring_queue_init: %s", strerror(-rc));
	*multishot = false;
	probe = io_uring_get_probe_ring(ring);
	if (probe) {
		*multishot = io_uring_opcode_supported(probe, OP_READ_MULTISHOT);
		io_uring_free_probe(probe);
	}
}

/* Cancel whatever is still queued on the TAP and wait for it, so that the
 * device goes away with our descriptor (see worker_drain() in usnetd). */
static void uring_drain(struct io_uring *ring, unsigned int inflight)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint64_t deadline = now_ns() + 1000000000ull;

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, 1);
	io_uring_submit(ring);
	inflight++;
	while (inflight && now_ns() < deadline) {
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		io_uring_for_each_cqe (ring, head, cqe) {
			seen++;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				inflight--;
		}
		io_uring_cq_advance(ring, seen);
	}
}

/* Wait for completions, or only look for them when busy polling. */
static void uring_round(struct io_uring *ring, bool busy)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 50000000 };
	struct io_uring_cqe *cqe;
	int rc;

	if (busy)
		rc = io_uring_submit_and_get_events(ring);
	else
		rc = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		errx(1, "io_uring_submit: %s", strerror(-rc));
}

/* kernel -> user: read with a provided-buffer ring, count, recycle. */
static void run_rx(const struct opts *o, int fd, struct sample *a, struct sample *b,
		   struct peer_stats *ps, const char **mode)
{
	size_t bufsz = ((size_t)VNET_HDR_LEN + 14 + 4 + o->mtu + 63) & ~(size_t)63;
	unsigned int nbufs = RX_BUFS_MAX, mask, armed = 0, depth;
	uint64_t t_start, t_end, frames = 0, bytes = 0, errors = 0, nobufs = 0;
	size_t ringsz;
	struct io_uring_buf_reg reg;
	struct io_uring_buf_ring *br;
	struct io_uring ring;
	bool multishot, started = false;
	char *mem;
	int rc;

	uring_init(&ring, &multishot);
	if (o->singleshot)
		multishot = false;
	depth = multishot ? 1 : RX_DEPTH_SINGLESHOT;
	/* io_uring completes a read of an O_NONBLOCK file that finds nothing
	 * with -EAGAIN instead of waiting for it to become readable: the
	 * single-shot reads would spin. The TAP supports IOCB_NOWAIT, so
	 * without the flag the reads are still tried inline and otherwise
	 * wait on poll. (A multishot read always waits on poll.) */
	if (!multishot && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		errx(1, "fcntl: %s", strerror(errno));
	*mode = multishot ? "multishot read" : "single-shot reads";

	/* Enough buffers that the ring does not run dry while the sender
	 * outpaces us (usnetd lends about a thousand), at most 64 MB. */
	while (nbufs > 64 && nbufs * bufsz > RX_BUF_BYTES)
		nbufs /= 2;
	mask = (unsigned int)io_uring_buf_ring_mask(nbufs);
	ringsz = nbufs * sizeof(struct io_uring_buf);
	/* The buffer ring is mapped by hand: liburing 2.3 has no
	 * io_uring_setup_buf_ring() (as daemon/uring.c). */
	br = mmap(NULL, ringsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	mem = mmap(NULL, bufsz * nbufs, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (br == MAP_FAILED || mem == MAP_FAILED)
		errx(1, "mmap: %s", strerror(errno));
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = nbufs;
	reg.bgid = 0;
	rc = io_uring_register_buf_ring(&ring, &reg, 0);
	if (rc)
		errx(1, "provided-buffer ring: %s (Linux 5.19 or later needed)", strerror(-rc));
	io_uring_buf_ring_init(br);
	for (unsigned int i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(br, mem + i * bufsz, (unsigned int)bufsz, (unsigned short)i,
				      (int)mask, (int)i);
	io_uring_buf_ring_advance(br, (int)nbufs);

	t_start = now_ns() + (uint64_t)(o->warm * 1e9);
	t_end = t_start + (uint64_t)(o->secs * 1e9);
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, added = 0;
		uint64_t now;

		while (armed < depth) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if (!sqe)
				break;
			io_uring_prep_rw(multishot ? OP_READ_MULTISHOT : IORING_OP_READ, sqe, fd,
					 NULL, 0, 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = 0;
			armed++;
		}
		uring_round(&ring, o->busy);
		io_uring_for_each_cqe (&ring, head, cqe) {
			seen++;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				armed--;
			if (cqe->flags & IORING_CQE_F_BUFFER) {
				unsigned int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

				io_uring_buf_ring_add(br, mem + bid * bufsz, (unsigned int)bufsz,
						      (unsigned short)bid, (int)mask, (int)added);
				added++;
			}
			if (cqe->res > VNET_HDR_LEN) {
				frames++;
				bytes += (uint64_t)(cqe->res - VNET_HDR_LEN);
			} else if (cqe->res == -ENOBUFS) {
				nobufs++;
			} else if (cqe->res < 0 && cqe->res != -EINTR) {
				if (!errors++)
					fprintf(stderr, "taplimit: read %s: %s\n", o->ifname,
						strerror(-cqe->res));
			}
		}
		io_uring_cq_advance(&ring, seen);
		if (added)
			io_uring_buf_ring_advance(br, (int)added);

		now = now_ns();
		if (!started && now >= t_start) {
			sample_take(o, ps, a, frames, bytes, errors, nobufs);
			started = true;
		} else if (started && now >= t_end) {
			sample_take(o, ps, b, frames, bytes, errors, nobufs);
			break;
		}
	}
	uring_drain(&ring, armed);
	io_uring_queue_exit(&ring);
	munmap(mem, bufsz * nbufs);
	munmap(br, ringsz);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

/* Ethernet + IPv4 + UDP, @mtu bytes of IP, checksums filled in. */
static uint8_t *build_frame(const struct opts *o, const uint8_t kmac[6], uint16_t dport,
			    size_t *lenp)
{
	size_t len = sizeof(struct ether_header) + o->mtu;
	size_t ulen = o->mtu - sizeof(struct iphdr);
	uint8_t *f = calloc(1, len);
	struct ether_header eh;
	struct udphdr uh;
	struct iphdr ih;
	uint32_t sum;
	uint16_t c;

	if (!f)
		errx(1, "%s", strerror(errno));
	memcpy(eh.ether_dhost, kmac, 6);
	if (o->otherhost)
		eh.ether_dhost[5] ^= 1;
	memcpy(eh.ether_shost, tool_mac, 6);
	eh.ether_type = htons(ETHERTYPE_IP);
	memset(&ih, 0, sizeof(ih));
	ih.version = 4;
	ih.ihl = 5;
	ih.tot_len = htons((uint16_t)o->mtu);
	ih.frag_off = htons(IP_DF);
	ih.ttl = 64;
	ih.protocol = IPPROTO_UDP;
	ih.saddr = o->uaddr.s_addr;
	ih.daddr = o->kaddr.s_addr;
	ih.check = htons(csum_fold(csum_add(0, &ih, sizeof(ih))));
	uh.source = htons(40000);
	uh.dest = htons(dport);
	uh.len = htons((uint16_t)ulen);
	uh.check = 0;
	for (size_t i = sizeof(struct ether_header) + sizeof(ih) + sizeof(uh); i < len; i++)
		f[i] = (uint8_t)i;
	memcpy(f, &eh, sizeof(eh));
	memcpy(f + sizeof(eh), &ih, sizeof(ih));
	memcpy(f + sizeof(eh) + sizeof(ih), &uh, sizeof(uh));
	/* Pseudo-header, then the UDP header and payload. */
	sum = csum_add(0, &ih.saddr, 8);
	sum += IPPROTO_UDP + (uint32_t)ulen;
	sum = csum_add(sum, f + sizeof(eh) + sizeof(ih), ulen);
	c = csum_fold(sum);
	uh.check = htons(c ? c : 0xffff);
	memcpy(f + sizeof(eh) + sizeof(ih), &uh, sizeof(uh));
	*lenp = len;
	return f;
}

/* user -> kernel: BATCH writev SQEs per submit, count the full writes. */
static void run_tx(const struct opts *o, int fd, const uint8_t kmac[6], struct sample *a,
		   struct sample *b, struct peer_stats *ps)
{
	struct virtio_net_hdr vh = { .flags = 0, .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	uint64_t t_start, t_end, frames = 0, bytes = 0, errors = 0;
	unsigned int inflight = 0;
	struct io_uring ring;
	struct iovec iov[2];
	bool multishot, started = false;
	size_t flen;
	uint8_t *frame =
		build_frame(o, kmac, o->closed_port ? (uint16_t)(o->port + 1) : o->port, &flen);

	uring_init(&ring, &multishot);
	/* Every write sends the same frame: one iovec pair serves them all. */
	iov[0].iov_base = &vh;
	iov[0].iov_len = VNET_HDR_LEN;
	iov[1].iov_base = frame;
	iov[1].iov_len = flen;

	t_start = now_ns() + (uint64_t)(o->warm * 1e9);
	t_end = t_start + (uint64_t)(o->secs * 1e9);
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, queued = 0;
		uint64_t now;

		while (queued < o->batch && inflight < RING_ENTRIES) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if (!sqe)
				break;
			io_uring_prep_writev(sqe, fd, iov, 2, 0);
			io_uring_sqe_set_data64(sqe, 0);
			queued++;
			inflight++;
		}
		uring_round(&ring, o->busy || queued);
		io_uring_for_each_cqe (&ring, head, cqe) {
			seen++;
			inflight--;
			if (cqe->res == (int)(flen + VNET_HDR_LEN)) {
				frames++;
				bytes += flen;
			} else if (!errors++) {
				fprintf(stderr, "taplimit: write %s: %s\n", o->ifname,
					cqe->res < 0 ? strerror(-cqe->res) : "short write");
			}
		}
		io_uring_cq_advance(&ring, seen);

		now = now_ns();
		if (!started && now >= t_start) {
			sample_take(o, ps, a, frames, bytes, errors, 0);
			started = true;
		} else if (started && now >= t_end) {
			sample_take(o, ps, b, frames, bytes, errors, 0);
			break;
		}
	}
	uring_drain(&ring, inflight);
	io_uring_queue_exit(&ring);
	free(frame);
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: taplimit rx|tx -i TAP [-n NETNS] [-s SECONDS] [-w SECONDS] [-m MTU]\n"
		"                [-a ADDR] [-P PORT] [-b BATCH] [-c CPU] [-k CPU] [-B] [-G] [-S] [-x|-X]\n"
		"  rx: kernel -> user, a UDP sender in NETNS, the tool reads the TAP\n"
		"  tx: user -> kernel, the tool writes the TAP, a UDP socket in NETNS drains\n"
		"  -i TAP      TAP device to create (must not exist)\n"
		"  -n NETNS    create it in this namespace (name in /run/netns, or a path)\n"
		"  -s SECONDS  measurement (3)      -w SECONDS  warm-up before it (1)\n"
		"  -m MTU      MTU, 68..65000 (1500)\n"
		"  -a ADDR     kernel side's IPv4 address, /24; the tool is ADDR+1 (10.199.0.1)\n"
		"  -P PORT     UDP port (5555)      -b BATCH    tx: writev SQEs per submit (32)\n"
		"  -c CPU      pin the io_uring endpoint   -k CPU  pin the kernel-side peer\n"
		"  -B          busy-poll the ring instead of sleeping in io_uring_enter\n"
		"  -S          rx: single-shot buffer-select reads even if multishot exists\n"
		"  -G          rx: the sender uses plain sendmmsg(), not UDP GSO\n"
		"  -x          tx: send to a closed port (the kernel drops after UDP), no sink\n"
		"  -X          tx: send to another MAC (the kernel drops before IP), no sink\n");
	exit(rc);
}

static unsigned long num(const char *s, unsigned long min, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		errx(1, "%s: '%s' is not a number in %lu..%lu", what, s, min, max);
	return v;
}

static double secs(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0 && v < 3600))
		errx(1, "%s: '%s' is not a number of seconds (0..3600)", what, s);
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->secs = 3;
	o->warm = 1;
	o->mtu = 1500;
	o->port = 5555;
	o->batch = 32;
	o->cpu = o->peer_cpu = -1;
	inet_pton(AF_INET, "10.199.0.1", &o->kaddr);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		usage(0);
	if (argc < 2 || (strcmp(argv[1], "rx") && strcmp(argv[1], "tx")))
		usage(2);
	o->tx = !strcmp(argv[1], "tx");
	optind = 2;
	while ((c = getopt(argc, argv, "i:n:s:w:m:a:P:b:c:k:BGSxXh")) != -1) {
		switch (c) {
		case 'i':
			if (strlen(optarg) >= IFNAMSIZ)
				errx(1, "-i %s: longer than %d characters", optarg, IFNAMSIZ - 1);
			o->ifname = optarg;
			break;
		case 'n':
			o->netns = optarg;
			break;
		case 's':
			o->secs = secs(optarg, "-s");
			break;
		case 'w':
			o->warm = secs(optarg, "-w");
			break;
		case 'm':
			o->mtu = (unsigned int)num(optarg, 68, 65000, "-m");
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &o->kaddr) != 1)
				errx(1, "-a %s: not an IPv4 address", optarg);
			break;
		case 'P':
			o->port = (uint16_t)num(optarg, 1, 65534, "-P");
			break;
		case 'b':
			o->batch = (unsigned int)num(optarg, 1, RING_ENTRIES, "-b");
			break;
		case 'c':
			o->cpu = (int)num(optarg, 0, CPU_SETSIZE - 1, "-c");
			break;
		case 'k':
			o->peer_cpu = (int)num(optarg, 0, CPU_SETSIZE - 1, "-k");
			break;
		case 'B':
			o->busy = true;
			break;
		case 'G':
			o->no_gso = true;
			break;
		case 'S':
			o->singleshot = true;
			break;
		case 'x':
			o->closed_port = true;
			break;
		case 'X':
			o->otherhost = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (!o->ifname)
		errx(1, "-i TAP is required");
	o->uaddr.s_addr = htonl(ntohl(o->kaddr.s_addr) + 1);
}

static double rate(uint64_t a, uint64_t b, double s)
{
	return (double)(b - a) / s;
}

int main(int argc, char **argv)
{
	struct sample a, b;
	struct peer_stats *ps;
	struct opts o;
	const char *mode = "";
	uint8_t kmac[6];
	int fd, sinkfd = -1;
	pid_t peer = -1;
	double s, others;

	parse(argc, argv, &o);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	signal(SIGPIPE, SIG_IGN);
	ps = mmap(NULL, sizeof(*ps), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ps == MAP_FAILED)
		errx(1, "mmap: %s", strerror(errno));
	atomic_init(&ps->frames, 0);
	atomic_init(&ps->errors, 0);
	atomic_init(&ps->stop, 0);

	/* Everything from here on lives in NETNS: the TAP's kernel side, the
	 * peer's socket and the counters read from /proc/net. */
	if (o.netns)
		enter_netns(o.netns);
	fd = tap_open(o.ifname);
	tap_config(&o, kmac);
	if (o.tx && !o.closed_port && !o.otherhost)
		sinkfd = sink_socket(&o);
	if (!o.tx || sinkfd >= 0)
		ps->pid = peer = peer_start(&o, ps, fd, sinkfd);
	if (sinkfd >= 0)
		close(sinkfd);
	pin(o.cpu, "endpoint");

	if (o.tx)
		run_tx(&o, fd, kmac, &a, &b, ps);
	else
		run_rx(&o, fd, &a, &b, ps, &mode);
	if (peer > 0)
		peer_stop(ps, peer);
	others = cpu_other_percent(&a.cpu, &b.cpu);
	close(fd);

	s = (double)(b.ns - a.ns) / 1e9;
	if (!o.tx) {
		printf("rx: %.0f frames/s, %.3f Gbit/s of %.0f-byte frames (Ethernet header "
		       "included); kernel sent %.0f/s, TAP dropped %.0f/s (tx_dropped); "
		       "mtu %u, %s%s; other work %.0f%% CPU\n",
		       rate(a.frames, b.frames, s), rate(a.bytes, b.bytes, s) * 8 / 1e9,
		       b.frames > a.frames ?
			       (double)(b.bytes - a.bytes) / (double)(b.frames - a.frames) :
			       0.0,
		       rate(a.peer_frames, b.peer_frames, s), rate(a.tap_tx_drop, b.tap_tx_drop, s),
		       o.mtu, mode, o.busy ? ", busy poll" : "", others);
		if (b.nobufs > a.nobufs || b.errors > a.errors || b.peer_errors > a.peer_errors)
			printf("rx: %" PRIu64 " out-of-buffers, %" PRIu64 " read errors, %" PRIu64
			       " send errors\n",
			       b.nobufs - a.nobufs, b.errors - a.errors,
			       b.peer_errors - a.peer_errors);
	} else {
		uint64_t dropped =
			(b.udp_rcvbuf_err - a.udp_rcvbuf_err) + (b.tap_rx_drop - a.tap_rx_drop);

		printf("tx: %.0f frames/s, %.3f Gbit/s of %zu-byte frames (Ethernet header "
		       "included); ",
		       rate(a.frames, b.frames, s), rate(a.bytes, b.bytes, s) * 8 / 1e9,
		       (size_t)o.mtu + sizeof(struct ether_header));
		printf("TAP rx_packets %.0f/s; ", rate(a.tap_rx_packets, b.tap_rx_packets, s));
		if (o.otherhost)
			printf("kernel dropped all at IP entry (not our MAC)");
		else if (o.closed_port)
			printf("kernel dropped %.0f/s at UDP (no port)",
			       rate(a.udp_noports, b.udp_noports, s));
		else
			printf("socket received %.0f/s, kernel dropped %.0f/s (UDP rcvbuf %" PRIu64
			       ", TAP rx %" PRIu64 ")",
			       rate(a.peer_frames, b.peer_frames, s), (double)dropped / s,
			       b.udp_rcvbuf_err - a.udp_rcvbuf_err, b.tap_rx_drop - a.tap_rx_drop);
		printf("; mtu %u, %u writev per submit%s; other work %.0f%% CPU\n", o.mtu, o.batch,
		       o.busy ? ", busy poll" : "", others);
		if (b.errors > a.errors)
			printf("tx: %" PRIu64 " failed writes\n", b.errors - a.errors);
	}
	return 0;
}
