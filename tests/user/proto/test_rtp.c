// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/rtp.h>

/* V=2 M=1 PT=96 seq=0x1234 ts=0xdeadbeef ssrc=0x11223344, 4 payload bytes. */
static const uint8_t pkt_basic[] = {
	0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44,
	0xaa, 0xbb, 0xcc, 0xdd,
};

/* CC=2, PT=0, no marker. */
static const uint8_t pkt_csrc[] = {
	0x82, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
	0xca, 0xfe, 0x00, 0x01, 0xca, 0xfe, 0x00, 0x02,
	0x55,
};

/* One-byte extension, 2 words: id 1 (2 bytes), a padding byte, id 2 (1 byte). */
static const uint8_t pkt_one_byte[] = {
	0x90, 0x6f, 0xff, 0xff, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20,
	0xbe, 0xde, 0x00, 0x02,
	0x11, 0xaa, 0xbb, 0x00, 0x20, 0xcc, 0x00, 0x00,
	0x01, 0x02,
};

/* One-byte extension: id 1 (3 bytes), then id 15 stops the list. */
static const uint8_t pkt_one_byte_stop[] = {
	0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0xbe, 0xde, 0x00, 0x02,
	0x12, 0x01, 0x02, 0x03, 0xf0, 0x31, 0xee, 0xee,
};

/* Two-byte extension, appbits 3: id 1 (0 bytes), id 2 (3 bytes), one padding byte. */
static const uint8_t pkt_two_byte[] = {
	0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x10, 0x03, 0x00, 0x02,
	0x01, 0x00, 0x02, 0x03, 0x78, 0x79, 0x7a, 0x00,
	0x99,
};

/* An extension of another profile, kept as one block. */
static const uint8_t pkt_opaque[] = {
	0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0xab, 0xcd, 0x00, 0x01,
	0x01, 0x02, 0x03, 0x04,
};

/* P=1: two payload bytes, then 3 bytes of padding. */
static const uint8_t pkt_padded[] = {
	0xa0, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x09,
	0x41, 0x42, 0x00, 0x00, 0x03,
};

static void test_basic(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(pkt_basic, sizeof(pkt_basic), &h), 0);
	assert_int_equal(h.version, 2);
	assert_false(h.padding);
	assert_false(h.extension);
	assert_true(h.marker);
	assert_int_equal(h.csrc_count, 0);
	assert_int_equal(h.payload_type, 96);
	assert_int_equal(h.seq, 0x1234);
	assert_int_equal(h.timestamp, 0xdeadbeef);
	assert_int_equal(h.ssrc, 0x11223344);
	assert_int_equal(h.ext_kind, XI_RTP_EXT_NONE);
	assert_int_equal(h.n_ext, 0);
	assert_int_equal(h.header_len, 12);
	assert_int_equal(h.payload_offset, 12);
	assert_int_equal(h.payload_len, 4);
	assert_int_equal(h.padding_len, 0);
}

static void test_csrc(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(pkt_csrc, sizeof(pkt_csrc), &h), 0);
	assert_false(h.marker);
	assert_int_equal(h.payload_type, 0);
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.timestamp, 2);
	assert_int_equal(h.ssrc, 3);
	assert_int_equal(h.csrc_count, 2);
	assert_int_equal(h.csrc[0], 0xcafe0001);
	assert_int_equal(h.csrc[1], 0xcafe0002);
	assert_int_equal(h.header_len, 20);
	assert_int_equal(h.payload_len, 1);
}

static void test_one_byte(void **state)
{
	struct xi_rtp_header h;
	size_t off = 0, len = 0;

	assert_int_equal(xi_rtp_header_parse(pkt_one_byte, sizeof(pkt_one_byte), &h), 0);
	assert_true(h.extension);
	assert_false(h.marker);
	assert_int_equal(h.payload_type, 0x6f);
	assert_int_equal(h.seq, 0xffff);
	assert_int_equal(h.ext_kind, XI_RTP_EXT_ONE_BYTE);
	assert_int_equal(h.ext_profile, 0xbede);
	assert_int_equal(h.ext_offset, 16);
	assert_int_equal(h.ext_len, 8);
	assert_int_equal(h.n_ext, 2);
	assert_int_equal(h.ext[0].id, 1);
	assert_int_equal(h.ext[0].len, 2);
	assert_int_equal(h.ext[0].offset, 17);
	assert_int_equal(h.ext[1].id, 2);
	assert_int_equal(h.ext[1].len, 1);
	assert_int_equal(h.ext[1].offset, 21);
	assert_int_equal(h.header_len, 24);
	assert_int_equal(h.payload_len, 2);

	assert_int_equal(xi_rtp_header_ext_find(&h, 2, &off, &len), 0);
	assert_int_equal(off, 21);
	assert_int_equal(len, 1);
	assert_int_equal(pkt_one_byte[off], 0xcc);
	assert_int_equal(xi_rtp_header_ext_find(&h, 1, &off, NULL), 0);
	assert_int_equal(off, 17);
	assert_int_equal(xi_rtp_header_ext_find(&h, 3, &off, &len), -ENOENT);
	assert_int_equal(xi_rtp_header_ext_find(&h, 0, &off, &len), -ENOENT);
	assert_int_equal(xi_rtp_header_ext_find(NULL, 1, &off, &len), -EINVAL);
}

static void test_one_byte_stop(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(pkt_one_byte_stop, sizeof(pkt_one_byte_stop),
					     &h), 0);
	assert_int_equal(h.n_ext, 1);
	assert_int_equal(h.ext[0].id, 1);
	assert_int_equal(h.ext[0].len, 3);
	assert_int_equal(h.ext[0].offset, 17);
	assert_int_equal(h.header_len, 24);
	assert_int_equal(h.payload_len, 0);
}

static void test_two_byte(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(pkt_two_byte, sizeof(pkt_two_byte), &h), 0);
	assert_int_equal(h.ext_kind, XI_RTP_EXT_TWO_BYTE);
	assert_int_equal(h.ext_profile, 0x1003);
	assert_int_equal(h.ext_appbits, 3);
	assert_int_equal(h.n_ext, 2);
	assert_int_equal(h.ext[0].id, 1);
	assert_int_equal(h.ext[0].len, 0);
	assert_int_equal(h.ext[0].offset, 18);
	assert_int_equal(h.ext[1].id, 2);
	assert_int_equal(h.ext[1].len, 3);
	assert_int_equal(h.ext[1].offset, 20);
	assert_memory_equal(pkt_two_byte + h.ext[1].offset, "xyz", 3);
	assert_int_equal(h.header_len, 24);
	assert_int_equal(h.payload_len, 1);
}

static void test_opaque(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(pkt_opaque, sizeof(pkt_opaque), &h), 0);
	assert_int_equal(h.ext_kind, XI_RTP_EXT_OPAQUE);
	assert_int_equal(h.ext_profile, 0xabcd);
	assert_int_equal(h.ext_offset, 16);
	assert_int_equal(h.ext_len, 4);
	assert_int_equal(h.n_ext, 0);
	assert_int_equal(h.header_len, 20);
	assert_int_equal(h.payload_len, 0);
}

static void test_padding(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(pkt_padded, sizeof(pkt_padded), &h), 0);
	assert_true(h.padding);
	assert_int_equal(h.payload_type, 8);
	assert_int_equal(h.padding_len, 3);
	assert_int_equal(h.payload_offset, 12);
	assert_int_equal(h.payload_len, 2);
}

static void expect_parse(const uint8_t *pkt, size_t len, int want)
{
	struct xi_rtp_header h;

	memset(&h, 0x5a, sizeof(h));
	assert_int_equal(xi_rtp_header_parse(pkt, len, &h), want);
	/* Failures leave the output alone. */
	if (want)
		assert_int_equal(h.seq, 0x5a5a);
}

static void test_malformed(void **state)
{
	uint8_t b[64];

	memcpy(b, pkt_basic, sizeof(pkt_basic));
	b[0] = 0x40;   /* version 1 */
	expect_parse(b, sizeof(pkt_basic), -EPROTONOSUPPORT);
	b[0] = 0xc0;   /* version 3 */
	expect_parse(b, sizeof(pkt_basic), -EPROTONOSUPPORT);
	b[0] = 0x00;   /* version 0 */
	expect_parse(b, sizeof(pkt_basic), -EPROTONOSUPPORT);

	/* Padding count 0, and one larger than the payload. */
	memcpy(b, pkt_padded, sizeof(pkt_padded));
	b[sizeof(pkt_padded) - 1] = 0;
	expect_parse(b, sizeof(pkt_padded), -EBADMSG);
	b[sizeof(pkt_padded) - 1] = 6;
	expect_parse(b, sizeof(pkt_padded), -EBADMSG);
	b[sizeof(pkt_padded) - 1] = 5;   /* exactly the payload: allowed */
	expect_parse(b, sizeof(pkt_padded), 0);
	/* P set but nothing after the header. */
	expect_parse(b, 12, -EBADMSG);

	/* Extension length past the packet. */
	memcpy(b, pkt_opaque, sizeof(pkt_opaque));
	b[15] = 2;
	expect_parse(b, sizeof(pkt_opaque), -EBADMSG);

	/* One-byte element longer than the extension. */
	memcpy(b, pkt_one_byte, sizeof(pkt_one_byte));
	b[20] = 0x23;   /* id 2, 4 bytes from offset 21: ends at 25 > 24 */
	expect_parse(b, sizeof(pkt_one_byte), -EBADMSG);

	/* Two-byte element longer than the extension, and a lone id byte at the end. */
	memcpy(b, pkt_two_byte, sizeof(pkt_two_byte));
	b[19] = 5;
	expect_parse(b, sizeof(pkt_two_byte), -EBADMSG);
	memcpy(b, pkt_two_byte, sizeof(pkt_two_byte));
	b[23] = 0x07;
	expect_parse(b, sizeof(pkt_two_byte), -EBADMSG);

	/* CSRC list past the packet. */
	memcpy(b, pkt_basic, sizeof(pkt_basic));
	b[0] = 0x82;
	expect_parse(b, sizeof(pkt_basic), -EBADMSG);
	b[0] = 0x8f;
	expect_parse(b, sizeof(pkt_basic), -EBADMSG);
}

static void test_too_many_elements(void **state)
{
	uint8_t b[12 + 4 + 36] = { 0x90, 0x60 };
	struct xi_rtp_header h;

	b[12] = 0xbe;
	b[13] = 0xde;
	b[15] = 9;   /* 36 bytes: 18 elements of 1 byte each */
	for (int i = 0; i < 18; i++)
		b[16 + 2 * i] = (uint8_t)((1 + i % 14) << 4);
	assert_int_equal(xi_rtp_header_parse(b, sizeof(b), &h), -E2BIG);
	/* With id 15 after 16 elements it fits. */
	b[16 + 2 * 16] = 0xf0;
	assert_int_equal(xi_rtp_header_parse(b, sizeof(b), &h), 0);
	assert_int_equal(h.n_ext, 16);
	assert_int_equal(h.ext[15].id, 2);
	assert_int_equal(h.ext[15].offset, 16 + 2 * 15 + 1);
}

static void test_null_args(void **state)
{
	struct xi_rtp_header h;

	assert_int_equal(xi_rtp_header_parse(NULL, 12, &h), -EINVAL);
	assert_int_equal(xi_rtp_header_parse(pkt_basic, sizeof(pkt_basic), NULL), -EINVAL);
	assert_int_equal(xi_rtp_header_write(NULL, NULL, 0, (uint8_t[12]){ 0 }, 12), -EINVAL);
	assert_int_equal(xi_rtp_header_size(NULL, NULL, 0), -EINVAL);
}

/* Every prefix shorter than the header fails with -EBADMSG; longer ones without
 * padding keep the header and lose payload. */
static void truncation_check(const uint8_t *pkt, size_t len)
{
	struct xi_rtp_header full, h;

	assert_int_equal(xi_rtp_header_parse(pkt, len, &full), 0);
	for (size_t n = 0; n < full.header_len; n++)
		assert_int_equal(xi_rtp_header_parse(pkt, n, &h), -EBADMSG);
	for (size_t n = full.header_len; n < len && !full.padding; n++) {
		assert_int_equal(xi_rtp_header_parse(pkt, n, &h), 0);
		assert_int_equal(h.payload_len, n - full.header_len);
		assert_int_equal(h.n_ext, full.n_ext);
	}
}

static void test_truncation(void **state)
{
	truncation_check(pkt_basic, sizeof(pkt_basic));
	truncation_check(pkt_csrc, sizeof(pkt_csrc));
	truncation_check(pkt_one_byte, sizeof(pkt_one_byte));
	truncation_check(pkt_one_byte_stop, sizeof(pkt_one_byte_stop));
	truncation_check(pkt_two_byte, sizeof(pkt_two_byte));
	truncation_check(pkt_opaque, sizeof(pkt_opaque));
	truncation_check(pkt_padded, sizeof(pkt_padded));
}

static size_t collect_exts(const struct xi_rtp_header *h, const uint8_t *pkt,
			   struct xi_rtp_ext_data *exts)
{
	if (h->ext_kind == XI_RTP_EXT_OPAQUE) {
		exts[0] = (struct xi_rtp_ext_data){ 0, (uint16_t)h->ext_len, pkt + h->ext_offset };
		return 1;
	}
	for (size_t i = 0; i < h->n_ext; i++)
		exts[i] = (struct xi_rtp_ext_data){ h->ext[i].id, h->ext[i].len,
						    pkt + h->ext[i].offset };
	return h->n_ext;
}

/* Parse, write, parse again: the same fields and element contents. Packets
 * whose extension has no inner padding come back byte for byte. */
static void roundtrip_check(const uint8_t *pkt, size_t len, bool exact)
{
	struct xi_rtp_header a, b;
	struct xi_rtp_ext_data exts[XI_RTP_EXT_MAX];
	uint8_t out[128];
	size_t n;
	int w;

	assert_int_equal(xi_rtp_header_parse(pkt, len, &a), 0);
	n = collect_exts(&a, pkt, exts);
	w = xi_rtp_header_write(&a, exts, n, out, sizeof(out));
	assert_int_equal(w, xi_rtp_header_size(&a, exts, n));
	if (exact) {
		assert_int_equal(w, (int)a.header_len);
		assert_memory_equal(out, pkt, a.header_len);
	}
	/* The header alone: no payload, so clear P for the reparse. */
	out[0] &= ~0x20;
	assert_int_equal(xi_rtp_header_parse(out, (size_t)w, &b), 0);
	assert_int_equal(b.marker, a.marker);
	assert_int_equal(b.payload_type, a.payload_type);
	assert_int_equal(b.seq, a.seq);
	assert_int_equal(b.timestamp, a.timestamp);
	assert_int_equal(b.ssrc, a.ssrc);
	assert_int_equal(b.csrc_count, a.csrc_count);
	assert_memory_equal(b.csrc, a.csrc, sizeof(a.csrc[0]) * a.csrc_count);
	assert_int_equal(b.ext_kind, a.ext_kind);
	assert_int_equal(b.ext_profile, a.ext_profile);
	assert_int_equal(b.n_ext, a.n_ext);
	for (size_t i = 0; i < a.n_ext; i++) {
		assert_int_equal(b.ext[i].id, a.ext[i].id);
		assert_int_equal(b.ext[i].len, a.ext[i].len);
		assert_memory_equal(out + b.ext[i].offset, pkt + a.ext[i].offset, a.ext[i].len);
	}
	assert_int_equal(b.payload_len, 0);
	/* Every short buffer is refused. */
	for (int cap = 0; cap < w; cap++)
		assert_int_equal(xi_rtp_header_write(&a, exts, n, out, (size_t)cap), -ENOSPC);
}

static void test_roundtrip(void **state)
{
	roundtrip_check(pkt_basic, sizeof(pkt_basic), true);
	roundtrip_check(pkt_csrc, sizeof(pkt_csrc), true);
	roundtrip_check(pkt_one_byte, sizeof(pkt_one_byte), false);
	roundtrip_check(pkt_one_byte_stop, sizeof(pkt_one_byte_stop), false);
	roundtrip_check(pkt_two_byte, sizeof(pkt_two_byte), true);
	roundtrip_check(pkt_opaque, sizeof(pkt_opaque), true);
	roundtrip_check(pkt_padded, sizeof(pkt_padded), true);
}

static void test_write_one_byte_layout(void **state)
{
	static const uint8_t want[] = {
		0x90, 0xe1, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07,
		0xbe, 0xde, 0x00, 0x02,
		0x11, 0xaa, 0xbb, 0x20, 0xcc, 0x00, 0x00, 0x00,
	};
	struct xi_rtp_header h = {
		.marker = true, .payload_type = 0x61, .seq = 5, .timestamp = 6, .ssrc = 7,
		.ext_kind = XI_RTP_EXT_ONE_BYTE,
	};
	const struct xi_rtp_ext_data exts[] = {
		{ 1, 2, (const uint8_t *)"\xaa\xbb" },
		{ 2, 1, (const uint8_t *)"\xcc" },
	};
	uint8_t out[64];

	assert_int_equal(xi_rtp_header_write(&h, exts, 2, out, sizeof(out)), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* An empty extension is one 4-byte header with length 0. */
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), 16);
	assert_memory_equal(out + 12, "\xbe\xde\x00\x00", 4);
}

static void test_write_invalid(void **state)
{
	struct xi_rtp_header h = { .ext_kind = XI_RTP_EXT_ONE_BYTE };
	struct xi_rtp_ext_data e = { 1, 1, (const uint8_t *)"x" };
	uint8_t out[128];

	e.id = 15;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	e.id = 0;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	e.id = 14;
	e.len = 0;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	e.len = 17;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	e.len = 1;
	e.data = NULL;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	e.data = (const uint8_t *)"x";
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), 20);

	h.ext_kind = XI_RTP_EXT_TWO_BYTE;
	e.id = 0;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	e.id = 255;
	e.len = 256;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	h.ext_appbits = 16;
	e.len = 1;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	h.ext_appbits = 15;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), 20);
	assert_memory_equal(out + 12, "\x10\x0f\x00\x01\xff\x01x\x00", 8);

	h.ext_kind = XI_RTP_EXT_OPAQUE;
	h.ext_profile = 0x1234;
	e.len = 3;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), -EINVAL);

	h.ext_kind = XI_RTP_EXT_NONE;
	assert_int_equal(xi_rtp_header_write(&h, &e, 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), 12);
	h.ext_kind = (enum xi_rtp_ext_kind)7;
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), -EINVAL);
	h.ext_kind = XI_RTP_EXT_NONE;
	h.csrc_count = 16;
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), -EINVAL);
	h.csrc_count = 15;
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), 72);
	assert_int_equal(out[0], 0x8f);
	h.payload_type = 128;
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, out, sizeof(out)), -EINVAL);
	h.payload_type = 127;
	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, NULL, 100), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_csrc),
		cmocka_unit_test(test_one_byte),
		cmocka_unit_test(test_one_byte_stop),
		cmocka_unit_test(test_two_byte),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many_elements),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_write_one_byte_layout),
		cmocka_unit_test(test_write_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
