/*
 * What the bench tools (lanclient.c, relay.c) share: a monotonic clock in
 * nanoseconds and a SIGINT/SIGTERM handler that asks the main loop to end.
 */
#ifndef BENCH_TOOL_H
#define BENCH_TOOL_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

static volatile sig_atomic_t stop;

static int64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

#endif
