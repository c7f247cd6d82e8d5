/* SPDX-License-Identifier: MIT */
/*
 * What the userspace interceptors of local streams (sender-report,
 * nack-responder) share about the remote's reports. Internal to the library.
 */
#ifndef XICEPT_INTERCEPTORS_REMOTE_REPORT_H
#define XICEPT_INTERCEPTORS_REMOTE_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <xicept/abi.h>

struct xi_dataplane;

/* The entries themselves are the data plane's, written through
 * xi_dataplane_remote_report_merge (<xicept/dataplane.h>), as a plugin
 * would. */

/* NTP time (RFC 5905 64-bit: seconds since 1900 << 32 | fraction) of a
 * CLOCK_MONOTONIC instant, through the wall clock read now. */
uint64_t xi_ntp_of_mono(uint64_t mono_ns);

#endif
