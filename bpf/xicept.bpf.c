// SPDX-License-Identifier: MIT
/*
 * The one BPF object of xicept: xi_entry, xi_to_user, xi_tap, every stage program and the maps
 * they share (bpf/xi_common.h). Each interceptor's stage lives beside its
 * factory (user/interceptors/<name>/<name>.bpf.c); the build lists them in
 * xi_stage_srcs.h, included here so that one skeleton (xicept.skel.h) covers
 * all of them and the shared maps exist once. Contracts: include/xicept/abi.h.
 */
#include "xi_common.h"
#include "xi_egress.h"

#include "entry.bpf.c"
#include "to_user.bpf.c"
#include "tap.bpf.c"
#include "egress.bpf.c"
#include "xi_stage_srcs.h"
#include "anchor.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
