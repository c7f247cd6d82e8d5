/* SPDX-License-Identifier: MIT */
/*
 * The TC egress side of an attached interface (bpf/egress.bpf.c): attach
 * puts xi_tc_egress on the interface's clsact egress hook, detach takes it,
 * and only it, off again. See user/dataplane/egress.c.
 */
#ifndef XICEPT_DATAPLANE_EGRESS_H
#define XICEPT_DATAPLANE_EGRESS_H

struct bpf_object;

/* The maps of the egress descriptor (xi_stage_egress), by index. */
enum xi_egress_map {
	XI_EGRESS_MAP_REMOTE,         /* (conn, ssrc) -> struct xi_remote_report */
	XI_EGRESS_MAP_REASONS,        /* per-CPU counters by enum xi_reason */
	XI_EGRESS_MAP_RTCP_IGNORED,   /* counters by enum xi_rtcp_bad */
	XI_EGRESS_MAP_STAGES,         /* PROG_ARRAY of the stages' TC programs */
};

/* Fills xi_egress_stages, creates the clsact qdisc unless one is there
 * (noting in xi_config that it is ours), attaches xi_tc_egress and notes its
 * handle and priority in xi_config. Called by attach once the object is
 * loaded and pinned. */
int xi_egress_attach(struct bpf_object *obj, int ifindex);
/* Removes the filter attach noted, and the clsact qdisc when attach made
 * it. 0 when the interface is gone or nothing was attached. */
int xi_egress_detach(const char *ifname);

struct xi_dataplane;
struct xi_dataplane_info;
/* Puts xi_tc_egress's program id under slot XI_STAGE_EGRESS of info. */
int xi_egress_info(struct xi_dataplane *dp, struct xi_dataplane_info *info);

#endif
