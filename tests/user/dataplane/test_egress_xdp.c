// SPDX-License-Identifier: MIT
/*
 * The TC egress side with BPF_PROG_TEST_RUN: xi_tc_egress finds the
 * connection of packets leaving its local endpoint and runs its egress
 * stages: ssrc-filter drops a denied SSRC (TC_ACT_SHOT, counted),
 * twcc-sequencer writes the transport-wide numbers exactly where its C twin
 * does and keeps the UDP checksum valid, header-stats counts the local
 * stream (packets, payload octets, header bytes, last RTP timestamp and its
 * send time). Every packet counts once in xi_egress_reasons; xi_reasons
 * (arriving) does not move.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/pkt_cls.h>

#include "bpf/xi_tb.h"
#include "user/interceptors/twcc_sequencer/twin.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"
#include "user/interceptors/header_stats/header_stats_abi.h"
#include "user/interceptors/twcc_sequencer/twcc_sequencer_abi.h"

static const uint8_t LOCAL[4] = { 10, 0, 0, 2 }, REMOTE[4] = { 10, 0, 0, 1 };

static uint64_t egress_reason(struct tb *tb, uint32_t r)
{
	uint64_t v[tb->ncpu], sum = 0;

	assert_int_equal(bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_egress_reasons), &r, v), 0);
	for (int i = 0; i < tb->ncpu; i++)
		sum += v[i];
	return sum;
}

static uint16_t csum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP checksum of an untagged IPv4 frame, over pseudo-header and datagram. */
static uint16_t udp_csum(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *udp = ip + 20;
	size_t ulen = len - 34;
	uint32_t pseudo = 0;

	for (int i = 12; i < 20; i += 2)
		pseudo += (uint32_t)ip[i] << 8 | ip[i + 1];
	pseudo += 17 + (uint32_t)ulen;
	return csum16(udp, ulen, pseudo);
}

/* RTP of ssrc leaving LOCAL:5004 for REMOTE:7000 with a one-byte element 1
 * (one byte) and element 3 (two bytes, 0xffff: at an odd offset), a valid
 * UDP checksum. */
static size_t frame_make(uint8_t *f, uint32_t ssrc, uint16_t seq, uint16_t sport, bool twcc)
{
	uint8_t rtp[256];
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .ts = 1000u * seq, .pt = 96,
			      .ext_words = twcc ? 2 : -1, .body = 120 };
	struct pkt_spec s = { .family = 4, .sport = sport, .dport = 7000, .payload = rtp };
	size_t n = rtp_build(rtp, &r), len;
	uint16_t c;

	if (twcc)
		memcpy(rtp + 16, "\x10\x07\x31\xff\xff\x00\x00\x00", 8);
	s.payload_len = n;
	memcpy(s.src, LOCAL, 4);
	memcpy(s.dst, REMOTE, 4);
	len = pkt_build(f, &s);
	f[14 + 6] = 0x40;   /* DF, as a socket sends it */
	c = udp_csum(f, len);
	xi_put_be16(f + 34 + 6, c ? c : 0xffff);
	return len;
}

/* Runs xi_tc_egress; *out gets the packet as it leaves. */
static int run(struct tb *tb, const uint8_t *f, size_t len, uint8_t *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(tb->skel->progs.xi_tc_egress), &o), 0);
	assert_int_equal(o.data_size_out, len);
	return (int)o.retval;
}

static void test_egress_stages(void **state)
{
	static const uint8_t egress[] = { XI_STAGE_SSRC_FILTER, XI_STAGE_TWCC_SEQUENCER,
					  XI_STAGE_HEADER_STATS };
	struct tb *tb = tb_open();
	struct xi_flow_key k = tb_key4(LOCAL, 5004, REMOTE, 7000);
	struct xi_twcc_cfg tw = { .ext_id = 3 };
	struct xi_stream_key sk = { .conn_id = 1, .ssrc = 0x5678 };
	struct xi_local_stats ls;
	struct xi_conn c = { .conn_id = 1, .n_egress = 3 };
	uint32_t deny = 0x9999, one = 1;
	uint64_t before[XI_REASON__MAX], after[XI_REASON__MAX];
	uint8_t f[PKT_MAX], out[PKT_MAX], twin[PKT_MAX];
	size_t len;

	assert_non_null(tb);
	assert_int_equal(xi_stage_fill_slots(tb->skel->obj,
						    tb_fd(tb->skel->maps.xi_egress_stages), XI_FILL_EGRESS), 0);
	assert_int_equal(tb_config(tb, 0, 0, XI_IFACE_F_TEST_CLOCK, 123456789), 0);
	assert_int_equal(tb_flow(tb, &k, 1), 0);
	memcpy(c.egress, egress, sizeof(egress));
	assert_int_equal(bpf_map_update_elem(tb_fd(tb->skel->maps.xi_conns), &one, &c, BPF_ANY), 0);
	assert_int_equal(tb_ssrc_filter(tb, 1, XI_SSRC_MODE_DENY, &deny, 1), 0);
	assert_int_equal(bpf_map_update_elem(tb_fd(tb->skel->maps.xi_twcc_cfgs), &one, &tw, BPF_ANY), 0);
	tb_reasons(tb, before);

	for (uint16_t i = 0; i < 3; i++) {
		len = frame_make(f, 0x5678, (uint16_t)(100 + i), 5004, true);
		memcpy(twin, f, len);
		assert_int_equal(xi_twin_twcc_write(twin + 42, len - 42, 3, i), 1);
		assert_int_equal(run(tb, f, len, out), TC_ACT_OK);
		/* the twin's bytes, but for the checksum, which stays valid */
		assert_memory_equal(out, twin, 40);
		assert_memory_equal(out + 42, twin + 42, len - 42);
		assert_int_equal(out[42 + 19] << 8 | out[42 + 20], i);
		assert_int_equal(udp_csum(out, len), 0);
	}
	/* no element 3: untouched */
	len = frame_make(f, 0x5678, 103, 5004, false);
	assert_int_equal(run(tb, f, len, out), TC_ACT_OK);
	assert_memory_equal(out, f, len);
	/* the denied SSRC does not leave */
	len = frame_make(f, deny, 7, 5004, true);
	assert_int_equal(run(tb, f, len, out), TC_ACT_SHOT);
	/* another source port: not the connection's */
	len = frame_make(f, 0x5678, 8, 5010, true);
	assert_int_equal(run(tb, f, len, out), TC_ACT_OK);
	assert_memory_equal(out, f, len);

	assert_int_equal(bpf_map_lookup_elem_flags(tb_fd(tb->skel->maps.xi_local_stats), &sk, &ls,
						   BPF_F_LOCK), 0);
	assert_int_equal(ls.packets, 4);
	assert_int_equal(ls.rtp_packets, 4);
	assert_int_equal(ls.octets, 4 * 120);
	assert_int_equal(ls.header_bytes, 3 * 24 + 12);
	assert_int_equal(ls.last_rtp_ts, 103000);
	assert_int_equal(ls.last_seq, 103);
	assert_int_equal(ls.last_send_ns, 123456789);
	sk.ssrc = deny;
	assert_int_equal(bpf_map_lookup_elem_flags(tb_fd(tb->skel->maps.xi_local_stats), &sk, &ls,
						   BPF_F_LOCK), -ENOENT);
	assert_int_equal(egress_reason(tb, XI_REASON_RTP), 5);
	assert_int_equal(egress_reason(tb, XI_REASON_SSRC_DROP), 1);
	assert_int_equal(egress_reason(tb, XI_REASON_CHAIN_END), 4);
	assert_int_equal(egress_reason(tb, XI_REASON_UNKNOWN_FLOW), 1);
	tb_reasons(tb, after);
	assert_memory_equal(before, after, sizeof(before));   /* arriving: nothing */
	tb_close(tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egress_stages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
