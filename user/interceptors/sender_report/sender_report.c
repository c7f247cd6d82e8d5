// SPDX-License-Identifier: MIT
/*
 * sender-report: pion's SenderInterceptor, and the RTT that pion's stats
 * interceptor derives from the remote's reports. Every interval it sends an
 * RFC 3550 sender report for each local stream that has sent:
 *   - NTP timestamp: the wall clock (CLOCK_REALTIME) at the moment of the
 *     report;
 *   - RTP timestamp: the last packet's, extrapolated to that moment at the
 *     stream's clock rate from the packet's send time (CLOCK_MONOTONIC,
 *     stamped by TC egress);
 *   - packet and octet counts: what left (the copies of the packets TC
 *     egress let leave, written to the local stream's writer through the
 *     tap); octets are payload octets, RFC 3550 6.4.1.
 *
 * The remote's receiver reports (in RR or SR packets) about a local stream
 * give, per RFC 3550 6.4.1: RTT = A - LSR - DLSR, A being the report's
 * arrival in the middle 32 bits of NTP; fraction lost, cumulative lost and
 * jitter as reported. Built with a dataplane, these go into the pinned map
 * xi_remote_reports, which `xicept stats` reads.
 *
 * Reads, writes and poll may come from different threads: one mutex.
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
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/interceptors/remote_report.h"
#include "user/interceptors/sender_report/sender_report.h"
#include "user/interceptors/stream_table.h"
#include "user/lib/clock.h"

struct sr_cfg {
	uint64_t interval_ns;
};

struct sr_stream {
	struct xi_local_stream base;     /* first: the list's link and SSRC */
	struct sr_gen *gen;
	uint32_t clock_rate;
	struct xi_writer next;
	struct xi_sender_report_state st;
	struct xi_remote_report remote;
};

struct sr_gen {
	struct xi_interceptor ic;
	struct sr_cfg cfg;
	pthread_mutex_t lock;
	struct xi_local_stream *streams;
	bool have_writer;
	struct xi_writer writer;
	struct xi_reader rtcp_next;
	struct xi_interval tick;
	struct xi_dataplane *dp;
	uint32_t conn_id;
	struct xi_rtcp_compound scratch;
};

static const struct xi_interceptor_ops sr_ops;

static struct sr_gen *gen_of(struct xi_interceptor *ic)
{
	return ic && ic->ops == &sr_ops ? xi_container_of(ic, struct sr_gen, ic) : NULL;
}

static struct sr_stream *stream_find(struct sr_gen *g, uint32_t ssrc)
{
	return (struct sr_stream *)xi_local_streams_find(g->streams, ssrc);
}

/* ns * rate / 1e9 mod 2^32 without overflowing 64 bits. */
static uint32_t ns_to_units(uint64_t ns, uint32_t rate)
{
	return (uint32_t)((ns / XI_NS_PER_S) * rate + (ns % XI_NS_PER_S) * rate / XI_NS_PER_S);
}

uint32_t xi_sender_report_rtp_ts(const struct xi_sender_report_state *st, uint32_t clock_rate,
				 uint64_t now_ns)
{
	uint64_t dt = now_ns > st->last_send_ns ? now_ns - st->last_send_ns : 0;

	return st->last_rtp_ts + ns_to_units(dt, clock_rate);
}

/* ---- the local stream's writer: what left ---- */

static ssize_t sr_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct sr_stream *s = ctx;
	struct xi_rtp_header hdr;
	uint64_t trailer = 0;

	if (attrs)
		xi_attributes_get_u64(attrs, XI_ATTR_SRTP_TRAILER, &trailer);
	/* On SRTP, octets leave the tag out (RFC 3550 6.4.1: payload octets). */
	if (xi_srtp_header_parse(pkt, len, (size_t)trailer, &hdr) == 0 && hdr.ssrc == s->base.ssrc) {
		pthread_mutex_lock(&s->gen->lock);
		s->st.packets++;
		s->st.octets += hdr.payload_len;
		s->st.last_rtp_ts = hdr.timestamp;
		s->st.last_send_ns = xi_arrival_ns(attrs);
		pthread_mutex_unlock(&s->gen->lock);
	}
	return xi_writer_write(s->next, pkt, len, attrs);
}

/* ---- the remote's reports ---- */

static uint32_t ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

int xi_sender_report_rtt_q16(uint32_t arrival_mid, uint32_t lsr, uint32_t dlsr, uint32_t *ret)
{
	uint32_t rtt = arrival_mid - lsr - dlsr;

	if (lsr == 0)
		return -ENOENT;   /* no SR of ours reached the remote yet */
	/* A remote clock or a DLSR that puts the report before the SR. */
	*ret = (int32_t)rtt < 0 ? 0 : rtt;
	return 0;
}

static void block_note(struct sr_gen *g, const struct xi_rtcp_report_block *b, uint32_t arrival)
{
	struct sr_stream *s = stream_find(g, b->ssrc);
	struct xi_remote_report add = { .reports = 1 };
	bool rtt;

	if (!s)
		return;
	add.fraction_lost = b->fraction_lost;
	add.cumulative_lost = b->cumulative_lost;
	add.jitter = b->jitter;
	add.ext_highest_seq = b->ext_highest_seq;
	rtt = xi_sender_report_rtt_q16(arrival, b->lsr, b->dlsr, &add.rtt_q16) == 0;
	add.rtt_reports = rtt;
	s->remote.reports++;
	s->remote.rtt_reports += rtt;
	s->remote.fraction_lost = add.fraction_lost;
	s->remote.cumulative_lost = add.cumulative_lost;
	s->remote.jitter = add.jitter;
	s->remote.ext_highest_seq = add.ext_highest_seq;
	if (rtt)
		s->remote.rtt_q16 = add.rtt_q16;
	xi_dataplane_remote_report_merge(g->dp, g->conn_id, b->ssrc, &add, true, rtt);
}

static ssize_t sr_read_rtcp(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct sr_gen *g = ctx;
	const struct xi_rtcp_compound *c = &g->scratch;
	ssize_t n = xi_reader_read(g->rtcp_next, buf, cap, attrs);
	uint32_t arrival;
	int rc;

	if (n <= 0)
		return n;
	arrival = ntp_mid(xi_ntp_of_mono(xi_arrival_ns(attrs)));
	pthread_mutex_lock(&g->lock);
	if (attrs)
		rc = xi_attributes_rtcp(attrs, buf, (size_t)n, &c);
	else
		rc = xi_rtcp_compound_parse(buf, (size_t)n, &g->scratch);
	/* A compound that does not parse is ignored whole (the engine counts it). */
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct xi_rtcp_packet *p = &c->pkts[i];
		size_t nb = p->kind == XI_RTCP_KIND_SR ? p->sr.report_count :
			    p->kind == XI_RTCP_KIND_RR ? p->rr.report_count : 0;

		for (size_t k = 0; k < nb; k++) {
			struct xi_rtcp_report_block b;

			if (xi_rtcp_report_block(p, k, &b) == 0)
				block_note(g, &b, arrival);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* ---- reporting ---- */

static int sr_send(struct sr_gen *g, struct sr_stream *s, uint64_t now_ns)
{
	struct xi_rtcp_sr sr = {
		.ssrc = s->base.ssrc,
		.ntp = xi_ntp_of_mono(now_ns),
		.rtp_ts = xi_sender_report_rtp_ts(&s->st, s->clock_rate, now_ns),
		.packet_count = (uint32_t)s->st.packets,
		.octet_count = (uint32_t)s->st.octets,
	};
	struct xi_attributes attrs = { 0 };
	uint8_t buf[64];
	int len = xi_rtcp_sr_write(&sr, NULL, 0, buf, sizeof(buf));
	ssize_t w;

	if (len < 0)
		return len;
	s->st.reports++;
	w = xi_writer_write(g->writer, buf, (size_t)len, &attrs);
	return w < 0 ? (int)w : 0;
}

static int sr_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct sr_gen *g = gen_of(ic);
	int rc = 0, e;

	pthread_mutex_lock(&g->lock);
	if (xi_interval_due(&g->tick, now_ns, g->cfg.interval_ns) && g->have_writer) {
		/* The moment of the report: now, not when poll was scheduled. */
		now_ns = xi_mono_ns();
		for (struct xi_local_stream *b = g->streams; b; b = b->next) {
			struct sr_stream *s = (struct sr_stream *)b;

			if (!s->st.packets)
				continue;
			e = sr_send(g, s, now_ns);
			if (e < 0 && !rc)
				rc = e;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* ---- interceptor ops ---- */

static int sr_bind_local_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				struct xi_writer next, struct xi_writer *ret)
{
	struct sr_gen *g = gen_of(ic);
	struct sr_stream *s;

	if (!info || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->gen = g;
	s->clock_rate = info->clock_rate;
	s->next = next;
	pthread_mutex_lock(&g->lock);
	xi_local_streams_push(&g->streams, &s->base, info->ssrc);
	pthread_mutex_unlock(&g->lock);
	ret->write = sr_write;
	ret->ctx = s;
	return 0;
}

static void sr_unbind_local_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	struct sr_gen *g = gen_of(ic);

	pthread_mutex_lock(&g->lock);
	free(xi_local_streams_take(&g->streams, info->ssrc));
	pthread_mutex_unlock(&g->lock);
}

static int sr_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			       struct xi_reader *ret)
{
	struct sr_gen *g = gen_of(ic);

	g->rtcp_next = next;
	ret->read = sr_read_rtcp;
	ret->ctx = g;
	return 0;
}

static int sr_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
			       struct xi_writer *ret)
{
	struct sr_gen *g = gen_of(ic);

	pthread_mutex_lock(&g->lock);
	g->writer = next;
	g->have_writer = true;
	pthread_mutex_unlock(&g->lock);
	*ret = next;
	return 0;
}

static int sr_close(struct xi_interceptor *ic, unsigned flags)
{
	struct sr_gen *g = gen_of(ic);

	for (struct xi_local_stream *s; (s = xi_local_streams_pop(&g->streams));)
		free(s);
	pthread_mutex_destroy(&g->lock);
	free(g);
	return 0;
}

static const struct xi_interceptor_ops sr_ops = {
	.bind_rtcp_reader = sr_bind_rtcp_reader,
	.bind_rtcp_writer = sr_bind_rtcp_writer,
	.bind_local_stream = sr_bind_local_stream,
	.unbind_local_stream = sr_unbind_local_stream,
	.poll = sr_poll,
	.close = sr_close,
};

int xi_sender_report_state(struct xi_interceptor *ic, uint32_t ssrc,
			   struct xi_sender_report_state *ret_state,
			   struct xi_remote_report *ret_remote)
{
	struct sr_gen *g = gen_of(ic);
	struct sr_stream *s;
	int r = 0;

	if (!g)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	s = stream_find(g, ssrc);
	if (!s)
		r = -ENOENT;
	else {
		if (ret_state)
			*ret_state = s->st;
		if (ret_remote)
			*ret_remote = s->remote;
	}
	pthread_mutex_unlock(&g->lock);
	return r;
}

/* ---- factory ---- */

static int sr_new(const struct xi_factory *f, const void *config,
		  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	const struct sr_cfg *cfg = config;
	struct sr_gen *g;

	if (!cfg || !ret || cfg->interval_ns == 0)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	g->cfg = *cfg;
	g->dp = ctx ? ctx->dp : NULL;
	g->conn_id = ctx ? ctx->conn_id : 0;
	g->ic.ops = &sr_ops;
	g->ic.name = f ? f->name : "sender-report";
	*ret = &g->ic;
	return 0;
}

static const struct xi_config_key sr_keys[] = {
	{ .name = "interval", .type = XI_CFG_DURATION,
	  .offset = offsetof(struct sr_cfg, interval_ns), .def = "1s",
	  .min = 1, .max = UINT64_MAX, .help = "how often a sender report is sent" },
	{ .name = NULL },
};

static const struct xi_factory sender_report_factory = {
	.name = "sender-report",
	.description = "sends RFC 3550 sender reports for the local streams; RTT from the remote's reports",
	.kind = XI_KIND_USERSPACE,
	.keys = sr_keys,
	.config_size = sizeof(struct sr_cfg),
	.new_interceptor = sr_new,
	.flags = XI_FACTORY_OBSERVES | XI_FACTORY_LOCAL_STREAMS,
};

XI_CATALOG_REGISTER(sender_report_factory)
XI_CATALOG_ANCHOR(sender_report)
