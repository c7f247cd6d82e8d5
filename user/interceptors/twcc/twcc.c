// SPDX-License-Identifier: MIT
/*
 * twcc ext-id=N interval=100ms: the receiving side of transport-wide
 * congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01),
 * pion's twcc.SenderInterceptor. It reads the transport-wide sequence number
 * of every incoming RTP packet (RFC 8285 one-byte element N, two bytes) and
 * its arrival time (stamped by XDP), and every interval sends transport-cc
 * feedback (RTPFB FMT 15) for the numbers from the first not yet reported
 * to the highest received: each packet received or not, and the receive
 * deltas at 250 us resolution (user/proto/twcc_write.c). A feedback packet
 * ends early where a delta does not fit 16 bits (8 s) or at 1,000 packets;
 * the next one goes on from there at once.
 *
 * Runs on the tap: it only observes. One mutex for reads and poll.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/interceptors/stream_table.h"
#include "user/interceptors/twcc/twcc.h"
#include "user/lib/clock.h"
#include "user/proto/twcc_write.h"

#define FB_PACKETS_MAX 1000
#define PENDING_MAX    65536          /* unreported arrivals kept */
#define TICK_NS        250000ull      /* 250 us */
#define REF_NS         64000000ull    /* 64 ms */

struct twcc_cfg {
	uint32_t ext_id;
	uint64_t interval_ns;
	uint32_t sender_ssrc;
};

struct arrival {
	int64_t seq;                 /* unwrapped */
	uint64_t ns;
};

struct twcc_gen;

struct twcc_stream {
	struct xi_bound_stream base;
	struct twcc_gen *gen;
};

struct twcc_gen {
	struct xi_interceptor ic;
	struct twcc_cfg cfg;
	struct xi_stream_table st;
	struct xi_interval tick;
	struct arrival *pending;
	size_t n_pending;
	bool started;
	int64_t last_seq;            /* unwrapped, of the last packet read */
	int64_t next_base;           /* first number not reported yet */
	uint32_t media_ssrc;
	uint8_t fb_count;
	struct xi_twcc_counts counts;
	uint8_t status[FB_PACKETS_MAX];
	int32_t delta[FB_PACKETS_MAX];
	uint8_t out[20 + FB_PACKETS_MAX * 3 + 4];
};

static const struct xi_interceptor_ops twcc_ops;

static struct twcc_gen *gen_of(struct xi_interceptor *ic)
{
	return ic && ic->ops == &twcc_ops ? xi_container_of(ic, struct twcc_gen, ic) : NULL;
}

/* ---- reading ---- */

static void note(struct twcc_gen *g, uint16_t seq16, uint32_t ssrc, uint64_t ns)
{
	int64_t seq;

	seq = g->started ? g->last_seq + (int16_t)(seq16 - (uint16_t)g->last_seq) : seq16;
	if (!g->started) {
		g->started = true;
		g->next_base = seq;
	}
	g->last_seq = seq;
	g->media_ssrc = ssrc;
	g->counts.received++;
	if (seq < g->next_base || g->n_pending == PENDING_MAX) {
		g->counts.late++;
		return;
	}
	g->pending[g->n_pending++] = (struct arrival){ .seq = seq, .ns = ns };
}

static ssize_t twcc_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct twcc_stream *s = ctx;
	struct twcc_gen *g = s->gen;
	ssize_t n = xi_reader_read(s->base.reader, buf, cap, attrs);
	struct xi_rtp_header local;
	const struct xi_rtp_header *hdr = &local;
	size_t off, len;
	int rc;

	if (n <= 0)
		return n;
	rc = attrs ? xi_attributes_rtp_header(attrs, buf, (size_t)n, &hdr)
		   : xi_rtp_header_parse(buf, (size_t)n, &local);
	if (rc || hdr->ext_kind != XI_RTP_EXT_ONE_BYTE ||
	    xi_rtp_header_ext_find(hdr, (uint8_t)g->cfg.ext_id, &off, &len) || len != 2)
		return n;
	pthread_mutex_lock(&g->st.lock);
	note(g, (uint16_t)(buf[off] << 8 | buf[off + 1]), hdr->ssrc, xi_arrival_ns(attrs));
	pthread_mutex_unlock(&g->st.lock);
	return n;
}

/* ---- feedback ---- */

static int arrival_cmp(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

/* One feedback packet from g->pending[*at] on; *at moves past what it
 * reported. */
static int fb_send(struct twcc_gen *g, size_t *at)
{
	struct xi_twcc_fb fb = { .sender_ssrc = g->cfg.sender_ssrc, .media_ssrc = g->media_ssrc,
				 .status = g->status, .delta = g->delta };
	const struct arrival *a = &g->pending[*at];
	uint64_t ref_ticks, prev;
	struct xi_attributes attrs = { 0 };
	size_t i = *at, n = 0;
	int64_t seq = g->next_base;
	ssize_t w;
	int len;

	fb.base_seq = (uint16_t)seq;
	fb.ref_time = (uint32_t)(a->ns / REF_NS) & 0xffffff;
	ref_ticks = a->ns / REF_NS * (REF_NS / TICK_NS);
	prev = ref_ticks;
	while (i < g->n_pending && n < FB_PACKETS_MAX) {
		const struct arrival *p = &g->pending[i];
		int64_t d;

		if (p->seq > seq) {   /* a number never received */
			g->status[n] = XI_TWCC_NOT_RECEIVED;
			g->delta[n++] = 0;
			seq++;
			continue;
		}
		d = (int64_t)(p->ns / TICK_NS) - (int64_t)prev;
		if (d < INT16_MIN || d > INT16_MAX)
			break;   /* the next feedback starts here, its own reference */
		g->status[n] = d >= 0 && d <= 255 ? XI_TWCC_SMALL_DELTA : XI_TWCC_LARGE_DELTA;
		g->delta[n++] = (int32_t)d;
		prev = p->ns / TICK_NS;
		seq++;
		i++;
		while (i < g->n_pending && g->pending[i].seq < seq) {
			g->counts.duplicates++;
			i++;
		}
	}
	fb.n = n;
	fb.fb_pkt_count = g->fb_count;
	len = xi_rtcp_twcc_write(&fb, g->out, sizeof(g->out));
	if (len < 0)
		return len;
	g->fb_count++;
	g->counts.feedbacks++;
	g->next_base = seq;
	*at = i;
	w = xi_writer_write(g->st.writer, g->out, (size_t)len, &attrs);
	return w < 0 ? (int)w : 0;
}

static int fb_run(struct twcc_gen *g)
{
	size_t at = 0;
	int rc = 0, e;

	if (!g->n_pending)
		return 0;
	qsort(g->pending, g->n_pending, sizeof(*g->pending), arrival_cmp);
	while (at < g->n_pending) {
		size_t before = at;

		e = fb_send(g, &at);
		if (e < 0 && !rc)
			rc = e;
		if (at == before)
			break;   /* nothing could be reported: do not spin */
	}
	memmove(g->pending, g->pending + at, (g->n_pending - at) * sizeof(*g->pending));
	g->n_pending -= at;
	return rc;
}

static int twcc_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct twcc_gen *g = gen_of(ic);
	int rc = 0;

	pthread_mutex_lock(&g->st.lock);
	if (xi_interval_due(&g->tick, now_ns, g->cfg.interval_ns) && g->st.have_writer)
		rc = fb_run(g);
	pthread_mutex_unlock(&g->st.lock);
	return rc;
}

/* ---- interceptor ops ---- */

static int twcc_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				   struct xi_reader next, struct xi_reader *ret)
{
	struct twcc_gen *g = gen_of(ic);
	struct twcc_stream *s;

	if (!info || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->gen = g;
	xi_stream_table_add(&g->st, &s->base, info->ssrc, next);
	ret->read = twcc_read;
	ret->ctx = s;
	return 0;
}

static void stream_free(struct xi_bound_stream *node)
{
	free(xi_container_of(node, struct twcc_stream, base));
}

static void twcc_unbind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	xi_stream_table_unbind(&gen_of(ic)->st, info);
}

static int twcc_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
				 struct xi_writer *ret)
{
	return xi_stream_table_bind_rtcp_writer(&gen_of(ic)->st, next, ret);
}

static int twcc_close(struct xi_interceptor *ic, unsigned flags)
{
	struct twcc_gen *g = gen_of(ic);

	xi_stream_table_fini(&g->st);
	free(g->pending);
	free(g);
	return 0;
}

static const struct xi_interceptor_ops twcc_ops = {
	.bind_rtcp_writer = twcc_bind_rtcp_writer,
	.bind_remote_stream = twcc_bind_remote_stream,
	.unbind_remote_stream = twcc_unbind_remote_stream,
	.poll = twcc_poll,
	.close = twcc_close,
};

int xi_twcc_counts(struct xi_interceptor *ic, struct xi_twcc_counts *ret)
{
	struct twcc_gen *g = gen_of(ic);

	if (!g || !ret)
		return -EINVAL;
	pthread_mutex_lock(&g->st.lock);
	*ret = g->counts;
	pthread_mutex_unlock(&g->st.lock);
	return 0;
}

/* ---- factory ---- */

static int twcc_new(const struct xi_factory *f, const void *config,
		    const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	const struct twcc_cfg *cfg = config;
	struct twcc_gen *g;

	if (!cfg || !ret || !cfg->interval_ns || cfg->ext_id < 1 || cfg->ext_id > 14)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->pending = calloc(PENDING_MAX, sizeof(*g->pending));
	if (!g->pending) {
		free(g);
		return -ENOMEM;
	}
	xi_stream_table_init(&g->st, stream_free);
	g->cfg = *cfg;
	if (!g->cfg.sender_ssrc)
		g->cfg.sender_ssrc = xi_random_ssrc(0x2c6e5f1bu);
	g->ic.ops = &twcc_ops;
	g->ic.name = f ? f->name : "twcc";
	*ret = &g->ic;
	return 0;
}

static const struct xi_config_key twcc_keys[] = {
	{ .name = "ext-id", .type = XI_CFG_U32, .offset = offsetof(struct twcc_cfg, ext_id),
	  .min = 1, .max = 14, .flags = XI_CFG_F_REQUIRED,
	  .help = "RFC 8285 one-byte extension id of the transport-wide sequence number" },
	{ .name = "interval", .type = XI_CFG_DURATION,
	  .offset = offsetof(struct twcc_cfg, interval_ns), .def = "100ms",
	  .min = 1, .max = UINT64_MAX, .help = "how often feedback is sent" },
	{ .name = "sender-ssrc", .type = XI_CFG_U32,
	  .offset = offsetof(struct twcc_cfg, sender_ssrc), .def = "0",
	  .help = "SSRC the feedback is sent from (0: random)" },
	{ .name = NULL },
};

static const struct xi_factory twcc_factory = {
	.name = "twcc",
	.description = "sends transport-wide congestion control feedback (RTPFB FMT 15)",
	.kind = XI_KIND_USERSPACE,
	.keys = twcc_keys,
	.config_size = sizeof(struct twcc_cfg),
	.new_interceptor = twcc_new,
	.flags = XI_FACTORY_OBSERVES,
};

XI_CATALOG_REGISTER(twcc_factory)
XI_CATALOG_ANCHOR(twcc)
