// SPDX-License-Identifier: MIT
/*
 * The one BPF object of xicept: xi_entry, every stage program and the maps
 * they share (bpf/xi_common.h). Stages live in their own files, included here
 * so that one skeleton (xicept.skel.h) covers all of them and the maps exist
 * once. Contracts: include/xicept/abi.h.
 */
#include "xi_common.h"

#include "entry.bpf.c"
#include "noop.bpf.c"
#include "ssrc_filter.bpf.c"
#include "header_stats.bpf.c"
#include "to_user.bpf.c"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
