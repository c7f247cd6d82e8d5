// SPDX-License-Identifier: MIT
/* The C twin of xi_header_stats: RFC 3550 A.1, A.3 and A.8 on hand-made
 * sequences, clock rates, RTCP and byte counts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "user/interceptors/header_stats/twin.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define SSRC 42
#define MS 1000000ull

static struct xi_pkt_ctx rtp(uint16_t seq, uint32_t ts, uint64_t now)
{
	struct xi_pkt_ctx pc = { .ssrc = SSRC, .seq = seq, .rtp_timestamp = ts, .now_ns = now,
				 .default_clock_rate = 90000, .payload_len = 100,
				 .rtp_hdr_len = 12, .payload_type = 96 };
	return pc;
}

static struct xi_stream_stats get(struct xi_twin_header_stats *hs)
{
	struct xi_stream_stats st;

	assert_int_equal(xi_twin_header_stats_lookup(hs, SSRC, &st), 0);
	return st;
}

static void feed(struct xi_twin_header_stats *hs, const uint16_t *seqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct xi_pkt_ctx pc = rtp(seqs[i], 0, 1);

		assert_int_equal(xi_twin_header_stats_run(hs, &pc), 0);
	}
}

static void test_sequence_tracking(void **state)
{
	static const uint16_t seqs[] = { 65533, 65534, 65535, 2, 1, 1, 0, 3 };
	struct xi_twin_header_stats *hs;
	struct xi_stream_stats st;

	assert_int_equal(xi_twin_header_stats_new(9, &hs), 0);
	assert_int_equal(xi_twin_header_stats_lookup(hs, SSRC, &st), -ENOENT);
	feed(hs, seqs, 1);
	st = get(hs);
	assert_int_equal(st.probation, 1);
	assert_int_equal(st.received, 0);
	feed(hs, seqs + 1, 7);
	st = get(hs);
	assert_int_equal(st.conn_id, 9);
	assert_int_equal(st.ssrc, SSRC);
	assert_int_equal(st.probation, 0);
	assert_int_equal(st.base_seq, 65534);
	assert_int_equal(st.cycles, 65536);
	assert_int_equal(st.max_seq, 3);
	assert_int_equal(st.ext_max_seq, 65539);
	assert_int_equal(st.expected, 6);      /* 65534 .. 3 */
	assert_int_equal(st.received, 7);      /* one duplicate */
	assert_int_equal(st.lost, -1);
	assert_int_equal(st.packets, 8);
	assert_int_equal(st.rtp_packets, 8);
	assert_int_equal(xi_twin_header_stats_count(hs), 1);
	xi_twin_header_stats_free(hs);
}

static void test_jump_restart_and_misorder(void **state)
{
	static const uint16_t seqs[] = { 500, 501, 502, 9000, 9001, 9002, 8903, 8902 };
	struct xi_twin_header_stats *hs;
	struct xi_stream_stats st;

	assert_int_equal(xi_twin_header_stats_new(1, &hs), 0);
	feed(hs, seqs, 4);
	st = get(hs);
	assert_int_equal(st.bad_seq, 9001);
	assert_int_equal(st.received, 2);
	feed(hs, seqs + 4, 2);
	st = get(hs);
	assert_int_equal(st.base_seq, 9001);
	assert_int_equal(st.received, 2);
	assert_int_equal(st.max_seq, 9002);
	feed(hs, seqs + 6, 1);                 /* 99 behind: late, within MAX_MISORDER */
	st = get(hs);
	assert_int_equal(st.received, 3);
	feed(hs, seqs + 7, 1);                 /* 100 behind: a jump (udelta 65436) */
	st = get(hs);
	assert_int_equal(st.received, 3);
	assert_int_equal(st.bad_seq, 8903);
	xi_twin_header_stats_free(hs);
}

static void test_jitter_and_clock_rates(void **state)
{
	struct xi_twin_header_stats *hs;
	struct xi_pkt_ctx pc;
	struct xi_stream_stats st;

	assert_int_equal(xi_twin_header_stats_new(1, &hs), 0);
	pc = rtp(1, 0, 1000 * MS);
	xi_twin_header_stats_run(hs, &pc);
	pc = rtp(2, 1800 + 320, 1020 * MS);    /* |D| = 320 */
	xi_twin_header_stats_run(hs, &pc);
	st = get(hs);
	assert_int_equal(st.jitter_q4, 320);
	assert_int_equal(st.jitter, 20);
	assert_int_equal(st.clock_rate, 90000);
	assert_int_equal(st.first_arrival_ns, 1000 * MS);
	assert_int_equal(st.last_arrival_ns, 1020 * MS);
	/* a bound rate wins over the connection default */
	assert_int_equal(xi_twin_header_stats_bind(hs, SSRC, 8000), 0);
	pc = rtp(3, 0, 1040 * MS);
	xi_twin_header_stats_run(hs, &pc);
	st = get(hs);
	assert_int_equal(st.clock_rate, 8000);
	assert_int_equal(st.transit, 8320);    /* 1.04 s at 8 kHz */
	xi_twin_header_stats_unbind(hs, SSRC);
	xi_twin_header_stats_unbind(hs, SSRC + 1);   /* never bound: nothing happens */
	pc = rtp(4, 0, 1060 * MS);
	pc.default_clock_rate = 0;             /* no rate at all: jitter untouched */
	xi_twin_header_stats_run(hs, &pc);
	assert_int_equal(get(hs).jitter_q4, st.jitter_q4);
	assert_int_equal(get(hs).clock_rate, 8000);
	xi_twin_header_stats_free(hs);
}

static void test_rtcp_and_bytes(void **state)
{
	struct xi_twin_header_stats *hs;
	struct xi_pkt_ctx pc = { .ssrc = SSRC, .is_rtcp = 1, .payload_len = 28, .now_ns = 5 };
	struct xi_stream_stats st;

	assert_int_equal(xi_twin_header_stats_new(1, &hs), 0);
	assert_int_equal(xi_twin_header_stats_run(hs, &pc), 0);
	pc = rtp(10, 0, 6);
	pc.rtp_hdr_len = 24;
	pc.rtp_pad_len = 4;
	pc.marker = 1;
	assert_int_equal(xi_twin_header_stats_run(hs, &pc), 0);
	st = get(hs);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.rtcp_packets, 1);
	assert_int_equal(st.rtp_packets, 1);
	assert_int_equal(st.header_bytes, 28);
	assert_int_equal(st.payload_bytes, 72);
	assert_int_equal(st.markers, 1);
	assert_int_equal(st.payload_type, 96);
	assert_int_equal(st.first_arrival_ns, 5);
	assert_int_equal(st.seq_started, 1);
	xi_twin_header_stats_free(hs);
	xi_twin_header_stats_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequence_tracking),
		cmocka_unit_test(test_jump_restart_and_misorder),
		cmocka_unit_test(test_jitter_and_clock_rates),
		cmocka_unit_test(test_rtcp_and_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
