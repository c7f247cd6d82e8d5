/* SPDX-License-Identifier: MIT */
/* Why an RTCP compound is not acted on (enum xi_rtcp_bad of abi.h). */
#ifndef XICEPT_PROTO_RTCP_CHECK_H
#define XICEPT_PROTO_RTCP_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * -1 when every packet of buf[0..len) is one the interceptors act on or
 * may ignore without harm (xi_rtcp_compound_parse accepts it and no RTPFB
 * has an unknown FMT); else the first problem as an enum xi_rtcp_bad:
 *   XI_RTCP_BAD_FCI         a feedback packet whose length runs past the
 *                           datagram (its FCI count overruns);
 *   XI_RTCP_BAD_TRUNCATED   a feedback packet shorter than its fixed part,
 *                           or a NACK without one FCI entry;
 *   XI_RTCP_BAD_UNKNOWN_FMT an RTPFB with a FMT other than NACK (1) and
 *                           transport-wide CC (15);
 *   XI_RTCP_BAD_MALFORMED   anything else the parser refuses.
 */
int xi_rtcp_bad_reason(const uint8_t *buf, size_t len);

#endif
