/* SPDX-License-Identifier: MIT */
/*
 * RTCP compound packets: parsing without allocation, accessors for the
 * variable parts, and writers for what interceptors emit.
 *
 * Covered: SR, RR, SDES, BYE (RFC 3550 6.4-6.6), generic NACK and PLI
 * (RFC 4585), FIR (RFC 5104), transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01). Any other packet
 * (APP, XR, other feedback formats) is kept as XI_RTCP_KIND_OTHER.
 *
 * RFC 3550 wants a compound packet to start with SR or RR, but stacks send
 * reduced-size RTCP (RFC 5506), e.g. a lone PLI, so any first type is taken.
 *
 * Error values are listed in rtp.h.
 */
#ifndef XICEPT_RTCP_H
#define XICEPT_RTCP_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XI_RTCP_MAX_PACKETS  32   /* packets one compound may hold */
#define XI_RTCP_HEADER_LEN   4
#define XI_RTCP_MAX_COUNT    31   /* RC, SC and FMT are 5 bits */

enum xi_rtcp_type {
	XI_RTCP_SR = 200,
	XI_RTCP_RR = 201,
	XI_RTCP_SDES = 202,
	XI_RTCP_BYE = 203,
	XI_RTCP_APP = 204,
	XI_RTCP_RTPFB = 205,
	XI_RTCP_PSFB = 206,
	XI_RTCP_XR = 207,
};

#define XI_RTCP_FMT_NACK  1    /* RTPFB */
#define XI_RTCP_FMT_TWCC  15   /* RTPFB */
#define XI_RTCP_FMT_PLI   1    /* PSFB */
#define XI_RTCP_FMT_FIR   4    /* PSFB */

enum xi_rtcp_kind {
	XI_RTCP_KIND_OTHER = 0,
	XI_RTCP_KIND_SR,
	XI_RTCP_KIND_RR,
	XI_RTCP_KIND_SDES,
	XI_RTCP_KIND_BYE,
	XI_RTCP_KIND_NACK,
	XI_RTCP_KIND_PLI,
	XI_RTCP_KIND_FIR,
	XI_RTCP_KIND_TWCC,
};

struct xi_rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp;          /* seconds << 32 | fraction */
	uint32_t rtp_ts;
	uint32_t packet_count;
	uint32_t octet_count;
	uint8_t report_count;
};

struct xi_rtcp_rr {
	uint32_t ssrc;
	uint8_t report_count;
};

struct xi_rtcp_sdes {
	uint8_t chunk_count;
};

struct xi_rtcp_bye {
	uint8_t ssrc_count;
	bool has_reason;
	uint8_t reason_len;
	uint32_t reason_offset;   /* from the start of the packet */
};

/* NACK, PLI and FIR share these; FIR's media SSRC is unused (RFC 5104). */
struct xi_rtcp_fb {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint32_t entry_count;     /* NACK: PID/BLP pairs; FIR: entries; PLI: 0 */
};

struct xi_rtcp_twcc {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint16_t base_seq;
	uint16_t status_count;
	int32_t ref_time;         /* 24-bit signed, in units of 64 ms */
	uint8_t fb_pkt_count;
};

struct xi_rtcp_packet {
	const uint8_t *data;      /* this packet, inside the parsed buffer */
	uint32_t offset;          /* from the start of the compound */
	uint32_t length;          /* bytes, header and padding included */
	uint8_t type;             /* PT, see enum xi_rtcp_type */
	uint8_t count;            /* RC, SC or FMT */
	bool padding;
	uint8_t padding_len;      /* including the count octet */
	enum xi_rtcp_kind kind;
	union {
		struct xi_rtcp_sr sr;
		struct xi_rtcp_rr rr;
		struct xi_rtcp_sdes sdes;
		struct xi_rtcp_bye bye;
		struct xi_rtcp_fb fb;     /* NACK, PLI, FIR */
		struct xi_rtcp_twcc twcc;
	};
};

struct xi_rtcp_compound {
	size_t n;
	struct xi_rtcp_packet pkts[XI_RTCP_MAX_PACKETS];
};

/*
 * Parses buf[0..len) into ret; packets point into buf, which must outlive
 * them. Every packet needs version 2 and a length within the buffer; the
 * packets must cover the buffer exactly; only the last may be padded. Known
 * kinds are checked in full (their counts must fit, SDES chunks and TWCC
 * chunks and deltas must be complete), so the accessors below cannot run
 * past a parsed packet. Trailing bytes after the known fields are allowed
 * (profile extensions). More than XI_RTCP_MAX_PACKETS gives -E2BIG.
 * *ret is unspecified after a failure.
 */
XI_API int xi_rtcp_compound_parse(const uint8_t *buf, size_t len, struct xi_rtcp_compound *ret);

/* SR, RR, APP, XR and every feedback packet carry the sender's SSRC; other
 * types give -ENOENT, as does a packet too short to hold one. */
XI_API int xi_rtcp_sender_ssrc(const struct xi_rtcp_packet *p, uint32_t *ret);
/* The media source SSRC of an RTPFB or PSFB packet, or -ENOENT. */
XI_API int xi_rtcp_media_ssrc(const struct xi_rtcp_packet *p, uint32_t *ret);

struct xi_rtcp_report_block {
	uint32_t ssrc;
	uint8_t fraction_lost;
	int32_t cumulative_lost;  /* 24-bit signed on the wire */
	uint32_t ext_highest_seq;
	uint32_t jitter;
	uint32_t lsr;
	uint32_t dlsr;
};

/* Report block i of an SR or RR. -EINVAL for other kinds, -ERANGE past the end. */
XI_API int xi_rtcp_report_block(const struct xi_rtcp_packet *p, size_t i,
			 struct xi_rtcp_report_block *ret);

/* SSRC i of a BYE; -ERANGE past the end. */
XI_API int xi_rtcp_bye_ssrc(const struct xi_rtcp_packet *p, size_t i, uint32_t *ret);
/* The reason text of a BYE (not NUL-terminated), or -ENOENT when it has none
 * or an empty one. */
XI_API int xi_rtcp_bye_reason(const struct xi_rtcp_packet *p, const char **ret,
		       size_t *ret_len);

/* Pair i of a generic NACK. */
XI_API int xi_rtcp_nack_pair(const struct xi_rtcp_packet *p, size_t i, uint16_t *ret_pid,
		      uint16_t *ret_blp);
/* Every sequence number a NACK asks for, pair by pair, PID then BLP bits from
 * the lowest: returns how many were stored, or -ENOSPC when cap is too small
 * (17 per pair always suffices). */
XI_API int xi_rtcp_nack_expand(const struct xi_rtcp_packet *p, uint16_t *seqs, size_t cap);

struct xi_rtcp_fir_entry {
	uint32_t ssrc;
	uint8_t seq_nr;
};

XI_API int xi_rtcp_fir_entry(const struct xi_rtcp_packet *p, size_t i,
		      struct xi_rtcp_fir_entry *ret);

/* SDES: walk chunks, and the items of the current chunk. */
struct xi_rtcp_sdes_item {
	uint8_t type;             /* 1 CNAME, 2 NAME, ... 8 PRIV */
	uint8_t len;
	const uint8_t *text;      /* not NUL-terminated */
};

struct xi_rtcp_sdes_iter {
	const struct xi_rtcp_packet *pkt;
	size_t pos;               /* next byte to read in the packet */
	size_t chunks_left;
	bool in_chunk;
};

XI_API int xi_rtcp_sdes_iter_init(struct xi_rtcp_sdes_iter *it, const struct xi_rtcp_packet *p);
/* 1 and the chunk's SSRC, 0 when no chunk is left. Skips what remained of the
 * current chunk. */
XI_API int xi_rtcp_sdes_iter_next_chunk(struct xi_rtcp_sdes_iter *it, uint32_t *ret_ssrc);
/* 1 and the next item of the current chunk, 0 at its end. */
XI_API int xi_rtcp_sdes_iter_next_item(struct xi_rtcp_sdes_iter *it,
				struct xi_rtcp_sdes_item *ret);

/* Transport-wide CC packet status symbols. */
enum xi_twcc_status {
	XI_TWCC_NOT_RECEIVED = 0,
	XI_TWCC_SMALL_DELTA = 1,   /* received, delta 0 .. 63.75 ms */
	XI_TWCC_LARGE_DELTA = 2,   /* received, delta signed 16 bits */
};

#define XI_TWCC_DELTA_US 250      /* one receive-delta tick */

/*
 * Expands the run-length and status-vector chunks (1- and 2-bit symbols)
 * into status[0..status_count) for base_seq + i, and the receive deltas into
 * delta_us[] (microseconds; 0 for packets not received). Returns status_count
 * or -ENOSPC when cap is smaller. Symbol 3 ("reserved" in draft -01) is
 * rejected by the parser.
 */
XI_API int xi_rtcp_twcc_decode(const struct xi_rtcp_packet *p, uint8_t *status,
			int32_t *delta_us, size_t cap);

/* ---- writers: each returns the bytes written or a negative errno ---- */

/* RR with n (<= 31) report blocks. Cumulative lost is clamped to 24 bits. */
XI_API int xi_rtcp_rr_write(uint32_t sender_ssrc, const struct xi_rtcp_report_block *blocks,
		     size_t n, uint8_t *buf, size_t cap);
/* SR from sr's fields (report_count is ignored; n gives it). */
XI_API int xi_rtcp_sr_write(const struct xi_rtcp_sr *sr, const struct xi_rtcp_report_block *blocks,
		     size_t n, uint8_t *buf, size_t cap);
/*
 * Generic NACK for seqs[0..n), n >= 1, sorted in RTP order (65535 then 0
 * wraps). Each number within 16 after the current PID goes into its BLP;
 * duplicates are dropped. An unsorted list still yields a NACK covering
 * every number, only with more pairs.
 */
XI_API int xi_rtcp_nack_write(uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs,
		       size_t n, uint8_t *buf, size_t cap);
XI_API int xi_rtcp_pli_write(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
