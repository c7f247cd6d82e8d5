// SPDX-License-Identifier: MIT
/* The C twin of xi_entry: frame parsing, payload classes, flow lookup order
 * and policies, without BPF (tests/bpf/ compares it with the real thing). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bpf/xi_pkt.h"
#include "user/twin/twin.h"

static const uint8_t LOCAL4[4] = { 192, 0, 2, 1 }, PEER4[4] = { 198, 51, 100, 7 };

static struct pkt_spec spec4(const uint8_t *pl, size_t n)
{
	struct pkt_spec s;

	memset(&s, 0, sizeof(s));
	s.family = 4;
	memcpy(s.src, PEER4, 4);
	memcpy(s.dst, LOCAL4, 4);
	s.sport = 40000;
	s.dport = 5004;
	s.payload = pl;
	s.payload_len = n;
	return s;
}

static void test_parse_ipv4_key_and_offsets(void **state)
{
	uint8_t pl[8] = { 0 }, f[PKT_MAX];
	struct pkt_spec s = spec4(pl, sizeof(pl));
	struct xi_flow_key k;
	struct xi_pkt_ctx pc;
	size_t n;

	s.n_vlans = 2;
	s.ip_opt_words = 2;
	n = pkt_build(f, &s);
	assert_int_equal(xi_twin_parse_frame(f, n, &k, &pc), XI_TWIN_PARSED);
	assert_int_equal(k.family, XI_FAMILY_IPV4);
	assert_memory_equal(k.local_addr, LOCAL4, 4);     /* ingress: local is the destination */
	assert_memory_equal(k.remote_addr, PEER4, 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(k.local_addr[i] | k.remote_addr[i], 0);
	assert_int_equal(ntohs(k.local_port), 5004);
	assert_int_equal(ntohs(k.remote_port), 40000);
	assert_int_equal(pc.l3_off, 22);
	assert_int_equal(pc.l4_off, 22 + 28);
	assert_int_equal(pc.payload_off, 22 + 28 + 8);
	assert_int_equal(pc.payload_len, 8);
}

static void test_parse_ipv6_with_extensions(void **state)
{
	uint8_t pl[4] = { 0 }, f[PKT_MAX];
	struct pkt_spec s = spec4(pl, sizeof(pl));
	struct xi_flow_key k;
	struct xi_pkt_ctx pc;
	size_t n;

	s.family = 6;
	memset(s.src, 0x11, 16);
	memset(s.dst, 0x22, 16);
	s.n_ext = 2;
	s.ext_type[0] = 0;
	s.ext_type[1] = 51;
	n = pkt_build(f, &s);
	assert_int_equal(xi_twin_parse_frame(f, n, &k, &pc), XI_TWIN_PARSED);
	assert_int_equal(k.family, XI_FAMILY_IPV6);
	assert_int_equal(k.local_addr[0], 0x22);
	assert_int_equal(k.remote_addr[15], 0x11);
	assert_int_equal(pc.l4_off, 14 + 40 + 32);
	assert_int_equal(pc.payload_len, 4);
	s.n_ext = XI_IPV6_EXT_MAX + 1;
	memset(s.ext_type, 60, sizeof(s.ext_type));
	n = pkt_build(f, &s);
	assert_int_equal(xi_twin_parse_frame(f, n, &k, &pc), XI_REASON_IPV6_EXT_LIMIT);
}

static void test_every_prefix_is_truncated(void **state)
{
	uint8_t pl[20] = { 0x80, 96 }, f[PKT_MAX];
	struct pkt_spec s = spec4(pl, sizeof(pl));
	size_t n = pkt_build(f, &s);
	struct xi_flow_key k;
	struct xi_pkt_ctx pc;

	for (size_t len = 0; len < n; len++)
		assert_int_equal(xi_twin_parse_frame(f, len, &k, &pc), XI_REASON_TRUNCATED);
	assert_int_equal(xi_twin_parse_frame(f, n, &k, &pc), XI_TWIN_PARSED);
}

static void test_classify(void **state)
{
	struct rtp_spec r = { .ssrc = 0xdeadbeef, .seq = 65535, .ts = 0x01020304, .pt = 111,
			      .marker = 1, .n_csrc = 1, .ext_words = 2, .pad = 3, .body = 7 };
	uint8_t p[128] = { 0 };
	struct xi_pkt_ctx pc;
	size_t n = rtp_build(p, &r);

	memset(&pc, 0, sizeof(pc));
	assert_int_equal(xi_twin_classify_payload(p, n, &pc), XI_REASON_RTP);
	assert_int_equal(pc.ssrc, 0xdeadbeef);
	assert_int_equal(pc.seq, 65535);
	assert_int_equal(pc.rtp_timestamp, 0x01020304);
	assert_int_equal(pc.payload_type, 111);
	assert_int_equal(pc.marker, 1);
	assert_int_equal(pc.rtp_hdr_len, 12 + 4 + 4 + 8);
	assert_int_equal(pc.rtp_pad_len, 3);
	assert_int_equal(pc.payload_len, n);
	assert_int_equal(pc.is_rtcp, 0);
	n = rtcp_sr_build(p, 0x0a0b0c0d);
	assert_int_equal(xi_twin_classify_payload(p, n, &pc), XI_REASON_RTCP);
	assert_int_equal(pc.ssrc, 0x0a0b0c0d);
	assert_int_equal(pc.is_rtcp, 1);
	p[1] = 223;
	assert_int_equal(xi_twin_classify_payload(p, 8, &pc), XI_REASON_RTCP);
	p[1] = 224;   /* past RFC 5761's RTCP range: RTP with M set, PT 96 */
	assert_int_equal(xi_twin_classify_payload(p, 12, &pc), XI_REASON_RTP);
	p[0] = 1;
	assert_int_equal(xi_twin_classify_payload(p, 20, &pc), XI_REASON_STUN);
	p[0] = 20;
	assert_int_equal(xi_twin_classify_payload(p, 20, &pc), XI_REASON_DTLS);
	p[0] = 17;    /* ZRTP */
	assert_int_equal(xi_twin_classify_payload(p, 20, &pc), XI_REASON_OTHER);
	p[0] = 0x80;
	assert_int_equal(xi_twin_classify_payload(p, 70000, &pc), XI_REASON_OTHER);
}

/* A fake xi_flows/xi_conns: one exact flow to conn 1, one wildcard to conn 2,
 * one flow to conn 3 that does not exist. */
static struct xi_conn conns[3];

static int fake_flow(void *user, const struct xi_flow_key *key, uint32_t *ret)
{
	int *calls = user;
	int wild = key->remote_port == 0;

	(*calls)++;
	if (ntohs(key->local_port) == 5004 && !wild && ntohs(key->remote_port) == 40000)
		*ret = 1;
	else if (ntohs(key->local_port) == 5004 && wild)
		*ret = 2;
	else if (ntohs(key->local_port) == 6000)
		*ret = 3;
	else
		return -ENOENT;
	return 0;
}

static const struct xi_conn *fake_conn(void *user, uint32_t id)
{
	return id >= 1 && id <= 2 ? &conns[id] : NULL;
}

static uint32_t entry(const struct xi_iface_config *cfg, struct pkt_spec *s,
		      struct xi_pkt_ctx *pc, enum xi_action *act, int *calls)
{
	struct xi_twin_lookup lk = { .flow = fake_flow, .conn = fake_conn, .user = calls };
	uint8_t f[PKT_MAX];
	size_t n = pkt_build(f, s);

	*calls = 0;
	return xi_twin_entry(&lk, cfg, f, n, 777, pc, act);
}

static void test_entry_lookup_and_policies(void **state)
{
	struct xi_iface_config cfg = { .unknown_flow = XI_ACT_DROP, .non_rtp = XI_ACT_DROP };
	struct rtp_spec r = { .ssrc = 5, .ext_words = -1 };
	uint8_t pl[64];
	struct pkt_spec s = spec4(pl, rtp_build(pl, &r));
	struct xi_pkt_ctx pc;
	enum xi_action act;
	int calls;

	conns[1] = (struct xi_conn){ .conn_id = 1, .default_clock_rate = 90000, .n_stages = 2,
				     .verdict = XI_ACT_DROP, .stages = { 2, 1 } };
	conns[2] = (struct xi_conn){ .conn_id = 2 };
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_RTP);
	assert_int_equal(calls, 1);          /* exact hit: no wildcard lookup */
	assert_int_equal(pc.conn_id, 1);
	assert_int_equal(pc.n_stages, 2);
	assert_int_equal(pc.stages[0], 2);
	assert_int_equal(pc.stages[1], 1);
	assert_int_equal(pc.verdict, XI_ACT_DROP);
	assert_int_equal(pc.default_clock_rate, 90000);
	assert_int_equal(pc.now_ns, 777);
	assert_int_equal(pc.ssrc, 5);
	s.sport = 1;
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_RTP);
	assert_int_equal(calls, 2);
	assert_int_equal(pc.conn_id, 2);
	s.dport = 5005;
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_UNKNOWN_FLOW);
	assert_int_equal(act, XI_ACT_DROP);
	s.dport = 6000;
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_NO_CONN);
	assert_int_equal(act, XI_ACT_DROP);
	cfg.unknown_flow = XI_ACT_PASS;
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_NO_CONN);
	assert_int_equal(act, XI_ACT_PASS);
	s.dport = 5004;
	pl[0] = 0;
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_STUN);
	assert_int_equal(act, XI_ACT_DROP);
	s.ip_proto = 6;
	assert_int_equal(entry(&cfg, &s, &pc, &act, &calls), XI_REASON_NOT_UDP);
	assert_int_equal(act, XI_ACT_PASS);   /* not ours: always passes */
	assert_int_equal(calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_key_and_offsets),
		cmocka_unit_test(test_parse_ipv6_with_extensions),
		cmocka_unit_test(test_every_prefix_is_truncated),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_entry_lookup_and_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
