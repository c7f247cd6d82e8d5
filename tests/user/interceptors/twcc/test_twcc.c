// SPDX-License-Identifier: MIT
/*
 * twcc through a chain from the catalog: RTP read through a bound remote
 * stream carries the transport-wide number in one-byte element 5; poll()
 * writes RTPFB FMT 15 feedback, decoded here with the library's parser:
 * base, count, reference time, each status and each delta at 250 us, the
 * feedback count; gaps not received, reordering, duplicates and late
 * packets as the draft and the interceptor's comment say.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/interceptors/twcc/twcc.h"

#define FIX_SINK_MAX 8
#include "user/fixtures.h"

#define SSRC 0x1234u
#define MS   1000000ull
#define T0   (64 * MS * 1000)   /* a reference-time boundary: 64 ms x 1000 */

struct rig {
	struct xi_catalog *cat;
	struct xi_chain *chain;
	struct xi_interceptor *ic;
	struct fix_sink out;
	struct fix_source src;
	struct xi_reader rd;
	uint64_t now;
};

static struct rig *rig_new(void)
{
	struct xi_stream_info info = { .ssrc = SSRC, .clock_rate = 90000 };
	struct rig *r = calloc(1, sizeof(*r));
	struct xi_err err = { 0 };

	assert_non_null(r);
	r->cat = xi_catalog_new_from_global();
	assert_int_equal(xi_catalog_build(r->cat, "twcc ext-id=5 interval=100ms sender-ssrc=0x7c7c",
					  NULL, &r->chain, &err), 0);
	r->ic = xi_chain_interceptor(r->chain);
	fix_sink_bind(&r->out, r->ic);
	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &info, fix_source_reader(&r->src),
							   &r->rd), 0);
	assert_int_equal(xi_interceptor_poll(r->ic, 0), 0);   /* arms the interval */
	return r;
}

static void rig_free(struct rig *r)
{
	assert_int_equal(xi_chain_close(r->chain, NULL), 0);
	xi_catalog_free(r->cat);
	free(r);
}

/* RTP with transport-wide number tw (element id, 2 bytes), arriving at t. */
static void rtp_in(struct rig *r, uint16_t tw, uint64_t t, uint8_t id)
{
	uint8_t d[2] = { (uint8_t)(tw >> 8), (uint8_t)tw };
	struct xi_rtp_ext_data e[2] = { { .id = 1, .len = 1, .data = d }, { .id = id, .len = 2, .data = d } };
	struct xi_rtp_header h = { .payload_type = 96, .seq = tw, .ssrc = SSRC,
				   .ext_kind = XI_RTP_EXT_ONE_BYTE };
	struct xi_attributes attrs = { 0 };
	int n = xi_rtp_header_write(&h, e, 2, r->src.pkt, sizeof(r->src.pkt));

	assert_true(n > 0);
	memset(r->src.pkt + n, 0xab, 50);
	r->src.len = (size_t)n + 50;
	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, t), 0);
	fix_read_through(&r->src, r->rd, &attrs);
}

static void feedback_due(struct rig *r)
{
	r->now += 100 * MS;
	assert_int_equal(xi_interceptor_poll(r->ic, r->now), 0);
}

/* Feedback i: base, statuses and deltas (us). */
static size_t fb_decode(struct rig *r, size_t i, uint16_t *base, uint8_t *fb_count,
			int32_t *ref, uint8_t *status, int32_t *delta)
{
	struct xi_rtcp_compound c;

	assert_true(i < r->out.n);
	assert_int_equal(r->out.len[i] % 4, 0);
	assert_int_equal(xi_rtcp_compound_parse(r->out.pkt[i], r->out.len[i], &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pkts[0].kind, XI_RTCP_KIND_TWCC);
	assert_int_equal(c.pkts[0].twcc.sender_ssrc, 0x7c7c);
	assert_int_equal(c.pkts[0].twcc.media_ssrc, SSRC);
	*base = c.pkts[0].twcc.base_seq;
	*fb_count = c.pkts[0].twcc.fb_pkt_count;
	*ref = c.pkts[0].twcc.ref_time;
	assert_int_equal(xi_rtcp_twcc_decode(&c.pkts[0], status, delta, 64),
			 c.pkts[0].twcc.status_count);
	return c.pkts[0].twcc.status_count;
}

static void test_feedback(void **state)
{
	struct rig *r = rig_new();
	uint8_t st[64], fbc;
	int32_t dl[64], ref;
	uint16_t base;
	struct xi_twcc_counts n;

	/* 65534, 65535, 0 (wrap), 1, then 2 and 3 lost, 5 before 4, 4 twice,
	 * 6 after 100 ms (a large delta), 7 with the wrong element id */
	rtp_in(r, 65534, T0 + 1 * MS, 5);
	rtp_in(r, 65535, T0 + 1 * MS + 250000, 5);
	rtp_in(r, 0, T0 + 2 * MS, 5);
	rtp_in(r, 1, T0 + 70 * MS, 5);            /* 68 ms later: 272 ticks, large */
	rtp_in(r, 5, T0 + 71 * MS, 5);
	rtp_in(r, 4, T0 + 72 * MS, 5);
	rtp_in(r, 4, T0 + 73 * MS, 5);
	rtp_in(r, 6, T0 + 172 * MS, 5);
	rtp_in(r, 7, T0 + 173 * MS, 4);
	feedback_due(r);
	assert_int_equal(r->out.n, 1);
	assert_int_equal(fb_decode(r, 0, &base, &fbc, &ref, st, dl), 9);
	assert_int_equal(base, 65534);
	assert_int_equal(fbc, 0);
	assert_int_equal(ref, 1000);
	{
		static const uint8_t want_st[] = { 1, 1, 1, 2, 0, 0, 1, 2, 2 };
		/* 65534: 1 ms after the reference; 65535: +0.25; 0: +0.75;
		 * 1: +68 (large); 2, 3: none; in number order 4 (72 ms, its
		 * first copy) then 5 (71 ms): +2, then -1 (large); 6: +101. */
		static const int32_t want_dl[] = { 1000, 250, 750, 68000, 0, 0, 2000, -1000, 101000 };

		assert_memory_equal(st, want_st, sizeof(want_st));
		assert_memory_equal(dl, want_dl, sizeof(want_dl));
	}
	assert_int_equal(xi_twcc_counts(xi_chain_element(r->chain, 0), &n), 0);
	assert_int_equal(n.received, 8);
	assert_int_equal(n.duplicates, 1);
	assert_int_equal(n.feedbacks, 1);
	/* the next feedback goes on from 7; 3, late, is not reported again */
	rtp_in(r, 3, T0 + 200 * MS, 5);
	rtp_in(r, 8, T0 + 201 * MS, 5);
	feedback_due(r);
	assert_int_equal(r->out.n, 2);
	assert_int_equal(fb_decode(r, 1, &base, &fbc, &ref, st, dl), 2);
	assert_int_equal(base, 7);
	assert_int_equal(fbc, 1);
	assert_int_equal(ref, (int32_t)((T0 + 201 * MS) / (64 * MS)));
	assert_int_equal(st[0], 0);
	assert_int_equal(st[1], 1);
	assert_int_equal(dl[1], (int32_t)(((T0 + 201 * MS) / 250000 - (T0 + 201 * MS) / (64 * MS) * 256) * 250));
	assert_int_equal(xi_twcc_counts(xi_chain_element(r->chain, 0), &n), 0);
	assert_int_equal(n.late, 1);
	/* nothing new: no feedback */
	feedback_due(r);
	assert_int_equal(r->out.n, 2);
	rig_free(r);
}

static void test_long_gap_splits(void **state)
{
	struct rig *r = rig_new();
	uint8_t st[64], fbc;
	int32_t dl[64], ref;
	uint16_t base;

	/* 9 s between two packets: no 16-bit delta holds it */
	rtp_in(r, 10, T0, 5);
	rtp_in(r, 11, T0 + 9000 * MS, 5);
	feedback_due(r);
	assert_int_equal(r->out.n, 2);
	assert_int_equal(fb_decode(r, 0, &base, &fbc, &ref, st, dl), 1);
	assert_int_equal(base, 10);
	assert_int_equal(fb_decode(r, 1, &base, &fbc, &ref, st, dl), 1);
	assert_int_equal(base, 11);
	assert_int_equal(fbc, 1);
	assert_int_equal(ref, (int32_t)((T0 + 9000 * MS) / (64 * MS)));
	rig_free(r);
}

static void test_config(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_int_equal(xi_catalog_build(cat, "twcc", NULL, &chain, &err), -EINVAL);
	assert_int_equal(xi_catalog_build(cat, "twcc ext-id=15", NULL, &chain, &err), -EINVAL);
	assert_int_equal(xi_catalog_build(cat, "twcc ext-id=1 interval=0s", NULL, &chain, &err),
			 -EINVAL);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feedback),
		cmocka_unit_test(test_long_gap_splits),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
