// SPDX-License-Identifier: MIT
/*
 * xi_pt_filter: drops RTP whose payload type is not in the connection's
 * allow list, counting each drop per (connection, SSRC) and per
 * (connection, payload type). RTCP and connections without a list pass.
 * Loaded by xicept against the interface's shared maps (plugin.h).
 */
#include <xicept/bpf/xi_common.h>

#include "pt_filter.h"

/* Connections with a list: conn id -> 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_CONNS);
	__type(key, __u32);
	__type(value, __u32);
} ptf_conns SEC(".maps");

/* Allowed (connection, payload type) pairs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct ptf_key);
	__type(value, __u32);
} ptf_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct ptf_count);
} ptf_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct ptf_key);
	__type(value, struct ptf_count);
} ptf_pt_drops SEC(".maps");

static __always_inline void ptf_count(void *map, const void *key, __u32 bytes)
{
	struct ptf_count zero = {}, *n = xi_lookup_or_init(map, key, &zero);

	if (n) {
		n->packets += 1;
		n->bytes += bytes;
	} else {
		xi_count(XI_REASON_STATS_FULL);
	}
}

SEC("xdp")
int xi_pt_filter(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();
	struct xi_stream_key sk;
	struct ptf_key key;

	if (!pc)
		return XDP_PASS;
	if (pc->is_rtcp || !bpf_map_lookup_elem(&ptf_conns, &pc->conn_id))
		return xi_next_stage(ctx, pc);
	key.conn_id = pc->conn_id;
	key.pt = pc->payload_type;
	if (bpf_map_lookup_elem(&ptf_allow, &key))
		return xi_next_stage(ctx, pc);
	xi_count(XI_REASON_PLUGIN_DROP);
	sk.conn_id = pc->conn_id;
	sk.ssrc = pc->ssrc;
	ptf_count(&ptf_drops, &sk, pc->payload_len);
	ptf_count(&ptf_pt_drops, &key, pc->payload_len);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
