/* SPDX-License-Identifier: MIT */
/*
 * RTP sequence tracking and reception statistics after RFC 3550 A.1, A.3
 * and A.8, for one remote source.
 *
 * Loss is kept as counts (packets received, extended highest sequence
 * number, base), never as a window of recent packets, so it stays exact at
 * any packet rate. The source's SSRC is signalled, so there is no probation:
 * the first packet is valid.
 *
 * Extended sequence numbers are held as int64 so that a reordered packet
 * arriving before the first one seen may move the base below it (below zero
 * when the first packet opened cycle 0). That keeps "expected" honest for
 * 0xffff, 0x0000, 0xfffe: base 0xfffe, highest 0x10000, expected 3.
 */
#ifndef XICEPT_USER_RTP_SEQ_H
#define XICEPT_USER_RTP_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xicept/attributes.h>
#include <xicept/rtp.h>

#define XI_RTP_SEQ_MOD          (1 << 16)
#define XI_RTP_SEQ_MAX_DROPOUT  3000   /* A.1: forward jump still in order */
#define XI_RTP_SEQ_MAX_MISORDER 100    /* A.1: how far behind is "late" */

#define XI_RTP_LOST_MAX  0x7fffff      /* cumulative lost is 24-bit signed */
#define XI_RTP_LOST_MIN  (-0x800000)

struct xi_rtp_seq {
	bool started;
	uint16_t max_seq;        /* highest sequence number seen */
	uint32_t bad_seq;        /* after a big jump: the seq that confirms it */
	int64_t cycles;          /* multiples of 2^16 */
	int64_t base;            /* extended seq of the earliest packet */
	uint64_t received;
	uint64_t expected_prior; /* at the last report, A.3 */
	uint64_t received_prior;
	bool have_transit;
	uint32_t transit;        /* A.8, in RTP timestamp units */
	uint32_t jitter_q4;      /* A.8 jitter, scaled by 16 */
};

static inline void xi_rtp_seq_restart(struct xi_rtp_seq *s, uint16_t seq)
{
	s->started = true;
	s->max_seq = seq;
	s->bad_seq = XI_RTP_SEQ_MOD + 1;   /* matches no 16-bit seq */
	s->cycles = 0;
	s->base = seq;
	s->received = 0;
	s->expected_prior = 0;
	s->received_prior = 0;
}

static inline int64_t xi_rtp_seq_ext_max(const struct xi_rtp_seq *s)
{
	return s->cycles + s->max_seq;
}

/*
 * Accounts one packet. Returns false when it was set aside as the first of
 * a big jump (A.1: the stream may have restarted; the next packet after it
 * confirms that and the statistics start over).
 */
static inline bool xi_rtp_seq_update(struct xi_rtp_seq *s, uint16_t seq)
{
	uint16_t udelta;

	if (!s->started) {
		xi_rtp_seq_restart(s, seq);
		s->received = 1;
		return true;
	}
	udelta = (uint16_t)(seq - s->max_seq);
	if (udelta < XI_RTP_SEQ_MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += XI_RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= XI_RTP_SEQ_MOD - XI_RTP_SEQ_MAX_MISORDER) {
		if (seq != s->bad_seq) {
			s->bad_seq = (uint16_t)(seq + 1);
			return false;
		}
		xi_rtp_seq_restart(s, seq);
	} else {
		/* Late or duplicate: it may still precede everything seen. */
		int64_t ext = s->cycles + seq - (seq > s->max_seq ? XI_RTP_SEQ_MOD : 0);

		if (ext < s->base)
			s->base = ext;
	}
	s->received++;
	return true;
}

static inline uint64_t xi_rtp_seq_expected(const struct xi_rtp_seq *s)
{
	return (uint64_t)(xi_rtp_seq_ext_max(s) - s->base + 1);
}

/* A.3 cumulative lost, clamped to what 24 signed bits hold. Duplicates can
 * make it negative. */
static inline int32_t xi_rtp_seq_cumulative_lost(const struct xi_rtp_seq *s)
{
	int64_t lost = (int64_t)xi_rtp_seq_expected(s) - (int64_t)s->received;

	if (lost > XI_RTP_LOST_MAX)
		return XI_RTP_LOST_MAX;
	if (lost < XI_RTP_LOST_MIN)
		return XI_RTP_LOST_MIN;
	return (int32_t)lost;
}

/* A.3 fraction lost since the previous call, in 1/256; moves the priors on. */
static inline uint8_t xi_rtp_seq_fraction_lost(struct xi_rtp_seq *s)
{
	uint64_t expected = xi_rtp_seq_expected(s);
	int64_t exp_int = (int64_t)(expected - s->expected_prior);
	int64_t rcv_int = (int64_t)(s->received - s->received_prior);
	int64_t lost_int = exp_int - rcv_int;

	s->expected_prior = expected;
	s->received_prior = s->received;
	if (exp_int <= 0 || lost_int <= 0)
		return 0;
	return (uint8_t)((lost_int << 8) / exp_int);
}

/* The extended highest sequence number as RR blocks carry it (mod 2^32). */
static inline uint32_t xi_rtp_seq_ext_highest(const struct xi_rtp_seq *s)
{
	return (uint32_t)xi_rtp_seq_ext_max(s);
}

/*
 * A.8 interarrival jitter. arrival is the packet's arrival time converted to
 * RTP timestamp units; differences are taken mod 2^32 so both clocks may wrap.
 */
static inline void xi_rtp_seq_jitter(struct xi_rtp_seq *s, uint32_t arrival,
				     uint32_t rtp_ts)
{
	uint32_t transit = arrival - rtp_ts;
	int32_t d = (int32_t)(transit - s->transit);
	uint32_t ad;

	if (!s->have_transit) {
		s->have_transit = true;
		s->transit = transit;
		return;
	}
	s->transit = transit;
	ad = d < 0 ? (uint32_t)0 - (uint32_t)d : (uint32_t)d;
	/* J += (|D| - J) / 16 in the scaled form A.8 gives, so no precision is
	 * lost to repeated division. */
	s->jitter_q4 = s->jitter_q4 + ad - ((s->jitter_q4 + 8) >> 4);
}

static inline uint32_t xi_rtp_seq_jitter_value(const struct xi_rtp_seq *s)
{
	return s->jitter_q4 >> 4;
}

/*
 * The RTP header of a packet a tracker reads: through the attributes' parse
 * cache when the reader got attributes, so a chain parses each packet once,
 * else into *local. Returns 0 or the parser's negative errno.
 */
static inline int xi_rtp_seq_header(struct xi_attributes *attrs, const uint8_t *buf,
				    size_t len, struct xi_rtp_header *local,
				    const struct xi_rtp_header **ret)
{
	int rc;

	if (attrs)
		return xi_attributes_rtp_header(attrs, buf, len, ret);
	rc = xi_rtp_header_parse(buf, len, local);
	if (rc == 0)
		*ret = local;
	return rc;
}

#endif
