// SPDX-License-Identifier: MIT
/*
 * xi_probe: a test-only XDP stage. It counts the packets and payload bytes
 * of every (connection, SSRC) in a map of its own and hands the packet on.
 * It proves that a stage needs only its own files and one XI_STAGES line:
 * the loader, the connection sweep, `stats` and `status` find it through
 * its descriptor (probe.c).
 */

#include "xi_common.h"
#include "tests/user/dataplane/probe_stage/probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_probe_count);
} xi_probe_counts SEC(".maps");

SEC("xdp")
int xi_probe(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();
	struct xi_stream_key key;
	struct xi_probe_count zero = {}, *n;

	if (!pc)
		return XDP_PASS;
	key.conn_id = pc->conn_id;
	key.ssrc = pc->ssrc;
	n = xi_lookup_or_init(&xi_probe_counts, &key, &zero);
	if (n) {
		__sync_fetch_and_add(&n->packets, 1);
		__sync_fetch_and_add(&n->bytes, pc->payload_len);
	}
	return xi_next_stage(ctx, pc);
}
