/* SPDX-License-Identifier: MIT */
/*
 * C twins of the XDP stages: the same semantics as the bpf/ stage programs over the same
 * abi.h structs, for stateless stages that run in userspace (after a stateful
 * one) and as the reference in tests. Internal to libxicept.
 *
 * A packet is described by struct xi_pkt_ctx, as xi_entry leaves it in
 * xi_scratch: xi_twin_parse_frame() and xi_twin_classify_payload() fill it
 * from a frame or from a bare UDP payload; the caller sets conn_id, now_ns
 * and default_clock_rate. Stage twins keep one connection's state each.
 */
#ifndef XICEPT_USER_TWIN_H
#define XICEPT_USER_TWIN_H

#include <stdint.h>
#include <stddef.h>
#include <xicept/abi.h>

/* xi_twin_parse_frame's "parsed to UDP" result: no reason yet. */
#define XI_TWIN_PARSED XI_REASON__MAX

/* ---- xi_entry ---- */

/* Ethernet/VLAN/IP/UDP as xi_entry parses them. Returns XI_TWIN_PARSED with
 * *ret_key (ingress orientation) and the offsets of *ret_ctx filled, or the
 * reason (< XI_REASON_UNKNOWN_FLOW) the frame is not a UDP datagram. */
uint32_t xi_twin_parse_frame(const uint8_t *frame, size_t len,
			     struct xi_flow_key *ret_key, struct xi_pkt_ctx *ret_ctx);

/* RFC 7983/5761 class of a UDP payload: XI_REASON_RTP or XI_REASON_RTCP with
 * the RTP fields of *ctx filled (ssrc, seq, ...), or XI_REASON_STUN, _DTLS,
 * _OTHER, _BAD_RTP. payload_len is set to len. */
uint32_t xi_twin_classify_payload(const uint8_t *payload, size_t len,
				  struct xi_pkt_ctx *ctx);

/* The map lookups xi_entry makes. flow: 0 and the conn id, or -ENOENT.
 * conn: the connection or NULL. */
struct xi_twin_lookup {
	int (*flow)(void *user, const struct xi_flow_key *key, uint32_t *ret_conn_id);
	const struct xi_conn *(*conn)(void *user, uint32_t conn_id);
	void *user;
};

/* The whole of xi_entry but the chain: returns the reason xi_entry counts.
 * For XI_REASON_RTP and XI_REASON_RTCP, *ret_ctx is ready to run the chain
 * (stages, verdict, now_ns); otherwise *ret_action is the packet's verdict. */
uint32_t xi_twin_entry(const struct xi_twin_lookup *lk, const struct xi_iface_config *cfg,
		       const uint8_t *frame, size_t len, uint64_t now_ns,
		       struct xi_pkt_ctx *ret_ctx, enum xi_action *ret_action);

/* ---- per-SSRC tables ---- */

/* A sorted table of fixed-size values keyed by SSRC. */
struct xi_twin_table {
	uint32_t *keys;
	uint8_t *values;
	size_t n, cap, value_size;
};

void xi_twin_table_init(struct xi_twin_table *t, size_t value_size);
void xi_twin_table_fini(struct xi_twin_table *t);
void *xi_twin_table_find(const struct xi_twin_table *t, uint32_t key);
/* The value under key, inserted zeroed when missing; NULL when out of memory. */
void *xi_twin_table_get(struct xi_twin_table *t, uint32_t key);
int xi_twin_table_remove(struct xi_twin_table *t, uint32_t key);   /* 0 or -ENOENT */

/* ---- xi_ssrc_filter ---- */

struct xi_twin_ssrc_filter;

/* -EINVAL for an unknown mode, -ENOMEM. The list is copied. */
int xi_twin_ssrc_filter_new(enum xi_ssrc_mode mode, const uint32_t *ssrcs, size_t n,
			    struct xi_twin_ssrc_filter **ret);
void xi_twin_ssrc_filter_free(struct xi_twin_ssrc_filter *f);
/* XI_ACT_DROP (the drop is counted) or XI_ACT_PASS: go on with the chain. */
enum xi_action xi_twin_ssrc_filter_run(struct xi_twin_ssrc_filter *f,
				       const struct xi_pkt_ctx *pc);
uint64_t xi_twin_ssrc_filter_drops(const struct xi_twin_ssrc_filter *f);
/* Drops of one SSRC: 0 and the count, or -ENOENT when it never dropped. */
int xi_twin_ssrc_filter_ssrc_drops(const struct xi_twin_ssrc_filter *f, uint32_t ssrc,
				   uint64_t *ret);
size_t xi_twin_ssrc_filter_n_dropped(const struct xi_twin_ssrc_filter *f);

/* ---- xi_header_stats ---- */

struct xi_twin_header_stats;

int xi_twin_header_stats_new(uint32_t conn_id, struct xi_twin_header_stats **ret);
void xi_twin_header_stats_free(struct xi_twin_header_stats *hs);
/* bind_remote_stream: the SSRC's clock rate (an xi_clock_rates entry). */
int xi_twin_header_stats_bind(struct xi_twin_header_stats *hs, uint32_t ssrc,
			      uint32_t clock_rate);
void xi_twin_header_stats_unbind(struct xi_twin_header_stats *hs, uint32_t ssrc);
/* One RTP or RTCP packet; arrival time pc->now_ns, rate for unbound SSRCs
 * pc->default_clock_rate. -ENOMEM when a new SSRC cannot be stored. */
int xi_twin_header_stats_run(struct xi_twin_header_stats *hs, const struct xi_pkt_ctx *pc);
/* The update of run for one stream's entry, kept wherever the caller keeps
 * it (the header-stats interceptor: in the pinned xi_stream_stats), with the
 * clock rate already chosen. */
void xi_twin_stream_stats_update(struct xi_stream_stats *s, const struct xi_pkt_ctx *pc,
				 uint32_t rate);
/* 0 and a copy of the SSRC's stats, or -ENOENT. */
int xi_twin_header_stats_lookup(const struct xi_twin_header_stats *hs, uint32_t ssrc,
				struct xi_stream_stats *ret);
size_t xi_twin_header_stats_count(const struct xi_twin_header_stats *hs);

#endif
