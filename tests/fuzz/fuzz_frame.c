// SPDX-License-Identifier: MIT
/*
 * Frames as the wire delivers them, through the C twin of xi_entry's parser
 * and classifier (the reference the XDP program is tested against). A frame
 * that parses to UDP must have its layers in order and inside the frame; the
 * classifier must only report RTP header fields that lie in the payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user/twin/twin.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xi_flow_key key;
	struct xi_pkt_ctx ctx;
	uint32_t r;

	memset(&ctx, 0, sizeof(ctx));
	r = xi_twin_parse_frame(data, size, &key, &ctx);
	CHECK(r <= XI_TWIN_PARSED);
	if (r != XI_TWIN_PARSED)
		return 0;
	CHECK(ctx.l3_off >= 14 && ctx.l3_off < ctx.l4_off);
	CHECK(ctx.l4_off + 8u == ctx.payload_off);
	CHECK((size_t)ctx.payload_off + ctx.payload_len <= size);

	r = xi_twin_classify_payload(data + ctx.payload_off, ctx.payload_len, &ctx);
	CHECK(r < XI_REASON__MAX);
	if (r == XI_REASON_RTP)
		CHECK((size_t)ctx.rtp_hdr_len + ctx.rtp_pad_len <= ctx.payload_len &&
		      ctx.rtp_hdr_len >= 12 && ctx.payload_type < 128);
	if (r == XI_REASON_RTCP)
		CHECK(ctx.payload_len >= 8 && ctx.is_rtcp);
	return 0;
}
