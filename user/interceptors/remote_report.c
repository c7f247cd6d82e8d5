// SPDX-License-Identifier: MIT
/* See remote_report.h. */
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include <bpf/bpf.h>

#include "user/dataplane/egress.h"
#include "user/dataplane/internal.h"
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

int xi_remote_report_merge(struct xi_dataplane *dp, uint32_t conn_id, uint32_t ssrc,
			   const struct xi_remote_report *add, bool set_report, bool set_rtt)
{
	struct xi_stream_key key = { .conn_id = conn_id, .ssrc = ssrc };
	struct xi_remote_report v = { 0 };
	int fd;

	if (!dp)
		return 0;
	fd = xi_dataplane_stage_fd(dp, XI_STAGE_EGRESS, XI_EGRESS_MAP_REMOTE);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, &v) && errno != ENOENT)
		return -errno;
	v.reports += add->reports;
	v.rtt_reports += add->rtt_reports;
	v.nack_requested += add->nack_requested;
	v.nack_resent += add->nack_resent;
	v.nack_missed += add->nack_missed;
	if (set_report) {
		v.fraction_lost = add->fraction_lost;
		v.cumulative_lost = add->cumulative_lost;
		v.jitter = add->jitter;
		v.ext_highest_seq = add->ext_highest_seq;
	}
	if (set_rtt)
		v.rtt_q16 = add->rtt_q16;
	if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}
