/* SPDX-License-Identifier: MIT */
/* The C twin of xi_ssrc_filter (ssrc_filter.bpf.c beside this file); see user/twin/twin.h. */
#ifndef XICEPT_SSRC_FILTER_TWIN_H
#define XICEPT_SSRC_FILTER_TWIN_H

#include "user/twin/twin.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"

struct xi_twin_ssrc_filter;

/* -EINVAL for an unknown mode, -ENOMEM. The list is copied. */
int xi_twin_ssrc_filter_new(enum xi_ssrc_mode mode, const uint32_t *ssrcs, size_t n,
			    struct xi_twin_ssrc_filter **ret);
void xi_twin_ssrc_filter_free(struct xi_twin_ssrc_filter *f);
/* XI_ACT_DROP (the drop is counted) or XI_ACT_PASS: go on with the chain. */
enum xi_action xi_twin_ssrc_filter_run(struct xi_twin_ssrc_filter *f,
				       const struct xi_pkt_ctx *pc);
uint64_t xi_twin_ssrc_filter_drops(const struct xi_twin_ssrc_filter *f);
/* Drops of one SSRC: 0 and the count, or -ENOENT when it never dropped. */
int xi_twin_ssrc_filter_ssrc_drops(const struct xi_twin_ssrc_filter *f, uint32_t ssrc,
				   uint64_t *ret);
size_t xi_twin_ssrc_filter_n_dropped(const struct xi_twin_ssrc_filter *f);

/* What the interceptor dropped of ssrc: from the maps when built with a
 * dataplane, else from its twin. -EINVAL when ic is no ssrc-filter, -ENOENT
 * when the SSRC never dropped. For tests and tools. */
int xi_ssrc_filter_dropped(struct xi_interceptor *ic, uint32_t ssrc, uint64_t *ret_packets);

#endif
