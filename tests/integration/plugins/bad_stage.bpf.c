// SPDX-License-Identifier: MIT
/* t80: a stage the verifier must refuse (it reads past the packet's end
 * without a bounds check). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xi_t80_bad(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;

	return data[64] == 7 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
