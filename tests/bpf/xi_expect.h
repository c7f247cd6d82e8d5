/* SPDX-License-Identifier: MIT */
/*
 * Assertions on one packet through xi_entry: its XDP action, the reason
 * counters that moved (exactly those, by exactly one), and the C twin's
 * opinion of the same frame with lookups into the same maps.
 */
#ifndef XI_TEST_EXPECT_H
#define XI_TEST_EXPECT_H

#include "bpf/xi_tb.h"
#include "user/interceptors/header_stats/twin.h"
#include "user/interceptors/ssrc_filter/twin.h"

static int tbx_flow(void *user, const struct xi_flow_key *key, uint32_t *ret_conn_id)
{
	struct xi_flow4_key k4 = xi_flow4_key_of(key);
	struct tb *tb = user;
	struct xi_flow v;
	int r = key->family == XI_FAMILY_IPV4
		? bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_flows4), &k4, &v)
		: bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_flows6), key, &v);

	if (r)
		return -ENOENT;
	*ret_conn_id = v.conn_id;
	return 0;
}

static const struct xi_conn *tbx_conn(void *user, uint32_t conn_id)
{
	static struct xi_conn c;
	struct tb *tb = user;

	if (bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_conns), &conn_id, &c))
		return NULL;
	return &c;
}

static inline int xdp_of(enum xi_action a)
{
	return a == XI_ACT_DROP ? XDP_DROP : XDP_PASS;
}

/* The twin's reason and XDP action; for chain packets the action is the
 * verdict of an empty chain (callers with stages check the action themselves). */
static inline uint32_t tbx_twin(struct tb *tb, const uint8_t *frame, size_t len, int *ret_act)
{
	struct xi_twin_lookup lk = { .flow = tbx_flow, .conn = tbx_conn, .user = tb };
	struct xi_iface_config cfg;
	struct xi_pkt_ctx pc;
	enum xi_action act;
	uint32_t zero = 0, r;

	assert_int_equal(bpf_map_lookup_elem(tb_fd(tb->skel->maps.xi_config), &zero, &cfg), 0);
	r = xi_twin_entry(&lk, &cfg, frame, len, 0, &pc, &act);
	if (r == XI_REASON_RTP || r == XI_REASON_RTCP)
		act = pc.verdict == XI_ACT_DROP ? XI_ACT_DROP : XI_ACT_PASS;
	*ret_act = xdp_of(act);
	return r;
}

/*
 * Runs frame through xi_entry once. want_reasons lists the counters that must
 * go up by one (ended by XI_REASON__MAX); all others must stay.
 */
static inline void tbx_expect(struct tb *tb, const uint8_t *frame, size_t len, int want_act,
			      const uint32_t *want_reasons)
{
	uint64_t before[XI_REASON__MAX], after[XI_REASON__MAX];
	int act, twin_act;
	uint32_t twin_r;

	tb_reasons(tb, before);
	act = tb_run(tb, frame, len);
	tb_reasons(tb, after);
	assert_int_equal(act, want_act);
	for (uint32_t r = 0; r < XI_REASON__MAX; r++) {
		uint64_t d = 0;

		for (const uint32_t *w = want_reasons; *w != XI_REASON__MAX; w++)
			d += *w == r;
		if (after[r] - before[r] != d)
			fail_msg("reason %u moved by %llu, want %llu", r,
				 (unsigned long long)(after[r] - before[r]), (unsigned long long)d);
	}
	twin_r = tbx_twin(tb, frame, len, &twin_act);
	assert_int_equal(twin_r, want_reasons[0]);
	if (twin_r != XI_REASON_RTP && twin_r != XI_REASON_RTCP)
		assert_int_equal(twin_act, want_act);
}

#define REASONS(...) ((const uint32_t[]){ __VA_ARGS__, XI_REASON__MAX })

#endif
