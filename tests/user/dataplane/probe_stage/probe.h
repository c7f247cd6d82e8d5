/* SPDX-License-Identifier: MIT */
/* The probe stage's map value, shared by its program and its descriptor, as
 * abi.h is for the built-in stages. */
#ifndef XI_PROBE_H
#define XI_PROBE_H

#include <linux/types.h>

/* xi_probe_counts (HASH by struct xi_stream_key) */
struct xi_probe_count {
	__u64 packets;
	__u64 bytes;               /* UDP payload bytes */
};

#endif
