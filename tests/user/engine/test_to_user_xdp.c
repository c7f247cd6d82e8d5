// SPDX-License-Identifier: MIT
/*
 * xi_to_user (XI_STAGE_TO_USER) under BPF_PROG_TEST_RUN: with an AF_XDP
 * socket in xi_xsks the packet is redirected with struct xi_xsk_meta in
 * front of the unchanged frame; without one it gets the no_daemon policy and
 * counts as XI_REASON_NO_DAEMON. xi_tap (XI_STAGE_TAP): a record in the ring
 * and the packet on its way; without a daemon, a pass whatever the policy.
 *
 * The socket is a real one, bound in copy mode to queue 0 of a veth of our
 * own (xiu<pid>a/b), made by the group setup and removed by the teardown.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <sched.h>
#include <sys/epoll.h>

#include "bpf/xi_tb.h"
#include "bpf/xi_xsk.h"
#include "user/engine/ring.h"
#include "user/engine/tap.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define CONN 9
#define NOW_NS 123456789012ull

static struct {
	struct tb *tb;
	struct xsk_fx x;
} fx;

static int group_teardown(void **state)
{
	xsk_fx_down(&fx.x);
	tb_close(fx.tb);
	return 0;
}

/* One CPU for every test-run: the tap stages records per CPU, and its
 * batches come out in one CPU's order only. */
static int pin_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			CPU_ZERO(&set);
			CPU_SET(c, &set);
			return sched_setaffinity(0, sizeof(set), &set);
		}
	return -1;
}

static int group_setup(void **state)
{
	if (pin_cpu())
		return -1;
	fx.tb = tb_open();
	if (!fx.tb || xsk_fx_up(&fx.x, "xiu")) {
		group_teardown(state);
		return -1;
	}
	return 0;
}

/* Every test starts from: the slot filled, no socket, pass policy, a
 * connection whose chain is header-stats then userspace. */
static int setup(void **state)
{
	const uint8_t stages[] = { XI_STAGE_HEADER_STATS, XI_STAGE_TO_USER };
	struct xi_flow_key k = tb_key4(TB_LOCAL4, 5004, NULL, 0);
	int prog = bpf_program__fd(fx.tb->skel->progs.xi_to_user);
	uint32_t slot = XI_STAGE_TO_USER, q = 0;
	uint64_t zeros[fx.tb->ncpu];

	memset(zeros, 0, sizeof(zeros));
	for (uint32_t r = 0; r < XI_REASON__MAX; r++)
		bpf_map_update_elem(tb_fd(fx.tb->skel->maps.xi_reasons), &r, zeros, BPF_ANY);
	bpf_map_delete_elem(tb_fd(fx.tb->skel->maps.xi_xsks), &q);
	assert_int_equal(tb_config(fx.tb, XI_ACT_PASS, XI_ACT_PASS, XI_IFACE_F_TEST_CLOCK, NOW_NS), 0);
	assert_int_equal(bpf_map_update_elem(tb_fd(fx.tb->skel->maps.xi_stages), &slot, &prog,
					     BPF_ANY), 0);
	assert_int_equal(tb_flow(fx.tb, &k, CONN), 0);
	assert_int_equal(tb_conn(fx.tb, CONN, stages, 2, XI_ACT_PASS, 90000), 0);
	return 0;
}

static void socket_add(void)
{
	uint32_t q = 0;
	int fd = xsk_socket__fd(fx.x.xsk);

	assert_int_equal(bpf_map_update_elem(tb_fd(fx.tb->skel->maps.xi_xsks), &q, &fd, BPF_ANY), 0);
}

static int set_no_daemon(uint32_t act)
{
	struct xi_iface_config c = { .no_daemon = act, .flags = XI_IFACE_F_TEST_CLOCK,
				     .test_clock_ns = NOW_NS };
	uint32_t zero = 0;

	return bpf_map_update_elem(tb_fd(fx.tb->skel->maps.xi_config), &zero, &c, BPF_ANY);
}

/* Runs xi_entry over frame; the output (metadata included) in out. */
static int run(const uint8_t *frame, size_t len, uint8_t *out, uint32_t *ret_out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = PKT_MAX + 256);
	int err = bpf_prog_test_run_opts(bpf_program__fd(fx.tb->skel->progs.xi_entry), &o);

	assert_int_equal(err, 0);
	*ret_out_len = o.data_size_out;
	return (int)o.retval;
}

/* Exactly these reasons moved, by one each. */
static void expect_reasons(uint32_t a, uint32_t b)
{
	for (uint32_t r = 0; r < XI_REASON__MAX; r++)
		assert_int_equal(tb_reason(fx.tb, r), r == a || r == b ? 1 : 0);
}

static size_t rtp_frame(uint8_t *f, int n_vlans, uint32_t ssrc, uint16_t seq, size_t *ret_pl)
{
	struct rtp_spec r = { .ssrc = ssrc, .seq = seq, .pt = 96, .ext_words = -1, .body = 100 };
	uint8_t pl[256];
	struct pkt_spec s;

	*ret_pl = rtp_build(pl, &r);
	s = tb_spec4(pl, *ret_pl);
	s.n_vlans = n_vlans;
	return pkt_build(f, &s);
}

static void test_no_socket_follows_no_daemon_policy(void **state)
{
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	uint32_t out_len;
	size_t pl, len = rtp_frame(f, 0, 0x1111, 7, &pl);

	assert_int_equal(run(f, len, out, &out_len), XDP_PASS);
	expect_reasons(XI_REASON_RTP, XI_REASON_NO_DAEMON);
	/* No metadata was added for a packet nobody will read. */
	assert_int_equal(out_len, len);
	assert_memory_equal(out, f, len);

	assert_int_equal(set_no_daemon(XI_ACT_DROP), 0);
	assert_int_equal(run(f, len, out, &out_len), XDP_DROP);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_NO_DAEMON), 2);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_RTP), 2);
	/* header-stats ran before the hand-off either way. */
	{
		struct xi_stream_stats st;

		assert_int_equal(tb_stats(fx.tb, CONN, 0x1111, &st), 0);
		assert_int_equal(st.rtp_packets, 2);
	}
}

static void check_meta(const uint8_t *out, uint32_t out_len, const uint8_t *f, size_t len,
		       uint32_t ssrc, uint16_t l3_off, size_t pl, uint8_t is_rtcp)
{
	struct xi_xsk_meta m;

	assert_int_equal(out_len, len + sizeof(m));
	memcpy(&m, out, sizeof(m));
	assert_int_equal(m.magic, XI_XSK_META_MAGIC);
	assert_int_equal(m.conn_id, CONN);
	assert_int_equal(m.ssrc, ssrc);
	assert_int_equal(m.now_ns, NOW_NS);
	assert_int_equal(m.l3_off, l3_off);
	assert_int_equal(m.l4_off, l3_off + 20);
	assert_int_equal(m.payload_off, l3_off + 28);
	assert_int_equal(m.payload_len, pl);
	assert_int_equal(m.resume, 1);   /* header-stats ran in XDP */
	assert_int_equal(m.is_rtcp, is_rtcp);
	assert_int_equal(m.version, 0);   /* tb_conn writes bank 0 with version 0 */
	/* The frame itself is untouched. */
	assert_memory_equal(out + sizeof(m), f, len);
}

static void test_socket_redirects_with_meta(void **state)
{
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	uint32_t out_len;
	size_t pl, len = rtp_frame(f, 0, 0x2222, 65535, &pl);

	socket_add();
	assert_int_equal(sizeof(struct xi_xsk_meta), 32);
	assert_int_equal(run(f, len, out, &out_len), XDP_REDIRECT);
	expect_reasons(XI_REASON_RTP, XI_REASON__MAX);
	check_meta(out, out_len, f, len, 0x2222, 14, pl, 0);
}

static void test_meta_after_vlan_tags_and_for_rtcp(void **state)
{
	uint8_t f[PKT_MAX], out[PKT_MAX + 256], pl[64];
	uint32_t out_len;
	size_t n, len = rtp_frame(f, 2, 0x3333, 1, &n);
	struct pkt_spec s;

	socket_add();
	assert_int_equal(run(f, len, out, &out_len), XDP_REDIRECT);
	check_meta(out, out_len, f, len, 0x3333, 22, n, 0);

	n = rtcp_sr_build(pl, 0x4444);
	s = tb_spec4(pl, n);
	len = pkt_build(f, &s);
	assert_int_equal(run(f, len, out, &out_len), XDP_REDIRECT);
	check_meta(out, out_len, f, len, 0x4444, 14, n, 1);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_RTCP), 1);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_NO_DAEMON), 0);
}

/* The socket closing takes it out of the map: a daemon that died leaves the
 * slot filled, and its packets still get the policy, counted. */
static void test_socket_removed_falls_back(void **state)
{
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	uint32_t out_len, q = 0;
	size_t pl, len = rtp_frame(f, 0, 0x5555, 9, &pl);

	socket_add();
	assert_int_equal(run(f, len, out, &out_len), XDP_REDIRECT);
	assert_int_equal(bpf_map_delete_elem(tb_fd(fx.tb->skel->maps.xi_xsks), &q), 0);
	assert_int_equal(set_no_daemon(XI_ACT_DROP), 0);
	assert_int_equal(run(f, len, out, &out_len), XDP_DROP);
	assert_int_equal(out_len, len);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_RTP), 2);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_NO_DAEMON), 1);
}

/* Packets that are not RTP/RTCP of a known flow never reach the stage. */
static void test_unknown_flow_not_redirected(void **state)
{
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	uint32_t out_len;
	size_t pl, len = rtp_frame(f, 0, 0x6666, 9, &pl);

	socket_add();
	f[14 + 20 + 3] ^= 1;   /* destination port 5004 -> 5005 */
	assert_int_equal(run(f, len, out, &out_len), XDP_PASS);
	expect_reasons(XI_REASON_UNKNOWN_FLOW, XI_REASON__MAX);
	assert_int_equal(out_len, len);
}

/* ---- the tap (XI_STAGE_TAP) ---- */

#define TAP_SMALL XI_TAP_SMALL_BYTES
#define TAP_LARGE (sizeof(struct xi_tap_record) + XI_TAP_SNAP_FRAME)
/* In the ring, with its 8-byte header: a small record, a full batch. */
#define RB_SMALL (TAP_SMALL + 8)
#define RB_BATCH (sizeof(struct xi_tap_batch) + XI_TAP_BATCH_MAX * TAP_SMALL + 8)

/* The first records taken, and their sizes; the ring records they came in
 * (a batch is one) and each one's count of records. */
static union {
	struct xi_tap_record r;
	uint8_t bytes[TAP_LARGE];
} tap_got[16];
static size_t tap_size[16], tap_n, tap_rings, tap_counts[16];

static void tap_one(void *ctx, const struct xi_tap_record *r, uint32_t size)
{
	assert_true(size == TAP_SMALL || size == TAP_LARGE);
	if (tap_n < 16) {
		memcpy(&tap_got[tap_n], r, size);
		tap_size[tap_n] = size;
	}
	tap_n++;
}

static int tap_take(void *ctx, void *data, size_t size)
{
	int n = xi_tap_records(data, (uint32_t)size, tap_one, NULL);

	assert_true(n > 0);
	if (tap_rings < 16)
		tap_counts[tap_rings] = (size_t)n;
	tap_rings++;
	return 0;
}

/* Every CPU's staging entry (abi.h, struct xi_tap_stage) emptied and set to
 * mode, its timer marked armed or not. batched(): staging as XDP finds it
 * on a fresh load; but marked armed, so that XDP never starts the flush
 * timer and batches go out only full (or before a large record): the tests
 * that count bytes in the ring need that, since a timer that fires between
 * two test-run repetitions would send a partial batch. */
static void tap_stage_set(uint8_t mode, uint8_t armed)
{
	int fd = tb_fd(fx.tb->skel->maps.xi_tap_stage);
	struct xi_tap_stage st;

	for (uint32_t cpu = 0; cpu < (uint32_t)fx.tb->ncpu; cpu++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &cpu, &st), 0);
		st.n = 0;
		st.mode = mode;
		st.armed = armed;
		assert_int_equal(bpf_map_update_elem(fd, &cpu, &st, BPF_ANY), 0);
	}
}

static void single_records(void) { tap_stage_set(XI_TAP_DIRECT, 0); }
static void batched_untimed(void) { tap_stage_set(XI_TAP_NEW, 1); }

/* This CPU's staged records. */
static uint32_t tap_staged(void)
{
	uint32_t cpu = (uint32_t)sched_getcpu();
	struct xi_tap_stage st;

	assert_int_equal(bpf_map_lookup_elem(tb_fd(fx.tb->skel->maps.xi_tap_stage), &cpu, &st), 0);
	return st.n;
}

/* The connection as setup() makes it, but ending in the tap: header-stats
 * in XDP, observers in userspace; the drop policy, which the tap ignores. */
static int tap_setup(void **state)
{
	const uint8_t stages[] = { XI_STAGE_HEADER_STATS, XI_STAGE_TAP };
	int prog = bpf_program__fd(fx.tb->skel->progs.xi_tap);
	uint32_t slot = XI_STAGE_TAP;

	setup(state);
	assert_int_equal(set_no_daemon(XI_ACT_DROP), 0);
	assert_int_equal(bpf_map_update_elem(tb_fd(fx.tb->skel->maps.xi_stages), &slot, &prog,
					     BPF_ANY), 0);
	assert_int_equal(tb_conn(fx.tb, CONN, stages, 2, XI_ACT_PASS, 90000), 0);
	tap_stage_set(XI_TAP_NEW, 0);   /* as a fresh load has it */
	tap_n = tap_rings = 0;
	return 0;
}

/* What is in the ring now; with wait, after the flush timers ran. */
static size_t tap_read(bool wait)
{
	struct ring_buffer *rb = ring_buffer__new(tb_fd(fx.tb->skel->maps.xi_tap_ring), tap_take,
						  NULL, NULL);

	assert_non_null(rb);
	if (wait)
		usleep(3 * XI_TAP_FLUSH_US);
	assert_true(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);
	return tap_n;
}

static size_t tap_consume(void)
{
	return tap_read(true);
}

/* Records hold what the observers read: an RTP frame's headers through
 * the RTP header and its extension (and the RTP padding count), an RTCP
 * compound whole; in the small record when that fits. The packets
 * themselves pass, unchanged, by the chain's end. */
static void test_tap_copies_and_passes(void **state)
{
	struct rtp_spec r = { .ssrc = 0x2222, .seq = 9, .pt = 96, .ext_words = 1, .pad = 4,
			      .body = 600 };
	uint8_t pl[1024], f[PKT_MAX], g[PKT_MAX], h[PKT_MAX], out[PKT_MAX + 256];
	struct pkt_spec sp;
	uint32_t out_len;
	size_t pl_short, len_short = rtp_frame(f, 1, 0x1111, 7, &pl_short), len, len_rtcp, n;
	const struct xi_tap_record *t;

	socket_add();
	assert_int_equal(run(f, len_short, out, &out_len), XDP_PASS);
	assert_int_equal(out_len, len_short);   /* no metadata: the frame goes on as is */
	assert_memory_equal(out, f, len_short);
	expect_reasons(XI_REASON_RTP, XI_REASON_CHAIN_END);
	sp = tb_spec4(pl, rtp_build(pl, &r));
	len = pkt_build(g, &sp);
	assert_true(len > XI_TAP_SNAP_HDR);
	assert_int_equal(run(g, len, out, &out_len), XDP_PASS);
	n = rtcp_sr_build(pl, 0x4444);
	sp = tb_spec4(pl, n);
	len_rtcp = pkt_build(h, &sp);
	assert_int_equal(run(h, len_rtcp, out, &out_len), XDP_PASS);
	assert_int_equal(tap_consume(), 3);
	/* Small records, staged on this CPU: one batch, sent by the timer. */
	assert_int_equal(tap_rings, 1);
	assert_int_equal(tap_counts[0], 3);

	t = &tap_got[0].r;
	assert_int_equal(tap_size[0], TAP_SMALL);
	assert_int_equal(t->meta.magic, XI_XSK_META_MAGIC);
	assert_int_equal(t->meta.conn_id, CONN);
	assert_int_equal(t->meta.ssrc, 0x1111);
	assert_int_equal(t->meta.now_ns, NOW_NS);
	assert_int_equal(t->meta.l3_off, 18);   /* one VLAN tag */
	assert_int_equal(t->meta.payload_off, 18 + 20 + 8);
	assert_int_equal(t->meta.payload_len, pl_short);
	assert_int_equal(t->meta.resume, 1);    /* header-stats ran in XDP */
	assert_int_equal(t->queue, 0);
	assert_int_equal(t->frame_len, len_short);
	assert_int_equal(t->caplen, 18 + 20 + 8 + 12);   /* through the RTP header */
	assert_memory_equal(t->frame, f, t->caplen);
	assert_int_equal(t->rtp_pad_len, 0);

	t = &tap_got[1].r;
	assert_int_equal(tap_size[1], TAP_SMALL);
	assert_int_equal(t->meta.ssrc, 0x2222);
	assert_int_equal(t->frame_len, len);
	assert_int_equal(t->caplen, 14 + 20 + 8 + 12 + 4 + 4);   /* and its one-word extension */
	assert_memory_equal(t->frame, g, t->caplen);
	assert_int_equal(t->rtp_pad_len, 4);
	assert_int_equal(g[len - 1], 4);        /* what userspace writes back there */

	t = &tap_got[2].r;
	assert_int_equal(tap_size[2], TAP_SMALL);   /* a sender report fits */
	assert_int_equal(t->meta.is_rtcp, 1);
	assert_int_equal(t->frame_len, len_rtcp);
	assert_int_equal(t->caplen, len_rtcp);
	assert_memory_equal(t->frame, h, len_rtcp);
}

/* A connection that keeps whole frames (packet-dump's): up to the large
 * record's size, whatever the headers. */
static void test_tap_whole_frames(void **state)
{
	struct rtp_spec r = { .ssrc = 0x2222, .seq = 9, .pt = 96, .ext_words = -1, .body = 1200 };
	const uint8_t stages[] = { XI_STAGE_HEADER_STATS, XI_STAGE_TAP };
	uint8_t pl[2048], f[PKT_MAX], g[PKT_MAX], out[PKT_MAX + 256];
	struct xi_conn c;
	struct pkt_spec sp;
	uint32_t out_len, id = CONN;
	size_t pl_short, len_short = rtp_frame(f, 0, 0x1111, 7, &pl_short), len;
	int fd = tb_fd(fx.tb->skel->maps.xi_conns);

	assert_int_equal(tb_conn(fx.tb, CONN, stages, 2, XI_ACT_PASS, 90000), 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &id, &c), 0);
	c.flags |= XI_CONN_F_TAP_FRAMES;
	assert_int_equal(bpf_map_update_elem(fd, &id, &c, BPF_ANY), 0);
	socket_add();
	assert_int_equal(run(f, len_short, out, &out_len), XDP_PASS);
	sp = tb_spec4(pl, rtp_build(pl, &r));
	len = pkt_build(g, &sp);
	assert_true(len > XI_TAP_SNAP_HDR && len < XI_TAP_SNAP_FRAME);
	assert_int_equal(run(g, len, out, &out_len), XDP_PASS);
	assert_int_equal(tap_consume(), 2);
	assert_int_equal(tap_rings, 2);             /* large records go singly */
	assert_int_equal(tap_size[0], TAP_LARGE);   /* 154 bytes: more than the small one holds */
	assert_int_equal(tap_got[0].r.caplen, len_short);
	assert_memory_equal(tap_got[0].r.frame, f, len_short);
	assert_int_equal(tap_size[1], TAP_LARGE);
	assert_int_equal(tap_got[1].r.caplen, len);
	assert_memory_equal(tap_got[1].r.frame, g, len);
}

/* No daemon (no socket): the packet passes whatever the no_daemon policy,
 * counted, and nothing goes into the ring. */
static void test_tap_without_daemon_passes(void **state)
{
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	uint32_t out_len;
	size_t pl, len = rtp_frame(f, 0, 0x1111, 7, &pl);

	assert_int_equal(run(f, len, out, &out_len), XDP_PASS);
	expect_reasons(XI_REASON_RTP, XI_REASON_NO_DAEMON);
	assert_int_equal(tap_consume(), 0);
}

/* Seq of the RTP frame a record holds. */
static uint16_t rec_seq(const struct xi_tap_record *r)
{
	return (uint16_t)(r->frame[r->meta.payload_off + 2] << 8 | r->frame[r->meta.payload_off + 3]);
}

/* The eighth small record of a CPU sends its batch at once, in order; the
 * rest wait, for the timer (here held off: marked armed), or for a large
 * record, which sends them before itself. With the timer, a partial batch
 * goes out by itself. */
static void test_tap_batches(void **state)
{
	struct rtp_spec big = { .ssrc = 0x3333, .seq = 500, .pt = 96, .ext_words = 30,
				.body = 100 };
	uint8_t f[PKT_MAX], out[PKT_MAX + 256], pl[1024];
	struct pkt_spec sp;
	uint32_t out_len;
	size_t n, len;

	socket_add();
	batched_untimed();
	for (uint16_t seq = 1; seq <= 11; seq++) {
		len = rtp_frame(f, 0, 0x1111, seq, &n);
		assert_int_equal(run(f, len, out, &out_len), XDP_PASS);
	}
	assert_int_equal(tap_read(false), 8);   /* no wait: the full batch went at once */
	assert_int_equal(tap_rings, 1);
	assert_int_equal(tap_counts[0], 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(tap_size[i], TAP_SMALL);
		assert_int_equal(tap_got[i].r.meta.conn_id, CONN);
		assert_int_equal(rec_seq(&tap_got[i].r), i + 1);
	}
	assert_int_equal(tap_read(true), 8);    /* no timer: 9..11 stay */
	assert_int_equal(tap_staged(), 3);

	/* A large record: the three staged go before it, in one batch. */
	sp = tb_spec4(pl, rtp_build(pl, &big));
	len = pkt_build(f, &sp);
	assert_int_equal(run(f, len, out, &out_len), XDP_PASS);
	tap_n = tap_rings = 0;
	assert_int_equal(tap_read(false), 4);
	assert_int_equal(tap_rings, 2);
	assert_int_equal(tap_counts[0], 3);
	assert_int_equal(tap_counts[1], 1);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rec_seq(&tap_got[i].r), 9 + i);
	assert_int_equal(tap_size[3], TAP_LARGE);
	assert_int_equal(rec_seq(&tap_got[3].r), 500);
	assert_int_equal(tap_staged(), 0);

	/* With the timer: two records, one batch, sent within the period. */
	tap_stage_set(XI_TAP_NEW, 0);
	tap_n = tap_rings = 0;
	for (uint16_t seq = 20; seq <= 21; seq++) {
		len = rtp_frame(f, 0, 0x1111, seq, &n);
		assert_int_equal(run(f, len, out, &out_len), XDP_PASS);
	}
	assert_int_equal(tap_read(true), 2);
	assert_int_equal(tap_rings, 1);
	assert_int_equal(rec_seq(&tap_got[0].r), 20);
	assert_int_equal(rec_seq(&tap_got[1].r), 21);
	assert_int_equal(tap_staged(), 0);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_TAP_FULL), 0);
}

/* A ring nobody reads fills: every packet still passes, and each one that
 * found no room is counted, exactly: the ring holds its size over a ring
 * record's size (with its 8-byte header) of them, single records or full
 * batches. */
static void tap_full_counted(uint32_t rec, uint32_t per)
{
	const uint32_t n = 100000, room = XI_TAP_RING_BYTES / rec * per;
	uint8_t f[PKT_MAX], out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = n);
	size_t pl;

	_Static_assert(RB_SMALL % 8 == 0 && RB_BATCH % 8 == 0, "records are 8-byte aligned");
	o.data_size_in = (uint32_t)rtp_frame(f, 0, 0x1111, 7, &pl);
	socket_add();
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(fx.tb->skel->progs.xi_entry), &o), 0);
	assert_int_equal(o.retval, XDP_PASS);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_RTP), n);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_CHAIN_END), n);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_TAP_FULL), n - room);
	assert_int_equal(tap_staged(), n % per);
	assert_int_equal(tap_read(false), room);
}

static void test_tap_full_is_counted(void **state)
{
	single_records();
	tap_full_counted(RB_SMALL, 1);
}

static void test_tap_full_is_counted_batched(void **state)
{
	_Static_assert(100000 % XI_TAP_BATCH_MAX == 0, "full batches only");
	batched_untimed();
	tap_full_counted(RB_BATCH, XI_TAP_BATCH_MAX);
}

/* ---- the tap's wakeups and its reader (user/engine/ring.c) ---- */

/* Runs xi_entry repeat times over f; every packet passes by the chain's end. */
static void tap_run(const uint8_t *f, size_t len, uint32_t repeat)
{
	uint8_t out[PKT_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	uint64_t end = tb_reason(fx.tb, XI_REASON_CHAIN_END);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(fx.tb->skel->progs.xi_entry), &o), 0);
	assert_int_equal(o.retval, XDP_PASS);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_CHAIN_END) - end, repeat);
}

/* Wakeups the reader got: its fd is edge-triggered, an event a wakeup.
 * The irq_work that sends one runs as the test-run call returns; 50 ms is
 * ample. */
static int tap_wakeups(struct xi_ring *rg)
{
	struct epoll_event ev[4];
	int n, all = 0;

	while ((n = epoll_wait(xi_ring_fd(rg), ev, 4, all ? 0 : 50)) > 0)
		all += n;
	assert_true(n == 0);
	return all;
}

static uint64_t ring_records;

static void ring_one(void *ctx, const struct xi_tap_record *r, uint32_t size)
{
	assert_int_equal(size, TAP_SMALL);
	assert_int_equal(r->meta.conn_id, CONN);
	assert_int_equal(r->meta.ssrc, 0x1111);
	ring_records++;
}

static void ring_count(void *ctx, const void *data, uint32_t size)
{
	assert_true(xi_tap_records(data, size, ring_one, NULL) > 0);
}

/* The ring record that takes the fill across an eighth of the ring wakes
 * the reader; none before it, none after it while the ring stays above;
 * once the reader has emptied the ring, the next crossing wakes it again.
 * rec: a ring record's size; per: packets a ring record. */
static void tap_wakes_once(uint32_t rec, uint32_t per)
{
	const uint32_t below = (XI_TAP_WAKE_BYTES - 1) / rec;
	uint8_t f[PKT_MAX];
	size_t pl, len = rtp_frame(f, 0, 0x1111, 7, &pl);
	struct xi_ring *rg;

	_Static_assert(XI_TAP_WAKE_BYTES == XI_TAP_RING_BYTES / 8, "an eighth");
	assert_int_equal(xi_ring_open(tb_fd(fx.tb->skel->maps.xi_tap_ring), ring_count, NULL, &rg), 0);
	xi_ring_consume(rg, 0);   /* from the empty ring, */
	tap_wakeups(rg);          /* no event pending */
	socket_add();
	ring_records = 0;
	for (int pass = 0; pass < 2; pass++) {
		tap_run(f, len, below * per);      /* fill below * rec < an eighth */
		assert_int_equal(tap_wakeups(rg), 0);
		tap_run(f, len, per);              /* across it */
		assert_int_equal(tap_wakeups(rg), 1);
		tap_run(f, len, 1000 * per);       /* above it */
		assert_int_equal(tap_wakeups(rg), 0);
		assert_int_equal(xi_ring_consume(rg, 1), below + 1 + 1000);
	}
	assert_int_equal(ring_records, 2ull * (below + 1 + 1000) * per);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_TAP_FULL), 0);
	xi_ring_free(rg);
}

static void test_tap_wakes_once_an_eighth_waits(void **state)
{
	single_records();
	tap_wakes_once(RB_SMALL, 1);
}

static void test_tap_wakes_once_an_eighth_waits_batched(void **state)
{
	batched_untimed();
	tap_wakes_once(RB_BATCH, XI_TAP_BATCH_MAX);
}

/* The consumer position as the producer sees it, at each record. */
static const uint64_t *ring_cons;
static uint64_t ring_seen[XI_RING_RELEASE_EVERY * 3 + 10];

static void ring_watch(void *ctx, const void *data, uint32_t size)
{
	if (ring_records < sizeof(ring_seen) / sizeof(ring_seen[0]))
		ring_seen[ring_records] = __atomic_load_n(ring_cons, __ATOMIC_ACQUIRE);
	ring_count(ctx, data, size);
}

/* The reader stores the consumer position every XI_RING_RELEASE_EVERY
 * records and once at the end, exactly; records wrap around the ring's end
 * and come out whole and in order (counted), none lost. */
static void test_ring_reader_batches_and_wraps(void **state)
{
	const uint32_t rec = RB_SMALL, n = XI_RING_RELEASE_EVERY * 3 + 10;
	const uint32_t big = XI_TAP_RING_BYTES / rec * 3 / 4;   /* three passes wrap */
	int ring_fd = tb_fd(fx.tb->skel->maps.xi_tap_ring);
	uint8_t f[PKT_MAX];
	size_t pl, len = rtp_frame(f, 0, 0x1111, 7, &pl);
	struct xi_ring *rg;
	uint64_t start;
	void *page;

	single_records();   /* one record a packet: the positions below are exact */
	page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, ring_fd, 0);
	assert_true(page != MAP_FAILED);
	ring_cons = page;
	assert_int_equal(xi_ring_open(ring_fd, ring_watch, NULL, &rg), 0);
	xi_ring_consume(rg, 0);   /* from the empty ring */
	socket_add();
	ring_records = 0;
	start = *ring_cons;
	tap_run(f, len, n);
	assert_int_equal(xi_ring_consume(rg, 0), n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(ring_seen[i], start + (uint64_t)rec * (i / XI_RING_RELEASE_EVERY *
									XI_RING_RELEASE_EVERY));
	assert_int_equal(*ring_cons, start + (uint64_t)rec * n);
	assert_int_equal(xi_ring_consume(rg, 0), 0);
	for (int pass = 0; pass < 3; pass++) {
		tap_run(f, len, big);
		assert_int_equal(xi_ring_consume(rg, 0), big);
	}
	assert_true(*ring_cons - start > XI_TAP_RING_BYTES);   /* it wrapped */
	assert_int_equal(ring_records, n + 3ull * big);
	assert_int_equal(tb_reason(fx.tb, XI_REASON_TAP_FULL), 0);
	xi_ring_free(rg);
	munmap(page, (size_t)sysconf(_SC_PAGESIZE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_socket_follows_no_daemon_policy, setup),
		cmocka_unit_test_setup(test_socket_redirects_with_meta, setup),
		cmocka_unit_test_setup(test_meta_after_vlan_tags_and_for_rtcp, setup),
		cmocka_unit_test_setup(test_socket_removed_falls_back, setup),
		cmocka_unit_test_setup(test_unknown_flow_not_redirected, setup),
		cmocka_unit_test_setup(test_tap_copies_and_passes, tap_setup),
		cmocka_unit_test_setup(test_tap_whole_frames, tap_setup),
		cmocka_unit_test_setup(test_tap_without_daemon_passes, tap_setup),
		cmocka_unit_test_setup(test_tap_batches, tap_setup),
		cmocka_unit_test_setup(test_tap_full_is_counted, tap_setup),
		cmocka_unit_test_setup(test_tap_full_is_counted_batched, tap_setup),
		cmocka_unit_test_setup(test_tap_wakes_once_an_eighth_waits, tap_setup),
		cmocka_unit_test_setup(test_tap_wakes_once_an_eighth_waits_batched, tap_setup),
		cmocka_unit_test_setup(test_ring_reader_batches_and_wraps, tap_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
