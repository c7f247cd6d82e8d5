/* SPDX-License-Identifier: MIT */
/* xi_entry's map anchors (see bpf/entry.bpf.c), included last by
 * bpf/xicept.bpf.c, once every map of the object is declared. */
/*
 * Kernel state is found from the program attached to the interface alone:
 * its map ids are the maps it references, so xi_entry references every map
 * of the object, the ones only the control plane or a stage uses included.
 * xi_anchor_maps is 0 in the frozen .rodata, so the verifier removes the
 * branch: no packet pays for it, and the maps stay the program's. The
 * stages' maps come from the build's list (xi_stage_maps.h). Not
 * xi_egress_stages: a program array belongs to the program type that names
 * it first, and its users are TC programs (xi_tc_egress names it).
 */
#define XI_ANCHOR_MAP(m) asm volatile("r0 = %[map] ll" :: [map] "i"(&m) : "r0");

static __always_inline void xi_maps_anchor(void)
{
	XI_ANCHOR_MAP(xi_conn_meta)
	XI_ANCHOR_MAP(xi_losses)
	XI_ANCHOR_MAP(xi_progs)
	XI_ANCHOR_MAP(xi_xsks)
	XI_ANCHOR_MAP(xi_tap_ring)
	XI_ANCHOR_MAP(xi_escratch)
	XI_ANCHOR_MAP(xi_egress_reasons)
	XI_ANCHOR_MAP(xi_local_stats)
	XI_ANCHOR_MAP(xi_remote_reports)
	XI_ANCHOR_MAP(xi_rtcp_ignored)
#include "xi_stage_maps.h"
}
