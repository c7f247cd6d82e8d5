/* SPDX-License-Identifier: MIT */
/*
 * What the TC egress side (bpf/egress.bpf.c) shares with the stages: its own
 * PROG_ARRAY (a PROG_ARRAY holds programs of one type, and TC's are not
 * XDP's), its scratch and its reason counters. A stage has one body and two
 * thin programs: SEC("xdp") xi_<sym> for packets arriving and SEC("tc")
 * xi_<sym>_tc for packets leaving, both under the same slot. Its body reads
 * pc->egress when the direction matters.
 */
#ifndef XI_BPF_EGRESS_H
#define XI_BPF_EGRESS_H

#include <linux/pkt_cls.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XI_STAGES_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} xi_egress_stages SEC(".maps");

/* TC egress runs with bottom halves off, XDP in softirq: separate scratch
 * all the same, so that neither can ever see the other's packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xi_pkt_ctx);
} xi_escratch SEC(".maps");

/* Packets leaving, by the reason that decided their fate (enum xi_reason). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XI_REASON__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xi_egress_reasons SEC(".maps");

static __always_inline void xi_ecount(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&xi_egress_reasons, &reason);

	if (n)
		*n += 1;
}

/* xi_count for a stage body: the counters of the packet's direction. */
static __always_inline void xi_pcount(const struct xi_pkt_ctx *pc, __u32 reason)
{
	if (pc->egress)
		xi_ecount(reason);
	else
		xi_count(reason);
}

static __always_inline struct xi_pkt_ctx *xi_escratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xi_escratch, &zero);
}

static __always_inline int xi_tc_action(__u32 act)
{
	return act == XI_ACT_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

static __always_inline void xi_tail_call_const_tc(struct __sk_buff *ctx, const __u32 slot)
{
	asm volatile("r1 = %[ctx]\n\t"
		     "r2 = %[map] ll\n\t"
		     "r3 = %[slot]\n\t"
		     "call 12\n\t"   /* BPF_FUNC_tail_call */
		     :: [ctx] "r"(ctx), [map] "i"(&xi_egress_stages), [slot] "i"(slot)
		     : "r0", "r1", "r2", "r3", "r4", "r5");
}

/* xi_next_stage for packets leaving. An empty slot passes: the tap's when
 * no daemon runs (no_daemon), any other as a failed tail call. */
static __always_inline int xi_next_stage_tc(struct __sk_buff *ctx, struct xi_pkt_ctx *pc)
{
	__u32 pos = pc->pos, slot;

	if (pos >= pc->n_stages || pos >= XI_CHAIN_STAGES_MAX) {
		xi_ecount(XI_REASON_CHAIN_END);
		return xi_tc_action(pc->verdict);
	}
	pc->pos = pos + 1;
	slot = pc->stages[pos];
	switch (slot) {
#define XI_STAGE_CASE_TC_(ID, n, sym) case n: xi_tail_call_const_tc(ctx, n); break;
	XI_STAGES(XI_STAGE_CASE_TC_)
#undef XI_STAGE_CASE_TC_
	default:
		bpf_tail_call(ctx, &xi_egress_stages, slot);
	}
	xi_ecount(slot == XI_STAGE_TAP ? XI_REASON_NO_DAEMON : XI_REASON_TAILCALL_FAIL);
	return TC_ACT_OK;
}

#endif
