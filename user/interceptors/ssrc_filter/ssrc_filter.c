// SPDX-License-Identifier: MIT
/*
 * ssrc-filter: a connection's allow list or deny list of SSRCs, applied to
 * the SSRC of RTP and the sender SSRC of RTCP. Its stage is xi_ssrc_filter.
 *
 * Built with a dataplane, it writes its mode (xi_ssrc_filters, a slot per
 * connection) and its list
 * (xi_ssrc_lists) for the connection, and XDP does the filtering; its reader
 * only runs when the stage sits after a userspace element, and then counts
 * drops in the same xi_ssrc_drops and xi_conn_drops entries XDP uses: in
 * memory first, written by its poll (every 10 ms at most), by close and
 * before xi_ssrc_filter_dropped reads them, so that a drop costs no system
 * call. Built without one, the C twin filters and counts in
 * memory.
 *
 * One ssrc-filter per connection: the map entries are keyed by connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include <xicept/abi.h>
#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/registry.h>
#include <xicept/stream.h>

#include "user/interceptors/ssrc_filter/twin.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"

enum sf_mode {
	SF_ALLOW = 0,   /* index into sf_mode_choices */
	SF_DENY = 1,
};

struct sf_cfg {
	uint32_t mode;              /* enum sf_mode */
	struct xi_u32_list ssrc;
};

/* Drops the reader counted and the maps do not have yet, by SSRC, written
 * every SF_FLUSH_NS at most: a write is two system calls a counter, so one
 * per engine batch still cost more than a small batch's packets (perf). */
#define SF_PENDING_MAX 16
#define SF_FLUSH_NS    (10 * 1000 * 1000ull)

struct sf_pending {
	uint32_t ssrc;
	struct xi_drop_count n;
};

struct ssrc_filter {
	struct xi_interceptor ic;
	struct sf_cfg cfg;
	const struct xi_factory *f;
	struct xi_dataplane *dp;    /* NULL: the twin's counts are the only ones */
	uint32_t conn_id;
	struct xi_twin_ssrc_filter *twin;
	struct xi_stage_reader *readers;
	struct sf_pending pending[SF_PENDING_MAX];
	unsigned n_pending;
	struct xi_drop_count conn_pending;
	uint64_t flushed_ns;        /* the last poll that wrote them */
};

static const struct xi_interceptor_ops sf_ops;

/* The stage's maps (ssrc_filter.bpf.c), as its descriptor lists them. */
enum sf_map {
	SF_MAP_FILTERS,             /* conn id -> struct xi_ssrc_filter */
	SF_MAP_LISTS,               /* (conn, ssrc) -> struct xi_ssrc_entry */
	SF_MAP_DROPS,               /* (conn, ssrc) -> struct xi_drop_count */
	SF_MAP_CONN_DROPS,          /* conn id -> struct xi_drop_count */
};

static int sf_fd(const struct ssrc_filter *sf, enum sf_map map)
{
	return xi_dataplane_stage_map_fd(sf->dp, sf->f, map);
}

static enum xi_ssrc_mode sf_abi_mode(const struct sf_cfg *cfg)
{
	return cfg->mode == SF_DENY ? XI_SSRC_MODE_DENY : XI_SSRC_MODE_ALLOW;
}

static struct ssrc_filter *sf_of(struct xi_interceptor *ic)
{
	return ic && ic->ops == &sf_ops ? xi_container_of(ic, struct ssrc_filter, ic) : NULL;
}

/* The connection's list entries for the configured SSRCs. */
static void sf_list_delete(struct ssrc_filter *sf, size_t n)
{
	int fd = sf_fd(sf, SF_MAP_LISTS);

	for (size_t i = 0; i < n; i++) {
		struct xi_stream_key key = { .conn_id = sf->conn_id, .ssrc = sf->cfg.ssrc.v[i] };

		bpf_map_delete_elem(fd, &key);
	}
}

/* The connection's mode slot, if no other filter holds it: -EEXIST for a
 * second ssrc-filter in the chain. -ENOSPC past the table's slots. */
static int sf_mode_claim(struct ssrc_filter *sf, const struct xi_ssrc_filter *val)
{
	int fd = sf_fd(sf, SF_MAP_FILTERS);
	struct xi_ssrc_filter cur;

	if (bpf_map_lookup_elem(fd, &sf->conn_id, &cur))
		return errno == ENOENT ? -ENOSPC : -errno;
	if (cur.mode != XI_SSRC_MODE_OFF)
		return -EEXIST;
	return bpf_map_update_elem(fd, &sf->conn_id, val, BPF_EXIST) ? -errno : 0;
}

/* The list first, the mode last: XDP filters nothing until both exist. */
static int sf_maps_write(struct ssrc_filter *sf)
{
	struct xi_ssrc_filter val = { .mode = sf_abi_mode(&sf->cfg) };
	int lists = sf_fd(sf, SF_MAP_LISTS), r;
	struct xi_ssrc_entry e;

	for (uint32_t i = 0; i < sf->cfg.ssrc.n; i++) {
		struct xi_stream_key key = { .conn_id = sf->conn_id, .ssrc = sf->cfg.ssrc.v[i] };

		e.ssrc = key.ssrc;
		if (bpf_map_update_elem(lists, &key, &e, BPF_ANY)) {
			/* A full map: conn_add names the option that sizes it. */
			int r = errno == E2BIG ? -ENOSPC : -errno;

			sf_list_delete(sf, i);
			return r;
		}
	}
	r = sf_mode_claim(sf, &val);
	if (r) {
		/* Only SSRCs listed twice by two filters would be shared; the
		 * first filter's close removes those. */
		sf_list_delete(sf, sf->cfg.ssrc.n);
		return r;
	}
	return 0;
}

static void sf_maps_remove(struct ssrc_filter *sf)
{
	struct xi_ssrc_filter off = { XI_SSRC_MODE_OFF };

	sf_list_delete(sf, sf->cfg.ssrc.n);
	bpf_map_update_elem(sf_fd(sf, SF_MAP_FILTERS), &sf->conn_id, &off, BPF_EXIST);
	xi_dataplane_delete_conn_streams(sf_fd(sf, SF_MAP_DROPS), sf->conn_id);
	bpf_map_delete_elem(sf_fd(sf, SF_MAP_CONN_DROPS), &sf->conn_id);
}

/* Adds what is pending to a drop counter, creating it at zero: the
 * reader's drops go where XDP's go. Not atomic with XDP's adds; XDP never
 * runs this stage for a connection whose ssrc-filter runs in userspace. */
static void sf_count(int fd, const void *key, const struct xi_drop_count *n)
{
	const uint64_t add[2] = { n->packets, n->bytes };   /* struct xi_drop_count */

	xi_percpu_add(fd, key, add, 2);
}

/* What the reader counted, into the maps. */
static void sf_flush(struct ssrc_filter *sf)
{
	if (!sf->conn_pending.packets)
		return;
	for (unsigned i = 0; i < sf->n_pending; i++) {
		struct xi_stream_key key = { .conn_id = sf->conn_id, .ssrc = sf->pending[i].ssrc };

		sf_count(sf_fd(sf, SF_MAP_DROPS), &key, &sf->pending[i].n);
	}
	sf_count(sf_fd(sf, SF_MAP_CONN_DROPS), &sf->conn_id, &sf->conn_pending);
	sf->n_pending = 0;
	sf->conn_pending = (struct xi_drop_count){ 0 };
}

static void sf_pend(struct ssrc_filter *sf, uint32_t ssrc, uint32_t bytes)
{
	unsigned i;

	for (i = 0; i < sf->n_pending && sf->pending[i].ssrc != ssrc; i++)
		;
	if (i == SF_PENDING_MAX) {
		sf_flush(sf);
		i = 0;
	}
	if (i == sf->n_pending)
		sf->pending[sf->n_pending++] = (struct sf_pending){ .ssrc = ssrc };
	sf->pending[i].n.packets++;
	sf->pending[i].n.bytes += bytes;
	sf->conn_pending.packets++;
	sf->conn_pending.bytes += bytes;
}

static enum xi_action sf_run(void *owner, struct xi_pkt_ctx *pc)
{
	struct ssrc_filter *sf = owner;

	pc->conn_id = sf->conn_id;
	if (xi_twin_ssrc_filter_run(sf->twin, pc) != XI_ACT_DROP)
		return XI_ACT_PASS;
	if (sf->dp)
		sf_pend(sf, pc->ssrc, pc->payload_len);
	return XI_ACT_DROP;
}

static int sf_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct ssrc_filter *sf = sf_of(ic);

	if (now_ns - sf->flushed_ns >= SF_FLUSH_NS) {
		sf_flush(sf);
		sf->flushed_ns = now_ns;
	}
	return 0;
}

static int sf_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			       struct xi_reader *ret)
{
	struct ssrc_filter *sf = sf_of(ic);

	return xi_stage_reader_add(&sf->readers, next, sf, sf_run, 0, true, ret);
}

static int sf_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				 struct xi_reader next, struct xi_reader *ret)
{
	struct ssrc_filter *sf = sf_of(ic);

	return xi_stage_reader_add(&sf->readers, next, sf, sf_run, info->ssrc, false, ret);
}

static void sf_unbind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	xi_stage_reader_remove(&sf_of(ic)->readers, info->ssrc);
}

static int sf_close(struct xi_interceptor *ic, unsigned flags)
{
	struct ssrc_filter *sf = sf_of(ic);

	if (sf->dp)
		sf_flush(sf);
	if (sf->dp && (flags & XI_CLOSE_REMOVE_STATE))
		sf_maps_remove(sf);
	xi_stage_readers_free(&sf->readers);
	xi_twin_ssrc_filter_free(sf->twin);
	free(sf);
	return 0;
}

static const struct xi_interceptor_ops sf_ops = {
	.bind_rtcp_reader = sf_bind_rtcp_reader,
	.bind_rtcp_writer = xi_noop_bind_rtcp_writer,
	.bind_local_stream = xi_noop_bind_local_stream,
	.unbind_local_stream = xi_noop_unbind_local_stream,
	.bind_remote_stream = sf_bind_remote_stream,
	.unbind_remote_stream = sf_unbind_remote_stream,
	.poll = sf_poll,
	.close = sf_close,
};

static int sf_new(const struct xi_factory *f, const void *config,
		  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct ssrc_filter *sf = calloc(1, sizeof(*sf));
	int r;

	if (!sf)
		return -ENOMEM;
	memcpy(&sf->cfg, config, sizeof(sf->cfg));
	sf->ic.ops = &sf_ops;
	sf->f = f;
	sf->dp = ctx ? ctx->dp : NULL;
	sf->conn_id = ctx ? ctx->conn_id : 0;
	r = xi_twin_ssrc_filter_new(sf_abi_mode(&sf->cfg), sf->cfg.ssrc.v, sf->cfg.ssrc.n,
				    &sf->twin);
	if (!r && sf->dp && (ctx->flags & XI_BUILD_WRITE_STATE))
		r = sf_maps_write(sf);
	if (r) {
		xi_twin_ssrc_filter_free(sf->twin);
		free(sf);
		return r;
	}
	*ret = &sf->ic;
	return 0;
}

int xi_ssrc_filter_dropped(struct xi_interceptor *ic, uint32_t ssrc, uint64_t *ret_packets)
{
	struct ssrc_filter *sf = sf_of(ic);
	struct xi_stream_key key;
	uint64_t n[2];   /* struct xi_drop_count */
	int r;

	if (!sf || !ret_packets)
		return -EINVAL;
	if (!sf->dp)
		return xi_twin_ssrc_filter_ssrc_drops(sf->twin, ssrc, ret_packets);
	sf_flush(sf);
	key = (struct xi_stream_key){ .conn_id = sf->conn_id, .ssrc = ssrc };
	r = xi_percpu_sum(sf_fd(sf, SF_MAP_DROPS), &key, n, 2);
	if (r)
		return r;
	*ret_packets = n[0];
	return 0;
}

static const char *const sf_mode_choices[] = { "allow", "deny", NULL };

static const struct xi_config_key sf_keys[] = {
	{ .name = "mode", .type = XI_CFG_ENUM, .offset = offsetof(struct sf_cfg, mode),
	  .def = "allow", .choices = sf_mode_choices,
	  .help = "allow: pass only the listed SSRCs; deny: drop the listed SSRCs" },
	{ .name = "ssrc", .type = XI_CFG_U32_LIST, .offset = offsetof(struct sf_cfg, ssrc),
	  .help = "the SSRCs of the list (RTP SSRC, RTCP sender SSRC)" },
	{ .name = NULL },
};

static const struct xi_stage_map sf_maps[] = {
	[SF_MAP_FILTERS] = { "xi_ssrc_filters", XI_STAGE_KEY_CONN },
	[SF_MAP_LISTS] = { "xi_ssrc_lists", XI_STAGE_KEY_STREAM },
	[SF_MAP_DROPS] = { "xi_ssrc_drops", XI_STAGE_KEY_STREAM },
	[SF_MAP_CONN_DROPS] = { "xi_conn_drops", XI_STAGE_KEY_CONN },
	{ NULL },
};

static const struct xi_stat_def sf_schema[] = {
	{ "dropped", XI_STAT_COUNTER,
	  "RTP packets ssrc-filter dropped.",
	  "DROPPED", "xicept_dropped_packets_total", 70 },
	{ "dropped_bytes", XI_STAT_COUNTER, "Bytes of the packets ssrc-filter dropped." },
	{ NULL },
};

static void sf_stats_fields(const void *value, struct xi_ssrc_stats *s)
{
	const struct xi_drop_count *d = value;

	xi_ssrc_stats_set(s, "dropped", (int64_t)d->packets);
	xi_ssrc_stats_set(s, "dropped_bytes", (int64_t)d->bytes);
}

static const struct xi_stage_stats sf_stats = {
	.map = SF_MAP_DROPS,
	.value_size = sizeof(struct xi_drop_count),
	.percpu = true,
	.schema = sf_schema,
	.fields = sf_stats_fields,
};

const struct xi_stage xi_stage_ssrc_filter = {
	.sz = sizeof(struct xi_stage),
	.name = "ssrc-filter",
	.slot = XI_STAGE_SSRC_FILTER,
	.prog = "xi_ssrc_filter",
	.egress_prog = "xi_ssrc_filter_tc",
	.maps = sf_maps,
	.stats = &sf_stats,
};

static const struct xi_factory ssrc_filter_factory = {
	.name = "ssrc-filter",
	.description = "drops RTP and RTCP by SSRC, with an allow list or a deny list",
	.kind = XI_KIND_XDP,
	.stage = &xi_stage_ssrc_filter,
	.keys = sf_keys,
	.config_size = sizeof(struct sf_cfg),
	.new_interceptor = sf_new,
};

XI_CATALOG_REGISTER(ssrc_filter_factory)
