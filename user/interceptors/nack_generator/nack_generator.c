// SPDX-License-Identifier: MIT
/*
 * nack-generator: pion's NACK GeneratorInterceptor. It watches the sequence
 * numbers of remote streams and, every interval, asks the media sender for
 * the missing ones with an RFC 4585 generic NACK (PT 205, FMT 1).
 *
 * Each stream keeps a receive log of `size` sequence numbers as a bitmap and
 * the last sequence number up to which nothing is missing. A forward jump of
 * `size` or more starts the log afresh at the new packet: such a gap cannot be
 * repaired from a sender buffer of the same size, and asking for all of it
 * would only be a NACK storm.
 *
 * Which streams are watched: `streams=nack` (pion's default) takes those whose
 * RTCP feedback lists plain "nack"; `streams=all` takes every remote stream.
 * A non-empty `ssrc` list narrows either choice to those SSRCs.
 *
 * Reads, poll and binds may come from different threads; one mutex covers
 * the streams. The RTCP writer is called with it held, as pion does, so the
 * writer must not re-enter this interceptor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/proto/rtp_seq.h"
#include "user/interceptors/stream_table.h"

/* Pairs in one NACK packet: 12 + 4 * 256 bytes stays below any MTU, so a
 * long loss list becomes several packets rather than one that cannot be sent. */
#define NACK_MAX_PAIRS 256
#define NACK_BUF_LEN   (12 + 4 * NACK_MAX_PAIRS)
#define SEQ_HALF       0x8000u

enum nack_streams {
	NACK_STREAMS_NACK = 0,
	NACK_STREAMS_ALL = 1,
};

struct nack_cfg {
	uint32_t size;
	uint32_t skip_last_n;
	uint32_t max_nacks;
	uint64_t interval_ns;
	uint32_t streams;            /* enum nack_streams */
	struct xi_u32_list ssrcs;
	uint32_t sender_ssrc;        /* 0: random */
};

/* pion's receiveLog: one bit per sequence number in a window of size. */
struct receive_log {
	uint64_t *bits;
	uint16_t *nacked;            /* times each slot's seq was NACKed; NULL
				      * unless max-nacks is set */
	uint16_t mask;               /* size - 1; size is a power of two <= 32768 */
	bool started;
	uint16_t end;                /* highest seq seen */
	uint16_t last_consecutive;   /* nothing missing up to here */
};

struct nack_stream {
	struct xi_bound_stream base;
	struct nack_gen *gen;
	struct receive_log log;
};

struct nack_gen {
	struct xi_interceptor ic;
	struct nack_cfg cfg;
	struct xi_stream_table st;
	struct xi_interval tick;
	uint16_t *missing;           /* scratch for poll, size entries */
};

/* ---- receive log ---- */

static bool log_get(const struct receive_log *l, uint16_t seq)
{
	uint16_t i = seq & l->mask;

	return l->bits[i / 64] & (1ull << (i % 64));
}

static void log_set(struct receive_log *l, uint16_t seq)
{
	uint16_t i = seq & l->mask;

	l->bits[i / 64] |= 1ull << (i % 64);
	if (l->nacked)
		l->nacked[i] = 0;
}

/* The slot now belongs to a newer sequence number: forget the old one. */
static void log_clear(struct receive_log *l, uint16_t seq)
{
	uint16_t i = seq & l->mask;

	l->bits[i / 64] &= ~(1ull << (i % 64));
	if (l->nacked)
		l->nacked[i] = 0;
}

static void log_restart(struct receive_log *l, uint16_t seq)
{
	memset(l->bits, 0, ((size_t)l->mask + 1) / 8);
	if (l->nacked)
		memset(l->nacked, 0, ((size_t)l->mask + 1) * sizeof(*l->nacked));
	l->started = true;
	l->end = seq;
	l->last_consecutive = seq;
	log_set(l, seq);
}

static void log_fix_last_consecutive(struct receive_log *l)
{
	uint16_t i = l->last_consecutive + 1;

	while (i != (uint16_t)(l->end + 1) && log_get(l, i))
		i++;
	l->last_consecutive = i - 1;
}

/*
 * last_consecutive + 1 is always missing (or last_consecutive == end), so
 * log_fix_last_consecutive costs one lookup unless a hole was just filled.
 */
static void log_add(struct receive_log *l, uint16_t seq)
{
	uint16_t diff = seq - l->end;

	if (!l->started || (diff < SEQ_HALF && diff > l->mask)) {
		log_restart(l, seq);
		return;
	}
	if (diff == 0)
		return;
	if (diff < SEQ_HALF) {
		/* Slots between the old end and seq now belong to new numbers. */
		for (uint16_t i = l->end + 1; i != seq; i++)
			log_clear(l, i);
		l->end = seq;
		/* The oldest slots were reused: give up on what they held. */
		if ((uint16_t)(seq - l->last_consecutive) > l->mask)
			l->last_consecutive = seq - l->mask - 1;
	} else if ((uint16_t)(l->end - seq) > l->mask) {
		/* Late and older than the log: its slot holds a newer number. */
		return;
	}
	log_set(l, seq);
	log_fix_last_consecutive(l);
}

/* Missing numbers after last_consecutive, up to end - skip; returns how many. */
static size_t log_missing(const struct receive_log *l, uint32_t skip, uint16_t *out)
{
	uint16_t until = l->end - (uint16_t)skip;
	size_t n = 0;

	if (!l->started || skip > l->mask ||
	    (uint16_t)(until - l->last_consecutive) >= SEQ_HALF)
		return 0;
	for (uint16_t i = l->last_consecutive + 1; i != (uint16_t)(until + 1); i++)
		if (!log_get(l, i))
			out[n++] = i;
	return n;
}

/* pion's max-nacks: a number is asked for at most max times. */
static size_t log_limit_nacks(struct receive_log *l, uint32_t max, uint16_t *seqs,
			      size_t n)
{
	size_t kept = 0;

	if (!max || !l->nacked)
		return n;
	for (size_t i = 0; i < n; i++) {
		uint16_t *count = &l->nacked[seqs[i] & l->mask];

		if (*count >= max)
			continue;
		(*count)++;
		seqs[kept++] = seqs[i];
	}
	return kept;
}

static int log_init(struct receive_log *l, uint32_t size, bool count_nacks)
{
	memset(l, 0, sizeof(*l));
	l->mask = (uint16_t)(size - 1);
	l->bits = calloc(size / 64, sizeof(*l->bits));
	if (!l->bits)
		return -ENOMEM;
	if (count_nacks) {
		l->nacked = calloc(size, sizeof(*l->nacked));
		if (!l->nacked) {
			free(l->bits);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ---- emitting ---- */

/* Pairs a sorted run would take, so that one packet stays NACK_MAX_PAIRS. */
static size_t seqs_fitting(const uint16_t *seqs, size_t n)
{
	size_t pairs = 0, i;
	uint16_t pid = 0;

	for (i = 0; i < n; i++) {
		if (pairs == 0 || (uint16_t)(seqs[i] - pid) > 16) {
			if (pairs == NACK_MAX_PAIRS)
				break;
			pairs++;
			pid = seqs[i];
		}
	}
	return i;
}

static int nack_emit(struct nack_gen *g, uint32_t media_ssrc, const uint16_t *seqs,
		     size_t n)
{
	struct xi_attributes attrs = { 0 };
	uint8_t buf[NACK_BUF_LEN];
	int first = 0;

	while (n) {
		size_t take = seqs_fitting(seqs, n);
		int len = xi_rtcp_nack_write(g->cfg.sender_ssrc, media_ssrc, seqs, take,
					     buf, sizeof(buf));
		ssize_t w;

		if (len < 0)
			return len;
		xi_attributes_reset(&attrs);
		w = xi_writer_write(g->st.writer, buf, (size_t)len, &attrs);
		if (w < 0 && !first)
			first = (int)w;
		seqs += take;
		n -= take;
	}
	return first;
}

static struct nack_stream *stream_of(struct xi_bound_stream *node)
{
	return xi_container_of(node, struct nack_stream, base);
}

static int nack_run(struct nack_gen *g)
{
	int first = 0;

	for (struct xi_bound_stream *node = g->st.streams; node; node = node->next) {
		struct nack_stream *s = stream_of(node);
		size_t n = log_missing(&s->log, g->cfg.skip_last_n, g->missing);
		int rc;

		n = log_limit_nacks(&s->log, g->cfg.max_nacks, g->missing, n);
		if (!n)
			continue;
		rc = nack_emit(g, node->ssrc, g->missing, n);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

/* ---- interceptor ops ---- */

static struct nack_gen *gen_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct nack_gen, ic);
}

static ssize_t nack_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct nack_stream *s = ctx;
	const struct xi_rtp_header *hdr;
	struct xi_rtp_header local;
	ssize_t n = xi_reader_read(s->base.reader, buf, cap, attrs);

	/* Not RTP of this stream (RTX on a shared reader, garbage): not ours to
	 * judge, it passes on untouched. */
	if (n <= 0 || xi_rtp_seq_header(attrs, buf, (size_t)n, &local, &hdr) ||
	    hdr->ssrc != s->base.ssrc)
		return n;
	pthread_mutex_lock(&s->gen->st.lock);
	log_add(&s->log, hdr->seq);
	pthread_mutex_unlock(&s->gen->st.lock);
	return n;
}

static bool nack_wants(const struct nack_cfg *cfg, const struct xi_stream_info *info)
{
	bool listed = cfg->ssrcs.n == 0;

	for (uint32_t i = 0; i < cfg->ssrcs.n && !listed; i++)
		listed = cfg->ssrcs.v[i] == info->ssrc;
	if (!listed)
		return false;
	return cfg->streams == NACK_STREAMS_ALL ||
	       xi_stream_info_has_feedback(info, "nack", "");
}

static int nack_bind_remote_stream(struct xi_interceptor *ic,
				   const struct xi_stream_info *info,
				   struct xi_reader next, struct xi_reader *ret)
{
	struct nack_gen *g = gen_of(ic);
	struct nack_stream *s;
	int rc;

	if (!info || !ret)
		return -EINVAL;
	if (!nack_wants(&g->cfg, info)) {
		*ret = next;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = log_init(&s->log, g->cfg.size, g->cfg.max_nacks > 0);
	if (rc) {
		free(s);
		return rc;
	}
	s->gen = g;
	xi_stream_table_add(&g->st, &s->base, info->ssrc, next);
	ret->read = nack_read;
	ret->ctx = s;
	return 0;
}

static void stream_free(struct xi_bound_stream *node)
{
	struct nack_stream *s = stream_of(node);

	free(s->log.bits);
	free(s->log.nacked);
	free(s);
}

static void nack_unbind_remote_stream(struct xi_interceptor *ic,
				      const struct xi_stream_info *info)
{
	xi_stream_table_unbind(&gen_of(ic)->st, info);
}

static int nack_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
				 struct xi_writer *ret)
{
	return xi_stream_table_bind_rtcp_writer(&gen_of(ic)->st, next, ret);
}

/* The first poll starts the clock; NACKs go out once per interval after it. */
static int nack_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct nack_gen *g = gen_of(ic);
	int rc = 0;

	pthread_mutex_lock(&g->st.lock);
	if (xi_interval_due(&g->tick, now_ns, g->cfg.interval_ns) && g->st.have_writer)
		rc = nack_run(g);
	pthread_mutex_unlock(&g->st.lock);
	return rc;
}

static int nack_close(struct xi_interceptor *ic, unsigned flags)
{
	struct nack_gen *g = gen_of(ic);

	xi_stream_table_fini(&g->st);
	free(g->missing);
	free(g);
	return 0;
}

static const struct xi_interceptor_ops nack_ops = {
	.bind_rtcp_writer = nack_bind_rtcp_writer,
	.bind_remote_stream = nack_bind_remote_stream,
	.unbind_remote_stream = nack_unbind_remote_stream,
	.poll = nack_poll,
	.close = nack_close,
};

/* ---- factory ---- */

static int nack_new(const struct xi_factory *f, const void *config,
		    const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	const struct nack_cfg *cfg = config;
	struct nack_gen *g;

	if (!cfg || !ret)
		return -EINVAL;
	/* The key table bounds these; a caller passing its own struct may not. */
	if (cfg->size < 64 || cfg->size > 32768 || (cfg->size & (cfg->size - 1)) ||
	    cfg->interval_ns == 0 || cfg->max_nacks > UINT16_MAX)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->missing = calloc(cfg->size, sizeof(*g->missing));
	if (!g->missing) {
		free(g);
		return -ENOMEM;
	}
	xi_stream_table_init(&g->st, stream_free);
	g->cfg = *cfg;
	if (g->cfg.sender_ssrc == 0)
		g->cfg.sender_ssrc = xi_random_ssrc(0x9e3779b9u);
	g->ic.ops = &nack_ops;
	g->ic.name = f ? f->name : "nack-generator";
	*ret = &g->ic;
	return 0;
}

static const char *const nack_streams_choices[] = { "nack", "all", NULL };

static const struct xi_config_key nack_keys[] = {
	{ .name = "size", .type = XI_CFG_U32, .offset = offsetof(struct nack_cfg, size),
	  .def = "512", .min = 64, .max = 32768, .flags = XI_CFG_F_POW2,
	  .help = "sequence numbers the receive log remembers (power of two)" },
	{ .name = "skip-last-n", .type = XI_CFG_U32,
	  .offset = offsetof(struct nack_cfg, skip_last_n), .def = "0",
	  .help = "newest sequence numbers not yet NACKed (they may only be late)" },
	{ .name = "max-nacks", .type = XI_CFG_U32,
	  .offset = offsetof(struct nack_cfg, max_nacks), .def = "0", .max = 65535,
	  .help = "times one sequence number is NACKed at most (0: no limit)" },
	{ .name = "interval", .type = XI_CFG_DURATION,
	  .offset = offsetof(struct nack_cfg, interval_ns), .def = "100ms",
	  .min = 1, .max = UINT64_MAX, .help = "how often NACKs are sent" },
	{ .name = "streams", .type = XI_CFG_ENUM, .offset = offsetof(struct nack_cfg, streams),
	  .def = "nack", .choices = nack_streams_choices,
	  .help = "nack: streams that negotiated NACK feedback; all: every stream" },
	{ .name = "ssrc", .type = XI_CFG_U32_LIST, .offset = offsetof(struct nack_cfg, ssrcs),
	  .help = "only these media SSRCs (empty: no restriction)" },
	{ .name = "sender-ssrc", .type = XI_CFG_U32,
	  .offset = offsetof(struct nack_cfg, sender_ssrc), .def = "0",
	  .help = "SSRC the NACKs are sent from (0: random)" },
	{ .name = NULL },
};

static const struct xi_factory nack_generator_factory = {
	.name = "nack-generator",
	.description = "asks the sender for missing RTP packets with RFC 4585 generic NACKs",
	.kind = XI_KIND_USERSPACE,
	.keys = nack_keys,
	.config_size = sizeof(struct nack_cfg),
	.new_interceptor = nack_new,
	.flags = XI_FACTORY_OBSERVES,
};

XI_CATALOG_REGISTER(nack_generator_factory)
XI_CATALOG_ANCHOR(nack_generator)
