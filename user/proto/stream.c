// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <xicept/stream.h>

/* Counts come from callers; never trust them past the arrays. */
static size_t clamp_count(size_t n, size_t max)
{
	return n < max ? n : max;
}

int xi_stream_info_has_feedback(const struct xi_stream_info *info,
				const char *type, const char *parameter)
{
	size_t n;

	if (!info || !type)
		return 0;
	n = clamp_count(info->n_rtcp_feedback, XI_STREAM_MAX_FEEDBACK);
	for (size_t i = 0; i < n; i++) {
		const struct xi_rtcp_feedback_info *fb = &info->rtcp_feedback[i];

		if (strncmp(fb->type, type, sizeof(fb->type)) != 0)
			continue;
		if (!parameter || strncmp(fb->parameter, parameter, sizeof(fb->parameter)) == 0)
			return 1;
	}
	return 0;
}

int xi_stream_info_ext_id(const struct xi_stream_info *info, const char *uri)
{
	size_t n;

	if (!info || !uri)
		return -EINVAL;
	n = clamp_count(info->n_header_extensions, XI_STREAM_MAX_HDR_EXT);
	for (size_t i = 0; i < n; i++) {
		const struct xi_rtp_header_extension_info *e = &info->header_extensions[i];

		if (strncmp(e->uri, uri, sizeof(e->uri)) == 0)
			return e->id;
	}
	return -ENOENT;
}
