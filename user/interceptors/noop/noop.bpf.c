// SPDX-License-Identifier: MIT
/* xi_noop: hands the packet on. For chain-length benchmarks and as the
 * builtin "noop" interceptor's stage. */

#include "xi_common.h"
#include "xi_egress.h"

SEC("xdp")
int xi_noop(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();

	if (!pc)
		return XDP_PASS;
	return xi_next_stage(ctx, pc);
}

SEC("tc")
int xi_noop_tc(struct __sk_buff *skb)
{
	struct xi_pkt_ctx *pc = xi_escratch_get();

	if (!pc)
		return TC_ACT_OK;
	return xi_next_stage_tc(skb, pc);
}
