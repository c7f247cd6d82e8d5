// SPDX-License-Identifier: MIT
/*
 * header-stats: per (connection, SSRC) packet and byte counts, RFC 3550 A.1
 * sequence tracking, A.3 loss and A.8 jitter. Its stage is xi_header_stats.
 *
 * Built with a dataplane, it writes the connection's default clock rate into
 * its xi_conns value, and bind_remote_stream writes each stream's clock rate
 * (xi_clock_rates); XDP keeps the stats in xi_stream_stats. Its reader, used
 * when the stage sits after a userspace element, updates those same entries
 * under their lock, so every SSRC's stats are in one place whichever side
 * counted. Built without a dataplane, the C twin keeps them in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/dataplane.h>
#include <xicept/registry.h>
#include <xicept/stream.h>

#include "user/interceptors/header_stats/twin.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

struct hs_cfg {
	uint32_t clock_rate;        /* Hz, for SSRCs bound without one or not at all */
};

struct header_stats {
	struct xi_interceptor ic;
	struct hs_cfg cfg;
	const struct xi_factory *f;
	struct xi_dataplane *dp;
	uint32_t conn_id;
	struct xi_twin_header_stats *twin;   /* NULL with a dataplane */
	struct xi_stage_reader *readers;
};

static const struct xi_interceptor_ops hs_ops;

/* The stage's maps (header_stats.bpf.c), as its descriptor lists them. */
enum hs_map {
	HS_MAP_CLOCK_RATES,         /* (conn, ssrc) -> struct xi_clock_rate */
	HS_MAP_STREAM_STATS,        /* (conn, ssrc) -> struct xi_stream_stats */
	HS_MAP_LOCAL_STATS,         /* (conn, ssrc) -> struct xi_local_stats: packets leaving */
	HS_MAP_CONNS,               /* conn id -> struct xi_hs_conn: some stream has a rate */
};

static int hs_fd(const struct header_stats *hs, enum hs_map map)
{
	return xi_dataplane_stage_map_fd(hs->dp, hs->f, map);
}

static struct header_stats *hs_of(struct xi_interceptor *ic)
{
	return ic && ic->ops == &hs_ops ? xi_container_of(ic, struct header_stats, ic) : NULL;
}

/* The pinned entry, under its lock, so XDP on another CPU never sees half
 * an update. */
static void hs_run_map(struct header_stats *hs, struct xi_pkt_ctx *pc)
{
	struct xi_stream_key key = { .conn_id = hs->conn_id, .ssrc = pc->ssrc };
	int fd = hs_fd(hs, HS_MAP_STREAM_STATS);
	struct xi_clock_rate cr;
	struct xi_stream_stats s;
	uint32_t rate = pc->default_clock_rate;

	if (bpf_map_lookup_elem(hs_fd(hs, HS_MAP_CLOCK_RATES), &key, &cr) == 0)
		rate = cr.clock_rate;
	if (bpf_map_lookup_elem_flags(fd, &key, &s, BPF_F_LOCK)) {
		memset(&s, 0, sizeof(s));
		s.conn_id = key.conn_id;
		s.ssrc = key.ssrc;
	}
	xi_twin_stream_stats_update(&s, pc, rate);
	bpf_map_update_elem(fd, &key, &s, BPF_F_LOCK);
}

static enum xi_action hs_run(void *owner, struct xi_pkt_ctx *pc)
{
	struct header_stats *hs = owner;

	pc->conn_id = hs->conn_id;
	pc->default_clock_rate = hs->cfg.clock_rate;
	if (hs->dp)
		hs_run_map(hs, pc);
	else
		xi_twin_header_stats_run(hs->twin, pc);   /* -ENOMEM: not counted, as a full map */
	return XI_ACT_PASS;
}

static int hs_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			       struct xi_reader *ret)
{
	struct header_stats *hs = hs_of(ic);

	return xi_stage_reader_add(&hs->readers, next, hs, hs_run, 0, true, ret);
}

static int hs_rate_bind(struct header_stats *hs, uint32_t ssrc, uint32_t rate)
{
	struct xi_stream_key key = { .conn_id = hs->conn_id, .ssrc = ssrc };
	struct xi_clock_rate cr = { .clock_rate = rate };
	const struct xi_hs_conn rated = { 1 };

	if (!hs->dp)
		return xi_twin_header_stats_bind(hs->twin, ssrc, rate);
	if (bpf_map_update_elem(hs_fd(hs, HS_MAP_CLOCK_RATES), &key, &cr, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	/* After the rate: a packet that sees the mark finds it. */
	if (bpf_map_update_elem(hs_fd(hs, HS_MAP_CONNS), &hs->conn_id, &rated, BPF_ANY))
		return -errno;
	return 0;
}

/* The kernel's entry stays: the connection's clock rates go with it, in
 * close with XI_CLOSE_REMOVE_STATE. */
static void hs_rate_unbind(struct header_stats *hs, uint32_t ssrc)
{
	if (!hs->dp)
		xi_twin_header_stats_unbind(hs->twin, ssrc);
}

/* A stream without a clock rate keeps the connection default. */
static int hs_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
				 struct xi_reader next, struct xi_reader *ret)
{
	struct header_stats *hs = hs_of(ic);
	int r = 0;

	if (info->clock_rate)
		r = hs_rate_bind(hs, info->ssrc, info->clock_rate);
	if (!r)
		r = xi_stage_reader_add(&hs->readers, next, hs, hs_run, info->ssrc, false, ret);
	if (r && info->clock_rate)
		hs_rate_unbind(hs, info->ssrc);
	return r;
}

static void hs_unbind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info)
{
	struct header_stats *hs = hs_of(ic);

	if (info->clock_rate)
		hs_rate_unbind(hs, info->ssrc);
	xi_stage_reader_remove(&hs->readers, info->ssrc);
}

static int hs_close(struct xi_interceptor *ic, unsigned flags)
{
	struct header_stats *hs = hs_of(ic);

	if (hs->dp && (flags & XI_CLOSE_REMOVE_STATE)) {
		const struct xi_hs_conn none = { 0 };

		xi_dataplane_delete_conn_streams(hs_fd(hs, HS_MAP_CLOCK_RATES), hs->conn_id);
		bpf_map_update_elem(hs_fd(hs, HS_MAP_CONNS), &hs->conn_id, &none, BPF_ANY);
		xi_dataplane_delete_conn_streams(hs_fd(hs, HS_MAP_STREAM_STATS), hs->conn_id);
	}
	xi_stage_readers_free(&hs->readers);
	xi_twin_header_stats_free(hs->twin);
	free(hs);
	return 0;
}

static const struct xi_interceptor_ops hs_ops = {
	.bind_rtcp_reader = hs_bind_rtcp_reader,
	.bind_rtcp_writer = xi_noop_bind_rtcp_writer,
	.bind_local_stream = xi_noop_bind_local_stream,
	.unbind_local_stream = xi_noop_unbind_local_stream,
	.bind_remote_stream = hs_bind_remote_stream,
	.unbind_remote_stream = hs_unbind_remote_stream,
	.close = hs_close,
};

static int hs_new(const struct xi_factory *f, const void *config,
		  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct header_stats *hs = calloc(1, sizeof(*hs));
	int r = 0;

	if (!hs)
		return -ENOMEM;
	memcpy(&hs->cfg, config, sizeof(hs->cfg));
	hs->ic.ops = &hs_ops;
	hs->f = f;
	hs->dp = ctx ? ctx->dp : NULL;
	hs->conn_id = ctx ? ctx->conn_id : 0;
	if (!hs->dp)
		r = xi_twin_header_stats_new(hs->conn_id, &hs->twin);
	else if (ctx->flags & XI_BUILD_WRITE_STATE)
		r = xi_dataplane_conn_set_clock_rate(hs->dp, hs->conn_id, hs->cfg.clock_rate);
	if (r) {
		free(hs);
		return r;
	}
	*ret = &hs->ic;
	return 0;
}

int xi_header_stats_get(struct xi_interceptor *ic, uint32_t ssrc, struct xi_stream_stats *ret)
{
	struct header_stats *hs = hs_of(ic);
	struct xi_stream_key key;

	if (!hs || !ret)
		return -EINVAL;
	if (!hs->dp)
		return xi_twin_header_stats_lookup(hs->twin, ssrc, ret);
	key = (struct xi_stream_key){ .conn_id = hs->conn_id, .ssrc = ssrc };
	if (bpf_map_lookup_elem_flags(hs_fd(hs, HS_MAP_STREAM_STATS), &key, ret,
				      BPF_F_LOCK))
		return errno == ENOENT ? -ENOENT : -errno;
	return 0;
}

static const struct xi_config_key hs_keys[] = {
	{ .name = "clock-rate", .type = XI_CFG_U32, .offset = offsetof(struct hs_cfg, clock_rate),
	  .def = "90000",
	  .help = "RTP clock rate (Hz) of SSRCs bound without one; 0: no jitter for them" },
	{ .name = NULL },
};

static const struct xi_stage_map hs_maps[] = {
	[HS_MAP_CLOCK_RATES] = { "xi_clock_rates", XI_STAGE_KEY_STREAM },
	[HS_MAP_STREAM_STATS] = { "xi_stream_stats", XI_STAGE_KEY_STREAM },
	[HS_MAP_LOCAL_STATS] = { "xi_local_stats", XI_STAGE_KEY_STREAM },
	[HS_MAP_CONNS] = { "xi_hs_conns", XI_STAGE_KEY_CONN },
	{ NULL },
};

static const struct xi_stat_def hs_schema[] = {
	{ "packets", XI_STAT_COUNTER,
	  "RTP packets seen by header-stats (its RTCP counts apart, in rtcp_packets).",
	  "PKTS", "xicept_packets_total", 10 },
	{ "bytes", XI_STAT_COUNTER,
	  "UDP payload bytes of those packets: header_bytes + payload_bytes + srtp_tag_bytes.",
	  "BYTES", "xicept_bytes_total", 20 },
	{ "header_bytes", XI_STAT_COUNTER,
	  "RTP header bytes of those packets (fixed header, CSRCs, extension, padding)." },
	{ "payload_bytes", XI_STAT_COUNTER,
	  "RTP payload bytes of those packets (on SRTP without the authentication tag).",
	  "PAYLOAD", "xicept_payload_bytes_total", 30 },
	{ "srtp_tag_bytes", XI_STAT_COUNTER,
	  "SRTP authentication tag and MKI bytes of those packets (0 on plain RTP)." },
	{ "rtp_packets", XI_STAT_COUNTER, "RTP packets counted in the sequence state." },
	{ "rtcp_packets", XI_STAT_COUNTER, "RTCP packets whose sender SSRC is this one." },
	{ "markers", XI_STAT_COUNTER, "RTP packets with the marker bit." },
	{ "payload_type", XI_STAT_LABEL, "The last RTP payload type seen." },
	{ "clock_rate", XI_STAT_LABEL, "The RTP clock rate used for jitter, Hz." },
	{ "expected", XI_STAT_GAUGE,
	  "Packets expected (RFC 3550 A.3: extended highest minus base sequence, plus one)." },
	{ "lost", XI_STAT_GAUGE,
	  "Cumulative packets lost (RFC 3550 A.3: expected minus received; may be negative).",
	  "LOST", "xicept_lost_packets", 40 },
	{ "ext_highest_seq", XI_STAT_GAUGE,
	  "Extended highest sequence number received (RFC 3550 A.1).",
	  "EXT-SEQ", "xicept_ext_highest_seq", 50 },
	{ "jitter", XI_STAT_GAUGE,
	  "Interarrival jitter (RFC 3550 A.8), in RTP timestamp units.",
	  "JITTER", "xicept_jitter", 60 },
	{ "first_ns", XI_STAT_LABEL, "Arrival of the first packet, CLOCK_MONOTONIC ns." },
	{ "last_ns", XI_STAT_LABEL, "Arrival of the last packet, CLOCK_MONOTONIC ns." },
	{ NULL },
};

/* RFC 3550 A.3 from the A.1 state, in 64 bits; nothing until the source
 * has left probation, as the RFC's receiver counts nothing before. */
static void hs_stats_fields(const void *value, struct xi_ssrc_stats *s)
{
	const struct xi_stream_stats *v = value;
	bool counted = v->seq_started && !v->probation;
	int64_t expected = counted ? (int64_t)v->ext_max_seq - v->base_seq + 1 : 0;

	xi_ssrc_stats_set(s, "packets", (int64_t)v->rtp_packets);   /* the map's packets has RTCP too */
	xi_ssrc_stats_set(s, "bytes", (int64_t)(v->header_bytes + v->payload_bytes + v->srtp_tag_bytes));
	xi_ssrc_stats_set(s, "header_bytes", (int64_t)v->header_bytes);
	xi_ssrc_stats_set(s, "payload_bytes", (int64_t)v->payload_bytes);
	xi_ssrc_stats_set(s, "srtp_tag_bytes", (int64_t)v->srtp_tag_bytes);
	xi_ssrc_stats_set(s, "rtp_packets", (int64_t)v->rtp_packets);
	xi_ssrc_stats_set(s, "rtcp_packets", (int64_t)v->rtcp_packets);
	xi_ssrc_stats_set(s, "markers", (int64_t)v->markers);
	xi_ssrc_stats_set(s, "payload_type", v->payload_type);
	xi_ssrc_stats_set(s, "clock_rate", v->clock_rate);
	xi_ssrc_stats_set(s, "expected", expected);
	xi_ssrc_stats_set(s, "lost", counted ? expected - (int64_t)v->received : 0);
	xi_ssrc_stats_set(s, "ext_highest_seq", counted ? v->ext_max_seq : 0);
	xi_ssrc_stats_set(s, "jitter", v->jitter);
	xi_ssrc_stats_set(s, "first_ns", (int64_t)v->first_arrival_ns);
	xi_ssrc_stats_set(s, "last_ns", (int64_t)v->last_arrival_ns);
}

static const struct xi_stage_stats hs_stats = {
	.map = HS_MAP_STREAM_STATS,
	.value_size = sizeof(struct xi_stream_stats),
	.locked = true,
	.schema = hs_schema,
	.fields = hs_stats_fields,
};

static const struct xi_stat_def local_schema[] = {
	{ "sent_packets", XI_STAT_COUNTER, "RTP packets of the local stream that left." },
	{ "sent_octets", XI_STAT_COUNTER,
	  "RTP payload octets of those packets (RFC 3550 sender's octet count)." },
	{ "sent_header_bytes", XI_STAT_COUNTER,
	  "RTP header bytes of those packets (fixed header, CSRCs, extension, padding)." },
	{ "sent_srtp_tag_bytes", XI_STAT_COUNTER,
	  "SRTP authentication tag and MKI bytes of those packets (0 on plain RTP)." },
	{ "sent_rtcp_packets", XI_STAT_COUNTER, "RTCP packets that left with this sender SSRC." },
	{ "last_rtp_ts", XI_STAT_LABEL, "RTP timestamp of the last packet that left." },
	{ "last_send_ns", XI_STAT_LABEL, "When the last packet left, CLOCK_MONOTONIC ns." },
	{ NULL },
};

static void local_fields(const void *value, struct xi_ssrc_stats *s)
{
	const struct xi_local_stats *v = value;

	xi_ssrc_stats_set(s, "sent_packets", (int64_t)v->rtp_packets);
	xi_ssrc_stats_set(s, "sent_octets", (int64_t)v->octets);
	xi_ssrc_stats_set(s, "sent_header_bytes", (int64_t)v->header_bytes);
	xi_ssrc_stats_set(s, "sent_srtp_tag_bytes", (int64_t)v->srtp_tag_bytes);
	xi_ssrc_stats_set(s, "sent_rtcp_packets", (int64_t)v->rtcp_packets);
	xi_ssrc_stats_set(s, "last_rtp_ts", v->last_rtp_ts);
	xi_ssrc_stats_set(s, "last_send_ns", (int64_t)v->last_send_ns);
}

static const struct xi_stage_stats hs_local_stats = {
	.map = HS_MAP_LOCAL_STATS,
	.value_size = sizeof(struct xi_local_stats),
	.locked = true,
	.local = true,   /* an SSRC with an entry here was seen leaving */
	.schema = local_schema,
	.fields = local_fields,
};

const struct xi_stage xi_stage_header_stats = {
	.sz = sizeof(struct xi_stage),
	.name = "header-stats",
	.slot = XI_STAGE_HEADER_STATS,
	.prog = "xi_header_stats",
	.egress_prog = "xi_header_stats_tc",
	.maps = hs_maps,
	.stats = &hs_stats,
	.stats2 = &hs_local_stats,
};

static const struct xi_factory header_stats_factory = {
	.name = "header-stats",
	.description = "counts RTP/RTCP per SSRC: packets, bytes, loss (RFC 3550 A.3), jitter (A.8)",
	.kind = XI_KIND_XDP,
	.stage = &xi_stage_header_stats,
	.keys = hs_keys,
	.config_size = sizeof(struct hs_cfg),
	.new_interceptor = hs_new,
	.flags = XI_FACTORY_OBSERVES,
};

XI_CATALOG_REGISTER(header_stats_factory)
