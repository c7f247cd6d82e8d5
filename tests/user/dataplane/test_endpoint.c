// SPDX-License-Identifier: MIT
/* Endpoint and stream-spec text forms: what the CLI accepts and prints. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <xicept/dataplane.h>

static void assert_parse_fails(const char *text, const char *msg)
{
	struct xi_endpoint ep = { .family = 99 };
	struct xi_err err = { 0 };

	assert_int_equal(xi_endpoint_parse(text, &ep, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(ep.family, 99);	/* untouched on failure */
}

static void test_ipv4(void **state)
{
	const uint8_t want[4] = { 10, 0, 0, 1 };
	struct xi_endpoint ep;
	struct xi_err err = { 0 };
	char buf[64];

	memset(&ep, 0xaa, sizeof(ep));
	assert_int_equal(xi_endpoint_parse("10.0.0.1:5004", &ep, &err), 0);
	assert_int_equal(ep.family, AF_INET);
	assert_memory_equal(ep.addr, want, 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(ep.addr[i], 0);
	assert_int_equal(ep.port, 5004);
	assert_int_equal(xi_endpoint_format(&ep, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "10.0.0.1:5004");
}

static void test_ipv6(void **state)
{
	const uint8_t want[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct xi_endpoint ep;
	char buf[64];

	assert_int_equal(xi_endpoint_parse("[fd00::1]:65535", &ep, NULL), 0);
	assert_int_equal(ep.family, AF_INET6);
	assert_memory_equal(ep.addr, want, 16);
	assert_int_equal(ep.port, 65535);
	assert_int_equal(xi_endpoint_format(&ep, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "[fd00::1]:65535");
}

static void test_any(void **state)
{
	struct xi_endpoint ep = { .family = AF_INET, .port = 9 };
	char buf[8];

	assert_int_equal(xi_endpoint_parse("*", &ep, NULL), 0);
	assert_int_equal(ep.family, 0);
	assert_int_equal(ep.port, 0);
	assert_int_equal(xi_endpoint_format(&ep, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "*");
}

static void test_format_truncates_like_snprintf(void **state)
{
	struct xi_endpoint ep;
	char buf[6];

	assert_int_equal(xi_endpoint_parse("192.168.100.200:40000", &ep, NULL), 0);
	assert_int_equal(xi_endpoint_format(&ep, buf, sizeof(buf)), 21);
	assert_string_equal(buf, "192.1");
	assert_int_equal(xi_endpoint_format(&ep, NULL, 0), 21);
	ep.family = 77;
	assert_int_equal(xi_endpoint_format(&ep, buf, sizeof(buf)), -EAFNOSUPPORT);
	assert_int_equal(xi_endpoint_format(NULL, buf, sizeof(buf)), -EINVAL);
}

static void test_bad_endpoints(void **state)
{
	assert_parse_fails("10.0.0.1:70000", "invalid port '70000'");
	assert_parse_fails("10.0.0.300:5004", "invalid address '10.0.0.300'");
	assert_parse_fails("10.0.0.1:0", "invalid port '0'");
	assert_parse_fails("10.0.0.1:", "invalid port ''");
	assert_parse_fails("10.0.0.1:50a", "invalid port '50a'");
	assert_parse_fails("10.0.0.1:0x10", "invalid port '0x10'");
	assert_parse_fails("10.0.0.1:-1", "invalid port '-1'");
	assert_parse_fails("10.0.0.1", "invalid endpoint '10.0.0.1': expected IP:PORT");
	assert_parse_fails("fd00::1:5004",
			   "invalid endpoint 'fd00::1:5004': IPv6 addresses need brackets, [IPv6]:PORT");
	assert_parse_fails("[fd00::1]5004", "invalid endpoint '[fd00::1]5004': expected [IPv6]:PORT");
	assert_parse_fails("[fd00::1", "invalid endpoint '[fd00::1': expected [IPv6]:PORT");
	assert_parse_fails("[10.0.0.1]:5004", "invalid address '10.0.0.1'");
	assert_parse_fails("[fd00::g]:5004", "invalid address 'fd00::g'");
	assert_parse_fails("host:5004", "invalid address 'host'");
	assert_parse_fails("", "invalid endpoint '': expected IP:PORT");
	assert_parse_fails("1111111111111111111111111111111111111111111111111111111111111111:1",
			   "invalid endpoint '11111111111111111111111111111111...': too long");
	assert_int_equal(xi_endpoint_parse(NULL, &(struct xi_endpoint){ 0 }, NULL), -EINVAL);
}

static void test_stream_spec(void **state)
{
	struct xi_stream_spec s;

	assert_int_equal(xi_stream_spec_parse("0x1234abcd:96:90000", &s, NULL), 0);
	assert_int_equal(s.ssrc, 0x1234abcd);
	assert_int_equal(s.payload_type, 96);
	assert_int_equal(s.clock_rate, 90000);
	assert_int_equal(xi_stream_spec_parse("4294967295:0:8000", &s, NULL), 0);
	assert_int_equal(s.ssrc, 4294967295u);
	assert_int_equal(s.payload_type, 0);
	assert_int_equal(s.clock_rate, 8000);
}

static void assert_spec_fails(const char *text, const char *msg)
{
	struct xi_stream_spec s = { .ssrc = 7 };
	struct xi_err err = { 0 };

	assert_int_equal(xi_stream_spec_parse(text, &s, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(s.ssrc, 7);
}

static void test_bad_stream_specs(void **state)
{
	assert_spec_fails("xyz:96:90000", "invalid SSRC 'xyz'");
	assert_spec_fails("4294967296:96:90000", "invalid SSRC '4294967296'");
	assert_spec_fails(":96:90000", "invalid SSRC ''");
	assert_spec_fails("1:128:90000", "invalid payload type '128' (0-127)");
	assert_spec_fails("1:pt:90000", "invalid payload type 'pt' (0-127)");
	assert_spec_fails("1:96:0", "invalid clock rate '0'");
	assert_spec_fails("1:96:", "invalid clock rate ''");
	assert_spec_fails("1:96", "invalid stream '1:96': expected SSRC:PT:CLOCKRATE");
	assert_spec_fails("1:96:90000:4", "invalid stream '1:96:90000:4': expected SSRC:PT:CLOCKRATE");
	assert_spec_fails("123456789012345678901234567890:96:90000",
			  "invalid SSRC '12345678901234567890123'");
	assert_int_equal(xi_stream_spec_parse(NULL, &(struct xi_stream_spec){ 0 }, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_format_truncates_like_snprintf),
		cmocka_unit_test(test_bad_endpoints),
		cmocka_unit_test(test_stream_spec),
		cmocka_unit_test(test_bad_stream_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
