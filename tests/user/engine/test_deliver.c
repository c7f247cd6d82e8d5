// SPDX-License-Identifier: MIT
/* The delivery's pure parts: which datagrams the veth's peer takes, the
 * frame written for it, what a failed TX kick means, and the veth pair's
 * names and reverse-path setting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <arpa/inet.h>
#include <string.h>
#include <cmocka.h>

#include "user/engine/deliver.h"
#include "user/engine/veth.h"

/* A 28-byte IPv4 (or 48-byte IPv6) UDP datagram to dst. */
static size_t ip4(uint8_t *b, const char *dst)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[3] = 28;
	b[9] = 17;
	inet_pton(AF_INET, "10.0.0.1", b + 12);
	inet_pton(AF_INET, dst, b + 16);
	return 28;
}

static size_t ip6(uint8_t *b, const char *dst)
{
	memset(b, 0, 48);
	b[0] = 0x60;
	b[5] = 8;
	b[6] = 17;
	inet_pton(AF_INET6, "fd00::1", b + 8);
	inet_pton(AF_INET6, dst, b + 24);
	return 48;
}

static void test_veth_takes(void **state)
{
	uint8_t b[64];

	assert_true(xi_deliver_veth_takes(b, ip4(b, "10.199.0.2")));
	assert_true(xi_deliver_veth_takes(b, ip4(b, "169.254.1.1")));
	assert_false(xi_deliver_veth_takes(b, ip4(b, "224.0.0.1")));
	assert_false(xi_deliver_veth_takes(b, ip4(b, "239.1.2.3")));
	assert_false(xi_deliver_veth_takes(b, ip4(b, "255.255.255.255")));
	assert_false(xi_deliver_veth_takes(b, ip4(b, "127.0.0.1")));
	assert_false(xi_deliver_veth_takes(b, ip4(b, "0.0.0.0")));
	assert_true(xi_deliver_veth_takes(b, ip6(b, "fd00:199::2")));
	assert_true(xi_deliver_veth_takes(b, ip6(b, "2001:db8::1")));
	assert_false(xi_deliver_veth_takes(b, ip6(b, "fe80::1")));
	assert_false(xi_deliver_veth_takes(b, ip6(b, "ff02::1")));
	assert_false(xi_deliver_veth_takes(b, ip6(b, "::1")));
	assert_false(xi_deliver_veth_takes(b, ip6(b, "::")));
	/* Too short for its header, or no IP at all. */
	ip4(b, "10.199.0.2");
	assert_false(xi_deliver_veth_takes(b, 19));
	ip6(b, "fd00:199::2");
	assert_false(xi_deliver_veth_takes(b, 39));
	b[0] = 0x50;
	assert_false(xi_deliver_veth_takes(b, 48));
}

static void test_eth_frame(void **state)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 0xaa }, src[6] = { 2, 0, 0, 0, 0, 0xbb };
	uint8_t b[64], f[128];
	size_t n = ip4(b, "10.199.0.2");

	assert_int_equal(xi_deliver_eth_frame(f, sizeof(f), dst, src, b, n), 14 + 28);
	assert_memory_equal(f, dst, 6);
	assert_memory_equal(f + 6, src, 6);
	assert_int_equal(f[12], 0x08);
	assert_int_equal(f[13], 0x00);
	assert_memory_equal(f + 14, b, n);   /* unchanged: addresses, checksums */

	n = ip6(b, "fd00:199::2");
	assert_int_equal(xi_deliver_eth_frame(f, sizeof(f), dst, src, b, n), 14 + 48);
	assert_int_equal(f[12], 0x86);
	assert_int_equal(f[13], 0xdd);
	assert_memory_equal(f + 14, b, n);

	/* Exactly full, one byte short, not IP. */
	assert_int_equal(xi_deliver_eth_frame(f, 14 + 48, dst, src, b, n), 14 + 48);
	assert_int_equal(xi_deliver_eth_frame(f, 14 + 47, dst, src, b, n), -EMSGSIZE);
	assert_int_equal(xi_deliver_eth_frame(f, 40, dst, src, b, n), -EMSGSIZE);
	b[0] = 0x50;
	assert_int_equal(xi_deliver_eth_frame(f, sizeof(f), dst, src, b, n), -EINVAL);
}

static void test_kick_errno(void **state)
{
	assert_int_equal(xi_deliver_kick_errno(EAGAIN), XI_KICK_AGAIN);
	assert_int_equal(xi_deliver_kick_errno(EINTR), XI_KICK_AGAIN);
	assert_int_equal(xi_deliver_kick_errno(ENOBUFS), XI_KICK_AGAIN);
	assert_int_equal(xi_deliver_kick_errno(EBUSY), XI_KICK_DROPPED);
	assert_int_equal(xi_deliver_kick_errno(ENETDOWN), XI_KICK_STOP);
	assert_int_equal(xi_deliver_kick_errno(ENXIO), XI_KICK_STOP);
	assert_int_equal(xi_deliver_kick_errno(EINVAL), XI_KICK_STOP);
}

static void test_veth_names(void **state)
{
	char name[IF_NAMESIZE], peer[IF_NAMESIZE];

	assert_int_equal(xi_veth_names(7, name, peer), 0);
	assert_string_equal(name, "xid7");
	assert_string_equal(peer, "xid7p");
	/* The largest ifindex still fits IFNAMSIZ. */
	assert_int_equal(xi_veth_names(4294967295u, name, peer), 0);
	assert_string_equal(name, "xid4294967295");
	assert_string_equal(peer, "xid4294967295p");
	assert_int_equal(xi_veth_names(0, name, peer), -EINVAL);
}

static void test_rp_filter(void **state)
{
	/* The kernel uses max(conf/all, the device's). */
	assert_int_equal(xi_veth_rp_filter(0), 0);
	assert_int_equal(xi_veth_rp_filter(1), 2);
	assert_int_equal(xi_veth_rp_filter(2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_veth_takes),
		cmocka_unit_test(test_eth_frame),
		cmocka_unit_test(test_kick_errno),
		cmocka_unit_test(test_veth_names),
		cmocka_unit_test(test_rp_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
