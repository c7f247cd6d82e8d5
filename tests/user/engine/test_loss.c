// SPDX-License-Identifier: MIT
/* The engine's loss bookkeeping: XDP_STATISTICS deltas by reason (the sum
 * exact however the reads interleave), the reason names, and the
 * rate-limited log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/dataplane.h>

#include "user/engine/loss.h"

#define S 1000000000ull

static uint64_t total(const uint64_t d[XI_LOSS__MAX])
{
	uint64_t t = 0;

	for (size_t i = 0; i < XI_LOSS__MAX; i++)
		t += d[i];
	return t;
}

static void test_names(void **state)
{
	static const char *const want[] = {
		"rx_ring_full", "fill_empty", "rx_dropped", "rx_invalid",
		"chain_error", "bad_meta", "deliver_failed", "tx_failed",
	};

	assert_int_equal(xi_loss_count(), XI_LOSS__MAX);
	assert_int_equal(XI_LOSS__MAX, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < XI_LOSS__MAX; i++)
		assert_string_equal(xi_loss_name(i), want[i]);
	assert_null(xi_loss_name(XI_LOSS__MAX));
}

static void test_xsk_delta(void **state)
{
	struct xi_loss_xsk seen = { 0 };
	struct xdp_statistics st = { 0 };
	uint64_t d[XI_LOSS__MAX] = { 0 };

	/* Copy mode: a packet that found the fill ring empty counts in both
	 * rx_dropped and rx_fill_ring_empty_descs; it is one loss. */
	st.rx_dropped = 10;
	st.rx_fill_ring_empty_descs = 7;
	st.rx_ring_full = 4;
	xi_loss_xsk_delta(&seen, &st, true, d);
	assert_int_equal(d[XI_LOSS_FILL_EMPTY], 7);
	assert_int_equal(d[XI_LOSS_RX_DROPPED], 3);
	assert_int_equal(d[XI_LOSS_RX_RING_FULL], 4);
	assert_int_equal(total(d), 14);

	/* Nothing new: nothing added. */
	memset(d, 0, sizeof(d));
	xi_loss_xsk_delta(&seen, &st, true, d);
	assert_int_equal(total(d), 0);

	/* Read while a drop was half counted: the fill counter is ahead of
	 * rx_dropped. The sum follows rx_dropped, and catches up later. */
	st.rx_fill_ring_empty_descs = 9;
	st.rx_dropped = 11;
	xi_loss_xsk_delta(&seen, &st, true, d);
	assert_int_equal(total(d), 1);
	st.rx_dropped = 12;
	xi_loss_xsk_delta(&seen, &st, true, d);
	assert_int_equal(total(d), 2);
	assert_int_equal(seen.dropped, 12);
	assert_int_equal(d[XI_LOSS_FILL_EMPTY] + d[XI_LOSS_RX_DROPPED], 2);

	/* Invalid descriptors; counters never go back. */
	memset(d, 0, sizeof(d));
	st.rx_invalid_descs = 2;
	st.tx_invalid_descs = 5;
	xi_loss_xsk_delta(&seen, &st, true, d);
	assert_int_equal(d[XI_LOSS_RX_INVALID], 2);
	assert_int_equal(d[XI_LOSS_TX_FAILED], 5);
	memset(d, 0, sizeof(d));
	st.rx_dropped = 3;
	xi_loss_xsk_delta(&seen, &st, true, d);
	assert_int_equal(total(d), 0);

	/* An old kernel without the extra fields: all of rx_dropped. */
	memset(&seen, 0, sizeof(seen));
	memset(d, 0, sizeof(d));
	st = (struct xdp_statistics){ .rx_dropped = 6, .rx_ring_full = 99 };
	xi_loss_xsk_delta(&seen, &st, false, d);
	assert_int_equal(d[XI_LOSS_RX_DROPPED], 6);
	assert_int_equal(total(d), 6);
}

static void test_format(void **state)
{
	uint64_t c[XI_LOSS__MAX] = { 0 };
	char buf[128];

	xi_loss_format(c, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	c[XI_LOSS_RX_RING_FULL] = 1200;
	c[XI_LOSS_FILL_EMPTY] = 34;
	c[XI_LOSS_TX_FAILED] = 1;
	xi_loss_format(c, buf, sizeof(buf));
	assert_string_equal(buf, "rx_ring_full 1200, fill_empty 34, tx_failed 1");
	xi_loss_format(c, buf, 10);   /* truncated, terminated */
	assert_true(strlen(buf) < 10);
}

struct lines {
	char v[16][256];
	int n;
};

static void capture(void *user, const char *msg)
{
	struct lines *l = user;

	if (l->n < 16)
		snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", msg);
}

static void test_log_rate_limited(void **state)
{
	struct xi_loss_log lg = { .last_tick_ns = 10 * S };
	uint64_t none[XI_LOSS__MAX] = { 0 }, d[XI_LOSS__MAX] = { 0 };
	struct lines out = { 0 };
	uint64_t t = 10 * S;

	/* Quiet: nothing. */
	t += S / 4;
	xi_loss_log_tick(&lg, none, t, capture, &out);
	assert_int_equal(out.n, 0);
	/* Loss starts: a line at once, covering the time since the last tick. */
	d[XI_LOSS_RX_RING_FULL] = 1200;
	d[XI_LOSS_FILL_EMPTY] = 34;
	t += S / 4;
	xi_loss_log_tick(&lg, d, t, capture, &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0], "loss: 1234 packets in the last 0.2 s (rx_ring_full 1200, fill_empty 34)");
	/* Goes on: no line until a second has passed since the last one. */
	memset(d, 0, sizeof(d));
	d[XI_LOSS_FILL_EMPTY] = 10;
	for (int i = 0; i < 3; i++) {
		t += S / 4;
		xi_loss_log_tick(&lg, d, t, capture, &out);
	}
	assert_int_equal(out.n, 1);
	t += S / 4;
	xi_loss_log_tick(&lg, d, t, capture, &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[1], "loss: 40 packets in the last 1.0 s (fill_empty 40)");
	/* One more, then quiet: the rest and "stopped" a second after it. */
	t += S / 4;
	xi_loss_log_tick(&lg, d, t, capture, &out);
	for (int i = 0; i < 3; i++) {
		t += S / 4;
		xi_loss_log_tick(&lg, none, t, capture, &out);
	}
	assert_int_equal(out.n, 2);
	t += S / 4;
	xi_loss_log_tick(&lg, none, t, capture, &out);
	assert_int_equal(out.n, 4);
	assert_string_equal(out.v[2], "loss: 10 packets in the last 1.2 s (fill_empty 10)");
	assert_string_equal(out.v[3], "loss stopped after 1284 packets (rx_ring_full 1200, fill_empty 84)");
	/* Quiet stays quiet. */
	for (int i = 0; i < 8; i++) {
		t += S / 4;
		xi_loss_log_tick(&lg, none, t, capture, &out);
	}
	assert_int_equal(out.n, 4);
	/* A new episode starts its own count; at exit what is pending is told. */
	memset(d, 0, sizeof(d));
	d[XI_LOSS_DELIVER_FAILED] = 3;
	t += S / 4;
	xi_loss_log_tick(&lg, d, t, capture, &out);
	assert_int_equal(out.n, 5);
	assert_string_equal(out.v[4], "loss: 3 packets in the last 0.2 s (deliver_failed 3)");
	t += S / 4;
	xi_loss_log_tick(&lg, d, t, capture, &out);
	assert_int_equal(out.n, 5);
	xi_loss_log_flush(&lg, t, capture, &out);
	assert_int_equal(out.n, 6);
	assert_string_equal(out.v[5], "loss: 3 packets in the last 0.2 s (deliver_failed 3)");
	xi_loss_log_flush(&lg, t, capture, &out);
	assert_int_equal(out.n, 6);
	/* No callback: silent, and no crash. */
	xi_loss_log_tick(&lg, d, t + 5 * S, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_xsk_delta),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_log_rate_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
