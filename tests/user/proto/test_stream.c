// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/stream.h>

#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define URI_MID  "urn:ietf:params:rtp-hdrext:sdes:mid"

static void fill(struct xi_stream_info *info)
{
	memset(info, 0, sizeof(*info));
	info->n_rtcp_feedback = 3;
	strcpy(info->rtcp_feedback[0].type, "nack");
	strcpy(info->rtcp_feedback[1].type, "nack");
	strcpy(info->rtcp_feedback[1].parameter, "pli");
	strcpy(info->rtcp_feedback[2].type, "transport-cc");
	info->n_header_extensions = 2;
	strcpy(info->header_extensions[0].uri, URI_MID);
	info->header_extensions[0].id = 4;
	strcpy(info->header_extensions[1].uri, URI_TWCC);
	info->header_extensions[1].id = 200;
}

static void test_has_feedback(void **state)
{
	struct xi_stream_info info;

	fill(&info);
	assert_int_equal(xi_stream_info_has_feedback(&info, "nack", NULL), 1);
	assert_int_equal(xi_stream_info_has_feedback(&info, "nack", ""), 1);
	assert_int_equal(xi_stream_info_has_feedback(&info, "nack", "pli"), 1);
	assert_int_equal(xi_stream_info_has_feedback(&info, "nack", "fir"), 0);
	assert_int_equal(xi_stream_info_has_feedback(&info, "transport-cc", NULL), 1);
	assert_int_equal(xi_stream_info_has_feedback(&info, "transport-cc", "pli"), 0);
	assert_int_equal(xi_stream_info_has_feedback(&info, "ccm", NULL), 0);
	assert_int_equal(xi_stream_info_has_feedback(&info, "nac", NULL), 0);
	assert_int_equal(xi_stream_info_has_feedback(NULL, "nack", NULL), 0);
	assert_int_equal(xi_stream_info_has_feedback(&info, NULL, NULL), 0);

	/* Only the first n entries count. */
	info.n_rtcp_feedback = 2;
	assert_int_equal(xi_stream_info_has_feedback(&info, "transport-cc", NULL), 0);
	info.n_rtcp_feedback = 0;
	assert_int_equal(xi_stream_info_has_feedback(&info, "nack", NULL), 0);
	/* A count past the array is clamped, not followed. */
	info.n_rtcp_feedback = 1000;
	assert_int_equal(xi_stream_info_has_feedback(&info, "transport-cc", NULL), 1);
	assert_int_equal(xi_stream_info_has_feedback(&info, "goog-remb", NULL), 0);
}

static void test_ext_id(void **state)
{
	struct xi_stream_info info;

	fill(&info);
	assert_int_equal(xi_stream_info_ext_id(&info, URI_MID), 4);
	assert_int_equal(xi_stream_info_ext_id(&info, URI_TWCC), 200);
	assert_int_equal(xi_stream_info_ext_id(&info, "urn:ietf:params:rtp-hdrext:toffset"),
			 -ENOENT);
	assert_int_equal(xi_stream_info_ext_id(&info, ""), -ENOENT);
	info.n_header_extensions = 1;
	assert_int_equal(xi_stream_info_ext_id(&info, URI_TWCC), -ENOENT);
	info.n_header_extensions = 99;
	assert_int_equal(xi_stream_info_ext_id(&info, URI_TWCC), 200);
	assert_int_equal(xi_stream_info_ext_id(NULL, URI_MID), -EINVAL);
	assert_int_equal(xi_stream_info_ext_id(&info, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_feedback),
		cmocka_unit_test(test_ext_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
