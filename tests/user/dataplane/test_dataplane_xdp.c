// SPDX-License-Identifier: MIT
/*
 * The control plane on a real interface: a veth pair of our own (xid<pid>a,
 * xid<pid>b) in the init namespace, attached in skb mode. Packets go through
 * the attached, pinned xi_entry with BPF_PROG_TEST_RUN, with the test clock
 * of xi_config set so that arrival times, and so jitter, are exact.
 *
 * Every test attaches in its setup and detaches in its teardown, which cmocka
 * runs after a failed assert too; the group teardown removes the veth.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/abi.h>
#include <xicept/catalog.h>
#include <xicept/dataplane.h>
#include <xicept/srtp.h>

#include "bpf/xi_pkt.h"
#include "bpf/xi_sys.h"
#include "user/dataplane/swap.h"

struct fixture {
	char ifname[IF_NAMESIZE];
	char peer[IF_NAMESIZE];
	char dummy[IF_NAMESIZE];      /* an ifb: no native XDP, an attach that fails late */
	struct xi_catalog *cat;
	struct xi_dataplane *dp;
};

static struct fixture fx;

static const char *const pinned_maps[] = {
	"xi_config", "xi_reasons", "xi_scratch", "xi_flows4", "xi_flows6", "xi_ports", "xi_conns", "xi_ssrc_filters",
	"xi_ssrc_lists", "xi_ssrc_drops", "xi_conn_drops", "xi_clock_rates", "xi_stream_stats",
	"xi_stages", "xi_conn_meta", "xi_losses", "xi_xsks",
	/* TC egress: local streams */
	"xi_egress_stages", "xi_escratch", "xi_egress_reasons", "xi_local_stats",
	"xi_remote_reports", "xi_rtcp_ignored", "xi_twcc_cfgs", "xi_twcc_seqs",
};
static const char *const pinned_progs[] = {
	"xi_entry", "xi_noop", "xi_ssrc_filter", "xi_header_stats",
	"xi_to_user",   /* pinned for `xicept run`, which fills its slot */
	"xi_tc_egress", "xi_noop_tc", "xi_ssrc_filter_tc", "xi_header_stats_tc", "xi_tap_tc",
	"xi_twcc_sequencer", "xi_twcc_sequencer_tc",
};

static int group_teardown(void **state)
{
	xi_dataplane_detach(fx.ifname);
	xi_dataplane_detach(fx.peer);
	xi_dataplane_detach(fx.dummy);
	run_cmd("ip link del %s 2>/dev/null%s", fx.ifname, "");
	run_cmd("ip link del %s 2>/dev/null%s", fx.dummy, "");
	xi_catalog_free(fx.cat);
	return 0;
}

static int group_setup(void **state)
{
	snprintf(fx.ifname, sizeof(fx.ifname), "xid%da", (int)getpid() % 100000);
	snprintf(fx.peer, sizeof(fx.peer), "xid%db", (int)getpid() % 100000);
	snprintf(fx.dummy, sizeof(fx.dummy), "xid%dd", (int)getpid() % 100000);
	fx.cat = xi_catalog_new_from_global();
	if (!fx.cat || run_cmd("ip link add %s type ifb%s", fx.dummy, "") ||
	    run_cmd("ip link add %s type veth peer name %s", fx.ifname, fx.peer) ||
	    run_cmd("ip link set %s up && ip link set %s up", fx.ifname, fx.peer)) {
		group_teardown(state);   /* cmocka skips it when setup fails */
		return -1;
	}
	return 0;
}

/* Small tables: hash maps preallocate, and the defaults cost a large
 * attach every test would pay for. test_attach_native checks the defaults. */
#define FX_MAX_CONNS   64
#define FX_MAX_FLOWS   64
#define FX_MAX_STREAMS 256

static int attach_setup(void **state)
{
	struct xi_attach_opts o = { .sz = sizeof(o), .mode = XI_XDP_SKB,
				    .max_conns = FX_MAX_CONNS, .max_flows = FX_MAX_FLOWS,
				    .max_streams = FX_MAX_STREAMS };

	return xi_dataplane_attach(fx.ifname, &o, fx.cat, &fx.dp);
}

static int attach_teardown(void **state)
{
	xi_dataplane_close(fx.dp);
	fx.dp = NULL;
	xi_dataplane_detach(fx.ifname);
	return 0;
}

static int pin_open(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), XI_PIN_ROOT "/%s/%s", fx.ifname, name);
	return bpf_obj_get(path);
}

static uint32_t xdp_prog_id(void)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	assert_int_equal(bpf_xdp_query((int)if_nametoindex(fx.ifname), 0, &q), 0);
	return q.skb_prog_id;
}

/* ---- packets ---- */

static void test_clock_set(uint64_t ns)
{
	struct xi_iface_config cfg;
	uint32_t zero = 0;
	int fd = pin_open("xi_config");

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
	cfg.flags |= XI_IFACE_F_TEST_CLOCK;
	cfg.test_clock_ns = ns;
	assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	close(fd);
}

/* Runs one frame through the pinned xi_entry at time now_ns. */
static int run_frame(const uint8_t *frame, size_t len, uint64_t now_ns)
{
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int fd = pin_open("xi_entry");

	assert_true(fd >= 0);
	test_clock_set(now_ns);
	assert_int_equal(bpf_prog_test_run_opts(fd, &o), 0);
	close(fd);
	return (int)o.retval;
}

static const uint8_t v4_local[16] = { 10, 1, 0, 1 }, v4_remote[16] = { 10, 1, 0, 2 };
static const uint8_t v6_local[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6_peer1[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t v6_peer2[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };

/* An RTP frame: 12-byte header, body bytes of payload. */
static int send_rtp(int family, const uint8_t *src, uint16_t sport, const uint8_t *dst,
		    uint16_t dport, const struct rtp_spec *r, uint64_t now_ns)
{
	uint8_t payload[PKT_MAX], frame[PKT_MAX];
	struct pkt_spec s = { .family = family, .sport = sport, .dport = dport,
			      .payload = payload };

	memcpy(s.src, src, 16);
	memcpy(s.dst, dst, 16);
	s.payload_len = rtp_build(payload, r);
	return run_frame(frame, pkt_build(frame, &s), now_ns);
}

static int send_v4(uint32_t ssrc, uint16_t seq, uint32_t ts, uint64_t now_ns)
{
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .ts = ts, .pt = 96, .ext_words = -1,
			      .body = 100, .marker = seq % 5 == 0 };

	return send_rtp(4, v4_remote, 6000, v4_local, 5004, &r, now_ns);
}

static int send_v6(const uint8_t *peer, uint32_t ssrc, uint16_t seq, uint64_t now_ns)
{
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .ts = seq * 960u, .pt = 111,
			      .ext_words = -1, .body = 40 };

	return send_rtp(6, peer, 7000, v6_local, 5006, &r, now_ns);
}

/* ---- connections ---- */

static struct xi_conn_spec spec_v4(void)
{
	struct xi_conn_spec s = { 0 };

	assert_int_equal(xi_endpoint_parse("10.1.0.1:5004", &s.local, NULL), 0);
	assert_int_equal(xi_endpoint_parse("10.1.0.2:6000", &s.remote, NULL), 0);
	strcpy(s.chain, "header-stats clock-rate=8000");
	s.n_streams = 1;
	assert_int_equal(xi_stream_spec_parse("0x1111:96:90000", &s.streams[0], NULL), 0);
	return s;
}

static struct xi_conn_spec spec_v6_any(void)
{
	struct xi_conn_spec s = { 0 };

	assert_int_equal(xi_endpoint_parse("[fd00::1]:5006", &s.local, NULL), 0);
	strcpy(s.chain, "ssrc-filter mode=allow ssrc=0x2222 ! header-stats clock-rate=48000");
	return s;
}

static void add_both(uint32_t *id4, uint32_t *id6)
{
	struct xi_conn_spec a = spec_v4(), b = spec_v6_any();
	struct xi_err err = { 0 };

	assert_int_equal(xi_dataplane_conn_add(fx.dp, &a, id4, &err), 0);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &b, id6, &err), 0);
	assert_int_equal(*id4, 1);
	assert_int_equal(*id6, 2);
}

/* 20 ms apart; seq 104 lost; seq 106 10 ms late. */
static void traffic_v4(void)
{
	for (uint16_t seq = 100; seq < 110; seq++) {
		uint64_t now = 1000000000ull + (seq - 100) * 20000000ull;

		if (seq == 104)
			continue;
		if (seq == 106)
			now += 10000000ull;
		assert_int_equal(send_v4(0x1111, seq, seq * 1800u, now), XDP_PASS);
	}
}

/* Two peers on the wildcard; 0x3333 is not on the allow list. */
static void traffic_v6(void)
{
	assert_int_equal(send_v6(v6_peer1, 0x2222, 1, 2000000000ull), XDP_PASS);
	assert_int_equal(send_v6(v6_peer2, 0x2222, 2, 2020000000ull), XDP_PASS);
	assert_int_equal(send_v6(v6_peer2, 0x3333, 9, 2030000000ull), XDP_DROP);
	assert_int_equal(send_v6(v6_peer1, 0x3333, 10, 2040000000ull), XDP_DROP);
}

/*
 * seq 100..109 without 104: 9 packets. Probation (A.1, MIN_SEQUENTIAL 2)
 * makes 101 the base: expected 9, received 8, lost 1. Transit is constant
 * but for seq 106, 10 ms late: 900 units at the bound 90 kHz, not the
 * connection's 8 kHz default. J16 += |D| - (J16 + 8) / 16:
 * 106: D = 900, J16 = 900; 107: D = 900, J16 = 900 + 900 - 56 = 1744;
 * 108: D = 0, J16 = 1744 - 109 = 1635; 109: J16 = 1635 - 102 = 1533 -> 95.
 */
static void assert_v4_stats(const struct xi_ssrc_stats *s, uint32_t id)
{
	assert_int_equal(s->conn_id, id);
	assert_int_equal(s->ssrc, 0x1111);
	assert_int_equal(xi_ssrc_stats_get(s, "packets"), 9);
	assert_int_equal(xi_ssrc_stats_get(s, "rtp_packets"), 9);
	assert_int_equal(xi_ssrc_stats_get(s, "rtcp_packets"), 0);
	assert_int_equal(xi_ssrc_stats_get(s, "header_bytes"), 9 * 12);
	assert_int_equal(xi_ssrc_stats_get(s, "payload_bytes"), 9 * 100);
	assert_int_equal(xi_ssrc_stats_get(s, "bytes"), 9 * 112);
	assert_int_equal(xi_ssrc_stats_get(s, "markers"), 2);   /* 100 and 105 */
	assert_int_equal(xi_ssrc_stats_get(s, "payload_type"), 96);
	assert_int_equal(xi_ssrc_stats_get(s, "clock_rate"), 90000);   /* the stream's, not the default */
	assert_int_equal(xi_ssrc_stats_get(s, "expected"), 9);   /* from 101: A.1 probation takes 100 */
	assert_int_equal(xi_ssrc_stats_get(s, "lost"), 1);
	assert_int_equal(xi_ssrc_stats_get(s, "ext_highest_seq"), 109);
	assert_int_equal(xi_ssrc_stats_get(s, "jitter"), 95);
	assert_int_equal(xi_ssrc_stats_get(s, "dropped"), 0);
	assert_int_equal(xi_ssrc_stats_get(s, "first_ns"), 1000000000ull);
	assert_int_equal(xi_ssrc_stats_get(s, "last_ns"), 1180000000ull);
}

static void assert_v6_stats(const struct xi_ssrc_stats *s, uint32_t id)
{
	assert_int_equal(s[0].conn_id, id);
	assert_int_equal(s[0].ssrc, 0x2222);
	assert_int_equal(xi_ssrc_stats_get(&s[0], "packets"), 2);
	assert_int_equal(xi_ssrc_stats_get(&s[0], "payload_bytes"), 80);
	assert_int_equal(xi_ssrc_stats_get(&s[0], "payload_type"), 111);
	assert_int_equal(xi_ssrc_stats_get(&s[0], "clock_rate"), 48000);   /* unbound: the connection default */
	assert_int_equal(xi_ssrc_stats_get(&s[0], "dropped"), 0);
	assert_int_equal(s[1].conn_id, id);
	assert_int_equal(s[1].ssrc, 0x3333);
	assert_int_equal(xi_ssrc_stats_get(&s[1], "packets"), 0);   /* the filter runs first */
	assert_int_equal(xi_ssrc_stats_get(&s[1], "dropped"), 2);
	assert_int_equal(xi_ssrc_stats_get(&s[1], "dropped_bytes"), 2 * (12 + 40));
}

static void assert_all_stats(struct xi_dataplane *dp)
{
	struct xi_ssrc_stats *s;
	size_t n;

	assert_int_equal(xi_dataplane_ssrc_stats(dp, XI_CONN_ANY, &s, &n), 0);
	assert_int_equal(n, 3);
	assert_v4_stats(&s[0], 1);
	assert_v6_stats(&s[1], 2);
	free(s);
}

/* ---- tests ---- */

static void test_attach_pins_everything(void **state)
{
	struct bpf_prog_info pi;
	struct bpf_map_info mi;
	struct xi_dataplane_info info;
	char **names;
	size_t n;
	__u32 len;

	for (size_t i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		int fd = pin_open(pinned_maps[i]);

		assert_true(fd >= 0);
		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &mi, &len), 0);
		/* the kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a name */
		assert_int_equal(strncmp(mi.name, pinned_maps[i], BPF_OBJ_NAME_LEN - 1), 0);
		/* PROG_ARRAY and XSKMAP take no BTF for their values. */
		assert_true(mi.btf_id != 0 || !strcmp(pinned_maps[i], "xi_stages") ||
			    !strcmp(pinned_maps[i], "xi_egress_stages") ||
			    !strcmp(pinned_maps[i], "xi_xsks"));
		close(fd);
	}
	for (size_t i = 0; i < sizeof(pinned_progs) / sizeof(pinned_progs[0]); i++) {
		int fd = pin_open(pinned_progs[i]);

		assert_true(fd >= 0);
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &pi, &len), 0);
		assert_int_equal(strncmp(pi.name, pinned_progs[i], BPF_OBJ_NAME_LEN - 1), 0);
		if (i == 0)
			assert_int_equal(pi.id, xdp_prog_id());
		close(fd);
	}
	assert_int_equal(xi_dataplane_info(fx.dp, &info), 0);
	assert_string_equal(info.ifname, fx.ifname);
	assert_int_equal(info.ifindex, (int)if_nametoindex(fx.ifname));
	assert_int_equal(info.mode, XI_XDP_SKB);
	assert_int_equal(info.unknown_flow, XI_POLICY_PASS);
	assert_int_equal(info.entry_prog_id, xdp_prog_id());
	/* noop, ssrc-filter, header-stats, twcc-sequencer, and under the egress
	 * slot the TC egress program */
	assert_int_equal(info.n_stage_progs, 5);
	{
		int fd = pin_open("xi_tc_egress");

		assert_true(fd >= 0);
		memset(&pi, 0, sizeof(pi));
		len = sizeof(pi);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &pi, &len), 0);
		assert_int_equal(info.stage_prog_ids[XI_STAGE_EGRESS], pi.id);
		assert_string_equal(info.stage_names[XI_STAGE_EGRESS], "egress");
		close(fd);
	}
	assert_true(info.stage_prog_ids[XI_STAGE_SSRC_FILTER] != 0);
	assert_int_equal(info.stage_prog_ids[XI_STAGE_TO_USER], 0);
	assert_int_equal(info.n_conns, 0);
	assert_int_equal(info.max_conns, FX_MAX_CONNS);
	assert_int_equal(info.max_flows, FX_MAX_FLOWS);
	assert_int_equal(info.max_streams, FX_MAX_STREAMS);
	assert_string_equal(xi_dataplane_ifname(fx.dp), fx.ifname);
	assert_int_equal(xi_dataplane_list(&names, &n), 0);
	assert_true(n >= 1);
	{
		bool found = false;

		for (size_t i = 0; i < n; i++)
			found |= !strcmp(names[i], fx.ifname);
		assert_true(found);
	}
	xi_strv_free(names, n);
}

static void test_attach_errors(void **state)
{
	struct xi_dataplane *dp = (void *)1;

	assert_int_equal(xi_dataplane_attach(fx.ifname, NULL, fx.cat, &dp), -EEXIST);
	assert_int_equal(xi_dataplane_attach("xinosuchif0", NULL, fx.cat, &dp), -ENODEV);
	assert_int_equal(xi_dataplane_attach("a/b", NULL, fx.cat, &dp), -EINVAL);
	assert_int_equal(xi_dataplane_attach("", NULL, fx.cat, &dp), -EINVAL);
	assert_ptr_equal(dp, (void *)1);
	assert_int_equal(xi_dataplane_open("xinosuchif0", fx.cat, &dp), -ENOENT);
	assert_int_equal(xi_dataplane_detach("xinosuchif0"), -ENOENT);
}

/* The policy given at attach shows in info, and a second interface's pins
 * would not clash: the policy is per interface. */
static void test_attach_policy(void **state)
{
	struct xi_attach_opts o = { .sz = sizeof(o), .mode = XI_XDP_SKB,
				    .unknown_flow = XI_POLICY_DROP, .no_daemon = XI_POLICY_DROP };
	struct xi_dataplane_info info;
	struct xi_dataplane *dp;
	uint8_t frame[PKT_MAX];

	xi_dataplane_close(fx.dp);
	fx.dp = NULL;
	assert_int_equal(xi_dataplane_detach(fx.ifname), 0);
	assert_int_equal(xi_dataplane_attach(fx.ifname, &o, fx.cat, &dp), 0);
	fx.dp = dp;
	assert_int_equal(xi_dataplane_info(dp, &info), 0);
	assert_int_equal(info.unknown_flow, XI_POLICY_DROP);
	assert_int_equal(info.non_rtp, XI_POLICY_PASS);
	assert_int_equal(info.no_daemon, XI_POLICY_DROP);
	(void)frame;
	assert_int_equal(send_v4(0x1111, 1, 1, 1), XDP_DROP);   /* unknown flow */
}

/* Without fork, so valgrind and ASan follow it: the saved uid stays 0,
 * so root comes back before anything is asserted. */
static bool pin_dir_exists(const char *ifname)
{
	char dir[256];
	struct stat st;

	snprintf(dir, sizeof(dir), XI_PIN_ROOT "/%s", ifname);
	return stat(dir, &st) == 0;
}

/* The XDP attach is the last step; when it fails, the pins made before it
 * go again. An ifb device has no native XDP. */
static void test_attach_failure_leaves_nothing(void **state)
{
	struct xi_attach_opts o = { .sz = sizeof(o), .mode = XI_XDP_NATIVE };
	struct xi_dataplane *dp = NULL;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	assert_true(xi_dataplane_attach(fx.dummy, &o, fx.cat, &dp) < 0);
	assert_null(dp);
	assert_false(pin_dir_exists(fx.dummy));
	assert_int_equal(bpf_xdp_query((int)if_nametoindex(fx.dummy), 0, &q), 0);
	assert_int_equal(q.prog_id, 0);
	/* skb mode works on it, and detaches cleanly. */
	o.mode = XI_XDP_SKB;
	assert_int_equal(xi_dataplane_attach(fx.dummy, &o, fx.cat, &dp), 0);
	xi_dataplane_close(dp);
	assert_int_equal(xi_dataplane_detach(fx.dummy), 0);
	assert_false(pin_dir_exists(fx.dummy));
}

/* veth has native XDP: info reports it and detach finds it there. */
static void test_attach_native(void **state)
{
	struct xi_dataplane_info info;
	struct xi_dataplane *dp = NULL;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ifindex = (int)if_nametoindex(fx.peer);

	assert_int_equal(xi_dataplane_attach(fx.peer, NULL, fx.cat, &dp), 0);
	assert_int_equal(xi_dataplane_info(dp, &info), 0);
	assert_int_equal(info.mode, XI_XDP_NATIVE);
	assert_int_equal(info.max_conns, XI_DEFAULT_MAX_CONNS);
	assert_int_equal(info.max_flows, XI_DEFAULT_MAX_FLOWS);
	assert_int_equal(info.max_streams, XI_DEFAULT_MAX_STREAMS);
	assert_int_equal(bpf_xdp_query(ifindex, 0, &q), 0);
	assert_int_equal(q.drv_prog_id, info.entry_prog_id);
	xi_dataplane_close(dp);
	assert_int_equal(xi_dataplane_detach(fx.peer), 0);
	assert_int_equal(bpf_xdp_query(ifindex, 0, &q), 0);
	assert_int_equal(q.prog_id, 0);
	assert_false(pin_dir_exists(fx.peer));
}

/* Re-attaches fx.ifname with the given table sizes. */
static void reattach_sized(uint32_t conns, uint32_t flows, uint32_t streams)
{
	struct xi_attach_opts o = { .sz = sizeof(o), .mode = XI_XDP_SKB, .max_conns = conns,
				    .max_flows = flows, .max_streams = streams };
	struct xi_dataplane_info info;

	xi_dataplane_close(fx.dp);
	fx.dp = NULL;
	assert_int_equal(xi_dataplane_detach(fx.ifname), 0);
	assert_int_equal(xi_dataplane_attach(fx.ifname, &o, fx.cat, &fx.dp), 0);
	assert_int_equal(xi_dataplane_info(fx.dp, &info), 0);
	assert_int_equal(info.max_conns, conns);
	assert_int_equal(info.max_flows, flows);
	assert_int_equal(info.max_streams, streams);
}

/* Entries of a pinned map; with conn_id, only those of that connection
 * (the key's first __u32: every per-connection and per-stream key). */
/* Entries in use: a hash's keys, an array's slots that are not all zero
 * (xi_ssrc_filters: a slot per connection, XI_SSRC_MODE_OFF unused). */
static size_t map_count(const char *name, const uint32_t *conn_id)
{
	static const uint8_t zero[1024];
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	uint8_t key[64], next[64], val[1024];
	size_t n = 0;
	int fd = pin_open(name);

	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	for (int e = bpf_map_get_next_key(fd, NULL, next); !e;
	     e = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, sizeof(key));
		if (info.type == BPF_MAP_TYPE_ARRAY &&
		    (bpf_map_lookup_elem(fd, key, val) || !memcmp(val, zero, info.value_size)))
			continue;
		n += !conn_id || !memcmp(key, conn_id, sizeof(*conn_id));
	}
	close(fd);
	return n;
}

/* A spec of index i: its own port, an ssrc-filter and header-stats, so
 * every kind of map gets entries. */
static struct xi_conn_spec spec_nth(int i, size_t n_streams)
{
	struct xi_conn_spec s = spec_v4();

	s.local.port = (uint16_t)(5100 + i);
	strcpy(s.chain, "ssrc-filter mode=allow ssrc=0x1111 ! header-stats");
	s.n_streams = n_streams;
	for (size_t k = 0; k < n_streams; k++)
		s.streams[k] = (struct xi_stream_spec){ .ssrc = 0x1111 + (uint32_t)k,
							.payload_type = 96, .clock_rate = 90000 };
	return s;
}

/* Nothing of connection id is in any map but xi_conns, whose slot, if
 * there is one, is empty. */
static void assert_no_conn(uint32_t id)
{
	static const char *const maps[] = { "xi_conn_meta", "xi_ssrc_filters", "xi_ssrc_lists",
					    "xi_ssrc_drops", "xi_conn_drops", "xi_clock_rates",
					    "xi_stream_stats" };
	struct xi_conn c;
	int fd = pin_open("xi_conns");

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		assert_int_equal(map_count(maps[i], &id), 0);
	if (bpf_map_lookup_elem(fd, &id, &c) == 0)
		assert_int_equal(c.conn_id, 0);
	close(fd);
}

/* A full table fails the add with -ENOSPC, names the option, and leaves
 * nothing of the failed connection; room made by a delete is usable. */
static void test_tables_full(void **state)
{
	struct xi_err err = { 0 };
	struct xi_conn_spec s;
	uint32_t id;

	reattach_sized(4, 16, 64);
	for (int i = 0; i < 4; i++) {
		s = spec_nth(i, 1);
		assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
		assert_int_equal(id, (uint32_t)i + 1);
	}
	s = spec_nth(4, 1);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "at most 4"));
	assert_non_null(strstr(err.msg, "--max-conns"));
	assert_no_conn(5);
	assert_int_equal(map_count("xi_flows4", NULL), 4);
	assert_int_equal(map_count("xi_conn_meta", NULL), 4);
	assert_int_equal(map_count("xi_clock_rates", NULL), 4);
	assert_int_equal(xi_dataplane_conn_del(fx.dp, 2, &err), 0);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	assert_int_equal(id, 2);

	/* Flows: the connection id is taken first, and given back. */
	reattach_sized(4, 2, 64);
	for (int i = 0; i < 2; i++) {
		s = spec_nth(i, 1);
		assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	}
	s = spec_nth(2, 1);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "--max-flows"));
	assert_no_conn(3);
	assert_int_equal(map_count("xi_conn_meta", NULL), 2);

	/* Streams: 3 of 4 entries taken, a connection with 2 does not fit. */
	reattach_sized(4, 4, 4);
	s = spec_nth(0, 3);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	s = spec_nth(1, 2);
	strcpy(s.chain, "header-stats");
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "--max-streams"));
	assert_no_conn(2);
	assert_int_equal(map_count("xi_clock_rates", NULL), 3);
}

/* A size past XI_TABLE_MAX is refused before anything is made. */
static void test_tables_too_big(void **state)
{
	struct xi_attach_opts o = { .sz = sizeof(o), .mode = XI_XDP_SKB,
				    .max_conns = XI_TABLE_MAX + 1 };
	struct xi_dataplane *dp = NULL;

	assert_int_equal(xi_dataplane_attach(fx.peer, &o, fx.cat, &dp), -EINVAL);
	assert_null(dp);
	assert_false(pin_dir_exists(fx.peer));
}

/* conn_del_many: many connections, one sweep, nothing left. */
static void test_conn_del_many(void **state)
{
	struct xi_err err = { 0 };
	uint32_t ids[40], left, *got;
	struct xi_conn_spec s;
	size_t done, n;

	for (int i = 0; i < 40; i++) {
		s = spec_nth(i, 2);
		assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &ids[i], &err), 0);
	}
	assert_int_equal(map_count("xi_clock_rates", NULL), 80);
	/* All but the last; an unknown id stops the run after those before it. */
	left = ids[39];
	ids[39] = 999;
	assert_int_equal(xi_dataplane_conn_del_many(fx.dp, ids, 40, &done, &err), -ENOENT);
	assert_int_equal(done, 39);
	for (int i = 0; i < 39; i++)
		assert_no_conn(ids[i]);
	assert_int_equal(map_count("xi_clock_rates", NULL), 2);
	assert_int_equal(map_count("xi_ssrc_lists", NULL), 1);
	assert_int_equal(map_count("xi_flows4", NULL), 1);
	assert_int_equal(xi_dataplane_conn_ids(fx.dp, &got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], left);
	free(got);
	/* The lowest ids come back first. */
	s = spec_nth(0, 1);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &ids[0], &err), 0);
	assert_int_equal(ids[0], 1);
}

static void test_not_root(void **state)
{
	struct xi_dataplane *dp = NULL;
	int r;

	assert_int_equal(seteuid(65534), 0);
	r = xi_dataplane_attach(fx.peer, NULL, fx.cat, &dp);
	assert_int_equal(seteuid(0), 0);
	assert_int_equal(r, -EPERM);
	assert_null(dp);
}

static void test_conn_add_errors(void **state)
{
	struct xi_conn_spec s = spec_v4();
	struct xi_err err = { 0 };
	uint32_t id = 77, *ids;
	size_t n;

	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	assert_int_equal(id, 1);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -EEXIST);
	assert_string_equal(err.msg, "connection 1 already has this flow");

	s = spec_v4();
	s.remote.port = 6001;
	strcpy(s.chain, "header-stats ! ssrc-filtr");
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "ssrc-filter"));

	strcpy(s.chain, "header-stats clock-rate=x");
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "clock-rate"));

	/* Two ssrc-filters would share the connection's filter entry. */
	strcpy(s.chain, "ssrc-filter ssrc=1 ! ssrc-filter ssrc=2");
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -EEXIST);

	strcpy(s.chain, "header-stats");
	s.remote.family = AF_INET6;
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -EINVAL);
	s.remote.family = AF_INET;
	s.local.port = 0;
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -EINVAL);
	s.local.port = 5004;
	s.n_streams = 2;
	s.streams[1] = s.streams[0];
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -EINVAL);
	assert_string_equal(err.msg, "duplicate stream SSRC 4369");
	s.n_streams = XI_CONN_MAX_STREAMS + 1;
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -E2BIG);
	memset(s.chain, 'a', sizeof(s.chain));
	s.n_streams = 0;
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), -E2BIG);

	/* Nothing of the failed adds is left: one connection, one filter-free
	 * set of maps, and the next id is 2. */
	assert_int_equal(xi_dataplane_conn_ids(fx.dp, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 1);
	free(ids);
	{
		int fd;

		assert_int_equal(map_count("xi_ssrc_filters", NULL), 0);
		fd = pin_open("xi_ssrc_lists");
		struct xi_stream_key sk;

		assert_int_equal(bpf_map_get_next_key(fd, NULL, &sk), -ENOENT);
		close(fd);
	}
	s = spec_v6_any();
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	assert_int_equal(id, 2);
}

static void test_conn_get_and_ids(void **state)
{
	struct xi_conn_spec a = spec_v4(), b = spec_v6_any(), got;
	uint32_t id4, id6, *ids;
	size_t n;

	add_both(&id4, &id6);
	assert_int_equal(xi_dataplane_conn_get(fx.dp, id4, &got), 0);
	assert_memory_equal(&got, &a, sizeof(got));
	assert_int_equal(xi_dataplane_conn_get(fx.dp, id6, &got), 0);
	assert_memory_equal(&got, &b, sizeof(got));
	assert_int_equal(got.remote.family, 0);
	assert_int_equal(xi_dataplane_conn_get(fx.dp, 99, &got), -ENOENT);
	assert_int_equal(xi_dataplane_conn_ids(fx.dp, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	free(ids);
}

static void test_traffic_stats(void **state)
{
	uint64_t reasons[XI_REASON__MAX];
	struct xi_ssrc_stats *s;
	uint32_t id4, id6;
	size_t n;

	add_both(&id4, &id6);
	traffic_v4();
	traffic_v6();
	/* Nobody's flow: another local port. */
	{
		struct rtp_spec r = { .ssrc = 5, .seq = 1, .pt = 0, .ext_words = -1, .body = 4 };

		assert_int_equal(send_rtp(4, v4_remote, 6000, v4_local, 5999, &r, 1), XDP_PASS);
	}
	assert_all_stats(fx.dp);
	assert_int_equal(xi_dataplane_ssrc_stats(fx.dp, id6, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_v6_stats(s, id6);
	free(s);
	assert_int_equal(xi_dataplane_ssrc_stats(fx.dp, 42, &s, &n), 0);
	assert_int_equal(n, 0);
	free(s);

	assert_int_equal(xi_reason_count(), XI_REASON__MAX);
	assert_int_equal(xi_dataplane_reasons(fx.dp, reasons, XI_REASON__MAX), 0);
	assert_int_equal(reasons[XI_REASON_RTP], 13);
	assert_int_equal(reasons[XI_REASON_UNKNOWN_FLOW], 1);
	assert_int_equal(reasons[XI_REASON_SSRC_DROP], 2);
	assert_int_equal(reasons[XI_REASON_CHAIN_END], 11);
	assert_int_equal(reasons[XI_REASON_TAILCALL_FAIL], 0);
	assert_int_equal(xi_dataplane_reasons(fx.dp, reasons, 3), -EINVAL);
	assert_string_equal(xi_reason_name(XI_REASON_UNKNOWN_FLOW), "unknown_flow");
	assert_string_equal(xi_reason_name(XI_REASON_SSRC_DROP), "ssrc_drop");
	assert_string_equal(xi_reason_name(XI_REASON_NO_DAEMON), "no_daemon");
	assert_null(xi_reason_name(XI_REASON__MAX));
}

/* A later process sees the same state and deletes connections it did not
 * build: only that connection's entries go. */
/*
 * An SRTP connection: every RTP packet ends in the in profile's tag (10 bytes
 * for AES_CM_128_HMAC_SHA1_80), which is neither header nor payload. 100
 * bytes after the 12-byte header: 90 of payload, 10 of tag, 112 in all.
 */
static void test_srtp_tag_counted_apart(void **state)
{
	static const char keys_text[] =
		"in AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n"
		"out AEAD_AES_128_GCM inline:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw==\n";
	struct xi_conn_spec c = spec_v4();
	struct xi_err err = { 0 };
	struct xi_ssrc_stats *s;
	char dir[128], file[160];
	struct stat st;
	uint32_t id;
	size_t n;

	setenv("XICEPT_SRTP_DIR", "/run/xicept-test-dataplane-srtp", 1);
	c.has_srtp = true;
	assert_int_equal(xi_srtp_keys_parse(keys_text, &c.srtp, &err), 0);
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &c, &id, &err), 0);
	snprintf(dir, sizeof(dir), "/run/xicept-test-dataplane-srtp/entry-%u", xdp_prog_id());
	snprintf(file, sizeof(file), "%s/%u", dir, id);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	for (uint16_t seq = 1; seq <= 3; seq++)
		assert_int_equal(send_v4(0x1111, seq, seq * 1800u, 1000000000ull + seq), XDP_PASS);
	assert_int_equal(xi_dataplane_ssrc_stats(fx.dp, id, &s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(xi_ssrc_stats_get(s, "packets"), 3);
	assert_int_equal(xi_ssrc_stats_get(s, "header_bytes"), 3 * 12);
	assert_int_equal(xi_ssrc_stats_get(s, "payload_bytes"), 3 * 90);
	assert_int_equal(xi_ssrc_stats_get(s, "srtp_tag_bytes"), 3 * 10);
	assert_int_equal(xi_ssrc_stats_get(s, "bytes"), 3 * 112);
	free(s);
	assert_int_equal(xi_dataplane_conn_del(fx.dp, id, &err), 0);
	assert_int_equal(stat(file, &st), -1);   /* erased with the connection */
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rmdir("/run/xicept-test-dataplane-srtp"), 0);
	unsetenv("XICEPT_SRTP_DIR");
}

static void test_reopen_and_del(void **state)
{
	struct xi_dataplane *dp2;
	struct xi_ssrc_stats *s;
	struct xi_err err = { 0 };
	uint32_t id4, id6, *ids;
	size_t n;

	add_both(&id4, &id6);
	traffic_v4();
	traffic_v6();
	assert_int_equal(xi_dataplane_open(fx.ifname, fx.cat, &dp2), 0);
	assert_all_stats(dp2);
	assert_int_equal(xi_dataplane_conn_del(dp2, id4, &err), 0);
	assert_int_equal(xi_dataplane_conn_del(dp2, id4, &err), -ENOENT);
	assert_string_equal(err.msg, "no connection 1");
	assert_int_equal(xi_dataplane_ssrc_stats(dp2, XI_CONN_ANY, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_v6_stats(s, id6);
	free(s);
	/* Its flow is gone: unknown now, and its stream's clock rate too. */
	assert_int_equal(send_v4(0x1111, 110, 0, 5), XDP_PASS);
	assert_int_equal(xi_dataplane_ssrc_stats(dp2, id4, &s, &n), 0);
	assert_int_equal(n, 0);
	free(s);
	{
		int fd = pin_open("xi_clock_rates");
		struct xi_stream_key k;

		assert_int_equal(bpf_map_get_next_key(fd, NULL, &k), -ENOENT);
		close(fd);
	}
	xi_dataplane_close(dp2);

	/* The handle that built conn 2 removes it; id 1 is free again. */
	assert_int_equal(xi_dataplane_conn_del(fx.dp, id6, &err), 0);
	assert_int_equal(xi_dataplane_conn_ids(fx.dp, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(xi_dataplane_ssrc_stats(fx.dp, XI_CONN_ANY, &s, &n), 0);
	assert_int_equal(n, 0);
	free(s);
	{
		const char *maps[] = { "xi_flows4", "xi_flows6", "xi_conn_meta", "xi_ssrc_filters",
				       "xi_ssrc_lists", "xi_ssrc_drops", "xi_conn_drops" };

		for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
			assert_int_equal(map_count(maps[i], NULL), 0);
	}
	{
		/* xi_conns is an array: both connections' slots are empty again. */
		int fd = pin_open("xi_conns");
		struct xi_conn c;

		for (uint32_t id = 1; id <= 2; id++) {
			assert_int_equal(bpf_map_lookup_elem(fd, &id, &c), 0);
			assert_int_equal(c.conn_id, 0);
			assert_int_equal(c.n_stages, 0);
		}
		close(fd);
	}
	{
		struct xi_conn_spec a = spec_v4();

		assert_int_equal(xi_dataplane_conn_add(fx.dp, &a, &id4, &err), 0);
		assert_int_equal(id4, 1);
	}
}

/* Closing the handle keeps everything: traffic keeps being counted. */
static void test_close_keeps_state(void **state)
{
	uint32_t id4, id6;

	add_both(&id4, &id6);
	xi_dataplane_close(fx.dp);
	fx.dp = NULL;
	traffic_v4();
	traffic_v6();
	assert_int_equal(xi_dataplane_open(fx.ifname, fx.cat, &fx.dp), 0);
	assert_all_stats(fx.dp);
}

/* A chain with a userspace element: the XDP part ends in XI_STAGE_TAP when
 * the rest only observes, in XI_STAGE_TO_USER when it may drop; either
 * empty slot (no daemon) passes here, counted. */
static void test_userspace_tail(void **state)
{
	const char *const chains[] = { "header-stats ! nack-generator",
				       "header-stats ! nack-generator ! ssrc-filter ssrc=0x1111" };
	const uint8_t tails[] = { XI_STAGE_TAP, XI_STAGE_TO_USER };
	const enum xi_conn_path paths[] = { XI_PATH_TAP, XI_PATH_AFXDP };
	struct xi_err err = { 0 };
	enum xi_conn_path path;
	struct xi_conn c;
	uint32_t id;
	int fd;

	for (int i = 0; i < 2; i++) {
		struct xi_conn_spec s = spec_v4();

		strcpy(s.chain, chains[i]);
		assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
		fd = pin_open("xi_conns");
		assert_int_equal(bpf_map_lookup_elem(fd, &id, &c), 0);
		close(fd);
		assert_int_equal(c.conn_id, id);
		assert_int_equal(c.n_stages, 2);
		assert_int_equal(c.stages[0], XI_STAGE_HEADER_STATS);
		assert_int_equal(c.stages[1], tails[i]);
		assert_int_equal(c.default_clock_rate, 90000);
		assert_int_equal(xi_dataplane_conn_path(fx.dp, id, &path), 0);
		assert_int_equal(path, paths[i]);
		assert_string_equal(xi_conn_path_name(path), i ? "afxdp" : "tap");
		assert_int_equal(send_v4(0x1111, (uint16_t)(1 + i), 0, 1), XDP_PASS);
		{
			uint64_t reasons[XI_REASON__MAX];

			assert_int_equal(xi_dataplane_reasons(fx.dp, reasons, XI_REASON__MAX), 0);
			assert_int_equal(reasons[XI_REASON_NO_DAEMON], (uint64_t)i + 1);
		}
		assert_int_equal(xi_dataplane_conn_del(fx.dp, id, &err), 0);
	}
	assert_int_equal(xi_dataplane_conn_path(fx.dp, id, &path), -ENOENT);
}

static void test_detach_leaves_nothing(void **state)
{
	struct xi_dataplane *dp;
	uint32_t id4, id6;
	char dir[256];
	struct stat st;

	add_both(&id4, &id6);
	traffic_v4();
	assert_true(xdp_prog_id() != 0);
	xi_dataplane_close(fx.dp);
	fx.dp = NULL;
	assert_int_equal(xi_dataplane_detach(fx.ifname), 0);
	snprintf(dir, sizeof(dir), XI_PIN_ROOT "/%s", fx.ifname);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(xdp_prog_id(), 0);
	assert_int_equal(xi_dataplane_detach(fx.ifname), -ENOENT);
	assert_int_equal(xi_dataplane_open(fx.ifname, fx.cat, &dp), -ENOENT);
	/* And it can be attached again from scratch. */
	assert_int_equal(attach_setup(NULL), 0);
}


/* ---- chain runs: the tally slot and the hash ---- */

/* The connection's xi_chain_tally slot, summed over CPUs. */
static uint32_t tally_read(uint32_t id, uint64_t runs[XI_CHAIN_STAGES_MAX + 1])
{
	int ncpu = libbpf_num_possible_cpus(), fd = pin_open("xi_chain_tally");
	struct xi_chain_tally *t = calloc((size_t)ncpu, sizeof(*t));
	uint32_t version;

	assert_true(fd >= 0);
	assert_non_null(t);
	assert_int_equal(bpf_map_lookup_elem(fd, &id, t), 0);
	version = t[0].version;
	memset(runs, 0, (XI_CHAIN_STAGES_MAX + 1) * sizeof(*runs));
	for (int c = 0; c < ncpu; c++) {
		assert_int_equal(t[c].version, version);
		for (int k = 0; k <= XI_CHAIN_STAGES_MAX; k++)
			runs[k] += t[c].runs[k];
	}
	free(t);
	close(fd);
	return version;
}

/* xi_chain_runs' count of one key, 0 when it has none. */
static uint64_t hash_count(uint32_t id, uint32_t version, uint32_t mask)
{
	int ncpu = libbpf_num_possible_cpus(), fd = pin_open("xi_chain_runs");
	struct xi_chain_run_key k = { .conn_id = id, .version = version, .stages_mask = mask };
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v)), sum = 0;

	assert_true(fd >= 0);
	assert_non_null(v);
	if (bpf_map_lookup_elem(fd, &k, v) == 0)
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
	free(v);
	close(fd);
	return sum;
}

/* How many keys of the connection and version the hash has. */
static int hash_keys(uint32_t id, uint32_t version)
{
	int fd = pin_open("xi_chain_runs"), n = 0;
	struct xi_chain_run_key k;

	assert_true(fd >= 0);
	for (int e = bpf_map_get_next_key(fd, NULL, &k); !e; e = bpf_map_get_next_key(fd, &k, &k))
		n += k.conn_id == id && k.version == version;
	close(fd);
	return n;
}

/* What xi_dataplane_chain_runs reports under one key; -1: no entry. Every
 * key at most once. */
static int64_t runs_reported(uint32_t id, uint32_t version, uint32_t mask)
{
	struct xi_chain_run *r;
	int64_t got = -1;
	size_t n;

	assert_int_equal(xi_dataplane_chain_runs(fx.dp, XI_CONN_ANY, &r, &n), 0);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			assert_false(r[i].conn_id == r[j].conn_id && r[i].version == r[j].version &&
				     r[i].stages_mask == r[j].stages_mask);
		if (r[i].conn_id == id && r[i].version == version && r[i].stages_mask == mask) {
			assert_int_equal(got, -1);
			got = (int64_t)r[i].packets;
		}
	}
	free(r);
	return got;
}

#define M_SF (1u << XI_STAGE_SSRC_FILTER)
#define M_HS (1u << XI_STAGE_HEADER_STATS)

/*
 * ssrc-filter allow 0x1111 ! header-stats: 3 packets run both stages (k 2),
 * 2 of 0x2222 are dropped by the filter (k 1), 1 finds the filter's slot
 * empty (k 0, the failed stage did not run). All counted in the slot, none
 * in the hash; a set-chain moves them into the hash under version 1 and
 * gives the slot to version 2; conn del zeroes it.
 */
static void test_chain_tally(void **state)
{
	struct xi_conn_spec s = spec_v4();
	uint64_t runs[XI_CHAIN_STAGES_MAX + 1], reasons[XI_REASON__MAX];
	struct xi_err err = { 0 };
	uint32_t id, ver, slot = XI_STAGE_SSRC_FILTER;
	int stages, prog;

	strcpy(s.chain, "ssrc-filter mode=allow ssrc=0x1111 ! header-stats");
	assert_int_equal(xi_dataplane_conn_add(fx.dp, &s, &id, &err), 0);
	assert_int_equal(tally_read(id, runs), 1);
	for (int k = 0; k <= XI_CHAIN_STAGES_MAX; k++)
		assert_int_equal(runs[k], 0);

	for (uint16_t seq = 1; seq <= 3; seq++)
		assert_int_equal(send_v4(0x1111, seq, seq * 1800u, 1000000000ull + seq), XDP_PASS);
	for (uint16_t seq = 1; seq <= 2; seq++)
		assert_int_equal(send_v4(0x2222, seq, seq * 1800u, 1000000000ull + seq), XDP_DROP);
	stages = pin_open("xi_stages");
	prog = pin_open("xi_ssrc_filter");
	assert_true(stages >= 0 && prog >= 0);
	assert_int_equal(bpf_map_delete_elem(stages, &slot), 0);
	assert_int_equal(send_v4(0x1111, 4, 4 * 1800u, 1000000100ull), XDP_PASS);
	assert_int_equal(bpf_map_update_elem(stages, &slot, &prog, BPF_ANY), 0);
	close(prog);
	close(stages);
	assert_int_equal(xi_dataplane_reasons(fx.dp, reasons, XI_REASON__MAX), 0);
	assert_int_equal(reasons[XI_REASON_TAILCALL_FAIL], 1);

	/* (a) In the slot, none in the hash; reported under the stages' masks. */
	assert_int_equal(tally_read(id, runs), 1);
	assert_int_equal(runs[0], 1);
	assert_int_equal(runs[1], 2);
	assert_int_equal(runs[2], 3);
	for (int k = 3; k <= XI_CHAIN_STAGES_MAX; k++)
		assert_int_equal(runs[k], 0);
	assert_int_equal(hash_keys(id, 1), 0);
	assert_int_equal(runs_reported(id, 1, M_SF | M_HS), 3);
	assert_int_equal(runs_reported(id, 1, M_SF), 2);
	assert_int_equal(runs_reported(id, 1, 0), 1);

	/* (b) set-chain: version 1's counts in the hash, exact; the slot holds
	 * version 2 at 0. */
	assert_int_equal(xi_dataplane_conn_set_chain(fx.dp, id, "header-stats", &ver, &err), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(hash_keys(id, 1), 3);
	assert_int_equal(hash_count(id, 1, M_SF | M_HS), 3);
	assert_int_equal(hash_count(id, 1, M_SF), 2);
	assert_int_equal(hash_count(id, 1, 0), 1);
	assert_int_equal(tally_read(id, runs), 2);
	for (int k = 0; k <= XI_CHAIN_STAGES_MAX; k++)
		assert_int_equal(runs[k], 0);
	assert_int_equal(runs_reported(id, 1, M_SF | M_HS), 3);
	assert_int_equal(runs_reported(id, 2, M_HS), -1);
	for (uint16_t seq = 5; seq <= 6; seq++)
		assert_int_equal(send_v4(0x2222, seq, seq * 1800u, 1000000200ull + seq), XDP_PASS);
	assert_int_equal(tally_read(id, runs), 2);
	assert_int_equal(runs[1], 2);
	assert_int_equal(hash_keys(id, 2), 0);
	assert_int_equal(runs_reported(id, 2, M_HS), 2);
	assert_int_equal(runs_reported(id, 1, M_SF), 2);
	assert_int_equal(runs_reported(id, 1, 0), 1);

	/* A packet of a version the slot does not hold goes to the hash, and
	 * the reader merges both under one key. */
	{
		int ncpu = libbpf_num_possible_cpus(), fd = pin_open("xi_chain_tally");
		struct xi_chain_tally *t = calloc((size_t)ncpu, sizeof(*t));

		assert_true(fd >= 0);
		assert_non_null(t);
		assert_int_equal(bpf_map_lookup_elem(fd, &id, t), 0);
		for (int c = 0; c < ncpu; c++)
			t[c].version = 99;
		assert_int_equal(bpf_map_update_elem(fd, &id, t, BPF_ANY), 0);
		assert_int_equal(send_v4(0x2222, 7, 7 * 1800u, 1000000300ull), XDP_PASS);
		assert_int_equal(hash_count(id, 2, M_HS), 1);
		for (int c = 0; c < ncpu; c++)
			t[c].version = 2;
		assert_int_equal(bpf_map_update_elem(fd, &id, t, BPF_ANY), 0);
		free(t);
		close(fd);
	}
	assert_int_equal(runs_reported(id, 2, M_HS), 3);

	/* A harvest that failed at the switch to 2 (as if xi_chain_runs had
	 * no room) leaves the slot at version 1: reported under version 1's
	 * masks while its bank is the other one, and moved to the hash by the
	 * next switch before that bank is overwritten. Version 2's slot counts
	 * go with the planting: the hash's one stays. */
	{
		int ncpu = libbpf_num_possible_cpus(), fd = pin_open("xi_chain_tally");
		struct xi_chain_tally *t = calloc((size_t)ncpu, sizeof(*t));

		assert_true(fd >= 0);
		assert_non_null(t);
		for (int c = 0; c < ncpu; c++)
			t[c].version = 1;
		t[0].runs[1] = 5;
		assert_int_equal(bpf_map_update_elem(fd, &id, t, BPF_ANY), 0);
		free(t);
		close(fd);
	}
	assert_int_equal(runs_reported(id, 1, M_SF), 2 + 5);
	assert_int_equal(runs_reported(id, 2, M_HS), 1);
	assert_int_equal(xi_dataplane_conn_set_chain(fx.dp, id, "ssrc-filter mode=allow ssrc=0x2222",
						     &ver, &err), 0);
	assert_int_equal(ver, 3);
	assert_int_equal(hash_count(id, 1, M_SF), 2 + 5);
	assert_int_equal(runs_reported(id, 1, M_SF), 2 + 5);
	assert_int_equal(runs_reported(id, 2, M_HS), 1);
	assert_int_equal(tally_read(id, runs), 3);
	for (int k = 0; k <= XI_CHAIN_STAGES_MAX; k++)
		assert_int_equal(runs[k], 0);

	/* (c) conn del zeroes the slot. */
	assert_int_equal(xi_dataplane_conn_del(fx.dp, id, &err), 0);
	assert_int_equal(tally_read(id, runs), 0);
	for (int k = 0; k <= XI_CHAIN_STAGES_MAX; k++)
		assert_int_equal(runs[k], 0);
	assert_int_equal(hash_keys(id, 1) + hash_keys(id, 2), 0);
	assert_int_equal(runs_reported(id, 2, M_HS), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, attach_setup, attach_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_attach_pins_everything),
		T(test_attach_errors),
		T(test_attach_policy),
		T(test_attach_failure_leaves_nothing),
		T(test_attach_native),
		T(test_not_root),
		T(test_tables_full),
		T(test_tables_too_big),
		T(test_conn_del_many),
		T(test_conn_add_errors),
		T(test_conn_get_and_ids),
		T(test_traffic_stats),
		T(test_srtp_tag_counted_apart),
		T(test_chain_tally),
		T(test_reopen_and_del),
		T(test_close_keeps_state),
		T(test_userspace_tail),
		T(test_detach_leaves_nothing),
	};

	libbpf_set_print(NULL);   /* the expected failures are not news */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
