// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <xicept/rtp.h>

#include "user/lib/bytes.h"

#define ONE_BYTE_ID_STOP 15

static int ext_record(struct xi_rtp_header *h, uint8_t id, uint8_t len, size_t off)
{
	struct xi_rtp_ext_elem *e;

	if (h->n_ext >= XI_RTP_EXT_MAX)
		return -E2BIG;
	e = &h->ext[h->n_ext++];
	e->id = id;
	e->len = len;
	e->offset = (uint32_t)off;
	return 0;
}

/* RFC 8285 4.2. Elements are bounded by the extension, not by the packet. */
static int ext_parse_one_byte(const uint8_t *pkt, size_t at, size_t end,
			      struct xi_rtp_header *h)
{
	while (at < end) {
		uint8_t id = pkt[at] >> 4;
		uint8_t len = (pkt[at] & 0x0f) + 1;
		int err;

		if (id == ONE_BYTE_ID_STOP)
			return 0;
		if (id == 0) {
			at++;
			continue;
		}
		if (end - at - 1 < len)
			return -EBADMSG;
		err = ext_record(h, id, len, at + 1);
		if (err)
			return err;
		at += 1 + (size_t)len;
	}
	return 0;
}

/* RFC 8285 4.3. */
static int ext_parse_two_byte(const uint8_t *pkt, size_t at, size_t end,
			      struct xi_rtp_header *h)
{
	while (at < end) {
		uint8_t id = pkt[at], len;
		int err;

		if (id == 0) {
			at++;
			continue;
		}
		if (end - at < 2)
			return -EBADMSG;
		len = pkt[at + 1];
		if (end - at - 2 < len)
			return -EBADMSG;
		err = ext_record(h, id, len, at + 2);
		if (err)
			return err;
		at += 2 + (size_t)len;
	}
	return 0;
}

static int ext_parse(const uint8_t *pkt, size_t len, size_t at, struct xi_rtp_header *h)
{
	size_t words;

	if (len - at < 4)
		return -EBADMSG;
	h->ext_profile = xi_get_be16(pkt + at);
	words = xi_get_be16(pkt + at + 2);
	at += 4;
	if ((len - at) / 4 < words)
		return -EBADMSG;
	h->ext_offset = (uint32_t)at;
	h->ext_len = (uint32_t)(words * 4);
	h->header_len = at + words * 4;

	if (h->ext_profile == XI_RTP_EXT_PROFILE_ONE_BYTE) {
		h->ext_kind = XI_RTP_EXT_ONE_BYTE;
		return ext_parse_one_byte(pkt, at, h->header_len, h);
	}
	if ((h->ext_profile & 0xfff0) == XI_RTP_EXT_PROFILE_TWO_BYTE) {
		h->ext_kind = XI_RTP_EXT_TWO_BYTE;
		h->ext_appbits = h->ext_profile & 0x0f;
		return ext_parse_two_byte(pkt, at, h->header_len, h);
	}
	h->ext_kind = XI_RTP_EXT_OPAQUE;
	return 0;
}

static int padding_parse(const uint8_t *pkt, size_t len, struct xi_rtp_header *h)
{
	size_t pad;

	if (!h->padding)
		return 0;
	if (len <= h->header_len)
		return -EBADMSG;
	pad = pkt[len - 1];
	if (pad == 0 || pad > len - h->header_len)
		return -EBADMSG;
	h->padding_len = pad;
	return 0;
}

int xi_rtp_header_parse(const uint8_t *pkt, size_t len, struct xi_rtp_header *ret)
{
	return xi_srtp_header_parse(pkt, len, 0, ret);
}

int xi_srtp_header_parse(const uint8_t *pkt, size_t len, size_t trailer,
			 struct xi_rtp_header *ret)
{
	struct xi_rtp_header h;
	int err;

	if (!pkt || !ret)
		return -EINVAL;
	if (len < XI_RTP_FIXED_LEN)
		return -EBADMSG;
	memset(&h, 0, sizeof(h));
	h.version = pkt[0] >> 6;
	if (h.version != XI_RTP_VERSION)
		return -EPROTONOSUPPORT;
	h.padding = pkt[0] & 0x20;
	h.extension = pkt[0] & 0x10;
	h.csrc_count = pkt[0] & 0x0f;
	h.marker = pkt[1] & 0x80;
	h.payload_type = pkt[1] & 0x7f;
	h.seq = xi_get_be16(pkt + 2);
	h.timestamp = xi_get_be32(pkt + 4);
	h.ssrc = xi_get_be32(pkt + 8);

	h.header_len = XI_RTP_FIXED_LEN + 4 * (size_t)h.csrc_count;
	if (len < h.header_len)
		return -EBADMSG;
	for (size_t i = 0; i < h.csrc_count; i++)
		h.csrc[i] = xi_get_be32(pkt + XI_RTP_FIXED_LEN + 4 * i);

	if (h.extension) {
		err = ext_parse(pkt, len, h.header_len, &h);
		if (err)
			return err;
	}
	if (trailer) {
		/* SRTP: the padding is encrypted with the payload; the tag
		 * follows them. */
		if (len < h.header_len + trailer)
			return -EBADMSG;
		h.payload_offset = h.header_len;
		h.payload_len = len - h.header_len - trailer;
		*ret = h;
		return 0;
	}
	err = padding_parse(pkt, len, &h);
	if (err)
		return err;
	h.payload_offset = h.header_len;
	h.payload_len = len - h.header_len - h.padding_len;
	*ret = h;
	return 0;
}

int xi_rtp_header_ext_find(const struct xi_rtp_header *hdr, uint8_t id,
			   size_t *ret_offset, size_t *ret_len)
{
	if (!hdr)
		return -EINVAL;
	for (size_t i = 0; i < hdr->n_ext && i < XI_RTP_EXT_MAX; i++) {
		if (id == 0 || hdr->ext[i].id != id)
			continue;
		if (ret_offset)
			*ret_offset = hdr->ext[i].offset;
		if (ret_len)
			*ret_len = hdr->ext[i].len;
		return 0;
	}
	return -ENOENT;
}

static int ext_elem_size(enum xi_rtp_ext_kind kind, const struct xi_rtp_ext_data *e)
{
	if (e->len && !e->data)
		return -EINVAL;
	switch (kind) {
	case XI_RTP_EXT_ONE_BYTE:
		if (e->id < 1 || e->id >= ONE_BYTE_ID_STOP || e->len < 1 || e->len > 16)
			return -EINVAL;
		return 1 + e->len;
	case XI_RTP_EXT_TWO_BYTE:
		if (e->id < 1 || e->len > 255)
			return -EINVAL;
		return 2 + e->len;
	default:
		return -EINVAL;
	}
}

/* Bytes of extension data before zero-padding to a word. */
static int ext_data_size(const struct xi_rtp_header *hdr,
			 const struct xi_rtp_ext_data *exts, size_t n_exts)
{
	size_t total = 0;

	if (n_exts && !exts)
		return -EINVAL;
	if (hdr->ext_kind == XI_RTP_EXT_OPAQUE) {
		if (n_exts != 1 || exts[0].len % 4 || (exts[0].len && !exts[0].data))
			return -EINVAL;
		return exts[0].len;
	}
	for (size_t i = 0; i < n_exts; i++) {
		int n = ext_elem_size(hdr->ext_kind, &exts[i]);

		if (n < 0)
			return n;
		total += (size_t)n;
	}
	/* The length field counts words; 65535 of them is the most it can say. */
	if (total > 0xffffu * 4)
		return -EINVAL;
	return (int)total;
}

int xi_rtp_header_size(const struct xi_rtp_header *hdr,
		       const struct xi_rtp_ext_data *exts, size_t n_exts)
{
	int data;

	if (!hdr)
		return -EINVAL;
	if (hdr->csrc_count > XI_RTP_MAX_CSRC || hdr->payload_type > 0x7f)
		return -EINVAL;
	if (hdr->ext_kind == XI_RTP_EXT_NONE)
		return n_exts ? -EINVAL : XI_RTP_FIXED_LEN + 4 * hdr->csrc_count;
	if (hdr->ext_kind > XI_RTP_EXT_OPAQUE)
		return -EINVAL;
	if (hdr->ext_kind == XI_RTP_EXT_TWO_BYTE && hdr->ext_appbits > 0x0f)
		return -EINVAL;
	data = ext_data_size(hdr, exts, n_exts);
	if (data < 0)
		return data;
	return XI_RTP_FIXED_LEN + 4 * hdr->csrc_count + 4 + (data + 3) / 4 * 4;
}

static uint16_t ext_profile_of(const struct xi_rtp_header *hdr)
{
	switch (hdr->ext_kind) {
	case XI_RTP_EXT_ONE_BYTE:
		return XI_RTP_EXT_PROFILE_ONE_BYTE;
	case XI_RTP_EXT_TWO_BYTE:
		return XI_RTP_EXT_PROFILE_TWO_BYTE | hdr->ext_appbits;
	default:
		return hdr->ext_profile;
	}
}

static void ext_write(const struct xi_rtp_header *hdr, const struct xi_rtp_ext_data *exts,
		      size_t n_exts, uint8_t *p, size_t words)
{
	xi_put_be16(p, ext_profile_of(hdr));
	xi_put_be16(p + 2, (uint16_t)words);
	p += 4;
	memset(p, 0, words * 4);
	for (size_t i = 0; i < n_exts; i++) {
		const struct xi_rtp_ext_data *e = &exts[i];

		if (hdr->ext_kind == XI_RTP_EXT_ONE_BYTE) {
			*p++ = (uint8_t)(e->id << 4 | (e->len - 1));
		} else if (hdr->ext_kind == XI_RTP_EXT_TWO_BYTE) {
			*p++ = e->id;
			*p++ = (uint8_t)e->len;
		}
		if (e->len)
			memcpy(p, e->data, e->len);
		p += e->len;
	}
}

int xi_rtp_header_write(const struct xi_rtp_header *hdr,
			const struct xi_rtp_ext_data *exts, size_t n_exts,
			uint8_t *buf, size_t cap)
{
	int size = xi_rtp_header_size(hdr, exts, n_exts);
	size_t at;

	if (size < 0)
		return size;
	if (!buf)
		return -EINVAL;
	if (cap < (size_t)size)
		return -ENOSPC;
	buf[0] = (uint8_t)(XI_RTP_VERSION << 6 | (hdr->padding ? 0x20 : 0) |
			   (hdr->ext_kind != XI_RTP_EXT_NONE ? 0x10 : 0) | hdr->csrc_count);
	buf[1] = (uint8_t)((hdr->marker ? 0x80 : 0) | hdr->payload_type);
	xi_put_be16(buf + 2, hdr->seq);
	xi_put_be32(buf + 4, hdr->timestamp);
	xi_put_be32(buf + 8, hdr->ssrc);
	at = XI_RTP_FIXED_LEN;
	for (size_t i = 0; i < hdr->csrc_count; i++, at += 4)
		xi_put_be32(buf + at, hdr->csrc[i]);
	if (hdr->ext_kind != XI_RTP_EXT_NONE)
		ext_write(hdr, exts, n_exts, buf + at, ((size_t)size - at - 4) / 4);
	return size;
}
