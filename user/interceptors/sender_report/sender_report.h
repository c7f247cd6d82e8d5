/* SPDX-License-Identifier: MIT */
/* sender-report's arithmetic and state, for tests and tools. */
#ifndef XICEPT_SENDER_REPORT_H
#define XICEPT_SENDER_REPORT_H

#include <stdint.h>

#include <xicept/abi.h>
#include <xicept/interceptor.h>

/* What a local stream sent, as the SR reports it. */
struct xi_sender_report_state {
	uint64_t packets;
	uint64_t octets;             /* payload octets */
	uint32_t last_rtp_ts;
	uint64_t last_send_ns;       /* CLOCK_MONOTONIC */
	uint64_t reports;            /* SRs sent */
};

/* The RTP timestamp at now_ns: the last packet's plus the time since it
 * left, at clock_rate. */
uint32_t xi_sender_report_rtp_ts(const struct xi_sender_report_state *st, uint32_t clock_rate,
				 uint64_t now_ns);
/* RFC 3550 6.4.1: A - LSR - DLSR in 1/65536 s, 0 when negative; -ENOENT
 * when LSR is 0 (no SR received by the remote yet). */
int xi_sender_report_rtt_q16(uint32_t arrival_mid, uint32_t lsr, uint32_t dlsr, uint32_t *ret);
/* The state of a local stream: -EINVAL when ic is no sender-report,
 * -ENOENT for an unbound SSRC. Either pointer may be NULL. */
int xi_sender_report_state(struct xi_interceptor *ic, uint32_t ssrc,
			   struct xi_sender_report_state *ret_state,
			   struct xi_remote_report *ret_remote);

#endif
