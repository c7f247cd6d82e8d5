// SPDX-License-Identifier: MIT
/*
 * The limits of `make bench`: the least an XDP program can do on the
 * receiving veth, counting each frame per CPU, then dropping it or passing
 * it to the stack. Every xicept figure is a share of one of these.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} limit_count SEC(".maps");

static __always_inline void count(void)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&limit_count, &key);

	if (n)
		(*n)++;
}

SEC("xdp")
int xi_limit_drop(struct xdp_md *ctx)
{
	count();
	return XDP_DROP;
}

SEC("xdp")
int xi_limit_pass(struct xdp_md *ctx)
{
	count();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
