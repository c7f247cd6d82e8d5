// SPDX-License-Identifier: MIT
/*
 * xi_header_stats through xi_entry: RFC 3550 A.1 sequence tracking, A.3 loss,
 * A.8 jitter (with the test clock), clock rates, RTCP, byte counts, and exact
 * counts with one SSRC hammered from two CPUs at once.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bpf/xi_expect.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define CONN 3
#define SSRC 0x5eed0001u
#define MS 1000000ull

static const uint8_t STATS_ONLY[] = { XI_STAGE_HEADER_STATS };

static int setup(void **state)
{
	struct xi_flow_key k = tb_key4(TB_LOCAL4, 5004, TB_PEER4, 40000);
	struct tb *tb = tb_open();

	if (!tb)
		return -1;
	if (tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, XI_IFACE_F_TEST_CLOCK, 0) ||
	    tb_conn(tb, CONN, STATS_ONLY, 1, XI_ACT_PASS, 90000) || tb_flow(tb, &k, CONN)) {
		tb_close(tb);
		return -1;
	}
	*state = tb;
	return 0;
}

static int teardown(void **state)
{
	tb_close(*state);
	return 0;
}

static void send_at(struct tb *tb, uint64_t now_ns, const struct rtp_spec *r)
{
	uint8_t pl[512], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, r));
	size_t n = pkt_build(f, &s);

	assert_int_equal(tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, XI_IFACE_F_TEST_CLOCK, now_ns), 0);
	assert_int_equal(tb_run(tb, f, n), XDP_PASS);
}

static void send_seq(struct tb *tb, uint16_t seq)
{
	struct rtp_spec r = { .ssrc = SSRC, .seq = seq, .pt = 96, .ext_words = -1, .body = 10 };

	send_at(tb, 1, &r);
}

static struct xi_stream_stats stats(struct tb *tb)
{
	struct xi_stream_stats st;

	assert_int_equal(tb_stats(tb, CONN, SSRC, &st), 0);
	return st;
}

static void expect_seq(struct tb *tb, uint32_t probation, uint32_t received, uint32_t max_seq,
		       uint32_t expected, int32_t lost)
{
	struct xi_stream_stats st = stats(tb);

	assert_int_equal(st.probation, probation);
	assert_int_equal(st.received, received);
	assert_int_equal(st.max_seq, max_seq);
	assert_int_equal(st.expected, expected);
	assert_int_equal(st.lost, lost);
}

static void test_probation_gap_reorder_duplicate(void **state)
{
	struct tb *tb = *state;
	struct xi_stream_stats st;

	send_seq(tb, 100);
	expect_seq(tb, 1, 0, 100, 0, 0);    /* first packet: on probation */
	send_seq(tb, 101);
	expect_seq(tb, 0, 1, 101, 1, 0);    /* second in order: source valid */
	st = stats(tb);
	assert_int_equal(st.base_seq, 101);
	send_seq(tb, 102);
	send_seq(tb, 104);                  /* 103 missing */
	expect_seq(tb, 0, 3, 104, 4, 1);
	send_seq(tb, 103);                  /* late: fills the gap */
	expect_seq(tb, 0, 4, 104, 4, 0);
	send_seq(tb, 103);                  /* duplicate: counted, A.3 goes negative */
	expect_seq(tb, 0, 5, 104, 4, -1);
	st = stats(tb);
	assert_int_equal(st.packets, 6);
	assert_int_equal(st.rtp_packets, 6);
	assert_int_equal(st.ext_max_seq, 104);
	assert_int_equal(st.cycles, 0);
}

static void test_wraparound(void **state)
{
	struct tb *tb = *state;
	struct xi_stream_stats st;

	send_seq(tb, 65534);
	send_seq(tb, 65535);
	send_seq(tb, 0);
	send_seq(tb, 1);
	st = stats(tb);
	assert_int_equal(st.cycles, 65536);
	assert_int_equal(st.ext_max_seq, 65537);
	assert_int_equal(st.base_seq, 65535);
	assert_int_equal(st.expected, 3);
	assert_int_equal(st.received, 3);
	assert_int_equal(st.lost, 0);
	send_seq(tb, 65535);                /* reordered across the wrap: no new cycle */
	st = stats(tb);
	assert_int_equal(st.cycles, 65536);
	assert_int_equal(st.received, 4);
}

/* RFC code compares seq with max_seq + 1 unwrapped; a source starting at
 * 65535 would never leave probation. Here it does. */
static void test_probation_across_the_wrap(void **state)
{
	struct tb *tb = *state;

	send_seq(tb, 65535);
	send_seq(tb, 0);
	expect_seq(tb, 0, 1, 0, 1, 0);
	assert_int_equal(stats(tb).base_seq, 0);
}

static void test_probation_restarts_on_a_gap(void **state)
{
	struct tb *tb = *state;

	send_seq(tb, 100);
	send_seq(tb, 200);
	expect_seq(tb, 1, 0, 200, 0, 0);
	send_seq(tb, 201);
	expect_seq(tb, 0, 1, 201, 1, 0);
}

static void test_large_jump_then_restart(void **state)
{
	struct tb *tb = *state;
	struct xi_stream_stats st;

	send_seq(tb, 10);
	send_seq(tb, 11);
	send_seq(tb, 12);
	send_seq(tb, 10000);                /* beyond MAX_DROPOUT: ignored once */
	expect_seq(tb, 0, 2, 12, 2, 0);
	assert_int_equal(stats(tb).bad_seq, 10001);
	send_seq(tb, 10001);                /* and its successor: the source restarted */
	st = stats(tb);
	assert_int_equal(st.base_seq, 10001);
	expect_seq(tb, 0, 1, 10001, 1, 0);
	send_seq(tb, 12 + 3000 - 1 + 20000);   /* still a jump */
	expect_seq(tb, 0, 1, 10001, 1, 0);
	send_seq(tb, 10001 - 50);           /* within MAX_MISORDER: late, counted */
	expect_seq(tb, 0, 2, 10001, 1, -1);
	send_seq(tb, 10001 + 3000);         /* exactly MAX_DROPOUT ahead: a jump */
	expect_seq(tb, 0, 2, 10001, 1, -1);
	send_seq(tb, 10001 + 2999);         /* just under it: a gap */
	expect_seq(tb, 0, 3, 13000, 3000, 2997);
}

static void test_jitter_and_arrival(void **state)
{
	struct tb *tb = *state;
	struct rtp_spec r = { .ssrc = SSRC, .pt = 96, .ext_words = -1, .body = 10 };
	struct xi_stream_stats st;

	r.seq = 1, r.ts = 0;
	send_at(tb, 1000 * MS, &r);         /* arrival 90000 units */
	r.seq = 2, r.ts = 1800;
	send_at(tb, 1020 * MS, &r);         /* on time: D = 0 */
	assert_int_equal(stats(tb).jitter_q4, 0);
	r.seq = 3, r.ts = 3600 + 900;
	send_at(tb, 1040 * MS, &r);         /* |D| = 900 */
	st = stats(tb);
	assert_int_equal(st.jitter_q4, 900);
	assert_int_equal(st.jitter, 56);
	r.seq = 4, r.ts = 5400;
	send_at(tb, 1060 * MS, &r);         /* back: |D| = 900 again */
	st = stats(tb);
	assert_int_equal(st.jitter_q4, 900 + 900 - 56);
	assert_int_equal(st.jitter, 109);
	assert_int_equal(st.transit, 90000 + 5400 - 5400);
	assert_int_equal(st.clock_rate, 90000);
	assert_int_equal(st.first_arrival_ns, 1000 * MS);
	assert_int_equal(st.last_arrival_ns, 1060 * MS);
}

static void test_bound_clock_rate_beats_default(void **state)
{
	struct tb *tb = *state;
	struct rtp_spec r = { .ssrc = SSRC, .pt = 111, .ext_words = -1, .body = 10 };
	struct xi_stream_stats st;

	assert_int_equal(tb_clock_rate(tb, CONN, SSRC, 48000), 0);
	r.seq = 1, r.ts = 100;
	send_at(tb, 20 * MS, &r);           /* arrival 960 units */
	st = stats(tb);
	assert_int_equal(st.clock_rate, 48000);
	assert_int_equal(st.transit, 960 - 100);
	r.seq = 2, r.ts = 100 + 960 + 48;   /* 1 ms early at 48 kHz */
	send_at(tb, 40 * MS, &r);
	assert_int_equal(stats(tb).jitter_q4, 48);
	/* A connection default of 0 and no binding: no jitter at all. */
	assert_int_equal(tb_conn(tb, CONN, STATS_ONLY, 1, XI_ACT_PASS, 0), 0);
	r.ssrc = SSRC + 1;
	r.seq = 1;
	send_at(tb, 60 * MS, &r);
	r.seq = 2, r.ts = 999999;
	send_at(tb, 80 * MS, &r);
	assert_int_equal(tb_stats(tb, CONN, SSRC + 1, &st), 0);
	assert_int_equal(st.clock_rate, 0);
	assert_int_equal(st.transit_valid, 0);
	assert_int_equal(st.jitter_q4, 0);
	assert_int_equal(st.rtp_packets, 2);
}

static void test_rtcp_and_byte_counts(void **state)
{
	struct tb *tb = *state;
	struct rtp_spec r = { .ssrc = SSRC, .seq = 5, .pt = 100, .marker = 1, .n_csrc = 2,
			      .ext_words = 1, .pad = 4, .body = 100 };
	uint8_t pl[64], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtcp_sr_build(pl, SSRC));
	size_t n = pkt_build(f, &s);
	struct xi_stream_stats st;

	assert_int_equal(tb_run(tb, f, n), XDP_PASS);   /* RTCP first: creates the entry */
	st = stats(tb);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.rtcp_packets, 1);
	assert_int_equal(st.rtp_packets, 0);
	assert_int_equal(st.seq_started, 0);
	assert_int_equal(st.header_bytes, 0);
	send_at(tb, 5, &r);
	r.seq = 6, r.marker = 0, r.pt = 101, r.n_csrc = 0, r.ext_words = -1, r.pad = 0;
	send_at(tb, 6, &r);
	assert_int_equal(tb_run(tb, f, n), XDP_PASS);
	st = stats(tb);
	assert_int_equal(st.packets, 4);
	assert_int_equal(st.rtcp_packets, 2);
	assert_int_equal(st.rtp_packets, 2);
	assert_int_equal(st.header_bytes, (12 + 8 + 8 + 4) + 12);
	assert_int_equal(st.payload_bytes, 200);
	assert_int_equal(st.markers, 1);
	assert_int_equal(st.payload_type, 101);
	assert_int_equal(st.received, 1);
	assert_int_equal(st.ssrc, SSRC);
	assert_int_equal(st.conn_id, CONN);
	assert_int_equal(tb_reason(tb, XI_REASON_CHAIN_END), 4);
}

static void test_kernel_clock_without_test_flag(void **state)
{
	struct tb *tb = *state;
	struct rtp_spec r = { .ssrc = SSRC, .seq = 1, .ext_words = -1, .body = 10 };
	uint8_t pl[64], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, &r));
	size_t n = pkt_build(f, &s);
	struct timespec a, b;
	struct xi_stream_stats st;

	assert_int_equal(tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, 0, 5), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(tb_run(tb, f, n), XDP_PASS);
	clock_gettime(CLOCK_MONOTONIC, &b);
	st = stats(tb);
	assert_true(st.first_arrival_ns >= (uint64_t)a.tv_sec * 1000000000ull + a.tv_nsec);
	assert_true(st.first_arrival_ns <= (uint64_t)b.tv_sec * 1000000000ull + b.tv_nsec);
}

struct hammer {
	struct tb *tb;
	int cpu;
	const uint8_t *f;
	size_t n;
	int rc;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(h->cpu, &set);
	h->rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (!h->rc)
		h->rc = tb_run_prog(h->tb, h->tb->skel->progs.xi_entry, h->f, h->n, 200000, NULL);
	return NULL;
}

/* Two CPUs update one SSRC's entry at once: the spin lock keeps it exact. */
static void test_exact_on_two_cpus(void **state)
{
	struct tb *tb = *state;
	struct rtp_spec r = { .ssrc = SSRC, .seq = 1, .marker = 1, .ext_words = -1, .body = 30 };
	uint8_t pl[64], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, &r));
	struct hammer h[2];
	pthread_t t[2];
	struct xi_stream_stats st;

	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	for (int i = 0; i < 2; i++) {
		h[i] = (struct hammer){ .tb = tb, .cpu = i, .f = f, .n = pkt_build(f, &s) };
		assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].rc, XDP_PASS);
	}
	st = stats(tb);
	assert_int_equal(st.packets, 400000);
	assert_int_equal(st.rtp_packets, 400000);
	assert_int_equal(st.markers, 400000);
	assert_int_equal(st.header_bytes, 400000ull * 12);
	assert_int_equal(st.payload_bytes, 400000ull * 30);
	assert_int_equal(tb_reason(tb, XI_REASON_RTP), 400000);
	assert_int_equal(tb_reason(tb, XI_REASON_CHAIN_END), 400000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probation_gap_reorder_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probation_across_the_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probation_restarts_on_a_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_jump_then_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jitter_and_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_clock_rate_beats_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_and_byte_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_clock_without_test_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_on_two_cpus, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
