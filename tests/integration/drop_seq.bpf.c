// SPDX-License-Identifier: GPL-2.0
/* Test-only tc classifier for t74_rtx_real_peer.sh, attached on the sender's
 * veth egress: deterministic loss *after* rtprtxsend, which must have sent a
 * packet to be able to retransmit it. netem and act_gact are not available
 * on the test machines, cls_bpf in direct-action mode is.
 *
 * It drops the original RTP packets (IPv4, UDP to DST_PORT, payload type
 * MEDIA_PT, SSRC MEDIA_SSRC) whose sequence number is the first one seen plus
 * one of DROP_OFFSETS, each once. Retransmissions travel as another payload
 * type on another SSRC (RFC 4588) and always pass. The test reads back what
 * happened from the array drop_log: entry 0 is the first sequence number
 * seen, entry i the sequence number dropped for DROP_OFFSETS[i - 1]; bit 16
 * marks an entry as set.
 *
 * Built by the test itself (clang -target bpf -O2 -mcpu=v3), with
 * -DDST_PORT=... -DMEDIA_PT=... -DMEDIA_SSRC=... -DDROP_OFFSETS=a,b,c.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#if !defined(DST_PORT) || !defined(MEDIA_PT) || !defined(MEDIA_SSRC) || !defined(DROP_OFFSETS)
#error "build with -DDST_PORT=, -DMEDIA_PT=, -DMEDIA_SSRC= and -DDROP_OFFSETS="
#endif

#define SET 0x10000u

static const __u16 offsets[] = { DROP_OFFSETS };
#define N_OFFSETS (sizeof(offsets) / sizeof(offsets[0]))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N_OFFSETS + 1);
	__type(key, __u32);
	__type(value, __u32);
} drop_log SEC(".maps");

struct rtp_fixed {
	__u8 vpxcc;
	__u8 mpt;
	__be16 seq;
	__be32 ts;
	__be32 ssrc;
};

/* The RTP header of an IPv4 UDP datagram to DST_PORT, or NULL. */
static struct rtp_fixed *rtp_header(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;
	struct rtp_fixed *rtp;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP || ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return NULL;
	udp = (void *)(ip + 1);
	rtp = (void *)(udp + 1);
	if ((void *)(rtp + 1) > end || udp->dest != bpf_htons(DST_PORT))
		return NULL;
	return rtp;
}

SEC("tc")
int drop_seq(struct __sk_buff *skb)
{
	struct rtp_fixed *rtp = rtp_header(skb);
	__u32 key = 0, *first, *slot;
	__u16 seq, delta;

	if (!rtp || (rtp->vpxcc >> 6) != 2 || (rtp->mpt & 0x7f) != MEDIA_PT ||
	    rtp->ssrc != bpf_htonl(MEDIA_SSRC))
		return TC_ACT_OK;
	seq = bpf_ntohs(rtp->seq);
	first = bpf_map_lookup_elem(&drop_log, &key);
	if (!first)
		return TC_ACT_OK;
	/* The sender is one thread, but be exact anyway: one first packet. */
	__sync_val_compare_and_swap(first, 0, SET | seq);
	delta = (__u16)(seq - (__u16)*first);
	for (__u32 i = 0; i < N_OFFSETS; i++) {
		if (offsets[i] != delta)
			continue;
		key = i + 1;
		slot = bpf_map_lookup_elem(&drop_log, &key);
		if (slot && __sync_val_compare_and_swap(slot, 0, SET | seq) == 0)
			return TC_ACT_SHOT;
		return TC_ACT_OK;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
