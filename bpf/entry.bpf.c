// SPDX-License-Identifier: MIT
/*
 * xi_entry: parse Ethernet/VLAN/IP/UDP, find the flow's connection, classify
 * the payload (RFC 7983, RFC 5761) and start the connection's chain. The C
 * twin is user/twin/entry.c; the reason checked first wins in both.
 */
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>

#define XI_PARSED XI_REASON__MAX   /* "no reason yet": parsing goes on */


struct xi_vlan {
	__be16 tci;
	__be16 proto;
};

struct xi_l4 {
	__u32 off;       /* UDP header */
	__u32 l3_end;    /* end of the IP datagram */
};

static __always_inline __u32 xi_parse_eth(void *data, void *end, __u32 *ret_off,
					  __be16 *ret_proto)
{
	struct ethhdr *eth = data;
	__be16 proto;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > end)
		return XI_REASON_TRUNCATED;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < XI_VLAN_MAX; i++) {
		struct xi_vlan *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return XI_REASON_TRUNCATED;
		proto = vh->proto;
		off += sizeof(*vh);
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return XI_REASON_NOT_IP;
	*ret_off = off;
	*ret_proto = proto;
	return XI_PARSED;
}

static __always_inline __u32 xi_parse_ipv4(void *data, void *end, __u32 off,
					   struct xi_flow_key *key, struct xi_l4 *l4)
{
	struct iphdr *ip = data + off;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > end)
		return XI_REASON_TRUNCATED;
	if (ip->version != 4)
		return XI_REASON_BAD_IP;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return XI_REASON_BAD_IP;
	if (data + off + hlen > end)
		return XI_REASON_TRUNCATED;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen)
		return XI_REASON_BAD_IP;
	if (data + off + tot > end)
		return XI_REASON_TRUNCATED;
	if (ip->frag_off & bpf_htons(0x3fff))
		return XI_REASON_FRAGMENT;
	if (ip->protocol != IPPROTO_UDP)
		return XI_REASON_NOT_UDP;
	key->family = XI_FAMILY_IPV4;
	__builtin_memcpy(key->local_addr, &ip->daddr, 4);
	__builtin_memcpy(key->remote_addr, &ip->saddr, 4);
	l4->off = off + hlen;
	l4->l3_end = off + tot;
	return XI_PARSED;
}

static __always_inline int xi_ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_AH || nh == IPPROTO_FRAGMENT;
}

static __always_inline __u32 xi_parse_ipv6(void *data, void *end, __u32 off,
					   struct xi_flow_key *key, struct xi_l4 *l4)
{
	struct ipv6hdr *ip6 = data + off;
	__u32 at = off + sizeof(*ip6), end_off;
	__u8 nh;

	if ((void *)(ip6 + 1) > end)
		return XI_REASON_TRUNCATED;
	if (ip6->version != 6)
		return XI_REASON_BAD_IP;
	end_off = at + bpf_ntohs(ip6->payload_len);
	if (data + end_off > end)
		return XI_REASON_TRUNCATED;
	nh = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < XI_IPV6_EXT_MAX; i++) {
		__u8 *h;

		if (!xi_ipv6_is_ext(nh) || nh == IPPROTO_FRAGMENT)
			break;
		at &= XI_OFF_MAX;   /* a no-op (at < 62 + 6 * 2048), bounds the verifier */
		h = data + at;
		if ((void *)(h + 8) > end)
			return XI_REASON_TRUNCATED;
		at += nh == IPPROTO_AH ? (h[1] + 2) * 4 : (h[1] + 1) * 8;
		nh = h[0];
	}
	if (nh == IPPROTO_FRAGMENT)
		return XI_REASON_FRAGMENT;
	if (xi_ipv6_is_ext(nh))
		return XI_REASON_IPV6_EXT_LIMIT;
	if (nh != IPPROTO_UDP)
		return XI_REASON_NOT_UDP;
	key->family = XI_FAMILY_IPV6;
	__builtin_memcpy(key->local_addr, &ip6->daddr, 16);
	__builtin_memcpy(key->remote_addr, &ip6->saddr, 16);
	l4->off = at;
	l4->l3_end = end_off;
	return XI_PARSED;
}

static __always_inline __u32 xi_parse_udp(void *data, void *end, const struct xi_l4 *l4,
					  struct xi_flow_key *key, struct xi_pkt_ctx *pc)
{
	__u32 off = l4->off & XI_OFF_MAX, len;
	struct udphdr *udp = data + off;

	if (off != l4->off || (void *)(udp + 1) > end)
		return XI_REASON_TRUNCATED;
	len = bpf_ntohs(udp->len);
	if (len < sizeof(*udp) || off + len > l4->l3_end)
		return XI_REASON_BAD_UDP;
	key->local_port = udp->dest;
	key->remote_port = udp->source;
	pc->l4_off = off;
	pc->payload_off = off + sizeof(*udp);
	pc->payload_len = len - sizeof(*udp);
	return XI_PARSED;
}

static __always_inline __u32 xi_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* The RTP header: CSRCs, extension and padding must fit in the payload. */
/* On SRTP (trailer: the tag's bytes) the padding is encrypted: its count
 * byte is not the packet's last, so none is read, and the tag must fit. */
static __always_inline __u32 xi_classify_rtp(void *data, void *end, __u8 *p, __u32 len,
					     struct xi_pkt_ctx *pc, __u32 trailer)
{
	__u32 hlen = 12 + (p[0] & 0x0f) * 4, pad = 0;

	if (len < 12 || (void *)(p + 12) > end)
		return XI_REASON_BAD_RTP;
	if (p[0] & 0x10) {
		__u8 *x = p + (hlen & 0x7f);

		if (hlen + 4 > len || (void *)(x + 4) > end)
			return XI_REASON_BAD_RTP;
		hlen += 4 + ((__u32)x[2] << 8 | x[3]) * 4;
	}
	if (hlen + trailer > len)
		return XI_REASON_BAD_RTP;
	if ((p[0] & 0x20) && !trailer) {
		__u32 last = pc->payload_off + len - 1;
		__u8 *lp;

		if (last > XI_OFF_MAX)
			return XI_REASON_TRUNCATED;   /* unreachable, bounds the verifier */
		lp = data + last;
		if ((void *)(lp + 1) > end)
			return XI_REASON_TRUNCATED;
		pad = *lp;
		if (pad == 0 || hlen + pad > len)
			return XI_REASON_BAD_RTP;
	}
	pc->is_rtcp = 0;
	pc->marker = p[1] >> 7;
	pc->payload_type = p[1] & 0x7f;
	pc->seq = (__u16)p[2] << 8 | p[3];
	pc->rtp_timestamp = xi_be32(p + 4);
	pc->ssrc = xi_be32(p + 8);
	pc->rtp_hdr_len = hlen;
	pc->rtp_pad_len = pad;
	pc->srtp_trailer = trailer;
	return XI_REASON_RTP;
}

/* trailer: the connection's SRTP tag length in the packet's direction (0:
 * plain RTP); RTCP on an SRTP connection is SRTCP. */
static __always_inline __u32 xi_classify(void *data, void *end, struct xi_pkt_ctx *pc,
					 __u32 trailer)
{
	__u32 off = pc->payload_off & XI_OFF_MAX, len = pc->payload_len;
	__u8 *p = data + off, b0;

	if (len == 0)
		return XI_REASON_OTHER;
	if ((void *)(p + 1) > end)
		return XI_REASON_TRUNCATED;   /* unreachable: UDP fits the frame */
	b0 = p[0];
	if (b0 <= 3)
		return XI_REASON_STUN;
	if (b0 >= 20 && b0 <= 63)
		return XI_REASON_DTLS;
	if (b0 < 128 || b0 > 191)
		return XI_REASON_OTHER;
	if (len < 2 || (void *)(p + 2) > end)
		return XI_REASON_BAD_RTP;
	if (p[1] >= 192 && p[1] <= 223) {
		if (len < 8 || (void *)(p + 8) > end)
			return XI_REASON_BAD_RTP;
		pc->is_rtcp = 1;
		pc->ssrc = xi_be32(p + 4);
		pc->srtp_trailer = 0;
		return trailer ? XI_REASON_SRTCP : XI_REASON_RTCP;
	}
	return xi_classify_rtp(data, end, p, len, pc, trailer & 0xff);
}

static __always_inline int xi_port_has(__u16 port, int wild)
{
	__u32 slot = XI_PORT_SLOT(port, wild);
	__u32 *v = bpf_map_lookup_elem(&xi_ports, &slot);

	return v && *v;
}

static __always_inline struct xi_flow *xi_flow_lookup(const struct xi_flow_key *key)
{
	struct xi_flow4_key k4;

	if (key->family != XI_FAMILY_IPV4)
		return bpf_map_lookup_elem(&xi_flows6, key);
	k4 = xi_flow4_key_of(key);
	return bpf_map_lookup_elem(&xi_flows4, &k4);
}

/* Exact 5-tuple first, then the wildcard with the remote side zeroed; a
 * lookup only where xi_ports says the local port has such a flow. */
static __always_inline struct xi_flow *xi_flow_find(struct xi_flow_key *key)
{
	__u16 port = bpf_ntohs(key->local_port);
	struct xi_flow *fl;

	if (xi_port_has(port, 0)) {
		fl = xi_flow_lookup(key);
		if (fl)
			return fl;
	}
	if (!xi_port_has(port, 1))
		return NULL;
	__builtin_memset(key->remote_addr, 0, sizeof(key->remote_addr));
	key->remote_port = 0;
	return xi_flow_lookup(key);
}

static __always_inline __u32 xi_parse(void *data, void *end, struct xi_flow_key *key,
				      struct xi_pkt_ctx *pc)
{
	struct xi_l4 l4 = {};
	__be16 proto;
	__u32 off, r;

	r = xi_parse_eth(data, end, &off, &proto);
	if (r != XI_PARSED)
		return r;
	pc->l3_off = off;
	if (proto == bpf_htons(ETH_P_IP))
		r = xi_parse_ipv4(data, end, off, key, &l4);
	else
		r = xi_parse_ipv6(data, end, off, key, &l4);
	if (r != XI_PARSED)
		return r;
	return xi_parse_udp(data, end, &l4, key, pc);
}

/* now_ns stays 0 until a stage asks (xi_pkt_now). */
static __always_inline void xi_chain_start(struct xi_pkt_ctx *pc, const struct xi_conn *conn)
{
	pc->now_ns = 0;
	pc->conn_id = conn->conn_id;
	pc->default_clock_rate = conn->default_clock_rate;
	pc->pos = 0;
	pc->ran = 0;
	pc->egress = 0;
	/* One read of bank, then that bank alone (see struct xi_conn). */
	if (*(volatile const __u8 *)&conn->bank) {
		pc->version = conn->alt.version;
		pc->n_stages = conn->alt.n_stages;
		pc->verdict = conn->alt.verdict;
		pc->conn_flags = conn->alt.flags;
		__builtin_memcpy(pc->stages, conn->alt.stages, sizeof(pc->stages));
	} else {
		pc->version = conn->version;
		pc->n_stages = conn->n_stages;
		pc->verdict = conn->verdict;
		pc->conn_flags = conn->flags;
		__builtin_memcpy(pc->stages, conn->stages, sizeof(pc->stages));
	}
}

/* Defined last (bpf/anchor.bpf.h), after every map of the object. */
const volatile __u32 xi_anchor_maps = 0;
static __always_inline void xi_maps_anchor(void);

SEC("xdp")
int xi_entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct xi_flow_key key = {};
	struct xi_iface_config *cfg;
	struct xi_pkt_ctx *pc;
	struct xi_flow *fl;
	struct xi_conn *conn;
	__u32 zero = 0, r;

	if (xi_anchor_maps)
		xi_maps_anchor();
	cfg = bpf_map_lookup_elem(&xi_config, &zero);
	pc = xi_scratch_get();
	if (!cfg || !pc)
		return XDP_PASS;
	/* No clearing of the scratch: what a stage reads, this packet wrote
	 * (parse: offsets; classify: the RTP or RTCP fields; chain start: the
	 * rest). RTCP leaves the RTP-only fields stale; no stage reads them
	 * for RTCP. */
	r = xi_parse(data, end, &key, pc);
	if (r != XI_PARSED) {
		xi_count(r);
		return XDP_PASS;
	}
	fl = xi_flow_find(&key);
	if (!fl) {
		xi_count(XI_REASON_UNKNOWN_FLOW);
		return xi_xdp_action(cfg->unknown_flow);
	}
	conn = bpf_map_lookup_elem(&xi_conns, &fl->conn_id);
	if (!conn || conn->conn_id != fl->conn_id) {
		xi_count(XI_REASON_NO_CONN);
		return xi_xdp_action(cfg->unknown_flow);
	}
	r = xi_classify(data, end, pc, conn->srtp_tag_in);
	xi_count(r);
	if (r != XI_REASON_RTP && r != XI_REASON_RTCP && r != XI_REASON_SRTCP)
		return xi_xdp_action(cfg->non_rtp);
	xi_chain_start(pc, conn);
	return xi_next_stage(ctx, pc);
}
