// SPDX-License-Identifier: MIT
/*
 * RTP header parser, extension lookup, writer and the attributes cache.
 * Any parsed header must describe bytes inside the input, its lengths must
 * add up, and writing it back must parse to the same fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/attributes.h>
#include <xicept/rtp.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void check_layout(const struct xi_rtp_header *h, size_t len)
{
	CHECK(h->version == 2);
	CHECK(h->csrc_count <= XI_RTP_MAX_CSRC);
	CHECK(h->header_len >= XI_RTP_FIXED_LEN + 4u * h->csrc_count);
	CHECK(h->payload_offset == h->header_len);
	CHECK(h->header_len + h->payload_len + h->padding_len == len);
	CHECK(h->padding == (h->padding_len > 0));
	CHECK(h->n_ext <= XI_RTP_EXT_MAX);
	if (h->ext_kind == XI_RTP_EXT_NONE) {
		CHECK(!h->extension && h->n_ext == 0);
		return;
	}
	CHECK(h->extension);
	CHECK(h->ext_len % 4 == 0);
	CHECK(h->ext_offset + h->ext_len == h->header_len);
	for (size_t i = 0; i < h->n_ext; i++) {
		const struct xi_rtp_ext_elem *e = &h->ext[i];

		CHECK(e->id != 0);
		CHECK(e->offset >= h->ext_offset);
		CHECK(e->offset + e->len <= h->ext_offset + h->ext_len);
		if (h->ext_kind == XI_RTP_EXT_ONE_BYTE)
			CHECK(e->id < 15 && e->len >= 1 && e->len <= 16);
	}
}

static void check_find(const struct xi_rtp_header *h)
{
	for (size_t i = 0; i < h->n_ext; i++) {
		size_t off, len, first = 0;

		while (h->ext[first].id != h->ext[i].id)
			first++;
		CHECK(xi_rtp_header_ext_find(h, h->ext[i].id, &off, &len) == 0);
		CHECK(off == h->ext[first].offset && len == h->ext[first].len);
	}
}

static void check_roundtrip(const struct xi_rtp_header *a, const uint8_t *pkt)
{
	struct xi_rtp_ext_data exts[XI_RTP_EXT_MAX];
	struct xi_rtp_header b;
	size_t n = 0;
	uint8_t *out;
	int size, w;

	if (a->ext_kind == XI_RTP_EXT_OPAQUE) {
		if (a->ext_len > UINT16_MAX)
			return;
		exts[n++] = (struct xi_rtp_ext_data){ 0, (uint16_t)a->ext_len,
						      pkt + a->ext_offset };
	}
	for (size_t i = 0; i < a->n_ext; i++)
		exts[n++] = (struct xi_rtp_ext_data){ a->ext[i].id, a->ext[i].len,
						      pkt + a->ext[i].offset };
	size = xi_rtp_header_size(a, exts, n);
	CHECK(size > 0 && (size_t)size <= a->header_len);
	out = malloc((size_t)size);
	CHECK(out);
	CHECK(xi_rtp_header_write(a, exts, n, out, (size_t)size - 1) == -ENOSPC);
	w = xi_rtp_header_write(a, exts, n, out, (size_t)size);
	CHECK(w == size);
	out[0] &= ~0x20;   /* header only: no room for padding */
	CHECK(xi_rtp_header_parse(out, (size_t)w, &b) == 0);
	CHECK(b.header_len == (size_t)w && b.payload_len == 0);
	CHECK(b.marker == a->marker && b.payload_type == a->payload_type);
	CHECK(b.seq == a->seq && b.timestamp == a->timestamp && b.ssrc == a->ssrc);
	CHECK(b.csrc_count == a->csrc_count);
	CHECK(!memcmp(b.csrc, a->csrc, 4u * a->csrc_count));
	CHECK(b.ext_kind == a->ext_kind && b.ext_profile == a->ext_profile);
	CHECK(b.n_ext == a->n_ext);
	for (size_t i = 0; i < a->n_ext; i++) {
		CHECK(b.ext[i].id == a->ext[i].id && b.ext[i].len == a->ext[i].len);
		CHECK(!memcmp(out + b.ext[i].offset, pkt + a->ext[i].offset, a->ext[i].len));
	}
	if (a->ext_kind == XI_RTP_EXT_OPAQUE)
		CHECK(!memcmp(out + b.ext_offset, pkt + a->ext_offset, a->ext_len));
	free(out);
}

static void check_cache(const uint8_t *pkt, size_t len, const struct xi_rtp_header *h)
{
	static struct xi_attributes attrs;
	const struct xi_rtp_header *c1, *c2;

	xi_attributes_reset(&attrs);
	CHECK(xi_attributes_rtp_header(&attrs, pkt, len, &c1) == 0);
	CHECK(xi_attributes_rtp_header(&attrs, pkt, len, &c2) == 0);
	CHECK(c1 == c2);
	CHECK(c1->header_len == h->header_len && c1->payload_len == h->payload_len);
	CHECK(c1->seq == h->seq && c1->n_ext == h->n_ext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xi_rtp_header h;
	uint8_t *pkt;
	int err;

	/* An exact-size copy so ASan sees any read past the end. */
	pkt = malloc(size ? size : 1);
	CHECK(pkt);
	memcpy(pkt, data, size);
	memset(&h, 0, sizeof(h));
	err = xi_rtp_header_parse(pkt, size, &h);
	if (err) {
		CHECK(err == -EBADMSG || err == -EPROTONOSUPPORT || err == -E2BIG);
		free(pkt);
		return 0;
	}
	check_layout(&h, size);
	check_find(&h);
	check_roundtrip(&h, pkt);
	check_cache(pkt, size, &h);
	free(pkt);
	return 0;
}
