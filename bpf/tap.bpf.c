// SPDX-License-Identifier: MIT
/*
 * xi_tap (XI_STAGE_TAP): ends the XDP part of a chain whose userspace
 * elements only observe. A copy of the frame's start goes into the ring
 * buffer xi_tap_ring for `xicept run` (user/engine/tap.c); the packet itself goes
 * on with the chain's verdict at once. See struct xi_tap_record in abi.h.
 *
 * Like xi_to_user, xi_stages gets this program only while a daemon runs: with
 * the slot empty there is nobody to observe, and the packet passes counted as
 * XI_REASON_NO_DAEMON (xi_tail_call_failed), whatever the no_daemon policy
 * says: observers never hold media. A daemon killed before it could empty
 * the slot is noticed as xi_to_user notices it, by its sockets' absence.
 */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XI_TAP_RING_BYTES);
} xi_tap_ring SEC(".maps");

static __always_inline void xi_tap_record_fill(struct xdp_md *ctx, struct xi_pkt_ctx *pc,
					       struct xi_tap_record *r)
{
	__u32 len = ctx->data_end - ctx->data, cap;
	long err;

	xi_meta_fill(&r->meta, pc);
	r->queue = ctx->rx_queue_index;
	r->frame_len = len;
	r->rtp_pad_len = pc->is_rtcp ? 0 : pc->rtp_pad_len;
	r->egress = 0;
	/* A constant for the long frames, a masked length for the short ones:
	 * bpf_xdp_load_bytes wants a size the verifier can bound. */
	if (len >= XI_TAP_SNAP) {
		cap = XI_TAP_SNAP;
		err = bpf_xdp_load_bytes(ctx, 0, r->frame, XI_TAP_SNAP);
	} else {
		/* len is 1..XI_TAP_SNAP - 1; written so that the verifier sees
		 * 1..XI_TAP_SNAP in the register that is passed. */
		cap = ((len - 1) & (XI_TAP_SNAP - 1)) + 1;
		err = bpf_xdp_load_bytes(ctx, 0, r->frame, cap);
	}
	r->caplen = err ? 0 : cap;
}

/* A wakeup per record is an irq_work each, dearer than the record itself
 * while the daemon keeps up. The daemon also polls every few milliseconds,
 * so it is woken only once an eighth of the ring waits. */
static __always_inline __u64 xi_tap_wakeup(void)
{
	return bpf_ringbuf_query(&xi_tap_ring, BPF_RB_AVAIL_DATA) >= XI_TAP_RING_BYTES / 8
		? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

SEC("xdp")
int xi_tap(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();
	struct xi_tap_record *r;

	__u32 queue = ctx->rx_queue_index;

	if (!pc)
		return XDP_PASS;
	/* The daemon's sockets are its liveness: they leave xi_xsks with the
	 * process, so a killed daemon is told from a slow one. */
	if (!bpf_map_lookup_elem(&xi_xsks, &queue))
		return xi_tail_call_failed(XI_STAGE_TAP);
	r = bpf_ringbuf_reserve(&xi_tap_ring, sizeof(*r), 0);
	if (!r) {
		xi_count(XI_REASON_TAP_FULL);
		return xi_next_stage(ctx, pc);
	}
	xi_tap_record_fill(ctx, pc, r);
	bpf_ringbuf_submit(r, xi_tap_wakeup());
	return xi_next_stage(ctx, pc);
}

/* Packets leaving (XI_STAGE_TAP in a connection's egress list): the whole
 * frame, up to XI_TAP_FULL bytes, so that observers such as the
 * nack-responder can keep copies. The daemon fills the slot of
 * xi_egress_stages while it runs; with it empty, the packet leaves counted
 * as no_daemon. */
SEC("tc")
int xi_tap_tc(struct __sk_buff *skb)
{
	struct xi_pkt_ctx *pc = xi_escratch_get();
	struct xi_tap_record_full *f;
	__u32 len = skb->len, cap;
	long err;

	if (!pc)
		return TC_ACT_OK;
	f = bpf_ringbuf_reserve(&xi_tap_ring, sizeof(*f), 0);
	if (!f) {
		xi_ecount(XI_REASON_TAP_FULL);
		return xi_next_stage_tc(skb, pc);
	}
	xi_meta_fill(&f->r.meta, pc);
	f->r.queue = skb->queue_mapping;
	f->r.frame_len = len;
	f->r.rtp_pad_len = pc->is_rtcp ? 0 : pc->rtp_pad_len;
	f->r.egress = 1;
	__builtin_memset(f->r.pad, 0, sizeof(f->r.pad));
	if (len >= XI_TAP_FULL) {
		cap = XI_TAP_FULL;
		err = bpf_skb_load_bytes(skb, 0, f->r.frame, XI_TAP_FULL);
	} else if (len) {
		cap = ((len - 1) & (XI_TAP_FULL - 1)) + 1;
		err = bpf_skb_load_bytes(skb, 0, f->r.frame, cap);
	} else {
		cap = 0;
		err = 0;
	}
	f->r.caplen = err ? 0 : cap;
	bpf_ringbuf_submit(f, xi_tap_wakeup());
	return xi_next_stage_tc(skb, pc);
}
