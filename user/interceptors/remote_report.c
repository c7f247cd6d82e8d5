// SPDX-License-Identifier: MIT
/* See remote_report.h. */
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include "user/interceptors/remote_report.h"
#include "user/lib/clock.h"

#define NTP_UNIX_OFFSET 2208988800ull   /* 1900-01-01 to 1970-01-01, s */

uint64_t xi_ntp_of_mono(uint64_t mono_ns)
{
	struct timespec rt;
	uint64_t mono_now, wall_ns;

	clock_gettime(CLOCK_REALTIME, &rt);
	mono_now = xi_mono_ns();
	wall_ns = (uint64_t)rt.tv_sec * XI_NS_PER_S + (uint64_t)rt.tv_nsec;
	wall_ns -= mono_now > mono_ns ? mono_now - mono_ns : 0;
	wall_ns += mono_ns > mono_now ? mono_ns - mono_now : 0;
	return (wall_ns / XI_NS_PER_S + NTP_UNIX_OFFSET) << 32 |
	       (((wall_ns % XI_NS_PER_S) << 32) / XI_NS_PER_S);
}
