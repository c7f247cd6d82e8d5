/* SPDX-License-Identifier: MIT */
/* The clock packets are timed by: CLOCK_MONOTONIC, which is what XDP's
 * bpf_ktime_get_ns() reads, so kernel and userspace times compare. */
#ifndef XICEPT_LIB_CLOCK_H
#define XICEPT_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <xicept/attributes.h>

#define XI_NS_PER_S 1000000000ull

static inline uint64_t xi_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * XI_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A packet's arrival: the engine stamps it (XI_ATTR_ARRIVAL_NS); a chain
 * read without one takes now. */
static inline uint64_t xi_arrival_ns(const struct xi_attributes *attrs)
{
	uint64_t ns;

	if (attrs && xi_attributes_get_u64(attrs, XI_ATTR_ARRIVAL_NS, &ns) == 0)
		return ns;
	return xi_mono_ns();
}

#endif
