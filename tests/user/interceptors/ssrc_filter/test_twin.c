// SPDX-License-Identifier: MIT
/* The C twin of xi_ssrc_filter, and the per-SSRC table under it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "user/interceptors/ssrc_filter/twin.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"

static enum xi_action run(struct xi_twin_ssrc_filter *f, uint32_t ssrc, int rtcp)
{
	struct xi_pkt_ctx pc = { .ssrc = ssrc, .is_rtcp = (uint8_t)rtcp };

	return xi_twin_ssrc_filter_run(f, &pc);
}

static void test_new_checks_arguments(void **state)
{
	struct xi_twin_ssrc_filter *f = (void *)1;

	assert_int_equal(xi_twin_ssrc_filter_new(7, NULL, 0, &f), -EINVAL);
	assert_int_equal(xi_twin_ssrc_filter_new(XI_SSRC_MODE_ALLOW, NULL, 2, &f), -EINVAL);
	assert_ptr_equal(f, (void *)1);
	xi_twin_ssrc_filter_free(NULL);
}

static void test_allow(void **state)
{
	const uint32_t list[] = { 30, 10, 20, 10 };
	struct xi_twin_ssrc_filter *f;
	uint64_t n;

	assert_int_equal(xi_twin_ssrc_filter_new(XI_SSRC_MODE_ALLOW, list, 4, &f), 0);
	assert_int_equal(run(f, 10, 0), XI_ACT_PASS);
	assert_int_equal(run(f, 30, 1), XI_ACT_PASS);
	assert_int_equal(run(f, 40, 0), XI_ACT_DROP);
	assert_int_equal(run(f, 40, 1), XI_ACT_DROP);
	assert_int_equal(run(f, 0, 0), XI_ACT_DROP);
	assert_int_equal(xi_twin_ssrc_filter_drops(f), 3);
	assert_int_equal(xi_twin_ssrc_filter_n_dropped(f), 2);
	assert_int_equal(xi_twin_ssrc_filter_ssrc_drops(f, 40, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(xi_twin_ssrc_filter_ssrc_drops(f, 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(xi_twin_ssrc_filter_ssrc_drops(f, 10, &n), -ENOENT);
	xi_twin_ssrc_filter_free(f);
}

static void test_deny_and_off(void **state)
{
	const uint32_t list[] = { 0xffffffff };
	struct xi_twin_ssrc_filter *f, *off;

	assert_int_equal(xi_twin_ssrc_filter_new(XI_SSRC_MODE_DENY, list, 1, &f), 0);
	assert_int_equal(run(f, 0xffffffff, 0), XI_ACT_DROP);
	assert_int_equal(run(f, 1, 0), XI_ACT_PASS);
	assert_int_equal(xi_twin_ssrc_filter_drops(f), 1);
	assert_int_equal(xi_twin_ssrc_filter_new(XI_SSRC_MODE_OFF, list, 1, &off), 0);
	assert_int_equal(run(off, 0xffffffff, 0), XI_ACT_PASS);
	assert_int_equal(xi_twin_ssrc_filter_drops(off), 0);
	xi_twin_ssrc_filter_free(f);
	xi_twin_ssrc_filter_free(off);
}

/* Many keys in random order: all found, sorted, removable. */
static void test_table(void **state)
{
	struct xi_twin_table t;
	unsigned seed = 1;
	uint32_t keys[500];

	xi_twin_table_init(&t, sizeof(uint64_t));
	for (int i = 0; i < 500; i++) {
		uint64_t *v;

		keys[i] = (uint32_t)rand_r(&seed) * 2654435761u;
		v = xi_twin_table_get(&t, keys[i]);
		assert_non_null(v);
		*v += keys[i];
	}
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.keys[i - 1] < t.keys[i]);
	for (int i = 0; i < 500; i++) {
		uint64_t *v = xi_twin_table_find(&t, keys[i]);

		assert_non_null(v);
		assert_int_equal(*v % keys[i], 0);
	}
	assert_int_equal(xi_twin_table_remove(&t, keys[7]), 0);
	assert_null(xi_twin_table_find(&t, keys[7]));
	assert_int_equal(xi_twin_table_remove(&t, keys[7]), -ENOENT);
	assert_non_null(xi_twin_table_find(&t, keys[8]));
	xi_twin_table_fini(&t);
	assert_int_equal(t.n, 0);
	assert_null(xi_twin_table_find(&t, keys[8]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_checks_arguments),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_deny_and_off),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
