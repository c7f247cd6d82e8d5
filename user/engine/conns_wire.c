// SPDX-License-Identifier: MIT
/*
 * The innermost reader and writer of every connection's chain: the reader
 * hands out the UDP payload of the packet being processed; the writer turns
 * what the chain emits into a frame from the connection's local endpoint to
 * its remote one, back the way the last frame came.
 */
#include <errno.h>
#include <string.h>

#include "user/engine/conns_internal.h"

ssize_t econn_wire_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct econn *c = ctx;

	if (!c->cur)
		return -ENODATA;
	if (c->cur_len > cap)
		return -ENOSPC;
	memcpy(buf, c->cur, c->cur_len);
	return (ssize_t)c->cur_len;
}

/* Ethernet header of the last frame, turned around: to its sender, from us. */
static void l2_reply(const struct econn *c, const uint8_t mac[6], uint8_t *ret)
{
	memcpy(ret, c->l2, c->l2_len);
	memcpy(ret, c->l2 + 6, 6);
	memcpy(ret + 6, mac, 6);
}

/* Walks an RTCP compound by its length fields, counting NACKs and RRs. */
static void count_rtcp_kinds(struct xi_engine_conns *t, const uint8_t *p, size_t len)
{
	while (len >= 4 && (p[0] >> 6) == 2) {
		size_t n = 4 * ((size_t)((p[2] << 8) | p[3]) + 1);

		if (n > len)
			break;
		if (p[1] == 205 && (p[0] & 0x1f) == 1)
			T_INC(t, nacks_sent);
		else if (p[1] == 201)
			T_INC(t, rrs_sent);
		p += n;
		len -= n;
	}
}

/* One frame from the local endpoint to the remote, back the way the last
 * frame came. */
static int wire_send(struct econn *c, const uint8_t *pkt, size_t len)
{
	struct xi_engine_conns *t = c->table;
	const struct xi_endpoint *dst = c->spec.remote.family ? &c->spec.remote : &c->peer;
	uint8_t l2[XI_L2_MAX], tx[FRAME_MAX + XI_SRTP_GROWTH_MAX];
	int n;

	/* Nothing received yet: no peer MAC to send to, and for a wildcard
	 * connection no peer at all. */
	if (!c->have_peer)
		return -ENOTCONN;
	l2_reply(c, t->mac, l2);
	n = xi_udp_frame_build(tx, sizeof(tx), l2, c->l2_len, &c->spec.local, dst,
			       c->ip_id++, pkt, len);
	if (n >= 0)
		n = t->cbs.emit ? t->cbs.emit(t->cbs.user, c->queue, tx, (size_t)n) : -ENOSYS;
	return n < 0 ? n : 0;
}

/* Sends out[0..n) unless r already failed; counts either way, RTCP and
 * resent RTP apart. */
static int wire_finish(struct econn *c, int r, const uint8_t *out, size_t n, bool rtp)
{
	if (!r)
		r = wire_send(c, out, n);
	if (r < 0) {
		if (rtp)
			T_INC(c->table, rtp_resend_failed);
		else
			T_INC(c->table, emit_failed);
		return r;
	}
	if (rtp)
		T_INC(c->table, rtp_resent);
	else
		T_INC(c->table, emitted);
	return 0;
}

/*
 * An SRTCP compound of xicept's own: its first packet's sender SSRC is the
 * connection's rtcp_ssrc, whose SRTCP index only xicept advances, so no
 * keystream the application uses is used again. A report or feedback
 * packet takes it in its sender SSRC field; a compound that starts with a
 * packet about a source (an SR, SDES, BYE) is led by an empty RR of it.
 * Into c->sbuf; the length, or -EMSGSIZE.
 */
static ssize_t srtcp_lead(struct econn *c, const uint8_t *pkt, size_t len)
{
	uint8_t *p = c->sbuf;
	size_t at = 0;

	if (len < 8 || len + 8 > FRAME_MAX)
		return -EMSGSIZE;
	switch (pkt[1]) {
	case 201: case 204: case 205: case 206: case 207:   /* RR, APP, RTPFB, PSFB, XR */
		break;
	default:
		p[0] = 0x80;   /* V=2, RC=0 */
		p[1] = 201;
		p[2] = 0;
		p[3] = 1;
		at = 8;
		break;
	}
	memcpy(p + at, pkt, len);
	p[4] = (uint8_t)(c->rtcp_ssrc >> 24);   /* the lead RR's, or the packet's own */
	p[5] = (uint8_t)(c->rtcp_ssrc >> 16);
	p[6] = (uint8_t)(c->rtcp_ssrc >> 8);
	p[7] = (uint8_t)c->rtcp_ssrc;
	return (ssize_t)(at + len);
}

ssize_t econn_wire_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct econn *c = ctx;
	struct xi_engine_conns *t = c->table;
	const uint8_t *out = pkt;
	size_t n = len;
	int r = 0;

	if (c->srtp_on) {
		ssize_t m = c->srtp ? srtcp_lead(c, pkt, len) : -ENOKEY;

		r = m < 0 ? (int)m : 0;
		n = m < 0 ? 0 : (size_t)m;
		if (!r)
			r = xi_srtp_protect_rtcp(c->srtp, c->sbuf, &n, sizeof(c->sbuf));
		out = c->sbuf;
	}
	r = wire_finish(c, r, out, n, false);
	if (r == 0)
		count_rtcp_kinds(t, pkt, len);
	return r < 0 ? r : (ssize_t)len;
}

/* Which SSRCs xicept may protect RTP on: the RTX SSRCs of the local
 * streams, which the application does not send (nack-responder sends for
 * it). Protecting on a media SSRC would reuse the application's keystream. */
static bool rtx_ssrc_ours(const struct econn *c, const uint8_t *pkt)
{
	uint32_t ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 |
			pkt[11];

	for (size_t i = 0; i < c->spec.n_local_streams; i++)
		if (c->spec.local_streams[i].has_rtx && c->spec.local_streams[i].rtx_ssrc == ssrc)
			return true;
	return false;
}

ssize_t econn_wire_write_rtp(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct econn *c = ctx;
	const uint8_t *out = pkt;
	uint64_t plain = 0;
	size_t n = len;
	int r = 0;

	if (attrs)
		xi_attributes_get_u64(attrs, XI_ATTR_SRTP_PLAIN, &plain);
	if (c->srtp_on && plain) {
		if (!c->srtp)
			r = -ENOKEY;
		else if (len < 12 || len > FRAME_MAX)
			r = -EMSGSIZE;
		else if (!rtx_ssrc_ours(c, pkt))
			r = -EPERM;
		if (!r) {
			memcpy(c->sbuf, pkt, len);
			r = xi_srtp_protect_rtp(c->srtp, c->sbuf, &n, sizeof(c->sbuf));
			out = c->sbuf;
		}
	}
	r = wire_finish(c, r, out, n, true);
	return r < 0 ? r : (ssize_t)len;
}
