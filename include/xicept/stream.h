/* SPDX-License-Identifier: MIT */
/* What pion's interceptor.StreamInfo carries, as a flat struct the caller owns. */
#ifndef XICEPT_STREAM_H
#define XICEPT_STREAM_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XI_STREAM_ID_MAX       64
#define XI_STREAM_MIME_MAX     64
#define XI_STREAM_FMTP_MAX     256
#define XI_STREAM_URI_MAX      128
#define XI_STREAM_FB_STR_MAX   32
#define XI_STREAM_MAX_HDR_EXT  16
#define XI_STREAM_MAX_FEEDBACK 16

struct xi_rtp_header_extension_info {
	char uri[XI_STREAM_URI_MAX];
	uint8_t id;                      /* 1..14 one-byte, 1..255 two-byte */
};

struct xi_rtcp_feedback_info {
	char type[XI_STREAM_FB_STR_MAX];      /* "nack", "ccm", "goog-remb", ... */
	char parameter[XI_STREAM_FB_STR_MAX]; /* "", "pli", "fir", ... */
};

struct xi_stream_info {
	char id[XI_STREAM_ID_MAX];
	uint32_t ssrc;
	uint32_t ssrc_rtx;               /* 0 when absent */
	uint32_t ssrc_fec;               /* 0 when absent */
	uint8_t payload_type;
	uint8_t payload_type_rtx;
	uint8_t payload_type_fec;
	uint32_t clock_rate;             /* Hz, e.g. 90000 for video */
	uint16_t channels;
	char mime_type[XI_STREAM_MIME_MAX];
	char sdp_fmtp_line[XI_STREAM_FMTP_MAX];
	size_t n_header_extensions;
	struct xi_rtp_header_extension_info header_extensions[XI_STREAM_MAX_HDR_EXT];
	size_t n_rtcp_feedback;
	struct xi_rtcp_feedback_info rtcp_feedback[XI_STREAM_MAX_FEEDBACK];
};

/* Returns 1 when info lists RTCP feedback of this type (and parameter, when
 * parameter is non-NULL), else 0. */
XI_API int xi_stream_info_has_feedback(const struct xi_stream_info *info,
				const char *type, const char *parameter);

/* Returns the header extension id negotiated for uri, or -ENOENT. */
XI_API int xi_stream_info_ext_id(const struct xi_stream_info *info, const char *uri);

#ifdef __cplusplus
}
#endif
#endif
