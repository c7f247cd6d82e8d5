// SPDX-License-Identifier: MIT
/*
 * xi_twcc_sequencer: the sending side of transport-wide congestion control
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01). Packets leaving
 * (xi_twcc_sequencer_tc) that carry an RFC 8285 one-byte extension element
 * with the configured id and two bytes of data get the connection's next
 * transport-wide sequence number written into it, the UDP checksum fixed
 * (RFC 1624 through bpf_l4_csum_replace; a zero IPv4 checksum stays zero).
 * Packets arriving pass untouched. Twin: user/interceptors/twcc_sequencer/twin.c.
 */

#include "xi_common.h"
#include "xi_egress.h"
#include "user/interceptors/twcc_sequencer/twcc_sequencer_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct xi_twcc_cfg);
} xi_twcc_cfgs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct xi_twcc_seq);
} xi_twcc_seqs SEC(".maps");

#define XI_TWCC_ELEMS_MAX 16

static __always_inline __u16 xi_swab16(__u16 v)
{
	return (__u16)(v << 8 | v >> 8);
}   /* one-byte elements looked at, padding included */

SEC("xdp")
int xi_twcc_sequencer(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();

	if (!pc)
		return XDP_PASS;
	return xi_next_stage(ctx, pc);
}

/* The offset of the two data bytes of element id, or 0. */
static __always_inline __u32 xi_twcc_find(struct __sk_buff *skb, const struct xi_pkt_ctx *pc,
					  __u32 id)
{
	__u32 x = pc->payload_off + 12, at, end;
	__u8 b0, hdr[4];

	if (bpf_skb_load_bytes(skb, pc->payload_off, &b0, 1) || !(b0 & 0x10))
		return 0;
	x += (b0 & 0x0f) * 4;
	if (bpf_skb_load_bytes(skb, x & XI_OFF_MAX, hdr, 4) || hdr[0] != 0xbe || hdr[1] != 0xde)
		return 0;
	at = x + 4;
	end = at + ((__u32)hdr[2] << 8 | hdr[3]) * 4;
#pragma unroll
	for (int i = 0; i < XI_TWCC_ELEMS_MAX; i++) {
		__u8 e;

		if (at >= end || bpf_skb_load_bytes(skb, at & XI_OFF_MAX, &e, 1))
			return 0;
		if (e == 0) {   /* padding between elements */
			at++;
			continue;
		}
		if (e >> 4 == 15)
			return 0;   /* reserved: stop, RFC 8285 4.2 */
		if (e >> 4 == id)
			return (e & 0x0f) == 1 && at + 3 <= end ? at + 1 : 0;
		at += 2 + (e & 0x0f);
	}
	return 0;
}

SEC("tc")
int xi_twcc_sequencer_tc(struct __sk_buff *skb)
{
	struct xi_pkt_ctx *pc = xi_escratch_get();
	struct xi_twcc_seq zero = {}, *seq;
	struct xi_twcc_cfg *cfg;
	__u16 old, val;
	__u32 at, n;

	if (!pc)
		return TC_ACT_OK;
	if (pc->is_rtcp)
		return xi_next_stage_tc(skb, pc);
	cfg = bpf_map_lookup_elem(&xi_twcc_cfgs, &pc->conn_id);
	if (!cfg)
		return xi_next_stage_tc(skb, pc);
	at = xi_twcc_find(skb, pc, cfg->ext_id);
	if (!at || bpf_skb_load_bytes(skb, at, &old, 2))
		return xi_next_stage_tc(skb, pc);
	seq = xi_lookup_or_init(&xi_twcc_seqs, &pc->conn_id, &zero);
	if (!seq) {
		xi_ecount(XI_REASON_STATS_FULL);
		return xi_next_stage_tc(skb, pc);
	}
	bpf_spin_lock(&seq->lock);
	n = seq->next++;
	bpf_spin_unlock(&seq->lock);
	val = bpf_htons((__u16)n);
	/* The checksum sums 16-bit words from the UDP header on: a field at
	 * an odd offset (one-byte elements need not be aligned) counts with
	 * its bytes swapped. */
	if ((at - pc->l4_off) & 1)
		bpf_l4_csum_replace(skb, pc->l4_off + 6, xi_swab16(old), xi_swab16(val),
				    BPF_F_MARK_MANGLED_0 | 2);
	else
		bpf_l4_csum_replace(skb, pc->l4_off + 6, old, val, BPF_F_MARK_MANGLED_0 | 2);
	bpf_skb_store_bytes(skb, at, &val, 2, 0);
	return xi_next_stage_tc(skb, pc);
}
