// SPDX-License-Identifier: MIT
/*
 * pli-generator, an example xicept plugin: pion's intervalpli. For every
 * remote stream that negotiated "nack pli" it sends an RFC 4585 Picture
 * Loss Indication (PSFB, PT 206, FMT 1) every `interval`, and at once when
 * it sees a forward sequence gap larger than `gap` (0: never). It only
 * observes packets, so its connections take the tap path.
 *
 * Built against the installed library only:
 *   cc -shared -fPIC -o pli-generator.so pli-generator.c $(pkg-config --cflags --libs xicept)
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <xicept/xicept.h>
#include <xicept/plugin.h>

XI_PLUGIN_DEFINE_ABI

struct pli_cfg {
	uint64_t interval_ns;
	uint32_t gap;
	uint32_t sender_ssrc;        /* 0: random */
};

struct pli_stream {
	struct pli_stream *next;
	struct pli_gen *gen;
	uint32_t ssrc;
	struct xi_reader next_reader;
	bool started;
	uint16_t max_seq;
};

struct pli_gen {
	struct xi_interceptor ic;
	struct pli_cfg cfg;
	pthread_mutex_t lock;        /* reads, poll and binds may race */
	struct pli_stream *streams;
	bool have_writer;
	struct xi_writer writer;
	uint32_t sender_ssrc;
	bool armed;
	uint64_t due_ns;
};

static struct pli_gen *pli_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct pli_gen, ic);
}

/* Lock held. */
static void pli_send(struct pli_gen *g, uint32_t media_ssrc)
{
	uint8_t buf[12];
	int n;

	if (!g->have_writer)
		return;
	n = xi_rtcp_pli_write(g->sender_ssrc, media_ssrc, buf, sizeof(buf));
	if (n > 0)
		xi_writer_write(g->writer, buf, (size_t)n, NULL);
}

static ssize_t pli_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct pli_stream *s = ctx;
	struct pli_gen *g = s->gen;
	struct xi_rtp_header hdr;
	ssize_t n = xi_reader_read(s->next_reader, buf, cap, attrs);
	uint16_t ahead;

	if (n <= 0 || xi_rtp_header_parse(buf, (size_t)n, &hdr))
		return n;
	pthread_mutex_lock(&g->lock);
	if (!s->started) {
		s->started = true;
		s->max_seq = hdr.seq;
	} else {
		ahead = (uint16_t)(hdr.seq - s->max_seq);
		if (ahead && ahead < 0x8000) {
			/* ahead - 1 packets missing between the two */
			if (g->cfg.gap && (uint32_t)(ahead - 1) > g->cfg.gap)
				pli_send(g, s->ssrc);
			s->max_seq = hdr.seq;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

static int pli_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				  struct xi_reader next, struct xi_reader *ret)
{
	struct pli_gen *g = pli_of(ic);
	struct pli_stream *s;

	if (!xi_stream_info_has_feedback(info, "nack", "pli")) {
		*ret = next;   /* pion: only streams that negotiated PLI */
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->gen = g;
	s->ssrc = info->ssrc;
	s->next_reader = next;
	pthread_mutex_lock(&g->lock);
	s->next = g->streams;
	g->streams = s;
	pthread_mutex_unlock(&g->lock);
	*ret = (struct xi_reader){ .read = pli_read, .ctx = s };
	return 0;
}

static void pli_unbind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	struct pli_gen *g = pli_of(ic);

	pthread_mutex_lock(&g->lock);
	for (struct pli_stream **it = &g->streams; *it; it = &(*it)->next)
		if ((*it)->ssrc == info->ssrc) {
			struct pli_stream *gone = *it;

			*it = gone->next;
			free(gone);
			break;
		}
	pthread_mutex_unlock(&g->lock);
}

static int pli_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
				struct xi_writer *ret)
{
	struct pli_gen *g = pli_of(ic);

	pthread_mutex_lock(&g->lock);
	g->writer = next;
	g->have_writer = true;
	pthread_mutex_unlock(&g->lock);
	*ret = next;
	return 0;
}

/* Every interval, a PLI for every stream that has sent something. */
static int pli_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct pli_gen *g = pli_of(ic);

	pthread_mutex_lock(&g->lock);
	if (!g->armed) {
		g->armed = true;
		g->due_ns = now_ns + g->cfg.interval_ns;
	} else if (now_ns >= g->due_ns) {
		g->due_ns = now_ns + g->cfg.interval_ns;
		for (struct pli_stream *s = g->streams; s; s = s->next)
			if (s->started)
				pli_send(g, s->ssrc);
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int pli_close(struct xi_interceptor *ic, unsigned flags)
{
	struct pli_gen *g = pli_of(ic);

	while (g->streams) {
		struct pli_stream *s = g->streams;

		g->streams = s->next;
		free(s);
	}
	pthread_mutex_destroy(&g->lock);
	free(g);
	return 0;
}

static const struct xi_interceptor_ops pli_ops = {
	.bind_rtcp_writer = pli_bind_rtcp_writer,
	.bind_remote_stream = pli_bind_remote_stream,
	.unbind_remote_stream = pli_unbind_remote_stream,
	.poll = pli_poll,
	.close = pli_close,
};

static int pli_new(const struct xi_factory *f, const void *config,
		   const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct pli_gen *g = calloc(1, sizeof(*g));
	uint32_t r = 0;

	if (!g)
		return -ENOMEM;
	memcpy(&g->cfg, config, sizeof(g->cfg));
	g->ic.ops = &pli_ops;
	pthread_mutex_init(&g->lock, NULL);
	g->sender_ssrc = g->cfg.sender_ssrc;
	while (!g->sender_ssrc) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = 0x5eed;
		g->sender_ssrc = r;
	}
	*ret = &g->ic;
	return 0;
}

static const struct xi_config_key pli_keys[] = {
	{ .name = "interval", .type = XI_CFG_DURATION,
	  .offset = offsetof(struct pli_cfg, interval_ns), .def = "3s", .min = 1000000,
	  .max = 3600000000000ull, .help = "time between PLIs of each stream" },
	{ .name = "gap", .type = XI_CFG_U32, .offset = offsetof(struct pli_cfg, gap),
	  .def = "0", .max = 32767,
	  .help = "send a PLI at once when more than this many packets are missing (0: never)" },
	{ .name = "sender-ssrc", .type = XI_CFG_U32,
	  .offset = offsetof(struct pli_cfg, sender_ssrc), .def = "0",
	  .help = "SSRC the PLIs are sent from (0: random)" },
	{ .name = NULL },
};

static const struct xi_factory pli_factory = {
	.name = "pli-generator",
	.description = "sends RFC 4585 PLI every interval and on sequence gaps (pion's intervalpli)",
	.kind = XI_KIND_USERSPACE,
	.keys = pli_keys,
	.config_size = sizeof(struct pli_cfg),
	.new_interceptor = pli_new,
	.flags = XI_FACTORY_OBSERVES,
	.version_major = 1,
	.version_minor = 0,
};

int xicept_plugin_init(struct xi_catalog *cat, const struct xi_plugin_info *info)
{
	return xi_catalog_register(cat, &pli_factory);
}
