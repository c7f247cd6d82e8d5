/* SPDX-License-Identifier: MIT */
/*
 * What the userspace interceptors of local streams (sender-report,
 * nack-responder) publish per local SSRC in the pinned map
 * xi_remote_reports (struct xi_remote_report, abi.h), so that `xicept stats`
 * in another process shows it. Internal to the library.
 */
#ifndef XICEPT_INTERCEPTORS_REMOTE_REPORT_H
#define XICEPT_INTERCEPTORS_REMOTE_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <xicept/abi.h>

struct xi_dataplane;

/* Adds the counters of add (reports, rtt_reports, nack_*) to the entry of
 * (conn, ssrc) and, when set_report, replaces its report fields (rtt,
 * fraction, lost, jitter, highest) by add's. A no-op without dp. */
int xi_remote_report_merge(struct xi_dataplane *dp, uint32_t conn_id, uint32_t ssrc,
			   const struct xi_remote_report *add, bool set_report, bool set_rtt);

/* NTP time (RFC 5905 64-bit: seconds since 1900 << 32 | fraction) of a
 * CLOCK_MONOTONIC instant, through the wall clock read now. */
uint64_t xi_ntp_of_mono(uint64_t mono_ns);

#endif
