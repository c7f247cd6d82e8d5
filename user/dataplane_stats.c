// SPDX-License-Identifier: MIT
/*
 * Reading the counters back: header-stats and ssrc-filter keep theirs in
 * separate maps, keyed the same way, and an operator wants them side by side
 * per (connection, SSRC); the reason counters are per CPU and are summed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/dataplane.h>

#include "user/dataplane_internal.h"

static const char *const reason_names[] = {
	[XI_REASON_NOT_IP] = "not_ip",
	[XI_REASON_TRUNCATED] = "truncated",
	[XI_REASON_BAD_IP] = "bad_ip",
	[XI_REASON_FRAGMENT] = "fragment",
	[XI_REASON_IPV6_EXT_LIMIT] = "ipv6_ext_limit",
	[XI_REASON_NOT_UDP] = "not_udp",
	[XI_REASON_BAD_UDP] = "bad_udp",
	[XI_REASON_UNKNOWN_FLOW] = "unknown_flow",
	[XI_REASON_NO_CONN] = "no_conn",
	[XI_REASON_STUN] = "stun",
	[XI_REASON_DTLS] = "dtls",
	[XI_REASON_OTHER] = "other",
	[XI_REASON_BAD_RTP] = "bad_rtp",
	[XI_REASON_RTP] = "rtp",
	[XI_REASON_RTCP] = "rtcp",
	[XI_REASON_SSRC_DROP] = "ssrc_drop",
	[XI_REASON_TAILCALL_FAIL] = "tailcall_fail",
	[XI_REASON_STATS_FULL] = "stats_full",
	[XI_REASON_CHAIN_END] = "chain_end",
	[XI_REASON_NO_DAEMON] = "no_daemon",
};

_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == XI_REASON__MAX,
	       "every enum xi_reason needs a name");

size_t xi_reason_count(void)
{
	return XI_REASON__MAX;
}

const char *xi_reason_name(size_t reason)
{
	return reason < XI_REASON__MAX ? reason_names[reason] : NULL;
}

int xi_dataplane_reasons(struct xi_dataplane *dp, uint64_t *counts, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (!dp || !counts || n < XI_REASON__MAX)
		return -EINVAL;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < XI_REASON__MAX; i++) {
		if (bpf_map_lookup_elem(dp->map_fds[XI_DP_REASONS], &i, vals)) {
			int r = -errno;

			free(vals);
			return r;
		}
		counts[i] = 0;
		for (int c = 0; c < ncpu; c++)
			counts[i] += vals[c];
	}
	free(vals);
	return 0;
}

/* header-stats and ssrc-filter fill disjoint fields of one (conn, ssrc). */
struct stats_vec {
	struct xi_ssrc_stats *v;
	size_t n, cap;
};

/* A new zeroed entry of (conn, ssrc); NULL: no memory. */
static struct xi_ssrc_stats *stats_add(struct stats_vec *sv, uint32_t conn, uint32_t ssrc)
{
	struct xi_ssrc_stats *s;

	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 16;

		s = realloc(sv->v, cap * sizeof(*s));
		if (!s)
			return NULL;
		sv->v = s;
		sv->cap = cap;
	}
	s = &sv->v[sv->n++];
	memset(s, 0, sizeof(*s));
	s->conn_id = conn;
	s->ssrc = ssrc;
	return s;
}

/* RFC 3550 A.3 from the A.1 state, in 64 bits; nothing until the source
 * has left probation, as the RFC's receiver counts nothing before. */
static void stats_from_stream(struct xi_ssrc_stats *s, const struct xi_stream_stats *v)
{
	s->packets = v->packets;
	s->header_bytes = v->header_bytes;
	s->payload_bytes = v->payload_bytes;
	s->bytes = v->header_bytes + v->payload_bytes;
	s->rtp_packets = v->rtp_packets;
	s->rtcp_packets = v->rtcp_packets;
	s->markers = v->markers;
	s->payload_type = v->payload_type;
	s->clock_rate = v->clock_rate;
	s->jitter = v->jitter;
	s->first_ns = v->first_arrival_ns;
	s->last_ns = v->last_arrival_ns;
	if (!v->seq_started || v->probation)
		return;
	s->ext_highest_seq = v->ext_max_seq;
	s->expected = (uint64_t)v->ext_max_seq - v->base_seq + 1;
	s->lost = (int64_t)s->expected - (int64_t)v->received;
}

static int stats_read_streams(struct xi_dataplane *dp, uint32_t conn, struct stats_vec *sv)
{
	int fd = dp->map_fds[XI_DP_STREAM_STATS];
	struct xi_stream_stats v;
	struct xi_stream_key key;

	for (int e = bpf_map_get_next_key(fd, NULL, &key); !e;
	     e = bpf_map_get_next_key(fd, &key, &key)) {
		struct xi_ssrc_stats *s;

		if (conn != XI_CONN_ANY && key.conn_id != conn)
			continue;
		/* BPF_F_LOCK: a consistent copy while packets update it. */
		if (bpf_map_lookup_elem_flags(fd, &key, &v, BPF_F_LOCK))
			continue;   /* deleted meanwhile */
		s = stats_add(sv, key.conn_id, key.ssrc);
		if (!s)
			return -ENOMEM;
		stats_from_stream(s, &v);
	}
	return 0;
}

static int stats_cmp(const void *a, const void *b)
{
	const struct xi_ssrc_stats *x = a, *y = b;

	if (x->conn_id != y->conn_id)
		return x->conn_id < y->conn_id ? -1 : 1;
	return x->ssrc < y->ssrc ? -1 : x->ssrc > y->ssrc;
}

/* sv holds the sorted stream entries; drops of an SSRC with no stream entry
 * (header-stats not in the chain, or before the filter) get their own. */
static int stats_read_drops(struct xi_dataplane *dp, uint32_t conn, struct stats_vec *sv)
{
	int fd = dp->map_fds[XI_DP_SSRC_DROPS];
	struct xi_ssrc_stats probe;
	size_t n_streams = sv->n;
	struct xi_stream_key key;
	struct xi_drop_count v;

	for (int e = bpf_map_get_next_key(fd, NULL, &key); !e;
	     e = bpf_map_get_next_key(fd, &key, &key)) {
		struct xi_ssrc_stats *s;

		if (conn != XI_CONN_ANY && key.conn_id != conn)
			continue;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		probe.conn_id = key.conn_id;
		probe.ssrc = key.ssrc;
		s = bsearch(&probe, sv->v, n_streams, sizeof(*s), stats_cmp);
		if (!s)
			s = stats_add(sv, key.conn_id, key.ssrc);
		if (!s)
			return -ENOMEM;
		s->dropped = v.packets;
		s->dropped_bytes = v.bytes;
	}
	return 0;
}

int xi_dataplane_ssrc_stats(struct xi_dataplane *dp, uint32_t conn_id,
			    struct xi_ssrc_stats **ret, size_t *ret_n)
{
	struct stats_vec sv = { 0 };
	int r;

	if (!dp || !ret || !ret_n)
		return -EINVAL;
	r = stats_read_streams(dp, conn_id, &sv);
	if (!r && sv.n)
		qsort(sv.v, sv.n, sizeof(*sv.v), stats_cmp);
	if (!r)
		r = stats_read_drops(dp, conn_id, &sv);
	if (r) {
		free(sv.v);
		return r;
	}
	if (sv.n)
		qsort(sv.v, sv.n, sizeof(*sv.v), stats_cmp);
	*ret = sv.v;
	*ret_n = sv.n;
	return 0;
}
