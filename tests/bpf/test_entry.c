// SPDX-License-Identifier: MIT
/*
 * xi_entry through BPF_PROG_TEST_RUN: every protocol case and every kind of
 * malformed frame gets its documented verdict and reason counter, never
 * XDP_ABORTED, and the C twin agrees on each frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bpf/xi_expect.h"

#define CONN_PASS 1    /* exact IPv4 flow, empty chain, verdict pass */
#define CONN_DROP 2    /* IPv6 wildcard flow, empty chain, verdict drop */

static uint8_t rtp_pl[256], rtcp_pl[64];
static size_t rtp_len, rtcp_len;

static int setup(void **state)
{
	struct rtp_spec r = { .ssrc = 0x11223344, .seq = 7, .ts = 1000, .pt = 96,
			      .ext_words = -1, .body = 40 };
	struct xi_flow_key k4 = tb_key4(TB_LOCAL4, 5004, TB_PEER4, 40000);
	struct xi_flow_key k6 = tb_key6(TB_LOCAL6, 5004, NULL, 0);
	struct tb *tb = tb_open();

	if (!tb)
		return -1;
	rtp_len = rtp_build(rtp_pl, &r);
	rtcp_len = rtcp_sr_build(rtcp_pl, 0x11223344);
	if (tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, 0, 0) ||
	    tb_conn(tb, CONN_PASS, NULL, 0, XI_ACT_PASS, 90000) ||
	    tb_conn(tb, CONN_DROP, NULL, 0, XI_ACT_DROP, 90000) ||
	    tb_flow(tb, &k4, CONN_PASS) || tb_flow(tb, &k6, CONN_DROP)) {
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

static void expect_spec(struct tb *tb, const struct pkt_spec *s, int act, const uint32_t *rs)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, s);

	tbx_expect(tb, f, len, act, rs);
}

static void test_ipv4_rtp_and_rtcp(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s = tb_spec4(rtcp_pl, rtcp_len);
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_RTCP, XI_REASON_CHAIN_END));
}

static void test_ipv6_wildcard_serves_every_peer(void **state)
{
	struct pkt_spec s = tb_spec6(rtp_pl, rtp_len);

	expect_spec(*state, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s.src[15] = 77;
	s.sport = 1234;
	expect_spec(*state, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s = tb_spec6(rtcp_pl, rtcp_len);
	expect_spec(*state, &s, XDP_DROP, REASONS(XI_REASON_RTCP, XI_REASON_CHAIN_END));
}

static void test_exact_flow_beats_wildcard(void **state)
{
	struct tb *tb = *state;
	struct xi_flow_key wild = tb_key4(TB_LOCAL4, 5004, NULL, 0);
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	assert_int_equal(tb_flow(tb, &wild, CONN_DROP), 0);
	expect_spec(tb, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s.sport = 40001;   /* another peer: only the wildcard matches */
	expect_spec(tb, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s.sport = 40000;
	s.src[3] = 9;
	expect_spec(tb, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
}

static void test_vlan_and_qinq(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.n_vlans = 1;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s.n_vlans = 2;
	s.vlan_tpid[0] = 0x88a8;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s = tb_spec6(rtp_pl, rtp_len);
	s.n_vlans = 2;
	expect_spec(*state, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	s.n_vlans = 3;   /* more tags than XI_VLAN_MAX: not ours */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_NOT_IP));
}

static void test_not_ip(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.ethertype = 0x0806;   /* ARP */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_NOT_IP));
	s.n_vlans = 1;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_NOT_IP));
}

static void test_ipv4_options_and_trailer(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);
	uint8_t f[PKT_MAX];
	size_t len;

	s.ip_opt_words = 10;   /* IHL 15, the most there is */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	/* Ethernet padding after the datagram is not part of it. */
	s = tb_spec4(rtcp_pl, 8);
	len = pkt_build(f, &s);
	memset(f + len, 0xee, 30);
	tbx_expect(*state, f, len + 30, XDP_PASS, REASONS(XI_REASON_RTCP, XI_REASON_CHAIN_END));
}

static void test_bad_ip(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, &s);

	f[14] = 0x55;   /* version 5 */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_IP));
	f[14] = 0x44;   /* IHL 4 */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_IP));
	f[14] = 0x40;   /* IHL 0 */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_IP));
	f[14] = 0x45;
	xi_put_be16(f + 16, 19);   /* tot_len below the header */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_IP));
	s = tb_spec6(rtp_pl, rtp_len);
	len = pkt_build(f, &s);
	f[14] = 0x40;   /* IPv4 header under the IPv6 ethertype */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_IP));
}

static void test_ipv4_fragments(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.frag_off = 0x2000;   /* MF: first fragment */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_FRAGMENT));
	s.frag_off = 0x0001;   /* last fragment */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_FRAGMENT));
	s.frag_off = 0x4000;   /* DF alone is not a fragment */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
}

static void test_not_udp(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.ip_proto = 6;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_NOT_UDP));
	s = tb_spec6(rtp_pl, rtp_len);
	s.ip_proto = 58;   /* ICMPv6 */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_NOT_UDP));
	s.ip_proto = 50;   /* ESP ends the parseable chain */
	s.n_ext = 1;
	s.ext_type[0] = 0;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_NOT_UDP));
}

static void test_ipv6_extension_chains(void **state)
{
	static const uint8_t chain[] = { 0, 60, 43, 51, 60, 43, 60 };
	struct pkt_spec s = tb_spec6(rtp_pl, rtp_len);

	for (int n = 1; n <= XI_IPV6_EXT_MAX; n++) {
		s.n_ext = n;
		memcpy(s.ext_type, chain, sizeof(chain));
		expect_spec(*state, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	}
	s.n_ext = XI_IPV6_EXT_MAX + 1;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_IPV6_EXT_LIMIT));
	s.n_ext = 2;
	s.ext_type[1] = 44;   /* fragment header */
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_FRAGMENT));
	s.n_ext = 1;
	s.ext_type[0] = 44;
	expect_spec(*state, &s, XDP_PASS, REASONS(XI_REASON_FRAGMENT));
}

static void test_bad_udp(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(f, &s);

	xi_put_be16(f + 38, 7);
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_UDP));
	xi_put_be16(f + 38, (uint16_t)(8 + rtp_len + 1));   /* past the IP payload */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_BAD_UDP));
	xi_put_be16(f + 38, 8);   /* shorter than the datagram is fine: empty payload */
	tbx_expect(*state, f, len, XDP_PASS, REASONS(XI_REASON_OTHER));
}

static void test_unknown_flow_policy(void **state)
{
	struct tb *tb = *state;
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.dport = 5005;
	expect_spec(tb, &s, XDP_PASS, REASONS(XI_REASON_UNKNOWN_FLOW));
	assert_int_equal(tb_config(tb, XI_ACT_DROP, XI_ACT_PASS, 0, 0), 0);
	expect_spec(tb, &s, XDP_DROP, REASONS(XI_REASON_UNKNOWN_FLOW));
	s = tb_spec4(rtp_pl, rtp_len);   /* known flows are not affected */
	expect_spec(tb, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
}

static void test_flow_without_connection(void **state)
{
	struct tb *tb = *state;
	struct xi_flow_key k = tb_key4(TB_LOCAL4, 6000, NULL, 0);
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.dport = 6000;
	assert_int_equal(tb_flow(tb, &k, 99), 0);
	expect_spec(tb, &s, XDP_PASS, REASONS(XI_REASON_NO_CONN));
	assert_int_equal(tb_config(tb, XI_ACT_DROP, XI_ACT_PASS, 0, 0), 0);
	expect_spec(tb, &s, XDP_DROP, REASONS(XI_REASON_NO_CONN));
}

static void expect_payload(struct tb *tb, const uint8_t *pl, size_t len, int act,
			   uint32_t reason)
{
	struct pkt_spec s = tb_spec4(pl, len);

	if (reason == XI_REASON_RTP || reason == XI_REASON_RTCP)
		expect_spec(tb, &s, act, REASONS(reason, XI_REASON_CHAIN_END));
	else
		expect_spec(tb, &s, act, REASONS(reason));
}

/* Known flow, payload not RTP or RTCP: the non_rtp policy, by reason. */
static void check_non_rtp(struct tb *tb, int act)
{
	struct rtp_spec r = { .ssrc = 1, .ext_words = -1, .body = 4 };
	uint8_t p[64];
	size_t n;

	memset(p, 0, sizeof(p));
	expect_payload(tb, p, 20, act, XI_REASON_STUN);
	p[0] = 3;
	expect_payload(tb, p, 20, act, XI_REASON_STUN);
	p[0] = 22;   /* DTLS handshake */
	expect_payload(tb, p, 20, act, XI_REASON_DTLS);
	p[0] = 63;
	expect_payload(tb, p, 20, act, XI_REASON_DTLS);
	p[0] = 64;   /* TURN channel */
	expect_payload(tb, p, 20, act, XI_REASON_OTHER);
	p[0] = 192;
	expect_payload(tb, p, 20, act, XI_REASON_OTHER);
	expect_payload(tb, p, 0, act, XI_REASON_OTHER);
	p[0] = 0x80;
	expect_payload(tb, p, 1, act, XI_REASON_BAD_RTP);
	p[1] = 96;
	expect_payload(tb, p, 11, act, XI_REASON_BAD_RTP);   /* RTP below 12 bytes */
	p[1] = 201;
	expect_payload(tb, p, 7, act, XI_REASON_BAD_RTP);    /* RTCP below 8 bytes */
	r.n_csrc = 2;
	rtp_build(p, &r);
	expect_payload(tb, p, 19, act, XI_REASON_BAD_RTP);   /* CSRCs cut */
	r.n_csrc = 0;
	r.ext_words = 2;
	rtp_build(p, &r);
	expect_payload(tb, p, 15, act, XI_REASON_BAD_RTP);   /* extension header cut */
	expect_payload(tb, p, 23, act, XI_REASON_BAD_RTP);   /* extension words cut */
	r.ext_words = -1;
	r.pad = 4;
	n = rtp_build(p, &r);
	p[n - 1] = 0;                                         /* P set, no padding */
	expect_payload(tb, p, n, act, XI_REASON_BAD_RTP);
	p[n - 1] = (uint8_t)(n - 12 + 1);                     /* padding into the header */
	expect_payload(tb, p, n, act, XI_REASON_BAD_RTP);
}

static void test_non_rtp_policy(void **state)
{
	struct tb *tb = *state;

	check_non_rtp(tb, XDP_PASS);
	assert_int_equal(tb_config(tb, XI_ACT_PASS, XI_ACT_DROP, 0, 0), 0);
	check_non_rtp(tb, XDP_DROP);
}

/* CSRCs, extension and padding that fit start the chain. */
static void test_rtp_header_variants(void **state)
{
	struct rtp_spec r = { .ssrc = 1, .ext_words = -1 };
	uint8_t p[256];
	size_t n;

	for (int cc = 0; cc <= 15; cc += 5) {
		for (int ext = -1; ext <= 3; ext += 2) {
			for (int pad = 0; pad <= 3; pad += 3) {
				r.n_csrc = cc;
				r.ext_words = ext;
				r.pad = pad;
				n = rtp_build(p, &r);
				expect_payload(*state, p, n, XDP_PASS, XI_REASON_RTP);
			}
		}
	}
	/* pad exactly up to the header: no payload at all */
	r.n_csrc = 0;
	r.ext_words = -1;
	r.pad = 1;
	n = rtp_build(p, &r);
	expect_payload(*state, p, n, XDP_PASS, XI_REASON_RTP);
}

/*
 * Every prefix of a valid frame is TRUNCATED and passes. BPF_PROG_TEST_RUN
 * refuses XDP input below 14 bytes (-EINVAL), so those lengths are checked
 * against the twin only.
 */
static void check_every_truncation(struct tb *tb, const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];
	size_t full = pkt_build(f, s);
	struct xi_flow_key key;
	struct xi_pkt_ctx pc;

	for (size_t len = 0; len < 14; len++) {
		assert_int_equal(xi_twin_parse_frame(f, len, &key, &pc), XI_REASON_TRUNCATED);
		assert_int_equal(tb_run(tb, f, len), -EINVAL);
	}
	for (size_t len = 14; len < full; len++)
		tbx_expect(tb, f, len, XDP_PASS, REASONS(XI_REASON_TRUNCATED));
}

static void test_truncated_at_every_offset(void **state)
{
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);

	s.ip_opt_words = 3;
	check_every_truncation(*state, &s);
	s = tb_spec6(rtp_pl, rtp_len);
	s.n_vlans = 2;
	s.n_ext = 3;
	s.ext_type[0] = 0;
	s.ext_type[1] = 51;
	s.ext_type[2] = 60;
	check_every_truncation(*state, &s);
	s = tb_spec4(rtcp_pl, rtcp_len);
	s.n_vlans = 1;
	check_every_truncation(*state, &s);
}

static void test_failed_tail_call_passes(void **state)
{
	struct tb *tb = *state;
	const uint8_t stats[] = { XI_STAGE_HEADER_STATS }, to_user[] = { XI_STAGE_TO_USER };
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);
	uint32_t slot = XI_STAGE_HEADER_STATS;

	/* The reserved AF_XDP slot is empty until a daemon fills it: no_daemon. */
	assert_int_equal(tb_conn(tb, CONN_PASS, to_user, 1, XI_ACT_PASS, 90000), 0);
	expect_spec(tb, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_NO_DAEMON));
	{
		struct xi_iface_config c = { .no_daemon = XI_ACT_DROP };
		uint32_t zero = 0;

		assert_int_equal(bpf_map_update_elem(tb_fd(tb->skel->maps.xi_config), &zero,
						     &c, BPF_ANY), 0);
	}
	expect_spec(tb, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_NO_DAEMON));
	assert_int_equal(tb_conn(tb, CONN_PASS, stats, 1, XI_ACT_DROP, 90000), 0);
	expect_spec(tb, &s, XDP_DROP, REASONS(XI_REASON_RTP, XI_REASON_CHAIN_END));
	assert_int_equal(bpf_map_delete_elem(tb_fd(tb->skel->maps.xi_stages), &slot), 0);
	expect_spec(tb, &s, XDP_PASS, REASONS(XI_REASON_RTP, XI_REASON_TAILCALL_FAIL));
}

/* Random bytes after a valid Ethernet/IP/UDP prefix, and random bytes
 * anywhere: each frame counts exactly one entry reason, as the twin says. */
static void test_random_frames_never_abort(void **state)
{
	struct tb *tb = *state;
	struct pkt_spec s = tb_spec4(rtp_pl, rtp_len);
	uint8_t base[PKT_MAX], f[PKT_MAX];
	size_t blen = pkt_build(base, &s);
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		size_t len = 14 + rand_r(&seed) % (blen - 13);
		uint64_t before[XI_REASON__MAX], after[XI_REASON__MAX], moved = 0;
		int act, twin_act;
		uint32_t r;

		memcpy(f, base, blen);
		for (int k = rand_r(&seed) % 4; k >= 0; k--)
			f[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		tb_reasons(tb, before);
		act = tb_run(tb, f, len);
		tb_reasons(tb, after);
		r = tbx_twin(tb, f, len, &twin_act);
		assert_true(act == XDP_PASS || act == XDP_DROP);
		assert_int_equal(after[r] - before[r], 1);
		for (int k = 0; k < XI_REASON__MAX; k++)
			moved += after[k] - before[k];
		assert_int_equal(moved, r == XI_REASON_RTP || r == XI_REASON_RTCP ? 2 : 1);
		assert_int_equal(act, twin_act);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv4_rtp_and_rtcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_wildcard_serves_every_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_flow_beats_wildcard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_and_qinq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_options_and_trailer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_extension_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_flow_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_without_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_rtp_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtp_header_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_at_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_tail_call_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_frames_never_abort, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
