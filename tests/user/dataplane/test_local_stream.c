// SPDX-License-Identifier: MIT
/* Local stream specs: "SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]" both ways. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/dataplane.h>

static void test_parse(void **state)
{
	struct xi_local_stream_spec s;
	struct xi_err err = { 0 };
	char buf[64];

	assert_int_equal(xi_local_stream_spec_parse("0x5678:96:90000", &s, &err), 0);
	assert_int_equal(s.ssrc, 0x5678);
	assert_int_equal(s.payload_type, 96);
	assert_int_equal(s.clock_rate, 90000);
	assert_false(s.has_rtx);
	assert_int_equal(xi_local_stream_spec_format(&s, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "22136:96:90000");
	assert_int_equal(xi_local_stream_spec_parse("4294967295:0:48000:rtx=0x10/127", &s, &err), 0);
	assert_int_equal(s.ssrc, 0xffffffffu);
	assert_true(s.has_rtx);
	assert_int_equal(s.rtx_ssrc, 16);
	assert_int_equal(s.rtx_payload_type, 127);
	xi_local_stream_spec_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "4294967295:0:48000:rtx=16/127");
}

static void assert_fails(const char *text, const char *msg)
{
	struct xi_local_stream_spec s = { .ssrc = 7 };
	struct xi_err err = { 0 };

	assert_int_equal(xi_local_stream_spec_parse(text, &s, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(s.ssrc, 7);   /* untouched */
}

static void test_errors(void **state)
{
	assert_fails("0x5678:96", "invalid local stream '0x5678:96': expected "
		     "SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]");
	assert_fails("1:2:3:4:5", "invalid local stream '1:2:3:4:5': expected "
		     "SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]");
	assert_fails("0x100000000:96:90000", "invalid SSRC '0x100000000'");
	assert_fails("-1:96:90000", "invalid SSRC '-1'");
	assert_fails("1:128:90000", "invalid payload type '128' (0-127)");
	assert_fails("1:96:0", "invalid clock rate '0'");
	assert_fails("1:96:90000:rtx=5", "invalid 'rtx=5': expected rtx=RTXSSRC/RTXPT");
	assert_fails("1:96:90000:fec=5/6", "invalid 'fec=5/6': expected rtx=RTXSSRC/RTXPT");
	assert_fails("1:96:90000:rtx=x/97", "invalid RTX SSRC in 'rtx=x/97'");
	assert_fails("1:96:90000:rtx=2/200", "invalid RTX payload type in 'rtx=2/200' (0-127)");
	assert_fails("1:96:90000:rtx=1/97", "RTX SSRC 1 is the stream's own");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
