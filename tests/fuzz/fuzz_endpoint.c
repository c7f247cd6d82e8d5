// SPDX-License-Identifier: MIT
/*
 * Endpoint and stream-spec text, as operators type it and as JSON configs
 * carry it. Whatever parses must format back to text that parses to the
 * same endpoint; whatever fails must fail with -EINVAL and a message, and
 * leave the output untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/dataplane.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void check_endpoint(const char *text)
{
	struct xi_endpoint ep, again, sentinel;
	struct xi_err err = { 0 };
	char buf[64];
	int r, n;

	memset(&ep, 0x5a, sizeof(ep));
	sentinel = ep;
	r = xi_endpoint_parse(text, &ep, &err);
	if (r) {
		CHECK(r == -EINVAL && err.code == -EINVAL && err.msg[0]);
		CHECK(!memcmp(&ep, &sentinel, sizeof(ep)));
		return;
	}
	CHECK(ep.family == 0 || ep.port != 0);
	n = xi_endpoint_format(&ep, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n < sizeof(buf));
	CHECK(xi_endpoint_parse(buf, &again, NULL) == 0);
	CHECK(again.family == ep.family && again.port == ep.port);
	CHECK(!memcmp(again.addr, ep.addr, sizeof(ep.addr)));
}

static void check_stream(const char *text)
{
	struct xi_stream_spec s = { .ssrc = 1, .payload_type = 2, .clock_rate = 3 };
	struct xi_err err = { 0 };
	int r = xi_stream_spec_parse(text, &s, &err);

	if (r) {
		CHECK(r == -EINVAL && err.msg[0]);
		CHECK(s.ssrc == 1 && s.payload_type == 2 && s.clock_rate == 3);
		return;
	}
	CHECK(s.payload_type <= 127 && s.clock_rate > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_endpoint(text);
	check_stream(text);
	free(text);
	return 0;
}
