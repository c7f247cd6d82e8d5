// SPDX-License-Identifier: MIT
/*
 * The RTP generator of `make bench` (loaded by xi_gen.c): run through
 * BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, every frame it returns
 * XDP_TX leaves the sending veth and arrives on its peer, where the program
 * under test runs.
 *
 * Test-run does not reset a frame's bytes between repeats (pages are
 * recycled as they are), so each run writes every changing field in full and
 * updates the UDP checksum from what the frame holds now (RFC 1624, eqn. 3):
 * whatever was in the frame, its checksum stays valid.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "scripts/bench/gen.h"

/* Set by the loader before load. */
const volatile __u32 n_ssrcs = 1;
const volatile __u32 ts_step = GEN_TS_STEP;
const volatile __u32 ssrcs[GEN_SSRCS_MAX];

/* Per CPU, so the sequence numbers are the CPU's own and nothing is shared. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_state);
} gen_state SEC(".maps");

static __always_inline __u32 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/* seq, timestamp, SSRC: the five 16-bit words after the RTP header's first. */
static __always_inline __u32 words_sum(const __u16 *w, int invert)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 5; i++)
		sum += invert ? (__u16)~w[i] : w[i];
	return sum;
}

static __always_inline void put_be16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static __always_inline void put_be32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

SEC("xdp")
int xi_gen(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *udp = data + GEN_UDP_OFF, *rtp = data + GEN_RTP_OFF;
	__u16 *csum = (__u16 *)(udp + 6), *w = (__u16 *)(rtp + 2);
	struct gen_state *st;
	__u32 key = 0, i, c, sum;

	if (rtp + 12 > end)
		return XDP_ABORTED;
	st = bpf_map_lookup_elem(&gen_state, &key);
	if (!st)
		return XDP_ABORTED;
	i = st->next & (GEN_SSRCS_MAX - 1);
	st->next = i + 1 >= n_ssrcs ? 0 : i + 1;
	c = st->count[i]++;

	sum = (__u16)~*csum + words_sum(w, 1);
	put_be16(rtp + 2, (__u16)c);
	put_be32(rtp + 4, c * ts_step);
	put_be32(rtp + 8, ssrcs[i]);
	sum = (__u16)~fold(sum + words_sum(w, 0));
	/* 0 means "no checksum" in UDP; its one's complement twin is 0xffff. */
	*csum = sum ? sum : 0xffff;
	st->sent++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
