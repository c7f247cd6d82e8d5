// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/attributes.h>

static void test_zero_is_empty(void **state)
{
	struct xi_attributes a = { 0 };
	uint64_t v;

	assert_int_equal(xi_attributes_len(&a), 0);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_CONN_ID, &v), -ENOENT);
	assert_int_equal(xi_attributes_len(NULL), 0);
	xi_attributes_reset(NULL);
	xi_attributes_invalidate(NULL);
}

static void test_set_get(void **state)
{
	struct xi_attributes a;
	uint64_t v = 0;
	void *p = NULL;
	int x;

	xi_attributes_reset(&a);
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_CONN_ID, 42), 0);
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_ARRIVAL_NS, 1ull << 40), 0);
	assert_int_equal(xi_attributes_set_ptr(&a, XI_ATTR_USER_BASE, &x), 0);
	assert_int_equal(xi_attributes_len(&a), 3);

	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_CONN_ID, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_ARRIVAL_NS, &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(xi_attributes_get_ptr(&a, XI_ATTR_USER_BASE, &p), 0);
	assert_ptr_equal(p, &x);

	/* Overwrite keeps the count; the type follows the last set. */
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_CONN_ID, 7), 0);
	assert_int_equal(xi_attributes_len(&a), 3);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_CONN_ID, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(xi_attributes_get_ptr(&a, XI_ATTR_CONN_ID, &p), -EINVAL);
	assert_int_equal(xi_attributes_set_ptr(&a, XI_ATTR_CONN_ID, NULL), 0);
	assert_int_equal(xi_attributes_get_ptr(&a, XI_ATTR_CONN_ID, &p), 0);
	assert_null(p);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_CONN_ID, &v), -EINVAL);

	assert_int_equal(xi_attributes_get_u64(&a, 999, &v), -ENOENT);
	assert_int_equal(xi_attributes_set_u64(&a, 0, 1), -EINVAL);
	assert_int_equal(xi_attributes_get_u64(&a, 0, &v), -EINVAL);
	assert_int_equal(xi_attributes_set_u64(NULL, 1, 1), -EINVAL);
	assert_int_equal(xi_attributes_get_u64(&a, 1, NULL), -EINVAL);
	assert_int_equal(xi_attributes_get_ptr(NULL, 1, &p), -EINVAL);

	xi_attributes_reset(&a);
	assert_int_equal(xi_attributes_len(&a), 0);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_ARRIVAL_NS, &v), -ENOENT);
}

static void test_capacity_and_del(void **state)
{
	struct xi_attributes a;
	uint64_t v;

	xi_attributes_reset(&a);
	for (uint32_t k = 1; k <= XI_ATTRIBUTES_MAX; k++)
		assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_USER_BASE + k, k * 10), 0);
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_CONN_ID, 1), -ENOSPC);
	/* Existing keys can still be overwritten when full. */
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_USER_BASE + 3, 333), 0);
	assert_int_equal(xi_attributes_len(&a), XI_ATTRIBUTES_MAX);

	assert_int_equal(xi_attributes_del(&a, XI_ATTR_USER_BASE + 1), 0);
	assert_int_equal(xi_attributes_del(&a, XI_ATTR_USER_BASE + 1), -ENOENT);
	assert_int_equal(xi_attributes_del(&a, 0), -EINVAL);
	assert_int_equal(xi_attributes_len(&a), XI_ATTRIBUTES_MAX - 1);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_USER_BASE + 1, &v), -ENOENT);
	/* The moved last item is still found. */
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_USER_BASE + XI_ATTRIBUTES_MAX, &v), 0);
	assert_int_equal(v, XI_ATTRIBUTES_MAX * 10);
	assert_int_equal(xi_attributes_get_u64(&a, XI_ATTR_USER_BASE + 3, &v), 0);
	assert_int_equal(v, 333);
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_CONN_ID, 1), 0);
	assert_int_equal(xi_attributes_set_u64(&a, XI_ATTR_ARRIVAL_NS, 1), -ENOSPC);
}

static void test_rtp_cache(void **state)
{
	uint8_t pkt[] = {
		0x80, 0x60, 0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xaa,
	};
	uint8_t other[sizeof(pkt)];
	struct xi_attributes a;
	const struct xi_rtp_header *h, *h2;

	xi_attributes_reset(&a);
	assert_int_equal(xi_attributes_rtp_header(&a, pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h->seq, 0x1234);
	assert_int_equal(h->payload_len, 1);

	/* Changed bytes, same buffer: the cached header, not a new parse. */
	pkt[3] = 0x35;
	assert_int_equal(xi_attributes_rtp_header(&a, pkt, sizeof(pkt), &h2), 0);
	assert_ptr_equal(h2, h);
	assert_int_equal(h2->seq, 0x1234);

	/* After invalidate the new bytes are seen. */
	xi_attributes_invalidate(&a);
	assert_int_equal(xi_attributes_rtp_header(&a, pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h->seq, 0x1235);

	/* Another length or buffer parses again. */
	pkt[3] = 0x36;
	assert_int_equal(xi_attributes_rtp_header(&a, pkt, sizeof(pkt) - 1, &h), 0);
	assert_int_equal(h->seq, 0x1236);
	assert_int_equal(h->payload_len, 0);
	assert_int_equal(xi_attributes_rtp_header(&a, pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h->payload_len, 1);
	memcpy(other, pkt, sizeof(pkt));
	other[3] = 0x37;
	assert_int_equal(xi_attributes_rtp_header(&a, other, sizeof(other), &h), 0);
	assert_int_equal(h->seq, 0x1237);

	/* Errors are not cached, and drop the previous entry. */
	other[0] = 0x40;
	assert_int_equal(xi_attributes_rtp_header(&a, other, 5, &h), -EBADMSG);
	assert_int_equal(xi_attributes_rtp_header(&a, other, sizeof(other), &h),
			 -EPROTONOSUPPORT);
	other[0] = 0x80;
	assert_int_equal(xi_attributes_rtp_header(&a, other, sizeof(other), &h), 0);
	assert_int_equal(h->seq, 0x1237);

	/* reset forgets the cache too. */
	other[3] = 0x38;
	xi_attributes_reset(&a);
	assert_int_equal(xi_attributes_rtp_header(&a, other, sizeof(other), &h), 0);
	assert_int_equal(h->seq, 0x1238);

	assert_int_equal(xi_attributes_rtp_header(NULL, other, sizeof(other), &h), -EINVAL);
	assert_int_equal(xi_attributes_rtp_header(&a, NULL, sizeof(other), &h), -EINVAL);
	assert_int_equal(xi_attributes_rtp_header(&a, other, sizeof(other), NULL), -EINVAL);
}

static void test_rtcp_cache(void **state)
{
	uint8_t pkt[] = {
		0x81, 206, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	};
	struct xi_attributes a;
	const struct xi_rtcp_compound *c, *c2;
	const struct xi_rtp_header *h;

	xi_attributes_reset(&a);
	assert_int_equal(xi_attributes_rtcp(&a, pkt, sizeof(pkt), &c), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->pkts[0].kind, XI_RTCP_KIND_PLI);
	assert_int_equal(c->pkts[0].fb.media_ssrc, 2);

	pkt[11] = 3;
	assert_int_equal(xi_attributes_rtcp(&a, pkt, sizeof(pkt), &c2), 0);
	assert_ptr_equal(c2, c);
	assert_int_equal(c2->pkts[0].fb.media_ssrc, 2);

	/* The RTP cache is separate: a failed RTP parse does not disturb RTCP
	 * (0x81 reads as one CSRC, which the 12 bytes cannot hold). */
	assert_int_equal(xi_attributes_rtp_header(&a, pkt, sizeof(pkt), &h), -EBADMSG);
	assert_int_equal(xi_attributes_rtcp(&a, pkt, sizeof(pkt), &c2), 0);
	assert_int_equal(c2->pkts[0].fb.media_ssrc, 2);

	xi_attributes_invalidate(&a);
	assert_int_equal(xi_attributes_rtcp(&a, pkt, sizeof(pkt), &c), 0);
	assert_int_equal(c->pkts[0].fb.media_ssrc, 3);

	assert_int_equal(xi_attributes_rtcp(&a, pkt, sizeof(pkt) - 4, &c), -EBADMSG);
	assert_int_equal(xi_attributes_rtcp(&a, NULL, 4, &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_is_empty),
		cmocka_unit_test(test_set_get),
		cmocka_unit_test(test_capacity_and_del),
		cmocka_unit_test(test_rtp_cache),
		cmocka_unit_test(test_rtcp_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
