// SPDX-License-Identifier: MIT
/*
 * pt-filter, an example xicept plugin: an XDP stage that drops RTP whose
 * payload type is not in an allow list (`pt=96,111`), with drop counters
 * per (connection, SSRC) in `xicept stats` and per (connection, payload
 * type) in the pinned map p<SLOT>_ptf_pt_drops. Its stage program is
 * pt-filter.bpf.c, loaded from pt-filter.bpf.o beside this .so.
 *
 * Built against the installed library only:
 *   cc -shared -fPIC -o pt-filter.so pt-filter.c $(pkg-config --cflags --libs xicept)
 *
 * Like every XDP-kind interceptor it has a C twin: placed after a userspace
 * element, it filters in the daemon with the same rule (counted in memory).
 * PTF_MINOR builds other versions of the same source (1.PTF_MINOR).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include <xicept/abi.h>       /* struct xi_stream_key */
#include <xicept/xicept.h>
#include <xicept/plugin.h>

#include "pt_filter.h"

#ifndef PTF_MINOR
#define PTF_MINOR 0
#endif

XI_PLUGIN_DEFINE_ABI

enum { PTF_MAP_CONNS, PTF_MAP_ALLOW, PTF_MAP_DROPS, PTF_MAP_PT_DROPS };

struct ptf_cfg {
	struct xi_u32_list pt;
};

struct ptf_stream {
	struct ptf_stream *next;
	struct pt_filter *owner;
	uint32_t ssrc;
	struct xi_reader next_reader;
};

struct pt_filter {
	struct xi_interceptor ic;
	const struct xi_factory *f;
	struct ptf_cfg cfg;
	struct xi_dataplane *dp;
	uint32_t conn_id;
	bool allowed[128];
	struct ptf_stream *streams;
	uint64_t twin_drops;          /* drops of the C twin, in the daemon */
};

static bool ptf_allowed(const struct pt_filter *p, uint8_t pt)
{
	return pt < 128 && p->allowed[pt];
}

static int ptf_fd(struct pt_filter *p, unsigned map)
{
	return xi_dataplane_stage_map_fd(p->dp, p->f, map);
}

static void ptf_maps_remove(struct pt_filter *p)
{
	struct xi_stream_key sk = { 0 }, next = { 0 };
	int drops = ptf_fd(p, PTF_MAP_DROPS);

	bpf_map_delete_elem(ptf_fd(p, PTF_MAP_CONNS), &p->conn_id);
	for (uint32_t pt = 0; pt < 128; pt++) {
		struct ptf_key k = { p->conn_id, pt };

		bpf_map_delete_elem(ptf_fd(p, PTF_MAP_ALLOW), &k);
		bpf_map_delete_elem(ptf_fd(p, PTF_MAP_PT_DROPS), &k);
	}
	/* Collect, then delete: deleting while walking may restart the walk. */
	for (int more = !bpf_map_get_next_key(drops, NULL, &next); more;) {
		sk = next;
		more = !bpf_map_get_next_key(drops, &sk, &next);
		if (sk.conn_id == p->conn_id)
			bpf_map_delete_elem(drops, &sk);
	}
}

/* The list first, the switch last: XDP filters nothing until both exist. */
static int ptf_maps_write(struct pt_filter *p)
{
	uint32_t one = 1;
	int allow = ptf_fd(p, PTF_MAP_ALLOW), conns = ptf_fd(p, PTF_MAP_CONNS);

	if (allow < 0)
		return allow;
	if (conns < 0)
		return conns;
	for (uint32_t i = 0; i < p->cfg.pt.n; i++) {
		struct ptf_key k = { p->conn_id, p->cfg.pt.v[i] };

		if (bpf_map_update_elem(allow, &k, &one, BPF_ANY))
			goto fail;
	}
	if (bpf_map_update_elem(conns, &p->conn_id, &one, BPF_NOEXIST))
		goto fail;
	return 0;
fail:
	{
		int r = -errno;

		ptf_maps_remove(p);
		return r;
	}
}

static struct pt_filter *ptf_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct pt_filter, ic);
}

/* The twin: the same rule on a packet read in userspace. */
static ssize_t ptf_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct ptf_stream *s = ctx;
	struct xi_rtp_header hdr;
	ssize_t n = xi_reader_read(s->next_reader, buf, cap, attrs);

	if (n <= 0 || xi_rtp_header_parse(buf, (size_t)n, &hdr))
		return n;
	if (ptf_allowed(s->owner, hdr.payload_type))
		return n;
	__atomic_add_fetch(&s->owner->twin_drops, 1, __ATOMIC_RELAXED);
	return 0;
}

static int ptf_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				  struct xi_reader next, struct xi_reader *ret)
{
	struct pt_filter *p = ptf_of(ic);
	struct ptf_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->owner = p;
	s->ssrc = info->ssrc;
	s->next_reader = next;
	s->next = p->streams;
	p->streams = s;
	*ret = (struct xi_reader){ .read = ptf_read, .ctx = s };
	return 0;
}

static void ptf_unbind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	struct pt_filter *p = ptf_of(ic);

	for (struct ptf_stream **it = &p->streams; *it; it = &(*it)->next)
		if ((*it)->ssrc == info->ssrc) {
			struct ptf_stream *gone = *it;

			*it = gone->next;
			free(gone);
			return;
		}
}

static int ptf_close(struct xi_interceptor *ic, unsigned flags)
{
	struct pt_filter *p = ptf_of(ic);

	if (p->dp && (flags & XI_CLOSE_REMOVE_STATE))
		ptf_maps_remove(p);
	while (p->streams) {
		struct ptf_stream *s = p->streams;

		p->streams = s->next;
		free(s);
	}
	free(p);
	return 0;
}

static const struct xi_interceptor_ops ptf_ops = {
	.bind_remote_stream = ptf_bind_remote_stream,
	.unbind_remote_stream = ptf_unbind_remote_stream,
	.close = ptf_close,
};

static int ptf_new(const struct xi_factory *f, const void *config,
		   const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct pt_filter *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return -ENOMEM;
	p->ic.ops = &ptf_ops;
	p->f = f;
	memcpy(&p->cfg, config, sizeof(p->cfg));
	p->dp = ctx ? ctx->dp : NULL;
	p->conn_id = ctx ? ctx->conn_id : 0;
	for (uint32_t i = 0; i < p->cfg.pt.n; i++)
		p->allowed[p->cfg.pt.v[i]] = true;
	if (p->dp && (ctx->flags & XI_BUILD_WRITE_STATE))
		r = ptf_maps_write(p);
	if (r) {
		free(p);
		return r;
	}
	*ret = &p->ic;
	return 0;
}

static const struct xi_config_key ptf_keys[] = {
	{ .name = "pt", .type = XI_CFG_U32_LIST, .offset = offsetof(struct ptf_cfg, pt),
	  .max = 127, .flags = XI_CFG_F_REQUIRED,
	  .help = "the RTP payload types to let through; any other is dropped" },
	{ .name = NULL },
};

static void ptf_stats_fields(const void *value, struct xi_ssrc_stats *s)
{
	const struct ptf_count *c = value;

	xi_ssrc_stats_set(s, "dropped", (int64_t)c->packets);
	xi_ssrc_stats_set(s, "dropped_bytes", (int64_t)c->bytes);
}

static const struct xi_stage_map ptf_maps[] = {
	[PTF_MAP_CONNS] = { "ptf_conns", XI_STAGE_KEY_CONN },
	[PTF_MAP_ALLOW] = { "ptf_allow", XI_STAGE_KEY_NONE },
	[PTF_MAP_DROPS] = { "ptf_drops", XI_STAGE_KEY_STREAM },
	[PTF_MAP_PT_DROPS] = { "ptf_pt_drops", XI_STAGE_KEY_NONE },
	{ NULL },
};

static const struct xi_stat_def ptf_schema[] = {
	{ "dropped", XI_STAT_COUNTER,
	  "RTP packets pt-filter dropped.",
	  "DROPPED", "xicept_dropped_packets_total", 70 },
	{ "dropped_bytes", XI_STAT_COUNTER, "Bytes of the RTP packets pt-filter dropped." },
	{ NULL },
};

static const struct xi_stage_stats ptf_stats = {
	.map = PTF_MAP_DROPS,
	.value_size = sizeof(struct ptf_count),
	.percpu = true,
	.schema = ptf_schema,
	.fields = ptf_stats_fields,
};

/* The same struct a built-in stage fills in, with a slot of any free one
 * and the object beside the .so. */
static const struct xi_stage ptf_stage = {
	.sz = sizeof(ptf_stage),
	.name = "pt-filter",
	.slot = XI_STAGE_SLOT_ANY,
	.object = "pt-filter.bpf.o",
	.prog = "xi_pt_filter",
	.maps = ptf_maps,
	.stats = &ptf_stats,
};

static const struct xi_factory ptf_factory = {
	.name = "pt-filter",
	.description = "drops RTP whose payload type is not in an allow list (XDP, plugin)",
	.kind = XI_KIND_XDP,
	.stage = &ptf_stage,
	.keys = ptf_keys,
	.config_size = sizeof(struct ptf_cfg),
	.new_interceptor = ptf_new,
	.version_major = 1,
	.version_minor = PTF_MINOR,
};

int xicept_plugin_init(struct xi_catalog *cat, const struct xi_plugin_info *info)
{
	return xi_catalog_register(cat, &ptf_factory);
}
