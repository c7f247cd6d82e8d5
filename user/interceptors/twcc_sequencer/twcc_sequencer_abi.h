/* SPDX-License-Identifier: MIT */
/*
 * twcc-sequencer's kernel state: the values of the maps it owns (its stage,
 * xi_stage_twcc_sequencer, lists them with their keying).
 * Included by the stage's .bpf.c (BPF) and by its interceptor, twin and
 * tests (userspace); built on the core contract of <xicept/abi.h>.
 */
#ifndef XICEPT_TWCC_SEQUENCER_ABI_H
#define XICEPT_TWCC_SEQUENCER_ABI_H

#include <xicept/abi.h>

/* twcc-sequencer, xi_twcc_seqs (HASH by __u32 conn_id): the next
 * transport-wide sequence number of the connection. */
struct xi_twcc_seq {
	struct bpf_spin_lock lock;
	__u32 next;
};

/* twcc-sequencer, xi_twcc_cfgs (HASH by __u32 conn_id). */
struct xi_twcc_cfg {
	__u32 ext_id;              /* RFC 8285 one-byte element id, 1..14 */
};

#endif
