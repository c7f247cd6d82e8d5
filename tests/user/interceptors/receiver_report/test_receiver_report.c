// SPDX-License-Identifier: MIT
/*
 * receiver-report, driven through a chain built from the catalog: RTP goes in
 * through the bound remote-stream reader, SRs through the RTCP reader, and
 * the RRs that poll() writes are decoded with the library's RTCP parser.
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

#include "user/proto/rtp_seq.h"

#define FIX_SINK_MAX 8
#include "user/fixtures.h"

#define SSRC_A   0x11111111u
#define SSRC_B   0x22222222u
#define REPORTER 0xfeedbeefu
#define SEC      1000000000ull

/* ---- a chain with a packet source and an RTCP sink ---- */

struct rig {
	struct xi_catalog *cat;
	struct xi_chain *chain;
	struct xi_interceptor *ic;
	struct fix_source src;
	struct fix_sink out;
	struct xi_reader rtcp_in;
};

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
	assert_int_equal(xi_interceptor_bind_rtcp_reader(r->ic, fix_source_reader(&r->src),
							 &r->rtcp_in), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	assert_int_equal(xi_chain_close(r->chain, NULL), 0);
	xi_catalog_free(r->cat);
	free(r);
}

static struct xi_reader rig_stream(struct rig *r, uint32_t ssrc, uint32_t clock_rate)
{
	struct xi_stream_info info = { .ssrc = ssrc, .clock_rate = clock_rate };
	struct xi_reader rd = fix_source_reader(&r->src), ret;

	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &info, rd, &ret), 0);
	return ret;
}

/* Reads one RTP packet through the chain, arriving at arrival_ns. */
static void rtp_in(struct rig *r, struct xi_reader rd, uint32_t ssrc, uint16_t seq,
		   uint32_t ts, uint64_t arrival_ns)
{
	struct xi_attributes attrs = { 0 };

	fix_rtp_make(&r->src, ssrc, seq, ts, 100, 0xab);
	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, arrival_ns), 0);
	fix_read_through(&r->src, rd, &attrs);
}

/* Arms the timer at t and fires it one interval (1 s) later. */
static void report_at(struct rig *r, uint64_t t)
{
	assert_int_equal(xi_interceptor_poll(r->ic, t), 0);
	assert_int_equal(xi_interceptor_poll(r->ic, t + SEC), 0);
}

/* Decodes sink packet i as one RR from REPORTER with n blocks. */
static void rr_decode(struct rig *r, size_t i, size_t n, struct xi_rtcp_report_block *ret)
{
	struct xi_rtcp_compound c;

	assert_true(i < r->out.n);
	assert_int_equal(xi_rtcp_compound_parse(r->out.pkt[i], r->out.len[i], &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pkts[0].kind, XI_RTCP_KIND_RR);
	assert_int_equal(c.pkts[0].rr.ssrc, REPORTER);
	assert_int_equal(c.pkts[0].rr.report_count, n);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(xi_rtcp_report_block(&c.pkts[0], k, &ret[k]), 0);
	assert_int_equal(xi_rtcp_report_block(&c.pkts[0], n, &ret[0]), -ERANGE);
}

#define RR_CHAIN "receiver-report sender-ssrc=0xfeedbeef"

/* ---- the examples of the issue ---- */

static void test_gap_fraction_85(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	rtp_in(r, rd, SSRC_A, 1, 0, 0);
	rtp_in(r, rd, SSRC_A, 3, 0, 0);
	report_at(r, 0);
	assert_int_equal(r->out.n, 1);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ssrc, SSRC_A);
	assert_int_equal(b.fraction_lost, 85);
	assert_int_equal(b.cumulative_lost, 1);
	assert_int_equal(b.ext_highest_seq, 3);
	assert_int_equal(b.jitter, 0);
	assert_int_equal(b.lsr, 0);
	assert_int_equal(b.dlsr, 0);
	rig_free(r);
}

static void test_wrap_with_reorder(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	rtp_in(r, rd, SSRC_A, 0xffff, 0, 0);
	rtp_in(r, rd, SSRC_A, 0x0000, 0, 0);
	rtp_in(r, rd, SSRC_A, 0xfffe, 0, 0);
	report_at(r, 0);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ext_highest_seq, 65536);
	assert_int_equal(b.cumulative_lost, 0);
	assert_int_equal(b.fraction_lost, 0);
	rig_free(r);
}

static void test_jitter_1875(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	rtp_in(r, rd, SSRC_A, 100, 5000, 1 * SEC);
	rtp_in(r, rd, SSRC_A, 101, 65000, 2 * SEC);
	report_at(r, 2 * SEC);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.jitter, 1875);
	assert_int_equal(b.cumulative_lost, 0);
	assert_int_equal(b.ext_highest_seq, 101);
	rig_free(r);
}

/* ---- loss at video rates, wraparound, restarts ---- */

/* 100,000 packets, every hundredth lost, across a wrap: a 128-packet window
 * would report almost none of it. Two reports check the A.3 intervals too. */
static void test_one_percent_loss_at_scale(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;
	uint64_t t = SEC;

	for (uint32_t i = 0; i < 100000; i++) {
		if (i == 50000)
			report_at(r, t);
		if (i % 100 == 50)
			continue;
		/* 1000 packets/s, 90 ticks apart: a steady stream, no jitter. */
		rtp_in(r, rd, SSRC_A, (uint16_t)(40000 + i), i * 90,
		       t + (uint64_t)i * 1000000);
	}
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.cumulative_lost, 500);
	assert_int_equal(b.ext_highest_seq, 40000 + 49999);
	assert_int_equal(b.fraction_lost, 500 * 256 / 50000);   /* 2 */
	assert_int_equal(xi_interceptor_poll(r->ic, 200 * SEC), 0);
	assert_int_equal(r->out.n, 2);
	rr_decode(r, 1, 1, &b);
	assert_int_equal(b.cumulative_lost, 1000);
	assert_int_equal(b.ext_highest_seq, 40000 + 99999);      /* cycle 2 */
	assert_int_equal(b.ext_highest_seq >> 16, 2);
	assert_int_equal(b.fraction_lost, 500 * 256 / 50000);
	assert_int_equal(b.jitter, 0);
	rig_free(r);
}

/* Steps of 2999, inside MAX_DROPOUT, wrap every 22 packets: 3000 packets
 * cover 137 cycles and lose more than 24 bits can say. */
static void test_many_cycles_and_clamp(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	for (uint32_t i = 0; i < 3000; i++)
		rtp_in(r, rd, SSRC_A, (uint16_t)(i * 2999), 0, 0);
	report_at(r, 0);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ext_highest_seq, 2999u * 2999u);
	assert_int_equal(b.ext_highest_seq >> 16, 137);
	assert_int_equal(b.cumulative_lost, 0x7fffff);
	/* (8994002 - 3000) * 256 / 8994002 */
	assert_int_equal(b.fraction_lost, 255);
	rig_free(r);
}

/* A.1: a jump past MAX_DROPOUT is set aside; the next packet in sequence
 * after it confirms a restart and the statistics start over. */
static void test_big_jump_restarts(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	rtp_in(r, rd, SSRC_A, 10, 0, 0);
	rtp_in(r, rd, SSRC_A, 12, 0, 0);
	rtp_in(r, rd, SSRC_A, 30000, 0, 0);   /* set aside */
	report_at(r, 0);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ext_highest_seq, 12);
	assert_int_equal(b.cumulative_lost, 1);
	assert_int_equal(b.fraction_lost, 85);
	rtp_in(r, rd, SSRC_A, 30001, 0, 0);   /* confirms the restart */
	rtp_in(r, rd, SSRC_A, 30003, 0, 0);
	assert_int_equal(xi_interceptor_poll(r->ic, 2 * SEC), 0);
	rr_decode(r, 1, 1, &b);
	assert_int_equal(b.ext_highest_seq, 30003);
	assert_int_equal(b.cumulative_lost, 1);
	assert_int_equal(b.fraction_lost, 85);
	rig_free(r);
}

/* A duplicate counts as received (A.3), so loss can be negative; the
 * fraction is then 0 rather than a wrapped value. */
static void test_duplicate_negative_loss(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	rtp_in(r, rd, SSRC_A, 7, 0, 0);
	rtp_in(r, rd, SSRC_A, 8, 0, 0);
	rtp_in(r, rd, SSRC_A, 8, 0, 0);
	report_at(r, 0);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.cumulative_lost, -1);
	assert_int_equal(b.fraction_lost, 0);
	assert_int_equal(b.ext_highest_seq, 8);
	rig_free(r);
}

static void test_seq_clamps_negative(void **state)
{
	struct xi_rtp_seq s = { 0 };

	assert_true(xi_rtp_seq_update(&s, 5));
	s.received = 9000000;	/* only duplicates could get here */
	assert_int_equal(xi_rtp_seq_cumulative_lost(&s), -0x800000);
	assert_int_equal(xi_rtp_seq_fraction_lost(&s), 0);
	s.received = 0;
	s.base = -20000000;
	assert_int_equal(xi_rtp_seq_cumulative_lost(&s), 0x7fffff);
}

/* ---- LSR/DLSR ---- */

static void sr_in(struct rig *r, uint32_t ssrc, uint64_t ntp, uint64_t arrival_ns)
{
	struct xi_rtcp_sr sr = { .ssrc = ssrc, .ntp = ntp, .rtp_ts = 1234 };
	struct xi_attributes attrs = { 0 };
	int len = xi_rtcp_sr_write(&sr, NULL, 0, r->src.pkt, sizeof(r->src.pkt));

	assert_int_equal(len, 28);
	r->src.len = (size_t)len;
	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, arrival_ns), 0);
	fix_read_through(&r->src, r->rtcp_in, &attrs);
}

static void test_lsr_dlsr(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader ra = rig_stream(r, SSRC_A, 90000);
	struct xi_reader rb = rig_stream(r, SSRC_B, 48000);
	struct xi_rtcp_report_block b[2];

	rtp_in(r, ra, SSRC_A, 1, 0, 0);
	rtp_in(r, rb, SSRC_B, 1, 0, 0);
	sr_in(r, SSRC_A, 0x0123456789abcdefull, 10 * SEC);
	sr_in(r, 0x99999999u, 0x1111111111111111ull, 10 * SEC);   /* unknown: ignored */
	assert_int_equal(xi_interceptor_poll(r->ic, 10 * SEC), 0);
	/* 1.5 s after the SR arrived: 1.5 * 65536 */
	assert_int_equal(xi_interceptor_poll(r->ic, 11 * SEC + SEC / 2), 0);
	assert_int_equal(r->out.n, 1);
	rr_decode(r, 0, 2, b);
	/* Streams are reported in bind order. */
	assert_int_equal(b[0].ssrc, SSRC_A);
	assert_int_equal(b[0].lsr, 0x456789ab);
	assert_int_equal(b[0].dlsr, 98304);
	assert_int_equal(b[1].ssrc, SSRC_B);
	assert_int_equal(b[1].lsr, 0);
	assert_int_equal(b[1].dlsr, 0);
	rig_free(r);
}

/* ---- timing, filtering, config ---- */

static void test_interval_and_idle_streams(void **state)
{
	struct rig *r = rig_new("receiver-report interval=200ms sender-ssrc=0xfeedbeef");
	struct xi_reader ra = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;

	rig_stream(r, SSRC_B, 90000);	/* bound, never receives: no block */
	assert_int_equal(xi_interceptor_poll(r->ic, SEC), 0);
	assert_int_equal(xi_interceptor_poll(r->ic, SEC + 200000000), 0);
	assert_int_equal(r->out.n, 0);	/* nothing received: no RR at all */
	rtp_in(r, ra, SSRC_A, 1, 0, 0);
	assert_int_equal(xi_interceptor_poll(r->ic, SEC + 399999999), 0);
	assert_int_equal(r->out.n, 0);
	assert_int_equal(xi_interceptor_poll(r->ic, SEC + 400000000), 0);
	assert_int_equal(r->out.n, 1);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ssrc, SSRC_A);
	assert_int_equal(b.ext_highest_seq, 1);
	xi_interceptor_unbind_remote_stream(r->ic, &(struct xi_stream_info){ .ssrc = SSRC_A });
	assert_int_equal(xi_interceptor_poll(r->ic, 2 * SEC), 0);
	assert_int_equal(r->out.n, 1);
	rig_free(r);
}

/* Not RTP, or RTP of another SSRC: passed on untouched and not counted. */
static void test_foreign_packets_pass(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_report_block b;
	uint8_t buf[64];

	memset(r->src.pkt, 0x11, 20);	/* version 0 */
	r->src.len = 20;
	assert_int_equal(xi_reader_read(rd, buf, sizeof(buf), NULL), 20);
	assert_memory_equal(buf, r->src.pkt, 20);
	rtp_in(r, rd, SSRC_B, 500, 0, 0);
	rtp_in(r, rd, SSRC_A, 9, 0, 0);
	/* Garbage on the RTCP reader passes too. */
	memset(r->src.pkt, 0x11, 20);
	r->src.len = 20;
	assert_int_equal(xi_reader_read(r->rtcp_in, buf, sizeof(buf), NULL), 20);
	report_at(r, 0);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ssrc, SSRC_A);
	assert_int_equal(b.ext_highest_seq, 9);
	assert_int_equal(b.cumulative_lost, 0);
	rig_free(r);
}

/* Without attributes the reader parses for itself and takes the clock. */
static void test_no_attributes(void **state)
{
	struct rig *r = rig_new(RR_CHAIN);
	struct xi_reader rd = rig_stream(r, SSRC_A, 90000);
	struct xi_rtcp_sr sr = { .ssrc = SSRC_A, .ntp = 0xaaaabbbbccccddddull };
	struct xi_rtcp_report_block b;
	struct xi_rtp_header h = { .payload_type = 96, .ssrc = SSRC_A };
	uint8_t buf[64];

	for (uint16_t seq = 1; seq <= 4; seq += 3) {
		h.seq = seq;
		r->src.len = (size_t)xi_rtp_header_write(&h, NULL, 0, r->src.pkt, 64);
		assert_int_equal(xi_reader_read(rd, buf, sizeof(buf), NULL), 12);
	}
	r->src.len = (size_t)xi_rtcp_sr_write(&sr, NULL, 0, r->src.pkt, 64);
	assert_int_equal(xi_reader_read(r->rtcp_in, buf, sizeof(buf), NULL), 28);
	report_at(r, 0);
	rr_decode(r, 0, 1, &b);
	assert_int_equal(b.ext_highest_seq, 4);
	assert_int_equal(b.cumulative_lost, 2);
	assert_int_equal(b.fraction_lost, 2 * 256 / 4);
	assert_int_equal(b.lsr, 0xbbbbcccc);
	rig_free(r);
}

static void test_config_errors(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_non_null(cat);
	assert_int_equal(xi_catalog_build(cat, "receiver-report interval=0s", NULL, &chain,
					  &err), -EINVAL);
	assert_non_null(strstr(err.msg, "interval"));
	assert_int_equal(xi_catalog_build(cat, "receiver-report interval=1", NULL, &chain,
					  &err), -EINVAL);
	assert_int_equal(xi_catalog_build(cat, "receiver-report", NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap_fraction_85),
		cmocka_unit_test(test_wrap_with_reorder),
		cmocka_unit_test(test_jitter_1875),
		cmocka_unit_test(test_one_percent_loss_at_scale),
		cmocka_unit_test(test_many_cycles_and_clamp),
		cmocka_unit_test(test_big_jump_restarts),
		cmocka_unit_test(test_duplicate_negative_loss),
		cmocka_unit_test(test_seq_clamps_negative),
		cmocka_unit_test(test_lsr_dlsr),
		cmocka_unit_test(test_interval_and_idle_streams),
		cmocka_unit_test(test_foreign_packets_pass),
		cmocka_unit_test(test_no_attributes),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
