// SPDX-License-Identifier: MIT
/*
 * xi_ssrc_filter through xi_entry: allow and deny lists on the RTP SSRC and
 * the RTCP sender SSRC, exact drop counts per connection and per SSRC, and
 * chain order (stats before the filter count dropped SSRCs, after it not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bpf/xi_expect.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define CONN 7
#define CONN2 8
#define SSRC_A 0xaaaa0001u
#define SSRC_B 0xbbbb0002u
#define SSRC_C 0xcccc0003u

static const uint8_t FILTER_ONLY[] = { XI_STAGE_SSRC_FILTER };

static int setup(void **state)
{
	struct xi_flow_key k = tb_key4(TB_LOCAL4, 5004, NULL, 0);
	struct xi_flow_key k2 = tb_key4(TB_LOCAL4, 5006, NULL, 0);
	struct tb *tb = tb_open();

	if (!tb)
		return -1;
	if (tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, XI_IFACE_F_TEST_CLOCK, 1000) ||
	    tb_conn(tb, CONN, FILTER_ONLY, 1, XI_ACT_PASS, 90000) ||
	    tb_conn(tb, CONN2, FILTER_ONLY, 1, XI_ACT_PASS, 90000) ||
	    tb_flow(tb, &k, CONN) || tb_flow(tb, &k2, CONN2)) {
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

static size_t frame_rtp(uint8_t *f, uint16_t dport, uint32_t ssrc, uint16_t seq)
{
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .pt = 111, .ext_words = -1, .body = 20 };
	uint8_t pl[128];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, &r));

	s.dport = dport;
	return pkt_build(f, &s);
}

static size_t frame_rtcp(uint8_t *f, uint16_t dport, uint32_t ssrc)
{
	uint8_t pl[64];
	struct pkt_spec s = tb_spec4(pl, rtcp_sr_build(pl, ssrc));

	s.dport = dport;
	return pkt_build(f, &s);
}

static void send_rtp(struct tb *tb, uint16_t dport, uint32_t ssrc, int want)
{
	uint8_t f[PKT_MAX];
	size_t n = frame_rtp(f, dport, ssrc, 1);

	if (want == XDP_DROP)
		tbx_expect(tb, f, n, want, REASONS(XI_REASON_RTP, XI_REASON_SSRC_DROP));
	else
		tbx_expect(tb, f, n, want, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
}

static void send_rtcp(struct tb *tb, uint16_t dport, uint32_t ssrc, int want)
{
	uint8_t f[PKT_MAX];
	size_t n = frame_rtcp(f, dport, ssrc);

	if (want == XDP_DROP)
		tbx_expect(tb, f, n, want, REASONS(XI_REASON_RTCP, XI_REASON_SSRC_DROP));
	else
		tbx_expect(tb, f, n, want, REASONS(XI_REASON_RTCP, XI_REASON_CHAIN_END));
}

static void test_allow_list(void **state)
{
	struct tb *tb = *state;
	const uint32_t allow[] = { SSRC_A, SSRC_B };

	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_ALLOW, allow, 2), 0);
	send_rtp(tb, 5004, SSRC_A, XDP_PASS);
	send_rtp(tb, 5004, SSRC_B, XDP_PASS);
	send_rtp(tb, 5004, SSRC_C, XDP_DROP);
	send_rtcp(tb, 5004, SSRC_C, XDP_DROP);
	send_rtcp(tb, 5004, SSRC_A, XDP_PASS);
	send_rtp(tb, 5004, SSRC_C, XDP_DROP);
	assert_int_equal(tb_drops(tb, CONN, -1), 3);
	assert_int_equal(tb_drops(tb, CONN, SSRC_C), 3);
	assert_int_equal(tb_drops(tb, CONN, SSRC_A), 0);
	assert_int_equal(tb_reason(tb, XI_REASON_SSRC_DROP), 3);
	assert_int_equal(tb_reason(tb, XI_REASON_CHAIN_END), 3);
}

static void test_deny_list(void **state)
{
	struct tb *tb = *state;
	const uint32_t deny[] = { SSRC_C };

	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_DENY, deny, 1), 0);
	send_rtp(tb, 5004, SSRC_A, XDP_PASS);
	send_rtp(tb, 5004, SSRC_C, XDP_DROP);
	send_rtcp(tb, 5004, SSRC_C, XDP_DROP);
	send_rtcp(tb, 5004, SSRC_B, XDP_PASS);
	assert_int_equal(tb_drops(tb, CONN, -1), 2);
	assert_int_equal(tb_drops(tb, CONN, SSRC_C), 2);
	/* the other connection has no filter entry: everything passes */
	send_rtp(tb, 5006, SSRC_C, XDP_PASS);
	assert_int_equal(tb_drops(tb, CONN2, -1), 0);
	assert_int_equal(tb_drops(tb, CONN2, SSRC_C), 0);
}

static void test_lists_are_per_connection(void **state)
{
	struct tb *tb = *state;
	const uint32_t a[] = { SSRC_A }, c[] = { SSRC_C };

	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_ALLOW, a, 1), 0);
	assert_int_equal(tb_ssrc_filter(tb, CONN2, XI_SSRC_MODE_ALLOW, c, 1), 0);
	send_rtp(tb, 5004, SSRC_A, XDP_PASS);
	send_rtp(tb, 5004, SSRC_C, XDP_DROP);
	send_rtp(tb, 5006, SSRC_A, XDP_DROP);
	send_rtp(tb, 5006, SSRC_A, XDP_DROP);
	send_rtp(tb, 5006, SSRC_C, XDP_PASS);
	assert_int_equal(tb_drops(tb, CONN, -1), 1);
	assert_int_equal(tb_drops(tb, CONN, SSRC_C), 1);
	assert_int_equal(tb_drops(tb, CONN2, -1), 2);
	assert_int_equal(tb_drops(tb, CONN2, SSRC_A), 2);
}

static void test_mode_off_and_empty_allow(void **state)
{
	struct tb *tb = *state;

	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_OFF, NULL, 0), 0);
	send_rtp(tb, 5004, SSRC_C, XDP_PASS);
	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_ALLOW, NULL, 0), 0);
	send_rtp(tb, 5004, SSRC_A, XDP_DROP);
	send_rtcp(tb, 5004, SSRC_A, XDP_DROP);
	assert_int_equal(tb_drops(tb, CONN, SSRC_A), 2);
}

static void test_drops_exact_under_repeat(void **state)
{
	struct tb *tb = *state;
	const uint32_t deny[] = { SSRC_B };
	uint8_t f[PKT_MAX];
	size_t n = frame_rtp(f, 5004, SSRC_B, 9);

	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_DENY, deny, 1), 0);
	assert_int_equal(tb_run_prog(tb, tb->skel->progs.xi_entry, f, n, 50000, NULL), XDP_DROP);
	assert_int_equal(tb_drops(tb, CONN, SSRC_B), 50000);
	assert_int_equal(tb_drops(tb, CONN, -1), 50000);
	assert_int_equal(tb_reason(tb, XI_REASON_SSRC_DROP), 50000);
	assert_int_equal(tb_reason(tb, XI_REASON_RTP), 50000);
}

/* The order test: stats then filter counts the dropped SSRC; filter
 * then stats does not. Reversing the chain changes only that. */
static void test_chain_order_is_respected(void **state)
{
	struct tb *tb = *state;
	const uint8_t stats_first[] = { XI_STAGE_HEADER_STATS, XI_STAGE_SSRC_FILTER };
	const uint8_t filter_first[] = { XI_STAGE_SSRC_FILTER, XI_STAGE_HEADER_STATS };
	const uint32_t deny[] = { SSRC_C };
	struct xi_stream_stats st;

	assert_int_equal(tb_ssrc_filter(tb, CONN, XI_SSRC_MODE_DENY, deny, 1), 0);
	assert_int_equal(tb_ssrc_filter(tb, CONN2, XI_SSRC_MODE_DENY, deny, 1), 0);
	assert_int_equal(tb_conn(tb, CONN, stats_first, 2, XI_ACT_PASS, 90000), 0);
	assert_int_equal(tb_conn(tb, CONN2, filter_first, 2, XI_ACT_PASS, 90000), 0);
	for (int i = 0; i < 3; i++) {
		send_rtp(tb, 5004, SSRC_C, XDP_DROP);
		send_rtp(tb, 5004, SSRC_A, XDP_PASS);
		send_rtp(tb, 5006, SSRC_C, XDP_DROP);
		send_rtp(tb, 5006, SSRC_A, XDP_PASS);
	}
	assert_int_equal(tb_stats(tb, CONN, SSRC_C, &st), 0);
	assert_int_equal(st.packets, 3);
	assert_int_equal(tb_stats(tb, CONN, SSRC_A, &st), 0);
	assert_int_equal(st.packets, 3);
	assert_int_equal(tb_stats(tb, CONN2, SSRC_C, &st), -ENOENT);
	assert_int_equal(tb_stats(tb, CONN2, SSRC_A, &st), 0);
	assert_int_equal(st.packets, 3);
	assert_int_equal(tb_drops(tb, CONN, SSRC_C), 3);
	assert_int_equal(tb_drops(tb, CONN2, SSRC_C), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allow_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deny_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists_are_per_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_off_and_empty_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_exact_under_repeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_order_is_respected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
