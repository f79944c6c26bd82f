// SPDX-License-Identifier: MIT
/*
 * How busy the machine was besides the benchmark itself: /proc/stat for
 * all CPUs, /proc/PID/stat for the benchmark's processes.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cpuload.h"

/* utime + stime of process @pid (all its threads), in clock ticks. */
static uint64_t proc_ticks(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	/* After the command name: state, then fields 4..13, then utime, stime. */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		ut = st = 0;
	fclose(f);
	return ut + st;
}

void cpu_sample_take(struct cpu_sample *s, const pid_t *pids, unsigned int npids)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
			memset(v, 0, sizeof(v));
		fclose(f);
	}
	/* user nice system idle iowait irq softirq steal */
	s->busy = v[0] + v[1] + v[2] + v[5] + v[7];
	s->total = s->busy + v[3] + v[4] + v[6];
	s->ours = proc_ticks(getpid());
	for (unsigned int i = 0; i < npids; i++)
		s->ours += proc_ticks(pids[i]);
}

double cpu_other_percent(const struct cpu_sample *a, const struct cpu_sample *b)
{
	double total = (double)(b->total - a->total);
	double busy = (double)(b->busy - a->busy) - (double)(b->ours - a->ours);

	return total > 0 && busy > 0 ? 100.0 * busy / total : 0.0;
}
