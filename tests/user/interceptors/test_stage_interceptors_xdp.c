// SPDX-License-Identifier: MIT
/*
 * The XDP-kind factories ssrc-filter and header-stats: their configuration,
 * what they write into the maps when built with a dataplane (and what unbind
 * and close remove in each phase), and their readers, in memory without a
 * dataplane and on the pinned maps with one.
 *
 * The dataplane is a real attach on a veth of our own (xis<pid>a/b), made by
 * the group setup and removed by the group teardown, failing asserts or not.
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
#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/dataplane.h>
#include <xicept/registry.h>
#include <xicept/stream.h>

#include "bpf/xi_pkt.h"
#include "bpf/xi_veth.h"
#include "user/dataplane/internal.h"
#include "user/interceptors/header_stats/twin.h"
#include "user/interceptors/ssrc_filter/twin.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define CONN 7
#define OTHER 8

static struct veth_dp fx;

static int group_teardown(void **state)
{
	veth_dp_down(&fx);
	return 0;
}

static int group_setup(void **state)
{
	return veth_dp_up(&fx, "xis");
}

/* A map by name: the connection table, or a stage's map from its descriptor. */
static int fd_of(const char *name)
{
	const struct xi_stage *d;

	if (!strcmp(name, "xi_conns"))
		return xi_dataplane_map_fd(fx.dp, XI_MAP_CONNS);
	for (size_t i = 0; (d = xi_dataplane_stage_at(NULL, i)); i++)
		for (unsigned m = 0; d->maps && d->maps[m].name; m++)
			if (!strcmp(d->maps[m].name, name))
				return xi_dataplane_stage_fd(fx.dp, d->slot, m);
	return -ENOENT;
}

/* Every map the factories touch, emptied: each test starts clean. */
static int maps_clear(void **state)
{
	const char *const maps[] = { "xi_ssrc_lists",
					"xi_ssrc_drops", "xi_conn_drops", "xi_clock_rates",
					"xi_stream_stats" };
	struct xi_ssrc_filter off = { XI_SSRC_MODE_OFF };
	struct xi_hs_conn unrated = { 0 };
	struct xi_conn zero = { 0 };
	uint8_t key[64];

	/* xi_conns, xi_ssrc_filters and xi_hs_conns are arrays: their slots
	 * are emptied, not deleted. */
	for (uint32_t id = 0; id < 8; id++)
		if (bpf_map_update_elem(fd_of("xi_conns"), &id, &zero, BPF_ANY) ||
		    bpf_map_update_elem(fd_of("xi_ssrc_filters"), &id, &off, BPF_ANY) ||
		    bpf_map_update_elem(fd_of("xi_hs_conns"), &id, &unrated, BPF_ANY))
			return -1;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		while (bpf_map_get_next_key(fd_of(maps[i]), NULL, key) == 0)
			if (bpf_map_delete_elem(fd_of(maps[i]), key))
				return -1;
	return 0;
}

/* Entries in use: a hash's every key, an array's slots that are not all
 * zero (xi_ssrc_filters: a slot per connection, XI_SSRC_MODE_OFF unused). */
static size_t map_count(const char *m)
{
	static const uint8_t zero[512];
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	uint8_t key[64], val[512];
	size_t n = 0;
	int fd = fd_of(m);

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	for (int e = bpf_map_get_next_key(fd, NULL, key); !e;
	     e = bpf_map_get_next_key(fd, key, key))
		n += info.type != BPF_MAP_TYPE_ARRAY ||
		     (bpf_map_lookup_elem(fd, key, val) == 0 && memcmp(val, zero, info.value_size));
	return n;
}

static bool stream_entry(const char *m, uint32_t conn, uint32_t ssrc, void *ret)
{
	struct xi_stream_key k = { .conn_id = conn, .ssrc = ssrc };
	uint8_t buf[512];

	return bpf_map_lookup_elem(fd_of(m), &k, ret ? ret : buf) == 0;
}

static void conn_value_write(uint32_t id)
{
	struct xi_conn c = { .conn_id = id };

	assert_int_equal(bpf_map_update_elem(fd_of("xi_conns"), &id, &c, BPF_ANY), 0);
}

static struct xi_chain *build_flags(const char *text, struct xi_dataplane *dp, uint32_t conn,
				    unsigned flags)
{
	struct xi_build_ctx ctx = { .conn_id = conn, .dp = dp, .flags = flags };
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	if (xi_catalog_build(fx.cat, text, &ctx, &chain, &err))
		fail_msg("build '%s': %s", text, err.msg);
	return chain;
}

static struct xi_chain *build(const char *text, struct xi_dataplane *dp, uint32_t conn)
{
	return build_flags(text, dp, conn, 0);
}

static struct xi_stream_info stream(uint32_t ssrc, uint32_t rate)
{
	struct xi_stream_info info = { .ssrc = ssrc, .payload_type = 96, .clock_rate = rate };

	return info;
}

/* ---- a reader that hands out queued packets ---- */

struct queue {
	uint8_t pkt[8][256];
	size_t len[8];
	size_t n, next;
};

static ssize_t queue_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct queue *q = ctx;
	size_t i;

	if (q->next == q->n)
		return -EAGAIN;
	i = q->next++ % 8;
	memcpy(buf, q->pkt[i], q->len[i]);
	return (ssize_t)q->len[i];
}

static void queue_rtp(struct queue *q, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .ts = ts, .pt = 96, .ext_words = 1,
			      .body = 50 };

	q->len[q->n % 8] = rtp_build(q->pkt[q->n % 8], &r);
	q->n++;
}

static void queue_sr(struct queue *q, uint32_t ssrc)
{
	q->len[q->n % 8] = rtcp_sr_build(q->pkt[q->n % 8], ssrc);
	q->n++;
}

/* Reads one packet through r at arrival time now_ns. */
static ssize_t read_at(struct xi_reader r, uint64_t now_ns)
{
	struct xi_attributes attrs = { 0 };
	uint8_t buf[256];

	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, now_ns), 0);
	return xi_reader_read(r, buf, sizeof(buf), &attrs);
}

/* ---- configuration ---- */

static void test_factories_registered(void **state)
{
	struct xi_catalog_entry *e;
	const struct xi_factory *f;

	assert_int_equal(xi_catalog_lookup(fx.cat, "ssrc-filter", &e), 0);
	f = xi_catalog_entry_factory(e);
	assert_int_equal(f->kind, XI_KIND_XDP);
	assert_ptr_equal(f->stage, &xi_stage_ssrc_filter);
	assert_string_equal(f->stage->prog, "xi_ssrc_filter");
	assert_int_equal(f->stage->slot, XI_STAGE_SSRC_FILTER);
	assert_string_equal(f->keys[0].name, "mode");
	assert_int_equal(f->keys[0].type, XI_CFG_ENUM);
	assert_string_equal(f->keys[0].def, "allow");
	assert_string_equal(f->keys[0].choices[0], "allow");
	assert_string_equal(f->keys[0].choices[1], "deny");
	assert_null(f->keys[0].choices[2]);
	assert_string_equal(f->keys[1].name, "ssrc");
	assert_int_equal(f->keys[1].type, XI_CFG_U32_LIST);
	assert_null(f->keys[2].name);
	xi_catalog_entry_put(e);

	assert_int_equal(xi_catalog_lookup(fx.cat, "header-stats", &e), 0);
	f = xi_catalog_entry_factory(e);
	assert_int_equal(f->kind, XI_KIND_XDP);
	assert_ptr_equal(f->stage, &xi_stage_header_stats);
	assert_string_equal(f->stage->prog, "xi_header_stats");
	assert_int_equal(f->stage->slot, XI_STAGE_HEADER_STATS);
	assert_string_equal(f->keys[0].name, "clock-rate");
	assert_int_equal(f->keys[0].type, XI_CFG_U32);
	assert_string_equal(f->keys[0].def, "90000");
	assert_null(f->keys[1].name);
	xi_catalog_entry_put(e);
}

static void assert_build_fails(const char *text, int code, const char *needle)
{
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_int_equal(xi_catalog_build(fx.cat, text, NULL, &chain, &err), code);
	assert_null(chain);
	if (!strstr(err.msg, needle))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, needle);
}

static void test_config_errors(void **state)
{
	assert_build_fails("ssrc-filter mode=maybe", -EINVAL, "mode");
	assert_build_fails("ssrc-filter ssrc=xyz", -EINVAL, "ssrc");
	assert_build_fails("ssrc-filter ssrc=0x100000000", -EINVAL, "ssrc");
	assert_build_fails("ssrc-filter list=1", -EINVAL, "unknown key 'list'");
	assert_build_fails("header-stats clock-rate=fast", -EINVAL, "clock-rate");
	assert_build_fails("header-stats clock-rate=4294967296", -EINVAL, "clock-rate");
}

/* ---- without a dataplane: the twins, in memory ---- */

static void test_twin_mode(void **state)
{
	struct xi_chain *chain = build("ssrc-filter mode=allow ssrc=0x1111 ! header-stats clock-rate=8000",
				       NULL, CONN);
	struct xi_interceptor *ic = xi_chain_interceptor(chain);
	struct xi_stream_info info = stream(0x1111, 90000);
	struct queue q = { 0 }, rq = { 0 };
	struct xi_reader r, rr;
	struct xi_stream_stats s;
	uint64_t drops;
	const uint8_t stun[20] = { 0, 1 };

	assert_int_equal(xi_interceptor_bind_remote_stream(ic, &info,
		(struct xi_reader){ queue_read, &q }, &r), 0);
	assert_int_equal(xi_interceptor_bind_rtcp_reader(ic, (struct xi_reader){ queue_read, &rq },
							 &rr), 0);
	queue_rtp(&q, 0x1111, 1, 0);
	queue_rtp(&q, 0x1111, 2, 1800);
	queue_rtp(&q, 0x2222, 3, 0);
	queue_rtp(&q, 0x1111, 3, 3600 + 900);   /* 10 ms early */
	memcpy(q.pkt[4], stun, sizeof(stun));
	q.len[4] = sizeof(stun);
	q.n++;
	assert_int_equal(read_at(r, 1000000000), 12 + 8 + 50);
	assert_int_equal(read_at(r, 1020000000), 70);
	assert_int_equal(read_at(r, 1030000000), 0);    /* not on the allow list */
	assert_int_equal(read_at(r, 1040000000), 70);
	assert_int_equal(read_at(r, 1050000000), 20);   /* STUN passes untouched */
	assert_int_equal(read_at(r, 1060000000), -EAGAIN);
	queue_sr(&rq, 0x2222);
	queue_sr(&rq, 0x1111);
	assert_int_equal(read_at(rr, 1070000000), 0);
	assert_int_equal(read_at(rr, 1080000000), 28);

	assert_int_equal(xi_ssrc_filter_dropped(xi_chain_element(chain, 0), 0x2222, &drops), 0);
	assert_int_equal(drops, 2);
	assert_int_equal(xi_ssrc_filter_dropped(xi_chain_element(chain, 0), 0x1111, &drops),
			 -ENOENT);
	assert_int_equal(xi_ssrc_filter_dropped(xi_chain_element(chain, 1), 0x1111, &drops),
			 -EINVAL);
	assert_int_equal(xi_header_stats_get(xi_chain_element(chain, 1), 0x2222, &s), -ENOENT);
	assert_int_equal(xi_header_stats_get(xi_chain_element(chain, 0), 0x1111, &s), -EINVAL);
	assert_int_equal(xi_header_stats_get(xi_chain_element(chain, 1), 0x1111, &s), 0);
	assert_int_equal(s.conn_id, CONN);
	assert_int_equal(s.packets, 4);
	assert_int_equal(s.rtp_packets, 3);
	assert_int_equal(s.rtcp_packets, 1);
	assert_int_equal(s.header_bytes, 3 * 20);
	assert_int_equal(s.payload_bytes, 3 * 50);
	assert_int_equal(s.ext_max_seq, 3);
	assert_int_equal(s.expected, 2);
	assert_int_equal(s.lost, 0);
	assert_int_equal(s.clock_rate, 90000);
	/* D = 900 once: J16 = 900, J = 56. */
	assert_int_equal(s.jitter, 56);
	assert_int_equal(s.first_arrival_ns, 1000000000);
	assert_int_equal(s.last_arrival_ns, 1080000000);

	/* Unbound, the stream falls back to the default clock rate. */
	xi_interceptor_unbind_remote_stream(ic, &info);
	assert_int_equal(xi_interceptor_bind_remote_stream(ic, &(struct xi_stream_info){ .ssrc = 0x1111 },
		(struct xi_reader){ queue_read, &q }, &r), 0);
	queue_rtp(&q, 0x1111, 4, 0);
	assert_int_equal(read_at(r, 1100000000), 70);
	assert_int_equal(xi_header_stats_get(xi_chain_element(chain, 1), 0x1111, &s), 0);
	assert_int_equal(s.clock_rate, 8000);
	assert_int_equal(s.rtp_packets, 4);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
}

/* ---- with a dataplane: the maps ---- */

static void test_dp_build_writes_config(void **state)
{
	struct xi_stream_info info = stream(5, 90000);
	struct xi_ssrc_filter f;
	struct xi_ssrc_entry e;
	struct xi_clock_rate cr;
	struct xi_hs_conn hc;
	struct xi_conn c;
	struct xi_chain *chain;
	struct xi_reader r;
	uint32_t id = CONN;

	conn_value_write(CONN);
	chain = build_flags("ssrc-filter mode=deny ssrc=5,6 ! header-stats clock-rate=48000", fx.dp,
			    CONN, XI_BUILD_WRITE_STATE);
	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_ssrc_filters"), &id, &f), 0);
	assert_int_equal(f.mode, XI_SSRC_MODE_DENY);
	assert_true(stream_entry("xi_ssrc_lists", CONN, 5, &e));
	assert_int_equal(e.ssrc, 5);
	assert_true(stream_entry("xi_ssrc_lists", CONN, 6, NULL));
	assert_int_equal(map_count("xi_ssrc_lists"), 2);
	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_conns"), &id, &c), 0);
	assert_int_equal(c.default_clock_rate, 48000);

	assert_int_equal(xi_interceptor_bind_remote_stream(xi_chain_interceptor(chain), &info,
		(struct xi_reader){ queue_read, NULL }, &r), 0);
	assert_true(stream_entry("xi_clock_rates", CONN, 5, &cr));
	assert_int_equal(cr.clock_rate, 90000);
	assert_int_equal(map_count("xi_clock_rates"), 1);
	/* The connection is marked as having rates: XDP looks them up. */
	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_hs_conns"), &id, &hc), 0);
	assert_int_equal(hc.rated, 1);
	assert_int_equal(map_count("xi_hs_conns"), 1);

	/* Closed without XI_CLOSE_REMOVE_STATE: unbind and close leave
	 * kernel state alone. */
	xi_interceptor_unbind_remote_stream(xi_chain_interceptor(chain), &info);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	assert_int_equal(map_count("xi_ssrc_filters"), 1);
	assert_int_equal(map_count("xi_ssrc_lists"), 2);
	assert_int_equal(map_count("xi_clock_rates"), 1);
}

/* Counters XDP would have made, for CONN and for OTHER. */
static void counters_fake(uint32_t conn)
{
	struct xi_stream_key k = { .conn_id = conn, .ssrc = 9 };
	struct xi_stream_stats s = { .conn_id = conn, .ssrc = 9, .packets = 3 };
	const uint64_t d[2] = { 4, 0 };   /* struct xi_drop_count, per CPU */
	struct xi_clock_rate cr = { 8000 };
	struct xi_ssrc_entry e = { 5 };

	assert_int_equal(bpf_map_update_elem(fd_of("xi_stream_stats"), &k, &s, BPF_ANY), 0);
	assert_int_equal(xi_percpu_add(fd_of("xi_ssrc_drops"), &k, d, 2), 0);
	assert_int_equal(xi_percpu_add(fd_of("xi_conn_drops"), &conn, d, 2), 0);
	k.ssrc = 5;
	assert_int_equal(bpf_map_update_elem(fd_of("xi_clock_rates"), &k, &cr, BPF_ANY), 0);
	if (conn == OTHER)
		assert_int_equal(bpf_map_update_elem(fd_of("xi_ssrc_lists"), &k, &e, BPF_ANY), 0);
}

/* A chain rebuilt from the spec without XI_BUILD_WRITE_STATE writes nothing,
 * and its close with XI_CLOSE_REMOVE_STATE removes exactly its connection's
 * entries (unbind leaves them: the close takes them all). */
static void test_dp_remove_exactly_own(void **state)
{
	struct xi_stream_info info = stream(5, 90000);
	struct xi_chain *chain;
	uint32_t id = CONN, other = OTHER;
	uint8_t buf[64];

	test_dp_build_writes_config(state);
	counters_fake(CONN);
	counters_fake(OTHER);
	assert_int_equal(map_count("xi_ssrc_lists"), 3);

	chain = build("ssrc-filter mode=deny ssrc=5,6 ! header-stats clock-rate=48000", fx.dp, CONN);
	assert_int_equal(map_count("xi_ssrc_lists"), 3);   /* the build wrote nothing */
	xi_interceptor_unbind_remote_stream(xi_chain_interceptor(chain), &info);
	assert_true(stream_entry("xi_clock_rates", CONN, 5, NULL));
	assert_int_equal(xi_chain_close_flags(chain, XI_CLOSE_REMOVE_STATE, NULL), 0);
	assert_false(stream_entry("xi_clock_rates", CONN, 5, NULL));
	assert_int_equal(map_count("xi_hs_conns"), 0);   /* the mark goes with them */

	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_ssrc_filters"), &id, buf), 0);
	assert_int_equal(((struct xi_ssrc_filter *)buf)->mode, XI_SSRC_MODE_OFF);
	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_conn_drops"), &id, buf), -ENOENT);
	assert_false(stream_entry("xi_ssrc_lists", CONN, 5, NULL));
	assert_false(stream_entry("xi_ssrc_lists", CONN, 6, NULL));
	assert_false(stream_entry("xi_ssrc_drops", CONN, 9, NULL));
	assert_false(stream_entry("xi_stream_stats", CONN, 9, NULL));
	/* OTHER's are all there, and the connection value is conn_del's. */
	assert_true(stream_entry("xi_ssrc_lists", OTHER, 5, NULL));
	assert_true(stream_entry("xi_ssrc_drops", OTHER, 9, NULL));
	assert_true(stream_entry("xi_stream_stats", OTHER, 9, NULL));
	assert_true(stream_entry("xi_clock_rates", OTHER, 5, NULL));
	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_conn_drops"), &other, buf), 0);
	assert_int_equal(bpf_map_lookup_elem(fd_of("xi_conns"), &id, buf), 0);
	assert_int_equal(map_count("xi_ssrc_lists"), 1);
	assert_int_equal(map_count("xi_stream_stats"), 1);
	assert_int_equal(map_count("xi_clock_rates"), 1);
}

/* CREATE: a build that fails leaves nothing behind. */
static void test_dp_create_failure(void **state)
{
	struct xi_build_ctx ctx = { .conn_id = CONN, .dp = fx.dp, .flags = XI_BUILD_WRITE_STATE };
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	conn_value_write(CONN);
	assert_int_equal(xi_catalog_build(fx.cat, "ssrc-filter ssrc=1 ! ssrc-filter ssrc=2",
					  &ctx, &chain, &err), -EEXIST);
	ctx.conn_id = 9;   /* header-stats needs its connection value */
	assert_int_equal(xi_catalog_build(fx.cat, "ssrc-filter ssrc=3 ! header-stats",
					  &ctx, &chain, &err), -ENOENT);
	assert_null(chain);
	assert_int_equal(map_count("xi_ssrc_filters"), 0);
	assert_int_equal(map_count("xi_ssrc_lists"), 0);
}

/* The readers with a dataplane count into the pinned entries, the same
 * values the twin computes in memory. */
static void test_dp_readers_share_maps(void **state)
{
	const char *text = "ssrc-filter mode=allow ssrc=0x1111 ! header-stats clock-rate=90000";
	struct xi_chain *dpc, *mem;
	struct xi_stream_info info = stream(0x1111, 0);
	struct queue q1 = { 0 }, q2 = { 0 };
	struct xi_reader r1, r2;
	struct xi_stream_stats a, b;
	uint64_t d[2];   /* struct xi_drop_count, summed over CPUs */
	uint32_t id = CONN;
	uint64_t drops;

	conn_value_write(CONN);
	dpc = build_flags(text, fx.dp, CONN, XI_BUILD_WRITE_STATE);
	mem = build(text, NULL, CONN);
	assert_int_equal(xi_interceptor_bind_remote_stream(xi_chain_interceptor(dpc), &info,
		(struct xi_reader){ queue_read, &q1 }, &r1), 0);
	assert_int_equal(xi_interceptor_bind_remote_stream(xi_chain_interceptor(mem), &info,
		(struct xi_reader){ queue_read, &q2 }, &r2), 0);
	for (int i = 0; i < 6; i++) {
		uint16_t seq = (uint16_t)(65533 + i);   /* across the wrap */
		uint32_t ssrc = i == 2 ? 0x2222 : 0x1111;

		queue_rtp(&q1, ssrc, seq, (uint32_t)i * 1800 + (i == 4 ? 450 : 0));
		queue_rtp(&q2, ssrc, seq, (uint32_t)i * 1800 + (i == 4 ? 450 : 0));
		assert_int_equal(read_at(r1, 5000000000ull + i * 20000000ull), i == 2 ? 0 : 70);
		assert_int_equal(read_at(r2, 5000000000ull + i * 20000000ull), i == 2 ? 0 : 70);
	}
	assert_int_equal(xi_header_stats_get(xi_chain_element(dpc, 1), 0x1111, &a), 0);
	assert_int_equal(xi_header_stats_get(xi_chain_element(mem, 1), 0x1111, &b), 0);
	assert_true(stream_entry("xi_stream_stats", CONN, 0x1111, NULL));
	assert_int_equal(a.rtp_packets, 5);
	assert_int_equal(a.ext_max_seq, 65536 + 2);
	assert_int_equal(a.clock_rate, 90000);   /* bound without a rate: the default */
	memset(&a.lock, 0, sizeof(a.lock));
	memset(&b.lock, 0, sizeof(b.lock));
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(xi_ssrc_filter_dropped(xi_chain_element(dpc, 0), 0x2222, &drops), 0);
	assert_int_equal(drops, 1);
	assert_int_equal(xi_percpu_sum(fd_of("xi_conn_drops"), &id, d, 2), 0);
	assert_int_equal(d[0], 1);   /* packets */
	assert_int_equal(d[1], 70);  /* bytes */
	assert_int_equal(xi_chain_close(mem, NULL), 0);
	assert_int_equal(xi_chain_close_flags(dpc, XI_CLOSE_REMOVE_STATE, NULL), 0);
	assert_int_equal(map_count("xi_stream_stats"), 0);
	assert_int_equal(map_count("xi_ssrc_drops"), 0);
	assert_int_equal(map_count("xi_conn_drops"), 0);
}

/* The reader's drops reach the maps in batches: none before the chain's
 * poll (the engine's, every 10 ms at most), every one after it, exact;
 * more SSRCs than the reader keeps pending are written as it goes. */
static void test_dp_reader_drops_batched(void **state)
{
	const char *text = "ssrc-filter mode=allow ssrc=0x1111";
	struct xi_stream_info info = stream(0x1111, 0);
	struct queue q = { 0 };
	struct xi_chain *chain;
	struct xi_reader r;
	uint64_t d[2];   /* struct xi_drop_count, summed over CPUs */
	uint32_t id = CONN;
	const int n = 40;

	conn_value_write(CONN);
	chain = build_flags(text, fx.dp, CONN, XI_BUILD_WRITE_STATE);
	assert_int_equal(xi_interceptor_bind_remote_stream(xi_chain_interceptor(chain), &info,
		(struct xi_reader){ queue_read, &q }, &r), 0);
	queue_rtp(&q, 0x2001, 1, 0);
	assert_int_equal(read_at(r, 1000), 0);
	assert_int_equal(map_count("xi_conn_drops"), 0);   /* pending */
	assert_int_equal(xi_chain_poll(chain, 20000000), 0);
	queue_rtp(&q, 0x2001, 3, 0);
	assert_int_equal(read_at(r, 21000000), 0);
	assert_int_equal(xi_chain_poll(chain, 25000000), 0);   /* 5 ms on: not yet */
	assert_int_equal(xi_percpu_sum(fd_of("xi_conn_drops"), &id, d, 2), 0);
	assert_int_equal(d[0], 1);
	assert_int_equal(d[1], 70);
	/* 40 SSRCs, two packets each, then the poll: every count exact. */
	for (int i = 0; i < 2 * n; i++) {
		queue_rtp(&q, 0x3000u + (uint32_t)(i % n), (uint16_t)i, 0);
		assert_int_equal(read_at(r, 30000000 + (uint64_t)i), 0);
	}
	assert_int_equal(xi_chain_poll(chain, 40000000), 0);
	assert_int_equal(xi_percpu_sum(fd_of("xi_conn_drops"), &id, d, 2), 0);
	assert_int_equal(d[0], 2 + 2 * n);
	assert_int_equal(d[1], 70 * (2 + 2 * n));
	for (int i = 0; i < n; i++) {
		struct xi_stream_key k = { .conn_id = CONN, .ssrc = 0x3000u + (uint32_t)i };

		assert_int_equal(xi_percpu_sum(fd_of("xi_ssrc_drops"), &k, d, 2), 0);
		assert_int_equal(d[0], 2);
	}
	/* What is pending at close is written before the close. */
	queue_rtp(&q, 0x2001, 4, 0);
	assert_int_equal(read_at(r, 41000000), 0);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	assert_int_equal(xi_percpu_sum(fd_of("xi_conn_drops"), &id, d, 2), 0);
	assert_int_equal(d[0], 3 + 2 * n);
}

#define T(f) cmocka_unit_test_setup_teardown(f, maps_clear, maps_clear)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factories_registered),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_twin_mode),
		T(test_dp_build_writes_config),
		T(test_dp_remove_exactly_own),
		T(test_dp_create_failure),
		T(test_dp_readers_share_maps),
		T(test_dp_reader_drops_batched),
	};

	libbpf_set_print(NULL);   /* the expected failures are not news */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
