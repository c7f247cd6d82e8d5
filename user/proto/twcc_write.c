// SPDX-License-Identifier: MIT
/* See twcc_write.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <xicept/rtcp.h>

#include "user/lib/bytes.h"
#include "user/proto/twcc_write.h"

#define RUN_MIN 7
#define RUN_MAX 0x1fff

static size_t run_at(const struct xi_twcc_fb *fb, size_t i)
{
	size_t k = i + 1;

	while (k < fb->n && fb->status[k] == fb->status[i] && k - i < RUN_MAX)
		k++;
	return k - i;
}

static int put16(uint8_t *buf, size_t cap, size_t *at, uint16_t v)
{
	if (*at + 2 > cap)
		return -ENOSPC;
	xi_put_be16(buf + *at, v);
	*at += 2;
	return 0;
}

static int chunks_write(const struct xi_twcc_fb *fb, uint8_t *buf, size_t cap, size_t *at)
{
	size_t i = 0;
	int r = 0;

	while (!r && i < fb->n) {
		size_t run = run_at(fb, i), k;
		bool large = false;
		uint16_t c;

		if (run >= RUN_MIN || i + run == fb->n || fb->n - i < RUN_MIN) {
			run = run < RUN_MAX ? run : RUN_MAX;
			r = put16(buf, cap, at, (uint16_t)(fb->status[i] << 13 | run));
			i += run;
			continue;
		}
		for (k = i; k < i + 14 && k < fb->n; k++)
			large |= fb->status[k] == XI_TWCC_LARGE_DELTA;
		if (!large && i + 14 <= fb->n) {
			c = 0x8000;
			for (k = 0; k < 14; k++)
				c |= (uint16_t)((fb->status[i + k] ? 1u : 0u) << (13 - k));
			i += 14;
		} else {
			c = 0xc000;
			for (k = 0; k < 7; k++)
				c |= (uint16_t)(fb->status[i + k] << (12 - 2 * k));
			i += 7;
		}
		r = put16(buf, cap, at, c);
	}
	return r;
}

static int deltas_write(const struct xi_twcc_fb *fb, uint8_t *buf, size_t cap, size_t *at)
{
	for (size_t i = 0; i < fb->n; i++) {
		int32_t d = fb->delta[i];

		if (fb->status[i] == XI_TWCC_SMALL_DELTA) {
			if (d < 0 || d > 255)
				return -EINVAL;
			if (*at + 1 > cap)
				return -ENOSPC;
			buf[(*at)++] = (uint8_t)d;
		} else if (fb->status[i] == XI_TWCC_LARGE_DELTA) {
			if (d < INT16_MIN || d > INT16_MAX)
				return -EINVAL;
			if (put16(buf, cap, at, (uint16_t)(int16_t)d))
				return -ENOSPC;
		} else if (fb->status[i] != XI_TWCC_NOT_RECEIVED) {
			return -EINVAL;
		}
	}
	return 0;
}

int xi_rtcp_twcc_write(const struct xi_twcc_fb *fb, uint8_t *buf, size_t cap)
{
	size_t at = 20;
	int r;

	if (!fb || !buf || !fb->n || fb->n > 0xffff || !fb->status || !fb->delta)
		return -EINVAL;
	if (cap < at)
		return -ENOSPC;
	r = chunks_write(fb, buf, cap, &at);
	if (!r)
		r = deltas_write(fb, buf, cap, &at);
	if (r)
		return r;
	while (at % 4) {
		if (at == cap)
			return -ENOSPC;
		buf[at++] = 0;
	}
	buf[0] = 0x80 | XI_RTCP_FMT_TWCC;
	buf[1] = XI_RTCP_RTPFB;
	xi_put_be16(buf + 2, (uint16_t)(at / 4 - 1));
	xi_put_be32(buf + 4, fb->sender_ssrc);
	xi_put_be32(buf + 8, fb->media_ssrc);
	xi_put_be16(buf + 12, fb->base_seq);
	xi_put_be16(buf + 14, (uint16_t)fb->n);
	buf[16] = (uint8_t)(fb->ref_time >> 16);
	buf[17] = (uint8_t)(fb->ref_time >> 8);
	buf[18] = (uint8_t)fb->ref_time;
	buf[19] = fb->fb_pkt_count;
	return (int)at;
}
