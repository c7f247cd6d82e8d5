/* SPDX-License-Identifier: MIT */
/*
 * A loaded xicept object for tests: fill maps, run programs with
 * BPF_PROG_TEST_RUN, read counters. Nothing is pinned or attached, so there
 * is nothing to clean up but the object itself.
 */
#ifndef XI_TEST_TB_H
#define XI_TEST_TB_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/abi.h>
#include "xicept.skel.h"
#include "user/dataplane/internal.h"
#include "bpf/xi_pkt.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

struct tb {
	struct xicept *skel;
	int ncpu;
};

static inline int tb_fd(const struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static inline struct tb *tb_open(void)
{
	struct tb *tb = calloc(1, sizeof(*tb));

	if (!tb)
		return NULL;
	tb->skel = xicept__open_and_load();
	tb->ncpu = libbpf_num_possible_cpus();
	/* As attach does: the stage descriptors fill xi_stages. */
	if (tb->skel && xi_stage_fill_slots(tb->skel->obj, bpf_map__fd(tb->skel->maps.xi_stages), XI_FILL_STAGES)) {
		xicept__destroy(tb->skel);
		tb->skel = NULL;
	}
	if (!tb->skel || tb->ncpu <= 0) {
		fprintf(stderr, "cannot load xicept BPF object (root needed): %d\n", -errno);
		xicept__destroy(tb->skel);
		free(tb);
		return NULL;
	}
	return tb;
}

static inline void tb_close(struct tb *tb)
{
	if (!tb)
		return;
	xicept__destroy(tb->skel);
	free(tb);
}

/* Runs the program prog_fd over frame repeat times; returns the XDP action,
 * or -errno. */
static inline int tb_run_fd(int prog_fd, const void *frame, size_t len, unsigned repeat,
			    uint32_t *ret_duration)
{
	uint8_t out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return err < 0 ? err : -err;
	if (ret_duration)
		*ret_duration = opts.duration;
	return (int)opts.retval;
}

static inline int tb_run_prog(struct tb *tb, struct bpf_program *prog, const void *frame,
			      size_t len, unsigned repeat, uint32_t *ret_duration)
{
	return tb_run_fd(bpf_program__fd(prog), frame, len, repeat, ret_duration);
}

static inline int tb_run(struct tb *tb, const void *frame, size_t len)
{
	return tb_run_prog(tb, tb->skel->progs.xi_entry, frame, len, 1, NULL);
}

static inline uint64_t tb_reason(struct tb *tb, uint32_t reason)
{
	uint64_t v[tb->ncpu], sum = 0;

	if (bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_reasons), &reason, v))
		return UINT64_MAX;
	for (int i = 0; i < tb->ncpu; i++)
		sum += v[i];
	return sum;
}

/* Every reason counter, for "exactly this one moved" checks. */
static inline void tb_reasons(struct tb *tb, uint64_t ret[XI_REASON__MAX])
{
	for (uint32_t r = 0; r < XI_REASON__MAX; r++)
		ret[r] = tb_reason(tb, r);
}

static inline int tb_config(struct tb *tb, uint32_t unknown_flow, uint32_t non_rtp,
			    uint32_t flags, uint64_t clock_ns)
{
	struct xi_iface_config c = { .unknown_flow = unknown_flow, .non_rtp = non_rtp,
				     .flags = flags, .test_clock_ns = clock_ns };
	uint32_t zero = 0;

	return bpf_map_update_elem(tb_fd(tb->skel->maps.xi_config), &zero, &c, BPF_ANY);
}

static inline struct xi_flow_key tb_key4(const uint8_t *local, uint16_t lport,
					 const uint8_t *remote, uint16_t rport)
{
	struct xi_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = XI_FAMILY_IPV4;
	memcpy(k.local_addr, local, 4);
	k.local_port = htons(lport);
	if (remote) {
		memcpy(k.remote_addr, remote, 4);
		k.remote_port = htons(rport);
	}
	return k;
}

static inline struct xi_flow_key tb_key6(const uint8_t *local, uint16_t lport,
					 const uint8_t *remote, uint16_t rport)
{
	struct xi_flow_key k = tb_key4(local, lport, NULL, 0);

	k.family = XI_FAMILY_IPV6;
	memcpy(k.local_addr, local, 16);
	if (remote) {
		memcpy(k.remote_addr, remote, 16);
		k.remote_port = htons(rport);
	}
	return k;
}

/* The flow, and its port's xi_ports slot as the control plane sets it. */
static inline int tb_flow(struct tb *tb, const struct xi_flow_key *k, uint32_t conn_id)
{
	struct xi_flow v = { .conn_id = conn_id };
	uint32_t slot = XI_PORT_SLOT(ntohs(k->local_port), k->remote_port == 0), one = 1;

	struct xi_flow4_key k4 = xi_flow4_key_of(k);

	if (bpf_map_update_elem(tb_fd(tb->skel->maps.xi_ports), &slot, &one, BPF_ANY))
		return -1;
	if (k->family == XI_FAMILY_IPV4)
		return bpf_map_update_elem(tb_fd(tb->skel->maps.xi_flows4), &k4, &v, BPF_ANY);
	return bpf_map_update_elem(tb_fd(tb->skel->maps.xi_flows6), k, &v, BPF_ANY);
}

static inline int tb_conn(struct tb *tb, uint32_t conn_id, const uint8_t *stages, int n,
			  uint32_t verdict, uint32_t default_rate)
{
	struct xi_conn c;

	memset(&c, 0, sizeof(c));
	c.conn_id = conn_id;
	c.default_clock_rate = default_rate;
	c.n_stages = (uint8_t)n;
	c.verdict = (uint8_t)verdict;
	if (n > 0)
		memcpy(c.stages, stages, (size_t)n);
	return bpf_map_update_elem(tb_fd(tb->skel->maps.xi_conns), &conn_id, &c, BPF_ANY);
}

static inline int tb_ssrc_filter(struct tb *tb, uint32_t conn_id, uint32_t mode,
				 const uint32_t *ssrcs, int n)
{
	struct xi_ssrc_filter f = { .mode = mode };
	int err = bpf_map_update_elem(tb_fd(tb->skel->maps.xi_ssrc_filters), &conn_id, &f,
				      BPF_ANY);

	for (int i = 0; !err && i < n; i++) {
		struct xi_stream_key k = { .conn_id = conn_id, .ssrc = ssrcs[i] };
		struct xi_ssrc_entry e = { .ssrc = ssrcs[i] };

		err = bpf_map_update_elem(tb_fd(tb->skel->maps.xi_ssrc_lists), &k, &e, BPF_ANY);
	}
	return err;
}

static inline int tb_clock_rate(struct tb *tb, uint32_t conn_id, uint32_t ssrc, uint32_t rate)
{
	struct xi_stream_key k = { .conn_id = conn_id, .ssrc = ssrc };
	struct xi_clock_rate v = { .clock_rate = rate };
	struct xi_hs_conn rated = { 1 };   /* as header-stats' bind marks it */

	return bpf_map_update_elem(tb_fd(tb->skel->maps.xi_clock_rates), &k, &v, BPF_ANY) ||
	       bpf_map_update_elem(tb_fd(tb->skel->maps.xi_hs_conns), &conn_id, &rated, BPF_ANY) ? -errno : 0;
}

/* 0 and the stats, or -ENOENT. */
static inline int tb_stats(struct tb *tb, uint32_t conn_id, uint32_t ssrc,
			   struct xi_stream_stats *ret)
{
	struct xi_stream_key k = { .conn_id = conn_id, .ssrc = ssrc };

	memset(ret, 0, sizeof(*ret));
	return bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_stream_stats), &k, ret) ? -errno : 0;
}

/* Drops of (conn, ssrc), or of the whole connection when ssrc_or_all < 0. */
static inline uint64_t tb_drops(struct tb *tb, uint32_t conn_id, int64_t ssrc_or_all)
{
	struct xi_stream_key k = { .conn_id = conn_id, .ssrc = (uint32_t)ssrc_or_all };
	uint64_t d[2] = { 0 };   /* struct xi_drop_count, summed over CPUs */
	int err;

	if (ssrc_or_all < 0)
		err = xi_percpu_sum(tb_fd(tb->skel->maps.xi_conn_drops), &conn_id, d, 2);
	else
		err = xi_percpu_sum(tb_fd(tb->skel->maps.xi_ssrc_drops), &k, d, 2);
	return err ? 0 : d[0];
}

/* Addresses used throughout the tests. */
static const uint8_t TB_LOCAL4[4] = { 10, 0, 0, 1 };
static const uint8_t TB_PEER4[4] = { 10, 0, 0, 2 };
static const uint8_t TB_LOCAL6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t TB_PEER6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static inline struct pkt_spec tb_spec4(const uint8_t *payload, size_t len)
{
	struct pkt_spec s;

	memset(&s, 0, sizeof(s));
	s.family = 4;
	memcpy(s.src, TB_PEER4, 4);
	memcpy(s.dst, TB_LOCAL4, 4);
	s.sport = 40000;
	s.dport = 5004;
	s.payload = payload;
	s.payload_len = len;
	return s;
}

static inline struct pkt_spec tb_spec6(const uint8_t *payload, size_t len)
{
	struct pkt_spec s = tb_spec4(payload, len);

	s.family = 6;
	memcpy(s.src, TB_PEER6, 16);
	memcpy(s.dst, TB_LOCAL6, 16);
	return s;
}

#endif
