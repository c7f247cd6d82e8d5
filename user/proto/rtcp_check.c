// SPDX-License-Identifier: MIT
/* See rtcp_check.h. */
#include <xicept/abi.h>
#include <xicept/rtcp.h>

#include "user/proto/rtcp_check.h"

static int packet_reason(const uint8_t *p, size_t left)
{
	size_t plen;
	uint8_t pt, fmt;

	if (left < XI_RTCP_HEADER_LEN || p[0] >> 6 != 2)
		return XI_RTCP_BAD_MALFORMED;
	pt = p[1];
	fmt = p[0] & 0x1f;
	plen = ((size_t)p[2] << 8 | p[3]) * 4 + 4;
	if (pt == XI_RTCP_RTPFB || pt == XI_RTCP_PSFB) {
		if (plen > left)
			return XI_RTCP_BAD_FCI;
		if (plen < 12 || (pt == XI_RTCP_RTPFB && fmt == XI_RTCP_FMT_NACK && plen < 16))
			return XI_RTCP_BAD_TRUNCATED;
		if (pt == XI_RTCP_RTPFB && fmt != XI_RTCP_FMT_NACK && fmt != XI_RTCP_FMT_TWCC)
			return XI_RTCP_BAD_UNKNOWN_FMT;
	} else if (plen > left) {
		return XI_RTCP_BAD_MALFORMED;
	}
	return -1;
}

int xi_rtcp_bad_reason(const uint8_t *buf, size_t len)
{
	struct xi_rtcp_compound c;
	size_t at = 0;

	while (at < len) {
		int r = packet_reason(buf + at, len - at);

		if (r >= 0)
			return r;
		at += ((size_t)buf[at + 2] << 8 | buf[at + 3]) * 4 + 4;
	}
	if (len == 0 || xi_rtcp_compound_parse(buf, len, &c))
		return XI_RTCP_BAD_MALFORMED;
	return -1;
}
