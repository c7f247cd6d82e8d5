// SPDX-License-Identifier: MIT
/*
 * xi_tc_egress: the TC egress (clsact) side of a connection, pion's
 * BindLocalStream. It parses what leaves with xi_entry's parser, finds the
 * connection whose local endpoint sends it (the flow key read the other way
 * round), classifies the payload and runs the connection's egress stages
 * (xi_conn.egress) through xi_egress_stages: the same stage ids and
 * descriptors, each stage's TC program. Every packet is counted once in
 * xi_egress_reasons under the reason that decided its fate; packets leaving
 * are never held back except by a stage that drops (ssrc-filter).
 * Attached and detached by user/dataplane/egress.c.
 */

/* What the remote reports of local streams, written by `xicept run`
 * (sender-report, nack-responder) through xi_dataplane_remote_report_merge;
 * see struct xi_remote_report in abi.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_remote_report);
} xi_remote_reports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XI_RTCP_BAD__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xi_rtcp_ignored SEC(".maps");

/* Leaving, local is the source and remote the destination. */
static __always_inline void xi_key_swap(struct xi_flow_key *k)
{
	__u8 a[16];
	__be16 p = k->local_port;

	__builtin_memcpy(a, k->local_addr, 16);
	__builtin_memcpy(k->local_addr, k->remote_addr, 16);
	__builtin_memcpy(k->remote_addr, a, 16);
	k->local_port = k->remote_port;
	k->remote_port = p;
}

static __always_inline void xi_chain_start_egress(struct xi_pkt_ctx *pc, const struct xi_conn *conn)
{
	pc->now_ns = 0;
	pc->conn_id = conn->conn_id;
	pc->default_clock_rate = conn->default_clock_rate;
	pc->pos = 0;
	pc->n_stages = conn->n_egress;
	pc->verdict = XI_ACT_PASS;
	pc->egress = 1;
	pc->conn_flags = 0;   /* egress taps copy whole frames whatever the flags */
	__builtin_memcpy(pc->stages, conn->egress, sizeof(pc->stages));
}

SEC("tc")
int xi_tc_egress(struct __sk_buff *skb)
{
	struct xi_flow_key key = {};
	struct xi_pkt_ctx *pc;
	struct xi_flow *fl;
	struct xi_conn *conn;
	void *data, *end;
	__u32 r;

	pc = xi_escratch_get();
	if (!pc)
		return TC_ACT_OK;
	/* Headers and payload in the linear part, where direct access sees
	 * them (a socket's datagram usually is already). */
	if (skb->data_end - skb->data < skb->len)
		bpf_skb_pull_data(skb, skb->len);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	r = xi_parse(data, end, &key, pc);
	if (r != XI_PARSED) {
		xi_ecount(r);
		return TC_ACT_OK;
	}
	xi_key_swap(&key);
	fl = xi_flow_find(&key);
	if (!fl) {
		xi_ecount(XI_REASON_UNKNOWN_FLOW);
		return TC_ACT_OK;   /* the host's own traffic: never ours to stop */
	}
	conn = bpf_map_lookup_elem(&xi_conns, &fl->conn_id);
	if (!conn || conn->conn_id != fl->conn_id) {
		xi_ecount(XI_REASON_NO_CONN);
		return TC_ACT_OK;
	}
	r = xi_classify(data, end, pc, conn->srtp_tag_out);
	xi_ecount(r);
	if (r != XI_REASON_RTP && r != XI_REASON_RTCP && r != XI_REASON_SRTCP)
		return TC_ACT_OK;
	xi_chain_start_egress(pc, conn);
	return xi_next_stage_tc(skb, pc);
}
