// SPDX-License-Identifier: MIT
/* IP + UDP datagrams of the AF_XDP engine: checksums, lengths, rewriting
 * after a payload change, finishing offloaded checksums, emitted frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "user/lib/udp_frame.h"
#include "user/lib/bytes.h"

/* The IPv4 header of the Wikipedia checksum example: checksum 0xb861. */
static const uint8_t ip4_example[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* A header with its checksum in place sums to 0xffff: folds to 0. */
static uint16_t verify_udp(const uint8_t *l3, size_t l4_off)
{
	const uint8_t *udp = l3 + l4_off;
	size_t ulen = xi_get_be16(udp + 4);
	uint8_t pseudo[4] = { 0, 17, (uint8_t)(ulen >> 8), (uint8_t)ulen };
	uint32_t s = l3[0] >> 4 == 4 ? xi_csum_add(0, l3 + 12, 8) : xi_csum_add(0, l3 + 8, 32);

	s = xi_csum_add(s, pseudo, 4);
	return xi_csum_fold(xi_csum_add(s, udp, ulen));
}

static void test_csum_known_value(void **state)
{
	assert_int_equal(xi_csum_fold(xi_csum_add(0, ip4_example, 20)), 0xb861);
	/* Odd length: the last byte is the high half of a word. */
	assert_int_equal(xi_csum_fold(xi_csum_add(0, "\x01", 1)), 0xfeff);
	assert_int_equal(xi_csum_fold(0), 0xffff);
}

static size_t build4(uint8_t *f, const uint8_t *payload, size_t len)
{
	static const uint8_t l2[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0 };
	struct xi_endpoint src = { .family = AF_INET, .addr = { 10, 199, 0, 2 }, .port = 5004 };
	struct xi_endpoint dst = { .family = AF_INET, .addr = { 10, 199, 0, 1 }, .port = 6000 };
	int n = xi_udp_frame_build(f, 2048, l2, sizeof(l2), &src, &dst, 0x1234, payload, len);

	assert_true(n > 0);
	return (size_t)n;
}

static void test_frame_build_ipv4(void **state)
{
	uint8_t f[2048], pl[7] = { 0x81, 0xcd, 0, 3, 0, 0, 0xa };
	size_t n = build4(f, pl, sizeof(pl));

	assert_int_equal(n, 14 + 20 + 8 + 7);
	assert_int_equal(xi_get_be16(f + 12), 0x0800);
	assert_int_equal(f[14], 0x45);
	assert_int_equal(xi_get_be16(f + 16), 20 + 8 + 7);
	assert_int_equal(xi_get_be16(f + 18), 0x1234);
	assert_int_equal(f[23], 17);
	assert_int_equal(xi_csum_fold(xi_csum_add(0, f + 14, 20)), 0);
	assert_int_equal(xi_get_be16(f + 34), 5004);
	assert_int_equal(xi_get_be16(f + 36), 6000);
	assert_int_equal(xi_get_be16(f + 38), 15);
	assert_int_equal(verify_udp(f + 14, 20), 0);
	assert_memory_equal(f + 42, pl, sizeof(pl));
	assert_int_equal(xi_ip_datagram_len(f + 14, n - 14), 35);
}

static void test_frame_build_ipv6_and_errors(void **state)
{
	static const uint8_t l2[18] = { [12] = 0x81, [13] = 0x00, [14] = 0, [15] = 5 };
	struct xi_endpoint src = { .family = AF_INET6, .addr = { 0xfd, [15] = 2 }, .port = 5004 };
	struct xi_endpoint dst = { .family = AF_INET6, .addr = { 0xfd, [15] = 1 }, .port = 6000 };
	struct xi_endpoint v4 = { .family = AF_INET, .port = 1 };
	uint8_t f[256], pl[12] = { 0x80, 0xc9 };
	int n = xi_udp_frame_build(f, sizeof(f), l2, sizeof(l2), &src, &dst, 0, pl, sizeof(pl));

	assert_int_equal(n, 18 + 40 + 8 + 12);
	assert_int_equal(xi_get_be16(f + 12), 0x8100);   /* the VLAN tag is kept */
	assert_int_equal(xi_get_be16(f + 16), 0x86dd);
	assert_int_equal(xi_get_be16(f + 18 + 4), 20);
	assert_int_equal(verify_udp(f + 18, 40), 0);
	assert_int_equal(xi_ip_datagram_len(f + 18, (size_t)n - 18), 60);
	assert_int_equal(xi_udp_frame_build(f, sizeof(f), l2, sizeof(l2), &src, &v4, 0, pl, 12),
			 -EINVAL);
	assert_int_equal(xi_udp_frame_build(f, sizeof(f), l2, 12, &src, &dst, 0, pl, 12), -EINVAL);
	assert_int_equal(xi_udp_frame_build(f, 60, l2, sizeof(l2), &src, &dst, 0, pl, 12), -ENOSPC);
}

static void test_datagram_len_rejects_bad_headers(void **state)
{
	uint8_t d[40] = { 0x45, 0, 0, 30 };

	assert_int_equal(xi_ip_datagram_len(d, 40), 30);   /* 10 bytes of padding */
	assert_int_equal(xi_ip_datagram_len(d, 29), -EBADMSG);
	assert_int_equal(xi_ip_datagram_len(d, 19), -EBADMSG);
	d[3] = 10;   /* shorter than its own header */
	assert_int_equal(xi_ip_datagram_len(d, 40), -EBADMSG);
	d[0] = 0x75;
	assert_int_equal(xi_ip_datagram_len(d, 40), -EBADMSG);
	assert_int_equal(xi_ip_datagram_len(d, 0), -EBADMSG);
}

static void test_fix_after_payload_change(void **state)
{
	uint8_t f[2048], pl[100];
	size_t n;

	memset(pl, 0x5a, sizeof(pl));
	n = build4(f, pl, sizeof(pl));
	memset(f + 42, 0x33, 60);   /* the chain shortened the payload to 60 */
	assert_int_equal(xi_udp_datagram_fix(f + 14, 20, 60), 0);
	assert_int_equal(xi_get_be16(f + 16), 20 + 8 + 60);
	assert_int_equal(xi_get_be16(f + 38), 68);
	assert_int_equal(xi_csum_fold(xi_csum_add(0, f + 14, 20)), 0);
	assert_int_equal(verify_udp(f + 14, 20), 0);
	/* No UDP checksum stays none. */
	f[40] = f[41] = 0;
	assert_int_equal(xi_udp_datagram_fix(f + 14, 20, 50), 0);
	assert_int_equal(xi_get_be16(f + 40), 0);
	assert_int_equal(xi_udp_datagram_fix(f + 14, 20, 70000), -EINVAL);
	(void)n;
}

static void test_complete_partial_checksum(void **state)
{
	uint8_t f[2048], pl[33];
	uint16_t good, partial;
	uint8_t pseudo[12];
	size_t n;

	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);
	n = build4(f, pl, sizeof(pl));
	good = xi_get_be16(f + 40);
	assert_int_equal(xi_udp_csum_complete(f + 14, 20, n - 14), 0);   /* already right */
	/* What a CHECKSUM_PARTIAL transmit leaves: the folded pseudo-header sum. */
	memcpy(pseudo, f + 26, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = 0;
	pseudo[11] = 8 + 33;
	partial = (uint16_t)~xi_csum_fold(xi_csum_add(0, pseudo, 12));
	f[40] = partial >> 8;
	f[41] = partial & 0xff;
	assert_int_equal(xi_udp_csum_complete(f + 14, 20, n - 14), 1);
	assert_int_equal(xi_get_be16(f + 40), good);
	/* Neither right nor partial: corrupt, left for the stack to drop. */
	f[40] ^= 0x40;
	assert_int_equal(xi_udp_csum_complete(f + 14, 20, n - 14), -EBADMSG);
	assert_int_equal(xi_get_be16(f + 40), good ^ 0x4000);
	f[40] = f[41] = 0;
	assert_int_equal(xi_udp_csum_complete(f + 14, 20, n - 14), 0);   /* none, IPv4 */
	assert_int_equal(xi_udp_csum_complete(f + 14, 20, 27), -EBADMSG); /* truncated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_known_value),
		cmocka_unit_test(test_frame_build_ipv4),
		cmocka_unit_test(test_frame_build_ipv6_and_errors),
		cmocka_unit_test(test_datagram_len_rejects_bad_headers),
		cmocka_unit_test(test_fix_after_payload_change),
		cmocka_unit_test(test_complete_partial_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
