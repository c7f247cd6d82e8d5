/* SPDX-License-Identifier: MIT */
/*
 * ssrc-filter's kernel state: the values of the maps it owns (its stage,
 * xi_stage_ssrc_filter, lists them with their keying).
 * Included by the stage's .bpf.c (BPF) and by its interceptor, twin and
 * tests (userspace); built on the core contract of <xicept/abi.h>.
 */
#ifndef XICEPT_SSRC_FILTER_ABI_H
#define XICEPT_SSRC_FILTER_ABI_H

#include <xicept/abi.h>

/* ssrc-filter. xi_ssrc_filters (ARRAY indexed by __u32 conn_id, max_conns +
 * 1 slots) holds the mode; a connection whose slot holds XI_SSRC_MODE_OFF
 * (every slot, until a filter is built) passes everything. xi_ssrc_lists
 * (HASH by xi_stream_key) holds the listed SSRCs. */
enum xi_ssrc_mode {
	XI_SSRC_MODE_OFF = 0,
	XI_SSRC_MODE_ALLOW = 1,    /* pass listed SSRCs, drop the rest */
	XI_SSRC_MODE_DENY = 2,     /* drop listed SSRCs, pass the rest */
};

struct xi_ssrc_filter {
	__u32 mode;                /* enum xi_ssrc_mode */
};

struct xi_ssrc_entry {
	__u32 ssrc;                /* the key's ssrc again, for readable dumps */
};

/* xi_ssrc_drops (PERCPU_HASH by xi_stream_key) and xi_conn_drops (PERCPU_HASH
 * by __u32 conn_id): packets dropped by ssrc-filter, exact once the CPUs'
 * copies are summed. */
struct xi_drop_count {
	__u64 packets;
	__u64 bytes;               /* their UDP payload bytes */
};

#endif
