/* SPDX-License-Identifier: MIT */
/*
 * CPU time of the whole machine and of the processes a benchmark runs, so
 * that it can say how much of the CPUs other work took during a
 * measurement: the benchmarks are CPU-bound, and a run that other work
 * disturbed is repeated. Shared by bench/taplimit and bench/tcpperf.
 */
#ifndef USNET_BENCH_CPULOAD_H
#define USNET_BENCH_CPULOAD_H

#include <stdint.h>
#include <sys/types.h>

struct cpu_sample {
	uint64_t total, busy, ours; /* clock ticks, all CPUs */
};

/**
 * cpu_sample_take() - read /proc/stat and the CPU time of this process and
 * of @npids others (all their threads). Softirq time counts as neither
 * busy nor ours: with tick-based accounting the kernel's network work on
 * our behalf is charged there, not to our processes. A file that cannot be
 * read counts as zero.
 */
void cpu_sample_take(struct cpu_sample *s, const pid_t *pids, unsigned int npids);

/** cpu_other_percent() - percent of all CPUs that other work took from @a to @b */
double cpu_other_percent(const struct cpu_sample *a, const struct cpu_sample *b);

#endif
