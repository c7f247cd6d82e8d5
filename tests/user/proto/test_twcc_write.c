// SPDX-License-Identifier: MIT
/*
 * Transport-cc feedback written by xi_rtcp_twcc_write decodes, with the
 * library's parser, to exactly the statuses and deltas given: chosen shapes
 * (long runs, mixed short runs, large deltas, a status count that ends
 * inside what a vector chunk would cover) and 2,000 random ones.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/rtcp.h>

#include "user/proto/twcc_write.h"

#define N_MAX 600

static void round_trip(const uint8_t *status, const int32_t *delta, size_t n, size_t *ret_len)
{
	struct xi_twcc_fb fb = { .sender_ssrc = 1, .media_ssrc = 2, .base_seq = 65530,
				 .fb_pkt_count = 7, .ref_time = 0xabcdef, .n = n,
				 .status = status, .delta = delta };
	uint8_t buf[20 + N_MAX * 3 + 4], got_st[N_MAX];
	int32_t got_dl[N_MAX];
	struct xi_rtcp_compound c;
	int len = xi_rtcp_twcc_write(&fb, buf, sizeof(buf));

	assert_true(len > 0);
	assert_int_equal(len % 4, 0);
	assert_int_equal(xi_rtcp_compound_parse(buf, (size_t)len, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.pkts[0].kind, XI_RTCP_KIND_TWCC);
	assert_int_equal(c.pkts[0].twcc.base_seq, 65530);
	assert_int_equal(c.pkts[0].twcc.status_count, n);
	assert_int_equal(c.pkts[0].twcc.fb_pkt_count, 7);
	assert_int_equal(c.pkts[0].twcc.ref_time, (int32_t)0xffabcdef);   /* 24-bit signed */
	assert_int_equal(xi_rtcp_twcc_decode(&c.pkts[0], got_st, got_dl, N_MAX), (int)n);
	assert_memory_equal(got_st, status, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got_dl[i], status[i] ? delta[i] * XI_TWCC_DELTA_US : 0);
	if (ret_len)
		*ret_len = (size_t)len;
}

static void test_shapes(void **state)
{
	uint8_t st[N_MAX];
	int32_t dl[N_MAX];
	size_t len;

	for (size_t i = 0; i < N_MAX; i++) {
		st[i] = XI_TWCC_SMALL_DELTA;
		dl[i] = (int32_t)(i % 256);
	}
	/* 500 received: run-length chunks only (8191 each), 20 + 2 + 500 */
	round_trip(st, dl, 500, &len);
	assert_int_equal(len, 524);
	/* alternating received and lost, 14 of them: one 1-bit vector chunk */
	for (size_t i = 0; i < 14; i++)
		st[i] = i % 2 ? XI_TWCC_NOT_RECEIVED : XI_TWCC_SMALL_DELTA;
	round_trip(st, dl, 14, &len);
	assert_int_equal(len, 20 + 2 + 7 + 3);
	/* a large delta among them: 2-bit vector chunks */
	st[2] = XI_TWCC_LARGE_DELTA;
	dl[2] = -300;
	round_trip(st, dl, 14, NULL);
	/* a count that ends inside a vector's worth: 9 statuses */
	round_trip(st, dl, 9, NULL);
	round_trip(st, dl, 1, NULL);
	/* a delta its status cannot carry */
	st[0] = XI_TWCC_SMALL_DELTA;
	dl[0] = 256;
	{
		struct xi_twcc_fb fb = { .n = 1, .status = st, .delta = dl };
		uint8_t buf[64];

		assert_int_equal(xi_rtcp_twcc_write(&fb, buf, sizeof(buf)), -EINVAL);
		dl[0] = 1;
		assert_int_equal(xi_rtcp_twcc_write(&fb, buf, 20), -ENOSPC);
		fb.n = 0;
		assert_int_equal(xi_rtcp_twcc_write(&fb, buf, sizeof(buf)), -EINVAL);
	}
}

static void test_random(void **state)
{
	uint8_t st[N_MAX];
	int32_t dl[N_MAX];

	srand(11);
	for (int iter = 0; iter < 2000; iter++) {
		size_t n = 1 + (size_t)rand() % N_MAX;
		int runny = rand() % 2;

		for (size_t i = 0; i < n; i++) {
			if (runny && i && rand() % 8)
				st[i] = st[i - 1];
			else
				st[i] = (uint8_t)(rand() % 3);
			dl[i] = st[i] == XI_TWCC_SMALL_DELTA ? rand() % 256 :
				st[i] == XI_TWCC_LARGE_DELTA ? rand() % 65536 - 32768 : 0;
		}
		round_trip(st, dl, n, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
