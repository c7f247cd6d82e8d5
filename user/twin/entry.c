// SPDX-License-Identifier: MIT
/*
 * Twin of xi_entry (bpf/entry.bpf.c): the same checks in the same order, so a
 * frame gets the same reason and the same verdict on both sides.
 */
#include <errno.h>
#include <string.h>

#include "user/lib/bytes.h"
#include "user/lib/net.h"
#include "user/twin/twin.h"


struct l4_pos {
	size_t off;      /* UDP header */
	size_t l3_end;   /* end of the IP datagram */
};

static uint32_t parse_eth(const uint8_t *f, size_t len, size_t *ret_off, uint16_t *ret_proto)
{
	size_t off = ETH_HLEN;
	uint16_t proto;

	if (len < ETH_HLEN)
		return XI_REASON_TRUNCATED;
	proto = xi_get_be16(f + 12);
	for (int i = 0; i < XI_VLAN_MAX; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (off + 4 > len)
			return XI_REASON_TRUNCATED;
		proto = xi_get_be16(f + off + 2);
		off += 4;
	}
	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return XI_REASON_NOT_IP;
	*ret_off = off;
	*ret_proto = proto;
	return XI_TWIN_PARSED;
}

static uint32_t parse_ipv4(const uint8_t *f, size_t len, size_t off,
			   struct xi_flow_key *key, struct l4_pos *l4)
{
	const uint8_t *ip = f + off;
	size_t hlen, tot;

	if (off + 20 > len)
		return XI_REASON_TRUNCATED;
	if (ip[0] >> 4 != 4)
		return XI_REASON_BAD_IP;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20)
		return XI_REASON_BAD_IP;
	if (off + hlen > len)
		return XI_REASON_TRUNCATED;
	tot = xi_get_be16(ip + 2);
	if (tot < hlen)
		return XI_REASON_BAD_IP;
	if (off + tot > len)
		return XI_REASON_TRUNCATED;
	if (xi_get_be16(ip + 6) & 0x3fff)
		return XI_REASON_FRAGMENT;
	if (ip[9] != IPPROTO_UDP)
		return XI_REASON_NOT_UDP;
	key->family = XI_FAMILY_IPV4;
	memcpy(key->local_addr, ip + 16, 4);
	memcpy(key->remote_addr, ip + 12, 4);
	l4->off = off + hlen;
	l4->l3_end = off + tot;
	return XI_TWIN_PARSED;
}

static int ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_AH || nh == IPPROTO_FRAGMENT;
}

static uint32_t parse_ipv6(const uint8_t *f, size_t len, size_t off,
			   struct xi_flow_key *key, struct l4_pos *l4)
{
	const uint8_t *ip6 = f + off;
	size_t at = off + 40, end_off;
	uint8_t nh;

	if (off + 40 > len)
		return XI_REASON_TRUNCATED;
	if (ip6[0] >> 4 != 6)
		return XI_REASON_BAD_IP;
	end_off = at + xi_get_be16(ip6 + 4);
	if (end_off > len)
		return XI_REASON_TRUNCATED;
	nh = ip6[6];
	for (int i = 0; i < XI_IPV6_EXT_MAX; i++) {
		const uint8_t *h = f + at;

		if (!ipv6_is_ext(nh) || nh == IPPROTO_FRAGMENT)
			break;
		if (at + 8 > len)
			return XI_REASON_TRUNCATED;
		at += nh == IPPROTO_AH ? ((size_t)h[1] + 2) * 4 : ((size_t)h[1] + 1) * 8;
		nh = h[0];
	}
	if (nh == IPPROTO_FRAGMENT)
		return XI_REASON_FRAGMENT;
	if (ipv6_is_ext(nh))
		return XI_REASON_IPV6_EXT_LIMIT;
	if (nh != IPPROTO_UDP)
		return XI_REASON_NOT_UDP;
	key->family = XI_FAMILY_IPV6;
	memcpy(key->local_addr, ip6 + 24, 16);
	memcpy(key->remote_addr, ip6 + 8, 16);
	l4->off = at;
	l4->l3_end = end_off;
	return XI_TWIN_PARSED;
}

static uint32_t parse_udp(const uint8_t *f, size_t len, const struct l4_pos *l4,
			  struct xi_flow_key *key, struct xi_pkt_ctx *pc)
{
	const uint8_t *udp = f + l4->off;
	size_t ulen;

	if (l4->off + 8 > len)
		return XI_REASON_TRUNCATED;
	ulen = xi_get_be16(udp + 4);
	if (ulen < 8 || l4->off + ulen > l4->l3_end)
		return XI_REASON_BAD_UDP;
	memcpy(&key->remote_port, udp, 2);
	memcpy(&key->local_port, udp + 2, 2);
	pc->l4_off = (uint16_t)l4->off;
	pc->payload_off = (uint16_t)(l4->off + 8);
	pc->payload_len = (uint16_t)(ulen - 8);
	return XI_TWIN_PARSED;
}

uint32_t xi_twin_parse_frame(const uint8_t *frame, size_t len,
			     struct xi_flow_key *ret_key, struct xi_pkt_ctx *ret_ctx)
{
	struct l4_pos l4 = { 0 };
	uint16_t proto;
	size_t off;
	uint32_t r;

	memset(ret_key, 0, sizeof(*ret_key));
	memset(ret_ctx, 0, sizeof(*ret_ctx));
	r = parse_eth(frame, len, &off, &proto);
	if (r != XI_TWIN_PARSED)
		return r;
	ret_ctx->l3_off = (uint16_t)off;
	if (proto == ETH_P_IP)
		r = parse_ipv4(frame, len, off, ret_key, &l4);
	else
		r = parse_ipv6(frame, len, off, ret_key, &l4);
	if (r != XI_TWIN_PARSED)
		return r;
	return parse_udp(frame, len, &l4, ret_key, ret_ctx);
}

/* The RTP header: CSRCs, extension and padding must fit in the payload. */
static uint32_t classify_rtp(const uint8_t *p, size_t len, struct xi_pkt_ctx *pc,
			     uint32_t trailer)
{
	size_t hlen = 12 + (size_t)(p[0] & 0x0f) * 4, pad = 0;

	if (len < 12)
		return XI_REASON_BAD_RTP;
	if (p[0] & 0x10) {
		if (hlen + 4 > len)
			return XI_REASON_BAD_RTP;
		hlen += 4 + (size_t)xi_get_be16(p + hlen + 2) * 4;
	}
	if (hlen + trailer > len)
		return XI_REASON_BAD_RTP;
	if ((p[0] & 0x20) && !trailer) {   /* SRTP: the padding is encrypted */
		pad = p[len - 1];
		if (pad == 0 || hlen + pad > len)
			return XI_REASON_BAD_RTP;
	}
	pc->is_rtcp = 0;
	pc->marker = p[1] >> 7;
	pc->payload_type = p[1] & 0x7f;
	pc->seq = xi_get_be16(p + 2);
	pc->rtp_timestamp = xi_get_be32(p + 4);
	pc->ssrc = xi_get_be32(p + 8);
	pc->rtp_hdr_len = (uint16_t)hlen;
	pc->rtp_pad_len = (uint16_t)pad;
	pc->srtp_trailer = (uint8_t)trailer;
	return XI_REASON_RTP;
}

uint32_t xi_twin_classify_payload(const uint8_t *p, size_t len, struct xi_pkt_ctx *pc)
{
	return xi_twin_classify_srtp(p, len, 0, pc);
}

uint32_t xi_twin_classify_srtp(const uint8_t *p, size_t len, uint8_t trailer,
			       struct xi_pkt_ctx *pc)
{
	/* A UDP payload never exceeds 65527 bytes; anything longer is not one. */
	if (len > UINT16_MAX)
		return XI_REASON_OTHER;
	pc->payload_len = (uint16_t)len;
	if (len == 0)
		return XI_REASON_OTHER;
	if (p[0] <= 3)
		return XI_REASON_STUN;
	if (p[0] >= 20 && p[0] <= 63)
		return XI_REASON_DTLS;
	if (p[0] < 128 || p[0] > 191)
		return XI_REASON_OTHER;
	if (len < 2)
		return XI_REASON_BAD_RTP;
	if (p[1] >= 192 && p[1] <= 223) {
		if (len < 8)
			return XI_REASON_BAD_RTP;
		pc->is_rtcp = 1;
		pc->ssrc = xi_get_be32(p + 4);
		pc->srtp_trailer = 0;
		return trailer ? XI_REASON_SRTCP : XI_REASON_RTCP;
	}
	return classify_rtp(p, len, pc, trailer);
}

static int flow_find(const struct xi_twin_lookup *lk, struct xi_flow_key *key,
		     uint32_t *ret_conn_id)
{
	if (lk->flow(lk->user, key, ret_conn_id) == 0)
		return 0;
	memset(key->remote_addr, 0, sizeof(key->remote_addr));
	key->remote_port = 0;
	return lk->flow(lk->user, key, ret_conn_id);
}

static void chain_start(struct xi_pkt_ctx *pc, const struct xi_conn *conn, uint64_t now)
{
	pc->now_ns = now;
	pc->conn_id = conn->conn_id;
	pc->default_clock_rate = conn->default_clock_rate;
	pc->pos = 0;
	pc->ran = 0;
	if (conn->bank) {
		pc->version = conn->alt.version;
		pc->n_stages = conn->alt.n_stages;
		pc->verdict = conn->alt.verdict;
		memcpy(pc->stages, conn->alt.stages, sizeof(pc->stages));
	} else {
		pc->version = conn->version;
		pc->n_stages = conn->n_stages;
		pc->verdict = conn->verdict;
		memcpy(pc->stages, conn->stages, sizeof(pc->stages));
	}
}

static enum xi_action policy(uint32_t act)
{
	return act == XI_ACT_DROP ? XI_ACT_DROP : XI_ACT_PASS;
}

uint32_t xi_twin_entry(const struct xi_twin_lookup *lk, const struct xi_iface_config *cfg,
		       const uint8_t *frame, size_t len, uint64_t now_ns,
		       struct xi_pkt_ctx *ret_ctx, enum xi_action *ret_action)
{
	const struct xi_conn *conn;
	struct xi_flow_key key;
	uint32_t r, conn_id;

	*ret_action = XI_ACT_PASS;
	r = xi_twin_parse_frame(frame, len, &key, ret_ctx);
	if (r != XI_TWIN_PARSED)
		return r;
	if (flow_find(lk, &key, &conn_id) != 0) {
		*ret_action = policy(cfg->unknown_flow);
		return XI_REASON_UNKNOWN_FLOW;
	}
	conn = lk->conn(lk->user, conn_id);
	if (!conn || conn->conn_id != conn_id) {   /* an empty xi_conns slot */
		*ret_action = policy(cfg->unknown_flow);
		return XI_REASON_NO_CONN;
	}
	r = xi_twin_classify_srtp(frame + ret_ctx->payload_off, ret_ctx->payload_len,
				  conn->srtp_tag_in, ret_ctx);
	if (r != XI_REASON_RTP && r != XI_REASON_RTCP && r != XI_REASON_SRTCP) {
		*ret_action = policy(cfg->non_rtp);
		return r;
	}
	chain_start(ret_ctx, conn, now_ns);
	return r;
}
