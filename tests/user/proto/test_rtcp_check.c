// SPDX-License-Identifier: MIT
/* Why RTCP is ignored: xi_rtcp_bad_reason on chosen compounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/abi.h>
#include <xicept/rtcp.h>

#include "user/proto/rtcp_check.h"

static void test_reasons(void **state)
{
	static const uint16_t seqs[] = { 5, 6, 40 };
	uint8_t buf[256];
	int n = xi_rtcp_nack_write(1, 2, seqs, 3, buf, sizeof(buf)), rr;

	assert_true(n > 0);
	assert_int_equal(xi_rtcp_bad_reason(buf, (size_t)n), -1);
	/* an RR, then the NACK: fine */
	memmove(buf + 8, buf, (size_t)n);
	rr = xi_rtcp_rr_write(9, NULL, 0, buf, 8);
	assert_int_equal(rr, 8);
	assert_int_equal(xi_rtcp_bad_reason(buf, (size_t)(n + rr)), -1);
	/* ... whose NACK is cut short by the datagram's end */
	assert_int_equal(xi_rtcp_bad_reason(buf, (size_t)(n + rr - 4)), XI_RTCP_BAD_FCI);
	n = xi_rtcp_nack_write(1, 2, seqs, 3, buf, sizeof(buf));
	/* the FCI count overruns the datagram */
	buf[3] += 1;
	assert_int_equal(xi_rtcp_bad_reason(buf, (size_t)n), XI_RTCP_BAD_FCI);
	buf[3] -= 1;
	/* truncated: header and SSRCs only, or less */
	buf[3] = 2;
	assert_int_equal(xi_rtcp_bad_reason(buf, 12), XI_RTCP_BAD_TRUNCATED);
	buf[3] = 1;
	assert_int_equal(xi_rtcp_bad_reason(buf, 8), XI_RTCP_BAD_TRUNCATED);
	/* an RTPFB FMT nothing here knows */
	buf[3] = 3;
	buf[0] = 0x80 | 3;
	assert_int_equal(xi_rtcp_bad_reason(buf, 16), XI_RTCP_BAD_UNKNOWN_FMT);
	/* not version 2; a length past the datagram outside feedback; nothing */
	buf[0] = 0x40 | 1;
	assert_int_equal(xi_rtcp_bad_reason(buf, 16), XI_RTCP_BAD_MALFORMED);
	rr = xi_rtcp_rr_write(9, NULL, 0, buf, 8);
	buf[3] = 5;
	assert_int_equal(xi_rtcp_bad_reason(buf, 8), XI_RTCP_BAD_MALFORMED);
	assert_int_equal(xi_rtcp_bad_reason(buf, 0), XI_RTCP_BAD_MALFORMED);
	assert_int_equal(xi_rtcp_bad_reason(buf, 3), XI_RTCP_BAD_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
