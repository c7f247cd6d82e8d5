// SPDX-License-Identifier: MIT
/*
 * nack-generator, driven through a chain built from the catalog: RTP goes in
 * through the bound remote-stream reader, and the NACKs that poll() writes
 * are decoded with the library's RTCP parser.
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

#define FIX_SINK_MAX 16
#include "user/fixtures.h"

#define MEDIA    0x0a0b0c0du
#define OTHER    0x01020304u
#define SENDER   0x5e5e5e5eu
#define MS       1000000ull

struct rig {
	struct xi_catalog *cat;
	struct xi_chain *chain;
	struct xi_interceptor *ic;
	struct fix_source src;
	struct fix_sink out;
	uint64_t now;
};

/* Builds the chain, binds the sink and arms the timer at t = 0. */
static struct rig *rig_new(const char *text)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct xi_err err = { 0 };

	assert_non_null(r);
	r->cat = xi_catalog_new_from_global();
	assert_non_null(r->cat);
	assert_int_equal(xi_catalog_build(r->cat, text, NULL, &r->chain, &err), 0);
	r->ic = xi_chain_interceptor(r->chain);
	fix_sink_bind(&r->out, r->ic);
	assert_int_equal(xi_interceptor_poll(r->ic, 0), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	assert_int_equal(xi_chain_close(r->chain, NULL), 0);
	xi_catalog_free(r->cat);
	free(r);
}

static struct xi_stream_info info_of(uint32_t ssrc, const char *fb_type, const char *fb_param)
{
	struct xi_stream_info info = { .ssrc = ssrc, .clock_rate = 90000 };

	if (fb_type) {
		strcpy(info.rtcp_feedback[0].type, fb_type);
		strcpy(info.rtcp_feedback[0].parameter, fb_param);
		info.n_rtcp_feedback = 1;
	}
	return info;
}

static struct xi_reader rig_stream(struct rig *r, uint32_t ssrc, const char *fb_type,
				   const char *fb_param)
{
	struct xi_stream_info info = info_of(ssrc, fb_type, fb_param);
	struct xi_reader rd = fix_source_reader(&r->src), ret;

	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &info, rd, &ret), 0);
	return ret;
}

static void rtp_in(struct rig *r, struct xi_reader rd, uint32_t ssrc, uint16_t seq)
{
	struct xi_attributes attrs = { 0 };

	fix_rtp_make(&r->src, ssrc, seq, 0, 0, 0);
	fix_read_through(&r->src, rd, &attrs);
}

static void rtp_run(struct rig *r, struct xi_reader rd, uint16_t from, uint16_t to)
{
	for (uint16_t s = from; s != (uint16_t)(to + 1); s++)
		rtp_in(r, rd, MEDIA, s);
}

/* One interval (the default 100 ms) later. */
static void tick(struct rig *r)
{
	r->now += 100 * MS;
	assert_int_equal(xi_interceptor_poll(r->ic, r->now), 0);
}

/* Decodes sink packet i as one generic NACK and returns what it asks for. */
static size_t nack_decode(struct rig *r, size_t i, uint32_t sender, uint32_t media,
			  uint16_t *seqs, size_t cap)
{
	struct xi_rtcp_compound c;
	int n;

	assert_true(i < r->out.n);
	assert_int_equal(xi_rtcp_compound_parse(r->out.pkt[i], r->out.len[i], &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pkts[0].kind, XI_RTCP_KIND_NACK);
	assert_int_equal(c.pkts[0].type, 205);
	assert_int_equal(c.pkts[0].count, 1);
	if (sender)
		assert_int_equal(c.pkts[0].fb.sender_ssrc, sender);
	assert_int_equal(c.pkts[0].fb.media_ssrc, media);
	n = xi_rtcp_nack_expand(&c.pkts[0], seqs, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static void assert_nack(struct rig *r, size_t i, const uint16_t *want, size_t n)
{
	uint16_t got[128];

	assert_int_equal(nack_decode(r, i, SENDER, MEDIA, got, 128), n);
	assert_memory_equal(got, want, n * sizeof(*want));
}

#define NACK_CHAIN "nack-generator sender-ssrc=0x5e5e5e5e"

/* ---- basics ---- */

static void test_missing_are_nacked(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN);
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	const uint16_t want[] = { 4, 5, 8 };

	rtp_run(r, rd, 1, 3);
	rtp_in(r, rd, MEDIA, 6);
	rtp_in(r, rd, MEDIA, 7);
	rtp_run(r, rd, 9, 10);
	r->now = 99 * MS;
	assert_int_equal(xi_interceptor_poll(r->ic, r->now), 0);
	assert_int_equal(r->out.n, 0);	/* not yet one interval */
	r->now = 100 * MS;
	assert_int_equal(xi_interceptor_poll(r->ic, r->now), 0);
	assert_int_equal(r->out.n, 1);
	assert_int_equal(r->out.len[0], 16);	/* one PID/BLP pair */
	assert_nack(r, 0, want, 3);
	/* Still missing: asked again every interval (max-nacks is 0). */
	tick(r);
	assert_int_equal(r->out.n, 2);
	assert_nack(r, 1, want, 3);
	/* Retransmissions arrive: nothing left to ask for. */
	rtp_in(r, rd, MEDIA, 4);
	rtp_in(r, rd, MEDIA, 8);
	rtp_in(r, rd, MEDIA, 5);
	tick(r);
	assert_int_equal(r->out.n, 2);
	rig_free(r);
}

static void test_no_loss_no_nack(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN);
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");

	rtp_run(r, rd, 100, 400);
	rtp_in(r, rd, MEDIA, 300);	/* a duplicate changes nothing */
	tick(r);
	tick(r);
	assert_int_equal(r->out.n, 0);
	rig_free(r);
}

static void test_wraparound(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN);
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	const uint16_t want[] = { 65535, 0, 3 };

	rtp_run(r, rd, 65530, 65534);
	rtp_run(r, rd, 1, 2);
	rtp_run(r, rd, 4, 6);
	tick(r);
	assert_nack(r, 0, want, 3);
	rig_free(r);
}

/* ---- keys ---- */

static void test_skip_last_n(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " skip-last-n=2");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	const uint16_t first[] = { 2 }, later[] = { 2, 4 };

	rtp_in(r, rd, MEDIA, 1);
	rtp_in(r, rd, MEDIA, 3);
	rtp_in(r, rd, MEDIA, 5);
	tick(r);
	assert_nack(r, 0, first, 1);	/* 4 and 5 are among the last two */
	rtp_in(r, rd, MEDIA, 6);
	tick(r);
	assert_nack(r, 1, later, 2);
	rig_free(r);
}

static void test_max_nacks(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " max-nacks=2");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	const uint16_t a[] = { 3 }, b[] = { 3, 7 }, c[] = { 7 };

	rtp_run(r, rd, 1, 2);
	rtp_run(r, rd, 4, 5);
	tick(r);
	assert_nack(r, 0, a, 1);
	rtp_in(r, rd, MEDIA, 6);
	rtp_in(r, rd, MEDIA, 8);
	tick(r);
	assert_nack(r, 1, b, 2);
	tick(r);			/* 3 was asked for twice: only 7 now */
	assert_nack(r, 2, c, 1);
	tick(r);
	assert_int_equal(r->out.n, 3);	/* both exhausted */
	rig_free(r);
}

/* A gap of size or more starts the log afresh instead of a NACK storm. */
static void test_jump_past_size_resets(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " size=64");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	const uint16_t want[] = { 201, 202 };

	rtp_run(r, rd, 1, 2);
	rtp_in(r, rd, MEDIA, 66);	/* 64 ahead of 2 */
	tick(r);
	assert_int_equal(r->out.n, 0);
	rtp_in(r, rd, MEDIA, 200);	/* a reset again: 67 .. 199 are not asked for */
	rtp_in(r, rd, MEDIA, 203);
	tick(r);
	assert_int_equal(r->out.n, 1);
	assert_nack(r, 0, want, 2);
	rig_free(r);
}

/* Within size, a jump gives up on the numbers whose slots it reuses. */
static void test_jump_within_size_drops_oldest(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " size=64");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	uint16_t want[64], got[128];
	size_t n = 0;

	rtp_in(r, rd, MEDIA, 0);
	rtp_in(r, rd, MEDIA, 50);
	rtp_in(r, rd, MEDIA, 100);
	for (uint16_t s = 37; s < 100; s++)
		if (s != 50)
			want[n++] = s;
	tick(r);
	assert_int_equal(n, 62);
	assert_int_equal(nack_decode(r, 0, SENDER, MEDIA, got, 128), n);
	assert_memory_equal(got, want, n * sizeof(*want));
	rig_free(r);
}

/* A packet older than the log must not mark the newer number sharing its slot. */
static void test_late_outside_window_ignored(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " size=64");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	const uint16_t want[] = { 164 };

	rtp_run(r, rd, 130, 163);
	rtp_run(r, rd, 165, 194);
	rtp_in(r, rd, MEDIA, 100);	/* slot 100 % 64 == 164 % 64 */
	tick(r);
	assert_nack(r, 0, want, 1);
	rig_free(r);
}

/* A long loss list becomes several NACKs, each small enough for one frame. */
static void test_long_list_split(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " size=32768");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	static uint16_t got[40000];
	size_t total = 0;

	rtp_in(r, rd, MEDIA, 0);
	rtp_in(r, rd, MEDIA, 32000);
	tick(r);
	/* 31999 numbers, 17 per pair: 1883 pairs, 256 per packet. */
	assert_int_equal(r->out.n, 8);
	for (size_t i = 0; i < r->out.n; i++) {
		assert_int_equal(r->out.len[i], i < 7 ? 12 + 4 * 256 : 12 + 4 * (1883 - 7 * 256));
		total += nack_decode(r, i, SENDER, MEDIA, got + total, 40000 - total);
	}
	assert_int_equal(total, 31999);
	for (size_t i = 0; i < total; i++)
		assert_int_equal(got[i], i + 1);
	rig_free(r);
}

/*
 * Against a model: after any mix of in-order packets, losses, late arrivals
 * and duplicates (gaps below size, so no reset), the NACK asks for exactly
 * the numbers of the last `size` not received, minus the newest skip-last-n.
 */
static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void test_matches_model(void **state)
{
	enum { SIZE = 128, SKIP = 3, START = 65000, STEPS = 40000, SPAN = 1 << 18 };
	struct rig *r = rig_new(NACK_CHAIN " size=128 skip-last-n=3");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	uint8_t *got_rx = calloc(SPAN, 1);	/* received, by extended number */
	uint16_t want[SIZE], got[SIZE * 2];
	int64_t end = START;
	uint32_t rng = 0x12345678u;
	size_t checks = 0;

	assert_non_null(got_rx);
	got_rx[end] = 1;
	rtp_in(r, rd, MEDIA, (uint16_t)end);
	for (int step = 0; step < STEPS; step++) {
		uint32_t dice = xorshift(&rng) % 100;
		int64_t x;

		if (dice < 70)
			x = end + 1;
		else if (dice < 85)
			x = end + 2 + xorshift(&rng) % 20;	/* a loss burst */
		else
			x = end - (int64_t)(xorshift(&rng) % 160);	/* late or duplicate */
		if (x < START)
			x = START;
		got_rx[x] = 1;
		if (x > end)
			end = x;
		rtp_in(r, rd, MEDIA, (uint16_t)x);
		if (step % 50 != 49)
			continue;

		size_t n = 0, k;
		int64_t lo = end - SIZE + 1 > START ? end - SIZE + 1 : START;

		for (x = lo; x <= end - SKIP; x++)
			if (!got_rx[x])
				want[n++] = (uint16_t)x;
		r->out.n = 0;
		tick(r);
		if (n == 0) {
			assert_int_equal(r->out.n, 0);
			continue;
		}
		assert_int_equal(r->out.n, 1);
		k = nack_decode(r, 0, SENDER, MEDIA, got, SIZE * 2);
		assert_int_equal(k, n);
		assert_memory_equal(got, want, n * sizeof(*want));
		checks++;
	}
	assert_true(end > START + 65536);	/* it wrapped */
	assert_true(checks > 600);		/* most checks saw losses */
	free(got_rx);
	rig_free(r);
}

/* ---- which streams ---- */

static void test_stream_filter(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN);
	struct xi_stream_info plain = info_of(OTHER, NULL, NULL);
	struct xi_stream_info pli = info_of(OTHER, "nack", "pli");
	struct xi_reader rd = fix_source_reader(&r->src), ret;

	/* Without plain "nack" feedback the stream is not wrapped at all. */
	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &plain, rd, &ret), 0);
	assert_ptr_equal(ret.read, fix_source_read);
	assert_ptr_equal(ret.ctx, &r->src);
	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &pli, rd, &ret), 0);
	assert_ptr_equal(ret.read, fix_source_read);
	rig_free(r);

	r = rig_new(NACK_CHAIN " streams=all ssrc=0x0a0b0c0d");
	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &plain, rd, &ret), 0);
	assert_ptr_equal(ret.read, fix_source_read);	/* not in the ssrc list */
	ret = rig_stream(r, MEDIA, NULL, NULL);
	assert_ptr_not_equal(ret.read, fix_source_read);
	rtp_in(r, ret, MEDIA, 1);
	rtp_in(r, ret, MEDIA, 3);
	tick(r);
	assert_nack(r, 0, (const uint16_t[]){ 2 }, 1);
	rig_free(r);
}

static void test_two_streams_and_unbind(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN " streams=all");
	struct xi_reader ra = rig_stream(r, MEDIA, NULL, NULL);
	struct xi_reader rb = rig_stream(r, OTHER, NULL, NULL);
	struct xi_stream_info ia = info_of(MEDIA, NULL, NULL);
	uint16_t got[32];

	rtp_in(r, ra, MEDIA, 10);
	rtp_in(r, ra, MEDIA, 12);
	rtp_in(r, rb, OTHER, 500);
	rtp_in(r, rb, OTHER, 503);
	rtp_in(r, rb, MEDIA, 900);	/* another SSRC on b's reader: not b's */
	tick(r);
	assert_int_equal(r->out.n, 2);
	assert_int_equal(nack_decode(r, 0, SENDER, MEDIA, got, 32), 1);
	assert_int_equal(got[0], 11);
	assert_int_equal(nack_decode(r, 1, SENDER, OTHER, got, 32), 2);
	assert_int_equal(got[0], 501);
	assert_int_equal(got[1], 502);
	xi_interceptor_unbind_remote_stream(r->ic, &ia);
	tick(r);
	assert_int_equal(r->out.n, 3);
	assert_int_equal(nack_decode(r, 2, SENDER, OTHER, got, 32), 2);
	rig_free(r);
}

/* Garbage passes through untouched and is not logged. */
static void test_not_rtp_passes(void **state)
{
	struct rig *r = rig_new(NACK_CHAIN);
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	uint8_t buf[64];

	rtp_in(r, rd, MEDIA, 1);
	memset(r->src.pkt, 0xff, 5);
	r->src.len = 5;
	assert_int_equal(xi_reader_read(rd, buf, sizeof(buf), NULL), 5);
	assert_memory_equal(buf, r->src.pkt, 5);
	rtp_in(r, rd, MEDIA, 2);
	tick(r);
	assert_int_equal(r->out.n, 0);
	rig_free(r);
}

static void test_random_sender_ssrc(void **state)
{
	struct rig *r = rig_new("nack-generator interval=20ms");
	struct xi_reader rd = rig_stream(r, MEDIA, "nack", "");
	struct xi_rtcp_compound c;

	rtp_in(r, rd, MEDIA, 1);
	rtp_in(r, rd, MEDIA, 3);
	r->now = 19 * MS;
	assert_int_equal(xi_interceptor_poll(r->ic, r->now), 0);
	assert_int_equal(r->out.n, 0);
	r->now = 20 * MS;
	assert_int_equal(xi_interceptor_poll(r->ic, r->now), 0);
	assert_int_equal(r->out.n, 1);
	assert_int_equal(xi_rtcp_compound_parse(r->out.pkt[0], r->out.len[0], &c), 0);
	assert_int_not_equal(c.pkts[0].fb.sender_ssrc, 0);
	rig_free(r);
}

static void test_config_errors(void **state)
{
	static const char *const bad[] = {
		"nack-generator size=100",
		"nack-generator size=32",
		"nack-generator size=65536",
		"nack-generator interval=0ms",
		"nack-generator streams=some",
		"nack-generator max-nacks=70000",
	};
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_non_null(cat);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xi_catalog_build(cat, bad[i], NULL, &chain, &err), -EINVAL);
	assert_int_equal(xi_catalog_build(cat, "nack-generator size=100", NULL, &chain, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "nack-generator: size: 100 is not a power of two");
	assert_int_equal(xi_catalog_build(cat, "nack-generator size=64 skip-last-n=3 "
					  "max-nacks=5 interval=1s streams=all ssrc=1,2",
					  NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_are_nacked),
		cmocka_unit_test(test_no_loss_no_nack),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_skip_last_n),
		cmocka_unit_test(test_max_nacks),
		cmocka_unit_test(test_jump_past_size_resets),
		cmocka_unit_test(test_jump_within_size_drops_oldest),
		cmocka_unit_test(test_late_outside_window_ignored),
		cmocka_unit_test(test_long_list_split),
		cmocka_unit_test(test_matches_model),
		cmocka_unit_test(test_stream_filter),
		cmocka_unit_test(test_two_streams_and_unbind),
		cmocka_unit_test(test_not_rtp_passes),
		cmocka_unit_test(test_random_sender_ssrc),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
