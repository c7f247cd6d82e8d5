/* SPDX-License-Identifier: MIT */
/* The C twin of xi_header_stats (header_stats.bpf.c beside this file); see user/twin/twin.h. */
#ifndef XICEPT_HEADER_STATS_TWIN_H
#define XICEPT_HEADER_STATS_TWIN_H

#include "user/twin/twin.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

struct xi_twin_header_stats;

int xi_twin_header_stats_new(uint32_t conn_id, struct xi_twin_header_stats **ret);
void xi_twin_header_stats_free(struct xi_twin_header_stats *hs);
/* bind_remote_stream: the SSRC's clock rate (an xi_clock_rates entry). */
int xi_twin_header_stats_bind(struct xi_twin_header_stats *hs, uint32_t ssrc,
			      uint32_t clock_rate);
void xi_twin_header_stats_unbind(struct xi_twin_header_stats *hs, uint32_t ssrc);
/* One RTP or RTCP packet; arrival time pc->now_ns, rate for unbound SSRCs
 * pc->default_clock_rate. -ENOMEM when a new SSRC cannot be stored. */
int xi_twin_header_stats_run(struct xi_twin_header_stats *hs, const struct xi_pkt_ctx *pc);
/* The update of run for one stream's entry, kept wherever the caller keeps
 * it (the header-stats interceptor: in the pinned xi_stream_stats), with the
 * clock rate already chosen. */
void xi_twin_stream_stats_update(struct xi_stream_stats *s, const struct xi_pkt_ctx *pc,
				 uint32_t rate);
/* 0 and a copy of the SSRC's stats, or -ENOENT. */
int xi_twin_header_stats_lookup(const struct xi_twin_header_stats *hs, uint32_t ssrc,
				struct xi_stream_stats *ret);
size_t xi_twin_header_stats_count(const struct xi_twin_header_stats *hs);

/* The interceptor's stats of ssrc: from the pinned map when built with a
 * dataplane, else from its twin. -EINVAL when ic is no header-stats, -ENOENT
 * when the SSRC has nothing. For tests and tools. */
int xi_header_stats_get(struct xi_interceptor *ic, uint32_t ssrc, struct xi_stream_stats *ret);

#endif
