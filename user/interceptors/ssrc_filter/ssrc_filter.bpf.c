// SPDX-License-Identifier: MIT
/* xi_ssrc_filter: per-connection allow or deny list of SSRCs, applied to the
 * RTP SSRC and the RTCP sender SSRC. Twin: user/interceptors/ssrc_filter/twin.c. */

#include "xi_common.h"
#include "xi_egress.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"

/* The stage's maps; see struct xi_ssrc_filter and friends in ssrc_filter_abi.h. The
 * mode is an array by connection id, as xi_conns is: read on every packet
 * of the chain, a slot read costs a few ns where a hash lookup costs ~30.
 * The others are not preallocated: an entry takes memory when an SSRC needs
 * it, which keeps large tables (per CPU, for the drop counters) affordable. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XI_MAX_CONNS + 1);
	__type(key, __u32);
	__type(value, struct xi_ssrc_filter);
} xi_ssrc_filters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_ssrc_entry);
} xi_ssrc_lists SEC(".maps");

/* Per CPU: a drop is two plain adds, no atomics; readers sum the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_drop_count);
} xi_ssrc_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct xi_drop_count);
} xi_conn_drops SEC(".maps");

static __always_inline int xi_ssrc_listed(const struct xi_pkt_ctx *pc)
{
	struct xi_stream_key key = { .conn_id = pc->conn_id, .ssrc = pc->ssrc };

	return bpf_map_lookup_elem(&xi_ssrc_lists, &key) != NULL;
}

static __always_inline void xi_ssrc_count_drop(const struct xi_pkt_ctx *pc)
{
	struct xi_stream_key key = { .conn_id = pc->conn_id, .ssrc = pc->ssrc };
	struct xi_drop_count zero = {}, *n;
	__u32 conn_id = pc->conn_id;

	xi_pcount(pc, XI_REASON_SSRC_DROP);
	n = xi_lookup_or_init(&xi_ssrc_drops, &key, &zero);
	if (n) {
		n->packets += 1;
		n->bytes += pc->payload_len;
	} else {
		xi_pcount(pc, XI_REASON_STATS_FULL);
	}
	n = xi_lookup_or_init(&xi_conn_drops, &conn_id, &zero);
	if (n) {
		n->packets += 1;
		n->bytes += pc->payload_len;
	} else
		xi_pcount(pc, XI_REASON_STATS_FULL);
}

/* 1 when the packet is to be dropped (and was counted). */
static __always_inline int xi_ssrc_filter_run(struct xi_pkt_ctx *pc)
{
	struct xi_ssrc_filter *f;
	int drop = 0;

	f = bpf_map_lookup_elem(&xi_ssrc_filters, &pc->conn_id);
	if (f && f->mode == XI_SSRC_MODE_ALLOW)
		drop = !xi_ssrc_listed(pc);
	else if (f && f->mode == XI_SSRC_MODE_DENY)
		drop = xi_ssrc_listed(pc);
	if (drop)
		xi_ssrc_count_drop(pc);
	return drop;
}

SEC("xdp")
int xi_ssrc_filter(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();

	if (!pc)
		return XDP_PASS;
	if (xi_ssrc_filter_run(pc)) {
		xi_chain_done(pc);
		return XDP_DROP;
	}
	return xi_next_stage(ctx, pc);
}

/* Packets leaving: an SSRC the filter stops does not leave. */
SEC("tc")
int xi_ssrc_filter_tc(struct __sk_buff *skb)
{
	struct xi_pkt_ctx *pc = xi_escratch_get();

	if (!pc)
		return TC_ACT_OK;
	if (xi_ssrc_filter_run(pc))
		return TC_ACT_SHOT;
	return xi_next_stage_tc(skb, pc);
}
