// SPDX-License-Identifier: MIT
/*
 * receiver-report: pion's ReceiverInterceptor. Every interval it sends one
 * RFC 3550 receiver report with a block for each remote stream that has
 * received packets: fraction lost, cumulative lost, extended highest sequence
 * number, interarrival jitter, and LSR/DLSR from the stream's last SR.
 *
 * Loss follows RFC 3550 A.1/A.3 with counts (see user/proto/rtp_seq.h), not the
 * 128-packet window of old pion versions, which forgot losses older than the
 * window and so undercounted at video rates.
 *
 * Arrival times come from the packet's XI_ATTR_ARRIVAL_NS when the engine
 * set it, else from CLOCK_MONOTONIC at the read; poll() gets the same clock.
 * Reads, poll and binds may come from different threads; one mutex covers
 * the streams and is held while the RTCP writer runs, as in pion.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/proto/rtp_seq.h"
#include "user/interceptors/stream_table.h"
#include "user/lib/clock.h"

#define RR_BUF_LEN (8 + 24 * XI_RTCP_MAX_COUNT)

struct rr_cfg {
	uint64_t interval_ns;
	uint32_t sender_ssrc;        /* 0: random */
};

struct rr_stream {
	struct xi_bound_stream base;
	struct rr_gen *gen;
	uint32_t clock_rate;
	struct xi_rtp_seq seq;
	bool have_sr;
	uint32_t lsr;                /* middle 32 bits of the SR's NTP time */
	uint64_t sr_arrival_ns;
};

struct rr_gen {
	struct xi_interceptor ic;
	struct rr_cfg cfg;
	struct xi_stream_table st;
	struct xi_interval tick;
	/* RTCP parsed here when the reader gets no attributes to cache it in:
	 * a compound is kilobytes, too big for every reader's stack. */
	struct xi_rtcp_compound scratch;
};

static struct rr_gen *gen_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct rr_gen, ic);
}

/* ns * rate / 1e9 mod 2^32, without overflowing 64 bits for any 32-bit rate;
 * also gives DLSR, whose unit is 1/65536 s. */
static uint32_t ns_to_rtp_units(uint64_t ns, uint32_t rate)
{
	return (uint32_t)((ns / XI_NS_PER_S) * rate + (ns % XI_NS_PER_S) * rate / XI_NS_PER_S);
}

/* NULL stays NULL, so a failed lookup can be passed straight through. */
static struct rr_stream *stream_of(struct xi_bound_stream *node)
{
	return node ? xi_container_of(node, struct rr_stream, base) : NULL;
}

/* ---- reading ---- */

static void stream_account(struct rr_stream *s, const struct xi_rtp_header *hdr,
			   uint64_t now_ns)
{
	if (!xi_rtp_seq_update(&s->seq, hdr->seq))
		return;
	/* Without a clock rate there is no unit to measure jitter in. */
	if (s->clock_rate)
		xi_rtp_seq_jitter(&s->seq, ns_to_rtp_units(now_ns, s->clock_rate),
				  hdr->timestamp);
}

static ssize_t rr_read_rtp(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct rr_stream *s = ctx;
	const struct xi_rtp_header *hdr;
	struct xi_rtp_header local;
	ssize_t n = xi_reader_read(s->base.reader, buf, cap, attrs);

	if (n <= 0 || xi_rtp_seq_header(attrs, buf, (size_t)n, &local, &hdr) ||
	    hdr->ssrc != s->base.ssrc)
		return n;
	pthread_mutex_lock(&s->gen->st.lock);
	stream_account(s, hdr, xi_arrival_ns(attrs));
	pthread_mutex_unlock(&s->gen->st.lock);
	return n;
}

static void sr_note(struct rr_gen *g, const struct xi_rtcp_sr *sr, uint64_t now_ns)
{
	struct rr_stream *s = stream_of(xi_stream_table_find(&g->st, sr->ssrc));

	if (!s)
		return;
	s->have_sr = true;
	s->lsr = (uint32_t)(sr->ntp >> 16);
	s->sr_arrival_ns = now_ns;
}

static ssize_t rr_read_rtcp(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct rr_gen *g = ctx;
	const struct xi_rtcp_compound *c = &g->scratch;
	ssize_t n = xi_reader_read(g->st.rtcp_reader, buf, cap, attrs);
	uint64_t now;
	int rc;

	if (n <= 0)
		return n;
	now = xi_arrival_ns(attrs);
	pthread_mutex_lock(&g->st.lock);
	if (attrs)
		rc = xi_attributes_rtcp(attrs, buf, (size_t)n, &c);
	else
		rc = xi_rtcp_compound_parse(buf, (size_t)n, &g->scratch);
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		if (c->pkts[i].kind == XI_RTCP_KIND_SR)
			sr_note(g, &c->pkts[i].sr, now);
	pthread_mutex_unlock(&g->st.lock);
	return n;
}

/* ---- reporting ---- */

static void block_fill(struct rr_stream *s, uint64_t now_ns,
		       struct xi_rtcp_report_block *b)
{
	memset(b, 0, sizeof(*b));
	b->ssrc = s->base.ssrc;
	b->fraction_lost = xi_rtp_seq_fraction_lost(&s->seq);
	b->cumulative_lost = xi_rtp_seq_cumulative_lost(&s->seq);
	b->ext_highest_seq = xi_rtp_seq_ext_highest(&s->seq);
	b->jitter = xi_rtp_seq_jitter_value(&s->seq);
	if (s->have_sr) {
		b->lsr = s->lsr;
		/* DLSR is in 1/65536 s. A clock that went backwards gives 0. */
		if (now_ns > s->sr_arrival_ns)
			b->dlsr = ns_to_rtp_units(now_ns - s->sr_arrival_ns, 65536);
	}
}

static int rr_send(struct rr_gen *g, const struct xi_rtcp_report_block *blocks, size_t n)
{
	struct xi_attributes attrs = { 0 };
	uint8_t buf[RR_BUF_LEN];
	int len = xi_rtcp_rr_write(g->cfg.sender_ssrc, blocks, n, buf, sizeof(buf));
	ssize_t w;

	if (len < 0)
		return len;
	w = xi_writer_write(g->st.writer, buf, (size_t)len, &attrs);
	return w < 0 ? (int)w : 0;
}

/* One RR per 31 streams: the report count field has 5 bits. */
static int rr_run(struct rr_gen *g, uint64_t now_ns)
{
	struct xi_rtcp_report_block blocks[XI_RTCP_MAX_COUNT];
	size_t n = 0;
	int first = 0, rc;

	for (struct xi_bound_stream *node = g->st.streams; node; node = node->next) {
		struct rr_stream *s = stream_of(node);

		if (!s->seq.started || !s->seq.received)
			continue;
		block_fill(s, now_ns, &blocks[n++]);
		if (n < XI_RTCP_MAX_COUNT)
			continue;
		rc = rr_send(g, blocks, n);
		if (rc < 0 && !first)
			first = rc;
		n = 0;
	}
	if (n) {
		rc = rr_send(g, blocks, n);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

/* ---- interceptor ops ---- */

static int rr_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				 struct xi_reader next, struct xi_reader *ret)
{
	struct rr_gen *g = gen_of(ic);
	struct rr_stream *s;

	if (!info || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->gen = g;
	s->clock_rate = info->clock_rate;
	xi_stream_table_add(&g->st, &s->base, info->ssrc, next);
	ret->read = rr_read_rtp;
	ret->ctx = s;
	return 0;
}

static void stream_free(struct xi_bound_stream *node)
{
	free(stream_of(node));
}

static void rr_unbind_remote_stream(struct xi_interceptor *ic,
				    const struct xi_stream_info *info)
{
	xi_stream_table_unbind(&gen_of(ic)->st, info);
}

static int rr_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			       struct xi_reader *ret)
{
	struct rr_gen *g = gen_of(ic);

	return xi_stream_table_bind_rtcp_reader(&g->st, next, rr_read_rtcp, g, ret);
}

static int rr_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
			       struct xi_writer *ret)
{
	return xi_stream_table_bind_rtcp_writer(&gen_of(ic)->st, next, ret);
}

/* The first poll starts the clock; a report goes out once per interval after it. */
static int rr_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct rr_gen *g = gen_of(ic);
	int rc = 0;

	pthread_mutex_lock(&g->st.lock);
	if (xi_interval_due(&g->tick, now_ns, g->cfg.interval_ns) && g->st.have_writer)
		rc = rr_run(g, now_ns);
	pthread_mutex_unlock(&g->st.lock);
	return rc;
}

static int rr_close(struct xi_interceptor *ic, unsigned flags)
{
	struct rr_gen *g = gen_of(ic);

	xi_stream_table_fini(&g->st);
	free(g);
	return 0;
}

static const struct xi_interceptor_ops rr_ops = {
	.bind_rtcp_reader = rr_bind_rtcp_reader,
	.bind_rtcp_writer = rr_bind_rtcp_writer,
	.bind_remote_stream = rr_bind_remote_stream,
	.unbind_remote_stream = rr_unbind_remote_stream,
	.poll = rr_poll,
	.close = rr_close,
};

/* ---- factory ---- */

static int rr_new(const struct xi_factory *f, const void *config,
		  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	const struct rr_cfg *cfg = config;
	struct rr_gen *g;

	if (!cfg || !ret || cfg->interval_ns == 0)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	xi_stream_table_init(&g->st, stream_free);
	g->cfg = *cfg;
	if (g->cfg.sender_ssrc == 0)
		g->cfg.sender_ssrc = xi_random_ssrc(0x7f4a7c15u);
	g->ic.ops = &rr_ops;
	g->ic.name = f ? f->name : "receiver-report";
	*ret = &g->ic;
	return 0;
}

static const struct xi_config_key rr_keys[] = {
	{ .name = "interval", .type = XI_CFG_DURATION,
	  .offset = offsetof(struct rr_cfg, interval_ns), .def = "1s",
	  .min = 1, .max = UINT64_MAX, .help = "how often a receiver report is sent" },
	{ .name = "sender-ssrc", .type = XI_CFG_U32,
	  .offset = offsetof(struct rr_cfg, sender_ssrc), .def = "0",
	  .help = "SSRC the reports are sent from (0: random)" },
	{ .name = NULL },
};

static const struct xi_factory receiver_report_factory = {
	.name = "receiver-report",
	.description = "sends RFC 3550 receiver reports for the remote streams",
	.kind = XI_KIND_USERSPACE,
	.keys = rr_keys,
	.config_size = sizeof(struct rr_cfg),
	.new_interceptor = rr_new,
	.flags = XI_FACTORY_OBSERVES,
};

XI_CATALOG_REGISTER(receiver_report_factory)
XI_CATALOG_ANCHOR(receiver_report)
