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

ssize_t econn_wire_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct econn *c = ctx;
	struct xi_engine_conns *t = c->table;
	const struct xi_endpoint *dst = c->spec.remote.family ? &c->spec.remote : &c->peer;
	uint8_t l2[XI_L2_MAX], tx[FRAME_MAX];
	int n;

	/* Nothing received yet: no peer MAC to send to, and for a wildcard
	 * connection no peer at all. */
	if (!c->have_peer) {
		T_INC(t, emit_failed);
		return -ENOTCONN;
	}
	l2_reply(c, t->mac, l2);
	n = xi_udp_frame_build(tx, sizeof(tx), l2, c->l2_len, &c->spec.local, dst,
			       c->ip_id++, pkt, len);
	if (n >= 0)
		n = t->cbs.emit ? t->cbs.emit(t->cbs.user, c->queue, tx, (size_t)n) : -ENOSYS;
	if (n < 0) {
		T_INC(t, emit_failed);
		return n;
	}
	T_INC(t, emitted);
	count_rtcp_kinds(t, pkt, len);
	return (ssize_t)len;
}
