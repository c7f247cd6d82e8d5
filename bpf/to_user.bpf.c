// SPDX-License-Identifier: MIT
/*
 * xi_to_user (XI_STAGE_TO_USER): hands a packet whose chain goes on in
 * userspace to `xicept run` through the AF_XDP socket of its rx queue, with
 * struct xi_xsk_meta in front of the frame saying where to resume.
 *
 * The socket is looked up first, although bpf_redirect_map's flags could
 * return the fallback action by themselves: a packet nobody will run must be
 * counted as XI_REASON_NO_DAEMON, and the helper's fallback counts nothing.
 *
 * Unlike the other stages, xi_stages does not get this program at load:
 * the empty slot is how XDP knows no daemon runs, and `xicept run` fills it
 * (user/engine/xsk.c). The lookup covers a daemon that died without
 * emptying it: its sockets left xi_xsks with the process.
 */

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XI_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xi_xsks SEC(".maps");

/*
 * The metadata goes in front of the frame with bpf_xdp_adjust_head, not as
 * XDP metadata (bpf_xdp_adjust_meta): some kernels refuse that helper to XDP
 * programs outright, and in the UMEM both land in the same place, right
 * before the Ethernet header. Userspace finds the frame sizeof(meta) bytes
 * into the descriptor.
 */
static __always_inline int xi_meta_write(struct xdp_md *ctx, struct xi_pkt_ctx *pc)
{
	struct xi_xsk_meta *m;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*m)))
		return -1;
	m = (void *)(long)ctx->data;
	if ((void *)(m + 1) > (void *)(long)ctx->data_end) {
		/* Cannot happen (the frame was there before), but the packet
		 * goes on to the stack: give it back its own first byte. */
		bpf_xdp_adjust_head(ctx, (int)sizeof(*m));
		return -1;
	}
	xi_meta_fill(m, pc);
	return 0;
}

SEC("xdp")
int xi_to_user(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();
	__u32 queue = ctx->rx_queue_index;

	if (!pc)
		return XDP_PASS;
	xi_chain_done(pc);   /* XDP's part ends here, whatever happens next */
	/* No socket on this queue, or no headroom for the metadata:
	 * userspace cannot run this packet. */
	if (!bpf_map_lookup_elem(&xi_xsks, &queue) || xi_meta_write(ctx, pc))
		return xi_tail_call_failed(XI_STAGE_TO_USER);
	return bpf_redirect_map(&xi_xsks, queue, 0);
}
