/* SPDX-License-Identifier: MIT */
/* Writing transport-wide CC feedback (RTPFB FMT 15), as
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1 lays it out. */
#ifndef XICEPT_PROTO_TWCC_WRITE_H
#define XICEPT_PROTO_TWCC_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct xi_twcc_fb {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint16_t base_seq;           /* the first packet's transport-wide number */
	uint8_t fb_pkt_count;
	uint32_t ref_time;           /* 24 bits, multiples of 64 ms */
	size_t n;                    /* packets from base_seq on, at most 0xffff */
	const uint8_t *status;       /* enum xi_twcc_status, n of them */
	/* Receive deltas in 250 us ticks, one per received packet (the first
	 * from ref_time, each next one from the previous): small (0..255) or
	 * large (a signed 16-bit) as status says. n entries, those of packets
	 * not received unused. */
	const int32_t *delta;
};

/*
 * Packet chunks: a run of 7 or more equal statuses (or the packets' last
 * run) as a run-length chunk; otherwise 14 statuses as a one-bit status
 * vector when none of them has a large delta, else 7 as a two-bit one;
 * statuses left over at the end go as run-length chunks, so no chunk ever
 * holds more statuses than the packet count says. Then the deltas, then
 * zero padding to 32 bits (draft 3.1). Returns the length, -ENOSPC, or
 * -EINVAL for a delta its status cannot carry.
 */
int xi_rtcp_twcc_write(const struct xi_twcc_fb *fb, uint8_t *buf, size_t cap);

#endif
