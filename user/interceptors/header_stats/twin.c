// SPDX-License-Identifier: MIT
/*
 * Twin of xi_header_stats (user/interceptors/header_stats/header_stats.bpf.c) for one connection: RFC
 * 3550 A.1 sequence tracking, A.3 loss, A.8 jitter. The field semantics are
 * documented with struct xi_stream_stats in header_stats_abi.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/interceptors/header_stats/twin.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

struct xi_twin_header_stats {
	uint32_t conn_id;
	struct xi_twin_table rates;   /* struct xi_clock_rate */
	struct xi_twin_table stats;   /* struct xi_stream_stats */
};

int xi_twin_header_stats_new(uint32_t conn_id, struct xi_twin_header_stats **ret)
{
	struct xi_twin_header_stats *hs = calloc(1, sizeof(*hs));

	if (!hs)
		return -ENOMEM;
	hs->conn_id = conn_id;
	xi_twin_table_init(&hs->rates, sizeof(struct xi_clock_rate));
	xi_twin_table_init(&hs->stats, sizeof(struct xi_stream_stats));
	*ret = hs;
	return 0;
}

void xi_twin_header_stats_free(struct xi_twin_header_stats *hs)
{
	if (!hs)
		return;
	xi_twin_table_fini(&hs->rates);
	xi_twin_table_fini(&hs->stats);
	free(hs);
}

int xi_twin_header_stats_bind(struct xi_twin_header_stats *hs, uint32_t ssrc,
			      uint32_t clock_rate)
{
	struct xi_clock_rate *cr = xi_twin_table_get(&hs->rates, ssrc);

	if (!cr)
		return -ENOMEM;
	cr->clock_rate = clock_rate;
	return 0;
}

void xi_twin_header_stats_unbind(struct xi_twin_header_stats *hs, uint32_t ssrc)
{
	xi_twin_table_remove(&hs->rates, ssrc);
}

static void seq_init(struct xi_stream_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = XI_RTP_SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
}

/* RFC 3550 A.1 update_seq(), with the probation successor taken mod 2^16. */
static int seq_update(struct xi_stream_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				seq_init(s, seq);
				s->received++;
				return 1;
			}
		} else {
			s->probation = XI_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return 0;
	}
	if (udelta < XI_MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += XI_RTP_SEQ_MOD;   /* wrapped */
		s->max_seq = seq;
	} else if (udelta <= XI_RTP_SEQ_MOD - XI_MAX_MISORDER) {
		if (seq != s->bad_seq) {
			s->bad_seq = (uint16_t)(seq + 1);
			return 0;
		}
		seq_init(s, seq);   /* two sequential packets after a jump: a restart */
	}
	/* else: duplicate or reordered, counted but max_seq stays */
	s->received++;
	return 1;
}

static void seq_track(struct xi_stream_stats *s, uint16_t seq)
{
	if (!s->seq_started) {
		seq_init(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = XI_MIN_SEQUENTIAL;
		s->seq_started = 1;
	}
	seq_update(s, seq);
	if (s->probation)
		return;
	s->ext_max_seq = s->cycles + s->max_seq;
	s->expected = s->ext_max_seq - s->base_seq + 1;
	s->lost = (int32_t)(s->expected - s->received);
}

static uint32_t ns_to_rtp_units(uint64_t ns, uint32_t rate)
{
	return (uint32_t)((ns / 1000000000ull) * rate + (ns % 1000000000ull) * rate / 1000000000ull);
}

/* RFC 3550 A.8; jitter_q4 is J scaled by 16. */
static void jitter_update(struct xi_stream_stats *s, uint32_t arrival, uint32_t rtp_ts)
{
	uint32_t transit = arrival - rtp_ts;
	int64_t d = (int64_t)(int32_t)(transit - s->transit);

	if (d < 0)
		d = -d;
	if (s->transit_valid)
		s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
	s->transit = transit;
	s->transit_valid = 1;
	s->jitter = s->jitter_q4 >> 4;
}

int xi_twin_header_stats_run(struct xi_twin_header_stats *hs, const struct xi_pkt_ctx *pc)
{
	const struct xi_clock_rate *cr = xi_twin_table_find(&hs->rates, pc->ssrc);
	uint32_t rate = cr ? cr->clock_rate : pc->default_clock_rate;
	struct xi_stream_stats *s = xi_twin_table_get(&hs->stats, pc->ssrc);

	if (!s)
		return -ENOMEM;
	s->conn_id = hs->conn_id;
	s->ssrc = pc->ssrc;
	xi_twin_stream_stats_update(s, pc, rate);
	return 0;
}

void xi_twin_stream_stats_update(struct xi_stream_stats *s, const struct xi_pkt_ctx *pc,
				 uint32_t rate)
{
	if (s->packets == 0)
		s->first_arrival_ns = pc->now_ns;
	s->last_arrival_ns = pc->now_ns;
	s->packets++;
	if (pc->is_rtcp) {
		s->rtcp_packets++;
		return;
	}
	s->rtp_packets++;
	s->header_bytes += pc->rtp_hdr_len + pc->rtp_pad_len;
	s->payload_bytes += pc->payload_len - pc->rtp_hdr_len - pc->rtp_pad_len - pc->srtp_trailer;
	s->srtp_tag_bytes += pc->srtp_trailer;
	s->markers += pc->marker;
	s->payload_type = pc->payload_type;
	seq_track(s, pc->seq);
	if (rate) {
		s->clock_rate = rate;
		jitter_update(s, ns_to_rtp_units(pc->now_ns, rate), pc->rtp_timestamp);
	}
}

int xi_twin_header_stats_lookup(const struct xi_twin_header_stats *hs, uint32_t ssrc,
				struct xi_stream_stats *ret)
{
	const struct xi_stream_stats *s = xi_twin_table_find(&hs->stats, ssrc);

	if (!s)
		return -ENOENT;
	*ret = *s;
	return 0;
}

size_t xi_twin_header_stats_count(const struct xi_twin_header_stats *hs)
{
	return hs->stats.n;
}
