/* SPDX-License-Identifier: MIT */
/* Maps and helpers shared by every program of bpf/xicept.bpf.c. A stage's
 * own maps are defined in its own file. */
#ifndef XI_BPF_COMMON_H
#define XI_BPF_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xicept/abi.h>

/* Bounds every offset for the verifier; XDP frames are far smaller. */
#define XI_OFF_MAX 0x3fff

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xi_iface_config);
} xi_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XI_REASON__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xi_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xi_pkt_ctx);
} xi_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XI_PORTS_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} xi_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XI_MAX_FLOWS);
	__type(key, struct xi_flow4_key);
	__type(value, struct xi_flow);
} xi_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XI_MAX_FLOWS);
	__type(key, struct xi_flow_key);
	__type(value, struct xi_flow);
} xi_flows6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XI_MAX_CONNS + 1);
	__type(key, __u32);
	__type(value, struct xi_conn);
} xi_conns SEC(".maps");

/* Written by the AF_XDP engine (enum xi_loss); no program touches it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XI_LOSS__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xi_losses SEC(".maps");

/* Control-plane bookkeeping, pinned with the rest; no program touches it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XI_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct xi_conn_meta);
} xi_conn_meta SEC(".maps");

/* Stage programs, each in its own file. The loader fills xi_stages from the
 * stage descriptors (user/dataplane/stage.h), so the slots are named in one
 * list, XI_STAGES of abi.h. */
#define XI_STAGE_DECLARE_(ID, slot, sym) int xi_##sym(struct xdp_md *ctx);
XI_STAGES(XI_STAGE_DECLARE_)
#undef XI_STAGE_DECLARE_

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XI_STAGES_SLOTS);
	__uint(key_size, sizeof(__u32));   /* no BTF key: PROG_ARRAY refuses one */
	__uint(value_size, sizeof(__u32));
} xi_stages SEC(".maps");

/* Every stage program by slot, filled at load, the on-demand ones
 * (xi_to_user, xi_tap) included: how a process without the pins finds them
 * from the attached xi_entry (user/dataplane/kernel.c). No program reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XI_STAGES_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} xi_progs SEC(".maps");

/* Sized by the loader to 4 x max_conns: each connection keeps the entries
 * of its current and previous chain version (set-chain removes older). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4 * XI_MAX_CONNS);
	__type(key, struct xi_chain_run_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xi_chain_runs SEC(".maps");

/* Sized by the loader to max_conns + 1, as xi_conns: the current version's
 * counts of each connection (include/xicept/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XI_MAX_CONNS + 1);
	__type(key, __u32);
	__type(value, struct xi_chain_tally);
} xi_chain_tally SEC(".maps");

static __always_inline void xi_count(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&xi_reasons, &reason);

	if (n)
		*n += 1;   /* per-CPU slot: no other writer */
}

static __always_inline struct xi_pkt_ctx *xi_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xi_scratch, &zero);
}

static __always_inline int xi_xdp_action(__u32 act)
{
	return act == XI_ACT_DROP ? XDP_DROP : XDP_PASS;
}

static __always_inline int xi_tail_call_failed(__u32 stage)
{
	struct xi_iface_config *cfg;
	__u32 zero = 0;

	if (stage == XI_STAGE_TAP) {
		xi_count(XI_REASON_NO_DAEMON);   /* observers only: media passes */
		return XDP_PASS;
	}
	if (stage != XI_STAGE_TO_USER) {
		xi_count(XI_REASON_TAILCALL_FAIL);
		return XDP_PASS;
	}
	xi_count(XI_REASON_NO_DAEMON);
	cfg = bpf_map_lookup_elem(&xi_config, &zero);
	return cfg ? xi_xdp_action(cfg->no_daemon) : XDP_PASS;
}

/* The packet's arrival time, read on first use: the clock is among the
 * dearest things a packet costs (kvm-clock: ~20 ns), and a chain that only
 * filters never needs it. The test clock makes it reproducible. */
static __always_inline __u64 xi_pkt_now(struct xi_pkt_ctx *pc)
{
	struct xi_iface_config *cfg;
	__u32 zero = 0;

	if (pc->now_ns)
		return pc->now_ns;
	cfg = bpf_map_lookup_elem(&xi_config, &zero);
	if (cfg && (cfg->flags & XI_IFACE_F_TEST_CLOCK))
		pc->now_ns = cfg->test_clock_ns;
	else
		pc->now_ns = bpf_ktime_get_ns();
	return pc->now_ns;
}

/*
 * A tail call whose slot the verifier sees as a constant: the JIT then
 * patches a direct jump into the program instead of an indirect one (a
 * retpoline where the CPU needs it). The slot goes in as an immediate, so the
 * compiler cannot merge the calls of a switch into one with a variable key.
 */
static __always_inline void xi_tail_call_const(struct xdp_md *ctx, const __u32 slot)
{
	asm volatile("r1 = %[ctx]\n\t"
		     "r2 = %[map] ll\n\t"
		     "r3 = %[slot]\n\t"
		     "call 12\n\t"   /* BPF_FUNC_tail_call */
		     :: [ctx] "r"(ctx), [map] "i"(&xi_stages), [slot] "i"(slot)
		     : "r0", "r1", "r2", "r3", "r4", "r5");
}

/* Finds the value under key, creating it zeroed first if needed. NULL only
 * when the map is full. */
static __always_inline void *xi_lookup_or_init(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	/* -EEXIST from a racing CPU is fine: the lookup below finds its entry. */
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* The packet's XDP chain ends: counted by version and stages run. pc->pos is
 * the number of stages that ran, so the connection's tally slot counts it by
 * that number while it holds the packet's version; a packet of any other
 * version (between a set-chain's flip and its harvest) goes to the hash. */
static __always_inline void xi_chain_done(struct xi_pkt_ctx *pc)
{
	struct xi_chain_run_key k = {
		.conn_id = pc->conn_id, .version = pc->version, .stages_mask = pc->ran,
	};
	struct xi_chain_tally *t = bpf_map_lookup_elem(&xi_chain_tally, &pc->conn_id);
	__u32 pos = pc->pos;
	__u64 zero = 0, *n;

	if (t && t->version == pc->version && pos <= XI_CHAIN_STAGES_MAX) {
		t->runs[pos] += 1;   /* per-CPU: no other writer */
		return;
	}
	n = xi_lookup_or_init(&xi_chain_runs, &k, &zero);
	if (n)
		*n += 1;
}

/* Every stage ends here: run the next stage of this packet's chain, or return
 * the chain's verdict after the last one. The slots XI_STAGES names get a
 * direct jump each; any other slot an indirect one. */
static __always_inline int xi_next_stage(struct xdp_md *ctx, struct xi_pkt_ctx *pc)
{
	__u32 pos = pc->pos, slot;

	if (pos >= pc->n_stages || pos >= XI_CHAIN_STAGES_MAX) {
		xi_count(XI_REASON_CHAIN_END);
		xi_chain_done(pc);
		return xi_xdp_action(pc->verdict);
	}
	pc->pos = pos + 1;
	slot = pc->stages[pos];
	pc->ran |= 1u << (slot & 31);
	switch (slot) {
#define XI_STAGE_CASE_(ID, n, sym) case n: xi_tail_call_const(ctx, n); break;
	XI_STAGES(XI_STAGE_CASE_)
#undef XI_STAGE_CASE_
	default:
		bpf_tail_call(ctx, &xi_stages, slot);
	}
	pc->ran &= ~(1u << (slot & 31));   /* it did not run */
	pc->pos = pos;
	xi_chain_done(pc);
	return xi_tail_call_failed(slot);
}

/* The metadata userspace resumes a chain from: at the end of the XDP part
 * (xi_to_user, xi_tap), where xi_next_stage moved pos past that stage. */
static __always_inline void xi_meta_fill(struct xi_xsk_meta *m, struct xi_pkt_ctx *pc)
{
	m->now_ns = xi_pkt_now(pc);
	m->magic = XI_XSK_META_MAGIC;
	m->conn_id = pc->conn_id;
	m->ssrc = pc->ssrc;
	m->l3_off = pc->l3_off;
	m->l4_off = pc->l4_off;
	m->payload_off = pc->payload_off;
	m->payload_len = pc->payload_len;
	m->resume = pc->pos ? pc->pos - 1 : 0;
	m->is_rtcp = pc->is_rtcp;
	m->version = (__u16)pc->version;
}

#endif
