// SPDX-License-Identifier: MIT
/*
 * nack-responder size=N: pion's ResponderInterceptor. It keeps the last N
 * packets of each local stream (copies of what left, through the tap from TC
 * egress) and, on a generic NACK (RFC 4585 6.2.1) for that stream,
 * retransmits each asked packet it still holds through the stream's writer:
 *   - as RFC 4588 RTX when the stream declares rtx=SSRC/PT: the original
 *     header (CSRCs, extensions) with the RTX payload type, SSRC and the RTX
 *     stream's own sequence number, then the original sequence number (OSN),
 *     then the original payload; no padding;
 *   - else as the original packet, byte for byte.
 * On an SRTP connection (xi_build_ctx.srtp) the copies are SRTP: a plain
 * retransmission resends the SRTP packet that left; RTX unprotects the
 * original with the connection's out keys (once: the plain copy replaces it
 * in the buffer), builds the RTX packet from it and writes it with
 * XI_ATTR_SRTP_PLAIN, so the connection protects it on the RTX SSRC.
 * A sequence number asked for that the buffer no longer (or never) held is
 * a miss. Requests, retransmissions and misses are counted per stream, and
 * with a dataplane published in xi_remote_reports for `xicept stats`.
 * Malformed RTCP does not parse and is ignored whole (the engine counts it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/dataplane.h>
#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/rtcp.h>
#include <xicept/srtp.h>
#include <xicept/stream.h>

#include "user/interceptors/nack_responder/nack_responder.h"
#include "user/interceptors/remote_report.h"
#include "user/interceptors/stream_table.h"

#define PKT_MAX 2048   /* XI_TAP_FULL: what a copy from TC egress holds */

struct nr_cfg {
	uint32_t size;
};

struct nr_slot {
	bool valid;
	bool plain;                  /* SRTP: data is the unprotected copy now */
	uint16_t seq;
	uint16_t len;
	uint32_t roc;                /* SRTP: the packet's rollover counter */
	uint8_t *data;               /* PKT_MAX bytes, allocated on first use */
};

struct nr_stream {
	struct xi_local_stream base;     /* first: the list's link and SSRC */
	struct nr_gen *gen;
	bool has_rtx;
	uint32_t rtx_ssrc;
	uint8_t rtx_pt;
	uint16_t rtx_seq;
	bool have_seq;               /* the rollover count of what left: */
	uint16_t last_seq;           /* the highest sequence number, */
	uint32_t roc;                /* and the wraps before it */
	struct xi_writer next;
	struct nr_slot *slots;
	struct xi_nack_responder_counts counts;
};

struct nr_gen {
	struct xi_interceptor ic;
	struct nr_cfg cfg;
	pthread_mutex_t lock;
	struct xi_local_stream *streams;
	struct xi_reader rtcp_next;
	struct xi_dataplane *dp;
	uint32_t conn_id;
	struct xi_srtp_conn *srtp;       /* NULL: plain RTP */
	struct xi_rtcp_compound scratch;
	uint16_t seqs[XI_RTCP_MAX_PACKETS * 17];
	uint8_t rtx[PKT_MAX + 2];
};

static const struct xi_interceptor_ops nr_ops;

static struct nr_gen *gen_of(struct xi_interceptor *ic)
{
	return ic && ic->ops == &nr_ops ? xi_container_of(ic, struct nr_gen, ic) : NULL;
}

static struct nr_stream *stream_find(struct nr_gen *g, uint32_t ssrc)
{
	return (struct nr_stream *)xi_local_streams_find(g->streams, ssrc);
}

/* ---- keeping what left ---- */

/* The rollover counter of seq (RFC 3711 3.3.1's estimate from the highest
 * sequence number seen), advancing the stream's. */
static uint32_t roc_of(struct nr_stream *s, uint16_t seq)
{
	int16_t d = (int16_t)(seq - s->last_seq);

	if (!s->have_seq) {
		s->have_seq = true;
		s->last_seq = seq;
		return s->roc;
	}
	if (d > 0) {
		if (seq < s->last_seq)
			s->roc++;   /* past 65535 */
		s->last_seq = seq;
		return s->roc;
	}
	return seq > s->last_seq ? s->roc - 1 : s->roc;   /* late: from before a wrap */
}

static ssize_t nr_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct nr_stream *s = ctx;
	struct nr_slot *slot;
	uint16_t seq;

	if (len >= 12 && len <= PKT_MAX && (pkt[0] >> 6) == 2 &&
	    ((uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11]) ==
		    s->base.ssrc) {
		seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
		pthread_mutex_lock(&s->gen->lock);
		slot = &s->slots[seq & (s->gen->cfg.size - 1)];
		if (!slot->data)
			slot->data = malloc(PKT_MAX);
		if (slot->data) {
			memcpy(slot->data, pkt, len);
			slot->len = (uint16_t)len;
			slot->seq = seq;
			slot->roc = roc_of(s, seq);
			slot->plain = false;
			slot->valid = true;
			s->counts.kept++;
		}
		pthread_mutex_unlock(&s->gen->lock);
	}
	return xi_writer_write(s->next, pkt, len, attrs);
}

/* ---- answering NACKs ---- */

/* RFC 4588 4: the original header with the RTX PT, SSRC and sequence
 * number, the OSN, the original payload; padding dropped. */
static size_t rtx_build(struct nr_stream *s, const struct nr_slot *slot, uint8_t *out)
{
	const uint8_t *p = slot->data;
	size_t hlen = 12 + (size_t)(p[0] & 0x0f) * 4, end = slot->len;

	if (p[0] & 0x10 && hlen + 4 <= end)
		hlen += 4 + ((size_t)p[hlen + 2] << 8 | p[hlen + 3]) * 4;
	if (p[0] & 0x20 && end > hlen && p[end - 1] <= end - hlen)
		end -= p[end - 1];
	if (hlen > end)
		return 0;
	memcpy(out, p, hlen);
	out[0] &= (uint8_t)~0x20;
	out[1] = (uint8_t)((p[1] & 0x80) | s->rtx_pt);
	out[2] = (uint8_t)(s->rtx_seq >> 8);
	out[3] = (uint8_t)s->rtx_seq;
	out[8] = (uint8_t)(s->rtx_ssrc >> 24);
	out[9] = (uint8_t)(s->rtx_ssrc >> 16);
	out[10] = (uint8_t)(s->rtx_ssrc >> 8);
	out[11] = (uint8_t)s->rtx_ssrc;
	out[hlen] = (uint8_t)(slot->seq >> 8);
	out[hlen + 1] = (uint8_t)slot->seq;
	memcpy(out + hlen + 2, p + hlen, end - hlen);
	s->rtx_seq++;
	return end + 2;
}

/* SRTP: the slot's copy in plain, once. */
static int slot_unprotect(struct nr_gen *g, struct nr_slot *slot)
{
	uint8_t tmp[PKT_MAX];
	size_t len = slot->len;
	int r;

	if (slot->plain)
		return 0;
	/* On a copy: a packet that fails stays as it left. */
	memcpy(tmp, slot->data, len);
	r = xi_srtp_unprotect_local_rtp(g->srtp, tmp, &len, slot->roc);
	if (r)
		return r;
	memcpy(slot->data, tmp, len);
	slot->len = (uint16_t)len;
	slot->plain = true;
	return 0;
}

static void resend(struct nr_gen *g, struct nr_stream *s, uint16_t seq,
		   struct xi_remote_report *add)
{
	struct nr_slot *slot = &s->slots[seq & (g->cfg.size - 1)];
	struct xi_attributes attrs = { 0 };
	ssize_t w;

	add->nack_requested++;
	s->counts.requested++;
	if (!slot->valid || slot->seq != seq) {
		add->nack_missed++;
		s->counts.missed++;
		return;
	}
	if (s->has_rtx) {
		size_t n;

		w = g->srtp ? slot_unprotect(g, slot) : 0;
		n = w ? 0 : rtx_build(s, slot, g->rtx);
		if (n && g->srtp)
			w = xi_attributes_set_u64(&attrs, XI_ATTR_SRTP_PLAIN, 1);
		if (!w)
			w = n ? xi_writer_write(s->next, g->rtx, n, &attrs) : -EBADMSG;
	} else {
		w = xi_writer_write(s->next, slot->data, slot->len, &attrs);
	}
	if (w > 0) {
		add->nack_resent++;
		s->counts.resent++;
	} else {
		add->nack_missed++;   /* held, but it could not be sent */
		s->counts.missed++;
	}
}

static void nack_answer(struct nr_gen *g, const struct xi_rtcp_packet *p)
{
	struct xi_remote_report add = { 0 };
	struct nr_stream *s = stream_find(g, p->fb.media_ssrc);
	int n;

	if (!s)
		return;
	n = xi_rtcp_nack_expand(p, g->seqs, sizeof(g->seqs) / sizeof(g->seqs[0]));
	for (int i = 0; i < n; i++)
		resend(g, s, g->seqs[i], &add);
	xi_dataplane_remote_report_merge(g->dp, g->conn_id, s->base.ssrc, &add, false, false);
}

static ssize_t nr_read_rtcp(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct nr_gen *g = ctx;
	const struct xi_rtcp_compound *c = &g->scratch;
	ssize_t n = xi_reader_read(g->rtcp_next, buf, cap, attrs);
	int rc;

	if (n <= 0)
		return n;
	pthread_mutex_lock(&g->lock);
	if (attrs)
		rc = xi_attributes_rtcp(attrs, buf, (size_t)n, &c);
	else
		rc = xi_rtcp_compound_parse(buf, (size_t)n, &g->scratch);
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		if (c->pkts[i].kind == XI_RTCP_KIND_NACK)
			nack_answer(g, &c->pkts[i]);
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* ---- interceptor ops ---- */

static void stream_free(struct nr_stream *s, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		free(s->slots[i].data);
	free(s->slots);
	free(s);
}

static int nr_bind_local_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				struct xi_writer next, struct xi_writer *ret)
{
	struct nr_gen *g = gen_of(ic);
	struct nr_stream *s;

	if (!info || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->slots = calloc(g->cfg.size, sizeof(*s->slots)))) {
		free(s);
		return -ENOMEM;
	}
	s->gen = g;
	s->has_rtx = info->ssrc_rtx != 0;
	s->rtx_ssrc = info->ssrc_rtx;
	s->rtx_pt = info->payload_type_rtx;
	s->next = next;
	pthread_mutex_lock(&g->lock);
	xi_local_streams_push(&g->streams, &s->base, info->ssrc);
	pthread_mutex_unlock(&g->lock);
	ret->write = nr_write;
	ret->ctx = s;
	return 0;
}

static void nr_unbind_local_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	struct nr_gen *g = gen_of(ic);

	struct xi_local_stream *s;

	pthread_mutex_lock(&g->lock);
	s = xi_local_streams_take(&g->streams, info->ssrc);
	if (s)
		stream_free((struct nr_stream *)s, g->cfg.size);
	pthread_mutex_unlock(&g->lock);
}

static int nr_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			       struct xi_reader *ret)
{
	struct nr_gen *g = gen_of(ic);

	g->rtcp_next = next;
	ret->read = nr_read_rtcp;
	ret->ctx = g;
	return 0;
}

static int nr_close(struct xi_interceptor *ic, unsigned flags)
{
	struct nr_gen *g = gen_of(ic);

	for (struct xi_local_stream *s; (s = xi_local_streams_pop(&g->streams));)
		stream_free((struct nr_stream *)s, g->cfg.size);
	pthread_mutex_destroy(&g->lock);
	free(g);
	return 0;
}

static const struct xi_interceptor_ops nr_ops = {
	.bind_rtcp_reader = nr_bind_rtcp_reader,
	.bind_local_stream = nr_bind_local_stream,
	.unbind_local_stream = nr_unbind_local_stream,
	.close = nr_close,
};

int xi_nack_responder_counts(struct xi_interceptor *ic, uint32_t ssrc,
			     struct xi_nack_responder_counts *ret)
{
	struct nr_gen *g = gen_of(ic);
	struct nr_stream *s;

	if (!g || !ret)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	s = stream_find(g, ssrc);
	if (s)
		*ret = s->counts;
	pthread_mutex_unlock(&g->lock);
	return s ? 0 : -ENOENT;
}

/* ---- factory ---- */

static int nr_new(const struct xi_factory *f, const void *config,
		  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	const struct nr_cfg *cfg = config;
	struct nr_gen *g;

	if (!cfg || !ret || !cfg->size || (cfg->size & (cfg->size - 1)))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	g->cfg = *cfg;
	g->dp = ctx ? ctx->dp : NULL;
	g->conn_id = ctx ? ctx->conn_id : 0;
	g->srtp = ctx ? ctx->srtp : NULL;
	g->ic.ops = &nr_ops;
	g->ic.name = f ? f->name : "nack-responder";
	*ret = &g->ic;
	return 0;
}

static const struct xi_config_key nr_keys[] = {
	{ .name = "size", .type = XI_CFG_U32, .offset = offsetof(struct nr_cfg, size),
	  .def = "1024", .min = 1, .max = 32768, .flags = XI_CFG_F_POW2,
	  .help = "packets kept per local stream (power of two)" },
	{ .name = NULL },
};

static const struct xi_factory nack_responder_factory = {
	.name = "nack-responder",
	.description = "retransmits NACKed packets of the local streams (RFC 4588 RTX when declared)",
	.kind = XI_KIND_USERSPACE,
	.keys = nr_keys,
	.config_size = sizeof(struct nr_cfg),
	.new_interceptor = nr_new,
	.flags = XI_FACTORY_OBSERVES | XI_FACTORY_LOCAL_STREAMS,
};

XI_CATALOG_REGISTER(nack_responder_factory)
XI_CATALOG_ANCHOR(nack_responder)
