// SPDX-License-Identifier: MIT
/*
 * The TC egress side: pion's local streams. attach puts xi_tc_egress on the
 * clsact egress hook of the interface; packets leaving from a connection's
 * local endpoint then run the connection's egress stages (xi_conn.egress),
 * each stage's TC program in its slot of xi_egress_stages.
 *
 * A clsact qdisc that was there before stays at detach: attach notes in
 * xi_config whether it created the qdisc, and which filter (handle,
 * priority) it added, so detach removes exactly what attach made.
 *
 * The maps of the egress side are described here as a stage (slot
 * XI_STAGE_EGRESS), so the loader sizes them, conn del sweeps them and
 * `stats` reads them like any stage's; its program is no XDP stage, so the
 * slot of xi_stages stays empty (on demand, never filled).
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/dataplane/egress.h"
#include "user/dataplane/internal.h"

static const struct xi_stat_def remote_schema[] = {
	{ "remote_reports", XI_STAT_COUNTER, "Reports the remote sent about this local stream." },
	{ "rtt_us", XI_STAT_GAUGE,
	  "Round-trip time from the last report with LSR (RFC 3550 6.4.1), us; -1: none yet." },
	{ "remote_fraction_lost", XI_STAT_GAUGE, "Fraction lost the remote reported, in 1/256." },
	{ "remote_lost", XI_STAT_GAUGE, "Cumulative packets lost the remote reported." },
	{ "remote_jitter", XI_STAT_GAUGE,
	  "Interarrival jitter the remote reported, RTP timestamp units." },
	{ "nack_requested", XI_STAT_COUNTER, "Packets the remote asked for again (generic NACK)." },
	{ "nack_resent", XI_STAT_COUNTER, "Of those, resent." },
	{ "nack_missed", XI_STAT_COUNTER, "Of those, no longer held: not resent." },
	{ NULL },
};

static void remote_fields(const void *value, struct xi_ssrc_stats *s)
{
	const struct xi_remote_report *v = value;

	xi_ssrc_stats_set(s, "remote_reports", (int64_t)v->reports);
	/* 1/65536 s to µs, rounded */
	xi_ssrc_stats_set(s, "rtt_us", v->rtt_reports ?
			  (int64_t)(((uint64_t)v->rtt_q16 * 1000000 + 32768) >> 16) : -1);
	xi_ssrc_stats_set(s, "remote_fraction_lost", v->fraction_lost);
	xi_ssrc_stats_set(s, "remote_lost", v->cumulative_lost);
	xi_ssrc_stats_set(s, "remote_jitter", v->jitter);
	xi_ssrc_stats_set(s, "nack_requested", (int64_t)v->nack_requested);
	xi_ssrc_stats_set(s, "nack_resent", (int64_t)v->nack_resent);
	xi_ssrc_stats_set(s, "nack_missed", (int64_t)v->nack_missed);
}

static const struct xi_stage_map egress_maps[] = {
	[XI_EGRESS_MAP_REMOTE] = { "xi_remote_reports", XI_STAGE_KEY_STREAM },
	[XI_EGRESS_MAP_REASONS] = { "xi_egress_reasons", XI_STAGE_KEY_NONE },
	[XI_EGRESS_MAP_RTCP_IGNORED] = { "xi_rtcp_ignored", XI_STAGE_KEY_NONE },
	[XI_EGRESS_MAP_STAGES] = { "xi_egress_stages", XI_STAGE_KEY_NONE },
	{ NULL },
};

static const struct xi_stage_stats remote_stats = {
	.map = XI_EGRESS_MAP_REMOTE,
	.local = true,   /* keyed by the local SSRC the reports are about */
	.value_size = sizeof(struct xi_remote_report),
	.schema = remote_schema,
	.fields = remote_fields,
};

const struct xi_stage xi_stage_egress = {
	.sz = sizeof(struct xi_stage),
	.name = "egress",
	.slot = XI_STAGE_EGRESS,
	.prog = "xi_tc_egress",
	.on_demand = true,
	.maps = egress_maps,
	.stats = &remote_stats,
};

static int config_note(int cfg_fd, bool own_qdisc, __u32 handle, __u32 priority)
{
	struct xi_iface_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(cfg_fd, &zero, &cfg))
		return -errno;
	if (own_qdisc)
		cfg.flags |= XI_IFACE_F_OWN_CLSACT;
	cfg.tc_handle = handle;
	cfg.tc_priority = priority;
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

int xi_egress_attach(struct bpf_object *obj, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "xi_tc_egress");
	struct bpf_map *stages = bpf_object__find_map_by_name(obj, "xi_egress_stages");
	struct bpf_map *cfg = bpf_object__find_map_by_name(obj, "xi_config");
	bool own = false;
	int r;

	if (!prog || !stages || !cfg)
		return -ENOENT;
	r = xi_stage_fill_slots(obj, bpf_map__fd(stages), XI_FILL_EGRESS);
	if (r)
		return r;
	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST)
		return r;
	own = r == 0;
	/* Noted before the filter exists, so that a failure from here on
	 * still lets detach remove the qdisc it made. */
	r = config_note(bpf_map__fd(cfg), own, 0, 0);
	if (r)
		goto fail;
	opts.prog_fd = bpf_program__fd(prog);
	r = bpf_tc_attach(&hook, &opts);
	if (!r)
		r = config_note(bpf_map__fd(cfg), own, opts.handle, opts.priority);
	if (!r)
		return 0;
fail:
	if (own) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return r;
}

int xi_egress_detach(const char *ifname)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	struct xi_iface_config cfg;
	__u32 zero = 0;
	int fd, r = 0;

	hook.ifindex = (int)if_nametoindex(ifname);
	if (hook.ifindex == 0)
		return 0;   /* the interface is gone, its qdiscs with it */
	fd = xi_dataplane_pin_get(ifname, "xi_config");
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		r = -errno;
	close(fd);
	if (r)
		return r;
	if (cfg.tc_handle && cfg.tc_priority) {
		opts.handle = cfg.tc_handle;
		opts.priority = cfg.tc_priority;
		r = bpf_tc_detach(&hook, &opts);
		if (r == -ENOENT)
			r = 0;   /* removed by someone else already */
	}
	if (!r && (cfg.flags & XI_IFACE_F_OWN_CLSACT)) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		r = bpf_tc_hook_destroy(&hook);
		if (r == -ENOENT || r == -EINVAL)
			r = 0;
	}
	return r;
}

int xi_dataplane_egress_reasons(struct xi_dataplane *dp, uint64_t *counts, size_t n)
{
	int fd, ncpu = libbpf_num_possible_cpus();

	if (!dp || !counts || n < XI_REASON__MAX)
		return -EINVAL;
	fd = xi_dataplane_stage_fd(dp, XI_STAGE_EGRESS, XI_EGRESS_MAP_REASONS);
	if (fd < 0)
		return fd;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	for (__u32 i = 0; i < XI_REASON__MAX; i++) {
		int r = xi_percpu_sum(fd, &i, &counts[i], 1);

		if (r)
			return r;
	}
	return 0;
}

static const char *const rtcp_bad_names[] = { XI_RTCP_BADS(XI_LIST_NAME) };

_Static_assert(sizeof(rtcp_bad_names) / sizeof(rtcp_bad_names[0]) == XI_RTCP_BAD__MAX,
	       "every enum xi_rtcp_bad needs a name");

size_t xi_rtcp_ignored_count(void)
{
	return XI_RTCP_BAD__MAX;
}

const char *xi_rtcp_ignored_name(size_t i)
{
	return i < XI_RTCP_BAD__MAX ? rtcp_bad_names[i] : NULL;
}

int xi_dataplane_rtcp_ignored(struct xi_dataplane *dp, uint64_t *counts, size_t n)
{
	int fd;

	if (!dp || !counts || n < XI_RTCP_BAD__MAX)
		return -EINVAL;
	fd = xi_dataplane_stage_fd(dp, XI_STAGE_EGRESS, XI_EGRESS_MAP_RTCP_IGNORED);
	if (fd < 0)
		return fd;
	for (__u32 i = 0; i < XI_RTCP_BAD__MAX; i++) {
		__u64 v;

		if (bpf_map_lookup_elem(fd, &i, &v))
			return -errno;
		counts[i] = v;
	}
	return 0;
}

int xi_egress_info(struct xi_dataplane *dp, struct xi_dataplane_info *info)
{
	struct bpf_prog_info pi = { 0 };
	__u32 len = sizeof(pi);
	int fd = xi_dataplane_pin_get(dp->ifname, "xi_tc_egress"), r = 0;

	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	if (bpf_obj_get_info_by_fd(fd, &pi, &len))
		r = -errno;
	close(fd);
	if (r)
		return r;
	/* Not an XDP stage: its slot of xi_stages stays empty, but status
	 * shows the program that runs the egress stages. */
	info->stage_prog_ids[XI_STAGE_EGRESS] = pi.id;
	info->n_stage_progs++;
	return 0;
}

int xi_dataplane_remote_report_merge(struct xi_dataplane *dp, uint32_t conn_id, uint32_t ssrc,
				     const struct xi_remote_report *add, bool set_report,
				     bool set_rtt)
{
	struct xi_stream_key key = { .conn_id = conn_id, .ssrc = ssrc };
	struct xi_remote_report v = { 0 };
	int fd;

	if (!dp)
		return 0;
	fd = xi_dataplane_stage_fd(dp, XI_STAGE_EGRESS, XI_EGRESS_MAP_REMOTE);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, &v) && errno != ENOENT)
		return -errno;
	v.reports += add->reports;
	v.rtt_reports += add->rtt_reports;
	v.nack_requested += add->nack_requested;
	v.nack_resent += add->nack_resent;
	v.nack_missed += add->nack_missed;
	if (set_report) {
		v.fraction_lost = add->fraction_lost;
		v.cumulative_lost = add->cumulative_lost;
		v.jitter = add->jitter;
		v.ext_highest_seq = add->ext_highest_seq;
	}
	if (set_rtt)
		v.rtt_q16 = add->rtt_q16;
	if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}
