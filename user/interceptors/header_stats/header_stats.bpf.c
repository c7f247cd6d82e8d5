// SPDX-License-Identifier: MIT
/*
 * xi_header_stats: per (connection, SSRC) counters, RFC 3550 A.1 sequence
 * tracking, A.3 loss and A.8 jitter. Everything is updated under the entry's
 * spin lock, so counts stay exact with packets of one SSRC on several CPUs.
 * Nothing in the locked region calls a helper or a function (a verifier rule),
 * hence __always_inline throughout. Twin: user/interceptors/header_stats/twin.c.
 */

#include "xi_common.h"
#include "xi_egress.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

/* The stage's maps; see struct xi_stream_stats in header_stats_abi.h. Not preallocated:
 * a stream's entry takes memory with its first packet. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_clock_rate);
} xi_clock_rates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_stream_stats);
} xi_stream_stats SEC(".maps");

/* Whether xi_clock_rates holds anything of a connection (struct
 * xi_hs_conn): an array slot read, where the hash lookup it spares costs
 * ~30 ns of every packet of a connection whose streams have no rate. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XI_MAX_CONNS + 1);
	__type(key, __u32);
	__type(value, struct xi_hs_conn);
} xi_hs_conns SEC(".maps");

/* Packets leaving, counted by xi_header_stats_tc: struct xi_local_stats. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XI_MAX_STREAMS);
	__type(key, struct xi_stream_key);
	__type(value, struct xi_local_stats);
} xi_local_stats SEC(".maps");

static __always_inline void xi_seq_init(struct xi_stream_stats *s, __u32 seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = XI_RTP_SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
}

/* RFC 3550 A.1 update_seq(); returns 1 when the packet is accepted. */
static __always_inline int xi_seq_update(struct xi_stream_stats *s, __u32 seq)
{
	__u32 udelta = (seq - s->max_seq) & 0xffff;

	if (s->probation) {
		if (seq == ((s->max_seq + 1) & 0xffff)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				xi_seq_init(s, seq);
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
			s->cycles += XI_RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= XI_RTP_SEQ_MOD - XI_MAX_MISORDER) {
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1) & 0xffff;
			return 0;
		}
		xi_seq_init(s, seq);   /* two sequential packets: the source restarted */
	}
	s->received++;
	return 1;
}

static __always_inline void xi_seq_track(struct xi_stream_stats *s, __u32 seq)
{
	if (!s->seq_started) {
		xi_seq_init(s, seq);
		s->max_seq = (seq - 1) & 0xffff;
		s->probation = XI_MIN_SEQUENTIAL;
		s->seq_started = 1;
	}
	xi_seq_update(s, seq);
	if (s->probation)
		return;
	s->ext_max_seq = s->cycles + s->max_seq;
	s->expected = s->ext_max_seq - s->base_seq + 1;
	s->lost = (__s32)(s->expected - s->received);
}

/* RFC 3550 A.8 with the jitter kept scaled by 16. */
static __always_inline void xi_jitter_update(struct xi_stream_stats *s, __u32 arrival,
					     __u32 rtp_ts)
{
	__u32 transit = arrival - rtp_ts, d = transit - s->transit;

	if ((__s32)d < 0)
		d = -d;
	if (s->transit_valid)
		s->jitter_q4 += d - ((s->jitter_q4 + 8) >> 4);
	s->transit = transit;
	s->transit_valid = 1;
	s->jitter = s->jitter_q4 >> 4;
}

static __always_inline __u32 xi_ns_to_rtp_units(__u64 ns, __u32 rate)
{
	return (__u32)((ns / 1000000000ull) * rate + (ns % 1000000000ull) * rate / 1000000000ull);
}

static __always_inline void xi_stats_update(struct xi_stream_stats *s,
					    const struct xi_pkt_ctx *pc, __u32 rate,
					    __u32 arrival)
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
	xi_seq_track(s, pc->seq);
	if (rate) {
		s->clock_rate = rate;
		xi_jitter_update(s, arrival, pc->rtp_timestamp);
	}
}

SEC("xdp")
int xi_header_stats(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();
	struct xi_stream_stats zero = {}, *s;
	struct xi_stream_key key = {};
	struct xi_clock_rate *cr = NULL;
	struct xi_hs_conn *hc;
	__u32 rate, arrival;

	if (!pc)
		return XDP_PASS;
	key.conn_id = pc->conn_id;
	key.ssrc = pc->ssrc;
	hc = bpf_map_lookup_elem(&xi_hs_conns, &key.conn_id);
	if (hc && hc->rated)
		cr = bpf_map_lookup_elem(&xi_clock_rates, &key);
	rate = cr ? cr->clock_rate : pc->default_clock_rate;
	arrival = xi_ns_to_rtp_units(xi_pkt_now(pc), rate);
	zero.conn_id = key.conn_id;
	zero.ssrc = key.ssrc;
	s = xi_lookup_or_init(&xi_stream_stats, &key, &zero);
	if (!s) {
		xi_count(XI_REASON_STATS_FULL);
		return xi_next_stage(ctx, pc);
	}
	bpf_spin_lock(&s->lock);
	xi_stats_update(s, pc, rate, arrival);
	bpf_spin_unlock(&s->lock);
	return xi_next_stage(ctx, pc);
}

/* Packets leaving: the local stream's counts, what an RFC 3550 SR reports
 * (struct xi_local_stats, above). */
static __always_inline void xi_local_update(struct xi_local_stats *s, const struct xi_pkt_ctx *pc)
{
	if (s->packets == 0)
		s->first_send_ns = pc->now_ns;
	s->packets++;
	if (pc->is_rtcp) {
		s->rtcp_packets++;
		return;
	}
	s->rtp_packets++;
	s->header_bytes += pc->rtp_hdr_len + pc->rtp_pad_len;
	s->octets += pc->payload_len - pc->rtp_hdr_len - pc->rtp_pad_len - pc->srtp_trailer;
	s->srtp_tag_bytes += pc->srtp_trailer;
	s->last_rtp_ts = pc->rtp_timestamp;
	s->last_send_ns = pc->now_ns;
	s->last_seq = pc->seq;
	s->payload_type = pc->payload_type;
}

SEC("tc")
int xi_header_stats_tc(struct __sk_buff *skb)
{
	struct xi_pkt_ctx *pc = xi_escratch_get();
	struct xi_local_stats zero = {}, *s;
	struct xi_stream_key key = {};

	if (!pc)
		return TC_ACT_OK;
	key.conn_id = pc->conn_id;
	key.ssrc = pc->ssrc;
	xi_pkt_now(pc);
	zero.conn_id = key.conn_id;
	zero.ssrc = key.ssrc;
	s = xi_lookup_or_init(&xi_local_stats, &key, &zero);
	if (!s) {
		xi_ecount(XI_REASON_STATS_FULL);
		return xi_next_stage_tc(skb, pc);
	}
	bpf_spin_lock(&s->lock);
	xi_local_update(s, pc);
	bpf_spin_unlock(&s->lock);
	return xi_next_stage_tc(skb, pc);
}
