// SPDX-License-Identifier: MIT
/*
 * A stage added through its descriptor alone. This program is linked against
 * a library built again with the files of this folder and the one line of
 * stages_extra.h, and with no other change (`make test-stage-probe`): the
 * dataplane code that loads, pins, sweeps and reads stages is the shipped
 * one. On a veth pair of its own (xip<pid>a/b), attached in skb mode:
 *   - attach pins the probe's map and program and puts xi_probe in slot 15;
 *   - xi_dataplane_info (what `status` prints) names the slot "probe";
 *   - a chain "probe ! header-stats" runs both stages on every packet, and
 *     xi_dataplane_ssrc_stats (what `stats` prints) has the probe's fields;
 *   - conn_del removes exactly the connection's entries of the probe's map.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/abi.h>
#include <xicept/catalog.h>
#include <xicept/dataplane.h>

#include "bpf/xi_pkt.h"
#include "bpf/xi_veth.h"

#define BODY 100   /* RTP payload bytes: each packet is 12 + BODY */

static struct veth_dp fx;

static int group_teardown(void **state)
{
	veth_dp_down(&fx);
	return 0;
}

static int group_setup(void **state)
{
	return veth_dp_up(&fx, "xip");
}

static int pin_open(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), XI_PIN_ROOT "/%s/%s", fx.ifname, name);
	return bpf_obj_get(path);
}

/* One RTP packet of ssrc from 10.7.0.2:6000 to 10.7.0.1:port through the
 * pinned xi_entry; the XDP verdict. */
static int send_rtp(uint16_t port, uint32_t ssrc, uint16_t seq)
{
	static const uint8_t local[16] = { 10, 7, 0, 1 }, remote[16] = { 10, 7, 0, 2 };
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .ts = seq * 3000u, .pt = 96,
			      .ext_words = -1, .body = BODY };
	uint8_t payload[PKT_MAX], frame[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s = { .family = 4, .sport = 6000, .dport = port, .payload = payload };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int fd = pin_open("xi_entry");

	assert_true(fd >= 0);
	memcpy(s.src, remote, 16);
	memcpy(s.dst, local, 16);
	s.payload_len = rtp_build(payload, &r);
	o.data_size_in = (uint32_t)pkt_build(frame, &s);
	assert_int_equal(bpf_prog_test_run_opts(fd, &o), 0);
	close(fd);
	return (int)o.retval;
}

static uint32_t conn_add(uint16_t port, const char *chain)
{
	struct xi_conn_spec s = { 0 };
	struct xi_err err = { 0 };
	char ep[32];
	uint32_t id;

	snprintf(ep, sizeof(ep), "10.7.0.1:%u", port);
	assert_int_equal(xi_endpoint_parse(ep, &s.local, NULL), 0);
	assert_int_equal(xi_endpoint_parse("10.7.0.2:6000", &s.remote, NULL), 0);
	strcpy(s.chain, chain);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	return id;
}

/* Entries of the probe's map, all or those of one connection. */
static size_t probe_entries(uint32_t conn)
{
	struct xi_stream_key key;
	size_t n = 0;
	int fd = pin_open("xi_probe_counts");

	assert_true(fd >= 0);
	for (int e = bpf_map_get_next_key(fd, NULL, &key); !e;
	     e = bpf_map_get_next_key(fd, &key, &key))
		n += conn == XI_CONN_ANY || key.conn_id == conn;
	close(fd);
	return n;
}

static void test_loaded_and_described(void **state)
{
	struct xi_dataplane_info info;
	int fd;

	assert_int_equal(XI_STAGE_PROBE, 15);
	fd = pin_open("xi_probe_counts");
	assert_true(fd >= 0);
	close(fd);
	fd = pin_open("xi_probe");
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(xi_dataplane_info(fx.dp, &info), 0);
	assert_non_null(info.stage_names[XI_STAGE_PROBE]);
	assert_string_equal(info.stage_names[XI_STAGE_PROBE], "probe");
	assert_true(info.stage_prog_ids[XI_STAGE_PROBE] != 0);
	assert_string_equal(info.stage_names[XI_STAGE_TO_USER], "to-user");
	assert_int_equal(info.stage_prog_ids[XI_STAGE_TO_USER], 0);   /* no daemon */
	/* noop, ssrc-filter, header-stats, twcc-sequencer, the TC egress
	 * program and probe; to-user waits for a daemon */
	assert_int_equal(info.n_stage_progs, 6);
}

static const struct xi_ssrc_stats *stats_of(const struct xi_ssrc_stats *s, size_t n,
					    uint32_t conn, uint32_t ssrc)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].conn_id == conn && s[i].ssrc == ssrc)
			return &s[i];
	fail_msg("no stats for connection %u SSRC %#x", conn, ssrc);
	return NULL;
}

static void test_chain_stats_and_sweep(void **state)
{
	uint32_t a = conn_add(5004, "probe ! header-stats"), b = conn_add(5008, "probe");
	const struct xi_ssrc_stats *st;
	struct xi_ssrc_stats *s;
	struct xi_conn val;
	struct xi_err err = { 0 };
	size_t n;
	int fd;

	fd = pin_open("xi_conns");
	assert_int_equal(bpf_map_lookup_elem(fd, &a, &val), 0);
	close(fd);
	assert_int_equal(val.n_stages, 2);
	assert_int_equal(val.stages[0], XI_STAGE_PROBE);
	assert_int_equal(val.stages[1], XI_STAGE_HEADER_STATS);

	for (uint16_t seq = 1; seq <= 7; seq++)
		assert_int_equal(send_rtp(5004, 0x1111, seq), XDP_PASS);
	for (uint16_t seq = 1; seq <= 3; seq++)
		assert_int_equal(send_rtp(5004, 0x2222, seq), XDP_PASS);
	for (uint16_t seq = 1; seq <= 5; seq++)
		assert_int_equal(send_rtp(5008, 0x3333, seq), XDP_PASS);

	assert_int_equal(xi_dataplane_ssrc_stats(fx.dp, XI_CONN_ANY, &s, &n), 0);
	assert_int_equal(n, 3);
	st = stats_of(s, n, a, 0x1111);
	assert_int_equal(xi_ssrc_stats_get(st, "probe_packets"), 7);
	assert_int_equal(xi_ssrc_stats_get(st, "probe_bytes"), 7 * (12 + BODY));
	assert_int_equal(xi_ssrc_stats_get(st, "packets"), 7);   /* header-stats ran after it */
	st = stats_of(s, n, a, 0x2222);
	assert_int_equal(xi_ssrc_stats_get(st, "probe_packets"), 3);
	assert_int_equal(xi_ssrc_stats_get(st, "packets"), 3);
	st = stats_of(s, n, b, 0x3333);
	assert_int_equal(xi_ssrc_stats_get(st, "probe_packets"), 5);
	assert_int_equal(xi_ssrc_stats_get(st, "packets"), 0);   /* no header-stats there */
	free(s);

	assert_int_equal(probe_entries(a), 2);
	assert_int_equal(xi_dataplane_conn_del(fx.dp, a, &err), 0);
	assert_int_equal(probe_entries(a), 0);
	assert_int_equal(probe_entries(XI_CONN_ANY), 1);   /* b's stays */
	assert_int_equal(xi_dataplane_conn_del(fx.dp, b, &err), 0);
	assert_int_equal(probe_entries(XI_CONN_ANY), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_and_described),
		cmocka_unit_test(test_chain_stats_and_sweep),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
