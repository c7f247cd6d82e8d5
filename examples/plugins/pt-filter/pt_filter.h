/* SPDX-License-Identifier: MIT */
/* pt-filter: what its stage program and its factory share. */
#ifndef PT_FILTER_H
#define PT_FILTER_H

#include <linux/types.h>

/* ptf_allow and ptf_pt_drops: per (connection, payload type). */
struct ptf_key {
	__u32 conn_id;
	__u32 pt;
};

/* ptf_drops (per (connection, SSRC)) and ptf_pt_drops: summed over CPUs. */
struct ptf_count {
	__u64 packets;
	__u64 bytes;       /* UDP payload bytes */
};

#endif
