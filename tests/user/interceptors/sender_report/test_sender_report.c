// SPDX-License-Identifier: MIT
/*
 * sender-report through a chain from the catalog: packets written to a
 * bound local stream are counted and pass on unchanged; poll() writes an
 * RFC 3550 SR per local stream that sent, with the counts and the RTP
 * timestamp extrapolated from the last packet; receiver reports about a
 * local stream give the RTT (A - LSR - DLSR) and the remote's loss figures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/interceptors/remote_report.h"
#include "user/interceptors/sender_report/sender_report.h"
#include "user/lib/clock.h"

#define FIX_SINK_MAX 32
#include "user/fixtures.h"

#define SSRC 0x5678u
#define SEC  1000000000ull

struct rig {
	struct xi_catalog *cat;
	struct xi_chain *chain;
	struct xi_interceptor *ic;   /* the chain */
	struct xi_interceptor *sr;   /* its one element */
	struct fix_sink rtcp;        /* what poll() sends */
	struct fix_sink wire;        /* what the local stream's writer passes on */
	struct xi_writer local;
	struct fix_source src;
	struct xi_reader rtcp_in;
};

static struct rig *rig_new(void)
{
	struct xi_stream_info info = { .ssrc = SSRC, .clock_rate = 90000, .payload_type = 96 };
	struct xi_writer wire;
	struct rig *r = calloc(1, sizeof(*r));
	struct xi_err err = { 0 };

	assert_non_null(r);
	r->cat = xi_catalog_new_from_global();
	assert_non_null(r->cat);
	assert_int_equal(xi_catalog_build(r->cat, "sender-report interval=1s", NULL, &r->chain,
					  &err), 0);
	r->ic = xi_chain_interceptor(r->chain);
	r->sr = xi_chain_element(r->chain, 0);
	fix_sink_bind(&r->rtcp, r->ic);
	wire = (struct xi_writer){ .write = fix_sink_write, .ctx = &r->wire };
	assert_int_equal(xi_interceptor_bind_local_stream(r->ic, &info, wire, &r->local), 0);
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

/* One RTP packet of payload_len bytes leaving at send_ns. */
static void send_pkt(struct rig *r, uint16_t seq, uint32_t ts, size_t payload_len, uint64_t send_ns)
{
	struct xi_attributes attrs = { 0 };
	struct xi_rtp_header h = { .payload_type = 96, .seq = seq, .timestamp = ts, .ssrc = SSRC };
	uint8_t pkt[1500];
	size_t n = r->wire.n;

	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, pkt, sizeof(pkt)), 12);
	memset(pkt + 12, 0xab, payload_len);
	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, send_ns), 0);
	assert_int_equal(xi_writer_write(r->local, pkt, 12 + payload_len, &attrs),
			 (ssize_t)(12 + payload_len));
	assert_int_equal(r->wire.n, n + 1);
	assert_memory_equal(r->wire.pkt[n], pkt, 12 + payload_len);
}

static void test_counts_and_extrapolation(void **state)
{
	struct rig *r = rig_new();
	struct xi_sender_report_state st;

	for (int i = 0; i < 10; i++)
		send_pkt(r, (uint16_t)(100 + i), 3000u * (uint32_t)i, 100 + (size_t)i, SEC + i * 10000000ull);
	assert_int_equal(xi_sender_report_state(r->sr, SSRC, &st, NULL), 0);
	assert_int_equal(st.packets, 10);
	assert_int_equal(st.octets, 10 * 100 + 45);
	assert_int_equal(st.last_rtp_ts, 27000);
	assert_int_equal(st.last_send_ns, SEC + 90000000ull);
	/* 0.5 s after the last packet at 90 kHz: 45,000 more */
	assert_int_equal(xi_sender_report_rtp_ts(&st, 90000, st.last_send_ns + SEC / 2), 72000);
	/* 1 ns: 90,000 * 1e-9 rounds down to 0 */
	assert_int_equal(xi_sender_report_rtp_ts(&st, 90000, st.last_send_ns + 1), 27000);
	/* wraps modulo 2^32 */
	st.last_rtp_ts = 0xffffff00u;
	assert_int_equal(xi_sender_report_rtp_ts(&st, 48000, st.last_send_ns + SEC / 100), 0xffffff00u + 480u);
	assert_int_equal(xi_sender_report_state(r->sr, 0x1, &st, NULL), -ENOENT);
	rig_free(r);
}

static void test_report(void **state)
{
	struct rig *r = rig_new();
	struct xi_rtcp_compound c;
	uint64_t now = xi_mono_ns(), ntp_sent, ntp_before, ntp_after;
	int64_t off;

	/* Nothing sent: no report. */
	assert_int_equal(xi_interceptor_poll(r->ic, 0), 0);
	assert_int_equal(xi_interceptor_poll(r->ic, SEC), 0);
	assert_int_equal(r->rtcp.n, 0);
	send_pkt(r, 1, 90000, 200, now);
	send_pkt(r, 2, 93000, 300, now);
	ntp_sent = xi_ntp_of_mono(now);
	ntp_before = xi_ntp_of_mono(xi_mono_ns());
	assert_int_equal(xi_interceptor_poll(r->ic, 2 * SEC), 0);
	ntp_after = xi_ntp_of_mono(xi_mono_ns());
	assert_int_equal(r->rtcp.n, 1);
	assert_int_equal(xi_rtcp_compound_parse(r->rtcp.pkt[0], r->rtcp.len[0], &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pkts[0].kind, XI_RTCP_KIND_SR);
	assert_int_equal(c.pkts[0].sr.ssrc, SSRC);
	assert_int_equal(c.pkts[0].sr.packet_count, 2);
	assert_int_equal(c.pkts[0].sr.octet_count, 500);
	assert_int_equal(c.pkts[0].sr.report_count, 0);
	assert_true(c.pkts[0].sr.ntp >= ntp_before && c.pkts[0].sr.ntp <= ntp_after);
	/* The RTP timestamp at the SR's NTP time: the last packet's plus the
	 * time since it left at 90 kHz, within 1 ms (90 units; the wall and
	 * monotonic clocks are read apart, microseconds). */
	off = (int64_t)(c.pkts[0].sr.rtp_ts - 93000) -
	      (int64_t)(((c.pkts[0].sr.ntp - ntp_sent) * 90000) >> 32);
	assert_true(off >= -90 && off <= 90);
	rig_free(r);
}

static void test_rtt_arithmetic(void **state)
{
	uint32_t rtt = 7;

	/* RFC 3550 6.4.1's example: A 0xb710:8000, LSR 0xb705:2000, DLSR 5.25 s */
	assert_int_equal(xi_sender_report_rtt_q16(0xb7108000u, 0xb7052000u, 0x00054000u, &rtt), 0);
	assert_int_equal(rtt, 0x00062000u);   /* 6.125 s */
	assert_int_equal(xi_sender_report_rtt_q16(0x10000, 0, 0, &rtt), -ENOENT);
	/* a report that would come before the SR left: 0 */
	assert_int_equal(xi_sender_report_rtt_q16(0x10000, 0x10000, 0x100, &rtt), 0);
	assert_int_equal(rtt, 0);
	/* across the wrap of the middle 32 bits */
	assert_int_equal(xi_sender_report_rtt_q16(0x00000100u, 0xffffff00u, 0x80, &rtt), 0);
	assert_int_equal(rtt, 0x180);
}

/* An RR from 0x7777 with a block about ssrc. */
static void rr_in(struct rig *r, uint32_t ssrc, uint8_t fraction, int32_t lost, uint32_t jitter,
		  uint32_t lsr, uint32_t dlsr, uint64_t arrival)
{
	struct xi_rtcp_report_block b = { .ssrc = ssrc, .fraction_lost = fraction,
					  .cumulative_lost = lost, .ext_highest_seq = 4242,
					  .jitter = jitter, .lsr = lsr, .dlsr = dlsr };
	struct xi_attributes attrs = { 0 };
	int n = xi_rtcp_rr_write(0x7777, &b, 1, r->src.pkt, sizeof(r->src.pkt));

	assert_true(n > 0);
	r->src.len = (size_t)n;
	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, arrival), 0);
	fix_read_through(&r->src, r->rtcp_in, &attrs);
}

static void test_remote_report(void **state)
{
	struct rig *r = rig_new();
	struct xi_remote_report rep;
	uint64_t now = xi_mono_ns();
	uint32_t a = (uint32_t)(xi_ntp_of_mono(now) >> 16);

	rr_in(r, 0x9999, 1, 2, 3, 0, 0, now);   /* not a local stream: ignored */
	assert_int_equal(xi_sender_report_state(r->sr, SSRC, NULL, &rep), 0);
	assert_int_equal(rep.reports, 0);
	/* LSR one second before the arrival, DLSR a quarter of a second */
	rr_in(r, SSRC, 64, 17, 99, a - 0x10000, 0x4000, now);
	assert_int_equal(xi_sender_report_state(r->sr, SSRC, NULL, &rep), 0);
	assert_int_equal(rep.reports, 1);
	assert_int_equal(rep.rtt_reports, 1);
	assert_int_equal(rep.fraction_lost, 64);
	assert_int_equal(rep.cumulative_lost, 17);
	assert_int_equal(rep.jitter, 99);
	assert_int_equal(rep.ext_highest_seq, 4242);
	/* 0.75 s; the NTP of the arrival read twice may differ by a tick */
	assert_true(rep.rtt_q16 >= 0xc000 - 1 && rep.rtt_q16 <= 0xc000 + 1);
	/* without LSR: no RTT, the rest updated */
	rr_in(r, SSRC, 0, -3, 5, 0, 0, now);
	assert_int_equal(xi_sender_report_state(r->sr, SSRC, NULL, &rep), 0);
	assert_int_equal(rep.reports, 2);
	assert_int_equal(rep.rtt_reports, 1);
	assert_true(rep.rtt_q16 >= 0xc000 - 1 && rep.rtt_q16 <= 0xc000 + 1);
	assert_int_equal(rep.cumulative_lost, -3);
	/* malformed: ignored whole, passed on */
	memcpy(r->src.pkt, "\x81\xc9\x00\x09\x00\x00\x77\x77", 8);
	r->src.len = 8;
	fix_read_through(&r->src, r->rtcp_in, NULL);
	assert_int_equal(xi_sender_report_state(r->sr, SSRC, NULL, &rep), 0);
	assert_int_equal(rep.reports, 2);
	rig_free(r);
}

static void test_config_errors(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_int_equal(xi_catalog_build(cat, "sender-report interval=0s", NULL, &chain, &err),
			 -EINVAL);
	assert_null(chain);
	assert_int_equal(xi_catalog_build(cat, "sender-report every=1s", NULL, &chain, &err),
			 -EINVAL);
	assert_int_equal(xi_sender_report_state(NULL, SSRC, NULL, NULL), -EINVAL);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_extrapolation),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_rtt_arithmetic),
		cmocka_unit_test(test_remote_report),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
